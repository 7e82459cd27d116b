//! Sync history: every full sync is recorded in the app's ConfigMap (with its commit's
//! author and message), at most revisionHistoryLimit entries; selective syncs are not;
//! rollback syncs an earlier entry's revision, and is refused while auto-sync is on.

use crate::support::sync::*;
use rekon::model::{HistoryEntry, Operation, OperationPhase, ResourceKey, SyncOptions};
use rekon::runtime::EngineCommand;
use serde_json::json;

async fn history(env: &Env) -> Vec<HistoryEntry> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    env.engine
        .commands()
        .send(EngineCommand::History {
            app: env.name(),
            reply: tx,
        })
        .await
        .unwrap();
    rx.await.unwrap().expect("history")
}

async fn rollback(env: &Env, id: u64) -> Result<Operation, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    env.engine
        .commands()
        .send(EngineCommand::Rollback {
            app: env.name(),
            id,
            options: SyncOptions::default(),
            initiated_by: "tester@host".into(),
            reply: Some(tx),
        })
        .await
        .unwrap();
    rx.await.unwrap()
}

async fn value_of(env: &Env, name: &str) -> Option<String> {
    get(&env.cluster, obj("v1", "ConfigMap", "shop", name))
        .await
        .map(|o| o["data"]["key"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn syncs_are_recorded_and_rollback_restores_an_earlier_revision() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "one", ""));
    let first = repo.commit("first version");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    let op = env.sync(SyncOptions::default()).await.expect("sync 1");
    assert_eq!(op.phase, OperationPhase::Succeeded);

    env.repo.write("app/a.yaml", cm_yaml("a", "two", ""));
    env.repo.write("app/b.yaml", cm_yaml("b", "new", ""));
    let second = env.commit("second version").await;
    env.compared_at_head().await;
    env.sync(SyncOptions::default()).await.expect("sync 2");
    assert_eq!(value_of(&env, "a").await.as_deref(), Some("two"));

    // A selective sync is not history.
    env.sync(SyncOptions {
        resources: vec![ResourceKey::new("", "ConfigMap", "shop", "b")],
        ..SyncOptions::default()
    })
    .await
    .expect("selective sync");

    let entries = history(&env).await;
    let summary: Vec<(u64, &str, &str, OperationPhase)> = entries
        .iter()
        .map(|e| {
            (
                e.id,
                e.revision.as_str(),
                e.commit_message.as_str(),
                e.phase,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                2,
                second.as_str(),
                "second version",
                OperationPhase::Succeeded
            ),
            (
                1,
                first.as_str(),
                "first version",
                OperationPhase::Succeeded
            ),
        ]
    );
    assert_eq!(entries[0].author, "Test Author <author@example.com>");
    assert_eq!(entries[0].initiated_by, "tester@host");
    assert_eq!(entries[0].summary, "1 created, 1 configured");
    assert!(!entries[0].started_at.is_empty() && !entries[0].finished_at.is_empty());

    let op = rollback(&env, 1).await.expect("rollback runs");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert_eq!(op.revision, first);
    assert_eq!(value_of(&env, "a").await.as_deref(), Some("one"));
    // Not pruned by a rollback (no --prune): b stays, now out of sync with the rollback.
    assert_eq!(value_of(&env, "b").await.as_deref(), Some("new"));
    let entries = history(&env).await;
    assert_eq!(entries[0].id, 3);
    assert_eq!(entries[0].revision, first);
    // The engine publishes the history too, newest first.
    let snap = env
        .wait_app("history published", |a| {
            a.detail.as_ref().is_some_and(|d| d.history.len() == 3)
        })
        .await;
    assert_eq!(snap.detail.unwrap().history[0].id, 3);
    assert!(snap.last_sync.is_some());

    let err = rollback(&env, 42).await.expect_err("unknown id");
    assert!(
        err.contains("no history entry 42 (known: 1, 2, 3)"),
        "{err}"
    );
}

#[tokio::test]
async fn history_keeps_at_most_revision_history_limit_entries() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "v0", ""));
    repo.commit("v0");
    let mut app = application("shop", &repo, "app", json!({}));
    app.spec.revision_history_limit = Some(2);
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    for n in 1..=3 {
        env.repo
            .write("app/a.yaml", cm_yaml("a", &format!("v{n}"), ""));
        env.commit(&format!("v{n}")).await;
        env.compared_at_head().await;
        env.sync(SyncOptions::default()).await.expect("sync");
    }
    let ids: Vec<u64> = history(&env).await.iter().map(|e| e.id).collect();
    assert_eq!(ids, [3, 2]);
}

#[tokio::test]
async fn rollback_is_refused_while_auto_sync_is_on() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "v", ""));
    repo.commit("one");
    let app = application("shop", &repo, "app", json!({"automated": {}}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    env.sync(SyncOptions::default()).await.expect("sync");
    let err = rollback(&env, 1).await.expect_err("refused");
    assert!(
        err.starts_with("rollback of argocd/shop refused: auto-sync is on"),
        "{err}"
    );
}
