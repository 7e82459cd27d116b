//! Shared helpers for the TUI tests: a hand-built snapshot of six apps in mixed states,
//! synthetic keys, and rendering on ratatui's TestBackend.

pub mod observed;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use rekon::model::{
    AppSnapshot, ClusterSnapshot, ConnectionState, Health, ManagedBy, Snapshot, SyncStatus,
};
use rekon::tui::{App, TuiOptions};

/// The fixed clock of every test, so ages render the same on every run.
pub const NOW: &str = "2026-05-01T12:00:00Z";

#[allow(clippy::too_many_arguments)]
pub fn app(
    name: &str,
    cluster: &str,
    ns: &str,
    path: &str,
    sync: SyncStatus,
    health: Health,
    last_sync: Option<&str>,
    message: &str,
) -> AppSnapshot {
    AppSnapshot {
        name: name.into(),
        namespace: "argocd".into(),
        managed_by: ManagedBy::Rekon,
        kind: "Application".into(),
        cluster: cluster.into(),
        destination_namespace: ns.into(),
        repo_url: "https://github.com/acme/gitops.git".into(),
        path: path.into(),
        target_revision: "main".into(),
        revision: Some("4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49".into()),
        sync,
        health,
        message: message.into(),
        auto_sync: false,
        last_sync: last_sync.map(String::from),
        resources: Default::default(),
        operation: None,
        origin: Default::default(),
        detail: None,
    }
}

/// Six apps across two clusters: synced and healthy, out of sync, degraded, mid-rollout,
/// suspended, and one that could not be compared.
pub fn six_apps() -> Snapshot {
    let mut guestbook = app(
        "guestbook",
        "demo-staging",
        "guestbook",
        "apps/guestbook",
        SyncStatus::Synced,
        Health::Healthy,
        Some("2026-05-01T11:55:00Z"),
        "",
    );
    guestbook.auto_sync = true;
    let mut monitoring = app(
        "monitoring",
        "demo-staging",
        "monitoring",
        "platform/monitoring",
        SyncStatus::Unknown,
        Health::Unknown,
        None,
        "comparison failed: kustomize build platform/monitoring: no such file kustomization.yaml",
    );
    monitoring.revision = None;
    Snapshot {
        generation: 7,
        apps: vec![
            app(
                "batch-jobs",
                "demo-prod",
                "jobs",
                "apps/batch",
                SyncStatus::Synced,
                Health::Suspended,
                Some("2026-04-28T09:00:00Z"),
                "CronJob nightly-report is suspended",
            ),
            app(
                "checkout",
                "demo-prod",
                "shop",
                "apps/checkout",
                SyncStatus::OutOfSync,
                Health::Healthy,
                Some("2026-05-01T10:00:00Z"),
                "Deployment/checkout differs from Git: spec.replicas",
            ),
            guestbook,
            monitoring,
            app(
                "payments",
                "demo-prod",
                "shop",
                "apps/payments",
                SyncStatus::Synced,
                Health::Degraded,
                Some("2026-05-01T11:30:00Z"),
                "Deployment/payments: ImagePullBackOff: registry.example.com/payments:v9 not found",
            ),
            app(
                "search",
                "demo-staging",
                "search",
                "apps/search",
                SyncStatus::OutOfSync,
                Health::Progressing,
                Some("2026-05-01T11:59:20Z"),
                "Waiting for rollout: 1 of 3 updated replicas are available",
            ),
        ],
        clusters: vec![
            ClusterSnapshot {
                name: "demo-staging".into(),
                connection: ConnectionState::Connected,
            },
            ClusterSnapshot {
                name: "demo-prod".into(),
                connection: ConnectionState::Connected,
            },
        ],
        read_only: false,
        settled: true,
    }
}

/// An app UI on the six apps, clock fixed.
pub fn ui_with(options: TuiOptions) -> App {
    let mut app = App::new(options);
    app.set_now(Some(NOW.parse().unwrap()));
    app.set_snapshot(Arc::new(six_apps()));
    app
}

/// An app UI with default options on the six apps.
pub fn ui() -> App {
    ui_with(TuiOptions {
        contexts: vec!["demo-staging".into(), "demo-prod".into()],
        ..TuiOptions::default()
    })
}

/// A key press without modifiers.
pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Presses the keys of `text`, one character each (upper-case letters arrive with SHIFT,
/// as terminals send them).
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let mods = if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        app.handle_key(KeyEvent::new(KeyCode::Char(c), mods));
    }
}

/// Draws the app on a `w`×`h` test terminal and returns the buffer.
pub fn draw(app: &mut App, w: u16, h: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| app.draw(f)).unwrap();
    terminal.backend().buffer().clone()
}

/// The screen as text, one line per row, trailing spaces kept (as insta stores it).
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| app.draw(f)).unwrap();
    terminal.backend().to_string()
}

/// The screen's rows as plain strings.
pub fn rows(app: &mut App, w: u16, h: u16) -> Vec<String> {
    let buf = draw(app, w, h);
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// App details: a tree, diffs, history, timeline and operations for the app views.

use rekon::model::{
    AppCondition, AppDetail, HealthStatus, HistoryEntry, Operation, OperationPhase, ResourceDiff,
    ResourceKey, StepAction, StepStatus, SyncPhase, SyncPlan, SyncStep, TimelineEntry,
    TimelineKind, TreeNode,
};
use rekon::runtime::EngineCommand;
use tokio::sync::mpsc;

/// A tree node; `sync` only for the app and its own resources.
#[allow(clippy::too_many_arguments)]
pub fn node(
    group: &str,
    kind: &str,
    ns: &str,
    name: &str,
    health: Option<Health>,
    sync: Option<SyncStatus>,
    info: &[(&str, &str)],
    children: Vec<TreeNode>,
) -> TreeNode {
    TreeNode {
        key: ResourceKey::new(group, kind, ns, name),
        version: "v1".into(),
        uid: Some(format!("uid-{kind}-{name}").to_lowercase()),
        health: health.map(|h| {
            let message = match h {
                Health::Healthy => "",
                Health::Progressing => "Waiting for rollout to finish",
                Health::Degraded => "Back-off pulling image registry.example.com/checkout:v9",
                _ => "",
            };
            HealthStatus::new(h, message)
        }),
        sync,
        info: info
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        children,
    }
}

/// The checkout app's topology: a Deployment with two ReplicaSets and pods, a Service
/// with its EndpointSlice, a ConfigMap, a Secret, and a Service gone from Git.
pub fn checkout_tree() -> TreeNode {
    use Health::*;
    use SyncStatus::*;
    let pod = |name: &str| {
        node(
            "",
            "Pod",
            "shop",
            name,
            Some(Healthy),
            None,
            &[("phase", "Running"), ("ready", "1/1"), ("restarts", "0")],
            vec![],
        )
    };
    node(
        "argoproj.io",
        "Application",
        "argocd",
        "checkout",
        Some(Healthy),
        Some(OutOfSync),
        &[],
        vec![
            node(
                "",
                "ConfigMap",
                "shop",
                "checkout-config",
                None,
                Some(Synced),
                &[],
                vec![],
            ),
            node(
                "apps",
                "Deployment",
                "shop",
                "checkout",
                Some(Healthy),
                Some(OutOfSync),
                &[
                    ("revision", "3"),
                    ("ready", "2/2"),
                    ("images", "registry.example.com/checkout:1.25"),
                ],
                vec![
                    node(
                        "apps",
                        "ReplicaSet",
                        "shop",
                        "checkout-7d9f8c",
                        Some(Healthy),
                        None,
                        &[("revision", "3"), ("ready", "2/2")],
                        vec![pod("checkout-7d9f8c-abcde"), pod("checkout-7d9f8c-fghij")],
                    ),
                    node(
                        "apps",
                        "ReplicaSet",
                        "shop",
                        "checkout-5c4b21",
                        Some(Healthy),
                        None,
                        &[("revision", "2"), ("ready", "0/0")],
                        vec![],
                    ),
                ],
            ),
            node(
                "",
                "Secret",
                "shop",
                "checkout-db",
                None,
                Some(OutOfSync),
                &[],
                vec![],
            ),
            node(
                "",
                "Service",
                "shop",
                "checkout",
                Some(Healthy),
                Some(Synced),
                &[("type", "ClusterIP")],
                vec![node(
                    "discovery.k8s.io",
                    "EndpointSlice",
                    "shop",
                    "checkout-x2k9p",
                    None,
                    None,
                    &[],
                    vec![],
                )],
            ),
            node(
                "",
                "Service",
                "shop",
                "checkout-legacy",
                Some(Healthy),
                Some(OutOfSync),
                &[("type", "ClusterIP")],
                vec![],
            ),
        ],
    )
}

fn deployment_yaml(replicas: u32, tag: &str, extra_env: bool) -> String {
    let mut y = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\n  namespace: shop\n  labels:\n    app.kubernetes.io/name: checkout\n    app.kubernetes.io/part-of: shop\n  annotations:\n    rekon.dev/tracking-id: checkout:apps/Deployment:shop/checkout\nspec:\n",
    );
    y.push_str(&format!("  replicas: {replicas}\n"));
    y.push_str("  revisionHistoryLimit: 5\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: checkout\n  strategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxSurge: 25%\n      maxUnavailable: 25%\n  template:\n    metadata:\n      labels:\n        app.kubernetes.io/name: checkout\n    spec:\n      containers:\n      - name: checkout\n");
    y.push_str(&format!(
        "        image: registry.example.com/checkout:{tag}\n"
    ));
    y.push_str("        args:\n        - --listen=:8080\n        - --payments-url=http://payments.shop.svc.cluster.local:8080/api/v1/charge?timeout=30s&retries=3&backoff=exponential\n        env:\n        - name: LOG_LEVEL\n          value: info\n");
    if extra_env {
        y.push_str("        - name: FEATURE_NEW_CART\n          value: \"true\"\n");
    }
    y.push_str("        ports:\n        - containerPort: 8080\n          name: http\n          protocol: TCP\n        resources:\n          limits:\n            memory: 256Mi\n          requests:\n            cpu: 100m\n            memory: 128Mi\n");
    y
}

/// Desired against live for checkout: the Deployment (replicas, image tag, a new env var),
/// the Secret (a masked value changed), and a Service that left Git.
pub fn checkout_diffs() -> Vec<ResourceDiff> {
    vec![
        ResourceDiff {
            key: ResourceKey::new("", "ConfigMap", "shop", "checkout-config"),
            desired: Some("apiVersion: v1\nkind: ConfigMap\n".into()),
            live: Some("apiVersion: v1\nkind: ConfigMap\n".into()),
            changed: false,
        },
        ResourceDiff {
            key: ResourceKey::new("apps", "Deployment", "shop", "checkout"),
            desired: Some(deployment_yaml(3, "1.27", true)),
            live: Some(deployment_yaml(2, "1.25", false)),
            changed: true,
        },
        ResourceDiff {
            key: ResourceKey::new("", "Secret", "shop", "checkout-db"),
            desired: Some(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: checkout-db\n  namespace: shop\ntype: Opaque\ndata:\n  password: ++++++++++\n  username: ++++++++\n"
                    .into(),
            ),
            live: Some(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: checkout-db\n  namespace: shop\ntype: Opaque\ndata:\n  password: +++++++++\n  username: ++++++++\n"
                    .into(),
            ),
            changed: true,
        },
        ResourceDiff {
            key: ResourceKey::new("", "Service", "shop", "checkout-legacy"),
            desired: None,
            live: Some(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: checkout-legacy\n  namespace: shop\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n  type: ClusterIP\n"
                    .into(),
            ),
            changed: true,
        },
    ]
}

/// Three recorded syncs, newest first.
pub fn checkout_history() -> Vec<HistoryEntry> {
    let entry =
        |id: u64, rev: &str, author: &str, msg: &str, at: &str, phase, by: &str, summary: &str| {
            HistoryEntry {
                id,
                revision: rev.into(),
                author: author.into(),
                commit_message: msg.into(),
                started_at: at.into(),
                finished_at: at.into(),
                phase,
                initiated_by: by.into(),
                summary: summary.into(),
                taken: Vec::new(),
            }
        };
    vec![
        entry(
            3,
            "4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49",
            "Ana Lima",
            "checkout: bump to 1.25",
            "2026-05-01T10:00:00Z",
            OperationPhase::Succeeded,
            "ana@laptop",
            "1 configured",
        ),
        entry(
            2,
            "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c",
            "Bo Chen",
            "checkout: add legacy service",
            "2026-04-30T16:20:00Z",
            OperationPhase::Failed,
            "auto-sync",
            "1 created, 1 failed",
        ),
        entry(
            1,
            "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
            "Ana Lima",
            "checkout: first version",
            "2026-04-29T09:00:00Z",
            OperationPhase::Succeeded,
            "ana@laptop",
            "5 created",
        ),
    ]
}

/// A sync, its events, and the health changes that followed, oldest first.
pub fn checkout_timeline() -> Vec<TimelineEntry> {
    let deployment = ResourceKey::new("apps", "Deployment", "shop", "checkout");
    let pod = ResourceKey::new("", "Pod", "shop", "checkout-7d9f8c-abcde");
    let e =
        |time: &str, kind, object: Option<&ResourceKey>, reason: &str, message: &str, warning| {
            TimelineEntry {
                time: time.into(),
                kind,
                object: object.cloned(),
                reason: reason.into(),
                message: message.into(),
                warning,
            }
        };
    vec![
        e(
            "2026-05-01T10:00:00Z",
            TimelineKind::Sync,
            None,
            "Running",
            "sync to 4f2a9c1 started by ana@laptop",
            false,
        ),
        e(
            "2026-05-01T10:00:02Z",
            TimelineKind::Event,
            Some(&deployment),
            "ScalingReplicaSet",
            "Scaled up replica set checkout-7d9f8c to 1",
            false,
        ),
        e(
            "2026-05-01T10:00:05Z",
            TimelineKind::Event,
            Some(&pod),
            "Pulling",
            "Pulling image \"registry.example.com/checkout:1.25\"",
            false,
        ),
        e(
            "2026-05-01T10:00:09Z",
            TimelineKind::Event,
            Some(&pod),
            "BackOff",
            "Back-off restarting failed container checkout in pod checkout-7d9f8c-abcde_shop(5d1c)",
            true,
        ),
        e(
            "2026-05-01T10:00:10Z",
            TimelineKind::Health,
            None,
            "Degraded",
            "health Healthy → Degraded: Deployment/checkout has 1 unavailable replica",
            true,
        ),
        e(
            "2026-05-01T10:01:30Z",
            TimelineKind::Health,
            None,
            "Healthy",
            "health Degraded → Healthy",
            false,
        ),
        e(
            "2026-05-01T10:01:31Z",
            TimelineKind::Sync,
            None,
            "Succeeded",
            "sync to 4f2a9c1 succeeded: 1 configured",
            false,
        ),
        e(
            "2026-05-01T11:40:00Z",
            TimelineKind::SyncStatus,
            None,
            "OutOfSync",
            "sync Synced → OutOfSync: apps/Deployment shop/checkout differs",
            true,
        ),
        e(
            "2026-05-01T11:40:00Z",
            TimelineKind::Event,
            Some(&deployment),
            "ScalingReplicaSet",
            "Scaled down replica set checkout-5c4b21 to 0 from 1",
            false,
        ),
    ]
}

/// The checkout app's detail.
pub fn checkout_detail() -> AppDetail {
    AppDetail {
        tree: checkout_tree(),
        diffs: checkout_diffs(),
        compare_method: "server-side dry run".into(),
        conditions: vec![],
        history: checkout_history(),
        timeline: checkout_timeline(),
    }
}

/// The six apps, with checkout's detail filled in and payments carrying a condition.
pub fn six_apps_with_detail() -> Snapshot {
    let mut s = six_apps();
    for a in &mut s.apps {
        if a.name == "checkout" {
            a.detail = Some(Arc::new(checkout_detail()));
        }
        if a.name == "payments" {
            let mut d = checkout_detail();
            d.diffs.clear();
            d.conditions = vec![AppCondition {
                kind: "ComparisonError".into(),
                message: "dry run of apps/Deployment shop/payments: admission webhook denied"
                    .into(),
            }];
            a.detail = Some(Arc::new(d));
        }
    }
    s
}

/// A UI on the six apps with details, connected to a fake engine whose commands the test
/// reads (and answers) itself.
pub fn ui_with_engine(options: TuiOptions) -> (App, mpsc::Receiver<EngineCommand>) {
    let (tx, rx) = mpsc::channel(64);
    let mut app = App::new(TuiOptions {
        contexts: vec!["demo-staging".into(), "demo-prod".into()],
        initiated_by: "tester@ci".into(),
        ..options
    });
    app.connect(tx);
    app.set_now(Some(NOW.parse().unwrap()));
    app.set_snapshot(Arc::new(six_apps_with_detail()));
    (app, rx)
}

/// Moves the apps table's cursor to `name`.
pub fn select_app(app: &mut App, name: &str) {
    type_text(app, "g");
    for _ in 0..10 {
        if app.selected_app().map(|a| a.name.as_str()) == Some(name) {
            return;
        }
        type_text(app, "j");
    }
    panic!("no app named {name}");
}

/// Every command the fake engine received so far.
pub fn received(rx: &mut mpsc::Receiver<EngineCommand>) -> Vec<EngineCommand> {
    let mut out = Vec::new();
    while let Ok(c) = rx.try_recv() {
        out.push(c);
    }
    out
}

/// A sync step.
#[allow(clippy::too_many_arguments)]
pub fn step(
    phase: SyncPhase,
    wave: i32,
    group: &str,
    kind: &str,
    name: &str,
    action: StepAction,
    status: StepStatus,
    message: &str,
) -> SyncStep {
    SyncStep {
        phase,
        wave,
        group: group.into(),
        version: "v1".into(),
        kind: kind.into(),
        namespace: "shop".into(),
        name: name.into(),
        action,
        status,
        message: message.into(),
        takes: Vec::new(),
        replace: false,
    }
}

/// The plan of a checkout sync: a PreSync migration hook, then two waves.
pub fn checkout_plan(prune: bool) -> SyncPlan {
    use StepAction::*;
    let pending = StepStatus::Pending;
    let mut steps = vec![
        step(
            SyncPhase::PreSync,
            0,
            "batch",
            "Job",
            "checkout-migrate",
            Hook,
            pending,
            "",
        ),
        step(
            SyncPhase::Sync,
            -1,
            "",
            "ConfigMap",
            "checkout-config",
            Unchanged,
            pending,
            "",
        ),
        step(
            SyncPhase::Sync,
            -1,
            "",
            "Secret",
            "checkout-db",
            Configured,
            pending,
            "",
        ),
        step(
            SyncPhase::Sync,
            0,
            "apps",
            "Deployment",
            "checkout",
            Configured,
            pending,
            "",
        ),
        step(
            SyncPhase::Sync,
            0,
            "",
            "Service",
            "checkout",
            Unchanged,
            pending,
            "",
        ),
    ];
    steps.push(if prune {
        step(
            SyncPhase::Sync,
            0,
            "",
            "Service",
            "checkout-legacy",
            Pruned,
            pending,
            "",
        )
    } else {
        step(
            SyncPhase::Sync,
            0,
            "",
            "Service",
            "checkout-legacy",
            Skipped,
            StepStatus::Skipped,
            "pruning not asked for",
        )
    });
    SyncPlan {
        app: "argocd/checkout".into(),
        revision: "4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49".into(),
        steps,
        options: Default::default(),
    }
}

/// A checkout sync operation with its steps at the given statuses.
pub fn checkout_operation(phase: OperationPhase, statuses: &[StepStatus]) -> Operation {
    let mut steps = checkout_plan(true).steps;
    for (s, st) in steps.iter_mut().zip(statuses) {
        s.status = *st;
    }
    Operation {
        app: "argocd/checkout".into(),
        phase,
        revision: "4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49".into(),
        steps,
        message: match phase {
            OperationPhase::Succeeded => "1 hook, 2 configured, 1 pruned".into(),
            OperationPhase::Failed => {
                "Deployment shop/checkout: timed out waiting for health".into()
            }
            _ => String::new(),
        },
        started_at: "2026-05-01T11:59:00Z".into(),
        finished_at: (phase != OperationPhase::Running).then(|| "2026-05-01T11:59:40Z".into()),
        initiated_by: "tester@ci".into(),
        dry_run: false,
    }
}

/// The current snapshot with checkout's operation (and optionally state) replaced.
pub fn with_operation(app: &App, op: Option<Operation>, sync: Option<SyncStatus>) -> Snapshot {
    let mut s = app.snapshot().clone();
    s.generation += 1;
    for a in &mut s.apps {
        if a.name == "checkout" {
            a.operation = op.clone();
            if let Some(sync) = sync {
                a.sync = sync;
            }
        }
    }
    s
}
