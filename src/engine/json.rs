//! JSON pointer lookups without allocating: `serde_json::Value::pointer` copies every path
//! segment into a new String (to undo `~1`/`~0` escapes), which made it half the cost of
//! building a 10,000-node tree (profiled). Paths without `~` take the fast way here.

use serde_json::Value;

/// [`Value::pointer`], without allocating for paths that hold no `~` escape.
pub trait JsonPath {
    /// The value at RFC 6901 pointer `pointer` (`""` is the value itself).
    fn at(&self, pointer: &str) -> Option<&Value>;
}

impl JsonPath for Value {
    fn at(&self, pointer: &str) -> Option<&Value> {
        if pointer.contains('~') {
            return self.pointer(pointer);
        }
        if pointer.is_empty() {
            return Some(self);
        }
        pointer
            .strip_prefix('/')?
            .split('/')
            .try_fold(self, |target, token| match target {
                Value::Object(map) => map.get(token),
                Value::Array(list) => index(token).and_then(|i| list.get(i)),
                _ => None,
            })
    }
}

/// The string at RFC 6901 pointer `pointer`; `None` when absent or not a string.
pub fn str_at<'a>(obj: &'a Value, pointer: &str) -> Option<&'a str> {
    obj.at(pointer).and_then(Value::as_str)
}

/// The annotation `key` of a Kubernetes object; `None` when absent or not a string.
pub fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.at("/metadata/annotations")?.get(key)?.as_str()
}

/// An array index as RFC 6901 writes it: digits, no sign, no leading zero.
fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn agrees_with_serde_json_pointer() {
        let v = json!({"a": {"b/c": [1, {"d~e": 2}], "": 3, "x": [10, 20]},
            "metadata": {"annotations": {"argocd.argoproj.io/sync-wave": "1"}}});
        for p in [
            "",
            "/a",
            "/a/x/0",
            "/a/x/1",
            "/a/x/2",
            "/a/x/01",
            "/a/x/+1",
            "/a/x/-1",
            "/a/",
            "/a/b~1c/1/d~0e",
            "/a/b~1c/0",
            "/metadata/annotations/argocd.argoproj.io~1sync-wave",
            "a",
            "/missing/deeper",
            "/a/x/0/y",
        ] {
            assert_eq!(v.at(p), v.pointer(p), "pointer {p:?}");
        }
    }
}
