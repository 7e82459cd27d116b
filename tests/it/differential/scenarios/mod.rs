//! The scenarios, by topic, and the objects they share. Each runs in its own namespace
//! (`Run::ns`); cluster-scoped objects carry the scenario's name.

mod crd;
mod crud;
mod discovery;
mod errors;
mod gc;
mod kubectl;
mod lists;
mod patch;
mod ssa;
mod subresources;
mod watch;

use serde_json::{Value, json};

use super::runner::Scenario;

/// Builds the scenario table: `name => module::function`.
macro_rules! scenarios {
    ($($name:literal => $f:path),* $(,)?) => {
        &[$(Scenario { name: $name, script: |r| Box::pin($f(r)) }),*]
    };
}

/// Raw HTTP scenarios.
pub const HTTP: &[Scenario] = scenarios![
    "discovery" => discovery::discovery,
    "version" => discovery::version,
    "configmap-crud" => crud::configmaps,
    "generate-name" => crud::generate_name,
    "namespace-lifecycle" => crud::namespace,
    "deployment" => crud::deployments,
    "ssa-managed-fields" => ssa::managed_fields,
    "ssa-conflicts" => ssa::conflicts,
    "ssa-lists" => ssa::lists,
    "ssa-after-update" => ssa::after_update,
    "dry-run" => patch::dry_run,
    "patch-json" => patch::json_patch,
    "patch-merge" => patch::merge_patch,
    "patch-strategic" => patch::strategic,
    "watch-resume" => watch::resume,
    "watch-bookmarks" => watch::bookmarks,
    "watch-initial-events" => watch::initial_events,
    "watch-selector" => watch::selector,
    "watch-live" => watch::live,
    "watch-gone" => watch::gone,
    "label-selectors" => lists::label_selectors,
    "field-selectors" => lists::field_selectors,
    "paging" => lists::paging,
    "tables" => lists::tables,
    "finalizers" => gc::finalizers,
    "gc-background" => gc::background,
    "gc-foreground" => gc::foreground,
    "gc-orphan" => gc::orphan,
    "crd-lifecycle" => crd::lifecycle,
    "crd-schema" => crd::schema,
    "crd-subresources" => crd::subresources,
    "scale" => subresources::scale,
    "status" => subresources::status,
    "errors-not-found" => errors::not_found,
    "errors-conflict" => errors::conflict,
    "errors-invalid" => errors::invalid,
    "errors-bad-request" => errors::bad_request,
    "errors-immutable" => errors::immutable,
];

/// kubectl scenarios.
pub const KUBECTL: &[Scenario] = scenarios![
    "kubectl-apply" => kubectl::apply,
    "kubectl-server-side" => kubectl::server_side,
    "kubectl-get" => kubectl::get,
    "kubectl-edits" => kubectl::edits,
    "kubectl-dry-run" => kubectl::dry_run,
    "kubectl-delete" => kubectl::delete,
    "kubectl-api-resources" => kubectl::api_resources,
];

/// A ConfigMap.
pub fn configmap(name: &str, labels: Value, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels}, "data": data})
}

/// The path of a namespaced collection of the core group, or of one of its objects.
pub fn core(ns: &str, resource: &str, name: &str) -> String {
    let base = format!("/api/v1/namespaces/{ns}/{resource}");
    if name.is_empty() {
        base
    } else {
        format!("{base}/{name}")
    }
}

/// The path of a namespaced collection or object of `group/version`.
pub fn group(gv: &str, ns: &str, resource: &str, name: &str) -> String {
    let base = format!("/apis/{gv}/namespaces/{ns}/{resource}");
    if name.is_empty() {
        base
    } else {
        format!("{base}/{name}")
    }
}

/// A Deployment of `replicas` pause containers, selected by `app: name`.
pub fn deployment(name: &str, replicas: u32) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10"}]}}}})
}

/// A ClusterIP Service with the given ports (`[{"port": 80}]`).
pub fn service(name: &str, ports: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": ports}})
}

/// Paths of a Service's cluster IPs, which each server allocates its own way.
pub const CLUSTER_IPS: [&str; 2] = ["/body/spec/clusterIP", "/body/spec/clusterIPs"];

/// A namespaced CRD `PLURAL.GROUP` of kind `kind`, version v1, with an open schema (or
/// `schema`), and the given subresources.
pub fn crd(
    group: &str,
    kind: &str,
    plural: &str,
    schema: Option<Value>,
    subresources: Value,
) -> Value {
    let schema = schema
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": kind.to_lowercase(),
                "listKind": format!("{kind}List")},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": schema}, "subresources": subresources}]}})
}

/// Whether a CRD's answer says it is Established.
pub fn established(status: u16, crd: &Value) -> bool {
    status == 200
        && crd["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
        })
}

/// The resourceVersion of an object in an answer.
pub fn rv(object: &Value) -> String {
    object["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The uid of an object in an answer.
pub fn uid(object: &Value) -> String {
    object["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
