//! Prune: only with `--prune`, only live objects whose tracking id names this app and this
//! very object, never a look-alike; `Prune=false` respected; an app whose Git renders
//! nothing is not emptied unless `allowEmpty`.

use crate::support::sync::*;
use rekon::model::{OperationPhase, SyncOptions};
use serde_json::json;

const LABELS: &str = "app.kubernetes.io/instance: shop";

fn labelled_cm(name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{{LABELS}}}\n  annotations: {{{annotations}}}\ndata:\n  key: v\n"
    )
}

#[tokio::test]
async fn prune_deletes_exactly_the_tracked_objects_gone_from_git() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", labelled_cm("a", ""));
    repo.write("app/b.yaml", labelled_cm("b", ""));
    repo.write(
        "app/c.yaml",
        labelled_cm("c", "argocd.argoproj.io/sync-options: Prune=false"),
    );
    repo.commit("three");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    let op = env.sync(SyncOptions::default()).await.expect("first sync");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");

    // Objects that look like the app's but are not its own.
    let lookalike = |name: &str, tracking: Option<&str>| {
        let mut o = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": "shop",
                "labels": {"app.kubernetes.io/instance": "shop"}},
            "data": {"key": "v"}});
        if let Some(id) = tracking {
            o["metadata"]["annotations"] = json!({"rekon.dev/tracking-id": id});
        }
        o
    };
    apply_as(&env.cluster, "kubectl", lookalike("same-labels", None)).await;
    apply_as(
        &env.cluster,
        "kubectl",
        lookalike("other-app", Some("other:/ConfigMap:shop/other-app")),
    )
    .await;
    // A copy of `a` (its id still names `a`): not `a`, so not ours.
    apply_as(
        &env.cluster,
        "kubectl",
        lookalike("copy-of-a", Some("shop:/ConfigMap:shop/a")),
    )
    .await;

    env.repo.remove("app/b.yaml").remove("app/c.yaml");
    env.commit("only a").await;
    env.compared_at_head().await;
    env.wait_app("b needs pruning", |a| {
        a.resources
            .iter()
            .any(|r| r.name == "b" && r.requires_pruning)
    })
    .await;

    // Without --prune nothing is deleted.
    let before = writes(&env.cluster).len();
    let op = env.sync(SyncOptions::default()).await.expect("sync");
    assert_eq!(op.phase, OperationPhase::Succeeded);
    let b = op.steps.iter().find(|s| s.name == "b").expect("b listed");
    assert!(b.message.contains("requires pruning"), "{b:?}");
    assert!(
        !writes(&env.cluster)[before..]
            .iter()
            .any(|e| e.verb == "delete"),
        "deleted without --prune"
    );

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
    assert_eq!(deletes, ["delete configmaps b"]);
    let c = op.steps.iter().find(|s| s.name == "c").unwrap();
    assert!(c.message.contains("Prune=false"), "{c:?}");
    for name in ["a", "c", "same-labels", "other-app", "copy-of-a"] {
        assert!(
            get(&env.cluster, obj("v1", "ConfigMap", "shop", name))
                .await
                .is_some(),
            "{name} must stay"
        );
    }
    wait_gone(&env.cluster, obj("v1", "ConfigMap", "shop", "b")).await;
    // The history ConfigMap (no tracking id) is never pruned.
    assert!(
        get(
            &env.cluster,
            obj("v1", "ConfigMap", "shop", "rekon-history.shop")
        )
        .await
        .is_some()
    );
}

#[tokio::test]
async fn an_app_whose_git_renders_nothing_is_not_emptied_unless_allow_empty() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "v", ""));
    repo.write("app/README.md", "kept so the folder exists\n");
    repo.commit("one");
    let app = application(
        "shop",
        &repo,
        "app",
        json!({"automated": {"enabled": false, "allowEmpty": false}}),
    );
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    env.sync(SyncOptions::default()).await.expect("first sync");

    env.repo.remove("app/a.yaml");
    env.commit("nothing").await;
    env.wait_app("a needs pruning", |a| {
        a.resources
            .iter()
            .any(|r| r.name == "a" && r.requires_pruning)
    })
    .await;
    let prune = SyncOptions {
        prune: true,
        ..SyncOptions::default()
    };
    let before = writes(&env.cluster).len();
    let err = env.sync(prune.clone()).await.expect_err("refused");
    assert!(
        err.contains("refusing to prune all 1 objects of app argocd/shop")
            && err.contains("allowEmpty"),
        "{err}"
    );
    assert_eq!(writes(&env.cluster).len(), before, "nothing written");

    // The same app allowed to be empty.
    let mut allowed = env.app.clone();
    allowed.metadata.name = "shop".into();
    allowed.spec.sync_policy =
        serde_json::from_value(json!({"automated": {"enabled": false, "allowEmpty": true}}))
            .unwrap();
    let cache = tempfile::TempDir::new().unwrap();
    let engine = engine_for(&env.cluster, &cache, vec![allowed], Knobs::default());
    wait_app(&engine, "argocd/shop", "a needs pruning", |a| {
        a.resources
            .iter()
            .any(|r| r.name == "a" && r.requires_pruning)
    })
    .await;
    let op = sync(&engine, "argocd/shop", prune).await.expect("allowed");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    wait_gone(&env.cluster, obj("v1", "ConfigMap", "shop", "a")).await;
}
