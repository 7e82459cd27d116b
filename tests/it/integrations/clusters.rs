//! Many clusters at once: observed apps of two clusters in one list, and a cluster that goes
//! away mid-run never blocks or empties the other.

use std::net::SocketAddr;

use crate::support::integrations::*;
use rekon::integrations::crds;
use rekon::model::{ConnectionState, Health};
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::json;

async fn listening(name: &str) -> Cluster {
    let c = Cluster::start(ClusterOptions {
        name: name.into(),
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        controllers: false,
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    crds::install(&c.client(), crds::ARGOCD, "argocd.yaml")
        .await
        .unwrap();
    c
}

fn app(name: &str, health: &str) -> serde_json::Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"source": {"repoURL": "https://x/r.git"}, "destination": {"namespace": "x"}},
        "status": {"sync": {"status": "Synced"}, "health": {"status": health}}})
}

#[tokio::test]
async fn a_cluster_going_away_leaves_the_other_working() {
    let a = listening("a").await;
    let b = listening("b").await;
    put(&a, app("shared", "Healthy"), "argocd").await;
    put(&b, app("shared", "Healthy"), "argocd").await;
    put(&b, app("only-b", "Healthy"), "argocd").await;
    let mut ha = rekon::cluster::connect_server(&a.url().unwrap()).unwrap();
    ha.name = "a".into();
    let mut hb = rekon::cluster::connect_server(&b.url().unwrap()).unwrap();
    hb.name = "b".into();
    let (engine, _cache) = engine(vec![ha, hb], false);
    let snap = wait_for(&engine, "three apps in two clusters", |s| s.apps.len() == 3).await;
    // The same name in two clusters: found with @CLUSTER, ambiguous without.
    assert!(find(&snap, "argocd:argocd/shared@a").is_some());
    assert!(find(&snap, "argocd:argocd/shared@b").is_some());
    let err = ask(&engine, |reply| rekon::runtime::EngineCommand::LiveYaml {
        app: "argocd:argocd/shared".into(),
        key: rekon::model::ResourceKey::new("", "Service", "x", "y"),
        reply,
    })
    .await
    .unwrap_err();
    assert!(
        err.contains("ambiguous") && err.contains("@a") && err.contains("@b"),
        "{err}"
    );

    a.stop().await;
    // b keeps answering: a change there still shows up, and a's apps stay listed.
    put(&b, app("only-b", "Degraded"), "argocd").await;
    let snap = wait_for(&engine, "b's change after a went away", |s| {
        find(s, "argocd:argocd/only-b@b").is_some_and(|x| x.health == Health::Degraded)
    })
    .await;
    assert_eq!(snap.apps.len(), 3, "a's last known apps stay listed");
    let snap = wait_for(&engine, "a shown as failing", |s| {
        s.clusters
            .iter()
            .any(|c| c.name == "a" && !matches!(c.connection, ConnectionState::Connected))
    })
    .await;
    let b_state = snap.clusters.iter().find(|c| c.name == "b").unwrap();
    assert_eq!(b_state.connection, ConnectionState::Connected);
}
