//! kubectl (built from k8s.io/kubectl at the control plane's release) against both servers:
//! client-side and server-side apply, get in tables and JSON, label, annotate, patch and
//! scale, dry runs, delete, api-resources.

use serde_json::json;

use super::{configmap, deployment};
use crate::differential::runner::Run;

fn manifest(value: serde_json::Value) -> String {
    serde_json::to_string_pretty(&value).unwrap()
}

/// `kubectl apply` (client-side): created, unchanged, configured, and the object with its
/// last-applied-configuration.
pub async fn apply(r: &mut Run) {
    let ns = r.ns.clone();
    let first = manifest(configmap("app", json!({"a": "1"}), json!({"k": "1"})));
    let second = manifest(configmap("app", json!({"a": "1"}), json!({"k": "2"})));
    let args = ["apply", "-n", &ns, "-f", "-"];
    r.kubectl("apply", &args, Some(&first)).await;
    r.kubectl("apply again", &args, Some(&first)).await;
    r.kubectl("apply a change", &args, Some(&second)).await;
    r.kubectl(
        "get",
        &["get", "-n", &ns, "configmap", "app", "-o", "json"],
        None,
    )
    .await;
    let bad = manifest(configmap("Bad_Name", json!({}), json!({})));
    r.kubectl("apply an invalid object", &args, Some(&bad))
        .await;
}

/// `kubectl apply --server-side`: created, a conflict with another field manager, forced.
pub async fn server_side(r: &mut Run) {
    let ns = r.ns.clone();
    let first = manifest(configmap("ssa", json!({}), json!({"k": "1"})));
    let other = manifest(configmap("ssa", json!({}), json!({"k": "2"})));
    let args = ["apply", "--server-side", "-n", &ns, "-f", "-"];
    r.kubectl("apply", &args, Some(&first)).await;
    let mut theirs = args.to_vec();
    theirs.push("--field-manager=other");
    r.kubectl("conflict", &theirs, Some(&other)).await;
    theirs.push("--force-conflicts");
    r.kubectl("forced", &theirs, Some(&other)).await;
    r.kubectl(
        "managed fields",
        &[
            "get",
            "-n",
            &ns,
            "configmap",
            "ssa",
            "-o",
            "json",
            "--show-managed-fields",
        ],
        None,
    )
    .await;
}

/// `kubectl get`: tables of ConfigMaps and Deployments, by selector, wide, custom columns,
/// JSON of one object, and a missing object.
pub async fn get(r: &mut Run) {
    let ns = r.ns.clone();
    let mut d = deployment("d1", 0);
    d["spec"]["paused"] = json!(true);
    let objects = json!({"apiVersion": "v1", "kind": "List", "items": [
        configmap("c1", json!({"app": "x"}), json!({"a": "1"})),
        configmap("c2", json!({"app": "y"}), json!({"a": "1", "b": "2"})),
        d]});
    r.kubectl(
        "create",
        &["create", "-n", &ns, "-f", "-"],
        Some(&manifest(objects)),
    )
    .await;
    r.kubectl(
        "configmaps by label",
        &["get", "-n", &ns, "cm", "-l", "app"],
        None,
    )
    .await;
    r.kubectl(
        "configmaps with labels",
        &["get", "-n", &ns, "cm", "-l", "app", "--show-labels"],
        None,
    )
    .await;
    r.kubectl(
        "custom columns",
        &[
            "get",
            "-n",
            &ns,
            "cm",
            "-l",
            "app",
            "-o",
            "custom-columns=NAME:.metadata.name,A:.data.a",
        ],
        None,
    )
    .await;
    r.kubectl(
        "deployments wide",
        &["get", "-n", &ns, "deploy", "-o", "wide"],
        None,
    )
    .await;
    r.kubectl(
        "names",
        &["get", "-n", &ns, "cm,deploy", "-l", "app", "-o", "name"],
        None,
    )
    .await;
    r.kubectl("missing", &["get", "-n", &ns, "cm", "nope"], None)
        .await;
    r.kubectl("unknown type", &["get", "-n", &ns, "widgets"], None)
        .await;
    r.kubectl(
        "jsonpath",
        &["get", "-n", &ns, "cm", "c2", "-o", "jsonpath={.data.b}"],
        None,
    )
    .await;
}

/// `kubectl label`, `annotate`, `patch` and `scale`.
pub async fn edits(r: &mut Run) {
    let ns = r.ns.clone();
    let mut d = deployment("web", 0);
    d["spec"]["paused"] = json!(true);
    let objects = json!({"apiVersion": "v1", "kind": "List",
        "items": [configmap("c", json!({}), json!({"a": "1"})), d]});
    r.kubectl(
        "create",
        &["create", "-n", &ns, "-f", "-"],
        Some(&manifest(objects)),
    )
    .await;
    r.kubectl("label", &["label", "-n", &ns, "cm", "c", "tier=web"], None)
        .await;
    r.kubectl(
        "label again",
        &["label", "-n", &ns, "cm", "c", "tier=db"],
        None,
    )
    .await;
    r.kubectl(
        "annotate",
        &["annotate", "-n", &ns, "cm", "c", "note=hello"],
        None,
    )
    .await;
    r.kubectl(
        "merge patch",
        &[
            "patch",
            "-n",
            &ns,
            "cm",
            "c",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"b":"2"}}"#,
        ],
        None,
    )
    .await;
    r.kubectl(
        "json patch",
        &[
            "patch",
            "-n",
            &ns,
            "cm",
            "c",
            "--type",
            "json",
            "-p",
            r#"[{"op":"remove","path":"/data/a"}]"#,
        ],
        None,
    )
    .await;
    r.kubectl(
        "patch with no change",
        &[
            "patch",
            "-n",
            &ns,
            "cm",
            "c",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"b":"2"}}"#,
        ],
        None,
    )
    .await;
    r.kubectl(
        "scale",
        &["scale", "-n", &ns, "deploy", "web", "--replicas=2"],
        None,
    )
    .await;
    r.kubectl("get", &["get", "-n", &ns, "cm", "c", "-o", "json"], None)
        .await;
}

/// `--dry-run=server` of create, apply and delete: printed as done, nothing changed.
pub async fn dry_run(r: &mut Run) {
    let ns = r.ns.clone();
    r.kubectl(
        "create",
        &[
            "create",
            "-n",
            &ns,
            "configmap",
            "dry",
            "--from-literal=k=v",
            "--dry-run=server",
            "-o",
            "json",
        ],
        None,
    )
    .await;
    r.kubectl("get", &["get", "-n", &ns, "cm", "dry"], None)
        .await;
    r.kubectl(
        "create for real",
        &[
            "create",
            "-n",
            &ns,
            "configmap",
            "dry",
            "--from-literal=k=v",
        ],
        None,
    )
    .await;
    let changed = manifest(configmap("dry", json!({}), json!({"k": "changed"})));
    r.kubectl(
        "server-side apply",
        &[
            "apply",
            "--server-side",
            "--dry-run=server",
            "-n",
            &ns,
            "-f",
            "-",
            "-o",
            "json",
        ],
        Some(&changed),
    )
    .await;
    r.kubectl(
        "delete",
        &["delete", "-n", &ns, "cm", "dry", "--dry-run=server"],
        None,
    )
    .await;
    r.kubectl(
        "get after",
        &["get", "-n", &ns, "cm", "dry", "-o", "json"],
        None,
    )
    .await;
}

/// `kubectl delete`: by name, missing, `--ignore-not-found`, by label.
pub async fn delete(r: &mut Run) {
    let ns = r.ns.clone();
    let objects = json!({"apiVersion": "v1", "kind": "List", "items": [
        configmap("a", json!({"d": "x"}), json!({})),
        configmap("b", json!({"d": "x"}), json!({})),
        configmap("c", json!({}), json!({}))]});
    r.kubectl(
        "create",
        &["create", "-n", &ns, "-f", "-"],
        Some(&manifest(objects)),
    )
    .await;
    r.kubectl("delete", &["delete", "-n", &ns, "cm", "c"], None)
        .await;
    r.kubectl("delete missing", &["delete", "-n", &ns, "cm", "c"], None)
        .await;
    r.kubectl(
        "delete missing, ignored",
        &["delete", "-n", &ns, "cm", "c", "--ignore-not-found"],
        None,
    )
    .await;
    r.kubectl(
        "delete by label",
        &["delete", "-n", &ns, "cm", "-l", "d=x"],
        None,
    )
    .await;
    r.kubectl("left", &["get", "-n", &ns, "cm", "-l", "d"], None)
        .await;
}

/// `kubectl api-resources` of a few groups.
pub async fn api_resources(r: &mut Run) {
    r.kubectl("apps", &["api-resources", "--api-group=apps"], None)
        .await;
    r.kubectl(
        "core, namespaced",
        &[
            "api-resources",
            "--api-group=",
            "--namespaced=true",
            "-o",
            "name",
        ],
        None,
    )
    .await;
    r.kubectl("versions", &["api-versions"], None).await;
}
