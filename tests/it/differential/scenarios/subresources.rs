//! The scale subresource of a Deployment and the status subresource of a Service.

use serde_json::json;

use super::{CLUSTER_IPS, core, deployment, group, service};
use crate::differential::runner::{Patch, Req, Run};

/// A Deployment's `scale`: read, patched, replaced, and a Scale of the wrong name.
pub async fn scale(r: &mut Run) {
    let deployments = group("apps/v1", &r.ns, "deployments", "");
    let scale = group("apps/v1", &r.ns, "deployments", "web/scale");
    let ignore = |r: Req| {
        r.ignore("/body/status")
            .ignore("/body/metadata/resourceVersion")
            .ignore("/body/metadata/managedFields")
            .ignore("/body/metadata/annotations")
            .ignore("/body/metadata/generation")
    };
    r.step(
        "create",
        ignore(Req::post(&deployments, deployment("web", 0))),
    )
    .await;
    r.step("get the scale", ignore(Req::get(&scale))).await;
    let patch = json!({"spec": {"replicas": 2}});
    r.step(
        "patch the scale",
        ignore(Req::patch(&scale, Patch::Merge, patch)),
    )
    .await;
    let body = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "web"}, "spec": {"replicas": 0}});
    r.step("replace the scale", ignore(Req::put(&scale, body)))
        .await;
    let wrong = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "other"}, "spec": {"replicas": 1}});
    r.step("a scale of another name", ignore(Req::put(&scale, wrong)))
        .await;
    let negative = json!({"spec": {"replicas": -1}});
    r.step(
        "a negative scale",
        ignore(Req::patch(&scale, Patch::Merge, negative)),
    )
    .await;
    let missing = group("apps/v1", &r.ns, "deployments", "missing/scale");
    r.step("scale of a missing deployment", Req::get(missing))
        .await;
}

/// A Service's `status`: status writes ignore the spec, main-resource writes ignore the status.
pub async fn status(r: &mut Run) {
    let svc = core(&r.ns, "services", "web");
    let ignore = |r: Req| CLUSTER_IPS.iter().fold(r, |r, p| r.ignore(p));
    let body = service("web", json!([{"port": 80}]));
    r.step(
        "create",
        ignore(Req::post(core(&r.ns, "services", ""), body)),
    )
    .await;
    let condition = json!({"type": "Checked", "status": "True", "reason": "Diff",
        "message": "set through status", "lastTransitionTime": "2025-01-01T00:00:00Z"});
    let patch = json!({"status": {"conditions": [condition]},
        "spec": {"selector": {"app": "changed"}}});
    r.step(
        "patch the status",
        ignore(Req::patch(format!("{svc}/status"), Patch::Merge, patch)),
    )
    .await;
    let patch = json!({"status": {"conditions": []}, "spec": {"selector": {"app": "main"}}});
    r.step(
        "patch the main resource",
        ignore(Req::patch(&svc, Patch::Merge, patch)),
    )
    .await;
    r.step("get the status", ignore(Req::get(format!("{svc}/status"))))
        .await;
    let bad = json!({"status": {"conditions": [{"type": "Checked"}]}});
    r.step(
        "an invalid status",
        ignore(Req::patch(format!("{svc}/status"), Patch::Merge, bad)),
    )
    .await;
}
