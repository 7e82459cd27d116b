//! Helpers for the sync tests: the test's cluster (emulated or real, see
//! [`super::cluster`]), a fixture Git repository, an engine over both, and readers of the
//! cluster's audit log.

use std::sync::Arc;
use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use rekon::model::{AppSnapshot, Application, Operation, SyncOptions, SyncPlan};
use rekon::runtime::{self, EngineCommand, EngineHandle, EngineOptions};
use rekon::source::Sources;
use rekon_emulator::{AuditEntry, ClusterOptions};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

use super::cluster::{ClusterAccess, TestCluster, wait_served};
pub use super::source::Fixture;

/// Verbs that change something.
const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// A cluster, a Git fixture and an engine reconciling one app.
pub struct Env {
    pub cluster: TestCluster,
    pub repo: Fixture,
    pub engine: EngineHandle,
    pub app: Application,
    _cache: TempDir,
}

/// An Application pointing at `repo` path `path`, deploying to namespace `shop`.
pub fn application(name: &str, repo: &Fixture, path: &str, sync_policy: Value) -> Application {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "source": {"repoURL": repo.local_url(), "path": path, "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
            "syncPolicy": sync_policy,
        }
    }))
    .expect("valid Application")
}

/// Engine knobs for a test.
#[derive(Default, Clone, Copy)]
pub struct Knobs {
    pub read_only: bool,
    pub auto_sync: bool,
    pub refresh: Option<Duration>,
    /// Install the Gate CRD before the engine starts.
    pub gate_crd: bool,
    /// The emulator's simulated time runs this many times faster (1 when unset; a real
    /// cluster runs in real time).
    pub speed: Option<f64>,
}

/// Starts the test's cluster with namespace `shop`, and an engine for `app`.
pub async fn start(repo: Fixture, app: Application, knobs: Knobs) -> Env {
    let cluster = TestCluster::start(ClusterOptions {
        name: "test".into(),
        speed: knobs.speed.unwrap_or(1.0),
        ..ClusterOptions::default()
    })
    .await;
    create_namespace(&cluster, "shop").await;
    if knobs.gate_crd {
        install_gate_crd(&cluster).await;
    }
    let cache = TempDir::new().unwrap();
    let engine = engine_for(&cluster, &cache, vec![app.clone()], knobs);
    Env {
        cluster,
        repo,
        engine,
        app,
        _cache: cache,
    }
}

/// An engine over `cluster` for these apps.
pub fn engine_for(
    cluster: &TestCluster,
    cache: &TempDir,
    apps: Vec<Application>,
    knobs: Knobs,
) -> EngineHandle {
    runtime::start(EngineOptions {
        apps,
        clusters: vec![cluster.handle()],
        sources: Arc::new(Sources::new(cache.path().join("repos"))),
        read_only: knobs.read_only,
        config_ignore: Vec::new(),
        refresh_every: knobs.refresh,
        auto_sync: knobs.auto_sync,
        skip_trees: false,
        projects: Vec::new(),
    })
}

/// Creates a namespace, as a setup tool would.
pub async fn create_namespace(cluster: &impl ClusterAccess, name: &str) {
    apply_as(
        cluster,
        "setup",
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
    )
    .await;
}

fn resource_of(obj: &Value) -> ApiResource {
    let api_version = obj["apiVersion"].as_str().unwrap();
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let kind = obj["kind"].as_str().unwrap();
    let plural = match kind {
        "ConfigMap" => "configmaps".to_string(),
        "Namespace" => "namespaces".to_string(),
        "Service" => "services".to_string(),
        "Job" => "jobs".to_string(),
        "Deployment" => "deployments".to_string(),
        "CustomResourceDefinition" => "customresourcedefinitions".to_string(),
        other => format!("{}s", other.to_lowercase()),
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), &plural)
}

fn api_of(cluster: &impl ClusterAccess, obj: &Value) -> Api<DynamicObject> {
    let ar = resource_of(obj);
    match obj.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) => Api::namespaced_with(cluster.admin(), ns, &ar),
        None => Api::all_with(cluster.admin(), &ar),
    }
}

/// Server-side applies `obj` as `manager` (forcing), as another tool would.
pub async fn apply_as(cluster: &impl ClusterAccess, manager: &str, obj: Value) -> Value {
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    let out = api_of(cluster, &obj)
        .patch(
            &name,
            &PatchParams::apply(manager).force(),
            &Patch::Apply(&obj),
        )
        .await
        .unwrap_or_else(|e| panic!("apply {name} as {manager}: {e}"));
    serde_json::to_value(out).unwrap()
}

/// Merge-patches `obj`'s status (subresource when `status_subresource`) as `manager`.
pub async fn patch_status(
    cluster: &impl ClusterAccess,
    obj: Value,
    status: Value,
    subresource: bool,
) {
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    let api = api_of(cluster, &obj);
    let patch = json!({"status": status});
    let params = PatchParams {
        field_manager: Some("test-controller".into()),
        ..Default::default()
    };
    let result = if subresource {
        api.patch_status(&name, &params, &Patch::Merge(&patch))
            .await
    } else {
        api.patch(&name, &params, &Patch::Merge(&patch)).await
    };
    result.unwrap_or_else(|e| panic!("status of {name}: {e}"));
}

/// Merge-patches `obj` as `manager` (a manual edit).
pub async fn merge_patch(cluster: &impl ClusterAccess, obj: Value, patch: Value, manager: &str) {
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    let params = PatchParams {
        field_manager: Some(manager.into()),
        ..Default::default()
    };
    api_of(cluster, &obj)
        .patch(&name, &params, &Patch::Merge(&patch))
        .await
        .unwrap_or_else(|e| panic!("patch {name}: {e}"));
}

/// The object, if it exists.
pub async fn get(cluster: &impl ClusterAccess, obj: Value) -> Option<Value> {
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    api_of(cluster, &obj)
        .get_opt(&name)
        .await
        .unwrap()
        .map(|o| serde_json::to_value(o).unwrap())
}

/// A reference to an object, for [`get`] and the patch helpers.
pub fn obj(api_version: &str, kind: &str, ns: &str, name: &str) -> Value {
    let mut o = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
    if !ns.is_empty() {
        o["metadata"]["namespace"] = json!(ns);
    }
    o
}

/// The `Gate` CRD used to hold a wave until the test opens it: a Gate is Progressing while
/// its Ready condition is False and Healthy once it is True (kstatus rules). It has no status
/// subresource, so the status written in Git is what the cluster starts with.
pub async fn install_gate_crd(cluster: &impl ClusterAccess) {
    apply_as(
        cluster,
        "setup",
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "gates.tests.rekon.dev"},
            "spec": {"group": "tests.rekon.dev", "scope": "Namespaced",
                "names": {"kind": "Gate", "plural": "gates", "singular": "gate"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object",
                        "x-kubernetes-preserve-unknown-fields": true}}}]}
        }),
    )
    .await;
    wait_served(cluster, &obj("tests.rekon.dev/v1", "Gate", "shop", "")).await;
}

/// A Gate manifest in namespace shop, with extra annotations.
pub fn gate_yaml(name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: tests.rekon.dev/v1\nkind: Gate\nmetadata:\n  name: {name}\n  annotations: {{{annotations}}}\nspec:\n  purpose: test\n"
    )
}

/// Creates a closed Gate (Ready=False) before the sync applies it. (The emulator drops
/// `.status` from applies even without a status subresource, so Git cannot carry it.)
pub async fn close_gate(cluster: &impl ClusterAccess, name: &str) {
    apply_as(
        cluster,
        "setup",
        json!({"apiVersion": "tests.rekon.dev/v1", "kind": "Gate",
            "metadata": {"name": name, "namespace": "shop"}}),
    )
    .await;
    patch_status(
        cluster,
        obj("tests.rekon.dev/v1", "Gate", "shop", name),
        json!({"conditions": [{"type": "Ready", "status": "False", "message": "gate closed"}]}),
        false,
    )
    .await;
}

/// Opens a Gate (Ready=True).
pub async fn open_gate(cluster: &impl ClusterAccess, name: &str) {
    patch_status(
        cluster,
        obj("tests.rekon.dev/v1", "Gate", "shop", name),
        json!({"conditions": [{"type": "Ready", "status": "True", "message": "open"}]}),
        false,
    )
    .await;
}

/// A ConfigMap manifest.
pub fn cm_yaml(name: &str, value: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations: {{{annotations}}}\ndata:\n  key: {value}\n"
    )
}

/// A suspended Job manifest: it runs only once the test resumes it ([`resume_job`]), so the
/// test decides when it ends.
pub fn job_yaml(name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  annotations: {{{annotations}}}\nspec:\n  suspend: true\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: run\n        image: busybox\n"
    )
}

/// A Job manifest that runs at once, and fails (no retry) when `simulate` is `fail`: its
/// Pod's `rekon.dev/simulate` annotation, which the emulator's simulated kubelet and the
/// real cluster's kwok stages both honour.
pub fn running_job_yaml(name: &str, annotations: &str, simulate: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {name}\n  annotations: {{{annotations}}}\nspec:\n  backoffLimit: 0\n  template:\n    metadata:\n      annotations: {{rekon.dev/simulate: \"{simulate}\"}}\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: run\n        image: busybox:1.36\n"
    )
}

/// Resumes a suspended Job (as `test-controller`): the cluster's Job controller runs it to
/// completion.
pub async fn resume_job(cluster: &impl ClusterAccess, name: &str) {
    merge_patch(
        cluster,
        obj("batch/v1", "Job", "shop", name),
        json!({"spec": {"suspend": false}}),
        "test-controller",
    )
    .await;
}

/// Whether a Job's `type` condition (`Complete`, `Failed`) is True.
pub fn job_condition(job: &Value, type_: &str) -> bool {
    job["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == type_ && c["status"] == "True")
    })
}

/// Waits until an object exists.
pub async fn wait_exists(cluster: &impl ClusterAccess, o: Value) -> Value {
    for _ in 0..1500 {
        if let Some(v) = get(cluster, o.clone()).await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never appeared: {o}");
}

/// Waits until `o` is gone. A pruned object goes with foreground propagation, as in Argo
/// CD: a real API server keeps it, marked for deletion, until its garbage collector has
/// checked its dependents.
pub async fn wait_gone(cluster: &impl ClusterAccess, o: Value) {
    for _ in 0..1500 {
        if get(cluster, o.clone()).await.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never went: {o}");
}

/// Every non-dry-run write the cluster received, in order.
pub fn writes(cluster: &impl ClusterAccess) -> Vec<AuditEntry> {
    cluster
        .requests()
        .into_iter()
        .filter(|e| WRITE_VERBS.contains(&e.verb.as_str()) && !e.dry_run)
        .collect()
}

/// Writes by rekon (field manager `rekon`, or deletes, which carry no manager) to objects
/// other than rekon's history.
pub fn sync_writes(cluster: &impl ClusterAccess) -> Vec<AuditEntry> {
    writes(cluster)
        .into_iter()
        .filter(|e| e.field_manager == "rekon" || e.verb == "delete")
        .filter(|e| !e.name.starts_with("rekon-history."))
        .collect()
}

/// `verb resource name` lines, for readable assertions.
pub fn lines(entries: &[AuditEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| {
            let sub = e
                .subresource
                .as_deref()
                .map(|s| format!("/{s}"))
                .unwrap_or_default();
            format!("{} {}{} {}", e.verb, e.resource, sub, e.name)
        })
        .collect()
}

/// Position of the first entry matching `verb resource name`.
pub fn seq_of(entries: &[AuditEntry], line: &str) -> u64 {
    entries
        .iter()
        .zip(lines(entries))
        .find(|(_, l)| l == line)
        .map(|(e, _)| e.seq)
        .unwrap_or_else(|| panic!("no {line:?} in {:#?}", lines(entries)))
}

impl Env {
    pub fn name(&self) -> String {
        self.app.qualified_name()
    }

    /// Waits until the engine compared the app and `check` holds for its snapshot.
    pub async fn wait_app(&self, what: &str, check: impl Fn(&AppSnapshot) -> bool) -> AppSnapshot {
        wait_app(&self.engine, &self.name(), what, check).await
    }

    /// Waits until the app was compared at Git's current HEAD.
    pub async fn compared_at_head(&self) -> AppSnapshot {
        let head = self.repo.head();
        self.wait_app("compared at HEAD", |a| {
            a.revision.as_deref() == Some(head.as_str())
                && a.detail.is_some()
                && !a.resources.is_empty()
        })
        .await
    }

    /// Runs a sync and returns its result.
    pub async fn sync(&self, options: SyncOptions) -> Result<Operation, String> {
        sync(&self.engine, &self.name(), options).await
    }

    /// The plan a sync would run.
    pub async fn plan(&self, options: SyncOptions) -> Result<SyncPlan, String> {
        let (tx, rx) = oneshot::channel();
        self.engine
            .commands()
            .send(EngineCommand::Plan {
                app: self.name(),
                options,
                reply: tx,
            })
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .expect("plan answers in time")
            .expect("engine answers")
    }

    /// Commits a change and makes the engine fetch it.
    pub async fn commit(&self, message: &str) -> String {
        let sha = self.repo.commit(message);
        self.engine
            .commands()
            .send(EngineCommand::Refresh {
                app: None,
                hard: false,
            })
            .await
            .unwrap();
        sha
    }
}

/// Waits (a minute at most) until the app named `name` satisfies `check`.
pub async fn wait_app(
    engine: &EngineHandle,
    name: &str,
    what: &str,
    check: impl Fn(&AppSnapshot) -> bool,
) -> AppSnapshot {
    let mut rx = engine.subscribe();
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Some(app) = rx
                .borrow_and_update()
                .apps
                .iter()
                .find(|a| a.qualified_name() == name)
                .filter(|a| check(a))
            {
                return app.clone();
            }
            if rx.changed().await.is_err() {
                panic!("engine stopped while waiting for {what}");
            }
        }
    })
    .await;
    match found {
        Ok(app) => app,
        Err(_) => {
            let snap = engine.current();
            let app = snap.apps.iter().find(|a| a.qualified_name() == name);
            panic!("timed out waiting for {what}; app is {app:#?}")
        }
    }
}

/// Runs a sync of `app` as `tester@host` and returns its result.
pub async fn sync(
    engine: &EngineHandle,
    app: &str,
    options: SyncOptions,
) -> Result<Operation, String> {
    let (tx, rx) = oneshot::channel();
    engine
        .commands()
        .send(EngineCommand::Sync {
            app: app.to_string(),
            options,
            initiated_by: "tester@host".into(),
            reply: Some(tx),
        })
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(120), rx)
        .await
        .expect("sync finishes in time")
        .expect("engine answers")
}

/// `Phase wave Kind name action status` per step, for readable assertions.
pub fn step_lines(op: &Operation) -> Vec<String> {
    op.steps
        .iter()
        .map(|s| {
            format!(
                "{:?} {} {} {} {:?} {:?}",
                s.phase, s.wave, s.kind, s.name, s.action, s.status
            )
        })
        .collect()
}
