//! `rekon run` as a service runs it: the real binary against `rekon emulate`, auto-syncing an
//! app, logging one line per event, and stopping cleanly on SIGTERM.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::emulate::Emulator;
use crate::support::sync::Fixture;

fn configmap_exists(url: &str) -> bool {
    // `rekon emulate` speaks plain HTTP; a GET of the object is enough.
    let out = Command::new("curl")
        .args([
            "-sf",
            &format!("{url}/api/v1/namespaces/shop/configmaps/settings"),
        ])
        .output();
    match out {
        Ok(o) => o.status.success(),
        Err(_) => false,
    }
}

#[test]
fn run_auto_syncs_and_stops_cleanly_on_sigterm() {
    let Some(repo) = Fixture::new() else { return };
    if !crate::support::require("curl") || !crate::support::require("kill") {
        return;
    }
    repo.write(
        "shop/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
    );
    repo.commit("fast");
    let emu = Emulator::start(&[]);
    let url = emu.url.clone();
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
    let mut run = Command::new(env!("CARGO_BIN_EXE_rekon"))
        .args([
            "--server",
            &url,
            "--apps",
            apps.to_str().unwrap(),
            "run",
            "--refresh",
            "1s",
        ])
        .env("XDG_CACHE_HOME", dir.path())
        .env("HOME", dir.path())
        .env("NO_COLOR", "1")
        .env_remove("REKON_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    while !configmap_exists(&url) {
        assert!(Instant::now() < deadline, "rekon run never synced the app");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Let it log the outcome, then stop it the way a service manager does.
    std::thread::sleep(Duration::from_millis(500));
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
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut log = String::new();
    run.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(status.success(), "exit {status:?}\n{log}");
    for want in [
        "reconciling 1 apps (1 with auto-sync) every 1s",
        "auto-sync of argocd/shop: OutOfSync at",
        "sync of argocd/shop Succeeded at",
        "argocd/shop is Synced and Healthy at",
        "SIGTERM: stopping",
        "stopped",
    ] {
        assert!(log.contains(want), "missing {want:?} in\n{log}");
    }
    drop(emu);
}
