//! Syncs with the cluster's controllers running (the emulator's simulated ones, or a real
//! control plane's with kwok's Pods): Jobs run to completion (or fail with
//! `rekon.dev/simulate: fail`) and Deployments roll out, so hooks and waves wait on real
//! progress.

use crate::support::sync::*;
use rekon::model::{OperationPhase, StepStatus, SyncOptions};
use serde_json::json;

fn job(name: &str, hook: &str, simulate: &str) -> String {
    running_job_yaml(name, &format!("argocd.argoproj.io/hook: {hook}"), simulate)
}

fn deployment(name: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n      annotations: {{rekon.dev/simulate: slow-start=10s}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
    )
}

fn fast() -> Knobs {
    Knobs {
        speed: Some(20.0),
        ..Knobs::default()
    }
}

#[tokio::test]
async fn hooks_and_waves_wait_for_simulated_jobs_and_rollouts() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/migrate.yaml", job("migrate", "PreSync", ""));
    repo.write("app/web.yaml", deployment("web"));
    repo.write(
        "app/after.yaml",
        cm_yaml("after", "v", "argocd.argoproj.io/sync-wave: \"1\""),
    );
    repo.write("app/smoke.yaml", job("smoke", "PostSync", ""));
    repo.commit("app");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, fast()).await;
    env.compared_at_head().await;

    // Watch the published progress while the sync runs.
    let mut snapshots = env.engine.subscribe();
    let seen = tokio::spawn(async move {
        let mut seen = Vec::new();
        while snapshots.changed().await.is_ok() {
            let op = snapshots.borrow_and_update().apps[0].operation.clone();
            if let Some(op) = op {
                let done = op.phase != OperationPhase::Running;
                seen.push(op);
                if done {
                    break;
                }
            }
        }
        seen
    });
    let op = env.sync(SyncOptions::default()).await.expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    let seen = seen.await.unwrap();
    // The rollout was waited for: web Running (rolling out) while wave 1 was still pending.
    assert!(
        seen.iter().any(|o| {
            o.steps.iter().any(|s| {
                s.name == "web" && s.status == StepStatus::Running && s.message.contains("rollout")
            }) && o
                .steps
                .iter()
                .any(|s| s.name == "after" && s.status == StepStatus::Pending)
        }),
        "{seen:#?}"
    );
    // So was the PreSync hook: migrate running while nothing else had started.
    assert!(seen.iter().any(|o| {
        o.steps
            .first()
            .is_some_and(|s| s.status == StepStatus::Running)
            && o.steps[1..].iter().all(|s| s.status == StepStatus::Pending)
    }));
    assert_eq!(
        step_lines(&op),
        [
            "PreSync 0 Job migrate Hook Succeeded",
            "Sync 0 Deployment web Created Succeeded",
            "Sync 1 ConfigMap after Created Succeeded",
            "PostSync 0 Job smoke Hook Succeeded",
        ]
    );
    let writes = sync_writes(&env.cluster);
    assert_eq!(
        lines(&writes),
        [
            "patch jobs migrate",
            "patch deployments web",
            "patch configmaps after",
            "patch jobs smoke",
        ]
    );
    let web = get(&env.cluster, obj("apps/v1", "Deployment", "shop", "web"))
        .await
        .unwrap();
    assert_eq!(web["status"]["availableReplicas"], 2);
}

#[tokio::test]
async fn a_job_failing_in_the_simulator_fails_the_sync_and_runs_syncfail() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/migrate.yaml", job("migrate", "PreSync", "fail"));
    repo.write("app/web.yaml", deployment("web"));
    repo.write("app/alert.yaml", job("alert", "SyncFail", ""));
    repo.commit("app");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, fast()).await;
    env.compared_at_head().await;

    let op = env.sync(SyncOptions::default()).await.expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    assert_eq!(
        step_lines(&op),
        [
            "PreSync 0 Job migrate Hook Failed",
            "Sync 0 Deployment web Created Skipped",
            "SyncFail 0 Job alert Hook Succeeded",
        ]
    );
    assert!(
        op.message.starts_with("batch/Job shop/migrate: Degraded"),
        "{}",
        op.message
    );
    assert!(
        get(&env.cluster, obj("apps/v1", "Deployment", "shop", "web"))
            .await
            .is_none()
    );
}
