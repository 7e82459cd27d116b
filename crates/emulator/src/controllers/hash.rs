//! `pod-template-hash` and `controller-revision-hash` values, made the way Kubernetes makes
//! them: FNV-32a over the pod template, printed in decimal, then each digit mapped through
//! the "safe" alphabet (so hashes look like `5d9c7b8f4`). Kubernetes hashes a Go struct dump;
//! we hash the template's canonical JSON (keys sorted), which is just as stable.

use serde_json::Value;

const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The hash of a pod template, with the optional `collisionCount` mixed in.
pub fn pod_template_hash(template: &Value, collision_count: Option<i64>) -> String {
    let mut text = String::new();
    canonical(template, &mut text);
    let mut h: u32 = 0x811c_9dc5;
    let mut feed = |b: u8| {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    };
    text.bytes().for_each(&mut feed);
    if let Some(c) = collision_count {
        // Go writes the int32 little-endian into the hasher.
        (c as i32).to_le_bytes().into_iter().for_each(&mut feed);
    }
    h.to_string()
        .bytes()
        .map(|b| char::from(SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()]))
        .collect()
}

/// Writes `v` as JSON with object keys in sorted order and nulls left out.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, _)| k)
                .collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stable_short_and_safe() {
        let a = json!({"metadata": {"labels": {"app": "web", "tier": "x"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}});
        let reordered = json!({"spec": {"containers": [{"image": "nginx:1.25", "name": "web"}]},
            "metadata": {"labels": {"tier": "x", "app": "web"}}});
        let h = pod_template_hash(&a, None);
        assert_eq!(
            h,
            pod_template_hash(&reordered, None),
            "key order is irrelevant"
        );
        assert!(!h.is_empty() && h.len() <= 10);
        assert!(h.bytes().all(|b| SAFE_ALPHABET.contains(&b)));
        let changed = json!({"metadata": {"labels": {"app": "web", "tier": "x"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}});
        assert_ne!(h, pod_template_hash(&changed, None));
        assert_ne!(h, pod_template_hash(&a, Some(1)));
    }
}
