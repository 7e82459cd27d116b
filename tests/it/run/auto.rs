//! Auto-sync inside the engine (what `rekon run` and the TUI's `--auto` run), against the
//! test's cluster: one sync per new commit while OutOfSync, none while Synced, and self-heal
//! undoing a manual edit.

use std::time::Duration;

use crate::support::sync::*;
use rekon::model::{AppSnapshot, OperationPhase};
use serde_json::json;

fn auto_ops(env: &Env) -> Vec<String> {
    // Syncs initiated by the engine itself, read from what rekon wrote.
    lines(&sync_writes(&env.cluster))
}

fn last_op_by(a: &AppSnapshot, who: &str) -> bool {
    a.operation
        .as_ref()
        .is_some_and(|o| o.initiated_by == who && o.phase != OperationPhase::Running)
}

#[tokio::test]
async fn auto_sync_syncs_once_per_commit_and_self_heal_undoes_a_manual_edit() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "one", ""));
    let first = repo.commit("one");
    let app = application(
        "shop",
        &repo,
        "app",
        json!({"automated": {"prune": true, "selfHeal": true}}),
    );
    let knobs = Knobs {
        auto_sync: true,
        refresh: Some(Duration::from_millis(300)),
        ..Knobs::default()
    };
    let env = start(repo, app, knobs).await;

    // The app starts OutOfSync (nothing deployed): one auto-sync.
    let snap = env
        .wait_app("auto-synced", |a| {
            last_op_by(a, "auto-sync") && a.sync == rekon::model::SyncStatus::Synced
        })
        .await;
    assert_eq!(snap.operation.unwrap().revision, first);
    // Several refreshes later, still exactly one apply of `a`.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(auto_ops(&env), ["patch configmaps a"]);

    // A new commit: one more sync.
    env.repo.write("app/a.yaml", cm_yaml("a", "two", ""));
    env.repo.write("app/c.yaml", cm_yaml("c", "new", ""));
    let second = env.repo.commit("two");
    env.wait_app("second commit synced", |a| {
        a.operation
            .as_ref()
            .is_some_and(|o| o.revision == second && o.phase == OperationPhase::Succeeded)
            && a.sync == rekon::model::SyncStatus::Synced
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let mut ops = auto_ops(&env);
    // The second sync writes `a` and `c` at once: their order is the server's.
    ops[1..].sort();
    assert_eq!(
        ops,
        [
            "patch configmaps a",
            "patch configmaps a",
            "patch configmaps c"
        ]
    );
    let history = env.wait_app("history", |a| a.detail.is_some()).await;
    let who: Vec<String> = history
        .detail
        .unwrap()
        .history
        .iter()
        .map(|e| e.initiated_by.clone())
        .collect();
    assert_eq!(who, ["auto-sync", "auto-sync"]);

    // A manual edit is undone by self-heal (it takes the field back from the editor).
    merge_patch(
        &env.cluster,
        obj("v1", "ConfigMap", "shop", "a"),
        json!({"data": {"key": "hacked"}}),
        "kubectl-edit",
    )
    .await;
    env.wait_app("healed", |a| {
        last_op_by(a, "self-heal") && a.sync == rekon::model::SyncStatus::Synced
    })
    .await;
    let live = get(&env.cluster, obj("v1", "ConfigMap", "shop", "a"))
        .await
        .unwrap();
    assert_eq!(live["data"]["key"], "two");
}

#[tokio::test]
async fn apps_without_an_enabled_policy_are_left_alone() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "one", ""));
    repo.commit("one");
    let app = application(
        "shop",
        &repo,
        "app",
        json!({"automated": {"enabled": false, "selfHeal": true}}),
    );
    let knobs = Knobs {
        auto_sync: true,
        refresh: Some(Duration::from_millis(200)),
        ..Knobs::default()
    };
    let env = start(repo, app, knobs).await;
    env.compared_at_head().await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(sync_writes(&env.cluster).is_empty());
}
