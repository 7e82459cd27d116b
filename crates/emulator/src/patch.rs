//! The three non-apply patch types a Kubernetes API server accepts: JSON merge patch
//! (RFC 7386), JSON patch (RFC 6902) and strategic merge patch (what kubectl's client-side
//! `apply` and `diff` send).
//!
//! Strategic merge patch uses the keyed-list table of [`super::fields_schema`]: keyed lists
//! merge by their patch merge key, `finalizers` merges as a set, every other list is
//! replaced. Directives: `$patch: replace | delete | merge`, `$retainKeys`,
//! `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`.

use super::fields_schema::{ListType, ObjectSchema};
use serde_json::{Map, Value};

/// Why a patch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    /// The patch document is malformed (HTTP 400).
    #[error("invalid patch: {0}")]
    Invalid(String),
    /// The patch is well formed but does not apply to this object, e.g. a failed JSON patch
    /// `test` or a missing path (HTTP 422).
    #[error("the patch does not apply: {0}")]
    Failed(String),
}

/// Applies a JSON merge patch (RFC 7386): objects merge, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    json_patch::merge(target, patch);
}

/// Applies a JSON patch (RFC 6902), all operations or none (the `test` operation included).
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let operations: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| PatchError::Invalid(format!("not a JSON patch document: {e}")))?;
    json_patch::patch(target, &operations.0).map_err(|e| PatchError::Failed(e.to_string()))
}

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ELEMENT_ORDER: &str = "$setElementOrder/";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList/";

/// Applies a strategic merge patch to a Kubernetes object. A `metadata.resourceVersion` in
/// the patch is merged like any field; checking it as a precondition is the caller's job.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let Value::Object(patch_map) = patch else {
        return Err(PatchError::Invalid(
            "a strategic merge patch must be a JSON object".into(),
        ));
    };
    let api_version = target
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let kind = target
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let schema = ObjectSchema::new(crate::key::split_api_version(&api_version).0, &kind);
    let original = match std::mem::take(target) {
        Value::Object(map) => Some(map),
        _ => None,
    };
    let merged = merge_object(&schema, &mut Vec::new(), original, patch_map)?;
    *target = Value::Object(merged);
    Ok(())
}

fn merge_object(
    schema: &ObjectSchema<'_>,
    names: &mut Vec<String>,
    original: Option<Map<String, Value>>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>, PatchError> {
    match patch.get(DIRECTIVE) {
        None => {}
        Some(Value::String(d)) if d == "merge" => {}
        Some(Value::String(d)) if d == "replace" => {
            let mut rest = patch.clone();
            rest.shift_remove(DIRECTIVE);
            return merge_object(schema, names, None, &rest);
        }
        Some(Value::String(d)) if d == "delete" => return Ok(Map::new()),
        Some(other) => {
            return Err(PatchError::Invalid(format!(
                "unknown patch type {other} in map at {}",
                location(names)
            )));
        }
    }
    let mut original = original.unwrap_or_default();

    if let Some(retain) = patch.get(RETAIN_KEYS) {
        let Value::Array(keys) = retain else {
            return Err(PatchError::Invalid(format!(
                "$retainKeys at {} must be a list",
                location(names)
            )));
        };
        let keep: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        for (k, v) in patch {
            if v.is_null() || k.starts_with('$') {
                continue;
            }
            if !keep.contains(&k.as_str()) {
                return Err(PatchError::Invalid(format!(
                    "field {k:?} at {} is not listed in $retainKeys",
                    location(names)
                )));
            }
        }
        original.retain(|k, _| keep.contains(&k.as_str()));
    }

    let mut ordered: Vec<&str> = Vec::new();
    for (k, order) in patch {
        let Some(list_key) = k.strip_prefix(SET_ELEMENT_ORDER) else {
            continue;
        };
        let Value::Array(order) = order else {
            return Err(PatchError::Invalid(format!(
                "{k} at {} must be a list",
                location(names)
            )));
        };
        if !original.contains_key(list_key) && !patch.contains_key(list_key) {
            // Nothing to order: an absent list stays absent.
            ordered.push(list_key);
            continue;
        }
        names.push(list_key.to_string());
        let server: Vec<Value> = match original.get(list_key) {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        let merged = match patch.get(list_key) {
            Some(Value::Array(patch_items)) => {
                merge_list(schema, names, server.clone(), patch_items)?
            }
            Some(_) => {
                names.pop();
                continue;
            }
            None => server.clone(),
        };
        let key = merge_key(schema, names);
        let reordered = normalize_order(merged, order, &server, key.as_deref());
        names.pop();
        original.insert(list_key.to_string(), Value::Array(reordered));
        ordered.push(list_key);
    }

    for (k, v) in patch {
        if k == DIRECTIVE || k == RETAIN_KEYS || k.starts_with(SET_ELEMENT_ORDER) {
            continue;
        }
        if ordered.contains(&k.as_str()) {
            continue;
        }
        if let Some(list_key) = k.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            let Value::Array(doomed) = v else {
                return Err(PatchError::Invalid(format!(
                    "{k} at {} must be a list",
                    location(names)
                )));
            };
            if let Some(Value::Array(items)) = original.get_mut(list_key) {
                items.retain(|item| !doomed.contains(item));
            }
            continue;
        }
        if v.is_null() {
            original.shift_remove(k);
            continue;
        }
        names.push(k.clone());
        let merged = match (original.shift_remove_entry_keep(k), v) {
            (Some(Value::Object(o)), Value::Object(p)) => {
                Value::Object(merge_object(schema, names, Some(o), p)?)
            }
            (Some(Value::Array(o)), Value::Array(p)) => {
                Value::Array(merge_list(schema, names, o, p)?)
            }
            (None, Value::Object(p)) => Value::Object(merge_object(schema, names, None, p)?),
            (None, Value::Array(p)) => Value::Array(merge_list(schema, names, Vec::new(), p)?),
            (_, other) => other.clone(),
        };
        names.pop();
        original.insert(k.clone(), merged);
    }
    Ok(original)
}

/// Takes the value out of the map while keeping the key's position for the re-insert.
trait TakeKeepingPosition {
    fn shift_remove_entry_keep(&mut self, key: &str) -> Option<Value>;
}

impl TakeKeepingPosition for Map<String, Value> {
    fn shift_remove_entry_keep(&mut self, key: &str) -> Option<Value> {
        self.get_mut(key).map(std::mem::take)
    }
}

fn merge_key(schema: &ObjectSchema<'_>, names: &[String]) -> Option<String> {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    match schema.list_type(&refs) {
        ListType::Keyed(keyed) => Some(keyed.patch_merge_key.to_string()),
        _ => None,
    }
}

fn merge_list(
    schema: &ObjectSchema<'_>,
    names: &mut Vec<String>,
    original: Vec<Value>,
    patch: &[Value],
) -> Result<Vec<Value>, PatchError> {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let list_type = schema.list_type(&refs);
    match list_type {
        ListType::Atomic => Ok(patch.to_vec()),
        ListType::Set => {
            let mut merged = original.clone();
            for item in patch {
                if !merged.contains(item) {
                    merged.push(item.clone());
                }
            }
            Ok(normalize_order(merged, patch, &original, None))
        }
        ListType::Keyed(keyed) => {
            let key = keyed.patch_merge_key;
            let mut original = original;
            let mut items: Vec<&Map<String, Value>> = Vec::new();
            let mut replace = false;
            for item in patch {
                let Value::Object(map) = item else {
                    return Err(PatchError::Invalid(format!(
                        "{}: list item {item} is not an object",
                        location(names)
                    )));
                };
                match map.get(DIRECTIVE).and_then(Value::as_str) {
                    None => items.push(map),
                    Some("delete") => {
                        let Some(id) = map.get(key) else {
                            return Err(PatchError::Invalid(format!(
                                "{}: delete directive {item} does not name the merge key {key:?}",
                                location(names)
                            )));
                        };
                        original.retain(|o| o.get(key) != Some(id));
                    }
                    Some("replace") => replace = true,
                    Some("merge") => {
                        return Err(PatchError::Invalid(format!(
                            "{}: merging lists cannot yet be specified in the patch",
                            location(names)
                        )));
                    }
                    Some(other) => {
                        return Err(PatchError::Invalid(format!(
                            "{}: unknown patch type {other:?}",
                            location(names)
                        )));
                    }
                }
            }
            if replace {
                original.clear();
            }
            let server = original.clone();
            let mut merged = original;
            let mut patch_items: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                let Some(id) = item.get(key) else {
                    return Err(PatchError::Invalid(format!(
                        "{}: map {} does not contain declared merge key: {key}",
                        location(names),
                        Value::Object(item.clone())
                    )));
                };
                patch_items.push(Value::Object(item.clone()));
                match merged.iter().position(|o| o.get(key) == Some(id)) {
                    Some(i) => {
                        let current = match std::mem::take(&mut merged[i]) {
                            Value::Object(m) => Some(m),
                            _ => None,
                        };
                        merged[i] = Value::Object(merge_object(schema, names, current, item)?);
                    }
                    None => merged.push(Value::Object(merge_object(schema, names, None, item)?)),
                }
            }
            Ok(normalize_order(merged, &patch_items, &server, Some(key)))
        }
    }
}

/// Orders a merged list as Kubernetes does: items named by the patch follow the patch's
/// order, items only on the server keep the server's order, and the two are interleaved by
/// the server's order.
fn normalize_order(
    merged: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    let index = |list: &[Value], item: &Value| -> Option<usize> {
        list.iter().position(|candidate| match key {
            Some(k) => candidate.get(k).is_some() && candidate.get(k) == item.get(k),
            None => candidate == item,
        })
    };
    let (mut from_patch, mut server_only): (Vec<Value>, Vec<Value>) = merged
        .into_iter()
        .partition(|item| index(patch_order, item).is_some());
    from_patch.sort_by_key(|item| index(patch_order, item).unwrap_or(usize::MAX));
    server_only.sort_by_key(|item| index(server_order, item).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(from_patch.len() + server_only.len());
    let (mut left, mut right) = (
        server_only.into_iter().peekable(),
        from_patch.into_iter().peekable(),
    );
    loop {
        match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => {
                let take_left = matches!(
                    (index(server_order, l), index(server_order, r)),
                    (Some(li), Some(ri)) if li < ri
                );
                let next = if take_left { left.next() } else { right.next() };
                out.extend(next);
            }
            (Some(_), None) => out.extend(left.next()),
            (None, Some(_)) => out.extend(right.next()),
            (None, None) => break,
        }
    }
    out
}

fn location(names: &[String]) -> String {
    if names.is_empty() {
        "the object root".to_string()
    } else {
        format!(".{}", names.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "resourceVersion": "100",
                "finalizers": ["a/one"]},
            "spec": {"replicas": 2,
                "strategy": {"type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {"spec": {"containers": [
                    {"name": "web", "image": "nginx:1.25", "args": ["-a", "-b"],
                     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                    {"name": "sidecar", "image": "envoy:1"}]}}}})
    }

    fn smp(patch: Value) -> Value {
        let mut target = deployment();
        strategic_merge_patch(&mut target, &patch).expect("patch applies");
        target
    }

    fn names(list: &Value) -> Vec<&str> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": {"b": 1, "c": 2}, "l": [1, 2], "x": 1});
        merge_patch(
            &mut target,
            &json!({"a": {"b": null, "d": 3}, "l": [3], "x": null}),
        );
        assert_eq!(target, json!({"a": {"c": 2, "d": 3}, "l": [3]}));
    }

    #[test]
    fn json_patch_applies_all_or_nothing() {
        let mut target = json!({"spec": {"replicas": 1}, "metadata": {"labels": {}}});
        json_patch(
            &mut target,
            &json!([
                {"op": "test", "path": "/spec/replicas", "value": 1},
                {"op": "replace", "path": "/spec/replicas", "value": 3},
                {"op": "add", "path": "/metadata/labels/app", "value": "web"}
            ]),
        )
        .unwrap();
        assert_eq!(target["spec"]["replicas"], 3);
        assert_eq!(target["metadata"]["labels"]["app"], "web");
        let before = target.clone();
        let failed = json_patch(
            &mut target,
            &json!([
                {"op": "remove", "path": "/metadata/labels/app"},
                {"op": "test", "path": "/spec/replicas", "value": 1}
            ]),
        );
        assert!(matches!(failed, Err(PatchError::Failed(_))));
        assert_eq!(target, before);
        assert!(matches!(
            json_patch(&mut target, &json!({"op": "add"})),
            Err(PatchError::Invalid(_))
        ));
    }

    #[test]
    fn keyed_lists_merge_by_key_and_atomic_lists_replace() {
        let out = smp(json!({"spec": {"template": {"spec": {"containers": [
            {"name": "web", "image": "nginx:1.26", "args": ["-c"],
             "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
             "ports": [{"containerPort": 80, "name": "http"}]},
            {"name": "extra", "image": "busybox"}]}}}}));
        let containers = &out["spec"]["template"]["spec"]["containers"];
        // Kubernetes interleaves: patch items in patch order, server-only items after the
        // last patch item that precedes them on the server.
        assert_eq!(names(containers), vec!["web", "extra", "sidecar"]);
        let web = &containers[0];
        assert_eq!(web["image"], "nginx:1.26");
        assert_eq!(web["args"], json!(["-c"]));
        assert_eq!(
            web["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "two"},
                   {"name": "C", "value": "3"}])
        );
        assert_eq!(
            web["ports"],
            json!([{"containerPort": 80, "protocol": "TCP", "name": "http"}])
        );
        assert_eq!(containers[2]["image"], "envoy:1");
    }

    #[test]
    fn directives_delete_and_replace_list_items_and_maps() {
        let out = smp(json!({"spec": {"template": {"spec": {"containers": [
            {"name": "sidecar", "$patch": "delete"},
            {"name": "web", "env": [{"$patch": "replace"}, {"name": "Z", "value": "9"}]}]}}}}));
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(names(containers), vec!["web"]);
        assert_eq!(containers[0]["env"], json!([{"name": "Z", "value": "9"}]));
        let replaced =
            smp(json!({"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}}));
        assert_eq!(replaced["spec"]["strategy"], json!({"type": "Recreate"}));
        let emptied = smp(json!({"spec": {"strategy": {"$patch": "delete"}}}));
        assert_eq!(emptied["spec"]["strategy"], json!({}));
        let mut target = deployment();
        let bad = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        assert!(matches!(
            strategic_merge_patch(&mut target, &bad),
            Err(PatchError::Invalid(_))
        ));
        assert!(strategic_merge_patch(&mut target, &json!([1])).is_err());
        let unknown = json!({"spec": {"$patch": "explode"}});
        assert!(strategic_merge_patch(&mut target, &unknown).is_err());
    }

    #[test]
    fn retain_keys_clears_the_other_fields() {
        let out = smp(json!({"spec": {"strategy":
            {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}}));
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        let mut target = deployment();
        let bad = json!({"spec": {"strategy": {"$retainKeys": ["type"], "other": 1}}});
        assert!(strategic_merge_patch(&mut target, &bad).is_err());
    }

    #[test]
    fn finalizers_merge_as_a_set_and_primitive_deletes_apply() {
        let out = smp(json!({"metadata": {"finalizers": ["a/two", "a/one"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!(["a/two", "a/one"]));
        let out = smp(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a/one"]}}));
        assert_eq!(out["metadata"]["finalizers"], json!([]));
    }

    #[test]
    fn kubectl_client_side_apply_patch() {
        // The shape `kubectl apply` (client-side) and `kubectl diff` send.
        let patch = json!({
            "metadata": {"annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": "{}\n"},
                "resourceVersion": "100"},
            "spec": {"replicas": null, "template": {"spec": {
                "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}],
                "containers": [{"image": "nginx:1.26", "name": "web",
                    "$setElementOrder/env": [{"name": "B"}, {"name": "A"}]}]}}}});
        let out = smp(patch);
        assert_eq!(out["metadata"]["resourceVersion"], "100");
        assert_eq!(
            out["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
            "{}\n"
        );
        assert!(out["spec"].get("replicas").is_none());
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(names(containers), vec!["sidecar", "web"]);
        assert_eq!(containers[1]["image"], "nginx:1.26");
        assert_eq!(names(&containers[1]["env"]), vec!["B", "A"]);
        assert!(containers[1].get("$setElementOrder/env").is_none());
        let untouched = smp(json!({"spec": {"$setElementOrder/volumes": [{"name": "v"}]}}));
        assert!(untouched["spec"].get("volumes").is_none());
    }

    #[test]
    fn service_ports_merge_by_port_and_custom_lists_replace() {
        let mut svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
            "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}});
        strategic_merge_patch(
            &mut svc,
            &json!({"spec": {"ports": [{"port": 443, "name": "tls"}]}}),
        )
        .unwrap();
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"port": 80, "targetPort": 8080}, {"port": 443, "name": "tls"}])
        );
        let mut app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "spec": {"items": [{"name": "a"}, {"name": "b"}]}});
        strategic_merge_patch(&mut app, &json!({"spec": {"items": [{"name": "c"}]}})).unwrap();
        assert_eq!(app["spec"]["items"], json!([{"name": "c"}]));
    }

    #[test]
    fn nulls_inside_new_objects_are_dropped() {
        let out = smp(json!({"spec": {"paused": true, "newThing": {"a": 1, "b": null}}}));
        assert_eq!(out["spec"]["newThing"], json!({"a": 1}));
        assert_eq!(out["spec"]["paused"], true);
    }
}
