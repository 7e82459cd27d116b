//! Benchmark (issue 5): syncing one app of 1,000 objects with rekon against
//! `kubectl apply --server-side -f` of the same objects, side by side against the same
//! `rekon emulate` over HTTP, in one run. Prints the times and the ratio; asserts nothing.
//!
//! Run: `cargo bench --bench sync_vs_kubectl` (needs `git` and `kubectl` on PATH).
//! `REKON_BENCH_OBJECTS=N` changes the size.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rekon::engine::{self, EngineCommand, EngineOptions};
use rekon::model::{Application, OperationPhase, SyncOptions};
use rekon::source::Sources;

struct Emulator(Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("version")
        .arg("--client")
        .output()
        .is_ok()
        || Command::new(program).arg("--version").output().is_ok()
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "git {args:?} failed");
}

/// The i-th object: ConfigMaps, Secrets and Services in a 3:1:1 mix.
fn object(i: usize, namespace: Option<&str>) -> String {
    let ns = namespace
        .map(|n| format!("  namespace: {n}\n"))
        .unwrap_or_default();
    match i % 5 {
        0 => format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-{i}\n{ns}  labels: {{bench: \"true\"}}\nstringData:\n  password: value-{i}\n"
        ),
        1 => format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{i}\n{ns}  labels: {{bench: \"true\"}}\nspec:\n  selector: {{app: svc-{i}}}\n  ports:\n  - port: 80\n    targetPort: 8080\n"
        ),
        _ => format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n{ns}  labels: {{bench: \"true\"}}\ndata:\n  index: \"{i}\"\n  payload: {}\n",
            "x".repeat(200)
        ),
    }
}

fn main() {
    if !have("git") || !have("kubectl") {
        println!("skipped: this benchmark needs git and kubectl on PATH");
        return;
    }
    let count: usize = std::env::var("REKON_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");

    // The cluster: `rekon emulate`, a process of its own, reached over HTTP by both.
    let mut child = Command::new(env!("CARGO_BIN_EXE_rekon"))
        .args(["emulate", "--listen", "127.0.0.1:0", "--kubeconfig-out"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("rekon emulate starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    let _emulator = Emulator(child);

    // The same objects: a Git repository for rekon, one file for kubectl.
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("app")).expect("repo dir");
    git(&repo, &["init", "-q", "-b", "main"]);
    let mut all = String::new();
    for i in 0..count {
        std::fs::write(repo.join(format!("app/{i:05}.yaml")), object(i, None)).expect("write");
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "bench objects"]);
    all.push_str("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bench-kubectl\n");
    for i in 0..count {
        all.push_str("---\n");
        all.push_str(&object(i, Some("bench-kubectl")));
    }
    let file = dir.path().join("all.yaml");
    std::fs::write(&file, all).expect("write manifests");

    let app: Application = serde_json::from_value(serde_json::json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "bench", "namespace": "argocd"},
        "spec": {
            "source": {"repoURL": repo.display().to_string(), "path": "app"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "bench-rekon"},
            "syncPolicy": {"syncOptions": ["CreateNamespace=true"]}
        }
    }))
    .expect("application");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (start_to_compared, sync_time, resync_time) = runtime.block_on(async {
        let cluster = rekon::cluster::connect_server(&url).expect("connect");
        let t0 = Instant::now();
        let handle = engine::start(EngineOptions {
            apps: vec![app],
            clusters: vec![cluster],
            sources: Arc::new(Sources::new(dir.path().join("cache"))),
            read_only: false,
            config_ignore: Vec::new(),
            refresh_every: None,
            auto_sync: false,
            projects: Vec::new(),
        });
        handle.settled().await;
        let compared = t0.elapsed();
        let sync = |handle: &engine::EngineHandle| {
            let commands = handle.commands();
            async move {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let t = Instant::now();
                commands
                    .send(EngineCommand::Sync {
                        app: "argocd/bench".into(),
                        options: SyncOptions::default(),
                        initiated_by: "bench".into(),
                        reply: Some(tx),
                    })
                    .await
                    .expect("engine runs");
                let op = rx.await.expect("answer").expect("sync runs");
                assert_eq!(op.phase, OperationPhase::Succeeded, "{}", op.message);
                (t.elapsed(), op.steps.len())
            }
        };
        let (first, steps) = sync(&handle).await;
        assert!(steps > count, "{steps} steps for {count} objects");
        // Wait for the engine to see its own writes before the no-op sync.
        let mut rx = handle.subscribe();
        let _ = tokio::time::timeout(
            Duration::from_secs(60),
            rx.wait_for(|s| {
                s.apps
                    .first()
                    .is_some_and(|a| a.sync == rekon::model::SyncStatus::Synced)
            }),
        )
        .await;
        let (second, _) = sync(&handle).await;
        (compared, first, second)
    });

    let t = Instant::now();
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["apply", "--server-side", "-f"])
        .arg(&file)
        .stdout(Stdio::null())
        .output()
        .expect("kubectl runs");
    let kubectl = t.elapsed();
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let secs = |d: Duration| format!("{:.2}s", d.as_secs_f64());
    println!("objects                               {count}");
    println!(
        "rekon: engine start to compared       {}",
        secs(start_to_compared)
    );
    println!("rekon: sync (dry runs, then applies)  {}", secs(sync_time));
    println!(
        "rekon: second sync (nothing changed)  {}",
        secs(resync_time)
    );
    println!("kubectl apply --server-side -f        {}", secs(kubectl));
    println!(
        "kubectl / rekon sync                  {:.1}x (goal: at least 3x)",
        kubectl.as_secs_f64() / sync_time.as_secs_f64()
    );
}
