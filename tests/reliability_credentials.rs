//! Credentials never show: a repository URL with a token in its userinfo (and an scp-style
//! one with a password) is used by an app; every output that names the repository — status
//! in every format, manifests, `rekon run` at trace level, the engine's logs, the TUI — names
//! it without the credentials. Repository URL schemes other than https, ssh, file and local
//! paths are refused.

// A binary of its own: the test installs the process-wide tracing subscriber to capture
// every log line, which can be done once per process and would catch other tests' logs.
// It uses a part of the helpers of `tests/it`.
#[allow(dead_code, unused_imports)]
#[path = "it/support/mod.rs"]
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rekon::model::Application;
use rekon::runtime::{self, EngineOptions};
use rekon::source::Sources;
use rekon::tui::{App, TuiOptions};
use support::emulate::Emulator;
use support::reliability::rekon;

const TOKEN: &str = "ghp_planted0Token9Zx";
const PASSWORD: &str = "planted-Passw0rd-Qv";

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

fn apps_yaml() -> String {
    // Port 9 on loopback: nothing listens, so fetching fails and the URL is quoted in errors.
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: https-app, namespace: argocd}}\nspec:\n  source: {{repoURL: 'https://deploy:{TOKEN}@127.0.0.1:9/acme/gitops.git', path: apps/web}}\n  destination: {{namespace: web}}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: ssh-app, namespace: argocd}}\nspec:\n  source: {{repoURL: 'ssh://git:{PASSWORD}@127.0.0.1:9/acme/gitops.git', path: apps/web}}\n  destination: {{namespace: web}}\n"
    )
}

fn check(label: &str, text: &str) {
    for secret in [TOKEN, PASSWORD] {
        assert!(
            !text.contains(secret),
            "a credential leaked into {label}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_in_a_repository_url_appears_in_no_output() {
    let logs = Captured::default();
    tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .init();
    let emu = Emulator::start();
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let apps = work.path().join("apps.yaml");
    std::fs::write(&apps, apps_yaml()).unwrap();
    let apps_arg = apps.to_str().unwrap().to_string();

    for cmd in [
        vec!["status"],
        vec!["status", "-o", "json"],
        vec!["status", "-o", "yaml"],
        vec!["manifests", "https-app"],
        vec!["diff", "ssh-app"],
        vec!["tree", "https-app"],
        vec!["sync", "https-app"],
    ] {
        let args: Vec<String> = emu
            .cluster_args()
            .iter()
            .chain(&["--apps", apps_arg.as_str()])
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
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The repository is named (so the check below means something) …
        assert!(
            text.contains("127.0.0.1:9/acme/gitops.git"),
            "{cmd:?}: {text}"
        );
        // … without its credentials.
        check(&format!("rekon {}", cmd.join(" ")), &text);
    }

    // rekon run at trace level (every library's logs included).
    let mut child = support::rekon_command(&home)
        .args(emu.cluster_args())
        .args(["--apps", &apps_arg, "run", "--refresh", "1s"])
        .env("REKON_LOG", "trace")
        .stdout(std::fs::File::create(work.path().join("run.out")).unwrap())
        .stderr(std::fs::File::create(work.path().join("run.err")).unwrap())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    let run = format!(
        "{}{}",
        std::fs::read_to_string(work.path().join("run.out")).unwrap(),
        std::fs::read_to_string(work.path().join("run.err")).unwrap()
    );
    assert!(run.contains("gitops.git"), "{run}");
    check("rekon run logs", &run);

    // The engine in process, its logs, and the TUI's views of the apps.
    let cache = tempfile::tempdir().unwrap();
    let apps: Vec<Application> = Application::parse_all(&apps_yaml(), "apps.yaml").unwrap();
    let engine = runtime::start(EngineOptions {
        apps,
        clusters: vec![emu.handle().await],
        sources: Arc::new(Sources::new(cache.path().join("repos"))),
        read_only: false,
        config_ignore: Vec::new(),
        refresh_every: None,
        projects: Vec::new(),
        auto_sync: false,
        skip_trees: false,
    });
    let snap = tokio::time::timeout(Duration::from_secs(60), engine.settled())
        .await
        .unwrap();
    check("the snapshot", &serde_json::to_string(&*snap).unwrap());
    let mut app = App::new(TuiOptions::default());
    app.connect(engine.commands());
    app.set_snapshot(snap);
    for keys in ["", "\n", "d", "h", "t", "s"] {
        for c in keys.chars() {
            let code = if c == '\n' {
                crossterm::event::KeyCode::Enter
            } else {
                crossterm::event::KeyCode::Char(c)
            };
            app.handle_key(crossterm::event::KeyEvent::new(
                code,
                crossterm::event::KeyModifiers::NONE,
            ));
        }
        let mut t = Terminal::new(TestBackend::new(200, 50)).unwrap();
        t.draw(|f| app.draw(f)).unwrap();
        check(&format!("the TUI after {keys:?}"), &t.backend().to_string());
        app.handle_key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Esc,
            crossterm::event::KeyModifiers::NONE,
        ));
    }
    drop(engine);
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    check("the engine's logs", &logs);
}

#[test]
fn only_https_ssh_file_and_local_repositories_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let sources = Sources::new(dir.path().join("repos"));
    for url in [
        "ftp://example.com/repo.git",
        // Plain HTTP only to this machine (localhost), where nothing crosses the network.
        "http://example.com/repo.git",
        "git://example.com/repo.git",
        "ext::sh -c touch% /tmp/pwned",
        "fd::17",
        "javascript://x",
    ] {
        let e = sources
            .resolve(url, "main", false)
            .expect_err(url)
            .to_string();
        assert!(
            e.contains("not supported") || e.contains("unsupported"),
            "{url}: {e}"
        );
    }
}
