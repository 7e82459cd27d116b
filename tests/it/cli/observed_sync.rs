//! `rekon sync`, `rollback`, `history` and `tree` of an Argo CD Application observed in the
//! cluster, run as the real binary against the emulator (served over HTTP in process) with
//! its simulated Argo CD controller: the `operation` written as `argocd app sync` and
//! `argocd app rollback` write it (read back from the object, the writes from the audit
//! log), the operation followed to its end with each resource's result printed, exit code 2
//! for a failed operation, a timeout, and an operation already in progress.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

use crate::support::integrations::{get, last_seq, put, writes_after};
use crate::support::rekon_command;
use rekon::integrations::crds;
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::{Value, json};

const APP: &str = "argocd:argocd/edge";

async fn run<S: AsRef<str>>(args: &[S], home: &Path) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
    let home = home.to_path_buf();
    tokio::task::spawn_blocking(move || {
        rekon_command(&home)
            .args(&args)
            .env("USER", "oncall")
            .env("HOSTNAME", "runbook")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Exit code 2 and the one `rekon: ` line on stderr.
fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "stdout: {}", text(&out.stdout));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("rekon: ")).collect();
    assert_eq!(lines.len(), 1, "one error line: {err}");
    lines[0].to_string()
}

/// An emulated cluster on loopback with Argo CD's CRDs, the Deployment and Service of the
/// Application `argocd/edge` (OutOfSync, one history entry), and `extra` resources listed in
/// its status that the cluster does not hold.
async fn argo_cluster(controllers: bool, extra: &[Value]) -> (Cluster, String, tempfile::TempDir) {
    // Emulator-only: the simulated Argo CD controller runs (or, without `controllers`, never
    // runs) the operations rekon writes.
    let c = Cluster::start(ClusterOptions {
        name: "prod".into(),
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        controllers,
        speed: 20.0,
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    crds::install(&c.client(), crds::ARGOCD, "argocd.yaml")
        .await
        .unwrap();
    put(
        &c,
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "edge", "namespace": "edge"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "edge"}},
            "template": {"metadata": {"labels": {"app": "edge"}},
                "spec": {"containers": [{"name": "edge", "image": "traefik/whoami:v1.10.3"}]}}}}),
        "argocd-controller",
    )
    .await;
    put(
        &c,
        json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "edge", "namespace": "edge"},
        "spec": {"selector": {"app": "edge"}, "ports": [{"port": 80}]}}),
        "argocd-controller",
    )
    .await;
    let mut resources = vec![
        json!({"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "edge",
            "name": "edge", "status": "OutOfSync"}),
        json!({"version": "v1", "kind": "Service", "namespace": "edge", "name": "edge",
            "status": "Synced"}),
    ];
    resources.extend_from_slice(extra);
    put(&c, json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "edge", "namespace": "argocd"},
        "spec": {"project": "default",
            "source": {"repoURL": "https://github.com/acme/edge.git", "targetRevision": "main", "path": "edge"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "edge"}},
        "status": {"sync": {"status": "OutOfSync", "revision": "abc123"},
            "health": {"status": "Healthy"},
            "resources": resources,
            "history": [{"id": 0, "revision": "0000000", "deployedAt": "2026-04-01T00:00:00Z",
                "source": {"repoURL": "https://github.com/acme/edge.git", "targetRevision": "v0", "path": "edge"}}]}}),
        "argocd-application-controller").await;
    let url = c.url().unwrap();
    (c, url, tempfile::tempdir().unwrap())
}

async fn application(c: &Cluster) -> Value {
    get(c, "argoproj.io/v1alpha1", "Application", "argocd", "edge").await
}

/// The (verb, resource, name) of every write rekon made after audit entry `seq`.
fn rekon_writes(c: &Cluster, seq: u64) -> Vec<(String, String, String)> {
    writes_after(c, seq)
        .into_iter()
        .filter(|e| e.field_manager == "rekon")
        .map(|e| (e.verb, e.resource, e.name))
        .collect()
}

fn one_patch_of_the_application() -> Vec<(String, String, String)> {
    vec![("patch".into(), "applications".into(), "edge".into())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_follows_argo_cds_operation_then_history_tree_and_rollback_read_it() {
    let (c, url, home) = argo_cluster(true, &[]).await;
    let home = home.path();
    let with = |rest: &[&str]| -> Vec<String> {
        ["--server", url.as_str()]
            .iter()
            .chain(rest)
            .map(|s| s.to_string())
            .collect()
    };

    let seq = last_seq(&c);
    let out = run(&with(&["sync", APP]), home).await;
    let stdout = ok(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("GROUP  KIND        NAMESPACE  NAME  STATUS  HEALTH"),
        "{stdout}"
    );
    let row = |kind: &str| {
        lines
            .iter()
            .find(|l| l.split_whitespace().any(|w| w == kind))
            .unwrap_or_else(|| panic!("no {kind} row:\n{stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("Deployment")[..5],
        ["apps", "Deployment", "edge", "edge", "Synced"]
    );
    assert!(row("Service").contains(&"service/edge"), "{stdout}");
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("Succeeded argocd:argocd/edge@")
            && last.contains(" at abc123 ")
            && last.ends_with(": successfully synced (all tasks run)"),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("► asking Argo CD to sync argocd:argocd/edge@"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(rekon_writes(&c, seq), one_patch_of_the_application());
    let app = application(&c).await;
    assert!(app.get("operation").is_none(), "{app:#}");
    assert_eq!(
        app["status"]["operationState"]["operation"],
        json!({"initiatedBy": {"username": "oncall@runbook"}, "sync": {
            "prune": false, "dryRun": false, "syncStrategy": {"hook": {}}}})
    );
    assert_eq!(app["status"]["sync"]["status"], "Synced");

    // History: Argo CD's status.history, newest first, with who deployed it.
    let table = ok(&run(&with(&["history", APP]), home).await);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0][0], "1", "{table}");
    assert_eq!(rows[0][3..], ["abc123", "oncall@runbook"], "{table}");
    assert_eq!(rows[1][0], "0", "{table}");
    assert_eq!(rows[1][3], "0000000", "{table}");
    let json: Value =
        serde_json::from_str(&ok(&run(&with(&["history", APP, "-o", "json"]), home).await))
            .unwrap();
    assert_eq!(json[0]["id"], 1);
    assert_eq!(json[0]["initiatedBy"], "oncall@runbook");

    // Tree: the resources Argo CD reports, and their live children. As in Argo CD, the sync
    // ends before the app is healthy: its health is assessed a moment later.
    for _ in 0..200 {
        if application(&c).await["status"]["health"]["status"] == "Healthy" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let tree = ok(&run(&with(&["tree", APP]), home).await);
    assert!(
        tree.starts_with("Application/argocd/edge (Healthy, Synced)"),
        "{tree}"
    );
    assert!(tree.contains("Deployment/edge/edge"), "{tree}");
    assert!(tree.contains("ReplicaSet/edge/edge-"), "{tree}");

    // Rollback: what `argocd app rollback` writes, the entry's revision and source.
    let seq = last_seq(&c);
    let stdout = ok(&run(&with(&["rollback", APP, "0"]), home).await);
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("Succeeded argocd:argocd/edge@"),
        "{stdout}"
    );
    assert!(stdout.contains(" at 0000000 "), "{stdout}");
    assert_eq!(rekon_writes(&c, seq), one_patch_of_the_application());
    let app = application(&c).await;
    assert_eq!(
        app["status"]["operationState"]["operation"]["sync"],
        json!({"revision": "0000000", "prune": false, "dryRun": false,
            "syncStrategy": {"apply": {}},
            "source": {"repoURL": "https://github.com/acme/edge.git", "targetRevision": "v0", "path": "edge"}})
    );
    assert_eq!(app["status"]["sync"]["revision"], "0000000");
    let line = refused(&run(&with(&["rollback", APP, "7"]), home).await);
    assert!(
        line.ends_with("the Application has no history entry 7"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_operation_exits_2_with_argo_cds_message() {
    let missing = json!({"version": "v1", "kind": "ConfigMap", "namespace": "edge",
        "name": "settings", "status": "OutOfSync"});
    let (_c, url, home) = argo_cluster(true, &[missing]).await;
    let home = home.path();
    let out = run(&["--server", url.as_str(), "sync", APP], home).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let row = stdout
        .lines()
        .find(|l| l.contains("ConfigMap"))
        .unwrap_or_else(|| panic!("no ConfigMap row:\n{stdout}"));
    assert!(row.contains("settings  SyncFailed"), "{row}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("Failed argocd:argocd/edge@")
            && stdout
                .trim_end()
                .ends_with(": one or more objects failed to apply: ConfigMap/settings"),
        "{stdout}"
    );

    let out = run(&["--server", url.as_str(), "sync", APP, "-o", "json"], home).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let op: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(op["phase"], "Failed");
    assert_eq!(op["argocdPhase"], "Failed");
    assert_eq!(op["initiatedBy"], "oncall@runbook");
    let failed: Vec<&Value> = op["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "Failed")
        .collect();
    assert_eq!(failed.len(), 1, "{op:#}");
    assert_eq!(failed[0]["name"], "settings");
    assert_eq!(failed[0]["syncStatus"], "SyncFailed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_reach_the_operation_as_argocd_writes_them_and_one_at_a_time() {
    // No controller: the operation is written and never picked up.
    let (c, url, home) = argo_cluster(false, &[]).await;
    let home = home.path();
    let server = ["--server", url.as_str()];
    let with = |rest: &[&str]| -> Vec<String> {
        server.iter().chain(rest).map(|s| s.to_string()).collect()
    };

    let seq = last_seq(&c);
    let line = refused(
        &run(
            &with(&[
                "sync",
                APP,
                "--prune",
                "--dry-run",
                "--revision",
                "v2",
                "--resource",
                "apps:Deployment:edge/edge",
                "--resource",
                ":Service:edge",
                "--apply-out-of-sync-only",
                "--timeout",
                "1s",
            ]),
            home,
        )
        .await,
    );
    assert!(
        line.starts_with("rekon: sync of argocd:argocd/edge@")
            && line.contains(": timed out after 1s waiting for Argo CD"),
        "{line}"
    );
    assert_eq!(rekon_writes(&c, seq), one_patch_of_the_application());
    assert_eq!(
        application(&c).await["operation"],
        json!({"initiatedBy": {"username": "oncall@runbook"}, "sync": {
            "prune": true, "dryRun": true, "syncStrategy": {"hook": {}}, "revision": "v2",
            "resources": [
                {"group": "apps", "kind": "Deployment", "name": "edge", "namespace": "edge"},
                {"group": "", "kind": "Service", "name": "edge"}],
            "syncOptions": ["ApplyOutOfSyncOnly=true"]}})
    );

    // The operation is still there: a second sync is refused and writes nothing.
    let seq = last_seq(&c);
    let line = refused(&run(&with(&["sync", APP]), home).await);
    assert!(
        line.contains("another operation is already in progress"),
        "{line}"
    );
    let line = refused(&run(&with(&["rollback", APP, "0"]), home).await);
    assert!(
        line.contains("another operation is already in progress"),
        "{line}"
    );
    // Read-only refuses before it connects.
    let line = refused(&run(&with(&["--read-only", "sync", APP]), home).await);
    assert!(line.contains("--read-only"), "{line}");
    assert!(rekon_writes(&c, seq).is_empty());

    // Not an app of the cluster.
    let line = refused(&run(&with(&["sync", "argocd:argocd/nope"]), home).await);
    assert!(
        line.ends_with("no observed app named argocd:argocd/nope in the connected clusters"),
        "{line}"
    );
}
