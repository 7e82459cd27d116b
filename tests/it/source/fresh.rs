//! Every `Sources` (one per command) checks a remote before its first resolve: a second
//! one sharing the cache sees a commit made after the first; an unreachable remote falls
//! back to the cached clone and says so; `--offline` never contacts the remote.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::support::source::{Fixture, config_map, source};
use rekon::model::{RevisionOrigin, RevisionSource};
use rekon::source::{CacheFallback, SourceError, Sources};

fn commit(f: &Fixture, name: &str) -> String {
    f.write("app/cm.yaml", config_map(name));
    f.commit(name)
}

/// Each call is a new process's Git access over the shared `cache`.
fn fresh(cache: &Path) -> Sources {
    Sources::new(cache.to_path_buf())
}

fn fallbacks(sources: Sources) -> (Sources, Arc<Mutex<Vec<CacheFallback>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let sources = sources.on_cache_fallback(move |f| sink.lock().unwrap().push(f.clone()));
    (sources, seen)
}

fn pack_files(cache: &Path) -> Vec<PathBuf> {
    let clone = std::fs::read_dir(cache).unwrap().next().unwrap().unwrap();
    let mut packs: Vec<PathBuf> = std::fs::read_dir(clone.path().join("objects/pack"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "pack"))
                .collect()
        })
        .unwrap_or_default();
    packs.sort();
    packs
}

#[test]
fn a_second_sources_sees_a_commit_made_after_the_first_resolved() {
    let Some(f) = Fixture::new() else { return };
    let first = commit(&f, "first");
    let url = f.file_url();
    let cache = tempfile::tempdir().unwrap();

    let one = fresh(cache.path());
    assert_eq!(one.resolve(&url, "main", false).unwrap(), first);
    let second = commit(&f, "second");

    let two = fresh(cache.path());
    assert_eq!(two.resolve(&url, "main", false).unwrap(), second);
    assert_eq!(two.resolve(&url, "HEAD", false).unwrap(), second);
    let origin = two.origin(&url).unwrap();
    assert_eq!(origin.revision_source, Some(RevisionSource::Remote));
    assert!(origin.fetched_at.is_some(), "{origin:?}");
    assert_eq!(origin.fetch_error, None);

    // The render carries where its commit came from.
    let rendered = two.render(&source(&url, "app"), "app", &second).unwrap();
    assert_eq!(rendered.origin, origin);

    // A folder read in place says so.
    let local = fresh(cache.path());
    local.resolve(&f.local_url(), "main", false).unwrap();
    assert_eq!(
        local.origin(&f.local_url()).unwrap().revision_source,
        Some(RevisionSource::Local)
    );
}

#[test]
fn an_unchanged_remote_is_checked_without_fetching_a_pack() {
    let Some(f) = Fixture::new() else { return };
    let first = commit(&f, "first");
    let url = f.file_url();
    let cache = tempfile::tempdir().unwrap();
    assert_eq!(
        fresh(cache.path()).resolve(&url, "main", false).unwrap(),
        first
    );
    let packs = pack_files(cache.path());
    assert!(!packs.is_empty(), "the first clone writes a pack");

    for _ in 0..3 {
        let again = fresh(cache.path());
        assert_eq!(again.resolve(&url, "main", false).unwrap(), first);
        assert_eq!(
            again.origin(&url).unwrap().revision_source,
            Some(RevisionSource::Remote)
        );
    }
    assert_eq!(pack_files(cache.path()), packs, "no pack for no change");

    let second = commit(&f, "second");
    assert_eq!(
        fresh(cache.path()).resolve(&url, "main", false).unwrap(),
        second
    );
    assert_eq!(pack_files(cache.path()).len(), packs.len() + 1);
}

#[test]
fn an_unreachable_remote_falls_back_to_the_cache_and_says_so() {
    let Some(f) = Fixture::new() else { return };
    let first = commit(&f, "first");
    let url = f.file_url();
    let cache = tempfile::tempdir().unwrap();
    fresh(cache.path()).resolve(&url, "main", false).unwrap();

    let moved = f.path.with_file_name("moved");
    std::fs::rename(&f.path, &moved).unwrap();
    let (two, seen) = fallbacks(fresh(cache.path()));
    assert_eq!(two.resolve(&url, "main", false).unwrap(), first);
    // Shared by every app of the repository: one check, one notice.
    assert_eq!(two.resolve(&url, "HEAD", false).unwrap(), first);
    let origin = two.origin(&url).unwrap();
    assert_eq!(origin.revision_source, Some(RevisionSource::Cache));
    let fetched_at = origin
        .fetched_at
        .clone()
        .expect("the first fetch was recorded");
    assert!(
        fetched_at.parse::<jiff::Timestamp>().is_ok(),
        "{fetched_at}"
    );
    assert!(origin.fetch_error.is_some(), "{origin:?}");

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].url, url);
    assert_eq!(seen[0].fetched_at.as_deref(), Some(fetched_at.as_str()));
    let line = seen[0].to_string();
    assert!(line.starts_with(&format!("cannot reach {url}: ")), "{line}");
    assert!(
        line.ends_with("; using the cached clone (last fetched just now)"),
        "{line}"
    );

    // A refresh checks again, and comes back to the remote once it is there.
    std::fs::rename(&moved, &f.path).unwrap();
    let second = commit(&f, "second");
    assert_eq!(two.resolve(&url, "main", true).unwrap(), second);
    assert_eq!(
        two.origin(&url).unwrap(),
        RevisionOrigin {
            revision_source: Some(RevisionSource::Remote),
            fetch_error: None,
            ..two.origin(&url).unwrap()
        }
    );
}

#[test]
fn a_never_cloned_unreachable_remote_stays_an_error() {
    let cache = tempfile::tempdir().unwrap();
    let url = "file:///nonexistent/rekon/fresh-repo";
    for sources in [fresh(cache.path()), fresh(cache.path()).offline(true)] {
        let err = sources.resolve(url, "main", false).unwrap_err();
        assert!(matches!(err, SourceError::Unreachable { .. }), "{err:?}");
        assert!(err.to_string().contains(url), "{err}");
    }
    let err = fresh(cache.path())
        .offline(true)
        .resolve(url, "main", false)
        .unwrap_err();
    assert!(err.to_string().contains("--offline"), "{err}");
}

#[test]
fn offline_never_contacts_the_remote() {
    let Some(f) = Fixture::new() else { return };
    let first = commit(&f, "first");
    let url = f.file_url();
    let cache = tempfile::tempdir().unwrap();
    fresh(cache.path()).resolve(&url, "main", false).unwrap();

    // A new commit stays unseen, and a refresh does not fetch it either.
    commit(&f, "second");
    let (offline, seen) = fallbacks(fresh(cache.path()).offline(true));
    assert_eq!(offline.resolve(&url, "main", false).unwrap(), first);
    assert_eq!(offline.resolve(&url, "main", true).unwrap(), first);
    let origin = offline.origin(&url).unwrap();
    assert_eq!(origin.revision_source, Some(RevisionSource::Cache));
    assert_eq!(origin.fetch_error, None);
    assert!(origin.fetched_at.is_some(), "{origin:?}");

    // Nor with the remote gone: no notice about reachability.
    std::fs::rename(&f.path, f.path.with_file_name("gone")).unwrap();
    assert_eq!(offline.resolve(&url, "main", true).unwrap(), first);
    let err = offline.resolve(&url, "no-such-branch", false).unwrap_err();
    assert!(
        matches!(err, SourceError::UnknownRevision { .. }),
        "{err:?}"
    );
    assert!(seen.lock().unwrap().is_empty());
}

/// The TUI's start-up and `r`: an engine over a new `Sources` (a new process) resolves
/// against the remote, and a refresh checks it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_starts_from_the_remote_and_a_refresh_checks_it_again() {
    let Some(world) = crate::support::engine::World::new().await else {
        return;
    };
    let f = &world.fixture;
    let first = commit(f, "first");
    let url = f.file_url();
    let cache = tempfile::tempdir().unwrap();
    let text = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\n  namespace: argocd\nspec:\n  source:\n    repoURL: {url}\n    path: app\n  destination:\n    name: test\n    namespace: web\n"
    );
    let app = rekon::model::Application::parse_all(&text, "app.yaml")
        .unwrap()
        .remove(0);
    let start = || {
        rekon::runtime::start(rekon::runtime::EngineOptions {
            apps: vec![app.clone()],
            clusters: vec![world.handle()],
            sources: Arc::new(fresh(cache.path())),
            read_only: true,
            config_ignore: Vec::new(),
            refresh_every: None,
            projects: Vec::new(),
            auto_sync: false,
            skip_trees: false,
        })
    };
    let at = |sha: &str| {
        let sha = sha.to_string();
        move |s: &rekon::model::Snapshot| s.apps[0].revision.as_deref() == Some(sha.as_str())
    };
    let one = start();
    crate::support::engine::wait_for(&one, "the first commit", at(&first)).await;
    drop(one);

    let second = commit(f, "second");
    let two = start();
    let snap = crate::support::engine::wait_for(&two, "the second commit", at(&second)).await;
    assert_eq!(
        snap.apps[0].origin.revision_source,
        Some(RevisionSource::Remote)
    );

    let third = commit(f, "third");
    two.commands()
        .send(rekon::runtime::EngineCommand::Refresh {
            app: None,
            hard: false,
        })
        .await
        .unwrap();
    crate::support::engine::wait_for(&two, "the third commit after a refresh", at(&third)).await;
}
