//! What two servers answer differently by nature is masked before the answers are compared:
//! uids become `<uid#N>` and objects' resourceVersions `<rv#N>` (numbered by first
//! appearance in the scenario, so equality between answers is kept, and an rv lower than one
//! seen before is marked `:older`), a list's or bookmark's resourceVersion is `<rv>`,
//! timestamps `<time>`, continue tokens `<continue>`, the random suffix of a generated name
//! `<gen#N>`, certificates `<certificate>`; managedFields entries are put in one order (the
//! servers order them by a time that is masked). Everything else — codes, Status bodies,
//! field values, managedFields' managers, operations and fieldsV1, the order of items and of
//! watch events — is compared as sent.

use std::collections::HashMap;

use serde_json::Value;

/// The masks of one scenario on one server, built up answer after answer.
#[derive(Default)]
pub struct Normaliser {
    uids: HashMap<String, String>,
    rvs: HashMap<String, String>,
    highest_rv: u64,
    names: Vec<(String, String)>,
}

impl Normaliser {
    /// `exchange` without the `ignore` paths, masked.
    pub fn exchange(&mut self, mut exchange: Value, ignore: &[&str]) -> Value {
        for path in ignore {
            let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            remove(&mut exchange, &segments);
        }
        self.register(&exchange);
        self.rewrite(&mut exchange, None, false);
        if let Some(Value::String(request)) = exchange.get_mut("request") {
            *request = self.request(request);
        }
        exchange
    }

    /// A request line with the resourceVersions and continue tokens of its query masked.
    fn request(&self, line: &str) -> String {
        let Some((path, query)) = line.split_once('?') else {
            return line.to_string();
        };
        let (query, rest) = query.split_once(' ').unwrap_or((query, ""));
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("resourceVersion", v)) if v.parse::<u64>().is_ok_and(|n| n > 0) => {
                    let token = self.rvs.get(v).map_or("<rv>", String::as_str);
                    format!("resourceVersion={token}")
                }
                Some(("continue", _)) => "continue=<continue>".to_string(),
                _ => pair.to_string(),
            })
            .collect();
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(" {rest}")
        };
        format!("{path}?{}{rest}", masked.join("&"))
    }

    /// Learns, in document order, the uids, objects' resourceVersions and generated names.
    fn register(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                if let Some(meta) = map.get("metadata").and_then(Value::as_object) {
                    let name = meta.get("name").and_then(Value::as_str);
                    if let (Some(prefix), Some(name)) =
                        (meta.get("generateName").and_then(Value::as_str), name)
                        && name.len() > prefix.len()
                        && name.starts_with(prefix)
                        && !self.names.iter().any(|(n, _)| n == name)
                    {
                        let token = format!("{prefix}<gen#{}>", self.names.len() + 1);
                        self.names.push((name.to_string(), token));
                        // Longest first, so a name that extends another is replaced whole.
                        self.names.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
                    }
                    if (name.is_some() || meta.contains_key("uid"))
                        && let Some(rv) = meta.get("resourceVersion").and_then(Value::as_str)
                    {
                        self.register_rv(rv);
                    }
                }
                for v in map.values() {
                    self.register(v);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.register(v)),
            Value::String(s) => {
                for uid in uuids(s) {
                    let n = self.uids.len() + 1;
                    self.uids
                        .entry(uid.to_string())
                        .or_insert_with(|| format!("<uid#{n}>"));
                }
            }
            _ => {}
        }
    }

    fn register_rv(&mut self, rv: &str) {
        if self.rvs.contains_key(rv) {
            return;
        }
        let n = self.rvs.len() + 1;
        let value: u64 = rv.parse().unwrap_or(0);
        let token = if value < self.highest_rv {
            format!("<rv#{n}:older>")
        } else {
            format!("<rv#{n}>")
        };
        self.highest_rv = self.highest_rv.max(value);
        self.rvs.insert(rv.to_string(), token);
    }

    /// Masks in place; `key` is the value's key in its parent, `in_named_meta` whether the
    /// parent is the metadata of a named object (whose resourceVersion is the object's).
    fn rewrite(&self, value: &mut Value, key: Option<&str>, in_named_meta: bool) {
        match value {
            Value::Object(map) => {
                let named_meta = key == Some("metadata")
                    && (map.contains_key("name") || map.contains_key("uid"));
                // Keys too: managedFields name list items by their keys (`k:{"uid":…}`).
                let entries = std::mem::take(map);
                for (k, mut v) in entries {
                    self.rewrite(&mut v, Some(&k), named_meta);
                    map.insert(self.text(&k), v);
                }
            }
            Value::Array(items) => {
                items.iter_mut().for_each(|v| self.rewrite(v, None, false));
                // Entries are ordered by their time in seconds first; with the times masked,
                // an order that depends on where a second ended is noise.
                if key == Some("managedFields") {
                    let rank = |e: &Value| {
                        ["operation", "manager", "subresource", "apiVersion"]
                            .map(|k| e[k].as_str().unwrap_or_default().to_string())
                    };
                    items.sort_by_key(rank);
                }
            }
            Value::String(s) => match key {
                Some("resourceVersion") if in_named_meta => {
                    *s = self.rvs.get(s.as_str()).cloned().unwrap_or("<rv>".into());
                }
                Some("resourceVersion") if !s.is_empty() => *s = "<rv>".into(),
                Some("continue") if !s.is_empty() => *s = "<continue>".into(),
                // realk8s runs kube-apiserver's own controllers in its process, which then
                // write as the program's name.
                Some("manager") if s == "realk8s" => *s = "kube-apiserver".into(),
                // Objects' resourceVersions quoted in Status messages (a failed precondition's).
                Some("message") => *s = self.mask_known_rvs(&self.text(s)),
                _ => *s = self.text(s),
            },
            _ => {}
        }
    }

    /// A string with uids, timestamps, generated names and the resourceVersions of a 410's
    /// message masked.
    pub fn text(&self, s: &str) -> String {
        // Each cluster has its own CA (kube-root-ca.crt).
        if s.starts_with("-----BEGIN CERTIFICATE-----") {
            return "<certificate>".into();
        }
        let mut out = mask_times(s);
        for uid in uuids(&out.clone()) {
            if let Some(token) = self.uids.get(uid) {
                out = out.replace(uid, token);
            }
        }
        for (name, token) in &self.names {
            out = out.replace(name, token);
        }
        if let Some(rest) = out.strip_prefix("too old resource version: ") {
            let masked: String = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter(|d| !d.is_empty())
                .fold(rest.to_string(), |acc, d| acc.replacen(d, "<rv>", 1));
            return format!("too old resource version: {masked}");
        }
        out
    }
}

impl Normaliser {
    /// `s` with every run of digits that is a known object resourceVersion replaced by its
    /// token.
    fn mask_known_rvs(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut digits = String::new();
        for c in s.chars().chain(std::iter::once('\0')) {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            if !digits.is_empty() {
                match self.rvs.get(&digits) {
                    Some(token) => out.push_str(token),
                    None => out.push_str(&digits),
                }
                digits.clear();
            }
            if c != '\0' {
                out.push(c);
            }
        }
        out
    }
}

/// Removes the value at `path` (`*` matches every key or index) from `value`.
fn remove(value: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match value {
        Value::Object(map) if rest.is_empty() => {
            if *first == "*" {
                map.clear();
            } else {
                map.shift_remove(*first);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if *first == "*" || k == first {
                    remove(v, rest);
                }
            }
        }
        Value::Array(items) if !rest.is_empty() => {
            for (i, v) in items.iter_mut().enumerate() {
                if *first == "*" || first.parse() == Ok(i) {
                    remove(v, rest);
                }
            }
        }
        _ => {}
    }
}

/// The UUIDs (8-4-4-4-12 lowercase hex) in `s`, in order.
fn uuids(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 36 <= bytes.len() {
        let candidate = &bytes[i..i + 36];
        let shaped = candidate.iter().enumerate().all(|(j, b)| match j {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
        });
        let bounded = (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && bytes.get(i + 36).is_none_or(|b| !b.is_ascii_alphanumeric());
        if shaped && bounded {
            found.push(&s[i..i + 36]);
            i += 36;
        } else {
            i += 1;
        }
    }
    found
}

/// `s` with every RFC 3339 timestamp (`2024-01-02T03:04:05Z`, with fractions or an offset)
/// replaced by `<time>`.
fn mask_times(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i + 20 <= bytes.len() {
        if let Some(len) = timestamp_at(&bytes[i..]) {
            out.push_str(&s[copied..i]);
            out.push_str("<time>");
            i += len;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&s[copied..]);
    out
}

fn timestamp_at(b: &[u8]) -> Option<usize> {
    let digit = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let shape = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18];
    let shaped = shape.iter().all(|&i| digit(i))
        && at(4, b'-')
        && at(7, b'-')
        && at(10, b'T')
        && at(13, b':')
        && at(16, b':');
    if !shaped {
        return None;
    }
    let mut end = 19;
    if at(end, b'.') {
        end += 1;
        while digit(end) {
            end += 1;
        }
    }
    if at(end, b'Z') {
        Some(end + 1)
    } else if (at(end, b'+') || at(end, b'-'))
        && digit(end + 1)
        && digit(end + 2)
        && at(end + 3, b':')
        && digit(end + 4)
        && digit(end + 5)
    {
        Some(end + 6)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_keep_equalities() {
        let mut n = Normaliser::default();
        let uid = "9c36b7e5-57b5-4daa-8ad4-01d89d18758c";
        let first = n.exchange(
            json!({"body": {"metadata": {"name": "a-x7k2p", "generateName": "a-", "uid": uid,
                "resourceVersion": "100", "creationTimestamp": "2026-12-07T23:29:23Z"}}}),
            &[],
        );
        assert_eq!(
            first["body"]["metadata"],
            json!({"name": "a-<gen#1>", "generateName": "a-", "uid": "<uid#1>",
                "resourceVersion": "<rv#1>", "creationTimestamp": "<time>"})
        );
        let list = n.exchange(
            json!({"body": {"metadata": {"resourceVersion": "100", "continue": "abc"},
                "items": [{"metadata": {"name": "b", "resourceVersion": "90"}}],
                "message": format!("a-x7k2p ({uid}) at 2026-12-07T23:29:23.123456Z")}}),
            &["/body/items/*/status"],
        );
        assert_eq!(list["body"]["metadata"]["resourceVersion"], "<rv>");
        assert_eq!(list["body"]["metadata"]["continue"], "<continue>");
        assert_eq!(
            list["body"]["items"][0]["metadata"]["resourceVersion"],
            "<rv#2:older>"
        );
        assert_eq!(list["body"]["message"], "a-<gen#1> (<uid#1>) at <time>");
        assert_eq!(
            n.text("too old resource version: 12 (345)"),
            "too old resource version: <rv> (<rv>)"
        );
    }

    #[test]
    fn ignored_paths_go() {
        let mut n = Normaliser::default();
        let v = n.exchange(
            json!({"body": {"items": [{"status": 1, "spec": 2}], "status": 3}}),
            &["/body/items/*/status", "/body/status"],
        );
        assert_eq!(v, json!({"body": {"items": [{"spec": 2}]}}));
    }
}
