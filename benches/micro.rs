//! Criterion micro-benchmarks (issue 8) of the engine's pure steps and of frame rendering:
//! normalize, diff (10,000-line manifests), health, the live cache's compressed objects,
//! tree build (10,000 nodes), sync plan (1,000 objects), and frames on ratatui's
//! TestBackend (apps table of 500, tree of 2,000).
//!
//! Run: `cargo bench --bench micro` (one group: `cargo bench --bench micro -- render`).

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::{Value, json};

use rekon::cluster::LiveObject;
use rekon::engine::compare::ResourceOutcome;
use rekon::engine::desired::DesiredObject;
use rekon::engine::diff::{CompareOptions, SideBySide, compare_resource, unified};
use rekon::engine::health::assess;
use rekon::engine::normalize::{CompareMethod, normalize_pair};
use rekon::engine::plan::{PlanInput, build};
use rekon::engine::tracking::set_tracking_id;
use rekon::engine::tree::{AppRoot, ManagedResource, MemoryIndex, build_tree};
use rekon::model::packed::Dictionary;
use rekon::model::{
    AppDetail, AppSnapshot, Application, ClusterSnapshot, ConnectionState, Health, HealthStatus,
    ManagedBy, ResourceDiff, ResourceKey, ResourceStatus, Snapshot, SyncOptions, SyncStatus,
    TreeNode,
};
use rekon::tui::{App, TuiOptions};

const NOW: &str = "2026-05-01T12:00:00Z";

fn deployment(name: &str, ns: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name},
            "annotations": {"rekon.dev/tracking-id": format!("shop:apps/Deployment:{ns}/{name}")}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "registry.example.com/web:1.2.3",
                    "ports": [{"containerPort": 8080, "name": "http"}],
                    "env": [{"name": "MODE", "value": "production"}, {"name": "LEVEL", "value": "info"}],
                    "resources": {"requests": {"cpu": "0.5", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}}]}}}})
}

/// The same Deployment as the server holds it: defaults, managedFields, status.
fn live_deployment(name: &str, ns: &str) -> Value {
    let mut d = deployment(name, ns);
    let m = &mut d["metadata"];
    m["uid"] = json!("0b6c5a0e-1111-2222-3333-444455556666");
    m["resourceVersion"] = json!("123456");
    m["generation"] = json!(4);
    m["creationTimestamp"] = json!(NOW);
    m["managedFields"] = json!([{"manager": "rekon", "operation": "Apply", "apiVersion": "apps/v1",
        "time": NOW, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]);
    let s = &mut d["spec"];
    s["progressDeadlineSeconds"] = json!(600);
    s["revisionHistoryLimit"] = json!(10);
    s["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
    s["template"]["spec"]["restartPolicy"] = json!("Always");
    s["template"]["spec"]["dnsPolicy"] = json!("ClusterFirst");
    s["template"]["spec"]["containers"][0]["imagePullPolicy"] = json!("IfNotPresent");
    s["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = json!("500m");
    d["status"] = json!({"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3,
        "readyReplicas": 3, "availableReplicas": 3,
        "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]});
    d
}

fn bench_normalize(c: &mut Criterion) {
    let desired = deployment("web", "shop");
    let live = live_deployment("web", "shop");
    let mut g = c.benchmark_group("normalize");
    g.bench_function("deployment, server-side dry run", |b| {
        b.iter(|| {
            normalize_pair(
                Some(black_box(&live)),
                Some(black_box(&live)),
                CompareMethod::ServerSideDryRun,
            )
        })
    });
    g.bench_function("deployment, Git fields only", |b| {
        b.iter(|| {
            normalize_pair(
                Some(black_box(&desired)),
                Some(black_box(&live)),
                CompareMethod::GitFieldsOnly,
            )
        })
    });
    g.finish();
}

/// A ConfigMap whose YAML is about `lines` lines long, with every `every`-th value changed
/// when `changed`.
fn big_configmap(lines: usize, changed: bool, every: usize) -> Value {
    let mut data = serde_json::Map::new();
    for i in 0..lines {
        let v = if changed && i % every == 0 {
            format!("value {i} (edited)")
        } else {
            format!("value {i}")
        };
        data.insert(format!("key-{i:05}"), Value::String(v));
    }
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "big", "namespace": "shop"}, "data": data})
}

fn bench_diff(c: &mut Criterion) {
    let key = ResourceKey::new("", "ConfigMap", "shop", "big");
    let desired = big_configmap(10_000, true, 100);
    let live = big_configmap(10_000, false, 100);
    let options = CompareOptions::new(CompareMethod::ServerSideDryRun);
    let diff = compare_resource(key.clone(), Some(&desired), Some(&live), &options);
    let mut g = c.benchmark_group("diff");
    g.sample_size(20);
    g.bench_function(
        "compare 10,000-line manifests (normalize, mask, YAML)",
        |b| {
            b.iter(|| {
                compare_resource(
                    key.clone(),
                    Some(black_box(&desired)),
                    Some(black_box(&live)),
                    &options,
                )
            })
        },
    );
    g.bench_function("unified text of 10,000-line manifests, 100 changes", |b| {
        b.iter(|| unified(black_box(&diff), 3))
    });
    g.bench_function(
        "side-by-side rows of 10,000-line manifests, 100 changes",
        |b| b.iter(|| SideBySide::of(black_box(&diff), 3)),
    );
    g.finish();
}

fn pod(name: &str, owner_uid: &str, i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "uid": format!("pod-{i}"), "creationTimestamp": NOW,
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": owner_uid, "controller": true}]},
        "spec": {"nodeName": "node-1", "containers": [{"name": "web", "image": "registry.example.com/web:1.2.3"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "web", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": NOW}}}]}})
}

fn bench_health(c: &mut Criterion) {
    let deployment = live_deployment("web", "shop");
    let pod = pod("web-1", "rs-1", 1);
    let mut objects = Vec::new();
    for i in 0..1000 {
        objects.push(match i % 4 {
            0 => live_deployment(&format!("web-{i}"), "shop"),
            1 => self::pod(&format!("pod-{i}"), "rs", i),
            2 => json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": format!("svc-{i}")},
                "spec": {"type": "ClusterIP"}}),
            _ => json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}")}}),
        });
    }
    let mut g = c.benchmark_group("health");
    g.bench_function("deployment", |b| b.iter(|| assess(black_box(&deployment))));
    g.bench_function("pod", |b| b.iter(|| assess(black_box(&pod))));
    g.bench_function("1,000 mixed objects", |b| {
        b.iter(|| objects.iter().filter_map(assess).count())
    });
    g.finish();
}

/// The live cache's cost per object: holding a Pod (compressed against another Pod, as a
/// watch does) and reading it back, beside parsing the same text held plainly.
fn bench_live_cache(c: &mut Criterion) {
    let sample = pod("web-0", "rs-1", 0);
    let obj = pod("web-1", "rs-1", 1);
    let key = ResourceKey::of(&obj).expect("a pod has a key");
    let text = obj.to_string();
    let dictionary = Dictionary::from_sample(&sample.to_string());
    let held = LiveObject::packed(&key, &obj, &text, Some(&dictionary));
    let mut g = c.benchmark_group("live cache");
    g.bench_function("hold a pod", |b| {
        b.iter(|| LiveObject::packed(&key, black_box(&obj), &text, Some(&dictionary)))
    });
    g.bench_function("read a pod back", |b| b.iter(|| black_box(&held).value()));
    g.bench_function("parse a pod's plain text", |b| {
        b.iter(|| serde_json::from_str::<Value>(black_box(&text)).ok())
    });
    g.finish();
}

/// 100 Deployments, each with one ReplicaSet of 98 Pods: 10,000 live objects.
fn ten_thousand_nodes() -> (Vec<ManagedResource>, MemoryIndex) {
    let mut objects = Vec::with_capacity(10_000);
    let mut managed = Vec::new();
    for d in 0..100 {
        let name = format!("web-{d}");
        let mut dep = live_deployment(&name, "shop");
        dep["metadata"]["uid"] = json!(format!("dep-{d}"));
        managed.push(ManagedResource {
            key: ResourceKey::new("apps", "Deployment", "shop", &name),
            version: "v1".into(),
            sync: Some(SyncStatus::Synced),
        });
        objects.push(dep);
        let rs_uid = format!("rs-{d}");
        objects.push(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": format!("{name}-abc"), "namespace": "shop", "uid": rs_uid, "creationTimestamp": NOW,
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": format!("dep-{d}"), "controller": true}]},
            "spec": {"replicas": 98}, "status": {"replicas": 98, "readyReplicas": 98, "availableReplicas": 98}}));
        for p in 0..98 {
            objects.push(pod(&format!("{name}-abc-{p}"), &rs_uid, d * 100 + p));
        }
    }
    (managed, MemoryIndex::from_objects(objects))
}

fn bench_tree(c: &mut Criterion) {
    let (managed, index) = ten_thousand_nodes();
    let root = AppRoot {
        key: ResourceKey::new("argoproj.io", "Application", "argocd", "shop"),
        version: "v1alpha1".into(),
        health: None,
        sync: None,
    };
    let now: jiff::Timestamp = NOW.parse().expect("time");
    let mut g = c.benchmark_group("tree");
    g.sample_size(20);
    g.bench_function("build, 10,000 nodes", |b| {
        b.iter(|| build_tree(&root, black_box(&managed), &index, now))
    });
    g.finish();
}

fn bench_plan(c: &mut Criterion) {
    let app: Application = serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "shop", "namespace": "argocd"},
        "spec": {"source": {"repoURL": "/git/shop"}, "destination": {"namespace": "shop"}}}))
    .expect("application");
    let mut desired = Vec::new();
    let mut outcomes = Vec::new();
    for i in 0..1000 {
        let mut obj = match i % 4 {
            0 => deployment(&format!("web-{i}"), "shop"),
            1 => {
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": format!("svc-{i}"), "namespace": "shop"}})
            }
            _ => {
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("cm-{i}"), "namespace": "shop"}})
            }
        };
        obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = json!((i % 5).to_string());
        set_tracking_id(&mut obj, "shop");
        let key = ResourceKey::of(&obj).expect("key");
        outcomes.push(ResourceOutcome {
            key: key.clone(),
            version: "v1".into(),
            diff: ResourceDiff {
                key: key.clone(),
                desired: None,
                live: None,
                changed: true,
            },
            sync: SyncStatus::OutOfSync,
            message: String::new(),
            requires_pruning: false,
            method: None,
        });
        desired.push(DesiredObject {
            key,
            api_version: obj["apiVersion"].as_str().unwrap_or("v1").to_string(),
            json: obj.to_string().into(),
            origin: "x.yaml:1".into(),
            hook: false,
            problem: None,
        });
    }
    let live = HashMap::new();
    let options = SyncOptions::default();
    let mut g = c.benchmark_group("plan");
    g.bench_function("1,000 objects in 5 waves", |b| {
        b.iter(|| {
            build(&PlanInput {
                app: &app,
                revision: "0123456789abcdef0123456789abcdef01234567",
                desired: black_box(&desired),
                outcomes: &outcomes,
                live: &live,
                extras: &[],
                options: &options,
                allow_empty: false,
                create_namespace: None,
            })
        })
    });
    g.finish();
}

fn app_snapshot(i: usize, detail: Option<Arc<AppDetail>>) -> AppSnapshot {
    let (sync, health) = match i % 7 {
        0 => (SyncStatus::OutOfSync, Health::Healthy),
        1 => (SyncStatus::Synced, Health::Progressing),
        2 => (SyncStatus::Synced, Health::Degraded),
        _ => (SyncStatus::Synced, Health::Healthy),
    };
    AppSnapshot {
        name: format!("app-{i:04}"),
        namespace: "argocd".into(),
        managed_by: ManagedBy::Rekon,
        kind: "Application".into(),
        cluster: if i.is_multiple_of(2) {
            "prod"
        } else {
            "staging"
        }
        .into(),
        destination_namespace: format!("app-{i:04}"),
        repo_url: "https://git.example.com/acme/gitops.git".into(),
        path: format!("apps/app-{i:04}"),
        target_revision: "main".into(),
        revision: Some("4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49".into()),
        origin: Default::default(),
        sync,
        health,
        message: if health == Health::Healthy {
            String::new()
        } else {
            format!("Deployment/web-{i}: waiting for rollout")
        },
        auto_sync: i.is_multiple_of(3),
        last_sync: Some("2026-05-01T11:00:00Z".into()),
        resources: Arc::new(
            (0..30)
                .map(|r| ResourceStatus {
                    group: String::new(),
                    version: "v1".into(),
                    kind: "ConfigMap".into(),
                    namespace: format!("app-{i:04}"),
                    name: format!("cm-{r}"),
                    sync: SyncStatus::Synced,
                    health: None,
                    message: String::new(),
                    requires_pruning: false,
                })
                .collect(),
        ),
        operation: None,
        detail,
    }
}

fn snapshot(apps: Vec<AppSnapshot>) -> Snapshot {
    Snapshot {
        generation: 1,
        apps,
        clusters: vec![ClusterSnapshot {
            name: "prod".into(),
            connection: ConnectionState::Connected,
        }],
        read_only: false,
        settled: true,
    }
}

/// A tree of 2,000 nodes: 20 Deployments, each with one ReplicaSet of 98 Pods.
fn tree_of_2000() -> TreeNode {
    let node = |kind: &str, group: &str, name: String, children: Vec<TreeNode>| TreeNode {
        key: ResourceKey::new(group, kind, "shop", &name),
        version: "v1".into(),
        uid: Some(format!("uid-{kind}-{name}")),
        health: Some(HealthStatus::new(Health::Healthy, "")),
        sync: None,
        info: vec![
            ("phase".into(), "Running".into()),
            ("ready".into(), "1/1".into()),
            ("age".into(), "5d".into()),
        ],
        children,
    };
    let deployments = (0..20)
        .map(|d| {
            let pods = (0..98)
                .map(|p| node("Pod", "", format!("web-{d}-abc-{p:03}"), vec![]))
                .collect();
            let rs = node("ReplicaSet", "apps", format!("web-{d}-abc"), pods);
            let mut dep = node("Deployment", "apps", format!("web-{d}"), vec![rs]);
            dep.sync = Some(SyncStatus::Synced);
            dep
        })
        .collect();
    let mut root = node("Application", "argoproj.io", "shop".into(), deployments);
    root.key.namespace = "argocd".into();
    root
}

fn bench_render(c: &mut Criterion) {
    let now: jiff::Timestamp = NOW.parse().expect("time");
    let options = || TuiOptions {
        contexts: vec!["prod".into(), "staging".into()],
        ..TuiOptions::default()
    };
    let mut apps_ui = App::new(options());
    apps_ui.set_now(Some(now));
    apps_ui.set_snapshot(Arc::new(snapshot(
        (0..500).map(|i| app_snapshot(i, None)).collect(),
    )));

    let tree = tree_of_2000();
    let nodes = tree.len();
    let detail = Arc::new(AppDetail {
        tree,
        diffs: Vec::new(),
        compare_method: "server-side dry run".into(),
        conditions: Vec::new(),
        history: Vec::new(),
        timeline: Vec::new(),
    });
    let mut tree_ui = App::new(options());
    tree_ui.set_now(Some(now));
    tree_ui.set_snapshot(Arc::new(snapshot(vec![app_snapshot(0, Some(detail))])));
    tree_ui.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(tree_ui.app_view().is_some(), "Enter opens the app view");
    assert!(nodes >= 2000, "tree has {nodes} nodes");

    let mut g = c.benchmark_group("render");
    for (label, ui) in [
        ("frame, apps table of 500, 200x50", &mut apps_ui),
        ("frame, tree of 2,000 nodes, 200x50", &mut tree_ui),
    ] {
        g.bench_function(label, |b| {
            b.iter_batched_ref(
                || Terminal::new(TestBackend::new(200, 50)).expect("terminal"),
                |t| {
                    t.draw(|f| ui.draw(f)).expect("draw");
                },
                BatchSize::SmallInput,
            )
        });
    }
    // A snapshot arriving, then a frame: what the TUI does on every engine update.
    let next = Arc::new(snapshot((0..500).map(|i| app_snapshot(i, None)).collect()));
    g.bench_function("snapshot update + frame, apps table of 500", |b| {
        let mut t = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
        b.iter(|| {
            apps_ui.set_snapshot(next.clone());
            t.draw(|f| apps_ui.draw(f)).expect("draw");
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_normalize,
    bench_diff,
    bench_health,
    bench_live_cache,
    bench_tree,
    bench_plan,
    bench_render
);
criterion_main!(benches);
