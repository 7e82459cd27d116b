//! `--read-only` is enforced by the engine: after status, tree, diff, manifests, history,
//! sync and rollback attempts, `rekon run` on a drifted auto-syncing app, and a TUI session
//! that tries every way to sync, roll back and refresh, the cluster's audit log holds no
//! write at all (dry runs, which persist nothing, are allowed).

use std::sync::Arc;
use std::time::Duration;

use crate::support::emulate::Emulator;
use crate::support::rekon_command;
use crate::support::reliability::{rekon, send};
use crate::support::source::Fixture;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use http::Method;
use rekon::runtime::{self, EngineOptions};
use rekon::source::Sources;
use rekon::tui::{App, TuiOptions};
use rekon_emulator::AuditEntry;

const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// Writes in the audit log after position `after` that persisted something.
async fn writes_after(emu: &Emulator, after: u64) -> Vec<AuditEntry> {
    emu.audit()
        .await
        .into_iter()
        .filter(|e| e.seq > after)
        .filter(|e| WRITE_VERBS.contains(&e.verb.as_str()))
        .filter(|e| !e.dry_run)
        .collect()
}

async fn last_seq(emu: &Emulator) -> u64 {
    emu.audit().await.iter().map(|e| e.seq).max().unwrap_or(0)
}

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

async fn settle(app: &mut App, engine: &runtime::EngineHandle) {
    for _ in 0..20 {
        app.set_snapshot(engine.current());
        if !app.has_pending() {
            break;
        }
        let _ = tokio::time::timeout(Duration::from_millis(250), app.wait_replies()).await;
        app.poll_replies();
    }
    app.set_snapshot(engine.current());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_writes_nothing_through_any_command_or_the_tui() {
    let Some(repo) = Fixture::new() else { return };
    repo.write(
        "shop/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  mode: fast\n",
    );
    repo.write(
        "shop/old.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\ndata:\n  a: b\n",
    );
    repo.commit("one");
    let emu = Emulator::start();
    let client = emu.client().await;
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let apps = work.path().join("apps.yaml");
    std::fs::write(
        &apps,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\n  namespace: argocd\nspec:\n  source:\n    repoURL: {}\n    path: shop\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: shop\n  syncPolicy:\n    automated: {{prune: true, selfHeal: true}}\n    syncOptions: [CreateNamespace=true]\n",
            repo.path.display()
        ),
    )
    .unwrap();
    let apps_arg = apps.to_str().unwrap().to_string();
    // One real sync first, so there is a history entry to roll back to and objects to prune.
    let run = |args: Vec<String>| {
        let home = home.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                rekon(&args, &home)
            })
            .await
            .unwrap()
        }
    };
    let with = |extra: &[&str]| -> Vec<String> {
        emu.cluster_args()
            .iter()
            .chain(&["--apps", apps_arg.as_str()])
            .chain(extra.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let out = run(with(&["sync", "shop"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Git moves on (old.yaml gone: prunable) and the cluster drifts: every reason to write.
    repo.remove("shop/old.yaml");
    repo.write(
        "shop/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop\ndata:\n  mode: slow\n",
    );
    repo.commit("two");
    let start = last_seq(&emu).await;

    for cmd in [
        vec!["status"],
        vec!["tree", "shop"],
        vec!["diff", "shop"],
        vec!["manifests", "shop"],
        vec!["history", "shop"],
    ] {
        let mut args = vec!["--read-only"];
        args.extend(cmd.iter().copied());
        let out = run(with(&args)).await;
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for cmd in [
        vec!["sync", "shop"],
        vec!["sync", "shop", "--prune", "--force"],
        vec!["rollback", "shop", "1"],
    ] {
        let mut args = vec!["--read-only"];
        args.extend(cmd.iter().copied());
        let out = run(with(&args)).await;
        assert_eq!(out.status.code(), Some(2), "{cmd:?} must be refused");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("read-only") || err.contains("refused"),
            "{cmd:?}: {err}"
        );
    }
    // A dry run is allowed: it asks the server, which persists nothing.
    let out = run(with(&["--read-only", "sync", "shop", "--dry-run"])).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // rekon run with auto-sync, self-heal and prune asked for, a few refreshes long.
    let mut child = rekon_command(&home)
        .args(with(&["--read-only", "run", "--refresh", "1s"]))
        .stdout(std::process::Stdio::null())
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
    let log = std::fs::read_to_string(work.path().join("run.err")).unwrap();
    assert!(log.contains("read-only"), "{log}");

    // A TUI session that tries everything.
    let cache = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&apps).unwrap();
    let application = rekon::model::Application::parse_all(&text, "apps.yaml")
        .unwrap()
        .remove(0);
    let engine = runtime::start(EngineOptions {
        apps: vec![application],
        clusters: vec![emu.handle().await],
        sources: Arc::new(Sources::new(cache.path().join("repos"))),
        read_only: true,
        config_ignore: Vec::new(),
        refresh_every: Some(Duration::from_millis(500)),
        projects: Vec::new(),
        auto_sync: true,
        skip_trees: false,
    });
    tokio::time::timeout(Duration::from_secs(60), engine.settled())
        .await
        .unwrap();
    let mut app = App::new(TuiOptions {
        read_only: true,
        initiated_by: "tester@ci".into(),
        ..TuiOptions::default()
    });
    app.connect(engine.commands());
    settle(&mut app, &engine).await;
    for keys in ["s", "sy", "spfy", "S", "r", "R"] {
        typed(&mut app, keys);
        key(&mut app, KeyCode::Enter);
        typed(&mut app, "y");
        settle(&mut app, &engine).await;
        key(&mut app, KeyCode::Esc);
        key(&mut app, KeyCode::Esc);
    }
    key(&mut app, KeyCode::Enter);
    typed(&mut app, "s");
    key(&mut app, KeyCode::Enter);
    typed(&mut app, "y");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Esc);
    typed(&mut app, "h");
    settle(&mut app, &engine).await;
    typed(&mut app, "R");
    key(&mut app, KeyCode::Enter);
    typed(&mut app, "y");
    settle(&mut app, &engine).await;
    key(&mut app, KeyCode::Esc);
    for command in [":sync shop", ":sync", ":rollback shop 1", ":refresh"] {
        typed(&mut app, command);
        key(&mut app, KeyCode::Enter);
        typed(&mut app, "y");
        settle(&mut app, &engine).await;
        key(&mut app, KeyCode::Esc);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    drop(app);
    drop(engine);

    let written = writes_after(&emu, start).await;
    assert!(written.is_empty(), "read-only wrote: {written:#?}");
    // And the cluster still holds what the one real sync left.
    let old = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/shop/configmaps/old",
        &[],
        "",
    )
    .await
    .unwrap();
    assert_eq!(old.code, 200, "nothing was pruned");
}
