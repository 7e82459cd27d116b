//! Server-side apply: managedFields of several managers, conflicts (409 with causes) and
//! force, fields a manager stops applying, list items merged by key, and apply after update.

use serde_json::{Value, json};

use super::{CLUSTER_IPS, configmap, core, service};
use crate::differential::runner::{Patch, Req, Run};

fn apply(path: &str, manager: &str, force: bool, body: Value) -> Req {
    let force = if force { "&force=true" } else { "" };
    Req::patch(
        format!("{path}?fieldManager={manager}{force}"),
        Patch::Apply,
        body,
    )
}

/// Two managers apply different fields of one ConfigMap; managedFields records both.
pub async fn managed_fields(r: &mut Run) {
    let cm = core(&r.ns, "configmaps", "shared");
    let alpha = configmap("shared", json!({"owner": "alpha"}), json!({"a": "1"}));
    r.step("alpha applies", apply(&cm, "alpha", false, alpha.clone()))
        .await;
    r.step("alpha applies the same", apply(&cm, "alpha", false, alpha))
        .await;
    let beta = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "shared", "annotations": {"by": "beta"}}, "data": {"b": "2"}});
    r.step("beta applies", apply(&cm, "beta", false, beta))
        .await;
    r.step("get", Req::get(&cm)).await;
    let shared = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "shared"}, "data": {"a": "1"}});
    r.step(
        "beta applies alpha's field with alpha's value",
        apply(&cm, "beta", false, shared),
    )
    .await;
    let no_manager = Req::patch(
        cm.clone(),
        Patch::Apply,
        configmap("shared", json!({}), json!({})),
    );
    r.step("apply without a field manager", no_manager).await;
}

/// A conflicting apply is refused with its causes; forced, it takes the field over.
pub async fn conflicts(r: &mut Run) {
    let cm = core(&r.ns, "configmaps", "contested");
    let alpha = configmap(
        "contested",
        json!({"x": "alpha"}),
        json!({"a": "1", "b": "1"}),
    );
    r.step("alpha applies", apply(&cm, "alpha", false, alpha.clone()))
        .await;
    let beta = configmap(
        "contested",
        json!({"x": "beta"}),
        json!({"a": "2", "b": "2"}),
    );
    r.step("beta conflicts", apply(&cm, "beta", false, beta.clone()))
        .await;
    r.step("beta forces", apply(&cm, "beta", true, beta)).await;
    r.step("alpha conflicts now", apply(&cm, "alpha", false, alpha))
        .await;
    r.step("get", Req::get(&cm)).await;
    let dry = format!("{cm}?fieldManager=gamma&dryRun=All");
    let gamma = configmap("contested", json!({}), json!({"a": "3"}));
    r.step(
        "gamma conflicts in a dry run",
        Req::patch(dry, Patch::Apply, gamma),
    )
    .await;
}

/// List items merged by their keys (a Service's ports by port and protocol) across
/// managers, and a manager's items removed when it stops applying them.
pub async fn lists(r: &mut Run) {
    let svc = core(&r.ns, "services", "web");
    let mut a = service(
        "web",
        json!([{"name": "http", "port": 80, "targetPort": 8080}]),
    );
    let mut b = service("web", json!([{"name": "https", "port": 443}]));
    for s in [&mut a, &mut b] {
        s["spec"].as_object_mut().unwrap().remove("selector");
    }
    let req = |r: Req| CLUSTER_IPS.iter().fold(r, |r, p| r.ignore(p));
    r.step("alpha applies port 80", req(apply(&svc, "alpha", false, a)))
        .await;
    r.step("beta applies port 443", req(apply(&svc, "beta", false, b)))
        .await;
    let none = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}});
    r.step(
        "alpha applies no ports",
        req(apply(&svc, "alpha", false, none)),
    )
    .await;
    r.step("get", req(Req::get(&svc))).await;
}

/// A field set by an Update (a plain create) conflicts with a later apply of a different
/// value; applying the same value shares it.
pub async fn after_update(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let cm = core(&r.ns, "configmaps", "updated");
    let body = configmap("updated", json!({}), json!({"a": "1", "b": "1"}));
    r.step(
        "create as creator",
        Req::post(format!("{cms}?fieldManager=creator"), body),
    )
    .await;
    let same = configmap("updated", json!({}), json!({"a": "1"}));
    r.step("apply the same value", apply(&cm, "alpha", false, same))
        .await;
    let other = configmap("updated", json!({}), json!({"b": "2"}));
    r.step("apply another value", apply(&cm, "alpha", false, other))
        .await;
    let merge = json!({"data": {"c": "3"}});
    r.step(
        "merge patch as patcher",
        Req::patch(format!("{cm}?fieldManager=patcher"), Patch::Merge, merge),
    )
    .await;
    r.step("get", Req::get(&cm)).await;
}
