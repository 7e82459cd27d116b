//! Finalizers and garbage collection: deletion held by a finalizer, and dependents deleted in
//! the background, in the foreground, or orphaned.

use serde_json::{Value, json};

use super::{configmap, core, uid};
use crate::differential::runner::{Patch, Req, Run};

/// A ConfigMap with a finalizer: deletion marks it, writes still work but no new
/// finalizers, and it goes when the finalizer is removed.
pub async fn finalizers(r: &mut Run) {
    let cm = core(&r.ns, "configmaps", "held");
    let mut body = configmap("held", json!({}), json!({"k": "1"}));
    body["metadata"]["finalizers"] = json!(["diff.rekon.dev/hold"]);
    r.step("create", Req::post(core(&r.ns, "configmaps", ""), body))
        .await;
    r.step("delete", Req::delete(&cm)).await;
    r.step("get while held", Req::get(&cm)).await;
    r.step("delete again", Req::delete(&cm)).await;
    let patch = json!({"data": {"k": "2"}});
    r.step("patch while held", Req::patch(&cm, Patch::Merge, patch))
        .await;
    let patch = json!({"metadata": {"finalizers": ["diff.rekon.dev/hold", "diff.rekon.dev/more"]}});
    r.step(
        "add a finalizer while held",
        Req::patch(&cm, Patch::Merge, patch),
    )
    .await;
    let patch = json!({"metadata": {"finalizers": null}});
    r.step("remove the finalizer", Req::patch(&cm, Patch::Merge, patch))
        .await;
    r.step("get after", Req::get(&cm)).await;
}

/// An owner ConfigMap and a dependent that names it in ownerReferences.
async fn owner_and_dependent(r: &mut Run, block: bool) -> String {
    let cms = core(&r.ns, "configmaps", "");
    let owner = r
        .step(
            "create the owner",
            Req::post(&cms, configmap("owner", json!({}), json!({}))),
        )
        .await;
    let mut dependent = configmap("dependent", json!({}), json!({}));
    dependent["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap",
        "name": "owner", "uid": uid(&owner), "blockOwnerDeletion": block}]);
    r.step("create the dependent", Req::post(&cms, dependent))
        .await;
    core(&r.ns, "configmaps", "owner")
}

fn delete_with(path: &str, policy: &str) -> Req {
    let options = json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": policy});
    Req::delete(path).json(options)
}

fn gone(status: u16, _: &Value) -> bool {
    status == 404
}

/// Background deletion: the owner goes at once, the dependent after it.
pub async fn background(r: &mut Run) {
    let owner = owner_and_dependent(r, false).await;
    r.step("delete the owner", delete_with(&owner, "Background"))
        .await;
    r.step("get the owner", Req::get(&owner)).await;
    let dependent = core(&r.ns, "configmaps", "dependent");
    r.wait("the dependent goes", Req::get(dependent), gone)
        .await;
}

/// Foreground deletion: the owner waits (with the `foregroundDeletion` finalizer) for its
/// blocking dependent.
pub async fn foreground(r: &mut Run) {
    let owner = owner_and_dependent(r, true).await;
    r.step("delete the owner", delete_with(&owner, "Foreground"))
        .await;
    let dependent = core(&r.ns, "configmaps", "dependent");
    r.wait("the dependent goes", Req::get(dependent), gone)
        .await;
    r.wait("the owner goes", Req::get(&owner), gone).await;
}

/// Orphaning: the owner goes, the dependent stays without its ownerReference.
pub async fn orphan(r: &mut Run) {
    let owner = owner_and_dependent(r, true).await;
    r.step("delete the owner", delete_with(&owner, "Orphan"))
        .await;
    r.wait("the owner goes", Req::get(&owner), gone).await;
    let dependent = core(&r.ns, "configmaps", "dependent");
    r.wait("the dependent is orphaned", Req::get(dependent), |_, d| {
        d["metadata"].get("ownerReferences").is_none()
    })
    .await;
    r.step(
        "unknown policy",
        delete_with(&core(&r.ns, "configmaps", "dependent"), "Sometimes"),
    )
    .await;
}
