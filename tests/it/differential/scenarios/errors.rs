//! Status error bodies: 404 NotFound, 409 AlreadyExists and Conflict, 422 Invalid, 400
//! BadRequest, 405, 415, and immutable fields.

use http::Method;
use serde_json::json;

use super::{configmap, core, deployment, group, uid};
use crate::differential::runner::{Req, Run};

/// Missing objects, namespaces, resources and groups.
pub async fn not_found(r: &mut Run) {
    let ns = r.ns.clone();
    r.step(
        "missing configmap",
        Req::get(core(&ns, "configmaps", "nope")),
    )
    .await;
    r.step(
        "missing namespace",
        Req::get(core("diff-no-such-namespace", "configmaps", "x")),
    )
    .await;
    r.step(
        "list in a missing namespace",
        Req::get(core("diff-no-such-namespace", "configmaps", "")),
    )
    .await;
    r.step("missing resource", Req::get(core(&ns, "widgets", "")))
        .await;
    r.step(
        "missing group",
        Req::get(format!("/apis/nope.example.com/v1/namespaces/{ns}/things")),
    )
    .await;
    r.step("not an API path", Req::get("/nope")).await;
    r.step(
        "delete a missing object",
        Req::delete(core(&ns, "configmaps", "nope")),
    )
    .await;
    r.step(
        "missing deployment",
        Req::get(group("apps/v1", &ns, "deployments", "nope")),
    )
    .await;
    r.step(
        "missing cluster-scoped object",
        Req::get("/api/v1/namespaces/diff-no-such-namespace"),
    )
    .await;
    let cm = configmap("ghost", json!({}), json!({}));
    r.step(
        "create in a missing namespace",
        Req::post(core("diff-no-such-namespace", "configmaps", ""), cm),
    )
    .await;
}

/// AlreadyExists, a stale resourceVersion, and a failed uid precondition.
pub async fn conflict(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let body = configmap("twice", json!({}), json!({}));
    let created = r.step("create", Req::post(&cms, body.clone())).await;
    r.step("create again", Req::post(&cms, body.clone())).await;
    let cm = core(&r.ns, "configmaps", "twice");
    let mut stale = body.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    r.step("replace with a stale resourceVersion", Req::put(&cm, stale))
        .await;
    let precondition = json!({"kind": "DeleteOptions", "apiVersion": "v1",
        "preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}});
    r.step(
        "delete with a wrong uid",
        Req::delete(&cm).json(precondition),
    )
    .await;
    let precondition = json!({"kind": "DeleteOptions", "apiVersion": "v1",
        "preconditions": {"resourceVersion": "1"}});
    r.step(
        "delete with a wrong resourceVersion",
        Req::delete(&cm).json(precondition),
    )
    .await;
    let precondition = json!({"kind": "DeleteOptions", "apiVersion": "v1",
        "preconditions": {"uid": uid(&created)}});
    r.step(
        "delete with the right uid",
        Req::delete(&cm).json(precondition),
    )
    .await;
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": r.ns}});
    r.step(
        "create an existing namespace",
        Req::post("/api/v1/namespaces", ns).ignore("/body/details/uid"),
    )
    .await;
}

/// 422 Invalid with its causes: names, labels, keys, and a Deployment with several faults.
pub async fn invalid(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let long = "x".repeat(64);
    for (step, body) in [
        ("bad name", configmap("Bad_Name", json!({}), json!({}))),
        (
            "bad label value",
            configmap("ok", json!({"a": long}), json!({})),
        ),
        (
            "bad label key",
            configmap("ok", json!({"-a": "1"}), json!({})),
        ),
        (
            "bad data key",
            configmap("ok", json!({}), json!({"bad key": "1"})),
        ),
        (
            "no name",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}),
        ),
    ] {
        r.step(step, Req::post(&cms, body)).await;
    }
    let mut d = deployment("bad", 1);
    d["spec"]["replicas"] = json!(-1);
    d["spec"]["selector"]["matchLabels"] = json!({"app": "other"});
    r.step(
        "bad deployment",
        Req::post(group("apps/v1", &r.ns, "deployments", ""), d),
    )
    .await;
    let mut d = deployment("nocontainers", 1);
    d["spec"]["template"]["spec"]["containers"] = json!([]);
    r.step(
        "deployment without containers",
        Req::post(group("apps/v1", &r.ns, "deployments", ""), d),
    )
    .await;
}

/// 400 and friends: malformed bodies, a body of the wrong kind, namespace or name, an
/// unsupported media type, a method a path does not take.
pub async fn bad_request(r: &mut Run) {
    let ns = r.ns.clone();
    let cms = core(&ns, "configmaps", "");
    let cm = core(&ns, "configmaps", "one");
    r.step(
        "malformed JSON",
        Req::post(&cms, json!({})).raw("{\"kind\": "),
    )
    .await;
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    r.step("wrong kind", Req::post(&cms, secret)).await;
    let mut other = configmap("one", json!({}), json!({}));
    other["metadata"]["namespace"] = json!("elsewhere");
    r.step("wrong namespace", Req::post(&cms, other)).await;
    r.step(
        "create",
        Req::post(&cms, configmap("one", json!({}), json!({}))),
    )
    .await;
    r.step(
        "replace under another name",
        Req::put(&cm, configmap("two", json!({}), json!({}))),
    )
    .await;
    r.step(
        "unsupported media type",
        Req::post(&cms, json!({})).header("Content-Type", "text/plain"),
    )
    .await;
    r.step(
        "post to an object",
        Req::post(&cm, configmap("one", json!({}), json!({}))),
    )
    .await;
    r.step(
        "put to a collection",
        Req::put(&cms, configmap("one", json!({}), json!({}))),
    )
    .await;
    r.step(
        "patch without a type",
        Req::method(Method::PATCH, &cm).raw("{}"),
    )
    .await;
    let mut typed = configmap("typed", json!({}), json!({}));
    typed["data"] = json!({"n": 1});
    r.step("a number where a string goes", Req::post(&cms, typed))
        .await;
    let unknown = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "unknown"}, "spec": {"x": 1}});
    r.step("unknown field", Req::post(&cms, unknown.clone()))
        .await;
    r.step(
        "unknown field, strict",
        Req::post(format!("{cms}?fieldValidation=Strict"), unknown),
    )
    .await;
    r.step("bad query value", Req::get(format!("{cms}?limit=ten")))
        .await;
}

/// Immutable fields: an immutable ConfigMap's data, a Deployment's selector.
pub async fn immutable(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let cm = core(&r.ns, "configmaps", "frozen");
    let mut body = configmap("frozen", json!({}), json!({"k": "1"}));
    body["immutable"] = json!(true);
    r.step("create", Req::post(&cms, body.clone())).await;
    body["data"] = json!({"k": "2"});
    r.step("change the data", Req::put(&cm, body.clone())).await;
    body["data"] = json!({"k": "1"});
    body["immutable"] = json!(false);
    r.step("make it mutable", Req::put(&cm, body)).await;
    let deployments = group("apps/v1", &r.ns, "deployments", "");
    let mut d = deployment("fixed", 0);
    r.step(
        "create a deployment",
        Req::post(&deployments, d.clone())
            .ignore("/body/status")
            .ignore("/body/metadata"),
    )
    .await;
    d["spec"]["selector"]["matchLabels"] = json!({"app": "fixed", "v": "2"});
    d["spec"]["template"]["metadata"]["labels"] = json!({"app": "fixed", "v": "2"});
    r.step(
        "change the selector",
        Req::put(group("apps/v1", &r.ns, "deployments", "fixed"), d),
    )
    .await;
}
