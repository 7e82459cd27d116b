//! Argo CD and Flux apps for the TUI tests: a snapshot holding two of rekon's apps, an
//! Argo CD Application, two Kustomizations (one depending on the other) and a suspended
//! HelmRelease; the Flux objects behind them for the graph; a UI over them whose engine
//! commands the test answers itself.

use std::sync::Arc;

use rekon::integrations::flux_graph::{self, FluxGraph};
use rekon::model::{
    AppDetail, AppSnapshot, Health, ManagedBy, ResourceStatus, Snapshot, SyncStatus,
};
use rekon::runtime::EngineCommand;
use rekon::tui::{App, TuiOptions};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::*;

/// The Flux source revision of every Flux app here.
pub const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// A Synced and Healthy resource of an app.
pub fn resource(group: &str, kind: &str, ns: &str, name: &str) -> ResourceStatus {
    ResourceStatus {
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
        sync: SyncStatus::Synced,
        health: Some(Health::Healthy),
        message: String::new(),
        requires_pruning: false,
    }
}

/// A Flux Kustomization as the engine publishes it.
pub fn kustomization(name: &str, resources: Vec<ResourceStatus>) -> AppSnapshot {
    let mut a = app(
        name,
        "demo-staging",
        "",
        &format!("./{name}"),
        SyncStatus::Synced,
        Health::Healthy,
        Some("2026-05-01T11:50:00Z"),
        &format!("Applied revision: main@sha1:{SHA}"),
    );
    a.namespace = "flux-system".into();
    a.managed_by = ManagedBy::Flux;
    a.kind = "Kustomization".into();
    a.repo_url = "https://github.com/acme/platform.git".into();
    a.revision = Some(SHA.into());
    a.auto_sync = true;
    a.resources = resources.into();
    let mut tree = node(
        "kustomize.toolkit.fluxcd.io",
        "Kustomization",
        "flux-system",
        name,
        Some(Health::Healthy),
        Some(SyncStatus::Synced),
        &[],
        vec![node(
            "source.toolkit.fluxcd.io",
            "GitRepository",
            "flux-system",
            "platform",
            Some(Health::Healthy),
            None,
            &[("role", "source")],
            vec![],
        )],
    );
    for r in a.resources.iter() {
        tree.children.push(node(
            &r.group,
            &r.kind,
            &r.namespace,
            &r.name,
            Some(Health::Healthy),
            None,
            &[],
            vec![],
        ));
    }
    a.detail = Some(Arc::new(AppDetail {
        tree,
        diffs: vec![],
        compare_method: "Flux inventory".into(),
        conditions: vec![],
        history: vec![],
        timeline: vec![],
    }));
    a
}

/// Two of rekon's apps, an Argo CD Application, two Kustomizations (one depending on the
/// other) and a suspended HelmRelease.
pub fn observed_snapshot() -> Snapshot {
    let six = six_apps();
    let pick = |name: &str| six.apps.iter().find(|a| a.name == name).unwrap().clone();
    let mut edge = app(
        "edge",
        "demo-prod",
        "edge",
        "apps/edge",
        SyncStatus::OutOfSync,
        Health::Healthy,
        Some("2026-05-01T09:00:00Z"),
        "",
    );
    edge.managed_by = ManagedBy::Argocd;
    edge.resources = vec![
        ResourceStatus {
            sync: SyncStatus::OutOfSync,
            ..resource("apps", "Deployment", "edge", "edge")
        },
        resource("", "Service", "edge", "edge"),
        ResourceStatus {
            sync: SyncStatus::OutOfSync,
            requires_pruning: true,
            ..resource("", "Service", "edge", "edge-legacy")
        },
    ]
    .into();
    let mut redis = app(
        "redis",
        "demo-staging",
        "cache",
        "redis",
        SyncStatus::Synced,
        Health::Suspended,
        Some("2026-04-30T08:00:00Z"),
        "suspended; Helm upgrade succeeded for release cache/redis.v3 with chart redis@18.1.0",
    );
    redis.namespace = "cache".into();
    redis.managed_by = ManagedBy::Flux;
    redis.kind = "HelmRelease".into();
    redis.repo_url = "https://charts.bitnami.com/bitnami".into();
    redis.target_revision = "18.x".into();
    redis.revision = Some("18.1.0".into());
    Snapshot {
        generation: 3,
        apps: vec![
            pick("checkout"),
            edge,
            pick("guestbook"),
            redis,
            kustomization(
                "apps",
                vec![resource("apps", "Deployment", "monitoring", "exporter")],
            ),
            kustomization(
                "infra",
                vec![
                    resource("", "Namespace", "", "monitoring"),
                    resource("", "ConfigMap", "monitoring", "settings"),
                    resource(
                        "kustomize.toolkit.fluxcd.io",
                        "Kustomization",
                        "flux-system",
                        "apps",
                    ),
                ],
            ),
        ],
        ..six
    }
}

/// A UI over [`observed_snapshot`] whose engine commands the test reads itself.
pub fn flux_ui(options: TuiOptions) -> (App, mpsc::Receiver<EngineCommand>) {
    let (tx, rx) = mpsc::channel(64);
    let mut app = App::new(TuiOptions {
        contexts: vec!["demo-staging".into(), "demo-prod".into()],
        initiated_by: "tester@ci".into(),
        ..options
    });
    app.connect(tx);
    app.set_now(Some(NOW.parse().unwrap()));
    app.set_snapshot(Arc::new(observed_snapshot()));
    (app, rx)
}

/// A `Ready=True` condition list with this message.
pub fn ready(message: &str) -> Value {
    json!([{"type": "Ready", "status": "True", "reason": "Succeeded", "message": message,
        "lastTransitionTime": "2026-05-01T11:00:00Z"}])
}

/// The Flux objects behind the snapshot's Flux apps, as their controllers write them.
pub fn flux_objects() -> Vec<Value> {
    let inv = |ids: &[&str]| json!({"entries": ids.iter().map(|id| json!({"id": id, "v": "v1"})).collect::<Vec<_>>()});
    vec![
        json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "platform", "namespace": "flux-system", "generation": 1},
            "spec": {"url": "https://github.com/acme/platform.git", "ref": {"branch": "main"}},
            "status": {"observedGeneration": 1, "artifact": {"revision": format!("main@sha1:{SHA}")},
                "conditions": ready(&format!("stored artifact for revision 'main@sha1:{SHA}'"))}}),
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "infra", "namespace": "flux-system", "generation": 1},
            "spec": {"path": "./infra", "sourceRef": {"kind": "GitRepository", "name": "platform"}},
            "status": {"observedGeneration": 1, "lastAppliedRevision": format!("main@sha1:{SHA}"),
                "conditions": ready(&format!("Applied revision: main@sha1:{SHA}")),
                "inventory": inv(&["_monitoring__Namespace", "monitoring_settings__ConfigMap",
                    "flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization"])}}),
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system", "generation": 1},
            "spec": {"path": "./apps", "sourceRef": {"kind": "GitRepository", "name": "platform"},
                "dependsOn": [{"name": "infra"}]},
            "status": {"observedGeneration": 1, "lastAppliedRevision": format!("main@sha1:{SHA}"),
                "conditions": ready(&format!("Applied revision: main@sha1:{SHA}")),
                "inventory": inv(&["monitoring_exporter_apps_Deployment"])}}),
        json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmRepository",
            "metadata": {"name": "bitnami", "namespace": "flux-system", "generation": 1},
            "spec": {"url": "https://charts.bitnami.com/bitnami"},
            "status": {"observedGeneration": 1, "artifact": {"revision": "sha256:9f8e7d6c5b4a39281706f5e4d3c2b1a0"},
                "conditions": ready("stored artifact: revision 'sha256:9f8e7d6c'")}}),
        json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
            "metadata": {"name": "cache-redis", "namespace": "flux-system", "generation": 1},
            "spec": {"chart": "redis", "sourceRef": {"kind": "HelmRepository", "name": "bitnami"}},
            "status": {"observedGeneration": 1, "artifact": {"revision": "18.1.0"},
                "conditions": ready("pulled 'redis' chart with version '18.1.0'")}}),
        json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
            "metadata": {"name": "redis", "namespace": "cache", "generation": 2},
            "spec": {"suspend": true, "chart": {"spec": {"chart": "redis", "version": "18.x",
                "sourceRef": {"kind": "HelmRepository", "name": "bitnami", "namespace": "flux-system"}}}},
            "status": {"observedGeneration": 2, "lastAttemptedRevision": "18.1.0",
                "conditions": ready("Helm upgrade succeeded for release cache/redis.v3 with chart redis@18.1.0")}}),
        json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
            "metadata": {"name": "exporter", "namespace": "flux-system", "generation": 1},
            "spec": {"image": "quay.io/prometheus/blackbox-exporter"},
            "status": {"observedGeneration": 1, "conditions": ready("successful scan: found 23 tags")}}),
        json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy",
            "metadata": {"name": "exporter", "namespace": "flux-system", "generation": 1},
            "spec": {"imageRepositoryRef": {"name": "exporter"}, "policy": {"semver": {"range": ">=0.20.0"}}},
            "status": {"observedGeneration": 1,
                "latestRef": {"name": "quay.io/prometheus/blackbox-exporter", "tag": "v0.25.0"},
                "conditions": ready("Latest image tag for quay.io/prometheus/blackbox-exporter resolved to v0.25.0")}}),
    ]
}

/// The Flux graph of cluster demo-staging built from [`flux_objects`].
pub fn graphs() -> Vec<FluxGraph> {
    let objects = flux_objects();
    vec![flux_graph::build("demo-staging", objects.iter())]
}
