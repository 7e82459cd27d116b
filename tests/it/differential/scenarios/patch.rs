//! Dry runs of every write, and every patch type: JSON, merge and strategic (apply is in
//! `ssa`), with their failures.

use serde_json::json;

use super::{CLUSTER_IPS, configmap, core, crd, established, service};
use crate::differential::runner::{Patch, Req, Run};

/// `dryRun=All` on create, replace, patch, apply and delete: answered as if done, nothing
/// stored.
pub async fn dry_run(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let cm = core(&r.ns, "configmaps", "dry");
    let body = configmap("dry", json!({}), json!({"k": "1"}));
    r.step(
        "create in a dry run",
        Req::post(format!("{cms}?dryRun=All"), body.clone()),
    )
    .await;
    r.step("get after the dry create", Req::get(&cm)).await;
    r.step("create", Req::post(&cms, body)).await;
    let patch = json!({"data": {"k": "2"}});
    r.step(
        "patch in a dry run",
        Req::patch(format!("{cm}?dryRun=All"), Patch::Merge, patch),
    )
    .await;
    let replaced = configmap("dry", json!({}), json!({"k": "3"}));
    r.step(
        "replace in a dry run",
        Req::put(format!("{cm}?dryRun=All"), replaced),
    )
    .await;
    let applied = configmap("dry", json!({}), json!({"k": "4"}));
    r.step(
        "apply in a dry run",
        Req::patch(
            format!("{cm}?dryRun=All&fieldManager=alpha&force=true"),
            Patch::Apply,
            applied,
        ),
    )
    .await;
    r.step(
        "delete in a dry run",
        Req::delete(format!("{cm}?dryRun=All")),
    )
    .await;
    r.step("get after the dry runs", Req::get(&cm)).await;
    r.step(
        "unknown dry-run value",
        Req::delete(format!("{cm}?dryRun=Some")),
    )
    .await;
}

/// RFC 6902 JSON patches: add, replace, remove, test, and a failing test.
pub async fn json_patch(r: &mut Run) {
    let cm = core(&r.ns, "configmaps", "target");
    let body = configmap("target", json!({"l": "1"}), json!({"a": "1", "b": "2"}));
    r.step("create", Req::post(core(&r.ns, "configmaps", ""), body))
        .await;
    let ops = json!([
        {"op": "test", "path": "/data/a", "value": "1"},
        {"op": "replace", "path": "/data/a", "value": "10"},
        {"op": "remove", "path": "/data/b"},
        {"op": "add", "path": "/metadata/labels/m", "value": "2"},
        {"op": "copy", "from": "/data/a", "path": "/data/c"},
        {"op": "move", "from": "/data/c", "path": "/data/d"}
    ]);
    r.step("patch", Req::patch(&cm, Patch::Json, ops)).await;
    let failing = json!([{"op": "test", "path": "/data/a", "value": "nope"}]);
    r.step("failing test", Req::patch(&cm, Patch::Json, failing))
        .await;
    let missing = json!([{"op": "remove", "path": "/data/missing"}]);
    r.step(
        "remove a missing path",
        Req::patch(&cm, Patch::Json, missing),
    )
    .await;
    let not_ops = json!({"op": "add"});
    r.step(
        "not a list of operations",
        Req::patch(&cm, Patch::Json, not_ops),
    )
    .await;
    let bad = Req::patch(&cm, Patch::Json, json!([])).raw("[{");
    r.step("malformed", bad).await;
    let absent = core(&r.ns, "configmaps", "absent");
    let ops = json!([{"op": "add", "path": "/data/x", "value": "1"}]);
    r.step(
        "patch a missing object",
        Req::patch(absent, Patch::Json, ops),
    )
    .await;
}

/// RFC 7386 merge patches: nested maps merged, null deletes, lists replaced.
pub async fn merge_patch(r: &mut Run) {
    let cm = core(&r.ns, "configmaps", "target");
    let body = configmap("target", json!({"l": "1"}), json!({"a": "1", "b": "2"}));
    r.step("create", Req::post(core(&r.ns, "configmaps", ""), body))
        .await;
    let patch = json!({"metadata": {"labels": {"l": null, "m": "2"},
        "finalizers": ["diff.rekon.dev/x"]}, "data": {"b": null, "c": "3"}});
    r.step("patch", Req::patch(&cm, Patch::Merge, patch)).await;
    let patch = json!({"metadata": {"finalizers": null}});
    r.step("drop the finalizers", Req::patch(&cm, Patch::Merge, patch))
        .await;
    let stale = json!({"metadata": {"resourceVersion": "1"}, "data": {"d": "4"}});
    r.step(
        "patch with a stale resourceVersion",
        Req::patch(&cm, Patch::Merge, stale),
    )
    .await;
    r.step("not an object", Req::patch(&cm, Patch::Merge, json!([1])))
        .await;
}

/// Strategic merge patches on a Service: ports merged by port, `$patch: delete`, `$patch:
/// replace`; and on a custom resource, which has no strategy (415).
pub async fn strategic(r: &mut Run) {
    let svc = core(&r.ns, "services", "web");
    let req = |r: Req| CLUSTER_IPS.iter().fold(r, |r, p| r.ignore(p));
    let body = service("web", json!([{"name": "http", "port": 80}]));
    r.step("create", req(Req::post(core(&r.ns, "services", ""), body)))
        .await;
    let add = json!({"spec": {"ports": [{"name": "https", "port": 443}]}});
    r.step("add a port", req(Req::patch(&svc, Patch::Strategic, add)))
        .await;
    let change = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}]}});
    r.step(
        "change a port",
        req(Req::patch(&svc, Patch::Strategic, change)),
    )
    .await;
    let delete = json!({"spec": {"ports": [{"port": 443, "$patch": "delete"}]}});
    r.step(
        "delete a port",
        req(Req::patch(&svc, Patch::Strategic, delete)),
    )
    .await;
    let replace = json!({"spec": {"selector": {"$patch": "replace", "tier": "web"}}});
    r.step(
        "replace the selector",
        req(Req::patch(&svc, Patch::Strategic, replace)),
    )
    .await;

    let definition = crd("patch.diff.rekon.dev", "Gadget", "gadgets", None, json!({}));
    let crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    r.step(
        "create a CRD",
        Req::post(crd_path, definition).ignore("/body"),
    )
    .await;
    let name = format!("{crd_path}/gadgets.patch.diff.rekon.dev");
    r.wait("established", Req::get(name).ignore("/body"), established)
        .await;
    let gadgets = format!("/apis/patch.diff.rekon.dev/v1/namespaces/{}/gadgets", r.ns);
    let gadget = json!({"apiVersion": "patch.diff.rekon.dev/v1", "kind": "Gadget",
        "metadata": {"name": "g"}, "spec": {"size": 1}});
    r.step("create a custom resource", Req::post(&gadgets, gadget))
        .await;
    let patch = json!({"spec": {"size": 2}});
    r.step(
        "strategic patch of a custom resource",
        Req::patch(format!("{gadgets}/g"), Patch::Strategic, patch),
    )
    .await;
    // Last: the emulator accepts it and the real server does not, which would shift the
    // resourceVersions of the steps after it.
    let order = json!({"$setElementOrder/ports": [{"port": 81}, {"port": 80}],
        "spec": {"ports": [{"name": "alt", "port": 81}]}});
    r.step(
        "directive at the wrong level",
        req(Req::patch(&svc, Patch::Strategic, order)),
    )
    .await;
}
