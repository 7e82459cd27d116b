//! Opening, cloning and fetching repositories with gix, and resolving revisions to commits.
//!
//! Remote repositories (https, loopback http, ssh, scp-style, `file://`) are cloned once, bare, into the
//! cache folder and fetched on refresh. Their branches live under `refs/remotes/origin/`,
//! tags under `refs/tags/`, and the remote's HEAD under `refs/remotes/origin/HEAD`; refs the
//! remote no longer has are pruned, so a deleted branch stops resolving.
//!
//! Local folders are read in place: copying a repository that is already on this disk
//! would only cost time and space, and reading it directly means a new local commit is
//! seen at the next resolve without any fetch.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::refs::transaction::{Change, PreviousValue, RefEdit, RefLog};
use gix::remote::Direction;
use gix::sec::trust::DefaultForLevel;

use super::error::{SourceError, describe};
use super::url::RepoUrl;

/// Where fetched branches go.
pub(crate) const REMOTE_PREFIX: &str = "refs/remotes/origin/";
/// The remote's default branch after a fetch.
const REMOTE_HEAD: &str = "refs/remotes/origin/HEAD";

/// The longest a fetch may run before it is interrupted.
const FETCH_TIMEOUT: Duration = Duration::from_secs(300);

/// Refspecs of every fetch: all branches, all tags, and the remote's HEAD.
const FETCH_REFSPECS: [&str; 3] = [
    "+refs/heads/*:refs/remotes/origin/*",
    "+refs/tags/*:refs/tags/*",
    "+HEAD:refs/remotes/origin/HEAD",
];

fn open_options() -> gix::open::Options {
    // Full trust in our own cache and the user's repositories, with the global and system
    // Git configuration: that is where credential helpers and proxy settings live.
    let mut opts = gix::open::Options::default_for_level(gix::sec::Trust::Full);
    opts.permissions.config.git_binary = true;
    opts
}

/// Opens a repository that lives on this disk (a working tree or a bare repository).
pub(crate) fn open_local(
    path: &Path,
    url: &RepoUrl,
) -> Result<gix::ThreadSafeRepository, SourceError> {
    if !path.exists() {
        return Err(SourceError::Unreachable {
            url: url.display.clone(),
            reason: "no such folder".into(),
        });
    }
    gix::ThreadSafeRepository::open_opts(path, open_options()).map_err(|e| {
        SourceError::Unreachable {
            url: url.display.clone(),
            reason: format!("not a Git repository ({})", describe(&e)),
        }
    })
}

/// Opens the cache clone in `dir`, creating an empty bare repository when there is none
/// (see [`has_fetched_refs`] for whether it still needs its first fetch).
pub(crate) fn open_or_init_cache(
    dir: &Path,
    url: &RepoUrl,
) -> Result<gix::ThreadSafeRepository, SourceError> {
    if dir.join("HEAD").is_file()
        && let Ok(repo) = gix::ThreadSafeRepository::open_opts(dir, open_options())
    {
        return Ok(repo);
    }
    if dir.exists() {
        // A half-created folder from an interrupted first clone: start again.
        std::fs::remove_dir_all(dir).map_err(|e| SourceError::io(dir, &e))?;
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| SourceError::io(parent, &e))?;
    }
    let repo = gix::ThreadSafeRepository::init_opts(
        dir,
        gix::create::Kind::Bare,
        gix::create::Options::default(),
        open_options(),
    )
    .map_err(|e| SourceError::Git {
        url: url.display.clone(),
        message: format!(
            "cannot create the cache clone in {}: {}",
            dir.display(),
            describe(&e)
        ),
    })?;
    Ok(repo)
}

/// Whether the cache clone has anything fetched yet.
pub(crate) fn has_fetched_refs(repo: &gix::Repository) -> bool {
    repo.try_find_reference(REMOTE_HEAD)
        .ok()
        .flatten()
        .is_some()
        || repo
            .references()
            .ok()
            .and_then(|p| {
                p.prefixed(REMOTE_PREFIX)
                    .ok()
                    .map(|mut i| i.next().is_some())
            })
            .unwrap_or(false)
}

/// The file in a cache clone holding when it was last brought up to date with its remote,
/// so a new process can say how old the cache is when the remote cannot be reached.
const FETCHED_AT_FILE: &str = "rekon-fetched-at";

/// Records now as the time `repo` (a cache clone) was last brought up to date, and
/// returns it (RFC 3339). A failure to write only loses the age shown later.
pub(crate) fn record_fetch_time(repo: &gix::Repository) -> Option<String> {
    let now = jiff::Timestamp::now().to_string();
    let path = repo.git_dir().join(FETCHED_AT_FILE);
    if let Err(e) = std::fs::write(&path, &now) {
        tracing::debug!(path = %path.display(), error = %e, "cannot record the fetch time");
    }
    Some(now)
}

/// When `repo` (a cache clone) was last brought up to date (RFC 3339), if recorded.
pub(crate) fn fetch_time(repo: &gix::Repository) -> Option<String> {
    let text = std::fs::read_to_string(repo.git_dir().join(FETCHED_AT_FILE)).ok()?;
    let t: jiff::Timestamp = text.trim().parse().ok()?;
    Some(t.to_string())
}

/// Fetches every branch and tag of `remote_url` into the cache clone, then prunes refs the
/// remote no longer has. Credential helpers are asked, but the user is never prompted
/// (a prompt would hang a TUI or a headless run). The remote's refs are listed first and
/// gix's negotiation asks for no pack when the clone already has every advertised tip, so
/// a check of an unchanged remote costs one ref advertisement (measured: no pack written,
/// see the tests). Returns whether a pack was received.
pub(crate) fn fetch(
    repo: &gix::Repository,
    remote_url: &str,
    url: &RepoUrl,
) -> Result<bool, SourceError> {
    let repo = &non_interactive_ssh(repo.clone());
    let unreachable = |e: &gix::Error| SourceError::Unreachable {
        url: url.display.clone(),
        reason: describe(e),
    };
    let remote = repo
        .remote_at(remote_url)
        .map_err(|e| SourceError::UnsupportedUrl {
            url: url.display.clone(),
            reason: describe(&e),
        })?
        .with_refspecs(FETCH_REFSPECS, Direction::Fetch)
        .map_err(|e| unreachable(&e))?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let gix_url =
        remote
            .url(Direction::Fetch)
            .cloned()
            .ok_or_else(|| SourceError::UnsupportedUrl {
                url: url.display.clone(),
                reason: "no URL to fetch from".into(),
            })?;
    let (mut cascade, _, mut prompt) = repo
        .config_snapshot()
        .credential_helpers(gix_url)
        .map_err(|e| unreachable(&e))?;
    prompt.mode = gix::prompt::Mode::Disable;
    prompt.askpass = None;
    let mut connection = remote
        .connect(Direction::Fetch)
        .map_err(|e| unreachable(&e))?;
    connection.set_credentials(move |action| cascade.invoke(action, prompt.clone()));
    // gix's HTTP client has a connect timeout but no stall timeout: a watchdog interrupts a
    // fetch that runs too long, so one stuck server cannot hold the repository forever.
    let interrupt = Arc::new(AtomicBool::new(false));
    let (done, finished) = mpsc::channel::<()>();
    let flag = Arc::clone(&interrupt);
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(FETCH_TIMEOUT) == Err(mpsc::RecvTimeoutError::Timeout) {
            flag.store(true, Ordering::Relaxed);
        }
    });
    let result = connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .and_then(|prepared| prepared.receive(gix::progress::Discard, &interrupt));
    drop(done);
    let _ = watchdog.join();
    let outcome = result.map_err(|e| {
        if interrupt.load(Ordering::Relaxed) {
            SourceError::Unreachable {
                url: url.display.clone(),
                reason: format!("fetch gave up after {} s", FETCH_TIMEOUT.as_secs()),
            }
        } else {
            unreachable(&e)
        }
    })?;
    let received = matches!(outcome.status, gix::remote::fetch::Status::Change { .. });
    let kept: HashSet<BString> = outcome
        .ref_map
        .mappings
        .iter()
        .filter_map(|m| m.local.clone())
        .collect();
    prune(repo, &kept).map_err(|e| SourceError::Git {
        url: url.display.clone(),
        message: format!("cannot prune refs the remote deleted: {}", describe(&e)),
    })?;
    Ok(received)
}

/// Makes OpenSSH fail instead of asking for a passphrase, password or host key on the
/// terminal (which would hang a TUI), unless the user configured an ssh command.
fn non_interactive_ssh(mut repo: gix::Repository) -> gix::Repository {
    let configured = {
        let config = repo.config_snapshot();
        config.string("core.sshCommand").is_some()
            || config
                .string("gitoxide.ssh.commandWithoutShellFallback")
                .is_some()
    };
    if !configured {
        let mut config = repo.config_snapshot_mut();
        let set = config
            .set_value(
                &gix::config::tree::Core::SSH_COMMAND,
                "ssh -o BatchMode=yes",
            )
            .and_then(|_| config.set_value(&gix::config::tree::Ssh::VARIANT, "ssh"));
        if let Err(e) = set {
            tracing::debug!(error = %e, "could not make ssh non-interactive");
        }
    }
    repo
}

/// Deletes remote-tracking branches and tags that the last fetch did not bring.
fn prune(repo: &gix::Repository, kept: &HashSet<BString>) -> Result<(), gix::Error> {
    let mut edits = Vec::new();
    let platform = repo.references()?;
    for prefix in [REMOTE_PREFIX, "refs/tags/"] {
        for reference in platform.prefixed(prefix)? {
            let reference = reference.map_err(gix::Error::from_error)?;
            let name = reference.name().as_bstr().to_owned();
            if !kept.contains(&name) {
                edits.push(RefEdit {
                    change: Change::Delete {
                        expected: PreviousValue::Any,
                        log: RefLog::AndReference,
                    },
                    name: reference.name().to_owned(),
                    deref: false,
                });
            }
        }
    }
    if !edits.is_empty() {
        repo.edit_references(edits)?;
    }
    Ok(())
}

/// Resolves `revision` to a commit. In a cache clone, branch names mean the remote-tracking
/// branches and `HEAD` the remote's default branch; everything else (tags, full and short
/// SHAs, local branch names) goes through Git's own revision syntax.
pub(crate) fn resolve(
    repo: &gix::Repository,
    cloned: bool,
    revision: &str,
) -> Result<ObjectId, String> {
    let revision = revision.trim();
    if revision.is_empty() {
        return Err("empty revision".into());
    }
    let mut candidates: Vec<String> = Vec::new();
    if cloned {
        if revision == "HEAD" {
            candidates.push(REMOTE_HEAD.into());
        } else if let Some(branch) = revision.strip_prefix("refs/heads/") {
            candidates.push(format!("{REMOTE_PREFIX}{branch}"));
        } else if !revision.starts_with("refs/") {
            // Git's order: a tag wins over a branch of the same name.
            candidates.push(format!("refs/tags/{revision}"));
            candidates.push(format!("{REMOTE_PREFIX}{revision}"));
        }
    }
    for name in &candidates {
        if let Ok(Some(mut reference)) = repo.try_find_reference(name.as_str()) {
            let id = reference.peel_to_id().map_err(|e| describe(&e))?;
            return peel_to_commit(repo, id.detach());
        }
    }
    let id = repo
        .rev_parse_single(revision.as_bytes().as_bstr())
        .map_err(|e| describe(&e))?;
    peel_to_commit(repo, id.detach())
}

fn peel_to_commit(repo: &gix::Repository, id: ObjectId) -> Result<ObjectId, String> {
    let object = repo.find_object(id).map_err(|e| describe(&e))?;
    let kind = object.kind;
    object
        .peel_to_commit()
        .map(|c| c.id)
        .map_err(|_| format!("{id} is a {kind}, not a commit"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_is_made_non_interactive_in_memory_only() {
        let dir = tempfile::TempDir::new().unwrap();
        let repo = gix::ThreadSafeRepository::init_opts(
            dir.path(),
            gix::create::Kind::Bare,
            gix::create::Options::default(),
            gix::open::Options::isolated(),
        )
        .unwrap()
        .to_thread_local();
        let repo = non_interactive_ssh(repo);
        let command = repo.config_snapshot().string("core.sshCommand");
        assert_eq!(
            command.map(|c| c.to_string()).as_deref(),
            Some("ssh -o BatchMode=yes")
        );
        let on_disk = std::fs::read_to_string(dir.path().join("config")).unwrap();
        assert!(!on_disk.contains("sshCommand"), "{on_disk}");
    }
}
