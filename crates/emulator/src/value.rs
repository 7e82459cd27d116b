//! Reading fields of JSON objects by path, for the API server's checks and the controllers.

use serde_json::Value;

/// The value at `path`, if every step exists.
pub fn at<'v>(obj: &'v Value, path: &[&str]) -> Option<&'v Value> {
    let mut cur = obj;
    for step in path {
        cur = cur.get(step)?;
    }
    Some(cur)
}

/// The string at `path`, or `""` when it is missing or not a string.
pub fn str_at<'v>(obj: &'v Value, path: &[&str]) -> &'v str {
    at(obj, path).and_then(Value::as_str).unwrap_or("")
}
