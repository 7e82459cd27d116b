//! Property tests: the YAML reader never panics and round-trips what rekon writes; a diff
//! of an object with itself is empty; Secret masking is total (no value survives, plain or
//! base64, in data, stringData or last-applied); server-side apply twice is a no-op and
//! drops the fields a manager stops applying (and only those); the label-selector parser
//! never panics and prints what it parses back to the same selector.
//! (The manifest reader's own properties are unit tests in src/source/props.rs.)

use proptest::prelude::*;
use rekon::engine::diff::{CompareOptions, compare_resource};
use rekon::engine::normalize::{CompareMethod, base64_encode};
use rekon::model::ResourceKey;
use rekon::yaml;
use rekon_emulator::LabelSelector;
use rekon_emulator::ssa::{ApplyParams, apply};
use serde_json::{Map, Value, json};

// ---------------------------------------------------------------------------------------
// Strategies.

/// Any JSON value a manifest could hold (finite numbers, any strings), a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e12f64..1e12f64).prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        // Strings YAML likes to reinterpret.
        prop::sample::select(vec![
            "yes",
            "no",
            "on",
            "off",
            "true",
            "null",
            "~",
            "0x1F",
            "1e3",
            "0o17",
            "-",
            "---",
            "...",
            ": ",
            "#x",
            "@a",
            "`b",
            "'",
            "\"",
            "\t",
            "",
            " lead",
            "trail ",
            "a\nb",
            "1.0",
            ".inf",
            "-.nan",
            "2024-01-01",
            "12:30",
            "!tag",
            "&anchor",
            "*ref",
            "%x",
            "{a: 1}",
            "[1]",
            "|",
            ">",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn dns_name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,10}[a-z0-9]"
}

fn string_map(
    keys: &'static str,
    values: &'static str,
) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(keys, values, 0..6)
        .prop_map(|m| m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

/// A Kubernetes-looking object of a few kinds, with labels, annotations and content.
fn k8s_object() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            ("v1", "ConfigMap"),
            ("v1", "Secret"),
            ("v1", "Service"),
            ("apps/v1", "Deployment"),
            ("example.com/v1", "Widget"),
        ]),
        dns_name(),
        dns_name(),
        string_map("[a-z]{1,8}", "[a-z0-9]{0,8}"),
        string_map("[a-z.]{1,12}/[a-z]{1,8}", ".{0,20}"),
        prop::collection::btree_map("[a-zA-Z0-9._-]{1,10}", ".{0,30}", 0..5),
        any_json(),
    )
        .prop_map(|((api, kind), name, ns, labels, annotations, data, spec)| {
            let mut o = json!({"apiVersion": api, "kind": kind,
                "metadata": {"name": name, "namespace": ns, "labels": labels,
                    "annotations": annotations}});
            match kind {
                "ConfigMap" => o["data"] = json!(data),
                "Secret" => {
                    let encoded: Map<String, Value> = data
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(base64_encode(v.as_bytes()))))
                        .collect();
                    o["data"] = Value::Object(encoded);
                }
                _ => o["spec"] = spec,
            }
            o
        })
}

fn key_of(o: &Value) -> ResourceKey {
    ResourceKey::of(o).expect("generated objects have keys")
}

// ---------------------------------------------------------------------------------------
// YAML reader.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_yaml_reader_never_panics(text in any::<String>()) {
        let _ = yaml::parse_documents(&text, "fuzz.yaml");
    }

    #[test]
    fn the_yaml_reader_never_panics_on_yaml_like_text(
        text in "([a-z]{0,4}(: |:|- |---\n|\n|  |\\[|\\]|\\{|\\}|,|'|\"|#|&a|\\*a|!t|\\|| >)){0,40}"
    ) {
        let _ = yaml::parse_documents(&text, "fuzz.yaml");
    }

    #[test]
    fn what_rekon_writes_it_reads_back(value in any_json()) {
        let doc = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"},
            "payload": value});
        let text = yaml::to_string(&doc);
        let docs = yaml::parse_documents(&text, "roundtrip.yaml")
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(docs.len(), 1);
        prop_assert_eq!(&docs[0].value, &doc, "text:\n{}", text);
    }

    #[test]
    fn several_documents_keep_their_order_and_lines(
        values in prop::collection::vec(k8s_object(), 1..5)
    ) {
        let text: String = values
            .iter()
            .map(|v| format!("---\n{}", yaml::to_string(v)))
            .collect();
        let docs = yaml::parse_documents(&text, "multi.yaml")
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(docs.len(), values.len());
        let mut last = 0;
        for (doc, v) in docs.iter().zip(&values) {
            prop_assert_eq!(&doc.value, v);
            prop_assert!(doc.line > last);
            last = doc.line;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Normalize + diff, and masking.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_diff_of_an_object_with_itself_is_empty(obj in k8s_object()) {
        for method in [CompareMethod::ServerSideDryRun, CompareMethod::GitFieldsOnly] {
            let d = compare_resource(key_of(&obj), Some(&obj), Some(&obj), &CompareOptions::new(method));
            prop_assert!(!d.changed, "{:?}: {:?} vs {:?}", method, d.desired, d.live);
        }
    }

    #[test]
    fn masking_is_total(
        name in dns_name(),
        desired_plain in prop::collection::btree_map("[a-z]{1,6}", "zq[A-Za-z0-9]{6,16}", 0..4),
        desired_data in prop::collection::btree_map("[a-z]{1,6}", prop::collection::vec(any::<u8>(), 6..24), 0..4),
        live_data in prop::collection::btree_map("[a-z]{1,6}", prop::collection::vec(any::<u8>(), 6..24), 0..4),
        annotation_value in "zq[A-Za-z0-9]{8,16}",
    ) {
        let b64 = |bytes: &[u8]| base64_encode(bytes);
        let desired = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": "shop"},
            "stringData": desired_plain,
            "data": desired_data.iter().map(|(k, v)| (k.clone(), json!(b64(v)))).collect::<Map<_, _>>()});
        let last_applied = json!({"stringData": {"x": annotation_value}}).to_string();
        let live = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": "shop",
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
            "data": live_data.iter().map(|(k, v)| (k.clone(), json!(b64(v)))).collect::<Map<_, _>>()});
        let mut secrets: Vec<String> = Vec::new();
        for v in desired_plain.values() {
            secrets.push(v.clone());
            secrets.push(b64(v.as_bytes()).trim_end_matches('=').to_string());
        }
        for v in desired_data.values().chain(live_data.values()) {
            secrets.push(b64(v).trim_end_matches('=').to_string());
            if let Ok(s) = std::str::from_utf8(v) && s.len() >= 6 {
                secrets.push(s.to_string());
            }
        }
        secrets.push(annotation_value.clone());
        for method in [CompareMethod::ServerSideDryRun, CompareMethod::GitFieldsOnly] {
            let d = compare_resource(key_of(&desired), Some(&desired), Some(&live), &CompareOptions::new(method));
            let shown = format!("{}\n{}", d.desired.unwrap_or_default(), d.live.unwrap_or_default());
            for s in &secrets {
                prop_assert!(s.len() < 6 || !shown.contains(s.as_str()), "{:?} survived in:\n{}", s, shown);
            }
            // Keys are not secret: they still show.
            for k in desired_plain.keys().chain(desired_data.keys()) {
                prop_assert!(shown.contains(&format!("{k}:")), "key {} missing:\n{}", k, shown);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Server-side apply.

const T1: &str = "2024-05-01T10:00:00Z";
const T2: &str = "2024-05-01T11:00:00Z";

fn ssa(
    live: Option<&Value>,
    intent: &Value,
    manager: &str,
    now: &str,
) -> Result<Value, TestCaseError> {
    apply(ApplyParams {
        live,
        intent,
        manager,
        force: false,
        api_version: "v1",
        now,
        subresource: None,
        status_is_field: false,
    })
    .map_err(|e| TestCaseError::fail(format!("apply as {manager}: {e}")))
}

fn config_map(data: &Map<String, Value>, labels: &Map<String, Value>) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": "shop", "labels": labels}, "data": data})
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn applying_the_same_configuration_twice_changes_nothing(
        data in string_map("[a-z]{1,6}", "[a-z0-9 ]{0,10}"),
        labels in string_map("[a-z]{1,6}", "[a-z0-9]{0,8}"),
    ) {
        let intent = config_map(&data, &labels);
        let first = ssa(None, &intent, "rekon", T1)?;
        let second = ssa(Some(&first), &intent, "rekon", T2)?;
        prop_assert_eq!(first, second);
    }

    #[test]
    fn fields_a_manager_stops_applying_are_removed_and_others_stay(
        kept in string_map("a[a-z]{1,5}", "[a-z0-9]{0,8}"),
        dropped in string_map("b[a-z]{1,5}", "[a-z0-9]{0,8}"),
        theirs in string_map("c[a-z]{1,5}", "[a-z0-9]{0,8}"),
    ) {
        let empty = Map::new();
        let mut all = kept.clone();
        all.extend(dropped.clone());
        let created = ssa(None, &config_map(&all, &empty), "rekon", T1)?;
        // Another manager owns keys of its own.
        let with_theirs = ssa(Some(&created), &config_map(&theirs, &empty), "kubectl", T1)?;
        let after = ssa(Some(&with_theirs), &config_map(&kept, &empty), "rekon", T2)?;
        let data = after["data"].as_object().cloned().unwrap_or_default();
        let mut expected = kept.clone();
        expected.extend(theirs.clone());
        prop_assert_eq!(data, expected);
    }
}

// ---------------------------------------------------------------------------------------
// Label selectors.

fn requirement() -> impl Strategy<Value = String> {
    let key = "([a-z0-9]{1,5}\\.){0,2}[a-z][a-z0-9-]{0,6}[a-z0-9](/[a-z][a-z0-9._-]{0,6}[a-z0-9])?";
    let value = "[a-z0-9]([a-z0-9._-]{0,6}[a-z0-9])?";
    let values = prop::collection::vec(value, 1..4);
    (key, value, values, -1000i64..1000, 0..9usize).prop_map(|(k, v, vs, n, op)| match op {
        0 => k,
        1 => format!("!{k}"),
        2 => format!("{k}={v}"),
        3 => format!("{k}=={v}"),
        4 => format!("{k}!={v}"),
        5 => format!("{k} in ({})", vs.join(",")),
        6 => format!("{k} notin ({})", vs.join(", ")),
        7 => format!("{k}>{n}"),
        _ => format!("{k}<{n}"),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_selector_parser_never_panics(text in any::<String>()) {
        let _ = LabelSelector::parse(&text);
    }

    #[test]
    fn the_selector_parser_never_panics_on_selector_like_text(
        text in "([a-z!]{0,3}(=|==|!=| in | notin |\\(|\\)|,|<|>|-|/|\\.| )){0,20}"
    ) {
        let _ = LabelSelector::parse(&text);
    }

    #[test]
    fn selectors_print_back_to_themselves(parts in prop::collection::vec(requirement(), 1..5)) {
        let text = parts.join(",");
        let parsed = LabelSelector::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text}: {}", e.message)))?;
        let printed = parsed.to_string();
        let again = LabelSelector::parse(&printed)
            .map_err(|e| TestCaseError::fail(format!("{printed}: {}", e.message)))?;
        prop_assert_eq!(parsed, again, "{} printed as {}", text, printed);
    }
}
