//! The small JSONPath subset that CRD printer columns use: `.a.b`, `.a[0]`, `.a[*].b`,
//! `.a[?(@.type=="Ready")].status`, optionally wrapped in `{}`.

use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    All,
    Filter(String, String),
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(p);
    let p = p.strip_prefix('$').unwrap_or(p);
    let mut steps = Vec::new();
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end > 0 {
                steps.push(Step::Field(r[..end].to_string()));
            }
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            let inner = r[..end].trim();
            // A filter may itself contain ']' only inside quotes; the subset used by CRDs does not.
            rest = &r[end + 1..];
            if inner == "*" {
                steps.push(Step::All);
            } else if let Some(f) = inner.strip_prefix("?(").and_then(|x| x.strip_suffix(')')) {
                let (lhs, rhs) = f.split_once("==")?;
                let field = lhs.trim().strip_prefix("@.")?.to_string();
                let value = rhs
                    .trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .to_string();
                steps.push(Step::Filter(field, value));
            } else if let Some(r2) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                steps.push(Step::Field(r2.to_string()));
            } else {
                steps.push(Step::Index(inner.parse().ok()?));
            }
        } else {
            return None;
        }
    }
    Some(steps)
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Evaluates `path` against `obj`: `None` when nothing matches, the value itself for one
/// match, the matches joined by spaces for several (as kubectl's JSONPath printer does).
pub fn evaluate(obj: &Value, path: &str) -> Option<Value> {
    let steps = parse(path)?;
    let mut current: Vec<&Value> = vec![obj];
    for step in &steps {
        let mut next = Vec::new();
        for v in current {
            match step {
                Step::Field(f) => next.extend(v.get(f.as_str())),
                Step::Index(i) => next.extend(v.get(*i)),
                Step::All => match v {
                    Value::Array(a) => next.extend(a.iter()),
                    Value::Object(o) => next.extend(o.values()),
                    _ => {}
                },
                Step::Filter(field, want) => {
                    if let Value::Array(a) = v {
                        next.extend(a.iter().filter(|item| {
                            let mut cur = Some(*item);
                            for seg in field.split('.') {
                                cur = cur.and_then(|c| c.get(seg));
                            }
                            cur.is_some_and(|c| scalar_text(c) == *want)
                        }));
                    }
                }
            }
        }
        current = next;
    }
    match current.as_slice() {
        [] => None,
        [one] => Some((*one).clone()),
        many => Some(Value::String(
            many.iter()
                .map(|v| scalar_text(v))
                .collect::<Vec<_>>()
                .join(" "),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evaluates_printer_column_paths() {
        let o = json!({"spec": {"size": 3, "items": [{"n": "a"}, {"n": "b"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Ok"},
                {"type": "Stalled", "status": "False"}]}});
        assert_eq!(evaluate(&o, ".spec.size"), Some(json!(3)));
        assert_eq!(evaluate(&o, "{.spec.items[1].n}"), Some(json!("b")));
        assert_eq!(evaluate(&o, ".spec.items[*].n"), Some(json!("a b")));
        assert_eq!(
            evaluate(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            Some(json!("True"))
        );
        assert_eq!(
            evaluate(&o, ".status.conditions[?(@.type=='Stalled')].reason"),
            None
        );
        assert_eq!(evaluate(&o, ".missing.path"), None);
        assert_eq!(evaluate(&o, "garbage"), None);
    }
}
