//! Turning a desired object and a live object into forms that compare equal when applying the
//! desired one would change nothing.
//!
//! Two methods, and the caller reports which one was used:
//! - [`CompareMethod::ServerSideDryRun`]: `desired` is the object a server-side apply dry run
//!   predicts. Both sides lose what the server owns; everything else counts.
//! - [`CompareMethod::GitFieldsOnly`]: no dry run was possible (no permission, CRD not yet
//!   installed). The live object is projected onto the shape of the desired one, so only the
//!   fields Git sets are compared and defaults the server added never count as drift. Keyed
//!   lists (containers, env, ports, volumes …) are matched by key, not by position. As with
//!   Argo CD's two-way diff, elements that exist only live in a keyed list do not count.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::tracking::TRACKING_ANNOTATION;

/// `kubectl apply`'s copy of the last applied object.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Metadata fields the API server owns.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Field names under which quantities (`500m`, `1Gi`) live, where `0.5` and `500m` are equal.
const QUANTITY_PARENTS: &[&str] = &[
    "resources",
    "requests",
    "limits",
    "capacity",
    "allocatable",
    "hard",
    "used",
    "overhead",
    "sizeLimit",
    "storage",
    "default",
    "defaultRequest",
    "max",
    "min",
    "maxLimitRequestRatio",
];

/// Keys that identify the elements of a keyed list, tried in this order.
const LIST_KEYS: &[&str] = &[
    "name",
    "mountPath",
    "devicePath",
    "containerPort",
    "port",
    "ip",
    "key",
];

/// How desired and live were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CompareMethod {
    /// Desired is the result of a server-side apply dry run.
    ServerSideDryRun,
    /// No dry run: only the fields Git sets are compared.
    GitFieldsOnly,
}

impl CompareMethod {
    /// A short phrase for messages and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareMethod::ServerSideDryRun => "server-side dry run",
            CompareMethod::GitFieldsOnly => "fields set in Git (no dry run)",
        }
    }
}

/// A desired/live pair ready to diff, with the method that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparable {
    /// Normalized desired (or predicted) object; `None` when Git does not hold it.
    pub desired: Option<Value>,
    /// Normalized live object; `None` when the cluster does not hold it.
    pub live: Option<Value>,
    /// How they were made comparable.
    pub method: CompareMethod,
}

/// Normalizes both sides for `method`. With [`CompareMethod::ServerSideDryRun`], `desired` is
/// the dry run's predicted object; with [`CompareMethod::GitFieldsOnly`] it is the rendered
/// manifest.
pub fn normalize_pair(
    desired: Option<&Value>,
    live: Option<&Value>,
    method: CompareMethod,
) -> Comparable {
    let mut desired = desired.map(normalize_object);
    let mut live = live.map(normalize_object);
    if method == CompareMethod::GitFieldsOnly {
        if let Some(d) = desired.as_mut() {
            remove_nulls(d);
        }
        if let (Some(d), Some(l)) = (desired.as_ref(), live.as_ref()) {
            live = Some(project_onto(l, d));
        }
    }
    Comparable {
        desired,
        live,
        method,
    }
}

/// One object without what the server owns and with Argo CD's per-kind normalizations.
pub fn normalize_object(obj: &Value) -> Value {
    let mut out = obj.clone();
    strip_server_fields(&mut out);
    normalize_known_kinds(&mut out);
    out
}

/// Removes `status`, server-owned metadata, rekon's tracking annotation and kubectl's
/// last-applied copy; drops `annotations`/`labels` maps left empty.
pub fn strip_server_fields(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    map.remove("status");
    let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    for field in SERVER_METADATA {
        meta.remove(*field);
    }
    if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        annotations.remove(TRACKING_ANNOTATION);
        annotations.remove(LAST_APPLIED_ANNOTATION);
    }
    for field in ["annotations", "labels"] {
        let empty = match meta.get(field) {
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Null) => true,
            _ => false,
        };
        if empty {
            meta.remove(field);
        }
    }
}

/// Argo CD's normalizations: Secret `stringData` folded into base64 `data` (nulls become
/// ""), empty Role/ClusterRole rules treated as absent, Endpoints subsets in a fixed order.
pub fn normalize_known_kinds(obj: &mut Value) {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let group = api_version.split_once('/').map_or("", |(g, _)| g);
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    match (group, kind) {
        ("", "Secret") => normalize_secret(obj),
        ("rbac.authorization.k8s.io", "Role" | "ClusterRole") => normalize_role(obj),
        ("", "Endpoints") => normalize_endpoints(obj),
        _ => {}
    }
}

fn normalize_secret(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(string_data)) = map.remove("stringData") {
        let data = map
            .entry("data")
            .or_insert_with(|| Value::Object(Map::new()));
        if !data.is_object() {
            *data = Value::Object(Map::new());
        }
        if let Some(data) = data.as_object_mut() {
            // The API server lets stringData win over data for the same key.
            for (k, v) in string_data {
                let encoded = match v {
                    Value::String(s) => Value::String(base64_encode(s.as_bytes())),
                    other => other,
                };
                data.insert(k, encoded);
            }
        }
    }
    if let Some(data) = map.get_mut("data").and_then(Value::as_object_mut) {
        for v in data.values_mut() {
            if v.is_null() {
                *v = Value::String(String::new());
            }
        }
    }
}

fn normalize_role(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    let empty = match map.get("rules") {
        Some(Value::Array(rules)) => rules.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        map.remove("rules");
    }
}

fn normalize_endpoints(obj: &mut Value) {
    let Some(subsets) = obj.get_mut("subsets").and_then(Value::as_array_mut) else {
        return;
    };
    for subset in subsets.iter_mut() {
        for field in ["addresses", "notReadyAddresses", "ports"] {
            if let Some(items) = subset.get_mut(field).and_then(Value::as_array_mut) {
                sort_canonically(items);
            }
        }
    }
    sort_canonically(subsets);
}

fn sort_canonically(items: &mut [Value]) {
    let mut keyed: Vec<(String, Value)> = items
        .iter_mut()
        .map(|v| (canonical_string(v), std::mem::take(v)))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    for (slot, (_, v)) in items.iter_mut().zip(keyed) {
        *slot = v;
    }
}

/// JSON text with object keys sorted, so equal values give equal text whatever their order.
pub fn canonical_string(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Removes keys whose value is null, at every depth: in a manifest, null means "no opinion".
fn remove_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(remove_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_nulls),
        _ => {}
    }
}

/// The parts of `live` that `shape` (the desired object) sets: maps keep only the keys the
/// shape has; keyed lists are matched by key and ordered as the shape orders them; other
/// lists are matched by position (extra live elements stay, so a longer list still differs).
/// Scalars that are equal in meaning (`1` and `1.0`, or quantities `0.5` and `500m`) take the
/// shape's spelling. Empty maps and lists in the shape that live lacks are taken as present,
/// since the server drops empty containers.
pub fn project_onto(live: &Value, shape: &Value) -> Value {
    project(live, shape, false)
}

fn project(live: &Value, shape: &Value, quantity: bool) -> Value {
    match (live, shape) {
        (Value::Object(l), Value::Object(s)) => {
            let mut out = Map::new();
            for (k, sv) in s {
                let q = quantity || QUANTITY_PARENTS.contains(&k.as_str());
                match l.get(k) {
                    Some(lv) => {
                        out.insert(k.clone(), project(lv, sv, q));
                    }
                    None if is_empty_container(sv) => {
                        out.insert(k.clone(), sv.clone());
                    }
                    None => {}
                }
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(s)) => Value::Array(project_list(l, s, quantity)),
        (l, s) if equivalent_scalars(l, s, quantity) => s.clone(),
        (l, _) => l.clone(),
    }
}

fn project_list(live: &[Value], shape: &[Value], quantity: bool) -> Vec<Value> {
    if let Some(key) = list_key(shape) {
        let mut used = vec![false; live.len()];
        let mut out = Vec::with_capacity(shape.len());
        for s in shape {
            let wanted = &s[key];
            let found = live
                .iter()
                .enumerate()
                .find(|(i, l)| !used[*i] && list_keys_equal(&l[key], wanted));
            if let Some((i, l)) = found {
                used[i] = true;
                out.push(project(l, s, quantity));
            }
        }
        return out;
    }
    let mut out: Vec<Value> = live
        .iter()
        .zip(shape)
        .map(|(l, s)| project(l, s, quantity))
        .collect();
    out.extend(live.iter().skip(shape.len()).cloned());
    out
}

/// The key that identifies every element of `shape` uniquely, if any.
fn list_key(shape: &[Value]) -> Option<&'static str> {
    if shape.is_empty() || !shape.iter().all(Value::is_object) {
        return None;
    }
    LIST_KEYS.iter().copied().find(|key| {
        let mut seen: Vec<String> = Vec::with_capacity(shape.len());
        for item in shape {
            match item.get(*key) {
                Some(v) if !v.is_null() && !v.is_object() && !v.is_array() => {
                    let text = v.to_string();
                    if seen.contains(&text) {
                        return false;
                    }
                    seen.push(text);
                }
                _ => return false,
            }
        }
        true
    })
}

fn list_keys_equal(a: &Value, b: &Value) -> bool {
    a == b || equivalent_scalars(a, b, false)
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Whether two scalars mean the same: numbers by value, and under quantity fields, quantities
/// by value (`1`, `"1"`, `"1000m"`; `"1Gi"`, `"1024Mi"`).
fn equivalent_scalars(a: &Value, b: &Value, quantity: bool) -> bool {
    if a == b {
        return true;
    }
    if let (Some(x), Some(y)) = (a.as_f64(), b.as_f64())
        && a.is_number()
        && b.is_number()
    {
        return x == y;
    }
    if !quantity {
        return false;
    }
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match (
        text(a).and_then(|t| parse_quantity(&t)),
        text(b).and_then(|t| parse_quantity(&t)),
    ) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// A Kubernetes quantity as an exact decimal: `digits × 10^exp`, with no trailing zeros in
/// `digits` (so equal values have equal forms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Quantity {
    negative: bool,
    digits: u128,
    exp: i32,
}

fn parse_quantity(text: &str) -> Option<Quantity> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let number_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(number_end);
    if number.is_empty() || number == "." {
        return None;
    }
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if frac_part.contains('.') {
        return None;
    }
    let mut digits: u128 = 0;
    for c in int_part.chars().chain(frac_part.chars()) {
        digits = digits
            .checked_mul(10)?
            .checked_add(u128::from(c.to_digit(10)?))?;
    }
    let mut exp = -i32::try_from(frac_part.len()).ok()?;
    let (dec, bin): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        s if s.starts_with(['e', 'E']) => (s[1..].parse::<i32>().ok()?, 0),
        _ => return None,
    };
    exp = exp.checked_add(dec)?;
    digits = digits.checked_mul(1u128.checked_shl(bin)?)?;
    if digits == 0 {
        return Some(Quantity {
            negative: false,
            digits: 0,
            exp: 0,
        });
    }
    while digits.is_multiple_of(10) {
        digits /= 10;
        exp += 1;
    }
    Some(Quantity {
        negative,
        digits,
        exp,
    })
}

/// Standard base64 with padding (RFC 4648), as Kubernetes stores Secret data.
pub fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live_deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {
                "name": "web", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                "generation": 3, "creationTimestamp": "2026-01-01T00:00:00Z",
                "managedFields": [{"manager": "rekon"}],
                "annotations": {
                    "deployment.kubernetes.io/revision": "3",
                    TRACKING_ANNOTATION: "gb:apps/Deployment:shop/web",
                    LAST_APPLIED_ANNOTATION: "{}"
                },
                "labels": {"app": "web"}
            },
            "spec": {
                "replicas": 2,
                "progressDeadlineSeconds": 600,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "containers": [
                            {"name": "sidecar", "image": "envoy:1", "imagePullPolicy": "IfNotPresent"},
                            {"name": "app", "image": "nginx:1.25",
                             "imagePullPolicy": "IfNotPresent",
                             "terminationMessagePath": "/dev/termination-log",
                             "ports": [{"containerPort": 80, "protocol": "TCP"}],
                             "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}}}
                        ],
                        "restartPolicy": "Always",
                        "dnsPolicy": "ClusterFirst"
                    }
                }
            },
            "status": {"replicas": 2}
        })
    }

    fn desired_deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"},
                         "creationTimestamp": null},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [
                        {"name": "app", "image": "nginx:1.25",
                         "ports": [{"containerPort": 80}],
                         "resources": {"requests": {"cpu": 0.5, "memory": "1024Mi"}}}
                    ]}
                }
            }
        })
    }

    #[test]
    fn strips_what_the_server_owns() {
        let out = normalize_object(&live_deployment());
        let meta = &out["metadata"];
        for gone in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
        ] {
            assert!(meta.get(gone).is_none(), "{gone} kept");
        }
        assert!(out.get("status").is_none());
        let annotations = meta["annotations"].as_object().unwrap();
        assert_eq!(annotations.len(), 1, "{annotations:?}");
        assert!(annotations.contains_key("deployment.kubernetes.io/revision"));
    }

    #[test]
    fn empty_annotations_disappear() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {TRACKING_ANNOTATION: "x"}, "labels": {}}});
        let out = normalize_object(&obj);
        assert_eq!(out["metadata"], json!({"name": "c"}));
    }

    #[test]
    fn fallback_ignores_server_defaults() {
        let c = normalize_pair(
            Some(&desired_deployment()),
            Some(&live_deployment()),
            CompareMethod::GitFieldsOnly,
        );
        assert_eq!(c.method, CompareMethod::GitFieldsOnly);
        assert_eq!(c.desired, c.live, "defaults counted as drift");
    }

    #[test]
    fn fallback_catches_a_changed_field() {
        let mut live = live_deployment();
        live["spec"]["template"]["spec"]["containers"][1]["image"] = json!("nginx:1.26");
        let c = normalize_pair(
            Some(&desired_deployment()),
            Some(&live),
            CompareMethod::GitFieldsOnly,
        );
        let l = c.live.unwrap();
        assert_eq!(
            l["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.26"
        );
        assert_ne!(c.desired.unwrap(), l);
    }

    #[test]
    fn fallback_catches_a_missing_field_and_a_changed_quantity() {
        let mut live = live_deployment();
        live["metadata"]["labels"] = json!({});
        live["spec"]["template"]["spec"]["containers"][1]["resources"]["requests"]["cpu"] =
            json!("250m");
        let c = normalize_pair(
            Some(&desired_deployment()),
            Some(&live),
            CompareMethod::GitFieldsOnly,
        );
        let l = c.live.unwrap();
        assert!(l["metadata"].get("labels").is_none());
        assert_eq!(
            l["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"],
            "250m"
        );
    }

    #[test]
    fn fallback_keeps_extra_elements_of_plain_lists() {
        let desired = json!({"spec": {"args": ["a"]}});
        let live = json!({"spec": {"args": ["a", "b"]}});
        assert_eq!(
            project_onto(&live, &desired),
            json!({"spec": {"args": ["a", "b"]}})
        );
    }

    #[test]
    fn dry_run_mode_compares_every_field() {
        let mut predicted = live_deployment();
        predicted["metadata"]["resourceVersion"] = json!("43");
        predicted["metadata"]["generation"] = json!(4);
        predicted["spec"]["replicas"] = json!(3);
        let c = normalize_pair(
            Some(&predicted),
            Some(&live_deployment()),
            CompareMethod::ServerSideDryRun,
        );
        let (d, l) = (c.desired.unwrap(), c.live.unwrap());
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(d["spec"]["replicas"], 3);
        assert_eq!(l["spec"]["replicas"], 2);
        let mut d2 = d.clone();
        d2["spec"]["replicas"] = json!(2);
        assert_eq!(d2, l, "only replicas should differ");
    }

    #[test]
    fn secret_string_data_becomes_base64_data() {
        let obj = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"a": "b2xk", "n": null}, "stringData": {"a": "new", "p": "hunter2"}});
        let out = normalize_object(&obj);
        assert!(out.get("stringData").is_none());
        assert_eq!(
            out["data"],
            json!({"a": "bmV3", "n": "", "p": "aHVudGVyMg=="})
        );
    }

    #[test]
    fn empty_role_rules_are_absent_and_endpoints_are_sorted() {
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "r"}, "rules": []});
        assert!(normalize_object(&role).get("rules").is_none());

        let a = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "e"},
            "subsets": [
                {"addresses": [{"ip": "10.0.0.2"}, {"ip": "10.0.0.1"}], "ports": [{"port": 80}]},
                {"addresses": [{"ip": "10.0.1.1"}], "ports": [{"port": 443}]}]});
        let b = json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "e"},
            "subsets": [
                {"ports": [{"port": 443}], "addresses": [{"ip": "10.0.1.1"}]},
                {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}]}]});
        assert_eq!(
            canonical_string(&normalize_object(&a)),
            canonical_string(&normalize_object(&b))
        );
    }

    #[test]
    fn quantities_compare_by_value() {
        let q = |s: &str| parse_quantity(s).unwrap();
        assert_eq!(q("0.5"), q("500m"));
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1k"), q("1000"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("0"), q("0m"));
        assert_ne!(q("1G"), q("1Gi"));
        assert!(parse_quantity("abc").is_none());
        assert!(parse_quantity("1.2.3").is_none());
        assert!(parse_quantity("99999999999999999999999999999999999999999Ei").is_none());
    }

    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }
}
