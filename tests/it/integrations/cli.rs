//! The command line shows observed apps: `rekon status` (with no `--apps` at all) lists
//! the Argo CD Applications and Flux Kustomizations of the cluster by their prefixed names,
//! and `tree` takes those names. The cluster is served over HTTP in process.

use std::net::SocketAddr;

use crate::support::integrations::put;
use crate::support::rekon_command;
use rekon::integrations::crds;
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::{Value, json};

fn rekon(args: &[&str], home: &std::path::Path) -> std::process::Output {
    rekon_command(home).args(args).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_lists_observed_apps_without_any_apps_file() {
    let c = Cluster::start(ClusterOptions {
        name: "prod".into(),
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        controllers: false,
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    crds::install(&c.client(), crds::ARGOCD, "argocd.yaml")
        .await
        .unwrap();
    crds::install(&c.client(), crds::FLUX, "flux.yaml")
        .await
        .unwrap();
    put(&c, json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "edge", "namespace": "argocd"},
        "spec": {"source": {"repoURL": "https://x/edge.git", "path": "edge"}, "destination": {"namespace": "edge"}},
        "status": {"sync": {"status": "Synced", "revision": "abc"}, "health": {"status": "Healthy"}}}), "argocd").await;
    put(&c, json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "apps", "namespace": "flux-system"},
        "spec": {"path": "./apps", "sourceRef": {"kind": "GitRepository", "name": "platform"}},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "BuildFailed", "message": "kustomize build failed"}]}}), "kustomize-controller").await;
    let home = tempfile::tempdir().unwrap();
    let url = c.url().unwrap();
    let out = tokio::task::spawn_blocking({
        let (url, home) = (url.clone(), home.path().to_path_buf());
        move || rekon(&["--server", &url, "status", "-o", "json"], &home)
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let apps: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows: Vec<(&str, &str, &str, &str)> = apps
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["managedBy"].as_str().unwrap(),
                a["kind"].as_str().unwrap(),
                a["name"].as_str().unwrap(),
                a["health"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("argocd", "Application", "edge", "Healthy"),
            ("flux", "Kustomization", "apps", "Degraded")
        ]
    );
    let table = tokio::task::spawn_blocking({
        let (url, home) = (url.clone(), home.path().to_path_buf());
        move || {
            rekon(
                &["--server", &url, "status", "flux-ks:flux-system/apps"],
                &home,
            )
        }
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("flux-ks:flux-system/apps"), "{text}");
    assert!(!text.contains("argocd:argocd/edge"), "{text}");
    let tree = tokio::task::spawn_blocking({
        let (url, home) = (url.clone(), home.path().to_path_buf());
        move || rekon(&["--server", &url, "tree", "argocd:argocd/edge"], &home)
    })
    .await
    .unwrap();
    assert!(
        tree.status.success(),
        "{}",
        String::from_utf8_lossy(&tree.stderr)
    );
    assert!(
        String::from_utf8_lossy(&tree.stdout)
            .starts_with("Application/argocd/edge (Healthy, Synced)")
    );
}
