//! Secret masking, exactly as Argo CD does it, so a diff says *that* a Secret changed but never
//! what it holds.
//!
//! For every key under `data` (and `stringData`) of a core `Secret`, the values found on the
//! desired and the live side are replaced by runs of `+`: the first distinct value of that key
//! becomes `++++++++` (8), each further distinct value of the same key 4 more, and equal values
//! equal runs. Masks are assigned per key across both sides together, so an unchanged key shows
//! the same mask on both sides and a changed one shows two different masks. kubectl's
//! `last-applied-configuration` annotation (which holds the whole Secret) is removed from
//! Secrets. Optional extra annotations (Argo CD's `resource.sensitive.mask.annotations`) are
//! masked the same way on any kind. No byte of an original value survives.

use serde_json::{Map, Value};
use std::collections::HashMap;

use super::normalize::LAST_APPLIED_ANNOTATION;

/// The first mask; each further distinct value of a key gets 4 more `+`.
pub const FIRST_MASK: &str = "++++++++";

/// Masks Secret data on both sides of a comparison (see the module notes).
pub fn mask_secrets(desired: Option<&mut Value>, live: Option<&mut Value>) {
    mask_secrets_with(desired, live, &[]);
}

/// [`mask_secrets`], also masking the values of these annotations on objects of any kind.
pub fn mask_secrets_with(
    mut desired: Option<&mut Value>,
    mut live: Option<&mut Value>,
    sensitive_annotations: &[String],
) {
    let secret =
        desired.as_deref().is_some_and(is_secret) || live.as_deref().is_some_and(is_secret);
    if secret {
        for field in ["data", "stringData"] {
            let mut sides: Vec<&mut Value> = Vec::with_capacity(2);
            if let Some(d) = desired.as_deref_mut() {
                sides.push(d);
            }
            if let Some(l) = live.as_deref_mut() {
                sides.push(l);
            }
            mask_field(&mut sides, field);
        }
        for obj in [desired.as_deref_mut(), live.as_deref_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(annotations) = annotations_mut(obj) {
                annotations.shift_remove(LAST_APPLIED_ANNOTATION);
            }
        }
    }
    for name in sensitive_annotations {
        let mut masks = Masks::default();
        for obj in [desired.as_deref_mut(), live.as_deref_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(v) = annotations_mut(obj).and_then(|a| a.get_mut(name)) {
                *v = Value::String(masks.mask(v));
            }
        }
    }
}

/// Masks a single object (a live object shown on its own, e.g. its YAML in the TUI).
pub fn mask_object(obj: &mut Value) {
    mask_secrets(Some(obj), None);
}

/// Whether `obj` is a core `Secret`.
pub fn is_secret(obj: &Value) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| !v.contains('/'))
}

fn mask_field(sides: &mut [&mut Value], field: &str) {
    // Anything under the field that is not a map cannot be masked per key: mask it whole.
    for side in sides.iter_mut() {
        if let Some(v) = side.get_mut(field)
            && !v.is_object()
            && !v.is_null()
        {
            *v = Value::String(FIRST_MASK.to_string());
        }
    }
    let mut keys: Vec<String> = Vec::new();
    for side in sides.iter() {
        if let Some(map) = side.get(field).and_then(Value::as_object) {
            for k in map.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    for key in keys {
        let mut masks = Masks::default();
        for side in sides.iter_mut() {
            if let Some(v) = side
                .get_mut(field)
                .and_then(Value::as_object_mut)
                .and_then(|m| m.get_mut(&key))
            {
                *v = Value::String(masks.mask(v));
            }
        }
    }
}

/// Mask assignment for one key: equal values share a mask, new values get a longer one.
#[derive(Default)]
struct Masks {
    seen: HashMap<String, String>,
}

impl Masks {
    fn mask(&mut self, v: &Value) -> String {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let next = FIRST_MASK.len() + 4 * self.seen.len();
        self.seen
            .entry(text)
            .or_insert_with(|| "+".repeat(next))
            .clone()
    }
}

fn annotations_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    obj.get_mut("metadata")?
        .get_mut("annotations")?
        .as_object_mut()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "shop",
                "annotations": {LAST_APPLIED_ANNOTATION: "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
            "data": data})
    }

    #[test]
    fn masks_like_argo_cd_per_key_across_both_sides() {
        let mut desired = secret(json!({"user": "YWRtaW4=", "password": "bmV3LXNlY3JldA=="}));
        let mut live = secret(json!({"user": "YWRtaW4=", "password": "aHVudGVyMg==",
                                     "extra": "eA=="}));
        mask_secrets(Some(&mut desired), Some(&mut live));
        assert_eq!(
            desired["data"],
            json!({"user": "++++++++", "password": "++++++++"})
        );
        assert_eq!(
            live["data"],
            json!({"user": "++++++++", "password": "++++++++++++", "extra": "++++++++"})
        );
        for obj in [&desired, &live] {
            let text = obj.to_string();
            for planted in ["aHVudGVyMg==", "bmV3LXNlY3JldA==", "YWRtaW4=", "eA=="] {
                assert!(!text.contains(planted), "{planted} leaked: {text}");
            }
            assert!(
                obj["metadata"]["annotations"]
                    .get(LAST_APPLIED_ANNOTATION)
                    .is_none()
            );
        }
    }

    #[test]
    fn masks_string_data_nulls_and_odd_shapes() {
        let mut desired = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "stringData": {"token": "hunter2", "n": null}, "data": "not-a-map"});
        mask_object(&mut desired);
        assert_eq!(
            desired["stringData"],
            json!({"token": "++++++++", "n": "++++++++"})
        );
        assert_eq!(desired["data"], "++++++++");
    }

    #[test]
    fn only_core_secrets_are_masked() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
            "data": {"k": "v"}});
        mask_object(&mut cm);
        assert_eq!(cm["data"]["k"], "v");
        let mut sealed = json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "Secret",
            "metadata": {"name": "s"}, "data": {"k": "v"}});
        mask_object(&mut sealed);
        assert_eq!(sealed["data"]["k"], "v");
    }

    #[test]
    fn a_secret_missing_on_one_side_is_still_masked() {
        let mut desired = secret(json!({"password": "aHVudGVyMg=="}));
        mask_secrets(Some(&mut desired), None);
        assert_eq!(desired["data"]["password"], FIRST_MASK);
        let mut live = secret(json!({"password": "aHVudGVyMg=="}));
        mask_secrets(None, Some(&mut live));
        assert_eq!(live["data"]["password"], FIRST_MASK);
    }

    #[test]
    fn sensitive_annotations_are_masked_on_any_kind() {
        let mut d = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {"vault/token": "s.abc"}}});
        let mut l = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "annotations": {"vault/token": "s.xyz"}}});
        mask_secrets_with(Some(&mut d), Some(&mut l), &["vault/token".to_string()]);
        assert_eq!(d["metadata"]["annotations"]["vault/token"], "++++++++");
        assert_eq!(l["metadata"]["annotations"]["vault/token"], "++++++++++++");
    }
}
