//! Flux observed and driven by rekon: listing with kstatus health and revisions, the graph
//! (sources, dependsOn, inventory) and the tree, the exact patches of reconcile, suspend and
//! resume, a reconcile with its source followed until Ready, and the diff of a Kustomization
//! rendered by rekon's engine at its source's revision. These run on both flavours over
//! [`FluxWorld`]: seeded objects and simulated controllers on the emulator, real Flux
//! reconciling a real Git repository on a real cluster. Image automation at a glance stays
//! on the emulator (no image-reflector-controller runs in the real tier).

use crate::support::flux::FluxWorld;
use crate::support::integrations::*;
use rekon::engine::health::condition;
use rekon::integrations::flux_graph::EdgeKind;
use rekon::model::{Health, ManagedBy, ResourceKey, SyncStatus};
use rekon::runtime::{EngineCommand, ObservedCommand};
use serde_json::{Value, json};

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn git_repository(url: &str, sha: &str) -> Value {
    json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "platform", "namespace": "flux-system"},
        "spec": {"url": url, "interval": "1m", "ref": {"branch": "main"}},
        "status": {"observedGeneration": 1,
            "artifact": {"revision": format!("main@sha1:{sha}"), "path": "x", "url": "http://x"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded",
                "message": format!("stored artifact for revision 'main@sha1:{sha}'"),
                "lastTransitionTime": "2025-03-01T00:00:00Z"}]}})
}

fn kustomization(name: &str, deps: &[&str], inventory: &[&str], sha: &str) -> Value {
    json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "10m", "prune": true, "path": format!("./{name}"),
            "sourceRef": {"kind": "GitRepository", "name": "platform"},
            "dependsOn": deps.iter().map(|d| json!({"name": d})).collect::<Vec<_>>()},
        "status": {"observedGeneration": 1,
            "lastAppliedRevision": format!("main@sha1:{sha}"),
            "conditions": [{"type": "Ready", "status": "True", "reason": "ReconciliationSucceeded",
                "message": format!("Applied revision: main@sha1:{sha}"),
                "lastTransitionTime": "2025-03-01T00:00:00Z"}],
            "inventory": {"entries": inventory.iter().map(|id| json!({"id": id, "v": "v1"})).collect::<Vec<_>>()}}})
}

fn exporter(tag: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "exporter", "namespace": "monitoring",
            "labels": {"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "exporter"}},
            "template": {"metadata": {"labels": {"app": "exporter"}},
                "spec": {"containers": [{"name": "exporter", "image": format!("quay.io/prometheus/blackbox-exporter:{tag}")}]}}}})
}

async fn seed(c: &rekon_emulator::Cluster, url: &str, sha: &str) {
    put(c, git_repository(url, sha), "source-controller").await;
    put(
        c,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}),
        "kustomize-controller",
    )
    .await;
    put(
        c,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "monitoring"}, "data": {"level": "info"}}),
        "kustomize-controller",
    )
    .await;
    put(c, exporter("v0.24.0"), "kustomize-controller").await;
    put(
        c,
        kustomization(
            "infra",
            &[],
            &[
                "_monitoring__Namespace",
                "monitoring_settings__ConfigMap",
                "flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization",
            ],
            sha,
        ),
        "kustomize-controller",
    )
    .await;
    put(
        c,
        kustomization(
            "apps",
            &["infra"],
            &["monitoring_exporter_apps_Deployment"],
            sha,
        ),
        "kustomize-controller",
    )
    .await;
    put(
        c,
        json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
        "metadata": {"name": "exporter", "namespace": "flux-system"},
        "spec": {"image": "quay.io/prometheus/blackbox-exporter", "interval": "5m"}}),
        "image-reflector-controller",
    )
    .await;
    put(c, json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy",
        "metadata": {"name": "exporter", "namespace": "flux-system"},
        "spec": {"imageRepositoryRef": {"name": "exporter"}, "policy": {"semver": {"range": ">=0.20.0"}}},
        "status": {"latestRef": {"name": "quay.io/prometheus/blackbox-exporter", "tag": "v0.25.0"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded", "message": "latest v0.25.0"}]}}), "image-reflector-controller").await;
}

fn ks(name: &str) -> ResourceKey {
    ResourceKey::new(
        "kustomize.toolkit.fluxcd.io",
        "Kustomization",
        "flux-system",
        name,
    )
}

// Emulator-only: the ImagePolicy's status comes from a simulated image-reflector-controller
// (the real tier runs no image automation controllers).
#[tokio::test]
async fn images_behind_their_policy_are_flagged() {
    let c = cluster("staging", false).await;
    seed(&c, "https://github.com/acme/platform.git", SHA).await;
    let (engine, _cache) = engine(vec![handle(&c)], false);
    let snap = wait_for(&engine, "apps with its inventory", |s| {
        find(s, "flux-ks:flux-system/apps").is_some_and(|a| {
            a.resources
                .iter()
                .filter(|r| r.kind == "Deployment")
                .all(|r| r.health.is_some())
        })
    })
    .await;
    let apps = find(&snap, "flux-ks:flux-system/apps").unwrap();
    // The image policy selects v0.25.0; the exporter runs v0.24.0.
    let detail = apps.detail.as_ref().unwrap();
    let behind: Vec<&str> = detail
        .conditions
        .iter()
        .filter(|c| c.kind == "ImageBehind")
        .map(|c| c.message.as_str())
        .collect();
    assert_eq!(
        behind,
        [
            "Deployment monitoring/exporter container exporter runs v0.24.0 but ImagePolicy flux-system/exporter selects v0.25.0"
        ]
    );
    let images = ask(&engine, |reply| {
        EngineCommand::Observed(ObservedCommand::Images { reply })
    })
    .await
    .unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0].latest_tag, "v0.25.0");
    assert_eq!(images[0].behind().count(), 1);
}

/// Rekon's engine over the world's cluster.
fn world_engine(w: &FluxWorld) -> (rekon::runtime::EngineHandle, tempfile::TempDir) {
    engine(vec![w.cluster.handle()], false)
}

/// Rekon's own writes (field manager `rekon`) after audit entry `seq`: on a real cluster the
/// controllers and kwok write too.
fn rekon_writes_after(c: &impl ClusterAccess, seq: u64) -> Vec<rekon_emulator::AuditEntry> {
    writes_after(c, seq)
        .into_iter()
        .filter(|e| e.field_manager == "rekon")
        .collect()
}

#[tokio::test]
async fn lists_kustomizations_with_their_graph_and_tree() {
    let Some(w) = FluxWorld::start().await else {
        return;
    };
    let (engine, _cache) = world_engine(&w);
    let snap = wait_for(&engine, "both Kustomizations with their inventory", |s| {
        ["flux-ks:flux-system/infra", "flux-ks:flux-system/apps"]
            .iter()
            .all(|n| {
                find(s, n).is_some_and(|a| {
                    !a.resources.is_empty()
                        && a.resources
                            .iter()
                            .filter(|r| r.kind == "Deployment")
                            .all(|r| r.health.is_some())
                })
            })
    })
    .await;
    let apps = find(&snap, "flux-ks:flux-system/apps").unwrap();
    assert_eq!(
        (apps.managed_by, apps.kind.as_str()),
        (ManagedBy::Flux, "Kustomization")
    );
    assert_eq!(
        (apps.sync, apps.health),
        (SyncStatus::Synced, Health::Healthy)
    );
    assert_eq!(apps.revision.as_deref(), Some(w.sha.as_str()));
    assert_eq!(apps.repo_url, w.url);
    assert_eq!(
        (apps.path.as_str(), apps.target_revision.as_str()),
        ("./apps", "main")
    );
    assert_eq!(
        apps.message,
        format!("Applied revision: main@sha1:{}", w.sha)
    );
    let kinds: Vec<&str> = apps.resources.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(kinds, ["Deployment"]);
    let infra = find(&snap, "flux-ks:flux-system/infra").unwrap();
    let mut inventory: Vec<String> = infra
        .resources
        .iter()
        .map(|r| format!("{}/{}/{}", r.kind, r.namespace, r.name))
        .collect();
    inventory.sort();
    assert_eq!(
        inventory,
        [
            "ConfigMap/monitoring/settings",
            "Kustomization/flux-system/apps",
            "Namespace//monitoring"
        ]
    );

    // The tree: source, dependency, then the inventory; infra's holds apps, expanded.
    let tree = &infra.detail.as_ref().unwrap().tree;
    assert_eq!(tree.children[0].key.kind, "GitRepository");
    assert_eq!(tree.children[0].info_value("role"), Some("source"));
    let nested = tree.children.iter().find(|n| n.key == ks("apps")).unwrap();
    let inner: Vec<(&str, Option<&str>)> = nested
        .children
        .iter()
        .map(|n| (n.key.kind.as_str(), n.info_value("role")))
        .collect();
    assert_eq!(
        inner,
        [
            ("GitRepository", Some("source")),
            ("Kustomization", Some("dependsOn")),
            ("Deployment", None)
        ]
    );

    let graphs = ask(&engine, |reply| {
        EngineCommand::Observed(ObservedCommand::FluxGraph { reply })
    })
    .await
    .unwrap();
    assert_eq!(graphs.len(), 1);
    let g = &graphs[0];
    let has = |from: &ResourceKey, to: &ResourceKey, kind: EdgeKind| {
        g.edges
            .iter()
            .any(|e| e.from == *from && e.to == *to && e.kind == kind)
    };
    let source = ResourceKey::new(
        "source.toolkit.fluxcd.io",
        "GitRepository",
        "flux-system",
        "platform",
    );
    assert!(has(&source, &ks("apps"), EdgeKind::Source));
    assert!(has(&source, &ks("infra"), EdgeKind::Source));
    assert!(has(&ks("apps"), &ks("infra"), EdgeKind::DependsOn));
    assert!(has(&ks("infra"), &ks("apps"), EdgeKind::Inventory));
    assert!(g.dangling().is_empty());
    let node = g.nodes.iter().find(|n| n.key == source).unwrap();
    assert_eq!(
        (node.health, node.revision.as_str()),
        (Health::Healthy, format!("main@sha1:{}", w.sha).as_str())
    );
}

#[tokio::test]
async fn reconcile_suspend_and_resume_patch_as_the_flux_cli_does() {
    let Some(w) = FluxWorld::start().await else {
        return;
    };
    let c = &w.cluster;
    let (engine, _cache) = world_engine(&w);
    wait_for(&engine, "the Kustomizations", |s| {
        find(s, "flux-ks:flux-system/apps").is_some()
    })
    .await;

    let before = last_seq(c);
    send(
        &engine,
        ObservedCommand::Reconcile {
            app: "flux-ks:flux-system/apps".into(),
            with_source: false,
            reply: None,
        },
    )
    .await;
    let w0 = wait_writes(c, before, 1).await;
    assert_eq!(
        (
            w0[0].verb.as_str(),
            w0[0].resource.as_str(),
            w0[0].name.as_str(),
        ),
        ("patch", "kustomizations", "apps")
    );
    let after = live_kustomization(c, "apps").await;
    let token = after["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        token.parse::<jiff::Timestamp>().is_ok(),
        "an RFC 3339 token: {token}"
    );

    let before = last_seq(c);
    let done = suspend(&engine, "flux-ks:flux-system/apps").await.unwrap();
    assert_eq!(done, "flux-ks:flux-system/apps suspended");
    let written = wait_writes(c, before, 1).await;
    assert_eq!((written.len(), written[0].verb.as_str()), (1, "patch"));
    assert_eq!(live_kustomization(c, "apps").await["spec"]["suspend"], true);
    wait_for(&engine, "the suspension", |s| {
        find(s, "flux-ks:flux-system/apps")
            .is_some_and(|a| a.health == Health::Suspended && !a.auto_sync)
    })
    .await;

    // Refused while suspended, naming why; nothing written.
    let before = last_seq(c);
    let refused = reconcile(&engine, "flux-ks:flux-system/apps", true)
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        "flux-ks:flux-system/apps is suspended (spec.suspend: true): resume it first"
    );
    assert!(rekon_writes_after(c, before).is_empty());

    // Resume: unsuspended with a new request, which the controller handles until Ready.
    let before = last_seq(c);
    let resumed = resume(&engine, "flux-ks:flux-system/apps").await.unwrap();
    assert_eq!(resumed, format!("Applied revision: main@sha1:{}", w.sha));
    assert_eq!(wait_writes(c, before, 1).await.len(), 1);
    let after = live_kustomization(c, "apps").await;
    assert_eq!(after["spec"]["suspend"], false);
    let new_token = after["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].as_str();
    assert_ne!(new_token, Some(token.as_str()));
    assert_eq!(
        after["status"]["lastHandledReconcileAt"].as_str(),
        new_token
    );
    wait_for(&engine, "apps resumed", |s| {
        find(s, "flux-ks:flux-system/apps")
            .is_some_and(|a| a.health == Health::Healthy && a.auto_sync)
    })
    .await;
}

async fn send(engine: &rekon::runtime::EngineHandle, cmd: ObservedCommand) {
    engine
        .commands()
        .send(EngineCommand::Observed(cmd))
        .await
        .unwrap();
}

/// At least `n` of rekon's writes after audit entry `after`.
async fn wait_writes(
    c: &impl ClusterAccess,
    after: u64,
    n: usize,
) -> Vec<rekon_emulator::AuditEntry> {
    for _ in 0..200 {
        let w = rekon_writes_after(c, after);
        if w.len() >= n {
            return w;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "expected {n} writes after audit entry {after}: {:?}",
        rekon_writes_after(c, after)
    );
}

#[tokio::test]
async fn reconcile_with_source_is_followed_until_ready() {
    let Some(w) = FluxWorld::start().await else {
        return;
    };
    let c = &w.cluster;
    let (engine, _cache) = world_engine(&w);
    wait_for(&engine, "apps Ready", |s| {
        find(s, "flux-ks:flux-system/apps").is_some_and(|a| a.health == Health::Healthy)
    })
    .await;
    let before = last_seq(c);
    let message = reconcile(&engine, "flux-ks:flux-system/apps", true)
        .await
        .unwrap();
    assert_eq!(message, format!("Applied revision: main@sha1:{}", w.sha));
    let patched: Vec<(String, String)> = rekon_writes_after(c, before)
        .into_iter()
        .map(|e| (e.resource, e.name))
        .collect();
    assert_eq!(
        patched,
        [
            ("gitrepositories".to_string(), "platform".to_string()),
            ("kustomizations".into(), "apps".into())
        ]
    );
    let after = live_kustomization(c, "apps").await;
    assert_eq!(
        after["status"]["lastHandledReconcileAt"],
        after["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
    );
    // A sync of a Flux app is a reconcile with its source, answered as an operation.
    let op = ask(&engine, |reply| EngineCommand::Sync {
        app: "flux-ks:flux-system/apps".into(),
        options: Default::default(),
        initiated_by: "tester".into(),
        reply: Some(reply),
    })
    .await
    .unwrap();
    assert_eq!(op.revision, w.sha);
}

#[tokio::test]
async fn diff_renders_the_kustomization_path_at_the_source_revision() {
    let Some(w) = FluxWorld::start().await else {
        return;
    };
    let c = &w.cluster;
    // apps is held back while its source moves on to the exporter 0.25.0.
    w.patch(
        "kustomize.toolkit.fluxcd.io/v1",
        "Kustomization",
        "flux-system",
        "apps",
        json!({"spec": {"suspend": true}}),
    )
    .await;
    w.repo.write(
        "apps/exporter.yaml",
        rekon::yaml::to_string(&crate::support::flux::exporter("v0.25.0")),
    );
    let sha = w.publish("exporter 0.25.0").await;
    let (engine, _cache) = world_engine(&w);
    wait_for(&engine, "apps behind its source", |s| {
        find(s, "flux-ks:flux-system/apps").is_some_and(|a| a.sync == SyncStatus::OutOfSync)
    })
    .await;
    let diffs = ask(&engine, |reply| {
        EngineCommand::Observed(ObservedCommand::Diff {
            app: "flux-ks:flux-system/apps".into(),
            reply,
        })
    })
    .await
    .unwrap();
    assert_eq!(diffs.len(), 1, "{diffs:#?}");
    assert_eq!(
        diffs[0].key,
        ResourceKey::new("apps", "Deployment", "monitoring", "exporter")
    );
    let desired = diffs[0].desired.as_deref().unwrap();
    assert!(desired.contains("blackbox-exporter:v0.25.0"), "{desired}");
    assert!(
        diffs[0]
            .live
            .as_deref()
            .unwrap()
            .contains("blackbox-exporter:v0.24.0")
    );
    assert_ne!(sha, w.sha);
    // A HelmRelease diff is refused with the reason.
    put(c, json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "redis", "namespace": "cache"},
        "spec": {"interval": "10m", "chart": {"spec": {"chart": "redis", "sourceRef": {"kind": "HelmRepository", "name": "bitnami"}}}}}), "helm-controller").await;
    wait_for(&engine, "the HelmRelease", |s| {
        find(s, "flux-hr:cache/redis").is_some()
    })
    .await;
    let err = ask(&engine, |reply| {
        EngineCommand::Observed(ObservedCommand::Diff {
            app: "flux-hr:cache/redis".into(),
            reply,
        })
    })
    .await
    .unwrap_err();
    assert!(err.contains("HelmReleases are not supported"), "{err}");
}

#[tokio::test]
async fn a_failed_reconcile_says_what_flux_reported() {
    let Some(w) = FluxWorld::start().await else {
        return;
    };
    let c = &w.cluster;
    // apps' next revision cannot be applied: on a real cluster a Deployment the API server
    // rejects; on the emulator, whose simulated controller applies nothing, an inventory
    // naming an object that is not there.
    w.repo.write(
        "apps/broken.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken\n  namespace: monitoring\nspec:\n  replicas: 1\n",
    );
    let sha = w.publish("a broken Deployment").await;
    if !c.is_real() {
        let mut apps = live_kustomization(c, "apps").await;
        apps["status"]["inventory"]["entries"]
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "monitoring_broken_apps_Deployment", "v": "v1"}));
        apps["metadata"] = json!({"name": "apps", "namespace": "flux-system"});
        put(c, apps, "kustomize-controller").await;
    }
    let (engine, _cache) = world_engine(&w);
    wait_for(&engine, "apps", |s| {
        find(s, "flux-ks:flux-system/apps").is_some()
    })
    .await;
    let err = reconcile(&engine, "flux-ks:flux-system/apps", true)
        .await
        .unwrap_err();
    let obj = live_kustomization(c, "apps").await;
    let ready = condition(&obj, "Ready").unwrap();
    assert_eq!(
        (ready["status"].as_str(), ready["reason"].as_str()),
        (Some("False"), Some("ReconciliationFailed"))
    );
    // Trimmed: kustomize-controller ends an apply error with a newline.
    let message = ready["message"].as_str().unwrap().trim_end();
    assert!(message.contains("broken"), "{message}");
    assert_eq!(err, format!("Kustomization/flux-system/apps: {message}"));
    // The row: Degraded, behind its source, the reason as a condition.
    let snap = wait_for(&engine, "apps Degraded", |s| {
        find(s, "flux-ks:flux-system/apps").is_some_and(|a| a.health == Health::Degraded)
    })
    .await;
    let apps = find(&snap, "flux-ks:flux-system/apps").unwrap();
    assert_eq!(apps.sync, SyncStatus::OutOfSync);
    assert_eq!(apps.revision.as_deref(), Some(w.sha.as_str()));
    assert_ne!(w.sha, sha);
    let conditions: Vec<(&str, &str)> = apps
        .detail
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .map(|c| (c.kind.as_str(), c.message.as_str()))
        .collect();
    assert_eq!(conditions, [("ReconciliationFailed", message)]);
}
