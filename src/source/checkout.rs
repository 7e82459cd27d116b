//! Temporary copies of a commit's tree on disk, for kustomize and helm, which read files.
//! The whole repository is written (overlays reference `../base`) under `repo/`, so that
//! rekon's per-render helper files sit beside it and never inside the user's tree.
//! Copies are shared: every app rendered from the same commit uses one, and the few most
//! recently used stay on disk.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use tempfile::TempDir;

use super::error::SourceError;
use super::tree::{CommitTree, LeftOut};

/// A written-out commit; removed from disk when the last user drops it.
pub(crate) struct Checkout {
    dir: TempDir,
    left_out: Vec<LeftOut>,
}

impl Checkout {
    /// Writes `tree` into a new temporary folder.
    pub fn new(tree: &CommitTree<'_>) -> Result<Self, SourceError> {
        let dir = tempfile::Builder::new()
            .prefix("rekon-render-")
            .tempdir()
            .map_err(|e| SourceError::io(std::env::temp_dir(), &e))?;
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).map_err(|e| SourceError::io(&repo, &e))?;
        let left_out = tree.write_to(&repo)?;
        Ok(Checkout { dir, left_out })
    }

    /// Refuses an app whose folder holds something the checkout had to leave out (a link
    /// leaving the repository, a file over the size limit): the program would miss it.
    pub fn check_app(&self, app_path: &[String]) -> Result<(), SourceError> {
        match self.left_out.iter().find(|l| l.path.starts_with(app_path)) {
            Some(l) => Err(l.reason.clone()),
            None => Ok(()),
        }
    }

    /// Where the repository's files are.
    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// The folder holding `repo/`, where programs run.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A new private folder beside `repo/` for one render's helper files (a wrapper
    /// kustomization, a values file); removed when dropped.
    pub fn scratch(&self) -> Result<TempDir, SourceError> {
        tempfile::Builder::new()
            .prefix("rekon-")
            .tempdir_in(self.dir.path())
            .map_err(|e| SourceError::io(self.dir.path(), &e))
    }
}

type Slot = Arc<OnceLock<Result<Arc<Checkout>, SourceError>>>;

/// The most recently used checkouts, by repository and commit.
pub(crate) struct Checkouts {
    capacity: usize,
    // Least recently used first.
    slots: Mutex<VecDeque<(String, Slot)>>,
}

impl Checkouts {
    /// Keeps at most `capacity` checkouts on disk (more while renders still use them).
    pub fn new(capacity: usize) -> Self {
        Checkouts {
            capacity: capacity.max(1),
            slots: Mutex::new(VecDeque::new()),
        }
    }

    /// The checkout for `key`, written by `make` when there is none. Threads asking for the
    /// same key while it is written wait for it instead of writing another.
    pub fn get(
        &self,
        key: &str,
        make: impl FnOnce() -> Result<Checkout, SourceError>,
    ) -> Result<Arc<Checkout>, SourceError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            let slot = match slots.iter().position(|(k, _)| k == key) {
                Some(pos) => slots.remove(pos).map(|(_, s)| s).unwrap_or_default(),
                None => Slot::default(),
            };
            slots.push_back((key.to_string(), Arc::clone(&slot)));
            while slots.len() > self.capacity {
                slots.pop_front();
            }
            slot
        };
        let result = slot.get_or_init(|| make().map(Arc::new)).clone();
        if result.is_err() {
            // Do not remember a failure (a full disk may be fixed): the next render retries.
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.retain(|(_, s)| !Arc::ptr_eq(s, &slot));
        }
        result
    }
}
