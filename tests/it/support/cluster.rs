//! The cluster a test runs against, from one place. `cargo test` uses the embedded emulator
//! (fast, nothing to build); `REKON_TEST_CLUSTER=real cargo test` runs the same tests against a
//! real control plane: etcd, kube-apiserver, kube-controller-manager and kube-scheduler from
//! `tests/realk8s`, with kwok running simulated Nodes. Tests that need what only the emulator
//! can do (injected faults, simulated Argo CD and Flux controllers, a stopped clock) take
//! [`rekon_emulator::Cluster`] directly and say why.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::OnceLock;

use kube::config::{KubeConfigOptions, Kubeconfig};
use rekon::cluster::ClusterHandle;
use rekon_emulator::{AuditEntry, Cluster, ClusterOptions};
use serde_json::Value;

/// Which cluster `REKON_TEST_CLUSTER` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// rekon's embedded Kubernetes API emulator (the default).
    Emulated,
    /// A real control plane built from `k8s.io/kubernetes` (`REKON_TEST_CLUSTER=real`).
    Real,
}

/// The flavor this test process runs with; an unknown value is a panic naming the variable.
pub fn flavor() -> Flavor {
    match std::env::var("REKON_TEST_CLUSTER").as_deref() {
        Err(_) | Ok("") | Ok("emulator") => Flavor::Emulated,
        Ok("real") => Flavor::Real,
        Ok(other) => panic!("REKON_TEST_CLUSTER={other}: expected `real` or `emulator`"),
    }
}

/// A cluster for one test: an embedded emulator or a real control plane, stopped on drop.
pub struct TestCluster {
    name: String,
    backend: Backend,
}

enum Backend {
    Emulated(Cluster),
    Real(RealCluster),
}

impl TestCluster {
    /// A cluster of the flavor `REKON_TEST_CLUSTER` asks for. The emulator takes `options`
    /// as they are; a real cluster takes only the name (its controllers always run, at the
    /// speed of real time).
    pub async fn start(options: ClusterOptions) -> TestCluster {
        let name = options.name.clone();
        let backend = match flavor() {
            Flavor::Emulated => {
                Backend::Emulated(Cluster::start(options).await.expect("emulator starts"))
            }
            Flavor::Real => Backend::Real(RealCluster::start().await),
        };
        TestCluster { name, backend }
    }

    /// The name rekon knows the cluster by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is a real control plane.
    pub fn is_real(&self) -> bool {
        matches!(self.backend, Backend::Real(_))
    }

    /// A client acting as the cluster's admin.
    pub fn client(&self) -> kube::Client {
        match &self.backend {
            Backend::Emulated(cluster) => cluster.client(),
            Backend::Real(real) => real.client.clone(),
        }
    }

    /// The engine's handle on the cluster.
    pub fn handle(&self) -> ClusterHandle {
        let server = match &self.backend {
            Backend::Emulated(_) => format!("embedded://{}", self.name),
            Backend::Real(real) => real.process.url.clone(),
        };
        ClusterHandle {
            name: self.name.clone(),
            server,
            client: self.client(),
        }
    }

    /// Every request the tests and rekon made, in order; the real cluster's comes from the
    /// API server's audit log, which leaves out the control plane's own requests.
    pub fn audit(&self) -> Vec<AuditEntry> {
        match &self.backend {
            Backend::Emulated(cluster) => cluster.audit(),
            Backend::Real(real) => real.process.audit(),
        }
    }

    /// Writes a kubeconfig for the cluster with one context named `context`.
    pub fn write_kubeconfig(&self, path: &Path, context: &str) {
        match &self.backend {
            Backend::Emulated(cluster) => cluster
                .write_kubeconfig(path, context)
                .expect("kubeconfig written"),
            Backend::Real(real) => {
                // Only the names: a bare replace could also hit the CA or token text.
                let text = std::fs::read_to_string(&real.process.kubeconfig).unwrap();
                let text = text.replace(&format!(": {REAL_CONTEXT}\n"), &format!(": {context}\n"));
                std::fs::write(path, text).unwrap();
            }
        }
    }
}

/// The folder the real tier's programs are built into, by `tests/realk8s/build.sh` (once per
/// test process; the script skips what is already built).
pub fn real_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/realk8s/build.sh");
        let output = Command::new("bash")
            .arg(&script)
            .stderr(Stdio::inherit())
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", script.display()));
        assert!(
            output.status.success(),
            "{} failed; the real cluster needs Go 1.26 and the Go module proxy",
            script.display()
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        PathBuf::from(stdout.lines().last().unwrap_or_default().trim())
    })
}

/// `tests/realk8s`'s control plane as a child process in a folder of its own (its data,
/// log, audit log and kubeconfig), stopped on drop. [`TestCluster`] and the `rekon emulate`
/// stand-in of [`super::emulate::Emulator`] both start it through here.
pub struct RealProcess {
    child: Child,
    /// `https://127.0.0.1:<port>`, from its ready line.
    pub url: String,
    /// The kubeconfig it wrote: one context, [`REAL_CONTEXT`], with the admin's token.
    pub kubeconfig: PathBuf,
    /// The API server's audit log (see [`read_audit_log`]).
    pub audit_log: PathBuf,
    _dir: tempfile::TempDir,
}

/// The one context in the real cluster's kubeconfig.
pub const REAL_CONTEXT: &str = "realk8s";

impl RealProcess {
    /// Starts realk8s and waits for its ready line (a few seconds: this blocks the thread).
    pub fn start() -> RealProcess {
        let bin = real_bin();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let audit_log = dir.path().join("audit.log");
        let mut child = Command::new(bin.join("realk8s"))
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .arg("--audit-log")
            .arg(&audit_log)
            .arg("--log")
            .arg(dir.path().join("realk8s.log"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("realk8s starts");
        let (line, url) = ready_line(child.stdout.take().unwrap());
        if !url.starts_with("https://127.0.0.1:") {
            let log = std::fs::read_to_string(dir.path().join("realk8s.log")).unwrap_or_default();
            let tail: Vec<_> = log.lines().rev().take(30).collect();
            panic!(
                "realk8s did not start; ready line: {line:?}; its log ends:\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        RealProcess {
            child,
            url,
            kubeconfig,
            audit_log,
            _dir: dir,
        }
    }

    /// Every request so far but the control plane's own, from the audit log.
    pub fn audit(&self) -> Vec<AuditEntry> {
        read_audit_log(&self.audit_log)
    }
}

impl Drop for RealProcess {
    fn drop(&mut self) {
        // SIGTERM, never SIGKILL: realk8s stops kwok and etcd itself within a few seconds.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A real control plane and an admin client for it.
struct RealCluster {
    process: RealProcess,
    client: kube::Client,
}

impl RealCluster {
    async fn start() -> RealCluster {
        let process = tokio::task::spawn_blocking(RealProcess::start)
            .await
            .unwrap();
        let client = client_for(&process.kubeconfig).await;
        RealCluster { process, client }
    }
}

/// The first line a child process prints on `stdout` (its ready line, as `rekon emulate`,
/// realk8s and gitserver print it) and its last word, the address it serves.
pub fn ready_line(stdout: ChildStdout) -> (String, String) {
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap_or("").to_string();
    (line, url)
}

/// A client for the kubeconfig's current context.
pub async fn client_for(kubeconfig: &Path) -> kube::Client {
    let config = Kubeconfig::read_from(kubeconfig).expect("kubeconfig reads");
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig resolves");
    kube::Client::try_from(config).expect("client builds")
}

/// Waits until the cluster serves `reference`'s kind (its `apiVersion` and `kind`, as
/// discovery shows them). The emulator serves a CRD's kind as soon as the CRD is created; a
/// real API server only once the CRD is established, a moment later.
pub async fn wait_served(cluster: &impl ClusterAccess, reference: &Value) {
    let api_version = reference["apiVersion"].as_str().unwrap_or_default();
    let kind = reference["kind"].as_str().unwrap_or_default();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let catalog = rekon::cluster::ApiCatalog::discover(&cluster.admin()).await;
        if catalog.is_ok_and(|c| c.resolve(api_version, kind).is_some()) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never served: {reference}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The API server's audit log (JSON lines, one per finished request) as the emulator's
/// audit entries.
fn read_audit_log(path: &Path) -> Vec<AuditEntry> {
    wait_until_quiet(path);
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .enumerate()
        .map(|(i, event)| audit_entry(i as u64 + 1, &event))
        .collect()
}

/// Waits (a second at most) until the audit log has not grown for a moment. The API server
/// writes a request's line after the response has gone out, so a request the caller just saw
/// answered may not be in the file yet.
fn wait_until_quiet(path: &Path) {
    let size = || std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut last = size();
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = size();
        if now == last {
            return;
        }
        last = now;
    }
}

fn audit_entry(seq: u64, event: &Value) -> AuditEntry {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let object = &event["objectRef"];
    let uri = event["requestURI"].as_str().unwrap_or_default();
    let query: Vec<(String, String)> = uri
        .split_once('?')
        .map(|(_, q)| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let param = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    AuditEntry {
        seq,
        verb: text(&event["verb"]),
        group: text(&object["apiGroup"]),
        version: text(&object["apiVersion"]),
        resource: text(&object["resource"]),
        subresource: object["subresource"].as_str().map(str::to_string),
        namespace: text(&object["namespace"]),
        name: text(&object["name"]),
        field_manager: param("fieldManager").unwrap_or_default(),
        // A delete carries `dryRun` in its body (DeleteOptions), which the audit log holds
        // as `requestObject` when its policy logs deletes at level Request.
        dry_run: param("dryRun").is_some_and(|v| v == "All")
            || event["requestObject"]["dryRun"]
                .as_array()
                .is_some_and(|modes| modes.iter().any(|m| m == "All")),
        code: event["responseStatus"]["code"].as_u64().unwrap_or(0) as u16,
    }
}

/// What the shared helpers need of a cluster, so they serve both a [`TestCluster`] and the
/// emulator taken directly by emulator-only tests.
pub trait ClusterAccess {
    /// A client acting as the cluster's admin.
    fn admin(&self) -> kube::Client;
    /// Every request made so far, in order (see [`TestCluster::audit`]).
    fn requests(&self) -> Vec<AuditEntry>;
}

impl ClusterAccess for TestCluster {
    fn admin(&self) -> kube::Client {
        self.client()
    }
    fn requests(&self) -> Vec<AuditEntry> {
        self.audit()
    }
}

impl ClusterAccess for Cluster {
    fn admin(&self) -> kube::Client {
        self.client()
    }
    fn requests(&self) -> Vec<AuditEntry> {
        self.audit()
    }
}
