//! `spec.ignoreDifferences` (and the same rules from config, per kind): fields removed from
//! both desired and live before they are compared, so differences there never count.
//!
//! Rules match on group and kind (`*` and `?` wildcards, as Argo CD's glob match) and an
//! optional exact name and namespace. A rule names fields by RFC 6901 JSON pointers, or by the
//! field managers that own them in the live object's `metadata.managedFields`.
//!
//! Managed fields are read from FieldsV1 (`f:<field>`, `k:<json key>`, `v:<json value>`,
//! `i:<index>`, `.` for the node itself). A list element whose `.` a manager owns is removed
//! whole (a sidecar a webhook injected); within a map, only the fields the manager owns go,
//! and the map itself only when nothing else is left in it. That is gentler than
//! structured-merge-diff's removal, which drops a whole map once its `.` is owned, taking other
//! managers' keys with it.

use serde_json::{Map, Value};

use crate::model::{IgnoreDifference, ResourceKey};

/// Removes from `desired` and `live` every field that a matching rule ignores.
/// `managed_fields` is the live object's `metadata.managedFields`, read before normalization
/// strips it; pass `None` when there is no live object.
pub fn apply_ignore_differences<'a>(
    rules: impl IntoIterator<Item = &'a IgnoreDifference>,
    key: &ResourceKey,
    managed_fields: Option<&Value>,
    mut desired: Option<&mut Value>,
    mut live: Option<&mut Value>,
) {
    for rule in rules.into_iter().filter(|r| rule_matches(r, key)) {
        for pointer in &rule.json_pointers {
            if let Some(d) = desired.as_deref_mut() {
                remove_pointer(d, pointer);
            }
            if let Some(l) = live.as_deref_mut() {
                remove_pointer(l, pointer);
            }
        }
        if rule.managed_fields_managers.is_empty() {
            continue;
        }
        let Some(entries) = managed_fields.and_then(Value::as_array) else {
            continue;
        };
        for entry in entries {
            let manager = entry.get("manager").and_then(Value::as_str).unwrap_or("");
            if !rule.managed_fields_managers.iter().any(|m| m == manager) {
                continue;
            }
            let Some(fields) = entry.get("fieldsV1") else {
                continue;
            };
            let set = FieldSet::parse(fields);
            if let Some(d) = desired.as_deref_mut() {
                set.remove_from(d);
            }
            if let Some(l) = live.as_deref_mut() {
                set.remove_from(l);
            }
        }
    }
}

/// Whether `rule` applies to the object `key`.
pub fn rule_matches(rule: &IgnoreDifference, key: &ResourceKey) -> bool {
    let exact = |want: &Option<String>, have: &str| match want.as_deref() {
        None | Some("") => true,
        Some(w) => w == have,
    };
    wildcard_match(&rule.group, &key.group)
        && wildcard_match(&rule.kind, &key.kind)
        && exact(&rule.name, &key.name)
        && exact(&rule.namespace, &key.namespace)
}

/// `*` matches any run of characters, `?` any one character.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if let Some((bp, bt)) = backtrack {
            pi = bp + 1;
            ti = bt + 1;
            backtrack = Some((bp, bt + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Removes the field an RFC 6901 pointer names; returns whether something was removed.
/// The empty pointer (the whole document) and paths that do not exist change nothing.
pub fn remove_pointer(obj: &mut Value, pointer: &str) -> bool {
    let Some(rest) = pointer.strip_prefix('/') else {
        return false;
    };
    let tokens: Vec<String> = rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = tokens.split_last() else {
        return false;
    };
    let mut cur = obj;
    for token in parents {
        cur = match cur {
            Value::Object(map) => match map.get_mut(token) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(items) => match token.parse::<usize>().ok().and_then(|i| items.get_mut(i))
            {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        Value::Object(map) => map.shift_remove(last).is_some(),
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// One step of a FieldsV1 path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathElement {
    /// `f:<name>`: a field of a map.
    Field(String),
    /// `k:{...}`: the element of an associative list whose key fields have these values.
    Key(Map<String, Value>),
    /// `v:<json>`: the element of a set-like list equal to this value.
    Value(Value),
    /// `i:<n>`: the element at this index of an atomic list.
    Index(usize),
}

/// A set of fields in FieldsV1 form: whether the node itself is owned (`.`), and the owned
/// paths below it. A node with no children and no `.` (`{}`) is owned whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    /// `.` was present: the node itself (its existence) is owned.
    pub owns_self: bool,
    /// Owned paths below this node.
    pub children: Vec<(PathElement, FieldSet)>,
}

impl FieldSet {
    /// Reads a FieldsV1 value; entries that do not parse are skipped.
    pub fn parse(fields: &Value) -> Self {
        let mut set = FieldSet::default();
        let Some(map) = fields.as_object() else {
            return set;
        };
        for (k, v) in map {
            if k == "." {
                set.owns_self = true;
                continue;
            }
            let element = if let Some(name) = k.strip_prefix("f:") {
                PathElement::Field(name.to_string())
            } else if let Some(json) = k.strip_prefix("k:") {
                match serde_json::from_str::<Value>(json) {
                    Ok(Value::Object(key)) => PathElement::Key(key),
                    _ => continue,
                }
            } else if let Some(json) = k.strip_prefix("v:") {
                match serde_json::from_str::<Value>(json) {
                    Ok(value) => PathElement::Value(value),
                    Err(_) => continue,
                }
            } else if let Some(index) = k.strip_prefix("i:") {
                match index.parse() {
                    Ok(i) => PathElement::Index(i),
                    Err(_) => continue,
                }
            } else {
                continue;
            };
            set.children.push((element, FieldSet::parse(v)));
        }
        set
    }

    /// Whether this node is owned as a whole (a leaf: `{}`).
    fn is_leaf(&self) -> bool {
        self.children.is_empty() && !self.owns_self
    }

    /// Removes the owned fields from `v` (see the module notes for list elements and maps).
    pub fn remove_from(&self, v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (element, child) in &self.children {
                    let PathElement::Field(name) = element else {
                        continue;
                    };
                    if child.is_leaf() {
                        map.shift_remove(name);
                    } else if let Some(sub) = map.get_mut(name) {
                        child.remove_from(sub);
                        if child.owns_self && is_empty_container(sub) {
                            map.shift_remove(name);
                        }
                    }
                }
            }
            Value::Array(items) => {
                // Indices refer to the list as it is now, so removals wait until the end.
                let mut drop = vec![false; items.len()];
                for (element, child) in &self.children {
                    let whole = child.owns_self || child.is_leaf();
                    for (i, item) in items.iter_mut().enumerate() {
                        let hit = match element {
                            PathElement::Index(n) => *n == i,
                            PathElement::Key(_) | PathElement::Value(_) => {
                                element_matches(element, item)
                            }
                            PathElement::Field(_) => false,
                        };
                        if !hit {
                            continue;
                        }
                        if whole {
                            drop[i] = true;
                        } else {
                            child.remove_from(item);
                        }
                    }
                }
                let mut flags = drop.into_iter();
                items.retain(|_| !flags.next().unwrap_or(false));
            }
            _ => {}
        }
    }
}

fn element_matches(element: &PathElement, item: &Value) -> bool {
    match element {
        PathElement::Key(key) => key.iter().all(|(k, want)| item.get(k) == Some(want)),
        PathElement::Value(want) => item == want,
        _ => false,
    }
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> ResourceKey {
        ResourceKey::new("apps", "Deployment", "shop", "web")
    }

    fn rule(pointers: &[&str], managers: &[&str]) -> IgnoreDifference {
        IgnoreDifference {
            group: "apps".into(),
            kind: "Deployment".into(),
            json_pointers: pointers.iter().map(|s| s.to_string()).collect(),
            managed_fields_managers: managers.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop",
                         "annotations": {"team": "a", "webhook/injected": "yes"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": "app", "image": image},
                {"name": "istio-proxy", "image": "istio/proxyv2"}]}}}})
    }

    #[test]
    fn json_pointer_removes_the_field_from_both_sides() {
        let mut desired = deployment(2, "nginx:1");
        let mut live = deployment(5, "nginx:1");
        let rules = [rule(&["/spec/replicas"], &[])];
        apply_ignore_differences(&rules, &key(), None, Some(&mut desired), Some(&mut live));
        assert!(desired["spec"].get("replicas").is_none());
        assert_eq!(desired, live);
    }

    #[test]
    fn pointers_unescape_and_index_arrays() {
        let mut v = deployment(1, "nginx:1");
        assert!(remove_pointer(
            &mut v,
            "/metadata/annotations/webhook~1injected"
        ));
        assert!(
            v["metadata"]["annotations"]
                .get("webhook/injected")
                .is_none()
        );
        assert!(remove_pointer(&mut v, "/spec/template/spec/containers/1"));
        assert_eq!(
            v["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert!(!remove_pointer(&mut v, "/spec/nothing/here"));
        assert!(!remove_pointer(&mut v, "/spec/template/spec/containers/9"));
        assert!(!remove_pointer(&mut v, ""));
    }

    #[test]
    fn rules_match_group_kind_name_and_namespace() {
        let mut r = rule(&[], &[]);
        assert!(rule_matches(&r, &key()));
        r.name = Some("other".into());
        assert!(!rule_matches(&r, &key()));
        r.name = Some("web".into());
        r.namespace = Some("shop".into());
        assert!(rule_matches(&r, &key()));
        r.group = "*".into();
        r.kind = "*".into();
        assert!(rule_matches(
            &r,
            &ResourceKey::new("", "Service", "shop", "web")
        ));
        r.kind = "Deploy*".into();
        assert!(!rule_matches(
            &r,
            &ResourceKey::new("", "Service", "shop", "web")
        ));
        assert!(wildcard_match("a*c?e", "abbbcde"));
        assert!(!wildcard_match("a*c?e", "abbbce"));
    }

    #[test]
    fn managers_fields_are_removed_from_both_sides() {
        let managed = json!([
            {"manager": "rekon", "operation": "Apply", "fieldsType": "FieldsV1",
             "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "kube-controller-manager", "operation": "Update",
             "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "istio-webhook", "operation": "Update", "fieldsV1": {
                "f:metadata": {"f:annotations": {".": {}, "f:webhook/injected": {}}},
                "f:spec": {"f:template": {"f:spec": {"f:containers": {
                    "k:{\"name\":\"istio-proxy\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}}}
        ]);
        let mut desired = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "annotations": {"team": "a"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "app", "image": "nginx:1"}]}}}});
        let mut live = deployment(7, "nginx:1");
        let rules = [rule(&[], &["kube-controller-manager", "istio-webhook"])];
        apply_ignore_differences(
            &rules,
            &key(),
            Some(&managed),
            Some(&mut desired),
            Some(&mut live),
        );
        assert!(live["spec"].get("replicas").is_none());
        assert!(desired["spec"].get("replicas").is_none());
        // The webhook's sidecar goes whole; the team annotation, set by another manager, stays.
        assert_eq!(desired, live);
        assert_eq!(live["metadata"]["annotations"], json!({"team": "a"}));
    }

    #[test]
    fn a_changed_field_not_owned_by_the_manager_still_differs() {
        let managed = json!([{"manager": "hpa", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]);
        let mut desired = deployment(2, "nginx:1");
        let mut live = deployment(9, "nginx:2");
        let rules = [rule(&[], &["hpa"])];
        apply_ignore_differences(
            &rules,
            &key(),
            Some(&managed),
            Some(&mut desired),
            Some(&mut live),
        );
        assert_ne!(desired, live);
        assert_eq!(
            live["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:2"
        );
    }

    #[test]
    fn fields_v1_parses_every_element_kind_and_skips_garbage() {
        let set = FieldSet::parse(&json!({
            ".": {}, "f:a": {}, "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}},
            "v:\"x\"": {}, "i:2": {}, "k:not json": {}, "zzz": {}}));
        assert!(set.owns_self);
        assert_eq!(set.children.len(), 4);
        let mut ports = json!([{"port": 80, "protocol": "TCP"}, {"port": 80, "protocol": "UDP"}]);
        let key_set = FieldSet::parse(&json!({"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}}}));
        key_set.remove_from(&mut ports);
        assert_eq!(ports, json!([{"port": 80, "protocol": "UDP"}]));
        let mut list = json!(["a", "x", "b", "c"]);
        FieldSet::parse(&json!({"v:\"x\"": {}, "i:3": {}})).remove_from(&mut list);
        assert_eq!(list, json!(["a", "b"]));
    }
}
