//! Create, read, update and delete: ConfigMaps, generated names, Namespaces, Deployments.

use serde_json::json;

use super::{configmap, core, deployment, group, rv};
use crate::differential::runner::{Req, Run};

/// A ConfigMap created, read, replaced (with and without a resourceVersion, and with a
/// stale one), listed and deleted.
pub async fn configmaps(r: &mut Run) {
    let ns = r.ns.clone();
    let cms = core(&ns, "configmaps", "");
    let one = core(&ns, "configmaps", "one");
    let created = r
        .step(
            "create",
            Req::post(
                &cms,
                configmap("one", json!({"tier": "a"}), json!({"k": "1"})),
            ),
        )
        .await;
    r.step("get", Req::get(&one)).await;
    let mut body = configmap("one", json!({"tier": "a"}), json!({"k": "2"}));
    body["metadata"]["resourceVersion"] = json!(rv(&created));
    r.step("replace", Req::put(&one, body.clone())).await;
    r.step("replace with a stale resourceVersion", Req::put(&one, body))
        .await;
    let unconditional = configmap("one", json!({}), json!({"k": "3"}));
    r.step(
        "replace without a resourceVersion",
        Req::put(&one, unconditional),
    )
    .await;
    r.step("list the namespace", Req::get(&cms)).await;
    r.step("delete", Req::delete(&one)).await;
    r.step("get after delete", Req::get(&one)).await;
    r.step("delete again", Req::delete(&one)).await;
}

/// `generateName`: the server picks the suffix; two creates get two names.
pub async fn generate_name(r: &mut Run) {
    let cms = core(&r.ns, "configmaps", "");
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"generateName": "gen-"}, "data": {"k": "v"}});
    let first = r.step("create", Req::post(&cms, body.clone())).await;
    r.step("create another", Req::post(&cms, body)).await;
    let name = first["metadata"]["name"].as_str().unwrap_or_default();
    r.step("get", Req::get(core(&r.ns, "configmaps", name)))
        .await;
    let bare = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}, "data": {}});
    r.step("create without a name", Req::post(&cms, bare)).await;
}

/// A Namespace created, read, deleted (Terminating while its contents go) and gone.
pub async fn namespace(r: &mut Run) {
    let name = "diff-namespace-lifecycle-extra";
    let path = format!("/api/v1/namespaces/{name}");
    let body = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {"team": "a"}}});
    r.step("create", Req::post("/api/v1/namespaces", body))
        .await;
    r.step(
        "get",
        Req::get(&path).ignore("/body/metadata/managedFields"),
    )
    .await;
    let cm = configmap("inside", json!({}), json!({}));
    r.step("create inside", Req::post(core(name, "configmaps", ""), cm))
        .await;
    r.step("delete", Req::delete(&path)).await;
    r.wait("gone", Req::get(&path), |status, _| status == 404)
        .await;
    let cm = configmap("late", json!({}), json!({}));
    r.step(
        "create inside a deleted namespace",
        Req::post(core(name, "configmaps", ""), cm),
    )
    .await;
}

/// A Deployment: the defaults the server fills in, its rollout to one available replica, its
/// ReplicaSet, and deletion.
pub async fn deployments(r: &mut Run) {
    let ns = r.ns.clone();
    let deployments = group("apps/v1", &ns, "deployments", "");
    let web = group("apps/v1", &ns, "deployments", "web");
    r.step("create", Req::post(&deployments, deployment("web", 1)))
        .await;
    r.wait(
        "available",
        Req::get(&web)
            .ignore("/body/metadata/resourceVersion")
            .ignore("/body/metadata/managedFields"),
        |_, d| d["status"]["availableReplicas"] == 1 && d["status"]["observedGeneration"] == 1,
    )
    .await;
    r.step(
        "replicasets",
        Req::get(format!(
            "{}?labelSelector=app%3Dweb",
            group("apps/v1", &ns, "replicasets", "")
        ))
        .ignore("/body/items/*/metadata/resourceVersion")
        .ignore("/body/items/*/metadata/managedFields")
        .ignore("/body/items/*/status"),
    )
    .await;
    r.step("delete", Req::delete(&web)).await;
    r.wait(
        "replicasets gone",
        Req::get(format!(
            "{}?labelSelector=app%3Dweb",
            group("apps/v1", &ns, "replicasets", "")
        )),
        |_, list| list["items"].as_array().is_some_and(Vec::is_empty),
    )
    .await;
}
