//! Helpers for the source tests: fixture repositories built with the `git` binary in
//! temporary folders (tests only; rekon itself never runs git).

use std::path::{Path, PathBuf};
use std::process::Command;

use rekon::model::AppSource;
use rekon::source::Sources;
use tempfile::TempDir;

/// A Git repository with a working tree in a temporary folder.
pub struct Fixture {
    _dir: TempDir,
    /// The working tree.
    pub path: PathBuf,
}

impl Fixture {
    /// A new empty repository on branch `main`; `None` (test skipped) without git.
    pub fn new() -> Option<Self> {
        if !super::require("git") {
            return None;
        }
        let dir = TempDir::new().unwrap();
        let path = dir.path().join("repo");
        std::fs::create_dir(&path).unwrap();
        let f = Fixture { _dir: dir, path };
        f.git(&["init", "-q", "-b", "main"]);
        Some(f)
    }

    /// Runs git in the working tree, isolated from the user's configuration, with a fixed
    /// identity; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        run_git(&self.path, args)
    }

    /// Writes a file (creating folders).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }

    /// Removes a file.
    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.path.join(rel)).unwrap();
        self
    }

    /// Creates a symbolic link `rel` pointing to `target`.
    pub fn symlink(&self, rel: &str, target: &str) -> &Self {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, p).unwrap();
        self
    }

    /// Commits everything; returns the full SHA.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    /// The SHA of HEAD.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// The repository as a `file://` URL.
    pub fn file_url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// The repository's folder as a repoURL.
    pub fn local_url(&self) -> String {
        self.path.display().to_string()
    }
}

/// Runs git in `cwd` as [`Fixture::git`] does; returns stdout.
pub fn run_git(cwd: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(cwd)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_AUTHOR_DATE", "2025-01-02T03:04:05Z")
        .env("GIT_COMMITTER_DATE", "2025-01-02T03:04:05Z")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A `Sources` with its own cache folder.
pub fn sources() -> (TempDir, Sources) {
    let cache = TempDir::new().unwrap();
    let sources = Sources::new(cache.path().join("repos"));
    (cache, sources)
}

/// A plain source for `url` at `path`.
pub fn source(url: &str, path: &str) -> AppSource {
    AppSource {
        repo_url: url.to_string(),
        path: Some(path.to_string()),
        ..Default::default()
    }
}

/// A ConfigMap document.
pub fn config_map(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  key: value\n")
}

/// The `metadata.name`s of rendered objects, in order.
pub fn names(rendered: &rekon::source::Rendered) -> Vec<String> {
    rendered
        .manifests
        .iter()
        .map(|m| {
            m.object()["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}
