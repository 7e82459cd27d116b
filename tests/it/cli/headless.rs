//! The headless commands as a user runs them: the real `rekon` binary against a cluster in a
//! process of its own (`rekon emulate`, or the real control plane), reading Applications from
//! files.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::emulate::Emulator;
use crate::support::rekon_command;
use crate::support::source::Fixture;
use serde_json::Value;

const SECRET_VALUE: &str = "cli-planted-secret";

fn rekon(args: &[&str], cache: &Path) -> Output {
    rekon_command(cache).args(args).output().unwrap()
}

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

fn shop(f: &Fixture) {
    f.write(
        "shop/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  mode: fast\n",
    );
    f.write(
        "shop/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: shop\nstringData:\n  key: {SECRET_VALUE}\n"),
    );
    f.commit("shop");
}

#[test]
fn status_json_diff_tree_and_manifests_against_a_cluster_process() {
    let Some(f) = Fixture::new() else { return };
    shop(&f);
    let emu = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let apps = app_file(work.path(), &f.path);
    let apps = apps.to_str().unwrap();
    let cache = work.path().join("cache");

    // Nothing applied yet: OutOfSync and Missing, as JSON.
    let [how, to] = emu.cluster_args();
    let out = rekon(&[how, to, "--apps", apps, "status", "-o", "json"], &cache);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let app = &status[0];
    assert_eq!(app["name"], "shop");
    assert_eq!(app["managedBy"], "rekon");
    assert_eq!(app["kind"], "Application");
    assert_eq!(app["sync"], "OutOfSync");
    assert_eq!(app["health"], "Missing");
    assert_eq!(app["revision"].as_str().map(str::len), Some(40));
    assert_eq!(app["resources"].as_array().unwrap().len(), 2);
    assert_eq!(app["resources"][0]["requiresPruning"], false);

    // diff: different (exit 1), and the Secret value never shows in any format.
    for format in ["unified", "side", "json"] {
        let out = rekon(
            &[
                "--kubeconfig",
                emu.kubeconfig.to_str().unwrap(),
                "--apps",
                apps,
                "diff",
                "shop",
                "-o",
                format,
            ],
            &cache,
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("mode"), "{format}: {text}");
        assert!(!text.contains(SECRET_VALUE), "{format} leaked the secret");
    }

    // tree as text and JSON.
    let out = rekon(&[how, to, "--apps", apps, "tree", "shop"], &cache);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ConfigMap"), "{text}");
    let out = rekon(
        &[how, to, "--apps", apps, "tree", "shop", "-o", "json"],
        &cache,
    );
    let tree: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(tree["kind"], "Application");
    assert_eq!(tree["children"].as_array().unwrap().len(), 2);

    // manifests needs no cluster, and masks the Secret.
    let out = rekon(&["--apps", apps, "manifests", "shop"], &cache);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("kind: ConfigMap"));
    assert!(!text.contains(SECRET_VALUE));
}

#[test]
fn bad_input_is_one_line_naming_the_culprit_with_exit_2() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let broken = work.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x\n",
    )
    .unwrap();
    let out = rekon(
        &["--apps", broken.to_str().unwrap(), "manifests", "x"],
        &cache,
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("broken.yaml:"), "{err}");

    let out = rekon(&["--apps", "/no/such/folder", "status"], &cache);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/no/such/folder"), "{err}");

    let out = rekon(
        &[
            "--server",
            "not a url",
            "--apps",
            broken.to_str().unwrap(),
            "status",
        ],
        &cache,
    );
    assert_eq!(out.status.code(), Some(2));

    let out = rekon(
        &["status", "-o", "side", "--apps", broken.to_str().unwrap()],
        &cache,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--output side is not supported by status")
    );
}

#[test]
fn an_unreachable_repository_names_the_app_and_exits_2() {
    let Some(f) = Fixture::new() else { return };
    shop(&f);
    let emu = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let apps = work.path().join("apps.yaml");
    std::fs::write(
        &apps,
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: gone, namespace: argocd}\nspec:\n  source: {repoURL: /no/such/repo, path: x}\n  destination: {namespace: x}\n",
    )
    .unwrap();
    let [how, to] = emu.cluster_args();
    let out = rekon(
        &[how, to, "--apps", apps.to_str().unwrap(), "status"],
        &cache,
    );
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("gone"), "{stdout}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("argocd/gone") && err.contains("/no/such/repo"),
        "{err}"
    );
}
