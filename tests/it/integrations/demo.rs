//! The demo shows every state at once, beside an Argo CD Application and Flux
//! Kustomizations (with a source, a dependency and an image policy the exporter lags behind),
//! and nothing heals itself while nobody acts: the same states after ten simulated minutes.

use std::time::{Duration, Instant};

use crate::support::integrations::find;
use rekon::cli::session;
use rekon::demo::Demo;
use rekon::model::{AppSnapshot, Health, ManagedBy, OperationPhase, Snapshot, SyncStatus};

/// Simulated time runs this much faster than the wall clock.
const SPEED: f64 = 40.0;
/// How long the states must hold without anyone acting, in simulated time.
const HOLD: Duration = Duration::from_secs(600);

/// The app named `name` (rekon's own apps by name, observed ones by reference).
fn app<'a>(s: &'a Snapshot, name: &str) -> Option<&'a AppSnapshot> {
    find(s, name).or_else(|| {
        s.apps
            .iter()
            .find(|a| a.managed_by == ManagedBy::Rekon && a.name == name)
    })
}

/// Why the snapshot does not show the demo's first screen yet, or `None` when it does.
fn missing_state(s: &Snapshot) -> Option<String> {
    let expect = |name: &str, sync: Option<SyncStatus>, health: Health, words: &[&str]| {
        let Some(a) = app(s, name) else {
            return Some(format!("{name}: not listed"));
        };
        let fits = sync.is_none_or(|w| a.sync == w)
            && a.health == health
            && words.iter().all(|w| a.message.contains(w));
        (!fits).then(|| {
            format!(
                "{name}: {:?} {:?} {:?}, wanted {sync:?} {health:?} {words:?}",
                a.sync, a.health, a.message
            )
        })
    };
    let argo_running = app(s, "argocd:argocd/edge-proxy")
        .and_then(|a| a.operation.as_ref())
        .is_some_and(|op| op.phase == OperationPhase::Running);
    [
        // In sync, healthy.
        expect(
            "flux-ks:flux-system/observability",
            Some(SyncStatus::Synced),
            Health::Healthy,
            &[],
        ),
        // A rollout whose pods take half an hour.
        expect(
            "catalog-prod",
            Some(SyncStatus::Synced),
            Health::Progressing,
            &[],
        ),
        // An image that never pulls, past its progress deadline.
        expect(
            "recommendations",
            Some(SyncStatus::Synced),
            Health::Degraded,
            &["progress deadline"],
        ),
        // Never synced.
        expect("search", Some(SyncStatus::OutOfSync), Health::Missing, &[]),
        // Drift from a hand edit.
        expect(
            "catalog-staging",
            Some(SyncStatus::OutOfSync),
            Health::Healthy,
            &[],
        ),
        // Git that does not render: the file and line.
        expect(
            "session-cache",
            Some(SyncStatus::Unknown),
            Health::Unknown,
            &["apps/session-cache/statefulset.yaml:27"],
        ),
        expect(
            "flux-ks:flux-system/observability-alerts",
            None,
            Health::Suspended,
            &["suspended"],
        ),
        // An Argo CD sync waiting for its first wave's health.
        expect(
            "argocd:argocd/edge-proxy",
            None,
            Health::Progressing,
            &["waiting for healthy state of apps/Deployment/edge-proxy"],
        ),
        (!argo_running).then(|| "argocd:argocd/edge-proxy: no operation running".to_string()),
    ]
    .into_iter()
    .flatten()
    .reduce(|a, b| format!("{a}\n{b}"))
}

#[tokio::test]
async fn the_demo_shows_every_state_at_once_and_keeps_them_for_ten_simulated_minutes() {
    // The catalog apps are kustomize overlays: the demo needs kustomize (or kubectl).
    if !crate::support::require("kubectl") {
        return;
    }
    let started = Instant::now();
    let demo = Demo::start(None, SPEED).await.unwrap();
    // As `rekon demo` runs it without --auto: nothing syncs unless asked.
    let engine = session::start_engine(
        demo.applications(),
        demo.handles(),
        demo.sources.clone(),
        false,
        session::Mode {
            auto_sync: false,
            refresh_every: Some(session::INTERACTIVE_REFRESH),
            skip_trees: false,
        },
    );
    let mut rx = engine.subscribe();
    let first = tokio::time::timeout(
        Duration::from_secs(60),
        rx.wait_for(|s| s.settled && missing_state(s).is_none()),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    if !first {
        panic!(
            "the demo never showed every state:\n{}",
            missing_state(&engine.current()).unwrap_or_default()
        );
    }

    // Ten simulated minutes later (the pods of the slow rollout take thirty), still the same.
    let hold = HOLD.div_f64(SPEED);
    tokio::time::sleep(hold.saturating_sub(started.elapsed())).await;
    let later = tokio::time::timeout(
        HOLD.div_f64(SPEED),
        rx.wait_for(|s| s.settled && missing_state(s).is_none()),
    )
    .await;
    let snap = match later {
        Ok(Ok(s)) => s.clone(),
        _ => panic!(
            "after ten simulated minutes the demo lost a state:\n{}",
            missing_state(&engine.current()).unwrap_or_default()
        ),
    };

    let edge = app(&snap, "argocd:argocd/edge-proxy").unwrap();
    assert_eq!(
        (edge.managed_by, edge.cluster.as_str()),
        (ManagedBy::Argocd, "demo-prod")
    );
    assert_eq!(edge.revision.as_deref(), Some(demo.repo.head()));
    let obs = app(&snap, "flux-ks:flux-system/observability").unwrap();
    assert_eq!(obs.cluster, "demo-staging");
    let detail = obs.detail.as_ref().unwrap();
    assert!(
        detail.conditions.iter().any(|c| c.kind == "ImageBehind"),
        "{:?}",
        detail.conditions
    );
    let roles: Vec<Option<&str>> = detail
        .tree
        .children
        .iter()
        .take(2)
        .map(|n| n.info_value("role"))
        .collect();
    assert_eq!(roles, [Some("source"), Some("dependsOn")]);
    assert_eq!(
        snap.apps
            .iter()
            .filter(|a| a.managed_by == ManagedBy::Rekon)
            .count(),
        demo.repo.applications.len()
    );
}
