//! A HelmRelease whose chart lives in the Git repository (`spec.chart.spec.sourceRef` a
//! GitRepository), observed by rekon: its status, revision, inventory, tree and graph. On a
//! real cluster helm-controller installs it (source-controller builds the HelmChart); on the
//! emulator the objects are seeded as those controllers write them.

use crate::support::flux::FluxWorld;
use crate::support::integrations::*;
use rekon::engine::health::condition;
use rekon::integrations::flux_graph::EdgeKind;
use rekon::model::{Health, ManagedBy, ResourceKey, SyncStatus};
use rekon::runtime::{EngineCommand, ObservedCommand};
use serde_json::{Value, json};

const CHART: &str = "apiVersion: v2\nname: metrics\nversion: 0.1.0\n";
const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\ndata:\n  level: {{ .Values.level }}\n";

fn helm_release() -> Value {
    json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": "metrics", "namespace": "flux-system"},
        "spec": {"interval": "10m", "values": {"level": "debug"},
            "chart": {"spec": {"chart": "./charts/metrics", "interval": "10m",
                "sourceRef": {"kind": "GitRepository", "name": "platform"}}}}})
}

/// The chart's ConfigMap as helm-controller installs it.
fn settings() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "metrics-settings", "namespace": "flux-system",
            "labels": {"app.kubernetes.io/managed-by": "Helm",
                "helm.toolkit.fluxcd.io/name": "metrics", "helm.toolkit.fluxcd.io/namespace": "flux-system"},
            "annotations": {"meta.helm.sh/release-name": "metrics", "meta.helm.sh/release-namespace": "flux-system"}},
        "data": {"level": "debug"}})
}

/// The HelmRelease, installed: on a real cluster by helm-controller (source-controller
/// building the HelmChart from the GitRepository's artifact); on the emulator seeded as they
/// write it (helm-controller v1.6's messages and inventory).
async fn install(w: &FluxWorld) {
    let c = &w.cluster;
    if c.is_real() {
        put(c, helm_release(), "rekon-test").await;
        w.wait_object(
            "helm.toolkit.fluxcd.io/v2",
            "HelmRelease",
            "flux-system",
            "metrics",
            crate::support::flux::is_ready,
        )
        .await;
        return;
    }
    let ready = |reason: &str, message: &str| {
        json!([{"type": "Ready", "status": "True", "reason": reason, "message": message,
            "lastTransitionTime": "2025-03-01T00:00:00Z"}])
    };
    put(c, json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "HelmChart",
        "metadata": {"name": "flux-system-metrics", "namespace": "flux-system",
            "labels": {"helm.toolkit.fluxcd.io/name": "metrics", "helm.toolkit.fluxcd.io/namespace": "flux-system"}},
        "spec": {"chart": "./charts/metrics", "interval": "10m0s", "reconcileStrategy": "ChartVersion",
            "sourceRef": {"kind": "GitRepository", "name": "platform"}, "version": "*"},
        "status": {"observedGeneration": 1, "observedChartName": "metrics",
            "artifact": {"revision": "0.1.0", "path": "x", "url": "http://x"},
            "conditions": ready("ChartPackageSucceeded", "packaged 'metrics' chart with version '0.1.0'")}}),
        "source-controller").await;
    put(c, settings(), "helm-controller").await;
    let mut hr = helm_release();
    hr["status"] = json!({"observedGeneration": 1, "lastAttemptedRevision": "0.1.0",
        "conditions": ready("InstallSucceeded",
            "Helm install succeeded for release flux-system/metrics.v1 with chart metrics@0.1.0"),
        "inventory": {"entries": [{"id": "flux-system_metrics-settings__ConfigMap", "v": "v1"}]}});
    put(c, hr, "helm-controller").await;
}

fn key(group: &str, kind: &str, name: &str) -> ResourceKey {
    ResourceKey::new(group, kind, "flux-system", name)
}

#[tokio::test]
async fn helm_release_of_a_chart_in_git_is_observed_and_reconciled() {
    let Some(w) = FluxWorld::start().await else {
        return;
    };
    w.repo.write("charts/metrics/Chart.yaml", CHART);
    w.repo.write("charts/metrics/values.yaml", "level: info\n");
    w.repo
        .write("charts/metrics/templates/configmap.yaml", TEMPLATE);
    w.publish("the metrics chart").await;
    install(&w).await;
    let c = &w.cluster;
    let live = get(c, "v1", "ConfigMap", "flux-system", "metrics-settings").await;
    assert_eq!(live["data"]["level"], "debug", "the release's values");

    let (engine, _cache) = engine(vec![c.handle()], false);
    let snap = wait_for(&engine, "the HelmRelease with its inventory", |s| {
        find(s, "flux-hr:flux-system/metrics")
            .is_some_and(|a| !a.resources.is_empty() && !a.repo_url.is_empty())
    })
    .await;
    let hr = find(&snap, "flux-hr:flux-system/metrics").unwrap();
    assert_eq!(
        (hr.managed_by, hr.kind.as_str()),
        (ManagedBy::Flux, "HelmRelease")
    );
    assert_eq!((hr.sync, hr.health), (SyncStatus::Synced, Health::Healthy));
    assert_eq!(hr.revision.as_deref(), Some("0.1.0"));
    assert_eq!(
        hr.message,
        "Helm install succeeded for release flux-system/metrics.v1 with chart metrics@0.1.0"
    );
    // The chart's repository is the GitRepository's, through the HelmChart.
    assert_eq!(hr.repo_url, w.url);
    assert_eq!(hr.path, "./charts/metrics");
    let inventory: Vec<String> = hr
        .resources
        .iter()
        .map(|r| format!("{}/{}/{}", r.kind, r.namespace, r.name))
        .collect();
    assert_eq!(inventory, ["ConfigMap/flux-system/metrics-settings"]);

    // The tree: the HelmChart (built from the GitRepository), then what the release holds.
    let tree = &hr.detail.as_ref().unwrap().tree;
    let top: Vec<(&str, Option<&str>)> = tree
        .children
        .iter()
        .map(|n| (n.key.kind.as_str(), n.info_value("role")))
        .collect();
    assert_eq!(top, [("HelmChart", Some("source")), ("ConfigMap", None)]);
    let chart = &tree.children[0];
    assert_eq!(chart.info_value("revision"), Some("0.1.0"));
    assert_eq!(chart.children[0].key.kind, "GitRepository");
    assert_eq!(chart.children[0].info_value("role"), Some("source"));

    let graphs = ask(&engine, |reply| {
        EngineCommand::Observed(ObservedCommand::FluxGraph { reply })
    })
    .await
    .unwrap();
    let g = &graphs[0];
    let has = |from: &ResourceKey, to: &ResourceKey| {
        g.edges
            .iter()
            .any(|e| e.from == *from && e.to == *to && e.kind == EdgeKind::Source)
    };
    let git = key("source.toolkit.fluxcd.io", "GitRepository", "platform");
    let helm_chart = key(
        "source.toolkit.fluxcd.io",
        "HelmChart",
        "flux-system-metrics",
    );
    let release = key("helm.toolkit.fluxcd.io", "HelmRelease", "metrics");
    assert!(has(&git, &helm_chart), "{:#?}", g.edges);
    assert!(has(&helm_chart, &release), "{:#?}", g.edges);
    assert!(g.dangling().is_empty());

    // Reconcile with its source: the HelmChart, then the release, answered with what
    // helm-controller's Ready condition says once it handled the request.
    let before = last_seq(c);
    let message = reconcile(&engine, "flux-hr:flux-system/metrics", true)
        .await
        .unwrap();
    let patched: Vec<(String, String)> = writes_after(c, before)
        .into_iter()
        .filter(|e| e.field_manager == "rekon")
        .map(|e| (e.resource, e.name))
        .collect();
    assert_eq!(
        patched,
        [
            ("helmcharts".to_string(), "flux-system-metrics".to_string()),
            ("helmreleases".into(), "metrics".into())
        ]
    );
    assert_eq!(handled_message(c).await, message);

    // Suspended, then resumed: the resume is followed until helm-controller is Ready again.
    let done = suspend(&engine, "flux-hr:flux-system/metrics")
        .await
        .unwrap();
    assert_eq!(done, "flux-hr:flux-system/metrics suspended");
    wait_for(&engine, "the suspension", |s| {
        find(s, "flux-hr:flux-system/metrics").is_some_and(|a| a.health == Health::Suspended)
    })
    .await;
    let message = resume(&engine, "flux-hr:flux-system/metrics")
        .await
        .unwrap();
    assert_eq!(handled_message(c).await, message);
    let after = get(
        c,
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "flux-system",
        "metrics",
    )
    .await;
    assert_eq!(after["spec"]["suspend"], false);
}

/// The HelmRelease's Ready message, once it handled the latest reconcile request.
async fn handled_message(c: &impl ClusterAccess) -> String {
    let after = get(
        c,
        "helm.toolkit.fluxcd.io/v2",
        "HelmRelease",
        "flux-system",
        "metrics",
    )
    .await;
    let token = &after["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"];
    assert_eq!(&after["status"]["lastHandledReconcileAt"], token);
    let ready = condition(&after, "Ready").unwrap();
    ready["message"].as_str().unwrap().trim().to_string()
}
