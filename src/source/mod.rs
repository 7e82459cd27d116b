//! Git sources (gix) and rendering of desired objects: directory, kustomize, helm. Imports
//! `model` and `yaml` only.
//!
//! [`Sources`] is the entry point: it resolves an Application's `targetRevision` to a
//! commit and renders the app's folder at that commit into [`Manifest`]s. Its functions
//! block (Git, files, external programs): async callers run them on `spawn_blocking`.
//! It is `Send + Sync`; one instance serves every app and thread.

mod cache;
mod checkout;
mod directory;
mod error;
mod exec;
mod git;
mod helm;
mod kustomize;
mod manifest;
#[cfg(test)]
mod props;
mod tree;
mod url;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use gix::ObjectId;

pub use cache::CacheStats;
pub use error::{MAX_MANIFEST_BYTES, SourceError};
pub use exec::{DEFAULT_TIMEOUT, Tools};
pub use manifest::{Manifest, Rendered, Tool};

/// A repository URL as shown anywhere (snapshots, messages, logs): without the user
/// name, password or token of its userinfo.
pub fn display_url(raw: &str) -> String {
    url::strip_credentials(raw.trim())
}

use crate::model::{AppSource, Application, RevisionOrigin, RevisionSource};
use tree::{CommitTree, Resolved, join, normalize_app_path};
use url::{Location, RepoUrl};

/// How many rendered apps are kept in memory.
const RENDER_CACHE_ENTRIES: usize = 256;
/// How many commits stay written out on disk for kustomize and helm.
const CHECKOUTS_KEPT: usize = 4;

/// Who made a commit, when, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full SHA.
    pub sha: String,
    /// `Name <email>` of the author.
    pub author: String,
    /// Author time, RFC 3339 in UTC.
    pub time: String,
    /// The first line of the message.
    pub summary: String,
}

/// A remote that could not be reached, so its cached clone was used instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheFallback {
    /// The repository URL, without credentials.
    pub url: String,
    /// Why it could not be reached.
    pub reason: String,
    /// When the cached clone was last brought up to date (RFC 3339), if recorded.
    pub fetched_at: Option<String>,
}

impl std::fmt::Display for CacheFallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fetched = match &self.fetched_at {
            Some(t) => format!(
                "last fetched {}",
                crate::model::age(Some(jiff::Timestamp::now()), Some(t))
            ),
            None => "time of the last fetch unknown".into(),
        };
        write!(
            f,
            "cannot reach {}: {}; using the cached clone ({fetched})",
            self.url, self.reason
        )
    }
}

/// Told when a remote falls back to its cached clone.
type FallbackSink = Arc<dyn Fn(&CacheFallback) + Send + Sync>;

/// Resolves revisions and renders apps for any number of repositories.
pub struct Sources {
    cache_dir: PathBuf,
    tools: Tools,
    git_available: bool,
    /// Never contact a remote: resolve in the cached clones only.
    offline: bool,
    on_fallback: Option<FallbackSink>,
    repos: Mutex<HashMap<String, Arc<RepoSlot>>>,
    renders: Mutex<cache::RenderCache>,
    checkouts: checkout::Checkouts,
}

/// One repository, opened at most once.
struct RepoSlot {
    url: RepoUrl,
    opened: Mutex<Option<Opened>>,
    /// Held while the remote is checked; what the last check found.
    fetch: Mutex<Check>,
}

/// The last check of a remote by this process.
#[derive(Default)]
struct Check {
    /// When it finished, so requests that queued behind a check do not repeat it.
    done: Option<Instant>,
    /// What it found; `None` until this process checked (or with `--offline`).
    origin: Option<RevisionOrigin>,
}

#[derive(Clone)]
struct Opened {
    repo: gix::ThreadSafeRepository,
    /// A clone in the cache (as opposed to a folder read in place).
    cloned: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded data stays consistent even if a holder panicked: keep going.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Sources {
    /// A source cache whose clones of remote repositories live in `cache_dir` (the
    /// `directories` cache folder `…/rekon/repos`); programs are found on `PATH`.
    pub fn new(cache_dir: PathBuf) -> Self {
        let git_available = Tools::from_env().find("git").is_some();
        Sources {
            cache_dir,
            tools: Tools::from_env(),
            git_available,
            offline: false,
            on_fallback: None,
            repos: Mutex::new(HashMap::new()),
            renders: Mutex::new(cache::RenderCache::new(RENDER_CACHE_ENTRIES)),
            checkouts: checkout::Checkouts::new(CHECKOUTS_KEPT),
        }
    }

    /// Uses `tools` to find and time-limit kustomize, kubectl and helm.
    pub fn with_tools(mut self, tools: Tools) -> Self {
        self.tools = tools;
        self
    }

    /// With `offline`, remotes are never contacted: revisions resolve in the cached clones
    /// (`revisionSource: cache`), and a repository never cloned is an error.
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Calls `sink` each time a remote cannot be reached and its cached clone is used
    /// instead (once per check: once per command, once per refresh of a session).
    pub fn on_cache_fallback(
        mut self,
        sink: impl Fn(&CacheFallback) + Send + Sync + 'static,
    ) -> Self {
        self.on_fallback = Some(Arc::new(sink));
        self
    }

    /// The folder holding clones of remote repositories.
    pub fn cache_dir(&self) -> &Path {
        &self.cache_dir
    }

    /// Render cache counters.
    pub fn render_cache_stats(&self) -> CacheStats {
        lock(&self.renders).stats()
    }

    /// Resolves `target_revision` (branch, tag, full or short SHA, `HEAD`; empty means
    /// `HEAD`) in `repo_url` to a full commit SHA. A remote repository is checked against
    /// the remote once per `Sources` (a process) before its first resolve, and again with
    /// `fetch` (a refresh): its refs are listed and objects fetched only when one moved.
    /// An unreachable remote falls back to the cached clone, if there is one (see
    /// [`Sources::origin`]); a revision unknown after an earlier check is fetched again.
    pub fn resolve(
        &self,
        repo_url: &str,
        target_revision: &str,
        fetch: bool,
    ) -> Result<String, SourceError> {
        let revision = match target_revision.trim() {
            "" => "HEAD",
            r => r,
        };
        let slot = self.slot(repo_url)?;
        let opened = self.open(&slot)?;
        let checked = opened.cloned && self.check_remote(&slot, fetch)?;
        let unknown = |detail: String| SourceError::UnknownRevision {
            revision: revision.to_string(),
            url: slot.url.display.clone(),
            detail,
        };
        match git::resolve(&opened.repo.to_thread_local(), opened.cloned, revision) {
            Ok(id) => Ok(id.to_string()),
            Err(_) if opened.cloned && !checked && !self.offline => {
                self.check_remote(&slot, true)?;
                git::resolve(&opened.repo.to_thread_local(), true, revision)
                    .map(|id| id.to_string())
                    .map_err(|detail| unknown(revision_detail(&detail)))
            }
            Err(detail) => Err(unknown(revision_detail(&detail))),
        }
    }

    /// Renders `source` at `commit` (a full SHA from [`Sources::resolve`]). `app_name` is
    /// the Helm release name when the source sets none. Helm gets no `--namespace`; use
    /// [`Sources::render_app`] to pass the Application's destination namespace.
    pub fn render(
        &self,
        source: &AppSource,
        app_name: &str,
        commit: &str,
    ) -> Result<Rendered, SourceError> {
        self.render_with(source, app_name, None, commit)
    }

    /// Renders an Application's source at `commit`, as Argo CD does: the app name is the
    /// default Helm release name and `destination.namespace` is Helm's `--namespace`.
    pub fn render_app(&self, app: &Application, commit: &str) -> Result<Rendered, SourceError> {
        self.render_with(
            &app.spec.source,
            &app.metadata.name,
            app.spec.destination.namespace.as_deref(),
            commit,
        )
    }

    /// Author, time and summary of `commit` in `repo_url`.
    pub fn commit_info(&self, repo_url: &str, commit: &str) -> Result<CommitInfo, SourceError> {
        let slot = self.slot(repo_url)?;
        let opened = self.open(&slot)?;
        let repo = opened.repo.to_thread_local();
        let id = self.commit_id(&slot, &opened, commit)?;
        let git_err = |e: gix::Error| SourceError::Git {
            url: slot.url.display.clone(),
            message: error::describe(&e),
        };
        let commit = repo.find_commit(id).map_err(git_err)?;
        let author = commit.author().map_err(git_err)?;
        let seconds = author.time().map_err(git_err)?.seconds;
        let time = jiff::Timestamp::from_second(seconds)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let summary = commit
            .message()
            .map(|m| m.summary().to_string())
            .unwrap_or_default();
        Ok(CommitInfo {
            sha: id.to_string(),
            author: format!("{} <{}>", author.name, author.email),
            time,
            summary,
        })
    }

    /// Every folder of `repo_url` at `commit` (a SHA or anything [`Sources::resolve`]
    /// takes), as `/`-separated paths relative to the root, the root left out, in tree order.
    /// Symbolic links and submodules are not followed. For ApplicationSet Git directory
    /// generators.
    pub fn directories(&self, repo_url: &str, commit: &str) -> Result<Vec<String>, SourceError> {
        const MAX_FOLDERS: usize = 20_000;
        let slot = self.slot(repo_url)?;
        let opened = self.open(&slot)?;
        let id = self.commit_id(&slot, &opened, commit)?;
        let repo = opened.repo.to_thread_local();
        let tree = CommitTree::new(&repo, id, &slot.url.display)?;
        let Some(tree::Resolved::Dir { id: root, .. }) = tree.resolve(&[])? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut pending = vec![(String::new(), root)];
        while let Some((prefix, dir)) = pending.pop() {
            let mut children = Vec::new();
            for entry in tree.entries(dir)? {
                if entry.kind == tree::Kind::Dir {
                    let path = if prefix.is_empty() {
                        entry.name.clone()
                    } else {
                        format!("{prefix}/{}", entry.name)
                    };
                    children.push((path, entry.id));
                }
            }
            for (path, id) in children.into_iter().rev() {
                if out.len() >= MAX_FOLDERS {
                    return Ok(out);
                }
                out.push(path.clone());
                pending.push((path, id));
            }
        }
        out.sort();
        Ok(out)
    }

    fn render_with(
        &self,
        source: &AppSource,
        app_name: &str,
        namespace: Option<&str>,
        commit: &str,
    ) -> Result<Rendered, SourceError> {
        let slot = self.slot(&source.repo_url)?;
        let url_display = slot.url.display.clone();
        if let Some(chart) = source.chart.as_deref().filter(|c| !c.trim().is_empty()) {
            return Err(SourceError::UnsupportedUrl {
                url: url_display,
                reason: format!(
                    "Helm chart repositories (spec.source.chart: {chart}) are not supported; point repoURL at a Git repository holding the chart"
                ),
            });
        }
        let app_path =
            normalize_app_path(source.path()).map_err(|reason| SourceError::PathEscapes {
                path: source.path().to_string(),
                url: url_display.clone(),
                reason,
            })?;
        let opened = self.open(&slot)?;
        let id = self.commit_id(&slot, &opened, commit)?;
        let key = cache_key(&url_display, id, &app_path, source, app_name, namespace);
        if let Some(mut hit) = lock(&self.renders).get(&key) {
            hit.origin = self.slot_origin(&slot);
            return Ok(hit);
        }
        let repo = opened.repo.to_thread_local();
        let tree = CommitTree::new(&repo, id, &url_display)?;
        let not_found = || SourceError::PathNotFound {
            path: source.path().to_string(),
            commit: id.to_hex_with_len(7).to_string(),
            url: url_display.clone(),
        };
        let (real_path, dir) = match tree.resolve(&app_path)? {
            Some(Resolved::Dir { path, id }) => (path, id),
            _ => return Err(not_found()),
        };
        let tool = detect_tool(&tree, dir, source, &app_path)?;
        // Kustomize and helm read files: every app of this commit shares one checkout.
        let checkout = || {
            let written = self.checkouts.get(&format!("{url_display}\n{id}"), || {
                checkout::Checkout::new(&tree)
            })?;
            written.check_app(&real_path)?;
            Ok(written)
        };
        let manifests = match tool {
            (Tool::Directory, _) => directory::render(
                &tree,
                &app_path,
                dir,
                &real_path,
                &source.directory.clone().unwrap_or_default(),
            )?,
            (Tool::Kustomize, marker) => kustomize::render(
                checkout,
                &real_path,
                &marker,
                source.kustomize.as_ref(),
                &self.tools,
            )?,
            (Tool::Helm, _) => helm::render(
                checkout,
                &real_path,
                &helm::HelmRequest {
                    options: source.helm.as_ref(),
                    app_name,
                    namespace,
                },
                &self.tools,
            )?,
        };
        manifest::check_duplicates(&manifests)?;
        let rendered = Rendered {
            manifests: manifests.into(),
            tool: tool.0,
            commit: id.to_string(),
            path: join(&app_path),
            origin: self.slot_origin(&slot),
        };
        lock(&self.renders).insert(key, rendered.clone());
        Ok(rendered)
    }

    /// The commit `commit` names: a full SHA present in the repository, or (leniently)
    /// anything [`Sources::resolve`] accepts. A cache clone missing it is fetched once.
    fn commit_id(
        &self,
        slot: &RepoSlot,
        opened: &Opened,
        commit: &str,
    ) -> Result<ObjectId, SourceError> {
        let commit = commit.trim();
        let not_found = || SourceError::CommitNotFound {
            commit: commit.to_string(),
            url: slot.url.display.clone(),
        };
        let lookup = || -> Option<ObjectId> {
            let repo = opened.repo.to_thread_local();
            match ObjectId::from_hex(commit.as_bytes()) {
                Ok(id) => repo.has_object(id).then_some(id),
                Err(_) => git::resolve(&repo, opened.cloned, commit).ok(),
            }
        };
        if let Some(id) = lookup() {
            return Ok(id);
        }
        if opened.cloned && !self.offline {
            self.check_remote(slot, true)?;
            if let Some(id) = lookup() {
                return Ok(id);
            }
        }
        Err(not_found())
    }

    fn slot(&self, repo_url: &str) -> Result<Arc<RepoSlot>, SourceError> {
        let url = RepoUrl::parse(repo_url, self.git_available)?;
        let mut repos = lock(&self.repos);
        let slot = repos.entry(url.display.clone()).or_insert_with(|| {
            Arc::new(RepoSlot {
                url,
                opened: Mutex::new(None),
                fetch: Mutex::new(Check::default()),
            })
        });
        Ok(Arc::clone(slot))
    }

    fn open(&self, slot: &RepoSlot) -> Result<Opened, SourceError> {
        let mut opened = lock(&slot.opened);
        if let Some(o) = opened.as_ref() {
            return Ok(o.clone());
        }
        let o = match &slot.url.location {
            Location::Local(path) => Opened {
                repo: git::open_local(path, &slot.url)?,
                cloned: false,
            },
            Location::Remote(_) => {
                let dir = self.cache_dir.join(slot.url.cache_folder_name());
                let repo = git::open_or_init_cache(&dir, &slot.url)?;
                Opened { repo, cloned: true }
            }
        };
        *opened = Some(o.clone());
        Ok(o)
    }

    /// Brings a cache clone up to date with its remote: once per `Sources` unless `again`,
    /// and not again when a check that started after this call finished while this call
    /// waited. Returns whether this call checked. An unreachable remote whose clone has
    /// refs falls back to them (told to the fallback sink); one never fetched is an error.
    fn check_remote(&self, slot: &RepoSlot, again: bool) -> Result<bool, SourceError> {
        let asked = Instant::now();
        let Location::Remote(remote_url) = &slot.url.location else {
            return Ok(false);
        };
        let opened = self.open(slot)?;
        let repo = opened.repo.to_thread_local();
        let mut check = lock(&slot.fetch);
        if self.offline {
            if !git::has_fetched_refs(&repo) {
                return Err(SourceError::Unreachable {
                    url: slot.url.display.clone(),
                    reason: "it was never fetched and --offline forbids fetching it (run once without --offline)".into(),
                });
            }
            return Ok(false);
        }
        if check.done.is_some_and(|done| done > asked) || (!again && check.origin.is_some()) {
            return Ok(false);
        }
        let origin = match git::fetch(&repo, remote_url, &slot.url) {
            Ok(_) => RevisionOrigin {
                revision_source: Some(RevisionSource::Remote),
                fetched_at: git::record_fetch_time(&repo),
                fetch_error: None,
            },
            Err(e) if git::has_fetched_refs(&repo) => {
                let reason = match e {
                    SourceError::Unreachable { reason, .. } => reason,
                    other => other.to_string(),
                };
                let fallback = CacheFallback {
                    url: slot.url.display.clone(),
                    reason: reason.clone(),
                    fetched_at: git::fetch_time(&repo),
                };
                tracing::debug!(%fallback, "remote unreachable");
                if let Some(sink) = &self.on_fallback {
                    sink(&fallback);
                }
                RevisionOrigin {
                    revision_source: Some(RevisionSource::Cache),
                    fetched_at: fallback.fetched_at,
                    fetch_error: Some(reason),
                }
            }
            Err(e) => return Err(e),
        };
        check.origin = Some(origin);
        check.done = Some(Instant::now());
        Ok(true)
    }

    /// Where revisions of `repo_url` resolve now: the remote (checked by this process),
    /// the cache (unreachable, or `--offline`) or a local folder; `None` for a URL that
    /// cannot be parsed or a remote not resolved yet.
    pub fn origin(&self, repo_url: &str) -> Option<RevisionOrigin> {
        let slot = self.slot(repo_url).ok()?;
        let origin = self.slot_origin(&slot);
        origin.revision_source.is_some().then_some(origin)
    }

    fn slot_origin(&self, slot: &RepoSlot) -> RevisionOrigin {
        if matches!(slot.url.location, Location::Local(_)) {
            return RevisionOrigin {
                revision_source: Some(RevisionSource::Local),
                ..Default::default()
            };
        }
        if let Some(origin) = &lock(&slot.fetch).origin {
            return origin.clone();
        }
        if !self.offline {
            return RevisionOrigin::default();
        }
        let fetched_at = lock(&slot.opened)
            .as_ref()
            .and_then(|o| git::fetch_time(&o.repo.to_thread_local()));
        RevisionOrigin {
            revision_source: Some(RevisionSource::Cache),
            fetched_at,
            fetch_error: None,
        }
    }
}

/// Writes the tree of `commit` into the existing folder `dest` (for the demo repository's
/// working tree). `url` names the repository in errors.
pub(crate) fn checkout_commit(
    repo: &gix::Repository,
    commit: ObjectId,
    url: &str,
    dest: &Path,
) -> Result<(), SourceError> {
    let left_out = CommitTree::new(repo, commit, url)?.write_to(dest)?;
    match left_out.into_iter().next() {
        Some(l) => Err(l.reason),
        None => Ok(()),
    }
}

/// Argo CD's detection: an explicitly configured source type wins (more than one is an
/// error); otherwise `Chart.yaml` means Helm, a kustomization file Kustomize, anything else
/// a plain directory. Returns the tool and the file that selected it.
fn detect_tool(
    tree: &CommitTree<'_>,
    dir: ObjectId,
    source: &AppSource,
    app_path: &[String],
) -> Result<(Tool, String), SourceError> {
    let mut explicit = Vec::new();
    if source
        .helm
        .as_ref()
        .is_some_and(|h| *h != Default::default())
    {
        explicit.push(Tool::Helm);
    }
    if source
        .kustomize
        .as_ref()
        .is_some_and(|k| *k != Default::default())
    {
        explicit.push(Tool::Kustomize);
    }
    if source
        .directory
        .as_ref()
        .is_some_and(|d| *d != Default::default())
    {
        explicit.push(Tool::Directory);
    }
    let names: Vec<String> = tree
        .entries(dir)?
        .into_iter()
        .filter(|e| !matches!(e.kind, tree::Kind::Dir | tree::Kind::Submodule))
        .map(|e| e.name)
        .collect();
    let has = |n: &str| names.iter().any(|name| name == n);
    let kustomize_marker = kustomize::MARKERS
        .iter()
        .find(|m| has(m))
        .map(|m| m.to_string());
    match explicit.as_slice() {
        [] => {}
        [Tool::Helm] => return Ok((Tool::Helm, helm::MARKER.into())),
        [Tool::Kustomize] => {
            return Ok((
                Tool::Kustomize,
                kustomize_marker.unwrap_or_else(|| "spec.source.kustomize".into()),
            ));
        }
        [Tool::Directory] => return Ok((Tool::Directory, String::new())),
        several => {
            let names: Vec<&str> = several.iter().map(|t| t.as_str()).collect();
            return Err(SourceError::BadOptions {
                path: join(app_path),
                message: format!(
                    "more than one source type is configured ({}); set only one",
                    names.join(", ")
                ),
            });
        }
    }
    if has(helm::MARKER) {
        return Ok((Tool::Helm, helm::MARKER.into()));
    }
    if let Some(marker) = kustomize_marker {
        return Ok((Tool::Kustomize, marker));
    }
    Ok((Tool::Directory, String::new()))
}

fn cache_key(
    url: &str,
    commit: ObjectId,
    app_path: &[String],
    source: &AppSource,
    app_name: &str,
    namespace: Option<&str>,
) -> String {
    let options = serde_json::json!([source.directory, source.kustomize, source.helm]);
    format!(
        "{url}\n{commit}\n{}\n{options}\n{app_name}\n{}",
        join(app_path),
        namespace.unwrap_or("")
    )
}

/// What to add to "unknown revision": gix's "could not be found" adds nothing, but an
/// ambiguous short SHA or a tag pointing at a tree is worth saying.
fn revision_detail(detail: &str) -> String {
    let line = detail.lines().next().unwrap_or("").trim();
    if line.contains("could not be found") || line.contains("NotFound") {
        return String::new();
    }
    let start = line
        .find("input=")
        .and_then(|i| line[i..].find(": ").map(|j| i + j + 2));
    let line = start.map_or(line, |s| &line[s..]);
    let mut end = line.len().min(300);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    line[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Sources>();
    }
}
