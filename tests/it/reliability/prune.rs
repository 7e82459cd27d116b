//! Prune touches nothing that is not ours, with more look-alikes than tests/it/sync/prune.rs:
//! Argo CD's tracking id for an app of the same name, an app whose name extends ours, an app
//! of the same name in another Application namespace, a copy in another namespace whose id
//! still names our object, a malformed id. Only the object our id names is deleted.

use crate::support::sync::*;
use rekon::model::{OperationPhase, SyncOptions};
use serde_json::{Value, json};

fn cm(ns: &str, name: &str, annotations: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "annotations": annotations,
            "labels": {"app.kubernetes.io/instance": "shop"}},
        "data": {"key": "v"}})
}

#[tokio::test]
async fn prune_deletes_only_what_our_tracking_id_names() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "v", ""));
    repo.commit("one");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    create_namespace(&env.cluster, "other").await;
    env.compared_at_head().await;
    let op = env.sync(SyncOptions::default()).await.expect("first sync");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");

    let id = |v: &str| json!({"rekon.dev/tracking-id": v});
    let lookalikes = [
        cm(
            "shop",
            "argo-id",
            json!({"argocd.argoproj.io/tracking-id": "shop:/ConfigMap:shop/argo-id"}),
        ),
        cm("shop", "prefix", id("shop-v2:/ConfigMap:shop/prefix")),
        cm("shop", "suffix", id("sho:/ConfigMap:shop/suffix")),
        cm("shop", "team-app", id("team_shop:/ConfigMap:shop/team-app")),
        cm("other", "moved", id("shop:/ConfigMap:shop/moved")),
        cm("shop", "kind-swap", id("shop:/Secret:shop/kind-swap")),
        cm("shop", "malformed", id("shop")),
        cm("shop", "empty-id", id("")),
    ];
    for o in &lookalikes {
        apply_as(&env.cluster, "kubectl", o.clone()).await;
    }
    // Ours indeed: its id names this app and this very object.
    apply_as(
        &env.cluster,
        "kubectl",
        cm("shop", "gone", id("shop:/ConfigMap:shop/gone")),
    )
    .await;
    env.wait_app("gone needs pruning", |a| {
        a.resources
            .iter()
            .any(|r| r.name == "gone" && r.requires_pruning)
    })
    .await;
    let app = env.compared_at_head().await;
    let extras: Vec<&str> = app
        .resources
        .iter()
        .filter(|r| r.requires_pruning)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(extras, ["gone"], "only ours is offered for pruning");

    let before = writes(&env.cluster).len();
    let op = env
        .sync(SyncOptions {
            prune: true,
            ..SyncOptions::default()
        })
        .await
        .expect("sync with prune");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    let deletes: Vec<String> = lines(&writes(&env.cluster)[before..])
        .into_iter()
        .filter(|l| l.starts_with("delete"))
        .collect();
    assert_eq!(deletes, ["delete configmaps gone"]);
    for o in &lookalikes {
        let ns = o["metadata"]["namespace"].as_str().unwrap();
        let name = o["metadata"]["name"].as_str().unwrap();
        assert!(
            get(&env.cluster, obj("v1", "ConfigMap", ns, name))
                .await
                .is_some(),
            "{ns}/{name} must stay"
        );
    }
}
