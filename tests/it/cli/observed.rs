//! The Flux commands of the command line against the emulator (served over HTTP in process,
//! its simulated Flux controllers running): `rekon reconcile [--with-source]`, `suspend` and
//! `resume` with the exact patches read from the audit log, the refusals (suspended,
//! read-only, not a Flux app, no such app) as one line and exit code 2, and `rekon graph`
//! and `rekon images` in each output format.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

use crate::support::flux::FluxWorld;
use crate::support::integrations::{
    ClusterAccess, last_seq, live_kustomization, put, writes_after,
};
use crate::support::rekon_command;
use rekon::integrations::crds;
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::{Value, json};

const SHA: &str = "89abcdef0123456789abcdef0123456789abcdef";

async fn run<S: AsRef<str>>(args: &[S], home: &Path) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_string()).collect();
    let home = home.to_path_buf();
    tokio::task::spawn_blocking(move || rekon_command(&home).args(&args).output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An emulated cluster on loopback with the Flux CRDs, a GitRepository with an artifact,
/// two Kustomizations (`apps` depends on `infra`, whose inventory holds `apps`), the
/// exporter Deployment `apps` applied, and an image policy the exporter lags behind.
async fn flux_cluster() -> (Cluster, String, tempfile::TempDir) {
    // Emulator-only: the ImagePolicy's status is seeded (the real tier runs no image
    // automation controllers); the other Flux commands run on both flavours over FluxWorld.
    let c = Cluster::start(ClusterOptions {
        name: "prod".into(),
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        controllers: true,
        speed: 20.0,
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    crds::install(&c.client(), crds::FLUX, "flux.yaml")
        .await
        .unwrap();
    let ready = |message: String| {
        json!([{"type": "Ready", "status": "True", "reason": "Succeeded", "message": message,
            "lastTransitionTime": "2026-05-01T00:00:00Z"}])
    };
    put(&c, json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "platform", "namespace": "flux-system"},
        "spec": {"url": "https://github.com/acme/platform.git", "interval": "1m", "ref": {"branch": "main"}},
        "status": {"observedGeneration": 1, "artifact": {"revision": format!("main@sha1:{SHA}"), "path": "x", "url": "http://x"},
            "conditions": ready(format!("stored artifact for revision 'main@sha1:{SHA}'"))}}), "source-controller").await;
    put(
        &c,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}),
        "kustomize-controller",
    )
    .await;
    put(&c, json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "exporter", "namespace": "monitoring"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "exporter"}},
            "template": {"metadata": {"labels": {"app": "exporter"}},
                "spec": {"containers": [{"name": "exporter", "image": "quay.io/prometheus/blackbox-exporter:v0.24.0"}]}}}}), "kustomize-controller").await;
    let ks = |name: &str, deps: &[&str], inventory: &[&str]| {
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"interval": "10m", "prune": true, "path": format!("./{name}"),
                "sourceRef": {"kind": "GitRepository", "name": "platform"},
                "dependsOn": deps.iter().map(|d| json!({"name": d})).collect::<Vec<_>>()},
            "status": {"observedGeneration": 1, "lastAppliedRevision": format!("main@sha1:{SHA}"),
                "conditions": ready(format!("Applied revision: main@sha1:{SHA}")),
                "inventory": {"entries": inventory.iter().map(|id| json!({"id": id, "v": "v1"})).collect::<Vec<_>>()}}})
    };
    put(
        &c,
        ks(
            "infra",
            &[],
            &[
                "_monitoring__Namespace",
                "flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization",
            ],
        ),
        "kustomize-controller",
    )
    .await;
    put(
        &c,
        ks("apps", &["infra"], &["monitoring_exporter_apps_Deployment"]),
        "kustomize-controller",
    )
    .await;
    put(
        &c,
        json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImageRepository",
        "metadata": {"name": "exporter", "namespace": "flux-system"},
        "spec": {"image": "quay.io/prometheus/blackbox-exporter", "interval": "5m"}}),
        "image-reflector-controller",
    )
    .await;
    put(&c, json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy",
        "metadata": {"name": "exporter", "namespace": "flux-system"},
        "spec": {"imageRepositoryRef": {"name": "exporter"}, "policy": {"semver": {"range": ">=0.20.0"}}},
        "status": {"latestRef": {"name": "quay.io/prometheus/blackbox-exporter", "tag": "v0.25.0"},
            "conditions": ready("latest v0.25.0".into())}}), "image-reflector-controller").await;
    let url = c.url().unwrap();
    let home = tempfile::tempdir().unwrap();
    (c, url, home)
}

/// The (resource, name) of every patch rekon wrote after audit entry `seq`.
fn patches_after(c: &impl ClusterAccess, seq: u64) -> Vec<(String, String)> {
    writes_after(c, seq)
        .into_iter()
        .filter(|e| e.field_manager == "rekon")
        .map(|e| {
            assert_eq!(e.verb, "patch", "rekon only patches Flux objects");
            (e.resource, e.name)
        })
        .collect()
}

fn pair(resource: &str, name: &str) -> (String, String) {
    (resource.to_string(), name.to_string())
}

/// One line on stderr, starting `rekon: `, and exit code 2.
fn refused(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "stdout: {}", text(&out.stdout));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.starts_with('►') && !l.starts_with('◎'))
        .collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].starts_with("rekon: "), "{err}");
    lines[0].to_string()
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

/// The platform of [`FluxWorld`] (real Flux on a real cluster), a private home and the
/// arguments that point `rekon` at the cluster (a kubeconfig whose context is its name).
async fn flux_world() -> Option<(FluxWorld, tempfile::TempDir, Vec<String>)> {
    let w = FluxWorld::start().await?;
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    w.cluster.write_kubeconfig(&kubeconfig, w.cluster.name());
    let args = vec!["--kubeconfig".to_string(), kubeconfig.display().to_string()];
    Some((w, home, args))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_suspend_and_resume_as_the_flux_cli_does() {
    let Some((w, home, args)) = flux_world().await else {
        return;
    };
    let c = &w.cluster;
    let home = home.path();
    let with = |rest: &[&str]| -> Vec<String> {
        args.iter()
            .cloned()
            .chain(rest.iter().map(|s| s.to_string()))
            .collect()
    };
    let applied = format!("Applied revision: main@sha1:{}", w.sha);

    // Reconcile: one patch of the requestedAt annotation, then Flux's Ready message.
    let seq = last_seq(c);
    let out = run(&with(&["reconcile", "flux-ks:flux-system/apps"]), home).await;
    let stdout = ok(&out);
    assert!(
        stdout.starts_with("✔ reconciled flux-ks:flux-system/apps@"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with(&applied), "{stdout}");
    assert!(text(&out.stderr).contains("► asking Flux to reconcile flux-ks:flux-system/apps@"));
    assert_eq!(patches_after(c, seq), [pair("kustomizations", "apps")]);
    let obj = live_kustomization(c, "apps").await;
    let token = obj["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        token.parse::<jiff::Timestamp>().is_ok(),
        "RFC 3339: {token}"
    );
    assert_eq!(obj["status"]["lastHandledReconcileAt"], token.as_str());

    // With its source: the GitRepository first, then the Kustomization.
    let seq = last_seq(c);
    let cmd = with(&["reconcile", "flux-ks:flux-system/apps", "--with-source"]);
    ok(&run(&cmd, home).await);
    assert_eq!(
        patches_after(c, seq),
        [
            pair("gitrepositories", "platform"),
            pair("kustomizations", "apps")
        ]
    );

    // Suspend: spec.suspend, nothing else.
    let seq = last_seq(c);
    let stdout = ok(&run(&with(&["suspend", "flux-ks:flux-system/apps"]), home).await);
    assert!(
        stdout.starts_with("✔ flux-ks:flux-system/apps@"),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("suspended"), "{stdout}");
    assert_eq!(patches_after(c, seq), [pair("kustomizations", "apps")]);
    assert_eq!(live_kustomization(c, "apps").await["spec"]["suspend"], true);

    // Refused while suspended, with the reason, and nothing written.
    let seq = last_seq(c);
    let line = refused(&run(&with(&["reconcile", "flux-ks:flux-system/apps"]), home).await);
    assert!(
        line.ends_with(
            "flux-ks:flux-system/apps is suspended (spec.suspend: true): resume it first"
        ),
        "{line}"
    );
    assert!(
        line.starts_with("rekon: could not reconcile flux-ks:flux-system/apps@"),
        "{line}"
    );
    assert!(patches_after(c, seq).is_empty());

    // Read-only refuses before writing.
    let cmd = with(&["--read-only", "resume", "flux-ks:flux-system/apps"]);
    let line = refused(&run(&cmd, home).await);
    assert!(line.contains("read-only"), "{line}");
    assert!(patches_after(c, seq).is_empty());

    // Resume: spec.suspend false and a reconcile request in one patch; waits for Ready.
    let stdout = ok(&run(&with(&["resume", "flux-ks:flux-system/apps"]), home).await);
    assert!(
        stdout.starts_with("✔ resumed flux-ks:flux-system/apps@"),
        "{stdout}"
    );
    assert_eq!(patches_after(c, seq), [pair("kustomizations", "apps")]);
    let obj = live_kustomization(c, "apps").await;
    assert_eq!(obj["spec"]["suspend"], false);
    let new_token = obj["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"].as_str();
    assert_ne!(new_token, Some(token.as_str()));
    assert_eq!(obj["status"]["lastHandledReconcileAt"].as_str(), new_token);

    // The graph of what Flux reconciled.
    let graph = ok(&run(&with(&["graph"]), home).await);
    for want in [
        "Kustomization/flux-system/infra (Healthy)".to_string(),
        "Kustomization/flux-system/apps (Healthy)".into(),
        "  ← source GitRepository/flux-system/platform".into(),
        "  → depends on Kustomization/flux-system/infra".into(),
        "  ▸ applies Kustomization/flux-system/apps".into(),
        format!("{} — 1 objects", &w.sha[..12]),
        format!("{} — 3 objects", &w.sha[..12]),
    ] {
        assert!(graph.contains(&want), "missing {want:?}:\n{graph}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flux_commands_refuse_what_is_not_a_flux_app() {
    let Some((w, home, args)) = flux_world().await else {
        return;
    };
    let c = &w.cluster;
    let home = home.path();
    let seq = last_seq(c);
    let cases: [(&[&str], &str); 4] = [
        (
            &["reconcile", "argocd:argocd/edge"],
            "is an Argo CD Application",
        ),
        (&["suspend", "apps"], "does not name a Flux app"),
        (
            &["resume", "flux-hr:cache/redis"],
            "no Flux app named flux-hr:cache/redis in the connected clusters",
        ),
        (
            &["graph", "-o", "table"],
            "--output table is not supported by graph (use text or json)",
        ),
    ];
    for (rest, want) in cases {
        let mut cmd = args.clone();
        cmd.extend(rest.iter().map(|s| s.to_string()));
        let line = refused(&run(&cmd, home).await);
        assert!(line.contains(want), "{rest:?}: {line}");
    }
    assert!(patches_after(c, seq).is_empty());
    // Without a cluster: one line, exit 2.
    let line = refused(&run(&["--server", "http://127.0.0.1:9", "graph"], home).await);
    assert!(line.contains("127.0.0.1:9"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graph_and_images_for_people_and_scripts() {
    let (_c, url, home) = flux_cluster().await;
    let home = home.path();
    let server = url.as_str();

    let graph = ok(&run(&["--server", server, "graph"], home).await);
    for want in [
        "Kustomization/flux-system/infra (Healthy)",
        "Kustomization/flux-system/apps (Healthy)",
        "  ← source GitRepository/flux-system/platform",
        "  → depends on Kustomization/flux-system/infra",
        "  ▸ applies Kustomization/flux-system/apps",
    ] {
        assert!(graph.contains(want), "missing {want:?}:\n{graph}");
    }
    let json: Value = serde_json::from_str(&ok(&run(
        &["--server", server, "graph", "-o", "json"],
        home,
    )
    .await))
    .unwrap();
    let g = &json.as_array().unwrap()[0];
    assert!(g["nodes"].as_array().unwrap().len() >= 5, "{g:#}");
    assert!(
        g["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "dependsOn"
                && e["from"]["name"] == "apps"
                && e["to"]["name"] == "infra"),
        "{g:#}"
    );

    let table = ok(&run(&["--server", server, "images"], home).await);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("CLUSTER"), "{table}");
    let row = lines
        .iter()
        .find(|l| l.contains("Deployment/monitoring/exporter"))
        .unwrap_or_else(|| panic!("no exporter row:\n{table}"));
    for want in ["flux-system/exporter", "v0.25.0", "v0.24.0", "behind"] {
        assert!(row.contains(want), "{want:?} missing: {row}");
    }
    let json: Value = serde_json::from_str(&ok(&run(
        &["--server", server, "images", "-o", "json"],
        home,
    )
    .await))
    .unwrap();
    let p = &json.as_array().unwrap()[0];
    assert_eq!(p["latestTag"], "v0.25.0");
    assert_eq!(p["workloads"][0]["behind"], true);
    assert_eq!(p["workloads"][0]["tag"], "v0.24.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_of_a_flux_app_is_reconcile_with_its_source() {
    let Some((w, home, args)) = flux_world().await else {
        return;
    };
    let c = &w.cluster;
    let home = home.path();

    let seq = last_seq(c);
    let mut cmd = args.clone();
    cmd.extend(["sync", "flux-ks:flux-system/apps"].map(String::from));
    let out = run(&cmd, home).await;
    let stdout = ok(&out);
    assert!(
        stdout.starts_with("✔ reconciled flux-ks:flux-system/apps@"),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with(&format!("Applied revision: main@sha1:{}", w.sha)),
        "{stdout}"
    );
    assert_eq!(
        patches_after(c, seq),
        [
            pair("gitrepositories", "platform"),
            pair("kustomizations", "apps")
        ]
    );

    // The flags Flux has no counterpart for are refused, by name, before anything is written.
    let seq = last_seq(c);
    for (flag, extra) in [
        ("--prune", None),
        ("--revision", Some("main")),
        ("--resource", Some("apps:Deployment:monitoring/exporter")),
        ("--force", None),
    ] {
        let mut cmd = args.clone();
        cmd.extend(["sync", "flux-ks:flux-system/apps", flag].map(String::from));
        cmd.extend(extra.map(String::from));
        let line = refused(&run(&cmd, home).await);
        assert!(
            line.starts_with(&format!(
                "rekon: {flag} does not apply to flux-ks:flux-system/apps: Flux applies what its source holds"
            )),
            "{line}"
        );
    }
    assert!(patches_after(c, seq).is_empty());
}
