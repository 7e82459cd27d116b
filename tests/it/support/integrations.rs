//! Shared helpers for the Argo CD and Flux tests: embedded clusters with the CRD fixtures of
//! `assets/crds` installed, objects written the way their controllers would, the engine over
//! the clusters, and waiting for snapshots.

use std::sync::Arc;
use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use rekon::cluster::{ApiCatalog, ClusterHandle};
use rekon::integrations::crds;
use rekon::model::{AppSnapshot, ResourceKey, Snapshot};
use rekon::runtime::{self, EngineCommand, EngineHandle, EngineOptions, ObservedCommand};
use rekon::source::Sources;
use rekon_emulator::{AuditEntry, Cluster, ClusterOptions};
use serde_json::Value;
use tokio::sync::oneshot;

pub use super::cluster::ClusterAccess;

/// Starts an embedded cluster with Argo CD's and Flux's CRDs; `controllers` runs the
/// simulated controllers (Kubernetes' and the Argo CD/Flux simulations).
pub async fn cluster(name: &str, controllers: bool) -> Cluster {
    let cluster = Cluster::start(ClusterOptions {
        name: name.into(),
        controllers,
        speed: 20.0,
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    let client = cluster.client();
    crds::install(&client, crds::ARGOCD, "argocd.yaml")
        .await
        .unwrap();
    crds::install(&client, crds::FLUX, "flux.yaml")
        .await
        .unwrap();
    cluster
}

/// The engine's handle on an embedded cluster, named after it.
pub fn handle(cluster: &Cluster) -> ClusterHandle {
    ClusterHandle {
        name: cluster.name().into(),
        server: format!("embedded://{}", cluster.name()),
        client: cluster.client(),
    }
}

/// An engine over these clusters with no apps of rekon's own, and its cache folder.
pub fn engine(clusters: Vec<ClusterHandle>, read_only: bool) -> (EngineHandle, tempfile::TempDir) {
    let cache = tempfile::tempdir().unwrap();
    let sources = Arc::new(Sources::new(cache.path().to_path_buf()));
    let handle = runtime::start(EngineOptions {
        apps: Vec::new(),
        clusters,
        sources,
        read_only,
        config_ignore: Vec::new(),
        refresh_every: None,
        projects: Vec::new(),
        auto_sync: false,
        skip_trees: false,
    });
    (handle, cache)
}

fn api(client: &kube::Client, catalog: &ApiCatalog, obj: &Value) -> Api<DynamicObject> {
    let key = ResourceKey::of(obj).unwrap();
    let kind = catalog
        .resolve(obj["apiVersion"].as_str().unwrap(), &key.kind)
        .unwrap_or_else(|| panic!("{} is not served", key.kind));
    if kind.namespaced {
        Api::namespaced_with(client.clone(), &key.namespace, &kind.resource)
    } else {
        Api::all_with(client.clone(), &kind.resource)
    }
}

/// Writes an object as `manager` with server-side apply, then its `status` (through the
/// status subresource where the kind has one), as a controller would have.
pub async fn put(cluster: &impl ClusterAccess, obj: Value, manager: &str) {
    let client = cluster.admin();
    let catalog = ApiCatalog::discover(&client).await.unwrap();
    let key = ResourceKey::of(&obj).unwrap();
    if !key.namespace.is_empty() {
        rekon::cluster::apply::ensure_namespace(&client, &key.namespace, false)
            .await
            .unwrap();
    }
    let api = api(&client, &catalog, &obj);
    let mut spec = obj.clone();
    let status = spec.as_object_mut().unwrap().remove("status");
    api.patch(
        &key.name,
        &PatchParams::apply(manager).force(),
        &Patch::Apply(&spec),
    )
    .await
    .unwrap_or_else(|e| panic!("applying {key}: {e}"));
    if let Some(status) = status {
        let body = serde_json::json!({"status": status});
        let params = PatchParams {
            field_manager: Some(manager.into()),
            ..PatchParams::default()
        };
        let patched = api
            .patch_status(&key.name, &params, &Patch::Merge(&body))
            .await;
        if patched.is_err() {
            // No status subresource (Argo CD's Application): status is part of the object.
            api.patch(&key.name, &params, &Patch::Merge(&body))
                .await
                .unwrap();
        }
    }
}

/// The object as the API server has it now.
pub async fn get(
    cluster: &impl ClusterAccess,
    api_version: &str,
    kind: &str,
    ns: &str,
    name: &str,
) -> Value {
    let client = cluster.admin();
    let catalog = ApiCatalog::discover(&client).await.unwrap();
    let probe = serde_json::json!({"apiVersion": api_version, "kind": kind,
        "metadata": {"name": name, "namespace": ns}});
    let obj = api(&client, &catalog, &probe).get(name).await.unwrap();
    serde_json::to_value(obj).unwrap()
}

pub use super::engine::wait_for;

/// The app a command name (`argocd:ns/name`) names in a snapshot.
pub fn find<'a>(s: &'a Snapshot, name: &str) -> Option<&'a AppSnapshot> {
    s.apps.iter().find(|a| {
        rekon::integrations::app_ref(a) == name
            || rekon::integrations::app_ref_in_cluster(a) == name
    })
}

/// Sends a command built around a reply channel and waits for the answer.
pub async fn ask<T>(
    engine: &EngineHandle,
    make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> EngineCommand,
) -> Result<T, String> {
    let (tx, rx) = oneshot::channel();
    engine.commands().send(make(tx)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(60), rx)
        .await
        .expect("the engine answers within a minute")
        .expect("the engine keeps the reply")
}

/// `rekon reconcile APP [--with-source]` through the engine; the answer comes once Ready.
pub async fn reconcile(
    engine: &EngineHandle,
    app: &str,
    with_source: bool,
) -> Result<String, String> {
    ask(engine, |reply| {
        EngineCommand::Observed(ObservedCommand::Reconcile {
            app: app.into(),
            with_source,
            reply: Some(reply),
        })
    })
    .await
}

/// `rekon suspend APP` through the engine.
pub async fn suspend(engine: &EngineHandle, app: &str) -> Result<String, String> {
    ask(engine, |reply| {
        EngineCommand::Observed(ObservedCommand::Suspend {
            app: app.into(),
            reply: Some(reply),
        })
    })
    .await
}

/// `rekon resume APP` through the engine; the answer comes once Ready.
pub async fn resume(engine: &EngineHandle, app: &str) -> Result<String, String> {
    ask(engine, |reply| {
        EngineCommand::Observed(ObservedCommand::Resume {
            app: app.into(),
            reply: Some(reply),
        })
    })
    .await
}

/// Flux Kustomization `flux-system/NAME` as the API server has it now.
pub async fn live_kustomization(cluster: &impl ClusterAccess, name: &str) -> Value {
    get(
        cluster,
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        "flux-system",
        name,
    )
    .await
}

/// Audit entries after `seq` that wrote (not read).
pub fn writes_after(cluster: &impl ClusterAccess, seq: u64) -> Vec<AuditEntry> {
    cluster
        .requests()
        .into_iter()
        .filter(|e| e.seq > seq && !matches!(e.verb.as_str(), "get" | "list" | "watch"))
        .collect()
}

/// The sequence number of the cluster's newest audit entry (0 when none).
pub fn last_seq(cluster: &impl ClusterAccess) -> u64 {
    cluster.requests().last().map_or(0, |e| e.seq)
}
