//! Every command resolves a remote repository (here a `file://` URL, so it goes through
//! the cache clone) against the remote: a second `rekon` process sees a commit made after
//! the first one ran. An unreachable remote falls back to the cache with one stderr line
//! and `"revisionSource": "cache"`; `--offline` never contacts the remote.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::emulate::Emulator;
use crate::support::rekon_command;
use crate::support::reliability::rekon;
use crate::support::source::Fixture;
use serde_json::Value;

struct Setup {
    repo: Fixture,
    emu: Emulator,
    apps: PathBuf,
    home: tempfile::TempDir,
}

impl Setup {
    /// A repository with one commit of app `shop` (repoURL `file://…`), a cluster, and a
    /// private cache; `None` (skipped) without git.
    fn new() -> Option<(Setup, String)> {
        let repo = Fixture::new()?;
        let first = commit(&repo, "one");
        let home = tempfile::tempdir().unwrap();
        let apps = home.path().join("apps.yaml");
        std::fs::write(
            &apps,
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\n  namespace: argocd\nspec:\n  source:\n    repoURL: {}\n    path: shop\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: shop\n  syncPolicy:\n    syncOptions: [CreateNamespace=true]\n",
                repo.file_url()
            ),
        )
        .unwrap();
        let emu = Emulator::start();
        Some((
            Setup {
                repo,
                emu,
                apps,
                home,
            },
            first,
        ))
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = self.emu.cluster_args().to_vec();
        all.extend(["--apps", self.apps_path()]);
        all.extend_from_slice(args);
        all
    }

    fn apps_path(&self) -> &str {
        self.apps.to_str().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        rekon(&self.args(args), self.home.path())
    }

    /// Runs a command that must exit with `code`; returns stdout and stderr.
    fn ok(&self, args: &[&str], code: i32) -> (String, String) {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "rekon {args:?}\nstdout: {stdout}\nstderr: {stderr}"
        );
        (stdout, stderr)
    }

    fn json(&self, args: &[&str], code: i32) -> (Value, String) {
        let (stdout, stderr) = self.ok(args, code);
        let v = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        (v, stderr)
    }

    /// The `shop` row of `status -o json`, and stderr.
    fn status(&self, extra: &[&str]) -> (Value, String) {
        let mut args = extra.to_vec();
        args.extend(["status", "-o", "json"]);
        let (v, stderr) = self.json(&args, 0);
        (v[0].clone(), stderr)
    }
}

/// Commits a ConfigMap whose `mode` is `mode`; returns the SHA.
fn commit(repo: &Fixture, mode: &str) -> String {
    repo.write(
        "shop/cm.yaml",
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: {mode}\n"
        ),
    );
    repo.commit(mode)
}

fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("cannot reach"))
        .collect()
}

#[test]
fn status_sees_a_commit_made_after_the_last_command() {
    let Some((s, first)) = Setup::new() else {
        return;
    };
    let (app, _) = s.status(&[]);
    assert_eq!(app["revision"], first.as_str());
    assert_eq!(app["revisionSource"], "remote", "{app}");
    assert!(app["fetchedAt"].is_string(), "{app}");

    let second = commit(&s.repo, "two");
    let (app, stderr) = s.status(&[]);
    assert_eq!(app["revision"], second.as_str(), "{app}");
    assert_eq!(app["revisionSource"], "remote");
    assert!(warnings(&stderr).is_empty(), "{stderr}");
}

#[test]
fn manifests_and_diff_render_a_commit_made_after_the_last_command() {
    let Some((s, _)) = Setup::new() else { return };
    let (yaml, _) = s.ok(&["manifests", "shop"], 0);
    assert!(yaml.contains("mode: one"), "{yaml}");

    commit(&s.repo, "two");
    let (yaml, _) = s.ok(&["manifests", "shop"], 0);
    assert!(yaml.contains("mode: two"), "{yaml}");
    // Nothing applied: the diff shows what Git wants now.
    let (diff, _) = s.ok(&["diff", "shop"], 1);
    assert!(diff.contains("mode: two"), "{diff}");
    assert!(!diff.contains("mode: one"), "{diff}");
}

#[test]
fn sync_history_and_rollback_use_a_commit_made_after_the_last_command() {
    let Some((s, first)) = Setup::new() else {
        return;
    };
    let (op, _) = s.json(&["sync", "shop", "-o", "json"], 0);
    assert_eq!(op["revision"], first.as_str(), "{op}");

    let second = commit(&s.repo, "two");
    let (op, _) = s.json(&["sync", "shop", "-o", "json"], 0);
    assert_eq!(op["phase"], "Succeeded", "{op}");
    assert_eq!(op["revision"], second.as_str(), "the new commit is synced");
    assert_eq!(op["revisionSource"], "remote", "{op}");
    assert!(op["fetchedAt"].is_string(), "{op}");
    let (app, _) = s.status(&[]);
    assert_eq!(app["sync"], "Synced", "{app}");

    let (history, _) = s.json(&["history", "shop", "-o", "json"], 0);
    let revisions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["revision"].as_str().unwrap())
        .collect();
    assert_eq!(revisions, [second.as_str(), first.as_str()]);
    let first_id = history[1]["id"].to_string();

    // A third commit lands; rolling back still syncs the recorded revision, from a
    // process whose view of the branch is current.
    let third = commit(&s.repo, "three");
    let (op, _) = s.json(&["rollback", "shop", &first_id, "-o", "json"], 0);
    assert_eq!(op["revision"], first.as_str(), "{op}");
    assert_eq!(op["revisionSource"], "remote", "{op}");
    let (app, _) = s.status(&[]);
    assert_eq!(app["revision"], third.as_str(), "{app}");
    assert_eq!(app["sync"], "OutOfSync", "{app}");
}

/// Reads `rekon run`'s log lines until one contains `want`; panics after a minute.
fn wait_for_line(lines: &mpsc::Receiver<String>, want: &str, log: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(want);
                log.push(line);
                if found {
                    return;
                }
            }
            Err(_) => panic!("no line with {want:?} in\n{}", log.join("\n")),
        }
    }
}

#[test]
fn run_resolves_against_the_remote_at_start_and_on_each_refresh() {
    let Some((s, first)) = Setup::new() else {
        return;
    };
    // An earlier command left a clone holding the first commit only.
    s.status(&[]);
    let second = commit(&s.repo, "two");

    let mut run = rekon_command(s.home.path())
        .args(s.args(&["run", "--refresh", "1s"]))
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stderr = run.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    wait_for_line(&lines, "argocd/shop is OutOfSync", &mut log);
    let started = log.last().unwrap().clone();
    assert!(started.contains(&second[..7]), "{}", log.join("\n"));
    assert!(!started.contains(&first[..7]), "{}", log.join("\n"));

    let third = commit(&s.repo, "three");
    wait_for_line(&lines, &format!("at {}", &third[..7]), &mut log);
    let _ = run.kill();
    let _ = run.wait();
}

#[test]
fn an_unreachable_remote_falls_back_to_the_cache_with_one_line() {
    let Some((s, first)) = Setup::new() else {
        return;
    };
    let (app, _) = s.status(&[]);
    let fetched_at = app["fetchedAt"].as_str().unwrap().to_string();

    std::fs::rename(&s.repo.path, s.repo.path.with_file_name("away")).unwrap();
    let (app, stderr) = s.status(&[]);
    assert_eq!(app["revision"], first.as_str(), "{app}");
    assert_eq!(app["revisionSource"], "cache", "{app}");
    assert_eq!(app["fetchedAt"], fetched_at.as_str(), "{app}");
    assert!(app["fetchError"].is_string(), "{app}");
    let lines = warnings(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("rekon: cannot reach {}: ", s.repo.file_url())),
        "{stderr}"
    );
    assert!(
        lines[0].contains("using the cached clone (last fetched "),
        "{stderr}"
    );
}

#[test]
fn offline_resolves_in_the_cache_without_contacting_the_remote() {
    let Some((s, first)) = Setup::new() else {
        return;
    };
    s.status(&[]);
    // A new commit is not seen, and a remote that is gone is not missed.
    commit(&s.repo, "two");
    let (app, stderr) = s.status(&["--offline"]);
    assert_eq!(app["revision"], first.as_str(), "{app}");
    assert_eq!(app["revisionSource"], "cache", "{app}");
    assert!(app["fetchedAt"].is_string(), "{app}");
    assert!(app.get("fetchError").is_none(), "{app}");
    assert!(warnings(&stderr).is_empty(), "{stderr}");

    std::fs::rename(&s.repo.path, s.repo.path.with_file_name("away")).unwrap();
    let (app, stderr) = s.status(&["--offline"]);
    assert_eq!(app["revisionSource"], "cache", "{app}");
    assert!(warnings(&stderr).is_empty(), "{stderr}");
    let (yaml, stderr) = s.ok(&["--offline", "manifests", "shop"], 0);
    assert!(yaml.contains("mode: one"), "{yaml}");
    assert!(warnings(&stderr).is_empty(), "{stderr}");
    // A sync says where its revision came from too.
    let (op, _) = s.json(&["--offline", "sync", "shop", "-o", "json"], 0);
    assert_eq!(op["revision"], first.as_str(), "{op}");
    assert_eq!(op["revisionSource"], "cache", "{op}");
}
