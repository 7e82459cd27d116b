//! Syncs: phases and waves run in the planned order, each wave waits for the health of the
//! one before, hooks are waited for and deleted by policy, and a failing PreSync hook stops
//! the sync and runs the SyncFail hooks.

use std::time::Duration;

use crate::support::sync::*;
use rekon::model::{OperationPhase, StepStatus, SyncOptions};
use serde_json::json;

const PRESYNC: &str = "argocd.argoproj.io/hook: PreSync";
const POSTSYNC: &str = "argocd.argoproj.io/hook: PostSync";
const SYNCFAIL: &str = "argocd.argoproj.io/hook: SyncFail";

/// Jobs run in seconds of the emulator's simulated time: make those quick.
fn fast() -> Knobs {
    Knobs {
        speed: Some(20.0),
        ..Knobs::default()
    }
}

fn wave(n: i32) -> String {
    format!("argocd.argoproj.io/sync-wave: \"{n}\"")
}

#[tokio::test]
async fn waves_and_hooks_run_in_the_planned_order_and_waves_wait_for_health() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/migrate.yaml", job_yaml("migrate", PRESYNC));
    repo.write("app/gate.yaml", gate_yaml("g0", ""));
    repo.write("app/cm0.yaml", cm_yaml("cm-0", "a", ""));
    repo.write("app/cm1.yaml", cm_yaml("cm-1", "b", &wave(1)));
    repo.write("app/smoke.yaml", job_yaml("smoke", POSTSYNC));
    repo.write("app/alert.yaml", job_yaml("alert", SYNCFAIL));
    repo.commit("app");
    let app = application("shop", &repo, "app", json!({}));
    let knobs = Knobs {
        gate_crd: true,
        ..fast()
    };
    let env = start(repo, app, knobs).await;
    close_gate(&env.cluster, "g0").await;
    env.compared_at_head().await;
    env.wait_app("the closed gate compared", |a| {
        a.resources
            .iter()
            .any(|r| r.name == "g0" && r.health.is_some())
    })
    .await;

    let plan = env.plan(SyncOptions::default()).await.expect("plan");
    let planned: Vec<String> = plan
        .steps
        .iter()
        .map(|s| format!("{:?} {} {} {}", s.phase, s.wave, s.kind, s.name))
        .collect();
    assert_eq!(
        planned,
        [
            "PreSync 0 Job migrate",
            "Sync 0 ConfigMap cm-0",
            "Sync 0 Gate g0",
            "Sync 1 ConfigMap cm-1",
            "PostSync 0 Job smoke",
            "SyncFail 0 Job alert",
        ]
    );

    let engine_cmds = env.engine.commands();
    let name = env.name();
    let sync = tokio::spawn(async move {
        let (tx, rx) = tokio::sync::oneshot::channel();
        engine_cmds
            .send(rekon::runtime::EngineCommand::Sync {
                app: name,
                options: SyncOptions::default(),
                initiated_by: "tester".into(),
                reply: Some(tx),
            })
            .await
            .unwrap();
        rx.await.unwrap()
    });

    // The PreSync hook runs alone: nothing of the Sync phase is written while it runs.
    wait_exists(&env.cluster, obj("batch/v1", "Job", "shop", "migrate")).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !lines(&sync_writes(&env.cluster))
            .iter()
            .any(|l| l.contains("configmaps")),
        "Sync phase started before the PreSync hook finished: {:#?}",
        lines(&sync_writes(&env.cluster))
    );
    // While running, the app's published operation shows the hook running.
    let running = env
        .wait_app("operation running", |a| {
            a.operation.as_ref().is_some_and(|o| {
                o.phase == OperationPhase::Running
                    && o.steps
                        .first()
                        .is_some_and(|s| s.status == StepStatus::Running)
            })
        })
        .await;
    assert_eq!(running.operation.unwrap().steps[0].name, "migrate");
    resume_job(&env.cluster, "migrate").await;
    // The Sync phase starts only once the cluster's Job controller says the hook is done.
    wait_exists(&env.cluster, obj("v1", "ConfigMap", "shop", "cm-0")).await;
    let migrate = get(&env.cluster, obj("batch/v1", "Job", "shop", "migrate"))
        .await
        .unwrap();
    assert!(job_condition(&migrate, "Complete"), "{migrate:#}");

    // Wave 0 holds until the gate is healthy.
    env.wait_app("gate applied", |a| {
        a.operation.as_ref().is_some_and(|o| {
            o.steps
                .iter()
                .any(|s| s.name == "g0" && s.status == StepStatus::Running)
        })
    })
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        !lines(&sync_writes(&env.cluster)).contains(&"patch configmaps cm-1".to_string()),
        "wave 1 started before wave 0 was healthy"
    );
    open_gate(&env.cluster, "g0").await;

    wait_exists(&env.cluster, obj("batch/v1", "Job", "shop", "smoke")).await;
    resume_job(&env.cluster, "smoke").await;

    let op = tokio::time::timeout(Duration::from_secs(60), sync)
        .await
        .expect("sync ends")
        .unwrap()
        .expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert_eq!(
        step_lines(&op),
        [
            "PreSync 0 Job migrate Hook Succeeded",
            "Sync 0 ConfigMap cm-0 Created Succeeded",
            "Sync 0 Gate g0 Configured Succeeded",
            "Sync 1 ConfigMap cm-1 Created Succeeded",
            "PostSync 0 Job smoke Hook Succeeded",
            "SyncFail 0 Job alert Hook Skipped",
        ]
    );
    let audit = env.cluster.audit();
    let writes = sync_writes(&env.cluster);
    assert_eq!(
        lines(&writes),
        [
            "patch jobs migrate",
            "patch configmaps cm-0",
            "patch gates g0",
            "patch configmaps cm-1",
            "patch jobs smoke",
        ]
    );
    // Each group started only after what came before it was done.
    let by_test = |resource: &str, name: &str| {
        audit
            .iter()
            .find(|e| {
                e.resource == resource && e.name == name && e.field_manager == "test-controller"
            })
            .map(|e| e.seq)
            .unwrap_or_else(|| panic!("the test never wrote {resource} {name}"))
    };
    assert!(by_test("jobs", "migrate") < seq_of(&writes, "patch configmaps cm-0"));
    assert!(seq_of(&writes, "patch gates g0") < seq_of(&writes, "patch configmaps cm-1"));
    assert!(by_test("gates", "g0") < seq_of(&writes, "patch configmaps cm-1"));
    assert!(seq_of(&writes, "patch configmaps cm-1") < seq_of(&writes, "patch jobs smoke"));
    // No hook of the SyncFail phase ran.
    assert!(
        get(&env.cluster, obj("batch/v1", "Job", "shop", "alert"))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn a_failing_presync_hook_stops_the_sync_and_runs_syncfail() {
    let Some(repo) = Fixture::new() else { return };
    repo.write(
        "app/migrate.yaml",
        running_job_yaml("migrate", PRESYNC, "fail"),
    );
    repo.write("app/cm0.yaml", cm_yaml("cm-0", "a", ""));
    repo.write("app/smoke.yaml", running_job_yaml("smoke", POSTSYNC, ""));
    repo.write("app/alert.yaml", running_job_yaml("alert", SYNCFAIL, ""));
    repo.commit("app");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, fast()).await;
    env.compared_at_head().await;

    let op = env.sync(SyncOptions::default()).await.expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    assert!(
        op.message.starts_with("batch/Job shop/migrate: Degraded")
            && op.message.ends_with("(SyncFail hooks ran)"),
        "{}",
        op.message
    );
    assert_eq!(
        step_lines(&op),
        [
            "PreSync 0 Job migrate Hook Failed",
            "Sync 0 ConfigMap cm-0 Created Skipped",
            "PostSync 0 Job smoke Hook Skipped",
            "SyncFail 0 Job alert Hook Succeeded",
        ]
    );
    assert_eq!(
        lines(&sync_writes(&env.cluster)),
        ["patch jobs migrate", "patch jobs alert"]
    );
    assert!(
        get(&env.cluster, obj("v1", "ConfigMap", "shop", "cm-0"))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn hooks_are_deleted_by_their_policies() {
    let Some(repo) = Fixture::new() else { return };
    // Default policy: the old copy is deleted before the hook is created again.
    repo.write("app/migrate.yaml", running_job_yaml("migrate", PRESYNC, ""));
    repo.write(
        "app/cleanup.yaml",
        running_job_yaml(
            "cleanup",
            &format!("{POSTSYNC}, argocd.argoproj.io/hook-delete-policy: HookSucceeded"),
            "",
        ),
    );
    repo.write("app/cm0.yaml", cm_yaml("cm-0", "a", ""));
    repo.commit("app");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, fast()).await;
    env.compared_at_head().await;

    let op = env.sync(SyncOptions::default()).await.expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert!(
        op.steps[2].message.contains("deleted by its delete policy"),
        "{op:#?}"
    );
    wait_gone(&env.cluster, obj("batch/v1", "Job", "shop", "cleanup")).await;
    let first = wait_exists(&env.cluster, obj("batch/v1", "Job", "shop", "migrate")).await;

    let before = env.cluster.audit().len();
    let op = env
        .sync(SyncOptions::default())
        .await
        .expect("second sync runs");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    let audit: Vec<_> = env.cluster.audit()[before..]
        .iter()
        .filter(|e| !e.dry_run)
        .cloned()
        .collect();
    let again = &lines(&audit)
        .into_iter()
        .filter(|l| l.contains("jobs migrate") && !l.starts_with("get") && !l.starts_with("list"))
        .collect::<Vec<_>>();
    assert_eq!(again, &["delete jobs migrate", "patch jobs migrate"]);
    let now = wait_exists(&env.cluster, obj("batch/v1", "Job", "shop", "migrate")).await;
    assert_ne!(
        first["metadata"]["uid"], now["metadata"]["uid"],
        "the hook was created anew"
    );
}

#[tokio::test]
async fn a_crd_and_its_custom_resources_sync_together() {
    let Some(repo) = Fixture::new() else { return };
    repo.write(
        "app/crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.tests.rekon.dev\nspec:\n  group: tests.rekon.dev\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets, singular: widget}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n",
    );
    repo.write(
        "app/widget.yaml",
        "apiVersion: tests.rekon.dev/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n",
    );
    repo.write("app/cm.yaml", cm_yaml("cm", "v", ""));
    repo.commit("crd and cr");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;

    let op = env.sync(SyncOptions::default()).await.expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert_eq!(
        step_lines(&op),
        [
            "Sync 0 ConfigMap cm Created Succeeded",
            "Sync 0 CustomResourceDefinition widgets.tests.rekon.dev Created Succeeded",
            "Sync 0 Widget w1 Created Succeeded",
        ]
    );
    let w = get(
        &env.cluster,
        obj("tests.rekon.dev/v1", "Widget", "shop", "w1"),
    )
    .await
    .expect("the widget exists");
    assert_eq!(w["spec"]["size"], 3);
    // The engine learned the new kind: the app compares in sync.
    env.wait_app("in sync", |a| a.sync == rekon::model::SyncStatus::Synced)
        .await;
}
