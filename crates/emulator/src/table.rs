//! `Table` responses (meta.k8s.io/v1): the built-in printers (`printers.rs`) for the common
//! kinds, the CRD's `additionalPrinterColumns` for custom resources, and
//! `PartialObjectMetadata` conversions.

use serde_json::{Value, json};

use super::jsonpath;
use super::kinds::ResourceType;
use super::printers::{age, builtin_cells, builtin_columns};

/// Which object each row carries (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncludeObject {
    /// No object.
    None,
    /// PartialObjectMetadata (the default).
    #[default]
    Metadata,
    /// The whole object.
    Object,
}

impl IncludeObject {
    /// Parses the `includeObject` query parameter.
    pub fn parse(v: Option<&str>) -> Self {
        match v {
            Some("None") => Self::None,
            Some("Object") => Self::Object,
            _ => Self::Metadata,
        }
    }
}

fn column(name: &str, ty: &str, format: &str, priority: i64, description: &str) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": description, "priority": priority})
}

/// The column definitions of a resource's table.
pub fn columns(rt: &ResourceType) -> Vec<Value> {
    let name_col = column(
        "Name",
        "string",
        "name",
        0,
        "Name must be unique within a namespace. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    );
    let mut cols = vec![name_col];
    if rt.custom {
        for c in &rt.printer_columns {
            cols.push(column(
                &c.name,
                &c.type_,
                &c.format,
                c.priority,
                &c.description,
            ));
        }
    } else if let Some(cs) = builtin_columns(rt) {
        for (name, ty, priority) in cs {
            cols.push(column(name, ty, "", *priority, ""));
        }
    } else {
        cols.push(column(
            "Created At",
            "date",
            "",
            0,
            "CreationTimestamp is a timestamp representing the server time when this object was created.",
        ));
    }
    cols
}

/// The cells of one row.
pub fn cells(rt: &ResourceType, o: &Value) -> Vec<Value> {
    let name = o
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut row = vec![json!(name)];
    if rt.custom {
        for c in &rt.printer_columns {
            let v = jsonpath::evaluate(o, &c.json_path);
            row.push(match (c.type_.as_str(), v) {
                ("date", Some(Value::String(t))) => age(Some(&Value::String(t))),
                (_, Some(v)) => v,
                (_, None) => Value::Null,
            });
        }
    } else if builtin_columns(rt).is_some() {
        row.extend(builtin_cells(rt, o));
    } else {
        row.push(
            o.pointer("/metadata/creationTimestamp")
                .cloned()
                .unwrap_or(Value::Null),
        );
    }
    row
}

/// An object as `PartialObjectMetadata`.
pub fn partial_metadata(o: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
        "metadata": o.get("metadata").cloned().unwrap_or_else(|| json!({}))})
}

/// One table row.
pub fn row(rt: &ResourceType, o: &Value, include: IncludeObject) -> Value {
    let mut r = json!({"cells": cells(rt, o)});
    match include {
        IncludeObject::None => r["object"] = Value::Null,
        IncludeObject::Metadata => r["object"] = partial_metadata(o),
        IncludeObject::Object => r["object"] = o.clone(),
    }
    r
}

/// A whole table; `resource_version` goes into its list metadata.
pub fn table<'a>(
    rt: &ResourceType,
    objects: impl IntoIterator<Item = &'a Value>,
    resource_version: u64,
    include: IncludeObject,
    with_columns: bool,
) -> Value {
    let rows: Vec<Value> = objects.into_iter().map(|o| row(rt, o, include)).collect();
    let cols = if with_columns {
        columns(rt)
    } else {
        Vec::new()
    };
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": cols, "rows": rows})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::Registry;

    #[test]
    fn pod_rows() {
        let r = Registry::builtin();
        let pods = r.get("", "v1", "pods").unwrap();
        let pod = json!({"metadata": {"name": "p", "creationTimestamp": crate::clock::now_rfc3339()},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "node-1"},
            "status": {"phase": "Running", "podIP": "10.244.0.5", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 1, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}});
        let c = cells(pods, &pod);
        assert_eq!(c[0], "p");
        assert_eq!(c[1], "1/2");
        assert_eq!(c[2], "CrashLoopBackOff");
        assert_eq!(c[3], "3");
        assert!(c[4].as_str().unwrap().ends_with('s'));
        assert_eq!(c[6], "node-1");
        assert_eq!(columns(pods).len(), c.len());
    }

    #[test]
    fn every_builtin_row_matches_its_columns() {
        let r = Registry::builtin();
        let o = json!({"metadata": {"name": "x"}});
        for t in r.types() {
            assert_eq!(columns(t).len(), cells(t, &o).len(), "{}", t.kind);
        }
    }

    #[test]
    fn service_and_deployment_rows() {
        let r = Registry::builtin();
        let svc = json!({"metadata": {"name": "s"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.5",
            "ports": [{"port": 80, "nodePort": 30001, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}],
            "selector": {"app": "web"}}});
        let c = cells(r.get("", "v1", "services").unwrap(), &svc);
        assert_eq!(
            c[1..5],
            [
                json!("NodePort"),
                json!("10.96.0.5"),
                json!("<none>"),
                json!("80:30001/TCP,53/UDP")
            ]
        );
        assert_eq!(c[6], "app=web");
        let d = json!({"metadata": {"name": "d"}, "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        let c = cells(r.get("apps", "v1", "deployments").unwrap(), &d);
        assert_eq!(c[1], "2/3");
        assert_eq!(c[5], "web");
        assert_eq!(c[6], "nginx:1");
        assert_eq!(c[7], "app=web");
    }
}
