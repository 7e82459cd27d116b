//! The `rekon` binary when the cluster side is wrong: a broken kubeconfig, an unknown
//! context, expired credentials (the emulator told to reject the token), a server that
//! never answers (`--request-timeout`), RBAC refusals — each one clear line, exit 2, never
//! a hang or a panic.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::emulate::Emulator;
use crate::support::rekon_command;
use crate::support::reliability::rekon;
use crate::support::source::Fixture;

fn app_file(dir: &Path, repo: &Path) -> PathBuf {
    let p = dir.join("apps.yaml");
    std::fs::write(
        &p,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\n  namespace: argocd\nspec:\n  source:\n    repoURL: {}\n    path: shop\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: shop\n",
            repo.display()
        ),
    )
    .unwrap();
    p
}

fn shop() -> Option<Fixture> {
    let f = Fixture::new()?;
    f.write(
        "shop/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  mode: fast\n",
    );
    f.commit("shop");
    Some(f)
}

/// A kubeconfig whose user presents `token` to `server`.
fn kubeconfig_with_token(dir: &Path, server: &str, token: &str) -> PathBuf {
    let p = dir.join("kubeconfig-token");
    std::fs::write(
        &p,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: emu\n  cluster: {{server: \"{server}\"}}\ncontexts:\n- name: emu\n  context: {{cluster: emu, user: me}}\nusers:\n- name: me\n  user: {{token: {token}}}\ncurrent-context: emu\n"
        ),
    )
    .unwrap();
    p
}

/// Runs rekon, killing it (and failing) if it has not ended within `limit`.
fn rekon_within(args: &[&str], home: &Path, limit: Duration) -> Output {
    let mut child = rekon_command(home)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let end = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > end {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "rekon {args:?} hung; stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_broken_kubeconfig_and_an_unknown_context_are_named_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let Some(repo) = shop() else { return };
    let apps = app_file(dir.path(), &repo.path);
    let broken = dir.path().join("broken-kubeconfig");
    std::fs::write(&broken, "clusters: [unclosed\n").unwrap();
    let out = rekon(
        &[
            "--kubeconfig",
            broken.to_str().unwrap(),
            "--apps",
            apps.to_str().unwrap(),
            "status",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("rekon: kubeconfig {}", broken.display())),
        "{err}"
    );

    let emu = Emulator::start();
    let out = rekon(
        &[
            "--kubeconfig",
            emu.kubeconfig.to_str().unwrap(),
            "--context",
            "staging",
            "--apps",
            apps.to_str().unwrap(),
            "status",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("has no context \"staging\""), "{err}");
    assert!(
        err.contains(emu.context()),
        "names the ones that exist: {err}"
    );
}

#[test]
fn expired_credentials_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let Some(repo) = shop() else { return };
    let apps = app_file(dir.path(), &repo.path);
    // Emulator-only: a token the server takes for expired is a fault only the emulator injects.
    let emu = Emulator::emulated(&["--faults", "reject-token=expired-token"]);
    let kubeconfig = kubeconfig_with_token(dir.path(), &emu.url, "expired-token");
    let out = rekon_within(
        &[
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--apps",
            apps.to_str().unwrap(),
            "status",
        ],
        dir.path(),
        Duration::from_secs(90),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("refused the credentials (401 Unauthorized)"),
        "{err}"
    );
    assert!(err.contains("expired"), "{err}");
    // The token itself is a credential: never printed.
    let all = format!("{err}{}", String::from_utf8_lossy(&out.stdout));
    assert!(!all.contains("expired-token"), "{all}");
    // A token the server accepts works as usual.
    let good = kubeconfig_with_token(dir.path(), &emu.url, "fresh-token");
    let out = rekon_within(
        &[
            "--kubeconfig",
            good.to_str().unwrap(),
            "--apps",
            apps.to_str().unwrap(),
            "status",
        ],
        dir.path(),
        Duration::from_secs(90),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("OutOfSync"), "{stdout}{}", stderr(&out));
}

#[test]
fn a_server_that_never_answers_ends_in_the_request_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let Some(repo) = shop() else { return };
    let apps = app_file(dir.path(), &repo.path);
    // Emulator-only: a server whose discovery hangs is a fault only the emulator injects.
    let emu = Emulator::emulated(&["--faults", "hang=/api,hang=/apis"]);
    let out = rekon_within(
        &[
            "--server",
            &emu.url,
            "--request-timeout",
            "1s",
            "--apps",
            apps.to_str().unwrap(),
            "status",
        ],
        dir.path(),
        Duration::from_secs(90),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("is unreachable"), "{err}");
    assert!(
        err.contains("no answer from the API server within 1s"),
        "{err}"
    );

    let out = rekon(
        &[
            "--server",
            &emu.url,
            "--request-timeout",
            "0s",
            "--apps",
            apps.to_str().unwrap(),
            "status",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--request-timeout 0s"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rbac_refusals_are_forbidden_in_status_and_sync() {
    let dir = tempfile::tempdir().unwrap();
    let Some(repo) = shop() else { return };
    let apps = app_file(dir.path(), &repo.path);
    // Emulator-only: the refusals are injected faults (realk8s authorizes everything).
    let emu = Emulator::emulated(&["--faults", "forbid=configmaps:list+watch+patch"]);
    let out = rekon_within(
        &[
            "--server",
            &emu.url,
            "--apps",
            apps.to_str().unwrap(),
            "status",
            "-o",
            "json",
        ],
        dir.path(),
        Duration::from_secs(90),
    );
    let json: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let cm = &json[0]["resources"][0];
    assert_eq!(cm["kind"], "ConfigMap");
    assert_eq!(cm["sync"], "Unknown", "{json:#}");
    assert!(
        cm["message"].as_str().unwrap().contains("forbidden"),
        "{json:#}"
    );
    let out = rekon_within(
        &[
            "--server",
            &emu.url,
            "--apps",
            apps.to_str().unwrap(),
            "sync",
            "shop",
        ],
        dir.path(),
        Duration::from_secs(90),
    );
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(all.contains("forbidden"), "{all}");
    assert!(
        all.contains("cannot patch resource \"configmaps\""),
        "{all}"
    );
}
