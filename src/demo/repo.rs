//! The demo Git repository: built with gix from `assets/demo` (embedded in the binary),
//! with a fixed author and fixed times so its commit SHAs are the same on every run.
//! `assets/demo/README.md` describes the layout and the story.

use std::path::{Path, PathBuf};

use gix::ObjectId;
use gix::objs::tree::EntryKind;
use include_dir::{Dir, include_dir};
use serde::Deserialize;
use thiserror::Error;

use crate::model::{AppError, Application};
use crate::source::SourceError;
use crate::yaml;

/// What `rekon demo` ships: the history and the Applications.
static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/demo");

/// Author and committer of every demo commit.
const AUTHOR_NAME: &str = "rekon demo";
/// Email of the demo author.
const AUTHOR_EMAIL: &str = "demo@rekon.dev";
/// The one branch of the demo repository.
const BRANCH: &str = "refs/heads/main";

/// One commit of the demo history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCommit {
    /// Full SHA.
    pub sha: String,
    /// The whole message, without the trailing newline.
    pub message: String,
}

impl DemoCommit {
    /// The first line of the message.
    pub fn summary(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }
}

/// A built demo repository.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoRepo {
    /// The repository's working tree (with `.git` inside), absolute.
    pub path: PathBuf,
    /// Its commits, oldest first; the last is `main` and `HEAD`.
    pub commits: Vec<DemoCommit>,
    /// The Applications of `applications/`, sorted by name, their `repoURL` pointing at
    /// `path`.
    pub applications: Vec<Application>,
}

impl DemoRepo {
    /// The SHA of `HEAD` (the newest commit).
    pub fn head(&self) -> &str {
        self.commits.last().map_or("", |c| c.sha.as_str())
    }
}

/// Why the demo repository could not be built.
#[derive(Debug, Error)]
pub enum DemoError {
    /// The embedded assets are inconsistent (a bug in rekon's build, not in the user's setup).
    #[error("demo assets: {0}")]
    Assets(String),
    /// The destination folder cannot be used.
    #[error("{path}: {message}")]
    Destination {
        /// The folder.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// gix failed to write the repository.
    #[error("building the demo repository in {path}: {message}")]
    Git {
        /// The repository folder.
        path: String,
        /// The underlying cause.
        message: String,
    },
    /// Checking out the last commit failed.
    #[error(transparent)]
    Checkout(#[from] SourceError),
    /// An Application document in the assets is invalid.
    #[error(transparent)]
    Application(#[from] AppError),
}

/// `history.yaml`.
#[derive(Debug, Deserialize)]
struct History {
    commits: Vec<HistoryCommit>,
}

/// One entry of `history.yaml`.
#[derive(Debug, Deserialize)]
struct HistoryCommit {
    /// Folder under `history/` with the files this commit writes.
    folder: String,
    /// Commit time, RFC 3339.
    time: String,
    /// Commit message.
    message: String,
    /// Paths this commit deletes.
    #[serde(default)]
    remove: Vec<String>,
}

/// Builds the demo repository in `dest`, which must not exist or be empty: every commit of
/// `assets/demo/history.yaml` on branch `main`, the last one checked out.
pub fn build(dest: &Path) -> Result<DemoRepo, DemoError> {
    let history = load_history()?;
    prepare_destination(dest)?;
    let path = dest.canonicalize().map_err(|e| destination(dest, &e))?;
    let git = |e: gix::Error| DemoError::Git {
        path: path.display().to_string(),
        message: e.to_string(),
    };

    // Isolated from the user's Git configuration: nothing there may change the objects.
    let repo = gix::ThreadSafeRepository::init_opts(
        &path,
        gix::create::Kind::WithWorktree,
        gix::create::Options::default(),
        gix::open::Options::isolated(),
    )
    .map_err(git)?
    .to_thread_local();
    let head_file = repo.git_dir().join("HEAD");
    std::fs::write(&head_file, format!("ref: {BRANCH}\n"))
        .map_err(|e| destination(&head_file, &e))?;

    let mut tree = ObjectId::empty_tree(gix::hash::Kind::Sha1);
    let mut parent: Option<ObjectId> = None;
    let mut commits = Vec::with_capacity(history.commits.len());
    for entry in &history.commits {
        tree = next_tree(&repo, tree, entry)?;
        let seconds = entry
            .time
            .parse::<jiff::Timestamp>()
            .map_err(|e| {
                DemoError::Assets(format!(
                    "commit {}: time '{}': {e}",
                    entry.folder, entry.time
                ))
            })?
            .as_second();
        let time = format!("{seconds} +0000");
        let signature = gix::actor::SignatureRef {
            name: AUTHOR_NAME.into(),
            email: AUTHOR_EMAIL.into(),
            time: &time,
        };
        let message = format!("{}\n", entry.message.trim_end());
        let id = repo
            .commit_as(signature, signature, BRANCH, &message, tree, parent)
            .map_err(git)?
            .detach();
        commits.push(DemoCommit {
            sha: id.to_string(),
            message: message.trim_end().to_string(),
        });
        parent = Some(id);
    }
    let head = parent.ok_or_else(|| DemoError::Assets("history.yaml lists no commits".into()))?;

    // The working tree and index match HEAD, so `git status` in the demo folder is clean.
    let display = path.display().to_string();
    crate::source::checkout_commit(&repo, head, &display, &path)?;
    let mut index = repo.index_from_tree(&tree).map_err(git)?;
    index
        .write(gix::index::write::Options::default())
        .map_err(|e| DemoError::Git {
            path: display.clone(),
            message: e.to_string(),
        })?;

    let mut applications = Application::load_path(&path.join("applications"))?;
    for app in &mut applications {
        app.spec.source.repo_url = display.clone();
    }
    applications.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    Ok(DemoRepo {
        path,
        commits,
        applications,
    })
}

fn load_history() -> Result<History, DemoError> {
    let text = ASSETS
        .get_file("history.yaml")
        .and_then(|f| f.contents_utf8())
        .ok_or_else(|| DemoError::Assets("history.yaml is missing".into()))?;
    yaml::from_str(text, "assets/demo/history.yaml").map_err(|e| DemoError::Assets(e.to_string()))
}

fn destination(path: &Path, e: &std::io::Error) -> DemoError {
    DemoError::Destination {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn prepare_destination(dest: &Path) -> Result<(), DemoError> {
    if dest.exists() {
        let mut entries = std::fs::read_dir(dest).map_err(|e| destination(dest, &e))?;
        if entries.next().is_some() {
            return Err(DemoError::Destination {
                path: dest.display().to_string(),
                message: "folder is not empty; the demo repository needs an empty or new folder"
                    .into(),
            });
        }
    }
    std::fs::create_dir_all(dest).map_err(|e| destination(dest, &e))
}

/// The tree of the next commit: `previous` with the commit's folder laid over it and its
/// removals applied.
fn next_tree(
    repo: &gix::Repository,
    previous: ObjectId,
    entry: &HistoryCommit,
) -> Result<ObjectId, DemoError> {
    let git = |e: gix::Error| DemoError::Git {
        path: repo.path().display().to_string(),
        message: e.to_string(),
    };
    let folder_path = format!("history/{}", entry.folder);
    let folder = ASSETS
        .get_dir(&folder_path)
        .ok_or_else(|| DemoError::Assets(format!("{folder_path} is missing")))?;
    let mut files = Vec::new();
    collect_files(folder, &mut files);
    if files.is_empty() && entry.remove.is_empty() {
        return Err(DemoError::Assets(format!("{folder_path} changes nothing")));
    }
    let previous_tree = repo.find_tree(previous).map_err(git)?;
    let mut editor = repo.edit_tree(previous).map_err(git)?;
    for file in files {
        let relative = file.path().strip_prefix(folder.path()).map_err(|_| {
            DemoError::Assets(format!(
                "{} is outside {folder_path}",
                file.path().display()
            ))
        })?;
        let relative = relative
            .to_str()
            .ok_or_else(|| DemoError::Assets(format!("{} is not UTF-8", relative.display())))?
            .replace('\\', "/");
        let blob = repo.write_blob(file.contents()).map_err(git)?;
        editor
            .upsert(relative.as_str(), EntryKind::Blob, blob)
            .map_err(git)?;
    }
    for path in &entry.remove {
        let present = previous_tree
            .lookup_entry_by_path(path)
            .map_err(git)?
            .is_some();
        if !present {
            return Err(DemoError::Assets(format!(
                "commit {} removes {path}, which the previous commit does not have",
                entry.folder
            )));
        }
        editor.remove(path.as_str()).map_err(git)?;
    }
    Ok(editor.write().map_err(git)?.detach())
}

fn collect_files<'a>(dir: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    out.extend(dir.files());
    for sub in dir.dirs() {
        collect_files(sub, out);
    }
}
