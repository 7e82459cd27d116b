//! A temporary copy of a commit's tree on disk, for kustomize and helm, which read files.
//! The whole repository is written (overlays reference `../base`), under `repo/`, so that
//! rekon's own helper files sit beside it and never inside the user's tree.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::error::SourceError;
use super::tree::CommitTree;

/// A written-out commit; removed from disk when dropped.
pub(crate) struct Checkout {
    dir: TempDir,
}

impl Checkout {
    /// Writes `tree` into a new temporary folder.
    pub fn new(tree: &CommitTree<'_>, app_path: &[String]) -> Result<Self, SourceError> {
        let dir = tempfile::Builder::new()
            .prefix("rekon-render-")
            .tempdir()
            .map_err(|e| SourceError::io(std::env::temp_dir(), &e))?;
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).map_err(|e| SourceError::io(&repo, &e))?;
        tree.write_to(&repo, app_path)?;
        Ok(Checkout { dir })
    }

    /// The temporary folder (holding `repo/` and rekon's helper files).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Where the repository's files are.
    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }
}
