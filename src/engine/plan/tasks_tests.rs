use super::*;
use crate::engine::tracking;
use crate::model::{Automated, ResourceDiff, SyncPolicy};
use serde_json::json;

fn app(sync_options: &[&str]) -> Application {
    let mut app: Application = serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "shop", "namespace": "argocd"},
        "spec": {"source": {"repoURL": "/git/shop"}, "destination": {"namespace": "shop"}}
    }))
    .unwrap();
    app.spec.sync_policy = Some(SyncPolicy {
        automated: None::<Automated>,
        sync_options: sync_options.iter().map(|s| s.to_string()).collect(),
        retry: None,
    });
    app
}

fn object(api_version: &str, kind: &str, ns: &str, name: &str, annotations: Value) -> Value {
    let mut o = json!({"apiVersion": api_version, "kind": kind,
        "metadata": {"name": name, "annotations": annotations}});
    if !ns.is_empty() {
        o["metadata"]["namespace"] = json!(ns);
    }
    tracking::set_tracking_id(&mut o, "shop");
    o
}

fn desired(obj: Value) -> DesiredObject {
    let key = ResourceKey::of(&obj).unwrap_or_else(|| {
        ResourceKey::new(
            split_api_version(obj["apiVersion"].as_str().unwrap()).0,
            obj["kind"].as_str().unwrap(),
            "",
            "",
        )
    });
    DesiredObject {
        key,
        api_version: obj["apiVersion"].as_str().unwrap().to_string(),
        hook: crate::engine::health::is_hook(&obj),
        json: obj.to_string().into(),
        origin: "x.yaml:1".into(),
        problem: None,
    }
}

fn outcome(key: &ResourceKey, sync: SyncStatus) -> ResourceOutcome {
    ResourceOutcome {
        key: key.clone(),
        version: "v1".into(),
        diff: ResourceDiff {
            key: key.clone(),
            desired: None,
            live: None,
            changed: sync != SyncStatus::Synced,
        },
        sync,
        message: String::new(),
        requires_pruning: false,
        method: None,
    }
}

struct Case {
    app: Application,
    desired: Vec<DesiredObject>,
    outcomes: Vec<ResourceOutcome>,
    live: HashMap<ResourceKey, Arc<Value>>,
    extras: Vec<Arc<Value>>,
    options: SyncOptions,
    allow_empty: bool,
    create_namespace: Option<String>,
}

impl Case {
    fn new(objects: Vec<Value>) -> Self {
        Case {
            app: app(&[]),
            desired: objects.into_iter().map(desired).collect(),
            outcomes: Vec::new(),
            live: HashMap::new(),
            extras: Vec::new(),
            options: SyncOptions::default(),
            allow_empty: false,
            create_namespace: None,
        }
    }

    fn live(mut self, key: &ResourceKey, sync: SyncStatus) -> Self {
        let d = self.desired.iter().find(|d| d.key == *key).unwrap();
        self.live.insert(key.clone(), Arc::new(d.object()));
        self.outcomes.push(outcome(key, sync));
        self
    }

    fn plan(&self) -> Result<Plan, PlanError> {
        build(&PlanInput {
            app: &self.app,
            revision: "abc",
            desired: &self.desired,
            outcomes: &self.outcomes,
            live: &self.live,
            extras: &self.extras,
            options: &self.options,
            allow_empty: self.allow_empty,
            create_namespace: self.create_namespace.clone(),
        })
    }
}

fn line(s: &SyncStep) -> String {
    format!(
        "{:?} {} {} {} {:?} {:?}",
        s.phase, s.wave, s.kind, s.name, s.action, s.status
    )
}

fn lines(plan: &Plan) -> Vec<String> {
    plan.model.steps.iter().map(line).collect()
}

#[test]
fn phases_then_waves_then_kind_order_then_name() {
    let case = Case::new(vec![
        object("apps/v1", "Deployment", "shop", "web", json!({})),
        object("v1", "Service", "shop", "web", json!({})),
        object("v1", "ConfigMap", "shop", "b", json!({})),
        object("v1", "ConfigMap", "shop", "a", json!({})),
        object("example.com/v1", "Widget", "shop", "w", json!({})),
        object(
            "v1",
            "ConfigMap",
            "shop",
            "late",
            json!({"argocd.argoproj.io/sync-wave": "2"}),
        ),
        object(
            "v1",
            "ConfigMap",
            "shop",
            "early",
            json!({"argocd.argoproj.io/sync-wave": "-1"}),
        ),
        object(
            "batch/v1",
            "Job",
            "shop",
            "migrate",
            json!({"argocd.argoproj.io/hook": "PreSync"}),
        ),
        object(
            "batch/v1",
            "Job",
            "shop",
            "smoke",
            json!({"argocd.argoproj.io/hook": "PostSync"}),
        ),
        object(
            "batch/v1",
            "Job",
            "shop",
            "alert",
            json!({"argocd.argoproj.io/hook": "SyncFail"}),
        ),
    ]);
    let plan = case.plan().unwrap();
    assert_eq!(
        lines(&plan),
        [
            "PreSync 0 Job migrate Hook Pending",
            "Sync -1 ConfigMap early Created Pending",
            "Sync 0 ConfigMap a Created Pending",
            "Sync 0 ConfigMap b Created Pending",
            "Sync 0 Service web Created Pending",
            "Sync 0 Deployment web Created Pending",
            "Sync 0 Widget w Created Pending",
            "Sync 2 ConfigMap late Created Pending",
            "PostSync 0 Job smoke Hook Pending",
            "SyncFail 0 Job alert Hook Pending",
        ]
    );
    assert_eq!(plan.tasks.len(), plan.model.steps.len());
    assert!(matches!(plan.tasks[0].kind, TaskKind::Hook { .. }));
    assert_eq!(plan.tasks[1].kind, TaskKind::Apply);
}

#[test]
fn actions_come_from_the_comparison() {
    let cm = |n: &str| object("v1", "ConfigMap", "shop", n, json!({}));
    let case = Case::new(vec![cm("new"), cm("changed"), cm("same")])
        .live(
            &ResourceKey::new("", "ConfigMap", "shop", "changed"),
            SyncStatus::OutOfSync,
        )
        .live(
            &ResourceKey::new("", "ConfigMap", "shop", "same"),
            SyncStatus::Synced,
        );
    assert_eq!(
        lines(&case.plan().unwrap()),
        [
            "Sync 0 ConfigMap changed Configured Pending",
            "Sync 0 ConfigMap new Created Pending",
            "Sync 0 ConfigMap same Unchanged Pending",
        ]
    );
    let mut only_out_of_sync = case;
    only_out_of_sync.options.apply_out_of_sync_only = true;
    let plan = only_out_of_sync.plan().unwrap();
    assert_eq!(plan.model.steps[2].action, StepAction::Skipped);
    assert_eq!(plan.model.steps[2].status, StepStatus::Skipped);
    assert_eq!(plan.tasks[2].kind, TaskKind::Nothing);
}

#[test]
fn apply_out_of_sync_only_as_an_app_option() {
    let cm = object("v1", "ConfigMap", "shop", "same", json!({}));
    let mut case = Case::new(vec![cm]).live(
        &ResourceKey::new("", "ConfigMap", "shop", "same"),
        SyncStatus::Synced,
    );
    case.app = app(&["ApplyOutOfSyncOnly=true"]);
    assert_eq!(
        lines(&case.plan().unwrap()),
        ["Sync 0 ConfigMap same Skipped Skipped"]
    );
}

#[test]
fn namespace_and_crd_move_ahead_of_their_first_user() {
    let crd = object(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "",
        "widgets.example.com",
        json!({"argocd.argoproj.io/sync-wave": "5"}),
    );
    let mut crd = crd;
    crd["spec"] =
        json!({"group": "example.com", "names": {"kind": "Widget"}, "scope": "Namespaced"});
    let case = Case::new(vec![
        object(
            "v1",
            "Namespace",
            "",
            "tenant",
            json!({"argocd.argoproj.io/sync-wave": "3"}),
        ),
        crd,
        object(
            "example.com/v1",
            "Widget",
            "tenant",
            "w",
            json!({"argocd.argoproj.io/sync-wave": "1"}),
        ),
        object(
            "batch/v1",
            "Job",
            "tenant",
            "seed",
            json!({"argocd.argoproj.io/hook": "PreSync"}),
        ),
    ]);
    assert_eq!(
        lines(&case.plan().unwrap()),
        [
            "PreSync 0 Namespace tenant Created Pending",
            "PreSync 0 Job seed Hook Pending",
            "Sync 1 CustomResourceDefinition widgets.example.com Created Pending",
            "Sync 1 Widget w Created Pending",
        ]
    );
}

#[test]
fn prune_only_when_asked_and_respects_prune_false() {
    let gone = Arc::new(object("v1", "ConfigMap", "shop", "gone", json!({})));
    let kept = Arc::new(object(
        "v1",
        "ConfigMap",
        "shop",
        "kept",
        json!({"argocd.argoproj.io/sync-options": "Prune=false"}),
    ));
    let mut case = Case::new(vec![object("v1", "ConfigMap", "shop", "here", json!({}))]);
    case.extras = vec![gone, kept];
    let plan = case.plan().unwrap();
    assert_eq!(
        lines(&plan),
        [
            "Sync 0 ConfigMap gone Skipped Skipped",
            "Sync 0 ConfigMap kept Skipped Skipped",
            "Sync 0 ConfigMap here Created Pending",
        ]
    );
    assert!(plan.model.steps[0].message.contains("requires pruning"));
    case.options.prune = true;
    let plan = case.plan().unwrap();
    assert_eq!(
        lines(&plan),
        [
            "Sync 0 ConfigMap gone Pruned Pending",
            "Sync 0 ConfigMap kept Skipped Skipped",
            "Sync 0 ConfigMap here Created Pending",
        ]
    );
    assert_eq!(plan.tasks[0].kind, TaskKind::Prune);
    assert!(plan.model.steps[1].message.contains("Prune=false"));
}

#[test]
fn prune_waves_run_in_reverse_and_prune_last_goes_after_the_last_wave() {
    let wave = |n: &str, w: &str| {
        Arc::new(object(
            "v1",
            "ConfigMap",
            "shop",
            n,
            json!({"argocd.argoproj.io/sync-wave": w}),
        ))
    };
    let mut case = Case::new(vec![object(
        "v1",
        "ConfigMap",
        "shop",
        "app",
        json!({"argocd.argoproj.io/sync-wave": "4"}),
    )]);
    case.extras = vec![wave("w1", "1"), wave("w2", "2"), wave("w3", "3")];
    case.options.prune = true;
    assert_eq!(
        lines(&case.plan().unwrap()),
        [
            "Sync 1 ConfigMap w3 Pruned Pending",
            "Sync 2 ConfigMap w2 Pruned Pending",
            "Sync 3 ConfigMap w1 Pruned Pending",
            "Sync 4 ConfigMap app Created Pending",
        ]
    );
    case.app = app(&["PruneLast=true"]);
    assert_eq!(
        lines(&case.plan().unwrap()),
        [
            "Sync 4 ConfigMap app Created Pending",
            "Sync 5 ConfigMap w1 Pruned Pending",
            "Sync 5 ConfigMap w2 Pruned Pending",
            "Sync 5 ConfigMap w3 Pruned Pending",
        ]
    );
}

#[test]
fn prunes_come_first_in_a_wave_dependents_before_namespaces() {
    let mut case = Case::new(vec![object("v1", "ConfigMap", "shop", "a", json!({}))]);
    case.extras = vec![
        Arc::new(object("v1", "Namespace", "", "old", json!({}))),
        Arc::new(object("apps/v1", "Deployment", "old", "web", json!({}))),
    ];
    case.options.prune = true;
    assert_eq!(
        lines(&case.plan().unwrap()),
        [
            "Sync 0 Deployment web Pruned Pending",
            "Sync 0 Namespace old Pruned Pending",
            "Sync 0 ConfigMap a Created Pending",
        ]
    );
}

#[test]
fn refuses_to_prune_everything_when_git_renders_nothing() {
    let mut case = Case::new(vec![object(
        "batch/v1",
        "Job",
        "shop",
        "hook",
        json!({"argocd.argoproj.io/hook": "PreSync"}),
    )]);
    case.extras = vec![Arc::new(object("v1", "ConfigMap", "shop", "a", json!({})))];
    case.options.prune = true;
    let err = case.plan().unwrap_err();
    assert_eq!(
        err,
        PlanError::EmptyPrune {
            app: "argocd/shop".into(),
            count: 1
        }
    );
    assert!(err.to_string().contains("allowEmpty"));
    case.allow_empty = true;
    assert!(case.plan().is_ok());
    // Without --prune nothing would be deleted: no refusal.
    case.allow_empty = false;
    case.options.prune = false;
    assert!(case.plan().is_ok());
}

#[test]
fn selective_sync_runs_no_hooks_and_refuses_unknown_resources() {
    let mut case = Case::new(vec![
        object("v1", "ConfigMap", "shop", "a", json!({})),
        object("v1", "ConfigMap", "shop", "b", json!({})),
        object(
            "batch/v1",
            "Job",
            "shop",
            "migrate",
            json!({"argocd.argoproj.io/hook": "PreSync"}),
        ),
    ]);
    case.options.resources = vec![ResourceKey::new("", "ConfigMap", "shop", "b")];
    assert_eq!(
        lines(&case.plan().unwrap()),
        ["Sync 0 ConfigMap b Created Pending"]
    );
    case.options.resources = vec![ResourceKey::new("", "ConfigMap", "shop", "zzz")];
    let err = case.plan().unwrap_err();
    assert_eq!(
        err.to_string(),
        "--resource :ConfigMap:shop/zzz: app argocd/shop has no such resource (in Git or tracked live)"
    );
}

#[test]
fn helm_hooks_and_skip() {
    let case = Case::new(vec![
        object(
            "batch/v1",
            "Job",
            "shop",
            "pre",
            json!({"helm.sh/hook": "pre-install", "helm.sh/hook-weight": "-1"}),
        ),
        object(
            "batch/v1",
            "Job",
            "shop",
            "test",
            json!({"helm.sh/hook": "test"}),
        ),
        object(
            "v1",
            "ConfigMap",
            "shop",
            "skipped",
            json!({"argocd.argoproj.io/hook": "Skip"}),
        ),
        object(
            "batch/v1",
            "Job",
            "shop",
            "both",
            json!({"argocd.argoproj.io/hook": "PreSync,PostSync"}),
        ),
    ]);
    assert_eq!(
        lines(&case.plan().unwrap()),
        [
            "PreSync -1 Job pre Hook Pending",
            "PreSync 0 Job both Hook Pending",
            "Sync 0 ConfigMap skipped Skipped Skipped",
            "Sync 0 Job test Skipped Skipped",
            "PostSync 0 Job both Hook Pending",
        ]
    );
}

#[test]
fn create_namespace_step_leads_unless_git_has_the_namespace() {
    let mut case = Case::new(vec![object(
        "v1",
        "ConfigMap",
        "shop",
        "a",
        json!({"argocd.argoproj.io/sync-wave": "-3"}),
    )]);
    case.create_namespace = Some("shop".into());
    let plan = case.plan().unwrap();
    assert_eq!(
        lines(&plan),
        [
            "PreSync 0 Namespace shop Created Pending",
            "Sync -3 ConfigMap a Created Pending"
        ]
    );
    assert_eq!(plan.tasks[0].kind, TaskKind::CreateNamespace);
    let mut with_ns = Case::new(vec![object("v1", "Namespace", "", "shop", json!({}))]);
    with_ns.create_namespace = Some("shop".into());
    assert_eq!(
        lines(&with_ns.plan().unwrap()),
        ["Sync 0 Namespace shop Created Pending"]
    );
}

#[test]
fn generate_name_hooks_show_their_prefix() {
    let mut job = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"generateName": "migrate-", "namespace": "shop",
            "annotations": {"argocd.argoproj.io/hook": "PreSync"}}});
    tracking::set_tracking_id(&mut job, "shop");
    let case = Case::new(vec![job]);
    let plan = case.plan().unwrap();
    assert_eq!(lines(&plan), ["PreSync 0 Job migrate- Hook Pending"]);
    assert_eq!(plan.model.steps[0].namespace, "shop");
    assert!(plan.tasks[0].generate_name);
}
