//! A cluster in a process of its own, the way users and CI start one: `rekon emulate` on a
//! free port, or under `REKON_TEST_CLUSTER=real` the real control plane of `tests/realk8s`
//! (same ready line shape, same `--kubeconfig-out`). Tests talk to it over the network only:
//! through the `rekon` binary ([`Emulator::cluster_args`]), a client ([`Emulator::client`]),
//! an engine handle ([`Emulator::handle`]) and its audit log ([`Emulator::audit`]).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use http::Method;
use rekon::cluster::ClusterHandle;
use rekon_emulator::AuditEntry;

use super::cluster::{Flavor, REAL_CONTEXT, RealProcess, flavor, ready_line};
use super::reliability::{raw_http_client, send};

/// The context `rekon emulate --kubeconfig-out` writes.
const EMULATOR_CONTEXT: &str = "rekon-emulator";

/// A cluster process, stopped on drop: `rekon emulate` at 20× speed, or realk8s (whose
/// controllers run in real time) under `REKON_TEST_CLUSTER=real`.
pub struct Emulator {
    /// `http://127.0.0.1:<port>` (the emulator) or `https://127.0.0.1:<port>` (realk8s),
    /// from its ready line.
    pub url: String,
    /// The kubeconfig it wrote, with one context, [`Emulator::context`].
    pub kubeconfig: PathBuf,
    process: Process,
}

enum Process {
    Emulated {
        child: Child,
        _dir: tempfile::TempDir,
    },
    Real(RealProcess),
}

impl Emulator {
    /// The cluster `REKON_TEST_CLUSTER` asks for; the emulator's log goes to the test's.
    pub fn start() -> Emulator {
        match flavor() {
            Flavor::Emulated => Self::spawn(&[], Stdio::inherit()),
            Flavor::Real => Self::real(),
        }
    }

    /// [`Emulator::start`] with the emulator's log discarded (long runs, where it would
    /// drown the output; realk8s always logs to a file).
    pub fn start_quiet() -> Emulator {
        match flavor() {
            Flavor::Emulated => Self::spawn(&[], Stdio::null()),
            Flavor::Real => Self::real(),
        }
    }

    /// `rekon emulate` whatever the flavor, with arguments only it takes (`--faults …`).
    /// Callers say why with a `// Emulator-only: ` comment.
    pub fn emulated(extra: &[&str]) -> Emulator {
        Self::spawn(extra, Stdio::inherit())
    }

    /// The name of the kubeconfig's one context.
    pub fn context(&self) -> &'static str {
        match self.process {
            Process::Emulated { .. } => EMULATOR_CONTEXT,
            Process::Real(_) => REAL_CONTEXT,
        }
    }

    /// The arguments that point `rekon` at this cluster: `--server URL` for the emulator,
    /// which serves without auth; `--kubeconfig FILE` for realk8s, which wants its CA and
    /// token.
    pub fn cluster_args(&self) -> [&str; 2] {
        match self.process {
            Process::Emulated { .. } => ["--server", &self.url],
            Process::Real(_) => [
                "--kubeconfig",
                self.kubeconfig.to_str().expect("a UTF-8 temporary path"),
            ],
        }
    }

    /// A client acting as the admin, without retries of its own, so tests see every answer.
    pub async fn client(&self) -> kube::Client {
        match &self.process {
            Process::Emulated { .. } => raw_http_client(&self.url),
            Process::Real(real) => {
                let kubeconfig = kube::config::Kubeconfig::read_from(&real.kubeconfig)
                    .expect("realk8s's kubeconfig reads");
                let options = kube::config::KubeConfigOptions::default();
                let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .expect("realk8s's kubeconfig resolves");
                config.default_retry = false;
                kube::Client::try_from(config).expect("a client")
            }
        }
    }

    /// The engine's handle on the cluster, connected as the `rekon` binary connects with
    /// [`Emulator::cluster_args`].
    pub async fn handle(&self) -> ClusterHandle {
        match &self.process {
            Process::Emulated { .. } => rekon::cluster::connect_server(&self.url).unwrap(),
            Process::Real(real) => rekon::cluster::connect_contexts(Some(&real.kubeconfig), &[])
                .await
                .unwrap()
                .remove(0),
        }
    }

    /// Every request so far, in order: the emulator's `GET /rekon/audit`, or the API
    /// server's audit log (which leaves out the control plane's own requests).
    pub async fn audit(&self) -> Vec<AuditEntry> {
        match &self.process {
            Process::Emulated { .. } => {
                let client = raw_http_client(&self.url);
                let reply = send(&client, Method::GET, "/rekon/audit", &[], "")
                    .await
                    .expect("the emulator's audit log");
                reply
                    .text()
                    .lines()
                    .map(|l| serde_json::from_str(l).expect("an audit entry"))
                    .collect()
            }
            Process::Real(real) => real.audit(),
        }
    }

    fn real() -> Emulator {
        let real = RealProcess::start();
        Emulator {
            url: real.url.clone(),
            kubeconfig: real.kubeconfig.clone(),
            process: Process::Real(real),
        }
    }

    fn spawn(extra: &[&str], log: Stdio) -> Emulator {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_rekon"))
            .args(["emulate", "--listen", "127.0.0.1:0", "--speed", "20"])
            .args(extra)
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("rekon emulate starts");
        let (line, url) = ready_line(child.stdout.take().unwrap());
        assert!(url.starts_with("http://127.0.0.1:"), "ready line: {line}");
        Emulator {
            url,
            kubeconfig,
            process: Process::Emulated { child, _dir: dir },
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // realk8s stops itself on drop of its process (SIGTERM, so kwok goes too).
        if let Process::Emulated { child, .. } = &mut self.process {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
