//! Git wins, as in Argo CD: a sync takes back the fields Git sets from any other field
//! manager, and names them before anything changes; `refuse_conflicts` keeps the strict
//! rule; `force` deletes and creates again what the server will not change in place.

use crate::support::sync::*;
use rekon::model::{FieldTakeover, Health, OperationPhase, StepStatus, SyncOptions, SyncStatus};
use serde_json::{Value, json};

fn deployment_yaml(replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
    )
}

fn web() -> Value {
    obj("apps/v1", "Deployment", "shop", "web")
}

/// The managers whose managedFields entries own `.spec.replicas`.
fn replicas_owners(live: &Value) -> Vec<String> {
    live["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.pointer("/fieldsV1/f:spec/f:replicas").is_some())
        .map(|e| e["manager"].as_str().unwrap().to_string())
        .collect()
}

/// A Deployment synced from Git with 2 replicas, then scaled to 5 by hand as
/// `kubectl-scale`.
async fn scaled_by_hand() -> Option<Env> {
    let repo = Fixture::new()?;
    repo.write("app/web.yaml", deployment_yaml(2));
    repo.commit("web");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    let op = env.sync(SyncOptions::default()).await.expect("first sync");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    merge_patch(
        &env.cluster,
        web(),
        json!({"spec": {"replicas": 5}}),
        "kubectl-scale",
    )
    .await;
    // Rolled out too: the cluster's Deployment controller has no more status to write, so
    // the object changes only if rekon writes.
    env.wait_app("web drifted and rolled out", |a| {
        a.resources.iter().any(|r| {
            r.name == "web" && r.sync == SyncStatus::OutOfSync && r.health == Some(Health::Healthy)
        })
    })
    .await;
    Some(env)
}

fn scale_takeover() -> Vec<FieldTakeover> {
    vec![FieldTakeover {
        manager: "kubectl-scale".into(),
        fields: vec![".spec.replicas".into()],
    }]
}

#[tokio::test]
async fn a_scaled_deployment_syncs_back_to_git_and_the_plan_names_the_takeover_first() {
    let Some(env) = scaled_by_hand().await else {
        return;
    };
    let live = get(&env.cluster, web()).await.unwrap();
    assert_eq!(replicas_owners(&live), ["kubectl-scale"]);
    let version = live["metadata"]["resourceVersion"].clone();

    // The plan (what the TUI dialog shows) and the dry run (`--dry-run`, `-o json`) name
    // the field and its manager, and change nothing.
    let before = writes(&env.cluster).len();
    let plan = env.plan(SyncOptions::default()).await.expect("plan");
    let step = plan.steps.iter().find(|s| s.name == "web").unwrap();
    assert_eq!(step.takes, scale_takeover());
    let op = env
        .sync(SyncOptions {
            dry_run: true,
            ..SyncOptions::default()
        })
        .await
        .expect("dry run");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    let step = op.steps.iter().find(|s| s.name == "web").unwrap();
    assert_eq!(step.takes, scale_takeover());
    let json = serde_json::to_value(step).unwrap();
    assert_eq!(
        json["takes"],
        json!([{"manager": "kubectl-scale", "fields": [".spec.replicas"]}])
    );
    assert!(
        writes(&env.cluster)[before..].is_empty(),
        "planning wrote: {:#?}",
        lines(&writes(&env.cluster)[before..])
    );
    let live = get(&env.cluster, web()).await.unwrap();
    assert_eq!(live["metadata"]["resourceVersion"], version);
    assert_eq!(live["spec"]["replicas"], 5);

    // The sync takes the field back: Git's replicas, owned by rekon.
    let op = env.sync(SyncOptions::default()).await.expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    let step = op.steps.iter().find(|s| s.name == "web").unwrap();
    assert_eq!(step.takes, scale_takeover());
    let live = get(&env.cluster, web()).await.unwrap();
    assert_eq!(live["spec"]["replicas"], 2);
    assert_eq!(replicas_owners(&live), ["rekon"]);

    // The history says that the sync reverted a hand edit.
    let snap = env
        .wait_app("history recorded", |a| {
            a.detail.as_ref().is_some_and(|d| d.history.len() == 2)
        })
        .await;
    let history = snap.detail.unwrap().history.clone();
    let last = history.iter().max_by_key(|e| e.id).unwrap();
    assert_eq!(last.taken.len(), 1, "{last:#?}");
    assert_eq!(last.taken[0].resource, "apps/Deployment shop/web");
    assert_eq!(last.taken[0].takes, scale_takeover());
}

#[tokio::test]
async fn refusing_conflicts_fails_before_any_change_naming_manager_and_field() {
    let Some(env) = scaled_by_hand().await else {
        return;
    };
    let before = writes(&env.cluster).len();
    let op = env
        .sync(SyncOptions {
            refuse_conflicts: true,
            ..SyncOptions::default()
        })
        .await
        .expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    let step = op.steps.iter().find(|s| s.name == "web").unwrap();
    assert_eq!(step.status, StepStatus::Failed);
    assert!(
        step.message.contains("kubectl-scale") && step.message.contains(".spec.replicas"),
        "{}",
        step.message
    );
    assert!(op.message.contains("nothing was changed"), "{}", op.message);
    let written = lines(&writes(&env.cluster)[before..]);
    assert_eq!(written, ["patch configmaps rekon-history.shop"]);
    let live = get(&env.cluster, web()).await.unwrap();
    assert_eq!(live["spec"]["replicas"], 5);
    assert_eq!(replicas_owners(&live), ["kubectl-scale"]);
}

fn job(image: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  suspend: true\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: run\n        image: {image}\n"
    )
}

#[tokio::test]
async fn force_deletes_and_creates_again_a_job_whose_template_changed() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("app/job.yaml", job("busybox:1.36"));
    repo.commit("job");
    let app = application("shop", &repo, "app", json!({}));
    let env = start(repo, app, Knobs::default()).await;
    env.compared_at_head().await;
    env.sync(SyncOptions::default()).await.expect("first sync");
    let first = get(&env.cluster, obj("batch/v1", "Job", "shop", "migrate"))
        .await
        .unwrap();

    env.repo.write("app/job.yaml", job("busybox:1.37"));
    env.commit("new image").await;
    env.compared_at_head().await;

    // Without --force the step fails and says what --force would do; nothing changes.
    let before = sync_writes(&env.cluster).len();
    let op = env.sync(SyncOptions::default()).await.expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    let step = op.steps.iter().find(|s| s.name == "migrate").unwrap();
    assert!(
        step.message.contains("field is immutable") && step.message.contains("--force"),
        "{}",
        step.message
    );
    assert!(!step.replace);
    assert!(sync_writes(&env.cluster)[before..].is_empty());

    // The plan marks the replacement before anything changes.
    let plan = env
        .plan(SyncOptions {
            force: true,
            ..SyncOptions::default()
        })
        .await
        .expect("plan");
    let step = plan.steps.iter().find(|s| s.name == "migrate").unwrap();
    assert!(step.replace, "{step:#?}");
    assert!(sync_writes(&env.cluster)[before..].is_empty());

    let op = env
        .sync(SyncOptions {
            force: true,
            ..SyncOptions::default()
        })
        .await
        .expect("sync runs");
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert!(op.steps.iter().any(|s| s.name == "migrate" && s.replace));
    assert!(op.message.contains("1 replaced"), "{}", op.message);
    let written = lines(&sync_writes(&env.cluster)[before..]);
    assert_eq!(written, ["delete jobs migrate", "patch jobs migrate"]);
    let now = get(&env.cluster, obj("batch/v1", "Job", "shop", "migrate"))
        .await
        .unwrap();
    assert_ne!(now["metadata"]["uid"], first["metadata"]["uid"]);
    assert_eq!(
        now["spec"]["template"]["spec"]["containers"][0]["image"],
        "busybox:1.37"
    );
}
