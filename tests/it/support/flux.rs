//! Real Flux for the real-cluster tier: Flux's CRDs, the `flux-system` namespace, a Git server
//! and source-, kustomize- and helm-controller as child processes of the test (logs in a
//! temporary folder, stopped on drop), and fixture repositories pushed to that Git server.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kube::api::{Api, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};
use rekon::integrations::crds;
use serde_json::Value;

use super::cluster::{TestCluster, ready_line, real_bin};
use super::source::Fixture;

/// Flux's controllers reconciling a real cluster, with a Git server beside them.
pub struct RealFlux {
    children: Vec<(String, Child)>,
    git_url: String,
    dir: tempfile::TempDir,
}

impl RealFlux {
    /// Installs Flux's CRDs and `flux-system` in `cluster` (a real one), then starts the Git
    /// server and the three controllers.
    pub async fn start(cluster: &TestCluster) -> RealFlux {
        assert!(cluster.is_real(), "real Flux runs against a real cluster");
        let bin = real_bin();
        let client = cluster.client();
        install_crds(&client, &bin.parent().unwrap().join("crds/flux")).await;
        rekon::cluster::apply::ensure_namespace(&client, "flux-system", false)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        cluster.write_kubeconfig(&kubeconfig, "flux");
        let mut flux = RealFlux {
            children: Vec::new(),
            git_url: String::new(),
            dir,
        };
        flux.git_url = flux.start_gitserver(bin).await;
        let storage = flux.dir.path().join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let storage_addr = format!("127.0.0.1:{}", free_port());
        let common = [
            "--metrics-addr=127.0.0.1:0",
            "--health-addr=127.0.0.1:0",
            "--enable-leader-election=false",
        ];
        let source_args = [
            format!("--storage-path={}", storage.display()),
            format!("--storage-addr={storage_addr}"),
            format!("--storage-adv-addr={storage_addr}"),
            "--watch-all-namespaces=true".into(),
        ];
        for (name, extra) in [
            ("source-controller", &source_args[..]),
            ("kustomize-controller", &[][..]),
            ("helm-controller", &[][..]),
        ] {
            let log = std::fs::File::create(flux.dir.path().join(format!("{name}.log"))).unwrap();
            // A temporary folder of its own: a kustomize-controller once found its build
            // folder under /tmp gone while other tests' controllers ran beside it.
            let tmp = flux.dir.path().join(format!("{name}.tmp"));
            std::fs::create_dir_all(&tmp).unwrap();
            let child = Command::new(bin.join(name))
                .args(common)
                .args(extra)
                .env("KUBECONFIG", &kubeconfig)
                .env("RUNTIME_NAMESPACE", "flux-system")
                .env("TMPDIR", &tmp)
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("{name} starts: {e}"));
            flux.children.push((name.to_string(), child));
        }
        flux
    }

    async fn start_gitserver(&mut self, bin: &Path) -> String {
        let log = std::fs::File::create(self.dir.path().join("gitserver.log")).unwrap();
        let mut child = Command::new(bin.join("gitserver"))
            .arg("--root")
            .arg(self.dir.path().join("git"))
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("gitserver starts");
        let stdout = child.stdout.take().unwrap();
        self.children.push(("gitserver".into(), child));
        let (line, url) = tokio::task::spawn_blocking(move || ready_line(stdout))
            .await
            .unwrap();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "gitserver's ready line: {line:?}"
        );
        url
    }

    /// Pushes `repo`'s `main` to the Git server as `<name>.git` (created by the first push);
    /// returns the URL Flux reads it from.
    pub fn push(&self, repo: &Fixture, name: &str) -> String {
        let url = format!("{}/{name}.git", self.git_url);
        repo.git(&["push", "-q", "--force", &url, "HEAD:refs/heads/main"]);
        url
    }

    /// The last lines of every controller's log, for a failure message.
    pub fn log_tails(&self) -> String {
        let mut out = String::new();
        for (name, _) in &self.children {
            let text = std::fs::read_to_string(self.dir.path().join(format!("{name}.log")))
                .unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(15)..];
            out.push_str(&format!("--- {name}\n{}\n", tail.join("\n")));
        }
        out
    }
}

impl Drop for RealFlux {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Server-side applies every CRD in `dir`, then waits until each is Established (the
/// controllers' watches fail on a kind the API server does not serve yet).
async fn install_crds(client: &kube::Client, dir: &Path) {
    let mut names = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        crds::install(client, &text, &file.display().to_string())
            .await
            .unwrap();
        for doc in rekon::yaml::parse_documents(&text, "crd").unwrap() {
            if let Some(name) = doc.value.pointer("/metadata/name").and_then(Value::as_str) {
                names.push(name.to_string());
            }
        }
    }
    let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
    ));
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    for name in names {
        let established = wait_until(&format!("CRD {name} established"), || async {
            let crd = api.get(&name).await.ok()?;
            let crd = serde_json::to_value(crd).ok()?;
            crd.pointer("/status/conditions")?
                .as_array()?
                .iter()
                .any(|c| c["type"] == "Established" && c["status"] == "True")
                .then_some(())
        })
        .await;
        established.unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Polls `probe` until it answers, for up to 90 s (real controllers on shared cores).
pub async fn wait_until<T, F, Fut>(what: &str, mut probe: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = probe().await {
            return Ok(v);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The platform both flavours of the Flux tests observe: a repository whose `infra` path
/// holds the `monitoring` Namespace, a ConfigMap and the `apps` Kustomization (which depends
/// on `infra`), and whose `apps` path holds the exporter Deployment; a GitRepository
/// `flux-system/platform` for it and the `infra` Kustomization. On the emulator the objects
/// are seeded as their controllers would have written them (simulated controllers running);
/// on a real cluster real Flux reconciles the repository from a Git server.
pub struct FluxWorld {
    /// The cluster.
    pub cluster: TestCluster,
    /// Real Flux (real flavour only).
    pub flux: Option<RealFlux>,
    /// The repository.
    pub repo: Fixture,
    /// The GitRepository's `spec.url`.
    pub url: String,
    /// The commit Flux applied.
    pub sha: String,
}

/// The exporter Deployment at `tag`, as the repository holds it.
pub fn exporter(tag: &str) -> Value {
    serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "exporter", "namespace": "monitoring"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "exporter"}},
            "template": {"metadata": {"labels": {"app": "exporter"}},
                "spec": {"containers": [{"name": "exporter", "image": format!("quay.io/prometheus/blackbox-exporter:{tag}")}]}}}})
}

/// A Kustomization of `flux-system/platform` at `./<name>`.
fn kustomization_spec(name: &str, deps: &[&str]) -> Value {
    serde_json::json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "10m", "prune": true, "path": format!("./{name}"),
            "sourceRef": {"kind": "GitRepository", "name": "platform"},
            "dependsOn": deps.iter().map(|d| serde_json::json!({"name": d})).collect::<Vec<_>>()}})
}

fn git_repository(url: &str) -> Value {
    serde_json::json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
        "metadata": {"name": "platform", "namespace": "flux-system"},
        "spec": {"url": url, "interval": "1m", "ref": {"branch": "main"}}})
}

fn ready(message: String, reason: &str) -> Value {
    serde_json::json!([{"type": "Ready", "status": "True", "reason": reason, "message": message,
        "lastTransitionTime": "2025-03-01T00:00:00Z"}])
}

impl FluxWorld {
    /// The platform on the flavour's cluster, every Flux object Ready at the first commit;
    /// `None` (skipped) without git.
    pub async fn start() -> Option<FluxWorld> {
        use super::integrations::put;
        let repo = Fixture::new()?;
        let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "monitoring"}});
        let settings = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "monitoring"}, "data": {"level": "info"}});
        let doc = |v: &Value| rekon::yaml::to_string(v);
        repo.write("infra/namespace.yaml", doc(&ns));
        repo.write("infra/settings.yaml", doc(&settings));
        repo.write(
            "infra/apps.yaml",
            doc(&kustomization_spec("apps", &["infra"])),
        );
        repo.write("apps/exporter.yaml", doc(&exporter("v0.24.0")));
        let sha = repo.commit("platform");
        let cluster = TestCluster::start(rekon_emulator::ClusterOptions {
            name: "staging".into(),
            // On loopback, so the `rekon` binary can reach it too.
            listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
            controllers: true,
            speed: 20.0,
            ..Default::default()
        })
        .await;
        if !cluster.is_real() {
            crds::install(&cluster.client(), crds::FLUX, "flux.yaml")
                .await
                .unwrap();
            let url = repo.local_url();
            let revision = format!("main@sha1:{sha}");
            let mut source = git_repository(&url);
            source["status"] = serde_json::json!({"observedGeneration": 1,
                "artifact": {"revision": revision, "path": "x", "url": "http://x"},
                "conditions": ready(format!("stored artifact for revision '{revision}'"), "Succeeded")});
            put(&cluster, source, "source-controller").await;
            let labelled = |mut v: Value| {
                v["metadata"]["labels"] = serde_json::json!({
                    "kustomize.toolkit.fluxcd.io/name": "infra",
                    "kustomize.toolkit.fluxcd.io/namespace": "flux-system"});
                v
            };
            put(&cluster, labelled(ns), "kustomize-controller").await;
            put(&cluster, labelled(settings), "kustomize-controller").await;
            let mut deployment = exporter("v0.24.0");
            deployment["metadata"]["labels"] = serde_json::json!({
                "kustomize.toolkit.fluxcd.io/name": "apps",
                "kustomize.toolkit.fluxcd.io/namespace": "flux-system"});
            put(&cluster, deployment, "kustomize-controller").await;
            for (name, deps, inventory) in [
                (
                    "infra",
                    &[][..],
                    &[
                        "_monitoring__Namespace",
                        "flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization",
                        "monitoring_settings__ConfigMap",
                    ][..],
                ),
                (
                    "apps",
                    &["infra"][..],
                    &["monitoring_exporter_apps_Deployment"][..],
                ),
            ] {
                let mut ks = kustomization_spec(name, deps);
                ks["status"] = serde_json::json!({"observedGeneration": 1,
                    "lastAppliedRevision": revision,
                    "conditions": ready(format!("Applied revision: {revision}"), "ReconciliationSucceeded"),
                    "inventory": {"entries": inventory.iter()
                        .map(|id| serde_json::json!({"id": id, "v": "v1"})).collect::<Vec<_>>()}});
                put(&cluster, ks, "kustomize-controller").await;
            }
            return Some(FluxWorld {
                cluster,
                flux: None,
                repo,
                url,
                sha,
            });
        }
        let flux = RealFlux::start(&cluster).await;
        let url = flux.push(&repo, "platform");
        put(&cluster, git_repository(&url), "rekon-test").await;
        put(&cluster, kustomization_spec("infra", &[]), "rekon-test").await;
        let world = FluxWorld {
            cluster,
            flux: Some(flux),
            repo,
            url,
            sha,
        };
        for name in ["infra", "apps"] {
            world.wait_applied(name, &world.sha).await;
        }
        Some(world)
    }

    /// Waits until Flux reports Kustomization `flux-system/<name>` Ready with `sha` applied.
    pub async fn wait_applied(&self, name: &str, sha: &str) {
        let want = format!("main@sha1:{sha}");
        self.wait_object(
            "kustomize.toolkit.fluxcd.io/v1",
            "Kustomization",
            "flux-system",
            name,
            |o| {
                o.pointer("/status/lastAppliedRevision")
                    .and_then(Value::as_str)
                    == Some(want.as_str())
                    && is_ready(o)
            },
        )
        .await;
    }

    /// Waits until the object satisfies `pred`; on timeout, panics with the object and the
    /// controllers' logs.
    pub async fn wait_object(
        &self,
        api_version: &str,
        kind: &str,
        ns: &str,
        name: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        let api: Api<DynamicObject> = Api::namespaced_with(self.cluster.client(), ns, &resource);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        loop {
            let obj = api
                .get_opt(name)
                .await
                .ok()
                .flatten()
                .and_then(|o| serde_json::to_value(o).ok())
                .unwrap_or(Value::Null);
            if pred(&obj) {
                return obj;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "timed out waiting for {kind} {ns}/{name}; it is now {obj:#}\n{}",
                    self.flux
                        .as_ref()
                        .map(RealFlux::log_tails)
                        .unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Commits the working tree as the next revision of `main` and has the source serve it:
    /// on the emulator the GitRepository's artifact moves to it (as source-controller would
    /// write it); on a real cluster it is pushed and the GitRepository asked to reconcile,
    /// until its artifact is that commit. Returns the commit.
    pub async fn publish(&self, message: &str) -> String {
        let sha = self.repo.commit(message);
        let revision = format!("main@sha1:{sha}");
        match &self.flux {
            None => {
                let mut source = git_repository(&self.url);
                source["status"] = serde_json::json!({"observedGeneration": 1,
                    "artifact": {"revision": revision, "path": "x", "url": "http://x"},
                    "conditions": ready(format!("stored artifact for revision '{revision}'"), "Succeeded")});
                super::integrations::put(&self.cluster, source, "source-controller").await;
            }
            Some(flux) => {
                flux.push(&self.repo, "platform");
                self.patch(
                    "source.toolkit.fluxcd.io/v1",
                    "GitRepository",
                    "flux-system",
                    "platform",
                    serde_json::json!({"metadata": {"annotations": {
                        rekon::integrations::flux::REQUESTED_AT: sha.clone()}}}),
                )
                .await;
                self.wait_object(
                    "source.toolkit.fluxcd.io/v1",
                    "GitRepository",
                    "flux-system",
                    "platform",
                    |o| {
                        o.pointer("/status/artifact/revision")
                            .and_then(Value::as_str)
                            == Some(revision.as_str())
                    },
                )
                .await;
            }
        }
        sha
    }

    /// A merge patch written by the test (not by rekon).
    pub async fn patch(&self, api_version: &str, kind: &str, ns: &str, name: &str, patch: Value) {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let resource = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        let api: Api<DynamicObject> = Api::namespaced_with(self.cluster.client(), ns, &resource);
        let params = kube::api::PatchParams {
            field_manager: Some("rekon-test".into()),
            ..Default::default()
        };
        api.patch(name, &params, &kube::api::Patch::Merge(&patch))
            .await
            .unwrap_or_else(|e| panic!("patching {kind} {ns}/{name}: {e}"));
    }
}

/// Whether the object's Ready condition is True at its current generation.
pub fn is_ready(obj: &Value) -> bool {
    let generation = obj.pointer("/metadata/generation");
    let observed = obj.pointer("/status/observedGeneration");
    generation.is_some()
        && generation == observed
        && obj
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
}
