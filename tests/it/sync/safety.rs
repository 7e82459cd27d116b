//! What keeps a sync safe: a dry run writes nothing, a field owned by another manager fails
//! the sync (naming it) when conflicts are refused, and `--read-only` sends no write at
//! all.

use std::time::Duration;

use crate::support::sync::*;
use rekon::model::{OperationPhase, StepStatus, SyncOptions};
use rekon::runtime::EngineCommand;
use serde_json::json;

#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "one", ""));
    repo.write("app/old.yaml", cm_yaml("old", "x", ""));
    repo.commit("one");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    env.sync(SyncOptions::default()).await.expect("first sync");

    env.repo.write("app/a.yaml", cm_yaml("a", "two", ""));
    env.repo.write("app/b.yaml", cm_yaml("b", "new", ""));
    env.repo.write(
        "app/hook.yaml",
        job_yaml("migrate", "argocd.argoproj.io/hook: PreSync"),
    );
    env.repo.remove("app/old.yaml");
    env.commit("two").await;
    env.compared_at_head().await;
    env.wait_app("old needs pruning", |a| {
        a.resources
            .iter()
            .any(|r| r.name == "old" && r.requires_pruning)
    })
    .await;

    let before = env.cluster.audit().len();
    let op = env
        .sync(SyncOptions {
            dry_run: true,
            prune: true,
            ..SyncOptions::default()
        })
        .await
        .expect("dry run");
    assert!(op.dry_run);
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert_eq!(
        step_lines(&op),
        [
            "PreSync 0 Job migrate Hook Succeeded",
            "Sync 0 ConfigMap old Pruned Succeeded",
            "Sync 0 ConfigMap a Configured Succeeded",
            "Sync 0 ConfigMap b Created Succeeded",
        ]
    );
    let after = &env.cluster.audit()[before..];
    let dry: Vec<String> = lines(
        &after
            .iter()
            .filter(|e| e.dry_run)
            .cloned()
            .collect::<Vec<_>>(),
    );
    for want in [
        "create jobs ",
        "delete configmaps old",
        "patch configmaps a",
        "patch configmaps b",
    ] {
        assert!(
            dry.iter().any(|l| l.starts_with(want)),
            "{want} was not dry-run: {dry:#?}"
        );
    }
    let real: Vec<_> = after
        .iter()
        .filter(|e| {
            ["create", "update", "patch", "delete", "deletecollection"].contains(&e.verb.as_str())
                && !e.dry_run
        })
        .collect();
    assert!(real.is_empty(), "a dry run wrote: {real:#?}");
    let a = get(&env.cluster, obj("v1", "ConfigMap", "shop", "a"))
        .await
        .unwrap();
    assert_eq!(a["data"]["key"], "one");
    assert!(
        get(&env.cluster, obj("v1", "ConfigMap", "shop", "old"))
            .await
            .is_some()
    );
    // A dry run is not history.
    let snap = env
        .wait_app("op published", |a| a.operation.is_some())
        .await;
    assert_eq!(snap.detail.unwrap().history.len(), 1);
}

#[tokio::test]
async fn a_conflict_is_refused_before_any_change_with_refuse_conflicts_and_taken_without() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "from-git", ""));
    repo.write("app/b.yaml", cm_yaml("b", "fine", ""));
    repo.commit("one");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    env.sync(SyncOptions::default()).await.expect("first sync");

    // Someone else takes data.key over.
    apply_as(
        &env.cluster,
        "helm",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "shop"}, "data": {"key": "hand-edited"}}),
    )
    .await;
    env.wait_app("a drifted", |a| {
        a.resources
            .iter()
            .any(|r| r.name == "a" && r.sync == rekon::model::SyncStatus::OutOfSync)
    })
    .await;

    let before = writes(&env.cluster).len();
    let op = env
        .sync(SyncOptions {
            refuse_conflicts: true,
            ..SyncOptions::default()
        })
        .await
        .expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    let a = op.steps.iter().find(|s| s.name == "a").unwrap();
    assert_eq!(a.status, StepStatus::Failed);
    assert!(
        a.message.contains("helm")
            && a.message.contains(".data.key")
            && a.message.contains("--refuse-conflicts"),
        "{}",
        a.message
    );
    assert!(op.message.contains("nothing was changed"), "{}", op.message);
    let b = op.steps.iter().find(|s| s.name == "b").unwrap();
    assert_eq!(b.status, StepStatus::Skipped);
    // Nothing was written but the history entry.
    let written: Vec<String> = lines(&writes(&env.cluster)[before..]);
    assert_eq!(written, ["patch configmaps rekon-history.shop"]);
    let live = get(&env.cluster, obj("v1", "ConfigMap", "shop", "a"))
        .await
        .unwrap();
    assert_eq!(live["data"]["key"], "hand-edited");

    // Git wins by default.
    let op = env.sync(SyncOptions::default()).await.expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    let live = get(&env.cluster, obj("v1", "ConfigMap", "shop", "a"))
        .await
        .unwrap();
    assert_eq!(live["data"]["key"], "from-git");
}

#[tokio::test]
async fn read_only_sends_no_write_at_all() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "v", ""));
    repo.commit("one");
    // Even an app asking for auto-sync and self-heal.
    let app = application(
        "shop",
        &repo,
        "app",
        json!({"automated": {"prune": true, "selfHeal": true}}),
    );
    let knobs = Knobs {
        read_only: true,
        auto_sync: true,
        refresh: Some(Duration::from_millis(200)),
        ..Knobs::default()
    };
    let env = start(repo, app, knobs).await;
    let before = writes(&env.cluster).len();
    env.compared_at_head().await;

    let err = env.sync(SyncOptions::default()).await.expect_err("refused");
    assert!(err.contains("--read-only"), "{err}");
    let (tx, rx) = tokio::sync::oneshot::channel();
    env.engine
        .commands()
        .send(EngineCommand::Rollback {
            app: env.name(),
            id: 1,
            options: SyncOptions::default(),
            initiated_by: "tester".into(),
            reply: Some(tx),
        })
        .await
        .unwrap();
    let err = rx.await.unwrap().expect_err("rollback refused");
    assert!(err.contains("refused"), "{err}");
    // Give auto-sync every chance to misbehave: several refreshes and a new commit.
    env.repo.write("app/b.yaml", cm_yaml("b", "v", ""));
    env.commit("two").await;
    env.compared_at_head().await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let written = &writes(&env.cluster)[before..];
    assert!(written.is_empty(), "read-only wrote: {written:#?}");
    assert!(
        get(&env.cluster, obj("v1", "ConfigMap", "shop", "a"))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn replace_true_writes_the_whole_object_without_conflicts() {
    let Some(repo) = Fixture::new() else { return };
    let replace = "argocd.argoproj.io/sync-options: Replace=true";
    repo.write("app/a.yaml", cm_yaml("a", "from-git", replace));
    repo.commit("one");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    let before = writes(&env.cluster).len();
    let op = env.sync(SyncOptions::default()).await.expect("sync");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    // Created with a POST (the audit names the object from its body), not an apply.
    let first: Vec<String> = lines(&writes(&env.cluster)[before..])
        .into_iter()
        .filter(|l| l.ends_with(" a"))
        .collect();
    assert_eq!(first, ["create configmaps a"]);

    // Another tool owns data.key and adds a key of its own: a replace takes it all back.
    apply_as(
        &env.cluster,
        "helm",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "shop"},
            "data": {"key": "helm-value", "extra": "x"}}),
    )
    .await;
    let before = writes(&env.cluster).len();
    let op = env.sync(SyncOptions::default()).await.expect("sync");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert!(
        lines(&writes(&env.cluster)[before..]).contains(&"update configmaps a".to_string()),
        "{:#?}",
        lines(&writes(&env.cluster)[before..])
    );
    let live = get(&env.cluster, obj("v1", "ConfigMap", "shop", "a"))
        .await
        .unwrap();
    assert_eq!(live["data"], json!({"key": "from-git"}));
}
