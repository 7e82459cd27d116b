//! The demo shows an Argo CD Application and Flux Kustomizations (with a source, a
//! dependency and an image policy the exporter lags behind) next to rekon's own apps.

mod integrations_support;
mod source_common;

use std::time::Duration;

use integrations_support::find;
use rekon::cli::session;
use rekon::demo::Demo;
use rekon::model::{Health, ManagedBy, SyncStatus};

#[tokio::test]
async fn the_demo_shows_argo_cd_and_flux_beside_rekons_apps() {
    // The catalog apps are kustomize overlays: the demo needs kustomize (or kubectl).
    if !source_common::require("kubectl", &["version", "--client"]) {
        return;
    }
    let demo = Demo::start(None, 20.0).await.unwrap();
    let engine = session::start_engine(
        demo.applications(),
        demo.handles(),
        demo.sources.clone(),
        true,
        session::Mode::default(),
    );
    let mut rx = engine.subscribe();
    let ready = tokio::time::timeout(
        Duration::from_secs(60),
        rx.wait_for(|s| {
            s.settled
                && find(s, "argocd:argocd/edge-proxy").is_some_and(|a| a.health == Health::Healthy)
                && find(s, "flux-ks:flux-system/observability")
                    .is_some_and(|a| a.health == Health::Healthy && a.sync == SyncStatus::Synced)
        }),
    )
    .await;
    let snap = match ready {
        Ok(Ok(s)) => s.clone(),
        _ => panic!(
            "the observed demo apps did not settle: {:#?}",
            engine
                .current()
                .apps
                .iter()
                .map(|a| (
                    rekon::integrations::app_ref_in_cluster(a),
                    a.sync,
                    a.health,
                    a.message.clone()
                ))
                .collect::<Vec<_>>()
        ),
    };
    let edge = find(&snap, "argocd:argocd/edge-proxy").unwrap();
    assert_eq!(
        (edge.managed_by, edge.cluster.as_str()),
        (ManagedBy::Argocd, "demo-prod")
    );
    assert_eq!(edge.revision.as_deref(), Some(demo.repo.head()));
    let obs = find(&snap, "flux-ks:flux-system/observability").unwrap();
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
    assert!(
        snap.apps
            .iter()
            .filter(|a| a.managed_by == ManagedBy::Rekon)
            .count()
            >= 6
    );
}
