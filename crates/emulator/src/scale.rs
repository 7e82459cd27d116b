//! The `/scale` subresource: an `autoscaling/v1` `Scale` view of the replicas of a
//! Deployment, ReplicaSet, StatefulSet or custom resource, and writes through it.

use serde_json::{Value, json};

use super::kinds::ResourceType;
use super::status::{ApiError, Cause};
use super::store::{Store, Stored};
use super::write::{WriteOptions, Written};

fn pointer(dotted: &str) -> String {
    dotted
        .trim_start_matches('.')
        .split('.')
        .fold(String::new(), |mut p, seg| {
            p.push('/');
            p.push_str(seg);
            p
        })
}

/// The `Scale` of an object.
pub fn scale_view(rt: &ResourceType, obj: &Stored) -> Value {
    let Some(paths) = &rt.scale else {
        return Value::Null;
    };
    let o = &obj.object;
    let meta = o.get("metadata").cloned().unwrap_or(json!({}));
    let spec = o
        .pointer(&pointer(&paths.spec_replicas))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let status = o
        .pointer(&pointer(&paths.status_replicas))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let selector = if rt.custom {
        paths
            .label_selector
            .as_deref()
            .and_then(|p| o.pointer(&pointer(p)))
            .and_then(Value::as_str)
            .map(String::from)
    } else {
        o.pointer("/spec/selector")
            .and_then(super::selectors::LabelSelector::from_object)
            .map(|s| s.to_string())
    };
    let mut status_obj = json!({"replicas": status});
    if let Some(s) = selector {
        status_obj["selector"] = json!(s);
    }
    // `spec.replicas` is omitted when zero, as Go's omitempty does.
    let spec = if spec == 0 {
        json!({})
    } else {
        json!({"replicas": spec})
    };
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace"), "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"), "creationTimestamp": meta.get("creationTimestamp")},
        "spec": spec, "status": status_obj})
}

impl Store {
    /// Writes through `/scale`: `change` turns the current Scale into the wanted one, whose
    /// `spec.replicas` goes to the object. A resourceVersion in the new Scale must match.
    pub fn write_scale(
        &self,
        rt: &ResourceType,
        ns: &str,
        name: &str,
        opts: &WriteOptions,
        change: impl Fn(&Value) -> Result<Value, ApiError>,
    ) -> Result<Written, ApiError> {
        let Some(paths) = rt.scale.clone() else {
            return Err(ApiError::no_route());
        };
        self.run_write(rt, ns, name, opts.dry_run, |current| {
            let current =
                current.ok_or_else(|| ApiError::not_found(&rt.group, &rt.resource, name))?;
            let wanted = change(&scale_view(rt, current))?;
            let rv = wanted
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !rv.is_empty() && rv != current.rv.to_string() {
                return Err(ApiError::conflict(&rt.group, &rt.resource, name));
            }
            let named = wanted
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or(name);
            if named != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({named}) does not match the name on the URL ({name})"
                )));
            }
            // A Scale without replicas asks for zero (the field is omitted when zero).
            let replicas = wanted
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if replicas < 0 {
                let cause = Cause::new(
                    "FieldValueInvalid",
                    "spec.replicas",
                    format!("Invalid value: {replicas}: must be greater than or equal to 0"),
                );
                return Err(ApiError::invalid_kind(
                    "autoscaling",
                    "Scale",
                    name,
                    vec![cause],
                ));
            }
            let mut new = current.object.clone();
            set_path(&mut new, &paths.spec_replicas, json!(replicas));
            self.finish_update(
                rt,
                current,
                new,
                Some("scale"),
                opts,
                super::write::Checks::ALL,
            )
        })
    }
}

fn set_path(obj: &mut Value, dotted: &str, value: Value) {
    let segs: Vec<&str> = dotted.trim_start_matches('.').split('.').collect();
    let mut cur = obj;
    for (i, seg) in segs.iter().enumerate() {
        if !cur.is_object() {
            *cur = json!({});
        }
        if i + 1 == segs.len() {
            cur[*seg] = value;
            return;
        }
        cur = &mut cur[*seg];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Registry;

    #[test]
    fn scale_view_of_a_deployment() {
        let r = Registry::builtin();
        let rt = r.get("apps", "v1", "deployments").unwrap();
        let d = Stored::new(
            json!({"metadata": {"name": "d", "namespace": "n"}, "spec": {"replicas": 3,
                "selector": {"matchLabels": {"app": "web"}}}, "status": {"replicas": 2}}),
            7,
        );
        let s = scale_view(rt, &d);
        assert_eq!(s["spec"]["replicas"], 3);
        assert_eq!(s["status"]["replicas"], 2);
        assert_eq!(s["status"]["selector"], "app=web");
        assert_eq!(s["metadata"]["resourceVersion"], "7");
        let mut o = json!({});
        set_path(&mut o, ".spec.replicas", json!(5));
        assert_eq!(o, json!({"spec": {"replicas": 5}}));
    }
}
