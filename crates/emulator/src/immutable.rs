//! Fields the real API server refuses to change after creation, with its wording: the
//! errors that make GitOps tools fall back to replace or delete-and-recreate.

use serde_json::{Map, Value};

use super::kinds::ResourceType;
use super::status::{ApiError, Cause};

fn get<'a>(o: &'a Value, ptr: &str) -> Option<&'a Value> {
    o.pointer(ptr)
}

fn invalid(field: &str, value: Option<&Value>, why: &str) -> Cause {
    let shown = value.map_or_else(|| "null".to_string(), Value::to_string);
    Cause::new(
        "FieldValueInvalid",
        field,
        format!("Invalid value: {shown}: {why}"),
    )
}

fn forbidden(field: &str, why: &str) -> Cause {
    Cause::new("FieldValueForbidden", field, format!("Forbidden: {why}"))
}

/// `spec` without the listed keys.
fn spec_without(o: &Value, mutable: &[&str]) -> Map<String, Value> {
    let mut m = o
        .get("spec")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for k in mutable {
        m.remove(*k);
    }
    m
}

fn pod_spec_masked(o: &Value) -> Value {
    let mut spec = o.get("spec").cloned().unwrap_or(Value::Null);
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                c.remove("image");
            }
        }
    }
    if let Some(s) = spec.as_object_mut() {
        for k in [
            "activeDeadlineSeconds",
            "tolerations",
            "terminationGracePeriodSeconds",
        ] {
            s.remove(k);
        }
    }
    spec
}

/// An object being deleted takes no new finalizers (it may lose some).
pub fn no_new_finalizers(rt: &ResourceType, old: &Value, new: &Value) -> Result<(), ApiError> {
    if get(old, "/metadata/deletionTimestamp").is_none() {
        return Ok(());
    }
    let list = |o: &Value| -> Vec<String> {
        get(o, "/metadata/finalizers")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = list(old);
    let added: Vec<String> = list(new)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    if added.is_empty() {
        return Ok(());
    }
    // Go's %#v of a []string.
    let quoted: Vec<String> = added.iter().map(|f| format!("{f:?}")).collect();
    let why = format!(
        "no new finalizers can be added if the object is being deleted, found new finalizers []string{{{}}}",
        quoted.join(", ")
    );
    let name = get(new, "/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    Err(ApiError::invalid(
        rt,
        name,
        vec![forbidden("metadata.finalizers", &why)],
    ))
}

/// Checks an update of `old` into `new` against the kind's immutable fields.
pub fn check(rt: &ResourceType, old: &Value, new: &Value) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    let changed = |p: &str| get(old, p) != get(new, p);
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") if changed("/spec/selector") => {
            causes.push(invalid(
                "spec.selector",
                get(new, "/spec/selector"),
                "field is immutable",
            ));
        }
        ("apps", "StatefulSet") => {
            let mutable = [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
            ];
            if spec_without(old, &mutable) != spec_without(new, &mutable) {
                causes.push(forbidden(
                    "spec",
                    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                ));
            }
        }
        ("batch", "Job") => {
            if changed("/spec/selector") {
                causes.push(invalid(
                    "spec.selector",
                    get(new, "/spec/selector"),
                    "field is immutable",
                ));
            }
            if changed("/spec/template") {
                causes.push(invalid(
                    "spec.template",
                    get(new, "/spec/template"),
                    "field is immutable",
                ));
            }
            if changed("/spec/completionMode") {
                causes.push(invalid(
                    "spec.completionMode",
                    get(new, "/spec/completionMode"),
                    "field is immutable",
                ));
            }
        }
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding")
            if changed("/roleRef") =>
        {
            causes.push(invalid(
                "roleRef",
                get(new, "/roleRef"),
                "cannot change roleRef",
            ));
        }
        ("", "ConfigMap" | "Secret") => {
            if get(old, "/immutable") == Some(&Value::Bool(true)) {
                let why = "field is immutable when `immutable` is set";
                for f in ["data", "binaryData", "stringData"] {
                    if changed(&format!("/{f}")) {
                        causes.push(forbidden(f, why));
                    }
                }
                if changed("/immutable") {
                    causes.push(forbidden("immutable", why));
                }
            }
            if rt.kind == "Secret" && changed("/type") && get(old, "/type").is_some() {
                causes.push(invalid("type", get(new, "/type"), "field is immutable"));
            }
        }
        ("", "PersistentVolumeClaim") => {
            let mut old_spec = spec_without(old, &["volumeAttributesClassName", "volumeName"]);
            let mut new_spec = spec_without(new, &["volumeAttributesClassName", "volumeName"]);
            for s in [&mut old_spec, &mut new_spec] {
                if let Some(r) = s.get_mut("resources").and_then(Value::as_object_mut) {
                    r.remove("requests");
                }
            }
            if old_spec != new_spec {
                causes.push(forbidden(
                    "spec",
                    "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims",
                ));
            }
        }
        ("", "Pod") => {
            // spec.nodeName is set once, by binding; simulated schedulers write in process.
            let mut a = pod_spec_masked(old);
            let b = pod_spec_masked(new);
            if get(old, "/spec/nodeName").is_none()
                && let (Some(ao), Some(n)) = (a.as_object_mut(), get(new, "/spec/nodeName"))
            {
                ao.insert("nodeName".into(), n.clone());
            }
            if a != b {
                causes.push(forbidden(
                    "spec",
                    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
                ));
            }
        }
        _ => {}
    }
    if causes.is_empty() {
        return Ok(());
    }
    let name = new
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    Err(ApiError::invalid(rt, name, causes))
}

/// The most bytes all annotations of an object may take.
pub const ANNOTATIONS_LIMIT: usize = 256 * 1024;

/// Checks the total size of annotations (what client-side apply of a big CRD trips on).
pub fn annotations_size(o: &Value) -> Option<Cause> {
    let total: usize = o
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)?
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    (total > ANNOTATIONS_LIMIT).then(|| {
        Cause::new(
            "FieldValueTooLong",
            "metadata.annotations",
            format!("Too long: may not be more than {ANNOTATIONS_LIMIT} bytes"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Registry;
    use serde_json::json;

    fn rt(group: &str, resource: &str) -> ResourceType {
        (**Registry::builtin().get(group, "v1", resource).unwrap()).clone()
    }

    #[test]
    fn deployment_selectors_and_role_refs_are_fixed() {
        let d = rt("apps", "deployments");
        let old = json!({"metadata": {"name": "web"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "a"}}}});
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(3);
        assert!(check(&d, &old, &new).is_ok());
        new["spec"]["selector"]["matchLabels"]["app"] = json!("b");
        let e = check(&d, &old, &new).unwrap_err();
        assert_eq!(e.code, 422);
        assert!(
            e.message
                .starts_with("Deployment.apps \"web\" is invalid: spec.selector: Invalid value:")
                || e.message
                    .starts_with("Deployment \"web\" is invalid: spec.selector"),
            "{}",
            e.message
        );
        assert!(e.message.ends_with("field is immutable"));
        let rb = rt("rbac.authorization.k8s.io", "rolebindings");
        let old = json!({"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "a"}});
        let new = json!({"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "c"}});
        assert!(
            check(&rb, &old, &new)
                .unwrap_err()
                .message
                .contains("cannot change roleRef")
        );
    }

    #[test]
    fn immutable_config_maps_pods_and_claims() {
        let cm = rt("", "configmaps");
        let old = json!({"metadata": {"name": "c"}, "immutable": true, "data": {"a": "1"}});
        let mut new = old.clone();
        new["data"]["a"] = json!("2");
        assert!(check(&cm, &old, &new).is_err());
        let mutable = json!({"metadata": {"name": "c"}, "data": {"a": "1"}});
        assert!(check(&cm, &mutable, &new).is_ok());
        let pod = rt("", "pods");
        let old = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "x:1"}]}});
        let mut new = old.clone();
        new["spec"]["containers"][0]["image"] = json!("x:2");
        new["spec"]["nodeName"] = json!("node-1");
        assert!(
            check(&pod, &old, &new).is_ok(),
            "image changes and the first binding are allowed"
        );
        new["spec"]["containers"][0]["name"] = json!("b");
        assert!(check(&pod, &old, &new).is_err());
        let pvc = rt("", "persistentvolumeclaims");
        let old = json!({"metadata": {"name": "d"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
        let mut new = old.clone();
        new["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        assert!(check(&pvc, &old, &new).is_ok());
        new["spec"]["accessModes"] = json!(["ReadWriteMany"]);
        assert!(check(&pvc, &old, &new).is_err());
    }

    #[test]
    fn annotation_sizes() {
        let small = json!({"metadata": {"annotations": {"a": "b"}}});
        assert!(annotations_size(&small).is_none());
        let big = json!({"metadata": {"annotations": {"a": "x".repeat(ANNOTATIONS_LIMIT)}}});
        assert_eq!(
            annotations_size(&big).unwrap().field,
            "metadata.annotations"
        );
    }
}
