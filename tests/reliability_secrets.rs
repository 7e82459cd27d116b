//! Secret values never show: values planted in Git and in the cluster (plain and base64,
//! and in kubectl's last-applied annotation) are searched for in every output rekon has —
//! status, tree, diff in every format, manifests, `sync -o json`, history, `rekon run`'s
//! logs at trace level and its notifications, the history ConfigMap, the engine's tracing
//! logs, and frames of every TUI view (including live YAML, a revision's diff and a sync).

// A binary of its own: the test installs the process-wide tracing subscriber to capture
// every log line, which can be done once per process and would catch other tests' logs.
// It uses a part of the helpers of `tests/it`.
#[allow(dead_code, unused_imports)]
#[path = "it/support/mod.rs"]
mod support;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use http::Method;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rekon::runtime::{self, EngineOptions};
use rekon::source::Sources;
use rekon::tui::{App, TuiOptions};
use support::emulate::Emulator;
use support::reliability::{rekon, send};
use support::source::Fixture;

/// Values planted in Git: one as `stringData`, one base64-encoded under `data`.
const GIT_PLAIN: &str = "gitPlainZq93xxQ";
const GIT_ENCODED: &str = "gitEncodedKp27yyQ";
/// Values planted in the cluster: at creation (also in last-applied), and a later drift.
const LIVE_PLAIN: &str = "livePlainWm55zzQ";
const LIVE_AGAIN: &str = "liveAgainTx88qqQ";

fn b64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every form a planted value could leak in: as written, and base64-encoded (without the
/// padding, which could be cut).
fn needles() -> Vec<String> {
    let mut out = Vec::new();
    for v in [GIT_PLAIN, GIT_ENCODED, LIVE_PLAIN, LIVE_AGAIN] {
        out.push(v.to_string());
        out.push(b64(v.as_bytes()).trim_end_matches('=').to_string());
    }
    out
}

/// Where every captured output goes, by label.
#[derive(Default)]
struct Outputs(Vec<(String, String)>);

impl Outputs {
    fn add(&mut self, label: impl Into<String>, text: impl Into<String>) {
        self.0.push((label.into(), text.into()));
    }

    fn check(&self) {
        let needles = needles();
        for (label, text) in &self.0 {
            for n in &needles {
                assert!(
                    !text.contains(n.as_str()),
                    "a secret value ({n}) leaked into {label}:\n{text}"
                );
            }
        }
    }

    fn any(&self, label_prefix: &str, needle: &str) -> bool {
        self.0
            .iter()
            .any(|(l, t)| l.starts_with(label_prefix) && t.contains(needle))
    }
}

/// A writer for tracing that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn secret_yaml() -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vault\ntype: Opaque\nstringData:\n  plain: {GIT_PLAIN}\ndata:\n  encoded: {}\n",
        b64(GIT_ENCODED.as_bytes())
    )
}

fn app_file(dir: &Path, repo: &Path) -> std::path::PathBuf {
    let p = dir.join("apps.yaml");
    std::fs::write(
        &p,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: vault\n  namespace: argocd\nspec:\n  source:\n    repoURL: {}\n    path: vault\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: shop\n  syncPolicy:\n    automated: {{selfHeal: true}}\n",
            repo.display()
        ),
    )
    .unwrap();
    p
}

/// Puts the live Secret as `kubectl apply` would: values in `data`, and the whole object
/// (values included) in the last-applied annotation.
async fn plant_live(client: &kube::Client, value: &str) {
    let applied = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "vault", "namespace": "shop"},
        "stringData": {"plain": value, "encoded": value}});
    let body = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "vault", "namespace": "shop", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": applied.to_string()}},
        "data": {"plain": b64(value.as_bytes()), "encoded": b64(value.as_bytes()),
            "extra": b64(value.as_bytes())}});
    let r = send(
        client,
        Method::PATCH,
        "/api/v1/namespaces/shop/secrets/vault?fieldManager=kubectl&force=true",
        &[("content-type", "application/apply-patch+yaml")],
        &body.to_string(),
    )
    .await
    .unwrap();
    assert!(r.code < 300, "{}", r.text());
}

fn text_of(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn frame(app: &mut App) -> String {
    let mut t = Terminal::new(TestBackend::new(200, 60)).unwrap();
    t.draw(|f| app.draw(f)).unwrap();
    t.backend().to_string()
}

fn press(app: &mut App, c: char) {
    app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
}

fn code(app: &mut App, c: KeyCode) {
    app.handle_key(KeyEvent::new(c, KeyModifiers::NONE));
}

/// Lets the engine answer what the UI asked, refreshing the UI's snapshot meanwhile.
async fn settle(app: &mut App, engine: &runtime::EngineHandle) {
    for _ in 0..40 {
        app.set_snapshot(engine.current());
        if app.has_pending() {
            let _ = tokio::time::timeout(Duration::from_millis(250), app.wait_replies()).await;
            app.poll_replies();
        } else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if !app.has_pending() {
                break;
            }
        }
    }
    app.set_snapshot(engine.current());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_output_path_ever_shows_a_secret_value() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .init();
    let Some(repo) = Fixture::new() else { return };
    repo.write("vault/secret.yaml", secret_yaml());
    repo.write(
        "vault/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vault-settings\ndata:\n  mode: strict\n",
    );
    repo.commit("vault");
    let emu = Emulator::start();
    let client = emu.client().await;
    let ns = send(
        &client,
        Method::POST,
        "/api/v1/namespaces",
        &[("content-type", "application/json")],
        r#"{"metadata": {"name": "shop"}}"#,
    )
    .await
    .unwrap();
    assert_eq!(ns.code, 201);
    plant_live(&client, LIVE_PLAIN).await;
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let apps = app_file(work.path(), &repo.path);
    let apps_arg = apps.to_str().unwrap().to_string();
    let mut outputs = Outputs::default();

    // Every read-only command, in every format.
    let [how, to] = emu.cluster_args();
    let base = [how, to, "--apps", apps_arg.as_str()];
    let commands: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["status", "-o", "json"],
        vec!["status", "-o", "yaml"],
        vec!["tree", "vault"],
        vec!["tree", "vault", "-o", "json"],
        vec!["tree", "vault", "-o", "yaml"],
        vec!["diff", "vault"],
        vec!["diff", "vault", "-o", "side"],
        vec!["diff", "vault", "-o", "json"],
        vec!["manifests", "vault"],
        vec!["manifests", "vault", "-o", "json"],
    ];
    for cmd in &commands {
        let args: Vec<String> = base
            .iter()
            .chain(cmd.iter())
            .map(|s| s.to_string())
            .collect();
        let home = home.clone();
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            rekon(&args, &home)
        })
        .await
        .unwrap();
        outputs.add(format!("rekon {}", cmd.join(" ")), text_of(&out));
    }
    // The test looked at the right thing: the diff shows the Secret changed, masked.
    assert!(outputs.any("rekon diff", "++++++++"), "{:?}", outputs.0);
    assert!(outputs.any("rekon diff", "vault"));

    // The engine in this process, with its logs captured, and the TUI on it.
    let cache = tempfile::tempdir().unwrap();
    let handle = emu.handle().await;
    let context = handle.name.clone();
    let application: rekon::model::Application = {
        let text = std::fs::read_to_string(&apps).unwrap();
        rekon::model::Application::parse_all(&text, "apps.yaml")
            .unwrap()
            .remove(0)
    };
    let engine = runtime::start(EngineOptions {
        apps: vec![application],
        clusters: vec![handle],
        sources: Arc::new(Sources::new(cache.path().join("repos"))),
        read_only: false,
        config_ignore: Vec::new(),
        refresh_every: None,
        projects: Vec::new(),
        auto_sync: false,
        skip_trees: false,
    });
    tokio::time::timeout(Duration::from_secs(60), engine.settled())
        .await
        .unwrap();
    let mut app = App::new(TuiOptions {
        contexts: vec![context],
        initiated_by: "tester@ci".into(),
        ..TuiOptions::default()
    });
    app.connect(engine.commands());
    settle(&mut app, &engine).await;
    outputs.add("tui apps", frame(&mut app));
    code(&mut app, KeyCode::Enter);
    settle(&mut app, &engine).await;
    for i in 0..8 {
        outputs.add(format!("tui tree node {i}"), frame(&mut app));
        press(&mut app, 'y');
        settle(&mut app, &engine).await;
        outputs.add(format!("tui live yaml {i}"), frame(&mut app));
        code(&mut app, KeyCode::Esc);
        press(&mut app, 'j');
        settle(&mut app, &engine).await;
    }
    code(&mut app, KeyCode::Esc);
    press(&mut app, 'd');
    settle(&mut app, &engine).await;
    for i in 0..4 {
        outputs.add(format!("tui diff side {i}"), frame(&mut app));
        press(&mut app, ']');
    }
    press(&mut app, 'u');
    for i in 0..4 {
        outputs.add(format!("tui diff unified {i}"), frame(&mut app));
        press(&mut app, ']');
    }
    assert!(
        outputs.any("tui diff", "++++++++"),
        "the TUI diff shows masks"
    );
    code(&mut app, KeyCode::Esc);
    press(&mut app, 't');
    settle(&mut app, &engine).await;
    outputs.add("tui timeline", frame(&mut app));
    code(&mut app, KeyCode::Esc);
    // A sync from the TUI: its plan, progress and result.
    press(&mut app, 's');
    settle(&mut app, &engine).await;
    // Force: kubectl owns the live Secret's fields.
    press(&mut app, 'f');
    settle(&mut app, &engine).await;
    outputs.add("tui sync plan", frame(&mut app));
    code(&mut app, KeyCode::Enter);
    outputs.add("tui sync confirm", frame(&mut app));
    press(&mut app, 'y');
    for i in 0..30 {
        settle(&mut app, &engine).await;
        outputs.add(format!("tui sync progress {i}"), frame(&mut app));
        let done = app.snapshot().apps.iter().any(|a| {
            a.operation
                .as_ref()
                .is_some_and(|o| o.finished_at.is_some())
        });
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    code(&mut app, KeyCode::Esc);
    code(&mut app, KeyCode::Esc);
    press(&mut app, 'h');
    settle(&mut app, &engine).await;
    outputs.add("tui history", frame(&mut app));
    code(&mut app, KeyCode::Enter);
    settle(&mut app, &engine).await;
    outputs.add("tui history diff", frame(&mut app));
    assert!(
        outputs.any("tui sync progress", "Succeeded") || outputs.any("tui sync progress", "synced"),
        "the TUI sync ran: {:?}",
        outputs
            .0
            .iter()
            .rev()
            .find(|(l, _)| l.starts_with("tui sync progress"))
    );
    drop(app);
    drop(engine);

    // Drift again, then a sync and the history from the command line.
    plant_live(&client, LIVE_AGAIN).await;
    for cmd in [
        vec!["sync", "vault", "--force", "-o", "json"],
        vec!["history", "vault"],
        vec!["history", "vault", "-o", "json"],
        vec!["history", "vault", "-o", "yaml"],
    ] {
        let args: Vec<String> = base
            .iter()
            .chain(cmd.iter())
            .map(|s| s.to_string())
            .collect();
        let home = home.clone();
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            rekon(&args, &home)
        })
        .await
        .unwrap();
        outputs.add(format!("rekon {}", cmd.join(" ")), text_of(&out));
    }
    assert!(
        outputs.any("rekon sync", "Succeeded"),
        "{:?}",
        outputs.0.last()
    );

    // `rekon run` at trace level, self-healing a third drift, notifying a webhook.
    plant_live(&client, LIVE_PLAIN).await;
    let (url, bodies) = receiver().await;
    let mut child = support::rekon_command(&home)
        .args(base)
        .args(["run", "--notify", &url])
        .env("REKON_LOG", "trace")
        // Files, not pipes: trace-level logs would fill a pipe nobody reads yet.
        .stdout(std::fs::File::create(work.path().join("run.out")).unwrap())
        .stderr(std::fs::File::create(work.path().join("run.err")).unwrap())
        .spawn()
        .unwrap();
    let healed = async {
        loop {
            if bodies.lock().unwrap().iter().any(|b| b.contains("Synced")) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(60), healed).await;
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let run_out = format!(
        "{}{}",
        std::fs::read_to_string(work.path().join("run.out")).unwrap_or_default(),
        std::fs::read_to_string(work.path().join("run.err")).unwrap_or_default()
    );
    assert!(
        run_out.contains("vault"),
        "rekon run logged nothing: {run_out}"
    );
    outputs.add("rekon run logs (trace)", run_out);
    let notes = bodies.lock().unwrap().clone();
    assert!(!notes.is_empty(), "no notification arrived");
    for (i, n) in notes.iter().enumerate() {
        outputs.add(format!("notification {i}"), n.clone());
    }

    // What rekon keeps in the cluster.
    let history = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/shop/configmaps/rekon-history.vault",
        &[],
        "",
    )
    .await
    .unwrap();
    assert_eq!(history.code, 200, "{}", history.text());
    outputs.add("history ConfigMap", history.text());

    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(!logs.is_empty(), "the engine logged nothing");
    outputs.add("engine tracing logs", logs);
    outputs.check();
}

/// A webhook receiver keeping every body.
async fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    use http_body_util::{BodyExt, Full};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let b = bodies.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let b = b.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let b = b.clone();
                        async move {
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|c| c.to_bytes())
                                .unwrap_or_default();
                            b.lock()
                                .unwrap()
                                .push(String::from_utf8_lossy(&body).into_owned());
                            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(
                                bytes::Bytes::new(),
                            )))
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, bodies)
}
