//! `rekon run` as a service runs it: the real binary against a cluster of its own (`rekon
//! emulate`, or the real control plane), auto-syncing an app, logging one line per event, and
//! stopping cleanly on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::emulate::Emulator;
use crate::support::rekon_command;
use crate::support::sync::Fixture;

/// Whether the ConfigMap the app syncs exists, asked as the admin.
async fn configmap_exists(client: &kube::Client) -> bool {
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(client.clone(), "shop");
    matches!(cms.get_opt("settings").await, Ok(Some(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_auto_syncs_and_stops_cleanly_on_sigterm() {
    let Some(repo) = Fixture::new() else { return };
    if !crate::support::require("kill") {
        return;
    }
    repo.write(
        "shop/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
    );
    repo.commit("fast");
    let emu = Emulator::start();
    let client = emu.client().await;
    let dir = tempfile::tempdir().unwrap();
    let apps = dir.path().join("apps.yaml");
    std::fs::write(
        &apps,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\n  namespace: argocd\nspec:\n  source:\n    repoURL: {}\n    path: shop\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: shop\n  syncPolicy:\n    automated: {{selfHeal: true}}\n    syncOptions: [CreateNamespace=true]\n",
            repo.path.display()
        ),
    )
    .unwrap();
    let mut run = rekon_command(dir.path())
        .args(emu.cluster_args())
        .args(["--apps", apps.to_str().unwrap(), "run", "--refresh", "1s"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Its log, line by line, as it comes.
    let (tx, lines) = mpsc::channel();
    let stderr = run.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // What it logs before it is stopped (in an order of its own: the status of the app
    // may be logged before the outcome of its sync).
    let synced = [
        "reconciling 1 apps (1 with auto-sync) every 1s",
        "auto-sync of argocd/shop: OutOfSync at",
        "sync of argocd/shop Succeeded at",
        "argocd/shop is Synced and Healthy at",
    ];
    let mut log: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !synced.iter().all(|w| log.iter().any(|l| l.contains(w))) {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => log.push(line),
            Err(_) => panic!("rekon run never synced the app:\n{}", log.join("\n")),
        }
    }
    assert!(configmap_exists(&client).await, "{}", log.join("\n"));
    // Stop it the way a service manager does.
    let killed = Command::new("kill")
        .args(["-TERM", &run.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = run.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "rekon run did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    reader.join().unwrap();
    log.extend(lines.try_iter());
    let log = log.join("\n");
    assert!(status.success(), "exit {status:?}\n{log}");
    for want in synced.iter().chain(&["SIGTERM: stopping", "stopped"]) {
        assert!(log.contains(want), "missing {want:?} in\n{log}");
    }
    drop(emu);
}
