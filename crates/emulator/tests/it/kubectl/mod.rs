//! The real kubectl against the emulator over HTTP: server-side apply with default
//! validation, tables, YAML, diff, client-side apply, delete --wait, get -w, CRDs. Each test
//! writes its own kubeconfig and discovery cache.
//!
//! kubectl missing: the tests fail when `CI=true`, otherwise they skip with a reason.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rekon_emulator::{Cluster, ClusterOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::support::{fixture, require_kubectl};

mod apply;
mod generators_and_waits;

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rc={}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

struct Env {
    cluster: Cluster,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn env() -> Env {
    let cluster = Cluster::start(ClusterOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..ClusterOptions::default()
    })
    .await
    .expect("cluster starts");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig, "emu").unwrap();
    Env {
        cluster,
        dir,
        kubeconfig,
    }
}

fn kubectl_command(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("kubectl");
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

impl Env {
    async fn kubectl_with(&self, args: &[&str], input: Option<&str>) -> Out {
        let mut child = kubectl_command(&self.kubeconfig, &self.dir.path().join("cache"), args)
            .spawn()
            .expect("kubectl starts");
        let mut stdin = child.stdin.take().unwrap();
        if let Some(text) = input {
            stdin.write_all(text.as_bytes()).await.unwrap();
        }
        drop(stdin);
        let o = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
            .await
            .expect("kubectl finishes")
            .unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    async fn kubectl(&self, args: &[&str]) -> Out {
        self.kubectl_with(args, None).await
    }

    async fn ok(&self, args: &[&str]) -> String {
        let o = self.kubectl(args).await;
        assert_eq!(o.code, 0, "kubectl {args:?}: {o:?}");
        o.stdout
    }
}
