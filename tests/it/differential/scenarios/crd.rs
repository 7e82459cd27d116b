//! CustomResourceDefinitions: lifecycle (Established, discovery, custom resources, deletion
//! with its resources), schemas (defaults, pruning, validation) and the status and scale
//! subresources.

use serde_json::{Value, json};

use super::{crd, established};
use crate::differential::runner::{Patch, Req, Run};

const CRDS: &str = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";

/// Creates `definition` and waits for it to be Established; compares the CRD as created and
/// as established.
async fn define(r: &mut Run, definition: Value) {
    let name = definition["metadata"]["name"].as_str().unwrap().to_string();
    r.step("create the CRD", Req::post(CRDS, definition)).await;
    r.wait(
        "established",
        Req::get(format!("{CRDS}/{name}")).ignore("/body/metadata/resourceVersion"),
        established,
    )
    .await;
}

/// Create, Established, discovery of the new group, custom resources, and deleting the CRD
/// with its resources.
pub async fn lifecycle(r: &mut Run) {
    let definition = crd("life.diff.rekon.dev", "Widget", "widgets", None, json!({}));
    define(r, definition).await;
    r.step("group", Req::get("/apis/life.diff.rekon.dev")).await;
    r.step("resources", Req::get("/apis/life.diff.rekon.dev/v1"))
        .await;
    let widgets = format!("/apis/life.diff.rekon.dev/v1/namespaces/{}/widgets", r.ns);
    let widget = json!({"apiVersion": "life.diff.rekon.dev/v1", "kind": "Widget",
        "metadata": {"name": "w1", "labels": {"a": "b"}}, "spec": {"size": 3}});
    r.step("create a widget", Req::post(&widgets, widget)).await;
    r.step("get it", Req::get(format!("{widgets}/w1"))).await;
    r.step("list them", Req::get(&widgets)).await;
    let wrong = json!({"apiVersion": "life.diff.rekon.dev/v2", "kind": "Widget",
        "metadata": {"name": "w2"}});
    r.step("create at an unserved version", Req::post(&widgets, wrong))
        .await;
    let crd_path = format!("{CRDS}/widgets.life.diff.rekon.dev");
    r.step(
        "delete the CRD",
        Req::delete(&crd_path)
            .ignore("/body/metadata/resourceVersion")
            .ignore("/body/status/conditions"),
    )
    .await;
    r.wait("the CRD goes", Req::get(&crd_path), |status, _| {
        status == 404
    })
    .await;
    r.step("get the widget", Req::get(format!("{widgets}/w1")))
        .await;
    let bad = crd("life.diff.rekon.dev", "Widget", "widgets", None, json!({}));
    let mut bad = bad;
    bad["metadata"]["name"] = json!("wrong.name");
    bad["spec"]["scope"] = json!("Everywhere");
    r.step("an invalid CRD", Req::post(CRDS, bad)).await;
}

/// A structural schema: defaults filled in, unknown fields pruned, types and enums checked.
pub async fn schema(r: &mut Run) {
    let schema = json!({"type": "object", "properties": {
        "spec": {"type": "object", "properties": {
            "size": {"type": "integer", "minimum": 1, "default": 1},
            "mode": {"type": "string", "enum": ["fast", "slow"]}}}}});
    let definition = crd(
        "schema.diff.rekon.dev",
        "Shape",
        "shapes",
        Some(schema),
        json!({}),
    );
    define(r, definition).await;
    let shapes = format!("/apis/schema.diff.rekon.dev/v1/namespaces/{}/shapes", r.ns);
    let shape = json!({"apiVersion": "schema.diff.rekon.dev/v1", "kind": "Shape",
        "metadata": {"name": "s1"}, "spec": {"mode": "fast", "extra": true}, "other": 1});
    r.step("create with unknown fields", Req::post(&shapes, shape))
        .await;
    // One fault per create: kube-apiserver lists several in no fixed order.
    let invalid = json!({"apiVersion": "schema.diff.rekon.dev/v1", "kind": "Shape",
        "metadata": {"name": "s2"}, "spec": {"mode": "medium"}});
    r.step("create an invalid one", Req::post(&shapes, invalid))
        .await;
    let small = json!({"apiVersion": "schema.diff.rekon.dev/v1", "kind": "Shape",
        "metadata": {"name": "s5"}, "spec": {"size": 0}});
    r.step("create under the minimum", Req::post(&shapes, small))
        .await;
    let wrong_type = json!({"apiVersion": "schema.diff.rekon.dev/v1", "kind": "Shape",
        "metadata": {"name": "s3"}, "spec": {"size": "big"}});
    r.step("create with a wrong type", Req::post(&shapes, wrong_type))
        .await;
    let strict = json!({"apiVersion": "schema.diff.rekon.dev/v1", "kind": "Shape",
        "metadata": {"name": "s4"}, "spec": {"extra": true}});
    r.step(
        "strict field validation",
        Req::post(format!("{shapes}?fieldValidation=Strict"), strict),
    )
    .await;
}

/// The status and scale subresources of a custom resource.
pub async fn subresources(r: &mut Run) {
    let subresources = json!({"status": {}, "scale": {"specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas", "labelSelectorPath": ".status.selector"}});
    let definition = crd("sub.diff.rekon.dev", "Pool", "pools", None, subresources);
    define(r, definition).await;
    let pools = format!("/apis/sub.diff.rekon.dev/v1/namespaces/{}/pools", r.ns);
    let pool = format!("{pools}/p");
    let body = json!({"apiVersion": "sub.diff.rekon.dev/v1", "kind": "Pool",
        "metadata": {"name": "p"}, "spec": {"replicas": 2}, "status": {"replicas": 9}});
    r.step("create (status dropped)", Req::post(&pools, body))
        .await;
    let status = json!({"status": {"replicas": 2, "selector": "app=p"}, "spec": {"replicas": 5}});
    r.step(
        "patch the status (spec ignored)",
        Req::patch(format!("{pool}/status"), Patch::Merge, status),
    )
    .await;
    let spec = json!({"spec": {"replicas": 3}, "status": {"replicas": 7}});
    r.step(
        "patch the main resource (status ignored)",
        Req::patch(&pool, Patch::Merge, spec),
    )
    .await;
    r.step("get the scale", Req::get(format!("{pool}/scale")))
        .await;
    let scale = json!({"spec": {"replicas": 4}});
    r.step(
        "patch the scale",
        Req::patch(format!("{pool}/scale"), Patch::Merge, scale),
    )
    .await;
    let scale = json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
        "metadata": {"name": "p"}, "spec": {"replicas": 1}});
    r.step(
        "replace the scale",
        Req::put(format!("{pool}/scale"), scale),
    )
    .await;
    r.step("get", Req::get(&pool)).await;
    r.step("get the status", Req::get(format!("{pool}/status")))
        .await;
}
