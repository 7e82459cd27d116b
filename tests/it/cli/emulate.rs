//! `rekon emulate`, the command: its ready line, `--kubeconfig-out`, `--speed`, `--faults`
//! and a clean stop on SIGTERM. The emulator itself is tested in its own crate
//! (crates/emulator/tests); these need the `rekon` binary.
//!
//! Emulator-only, whatever `REKON_TEST_CLUSTER` says: they test `rekon emulate` itself (its
//! `http://` ready line, its speed, its faults). Under `REKON_TEST_CLUSTER=real` they drive the
//! real tier's kubectl ([`kubectl`]); with the emulator, `PATH`'s: the kubectl tests fail when
//! `CI=true` and there is none, otherwise they skip with a reason.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::support::emulate::Emulator;
use crate::support::kubectl;
use crate::support::reliability::{raw_http_client, rekon, send};
use http::Method;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

const CMS: &str = "/api/v1/namespaces/default/configmaps";

fn kubectl_command(kubectl: &Path, kubeconfig: &Path, cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(kubectl);
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .env_remove("KUBECONFIG")
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rekon_emulate_prints_its_address_serves_kubectl_and_stops_on_sigterm() {
    let Some(kubectl) = kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kc");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rekon"))
        .args(["emulate", "--listen", "127.0.0.1:0", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .unwrap()
        .unwrap();
    let Some(line) = first else {
        let status = child.wait().await.unwrap();
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_string(&mut stderr).await;
        }
        panic!("`rekon emulate` printed no ready line and exited with {status}: {stderr}");
    };
    let url = line
        .strip_prefix("rekon: Kubernetes API emulator listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected ready line: {line}"));
    assert!(url.parse::<u16>().is_ok_and(|p| p > 0), "{line}");
    let cache = dir.path().join("cache");
    let o = kubectl_command(&kubectl, &kubeconfig, &cache, &["get", "pods"])
        .output()
        .await
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("No resources found in default namespace"));
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "clean stop: {status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_shows_true_ages_against_rekon_emulate_at_speed_20() {
    let Some(kubectl_bin) = kubectl() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kc");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rekon"))
        .args(["emulate", "--listen", "127.0.0.1:0", "--speed", "20"])
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
        .await
        .expect("rekon emulate prints its address")
        .unwrap();
    assert!(ready.is_some(), "rekon emulate exited before serving");
    let kubectl = |args: &[&str]| {
        let mut cmd = Command::new(&kubectl_bin);
        cmd.arg("--kubeconfig")
            .arg(&kubeconfig)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .args(args)
            .env_remove("KUBECONFIG")
            .kill_on_drop(true);
        cmd
    };
    let created = kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx",
        "--replicas=2",
    ])
    .output()
    .await
    .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    // A few real seconds are over a minute of simulated time.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let o = kubectl(&["get", "pods,replicasets,deployments,nodes,events", "-A"])
        .output()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        out.contains("web-"),
        "the Deployment's Pods are listed:\n{out}"
    );
    assert!(
        !out.contains("<invalid>"),
        "an AGE is in the future:\n{out}"
    );
}

#[tokio::test]
async fn rekon_emulate_takes_faults_and_names_a_bad_one() {
    let home = tempfile::tempdir().unwrap();
    let out = rekon(
        &[
            "emulate",
            "--listen",
            "127.0.0.1:0",
            "--faults",
            "latency=1ms,explode=yes",
        ],
        home.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("rekon: --faults: fault \"explode=yes\""),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Emulator-only: faults are the emulator's own.
    let emu = Emulator::emulated(&["--faults", "throttle-rate=1:3s,forbid=pods:list"]);
    let client = raw_http_client(&emu.url);
    let view = send(&client, Method::GET, "/rekon/faults", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(view["spec"], "throttle-rate=1:3s,forbid=pods:list");
    let r = send(&client, Method::GET, CMS, &[], "").await.unwrap();
    assert_eq!(
        (
            r.code,
            r.headers.get("retry-after").unwrap().to_str().unwrap()
        ),
        (429, "3")
    );
}
