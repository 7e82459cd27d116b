//! Resolving revisions in local folders and in `file://` remotes (cloned into the cache,
//! fetched on refresh), and the errors for unknown revisions and unreachable repositories.

use crate::support::source::{Fixture, config_map, sources};
use rekon::source::SourceError;

/// A repository with two commits on main, an annotated and a lightweight tag on the
/// first, and a `feature` branch with its own commit.
fn history(f: &Fixture) -> (String, String, String) {
    f.write("app/cm.yaml", config_map("one"));
    let first = f.commit("first");
    f.git(&["tag", "-a", "v1.0.0", "-m", "release 1.0.0"]);
    f.git(&["tag", "light"]);
    f.write("app/cm.yaml", config_map("two"));
    let second = f.commit("second");
    f.git(&["checkout", "-q", "-b", "feature"]);
    f.write("app/extra.yaml", config_map("extra"));
    let feature = f.commit("feature work");
    f.git(&["checkout", "-q", "main"]);
    (first, second, feature)
}

fn check_revisions(url: &str, first: &str, second: &str, feature: &str) {
    let (_cache, s) = sources();
    assert_eq!(s.resolve(url, "HEAD", false).unwrap(), second);
    assert_eq!(s.resolve(url, "", false).unwrap(), second);
    assert_eq!(s.resolve(url, "main", false).unwrap(), second);
    assert_eq!(s.resolve(url, "refs/heads/main", false).unwrap(), second);
    assert_eq!(s.resolve(url, "feature", false).unwrap(), feature);
    assert_eq!(
        s.resolve(url, "v1.0.0", false).unwrap(),
        first,
        "annotated tag"
    );
    assert_eq!(
        s.resolve(url, "light", false).unwrap(),
        first,
        "lightweight tag"
    );
    assert_eq!(s.resolve(url, first, false).unwrap(), first, "full SHA");
    assert_eq!(
        s.resolve(url, &first[..8], false).unwrap(),
        first,
        "short SHA"
    );
    let err = s.resolve(url, "no-such-branch", false).unwrap_err();
    assert!(
        matches!(err, SourceError::UnknownRevision { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("unknown revision 'no-such-branch' in "),
        "{msg}"
    );
    assert!(msg.contains(url.trim_end_matches('/')), "{msg}");
}

#[test]
fn resolves_revisions_in_a_local_folder() {
    let Some(f) = Fixture::new() else { return };
    let (first, second, feature) = history(&f);
    check_revisions(&f.local_url(), &first, &second, &feature);
}

#[test]
fn resolves_revisions_in_a_bare_local_repository() {
    let Some(f) = Fixture::new() else { return };
    let (first, second, feature) = history(&f);
    let bare = f.path.with_file_name("bare.git");
    crate::support::source::run_git(
        &f.path,
        &["clone", "-q", "--bare", ".", bare.to_str().unwrap()],
    );
    check_revisions(bare.to_str().unwrap(), &first, &second, &feature);
}

#[test]
fn resolves_revisions_in_a_cloned_file_remote() {
    let Some(f) = Fixture::new() else { return };
    let (first, second, feature) = history(&f);
    check_revisions(&f.file_url(), &first, &second, &feature);
}

#[test]
fn fetch_picks_up_a_new_commit_and_a_deleted_branch() {
    let Some(f) = Fixture::new() else { return };
    let (_, second, feature) = history(&f);
    let (cache, s) = sources();
    let url = f.file_url();
    assert_eq!(s.resolve(&url, "main", false).unwrap(), second);
    assert_eq!(s.resolve(&url, "feature", false).unwrap(), feature);
    // The clone lives in the cache folder, not in the repository.
    let clones: Vec<_> = std::fs::read_dir(cache.path().join("repos"))
        .unwrap()
        .collect();
    assert_eq!(clones.len(), 1);

    f.write("app/cm.yaml", config_map("three"));
    let third = f.commit("third");
    f.git(&["branch", "-D", "feature"]);
    // Without a fetch the clone still answers with what it has.
    assert_eq!(s.resolve(&url, "main", false).unwrap(), second);
    assert_eq!(s.resolve(&url, "main", true).unwrap(), third);
    let err = s.resolve(&url, "feature", true).unwrap_err();
    assert!(
        matches!(err, SourceError::UnknownRevision { .. }),
        "{err:?}"
    );

    // A second Sources reuses the clone on disk.
    let s2 = rekon::source::Sources::new(cache.path().join("repos"));
    assert_eq!(s2.resolve(&url, "HEAD", false).unwrap(), third);
}

#[test]
fn a_sha_that_is_not_yet_fetched_is_fetched_on_demand() {
    let Some(f) = Fixture::new() else { return };
    let (_, second, _) = history(&f);
    let (_cache, s) = sources();
    let url = f.file_url();
    assert_eq!(s.resolve(&url, "HEAD", false).unwrap(), second);
    f.write("app/cm.yaml", config_map("later"));
    let later = f.commit("later");
    assert_eq!(s.resolve(&url, &later, false).unwrap(), later);
}

#[test]
fn unreachable_repositories_name_the_url_and_reason() {
    let (_cache, s) = sources();
    let err = s
        .resolve("/nonexistent/rekon/repo", "HEAD", false)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot reach repository /nonexistent/rekon/repo: no such folder"
    );

    let not_a_repo = tempfile::TempDir::new().unwrap();
    let err = s
        .resolve(not_a_repo.path().to_str().unwrap(), "HEAD", false)
        .unwrap_err();
    assert!(matches!(err, SourceError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains("not a Git repository"), "{err}");

    // Nothing listens on port 1: the connection is refused at once.
    let err = s
        .resolve(
            "https://x-token:s3cr3t@127.0.0.1:1/acme/gitops.git",
            "HEAD",
            false,
        )
        .unwrap_err();
    assert!(matches!(err, SourceError::Unreachable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot reach repository https://127.0.0.1:1/acme/gitops.git: "),
        "{msg}"
    );
    assert!(!msg.contains("s3cr3t") && !msg.contains("x-token"), "{msg}");
}

#[test]
fn a_missing_file_remote_is_unreachable() {
    if !crate::support::require("git") {
        return;
    }
    let (_cache, s) = sources();
    let err = s
        .resolve("file:///nonexistent/rekon/repo", "HEAD", false)
        .unwrap_err();
    assert!(matches!(err, SourceError::Unreachable { .. }), "{err:?}");
    assert!(
        err.to_string().contains("file:///nonexistent/rekon/repo"),
        "{err}"
    );
}

#[test]
fn other_schemes_are_refused() {
    let (_cache, s) = sources();
    let err = s
        .resolve("ftp://user:pw@example.com/repo.git", "HEAD", false)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported repository URL ftp://example.com/repo.git: scheme 'ftp' is not supported (use https://, ssh://, git@host:path, file:// or a local folder)"
    );
}

#[test]
fn resolving_from_many_threads_at_once_agrees() {
    let Some(f) = Fixture::new() else { return };
    let (_, second, _) = history(&f);
    let (_cache, s) = sources();
    let url = f.file_url();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| s.resolve(&url, "main", true)))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap().unwrap(), second);
        }
    });
}

#[test]
fn commit_info_names_author_time_and_summary() {
    let Some(f) = Fixture::new() else { return };
    f.write("app/cm.yaml", config_map("one"));
    let sha = f.commit("web: bump the image\n\nBecause the old one is vulnerable.");
    let (_cache, s) = sources();
    let info = s.commit_info(&f.local_url(), &sha).unwrap();
    assert_eq!(info.sha, sha);
    assert_eq!(info.author, "Test Author <author@example.com>");
    assert_eq!(info.time, "2025-01-02T03:04:05Z");
    assert_eq!(info.summary, "web: bump the image");
}

#[test]
fn helm_repository_charts_are_refused_clearly() {
    let (_cache, s) = sources();
    let mut src = crate::support::source::source("https://charts.bitnami.com/bitnami", ".");
    src.chart = Some("redis".into());
    let err = s.render(&src, "redis", "HEAD").unwrap_err();
    assert!(matches!(err, SourceError::UnsupportedUrl { .. }), "{err:?}");
    assert!(
        err.to_string().contains("spec.source.chart: redis"),
        "{err}"
    );
}
