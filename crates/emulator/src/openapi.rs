//! A minimal OpenAPI v3: one document per group version whose operations carry
//! `x-kubernetes-group-version-kind` and the `fieldValidation` parameter. That is what
//! kubectl (≥ 1.27) looks for to send `fieldValidation=Strict` instead of validating on the
//! client with schemas, so `kubectl apply --server-side` works with default validation.
//! No schemas are served. `/openapi/v2` is an empty document, which is what kubectl's
//! client-side validation of a `List` (a kind no v3 document names) falls back to: with no
//! definitions it validates nothing, where a 404 failed `kubectl create -f` of any List.

use bytes::Bytes;
use http::Response;
use serde_json::{Map, Value, json};

use super::kinds::{Registry, ResourceType};
use super::render::{self, ResponseBody};

/// `/openapi/v2`: an empty document, as protobuf (an empty message) when asked for it, as
/// kubectl does, else as JSON.
pub fn v2(accept: Option<&str>) -> Response<ResponseBody> {
    if accept.is_some_and(|a| a.contains("protobuf")) {
        return render::bytes_response(
            200,
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
            Bytes::new(),
        );
    }
    let doc = json!({"swagger": "2.0",
        "info": {"title": "Kubernetes", "version": super::VERSION_GIT},
        "paths": {}, "definitions": {}});
    render::json_response(200, &doc)
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// A stable hash of a document (FNV-1a 64), so kubectl's cache by hash stays valid.
fn stable_hash(doc: &Value) -> String {
    let bytes = serde_json::to_vec(doc).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016X}")
}

/// `/openapi/v3`: the list of group-version documents with their hashed URLs.
pub fn root(registry: &Registry) -> Value {
    let mut paths = Map::new();
    for g in registry.groups() {
        for (v, _) in &g.versions {
            if let Some(doc) = document(registry, &g.name, v) {
                let p = gv_path(&g.name, v);
                let url = format!("/openapi/v3/{p}?hash={}", stable_hash(&doc));
                paths.insert(p, json!({"serverRelativeURL": url}));
            }
        }
    }
    json!({"paths": paths})
}

fn param(name: &str, location: &str) -> Value {
    json!({"name": name, "in": location, "schema": {"type": "string", "uniqueItems": true}})
}

fn operation(rt: &ResourceType, action: &str, write: bool) -> Value {
    let mut params = vec![param("dryRun", "query"), param("fieldManager", "query")];
    if write {
        params.push(param("fieldValidation", "query"));
    }
    if action == "patch" {
        params.push(json!({"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}}));
    }
    json!({
        "operationId": format!("{action}{}", rt.kind),
        "parameters": params,
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
    })
}

/// The document of one group version, `None` when it is not served.
pub fn document(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types: Vec<_> = registry
        .types()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .collect();
    if types.is_empty() {
        return None;
    }
    let base = format!("/{}", gv_path(group, version));
    let mut paths = Map::new();
    for t in types {
        let collection = if t.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}", t.resource)
        } else {
            format!("{base}/{}", t.resource)
        };
        paths.insert(
            collection.clone(),
            json!({"get": operation(t, "list", false), "post": operation(t, "post", true),
                "delete": operation(t, "deletecollection", false)}),
        );
        let item = format!("{collection}/{{name}}");
        let item_ops = json!({"get": operation(t, "get", false), "put": operation(t, "put", true),
            "patch": operation(t, "patch", true), "delete": operation(t, "delete", false)});
        paths.insert(item.clone(), item_ops.clone());
        if t.status {
            paths.insert(format!("{item}/status"), item_ops);
        }
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": super::VERSION_GIT},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_links_every_group_version_with_a_stable_hash() {
        let r = Registry::builtin();
        let a = root(&r);
        let b = root(&r);
        assert_eq!(a, b);
        let url = a["paths"]["apis/apps/v1"]["serverRelativeURL"]
            .as_str()
            .unwrap();
        assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="));
        assert!(a["paths"]["api/v1"].is_object());
    }

    #[test]
    fn patch_operations_declare_field_validation() {
        let doc = document(&Registry::builtin(), "", "v1").unwrap();
        let op = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"];
        assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], "ConfigMap");
        assert!(
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        assert!(doc["paths"]["/api/v1/namespaces/{name}"].is_object());
        assert!(document(&Registry::builtin(), "nope", "v1").is_none());
    }
}
