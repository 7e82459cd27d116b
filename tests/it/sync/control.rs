//! Controlling operations: one operation per app at a time, a running operation can be
//! terminated, a wave that never gets healthy times out, and a failed sync is retried per
//! `syncPolicy.retry`.

use std::time::Duration;

use crate::support::sync::{
    Fixture, Knobs, application, apply_as, close_gate, cm_yaml, gate_yaml, get, job_yaml, obj,
    start, step_lines,
};
use rekon::model::{OperationPhase, StepStatus, SyncOptions};
use rekon::runtime::EngineCommand;
use serde_json::json;

#[tokio::test]
async fn one_operation_at_a_time_and_terminate_stops_it() {
    let Some(repo) = Fixture::new() else { return };
    // A PreSync hook nobody finishes: the sync waits on it.
    repo.write(
        "app/migrate.yaml",
        job_yaml("migrate", "argocd.argoproj.io/hook: PreSync"),
    );
    repo.write("app/a.yaml", cm_yaml("a", "v", ""));
    repo.commit("app");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;

    let first = {
        let cmds = env.engine.commands();
        let name = env.name();
        tokio::spawn(async move { sync(&cmds, &name).await })
    };
    env.wait_app("hook running", |a| {
        a.operation.as_ref().is_some_and(|o| {
            o.steps
                .first()
                .is_some_and(|s| s.status == StepStatus::Running)
        })
    })
    .await;

    let err = env.sync(SyncOptions::default()).await.expect_err("refused");
    assert!(
        err.starts_with(
            "sync of argocd/shop refused: another operation is running (started by tester@host"
        ),
        "{err}"
    );

    env.engine
        .commands()
        .send(EngineCommand::Terminate { app: env.name() })
        .await
        .unwrap();
    let op = tokio::time::timeout(Duration::from_secs(30), first)
        .await
        .expect("terminated in time")
        .unwrap()
        .expect("operation result");
    assert_eq!(op.phase, OperationPhase::Terminated, "{op:#?}");
    assert_eq!(
        step_lines(&op),
        [
            "PreSync 0 Job migrate Hook Failed",
            "Sync 0 ConfigMap a Created Skipped",
        ]
    );
    assert!(
        get(&env.cluster, obj("v1", "ConfigMap", "shop", "a"))
            .await
            .is_none()
    );
    // Terminated syncs are history too.
    let snap = env
        .wait_app("history", |a| {
            a.detail.as_ref().is_some_and(|d| !d.history.is_empty())
        })
        .await;
    assert_eq!(
        snap.detail.unwrap().history[0].phase,
        OperationPhase::Terminated
    );
}

/// Starts a sync through a command sender (usable from a spawned task).
async fn sync(
    cmds: &tokio::sync::mpsc::Sender<EngineCommand>,
    app: &str,
) -> Result<rekon::model::Operation, String> {
    sync_with(cmds, app, SyncOptions::default()).await
}

async fn sync_with(
    cmds: &tokio::sync::mpsc::Sender<EngineCommand>,
    app: &str,
    options: SyncOptions,
) -> Result<rekon::model::Operation, String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    cmds.send(EngineCommand::Sync {
        app: app.to_string(),
        options,
        initiated_by: "tester@host".into(),
        reply: Some(tx),
    })
    .await
    .unwrap();
    rx.await.unwrap()
}

#[tokio::test]
async fn a_wave_that_never_gets_healthy_times_out_with_a_clear_message() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/gate.yaml", gate_yaml("g0", ""));
    repo.write(
        "app/after.yaml",
        cm_yaml("after", "v", "argocd.argoproj.io/sync-wave: \"1\""),
    );
    repo.commit("app");
    let app = application("shop", &repo, "app", json!({}));
    let knobs = Knobs {
        gate_crd: true,
        ..Knobs::default()
    };
    let env = start(repo, app, knobs).await;
    close_gate(&env.cluster, "g0").await;
    env.compared_at_head().await;
    env.wait_app("gate seen", |a| {
        a.resources
            .iter()
            .any(|r| r.name == "g0" && r.health.is_some())
    })
    .await;

    let op = env
        .sync(SyncOptions {
            timeout_secs: Some(1),
            ..SyncOptions::default()
        })
        .await
        .expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    let gate = &op.steps[0];
    assert_eq!(gate.status, StepStatus::Failed);
    assert_eq!(
        gate.message,
        "timed out after 1s waiting for it to become healthy (last: gate closed)"
    );
    assert_eq!(op.steps[1].status, StepStatus::Skipped);
    assert!(
        get(&env.cluster, obj("v1", "ConfigMap", "shop", "after"))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_failed_sync_is_retried_per_sync_policy_retry() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/a.yaml", cm_yaml("a", "from-git", ""));
    repo.commit("app");
    let app = application(
        "shop",
        &repo,
        "app",
        json!({"retry": {"limit": 3, "backoff": {"duration": "1s", "factor": 1}}}),
    );
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    // Another manager holds data.key with another value: refusing conflicts, the first
    // attempt fails.
    apply_as(
        &env.cluster,
        "helm",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "shop"}, "data": {"key": "helm-value"}}),
    )
    .await;
    env.wait_app("a live", |a| {
        a.resources.iter().any(|r| {
            r.name == "a" && r.sync == rekon::model::SyncStatus::OutOfSync && r.health.is_none()
        })
    })
    .await;

    let pending = {
        let cmds = env.engine.commands();
        let name = env.name();
        let options = SyncOptions {
            refuse_conflicts: true,
            ..SyncOptions::default()
        };
        tokio::spawn(async move { sync_with(&cmds, &name, options).await })
    };
    let retrying = env
        .wait_app("retrying", |a| {
            a.operation.as_ref().is_some_and(|o| {
                o.phase == OperationPhase::Running && o.message.contains("retrying in 1s")
            })
        })
        .await;
    assert!(
        retrying
            .operation
            .unwrap()
            .message
            .contains("(retry 1 of 3)"),
        "first retry announced"
    );
    // The other tool agrees with Git now: the retry goes through.
    apply_as(
        &env.cluster,
        "helm",
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "shop"}, "data": {"key": "from-git"}}),
    )
    .await;
    let op = tokio::time::timeout(Duration::from_secs(30), pending)
        .await
        .expect("in time")
        .unwrap()
        .expect("result");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert!(op.message.contains("(after 1 retry)"), "{}", op.message);
}
