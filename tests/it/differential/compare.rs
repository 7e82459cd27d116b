//! The emulator's exchanges against the real server's: differences by path, the allow-list
//! that accepts some of them (each with its reason), the recordings of both sides under
//! `tests/realk8s/differential/` and the report `tests/realk8s/differential.md`.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde_json::{Value, json};

/// A difference the emulator is known and allowed to have: in `scenario` (`a|b` for
/// either), at step
/// `step` (or `*`; `a|b` for either), at or under `path` (segments of the exchange; `*`
/// matches any one, `a|b` either; an empty path is the whole exchange).
pub struct Allow {
    /// The scenario's name (`a|b` for either).
    pub scenario: &'static str,
    /// The step's name, or `*`.
    pub step: &'static str,
    /// Where in the exchange: `/body/items`, `/status`, `/body/resources/name=bindings`.
    pub path: &'static str,
    /// Why the emulator does not do what the real server does, in one line.
    pub reason: &'static str,
}

impl Allow {
    fn covers(&self, scenario: &str, step: &str, path: &str) -> bool {
        let pattern: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let one_of = |p: &str, s: &str| p == "*" || p.split('|').any(|alt| alt == s);
        self.scenario.split('|').any(|s| s == scenario)
            && one_of(self.step, step)
            && pattern.len() <= segments.len()
            && pattern.iter().zip(&segments).all(|(p, s)| one_of(p, s))
    }
}

/// Where two exchanges differ, with each side's value (None where a side has nothing).
#[derive(Debug, Clone)]
pub struct Diff {
    /// Segments joined by `/`; an item of a list of named objects is `name=NAME`.
    pub path: String,
    /// The emulator's value.
    pub emulator: Option<Value>,
    /// The real server's value.
    pub real: Option<Value>,
}

/// Every leaf where `emulator` and `real` differ.
pub fn diff(emulator: &Value, real: &Value) -> Vec<Diff> {
    let mut out = Vec::new();
    walk("", Some(emulator), Some(real), &mut out);
    out
}

fn walk(path: &str, e: Option<&Value>, r: Option<&Value>, out: &mut Vec<Diff>) {
    match (e, r) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (k, v) in a {
                walk(&format!("{path}/{}", escape(k)), Some(v), b.get(k), out);
            }
            for (k, v) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                walk(&format!("{path}/{}", escape(k)), None, Some(v), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => match (names(a), names(b)) {
            (Some(na), Some(nb)) => {
                for (n, v) in na.iter().zip(a) {
                    let other = nb.iter().position(|m| m == n).map(|i| &b[i]);
                    walk(&format!("{path}/name={}", escape(n)), Some(v), other, out);
                }
                for (n, v) in nb.iter().zip(b).filter(|(n, _)| !na.contains(n)) {
                    walk(&format!("{path}/name={}", escape(n)), None, Some(v), out);
                }
                let common_a: Vec<_> = na.iter().filter(|n| nb.contains(n)).collect();
                let common_b: Vec<_> = nb.iter().filter(|n| na.contains(n)).collect();
                if common_a != common_b {
                    out.push(Diff {
                        path: format!("{path}/(order)"),
                        emulator: Some(json!(common_a)),
                        real: Some(json!(common_b)),
                    });
                }
            }
            _ if a.len() != b.len() && lines(a).is_some() && lines(b).is_some() => {
                // Lines of output: what one side has and the other lacks, not a shift.
                for (x, y, which) in [(a, b, true), (b, a, false)] {
                    for line in x.iter().filter(|l| !y.contains(l)) {
                        let text = line.as_str().unwrap_or_default();
                        let (e, r) = if which {
                            (Some(line), None)
                        } else {
                            (None, Some(line))
                        };
                        walk(&format!("{path}/{}", escape(text)), e, r, out);
                    }
                }
            }
            _ => {
                for i in 0..a.len().max(b.len()) {
                    walk(&format!("{path}/{i}"), a.get(i), b.get(i), out);
                }
            }
        },
        (e, r) if e == r => {}
        (e, r) => out.push(Diff {
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            emulator: e.cloned(),
            real: r.cloned(),
        }),
    }
}

/// The names (`name`, or `metadata.name`) of a list of named objects, when every item has a
/// distinct one.
fn names(items: &[Value]) -> Option<Vec<String>> {
    let names: Vec<String> = items
        .iter()
        .map(|v| {
            v.get("name")
                .or_else(|| v.pointer("/metadata/name"))
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect::<Option<_>>()?;
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    (!items.is_empty() && unique.len() == names.len()).then_some(names)
}

/// The items, when every one is a string.
fn lines(items: &[Value]) -> Option<Vec<&str>> {
    items.iter().map(Value::as_str).collect()
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A difference at one step, with the allow-list's reason when it is accepted.
pub struct Found {
    /// The step's name.
    pub step: String,
    /// The request, as the real side recorded it.
    pub request: String,
    /// Where and what.
    pub diff: Diff,
    /// The allowance that accepts it; None when none does.
    pub allowed: Option<&'static Allow>,
}

/// A scenario compared.
pub struct Outcome {
    /// The scenario's name.
    pub scenario: String,
    /// Requests (exchanges) compared.
    pub requests: usize,
    /// Exchanges that differ.
    pub differing: usize,
    /// Every difference, allowed or not.
    pub found: Vec<Found>,
}

/// Compares one scenario's exchanges, step by step.
pub fn compare(
    scenario: &str,
    emulator: &[Value],
    real: &[Value],
    allowed: &'static [Allow],
) -> Outcome {
    let mut found = Vec::new();
    let mut differing = 0;
    for i in 0..emulator.len().max(real.len()) {
        let (e, r) = (emulator.get(i), real.get(i));
        let step = r.or(e).and_then(|x| x["step"].as_str()).unwrap_or("?");
        let request = r.or(e).and_then(|x| x["request"].as_str()).unwrap_or("?");
        let diffs = match (e, r) {
            (Some(e), Some(r)) => diff(e, r),
            (e, r) => vec![Diff {
                path: format!("/(exchange {i})"),
                emulator: e.cloned(),
                real: r.cloned(),
            }],
        };
        differing += usize::from(!diffs.is_empty());
        for d in diffs {
            let allowed = allowed.iter().find(|a| a.covers(scenario, step, &d.path));
            found.push(Found {
                step: step.to_string(),
                request: request.to_string(),
                diff: d,
                allowed,
            });
        }
    }
    Outcome {
        scenario: scenario.to_string(),
        requests: real.len().max(emulator.len()),
        differing,
        found,
    }
}

/// The folder of the recordings.
pub fn recordings() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/realk8s/differential")
}

/// What the emulator's side of a recording holds for an exchange equal to the real one.
const SAME: &str = "same as real";

/// Writes a scenario's normalised exchanges of both sides (the emulator's only where they
/// differ from the real ones).
pub fn record(scenario: &str, emulator: &[Value], real: &[Value]) {
    let dir = recordings();
    std::fs::create_dir_all(&dir).unwrap();
    let emulator: Vec<Value> = emulator
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if real.get(i) == Some(e) {
                json!(SAME)
            } else {
                e.clone()
            }
        })
        .collect();
    let text = serde_json::to_string_pretty(&json!({"emulator": emulator, "real": real})).unwrap();
    let path = dir.join(format!("{scenario}.json"));
    let tmp = dir.join(format!(".{scenario}.json.tmp"));
    std::fs::write(&tmp, text + "\n").unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

/// A scenario's recorded exchanges of `side` (`real` or `emulator`).
pub fn recorded(scenario: &str, side: &str) -> Vec<Value> {
    let path = recordings().join(format!("{scenario}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; record the real answers with `REKON_TEST_CLUSTER=real cargo test --test it differential`",
            path.display()
        )
    });
    let value: Value = serde_json::from_str(&text).unwrap();
    let real = value["real"].as_array().cloned().unwrap_or_default();
    let exchanges = value[side].as_array().cloned().unwrap_or_default();
    exchanges
        .into_iter()
        .enumerate()
        .map(|(i, e)| match e {
            Value::String(s) if s == SAME => real.get(i).cloned().unwrap_or_default(),
            e => e,
        })
        .collect()
}

/// Renders the report of every scenario from the recordings (both sides), so that the tests
/// writing it each produce the whole report.
pub fn write_report(scenarios: &[&str], allowed: &'static [Allow]) {
    let outcomes: Vec<Outcome> = scenarios
        .iter()
        .filter(|s| recordings().join(format!("{s}.json")).exists())
        .map(|s| compare(s, &recorded(s, "emulator"), &recorded(s, "real"), allowed))
        .collect();
    let requests: usize = outcomes.iter().map(|o| o.requests).sum();
    let differing: usize = outcomes.iter().map(|o| o.differing).sum();
    let diffs: usize = outcomes.iter().map(|o| o.found.len()).sum();
    let unexplained = outcomes
        .iter()
        .flat_map(|o| &o.found)
        .filter(|f| f.allowed.is_none())
        .count();
    let same = outcomes.iter().filter(|o| o.found.is_empty()).count();
    let mut md = String::new();
    let _ = writeln!(md, "# The emulator against the real kube-apiserver\n");
    let _ = writeln!(
        md,
        "Written by `REKON_TEST_CLUSTER=real cargo test --test it differential` (the scenarios are in \
         `tests/it/differential/`): the same requests, raw HTTP and kubectl, sent to rekon's \
         emulator and to a real control plane (`tests/realk8s`, Kubernetes v1.37.2), the answers \
         normalised (uids, timestamps, resourceVersions by order of appearance, generated names) \
         and compared. `cargo test` checks the emulator against the real answers recorded in \
         `tests/realk8s/differential/`.\n"
    );
    let _ = writeln!(
        md,
        "**{} scenarios, {requests} requests compared: {same} scenarios answer the same; {differing} \
         requests differ, in {diffs} places, {} of them accepted (each with its reason below), \
         {unexplained} not.**\n",
        outcomes.len(),
        diffs - unexplained
    );
    let _ = writeln!(md, "| Scenario | Requests | Result |\n|---|---|---|");
    for o in &outcomes {
        let result = if o.found.is_empty() {
            "same".to_string()
        } else {
            format!(
                "different: {} requests, {} places",
                o.differing,
                o.found.len()
            )
        };
        let _ = writeln!(md, "| {} | {} | {result} |", o.scenario, o.requests);
    }
    // The accepted differences once each, with their reasons: what the emulator does not
    // emulate.
    let _ = writeln!(md, "\n## Accepted differences\n");
    let mut reasons: Vec<&str> = allowed.iter().map(|a| a.reason).collect();
    reasons.dedup();
    reasons.sort();
    reasons.dedup();
    for reason in reasons {
        let entries: Vec<&Allow> = allowed.iter().filter(|a| a.reason == reason).collect();
        let places = outcomes
            .iter()
            .flat_map(|o| &o.found)
            .filter(|f| f.allowed.is_some_and(|a| a.reason == reason))
            .count();
        let at: Vec<String> = entries
            .iter()
            .map(|a| format!("{} / {}", a.scenario, a.step))
            .collect();
        let _ = writeln!(
            md,
            "- {reason} ({places} place{}: {})",
            if places == 1 { "" } else { "s" },
            at.join("; ")
        );
    }
    for o in outcomes.iter().filter(|o| !o.found.is_empty()) {
        let _ = writeln!(md, "\n## {}\n", o.scenario);
        let mut last = String::new();
        let mut last_why = String::new();
        for f in &o.found {
            let heading = format!("{} — `{}`", f.step, f.request);
            if heading != last {
                let _ = writeln!(md, "\n**{heading}**\n");
                last = heading;
                last_why.clear();
            }
            let why = f.allowed.map_or("**not accepted**".to_string(), |a| {
                format!("accepted: {}", a.reason)
            });
            if why != last_why {
                let _ = writeln!(md, "- {why}");
                last_why = why;
            }
            let _ = writeln!(
                md,
                "  - `{}` — emulator: `{}`, real: `{}`",
                f.diff.path,
                snippet(f.diff.emulator.as_ref()),
                snippet(f.diff.real.as_ref())
            );
        }
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/realk8s/differential.md");
    let tmp = path.with_extension("md.tmp");
    std::fs::write(&tmp, md).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

/// A value as one line of JSON, cut at 200 characters.
pub fn snippet(value: Option<&Value>) -> String {
    let text = value.map_or("(absent)".to_string(), |v| v.to_string());
    let text = text.replace('`', "'");
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_items_and_lines_differ_by_name() {
        let e = json!({"body": {"items": [{"metadata": {"name": "a"}, "data": 1}],
            "out": ["x", "y"]}});
        let r = json!({"body": {"items": [{"metadata": {"name": "b"}},
            {"metadata": {"name": "a"}, "data": 2}], "out": ["x", "z", "y"]}});
        let paths: Vec<String> = diff(&e, &r).into_iter().map(|d| d.path).collect();
        assert_eq!(
            paths,
            [
                "/body/items/name=a/data",
                "/body/items/name=b",
                "/body/out/z"
            ]
        );
    }

    #[test]
    fn allowances_match_alternatives_and_prefixes() {
        let a = Allow {
            scenario: "s|t",
            step: "one|two",
            path: "/body/items/name=a|name=b",
            reason: "",
        };
        assert!(a.covers("t", "two", "/body/items/name=b/data"));
        assert!(!a.covers("t", "two", "/body/items/name=c"));
        assert!(!a.covers("u", "one", "/body/items/name=a"));
        let all = Allow { path: "", ..a };
        assert!(all.covers("s", "one", "/status"));
    }
}
