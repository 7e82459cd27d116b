//! A commit's tree read straight from the object database: listing folders, resolving paths
//! (following symbolic links inside the repository only), reading files, and writing the
//! tree out for the programs that need real files (kustomize, helm).

use std::collections::VecDeque;
use std::path::Path;

use gix::ObjectId;
use gix::objs::tree::EntryKind;

use super::error::{MAX_MANIFEST_BYTES, SourceError, describe};

/// How many symbolic links one lookup may follow before it counts as a loop (Linux's limit).
const MAX_LINK_HOPS: usize = 40;

/// What a tree entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A folder.
    Dir,
    /// A regular file.
    File {
        /// The executable bit is set.
        executable: bool,
    },
    /// A symbolic link; the blob holds its target.
    Link,
    /// A submodule commit (its content is not in this repository).
    Submodule,
}

/// One entry of a folder.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// File name within its folder.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Object id (tree, blob or commit).
    pub id: ObjectId,
}

/// A path looked up in the tree, after following links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// A folder, with its real (link-free) path.
    Dir {
        /// Components of the real path.
        path: Vec<String>,
        /// The tree id.
        id: ObjectId,
    },
    /// A file, with its real (link-free) path.
    File {
        /// Components of the real path.
        path: Vec<String>,
        /// The blob id.
        id: ObjectId,
    },
}

/// The tree of one commit.
pub(crate) struct CommitTree<'r> {
    repo: &'r gix::Repository,
    root: ObjectId,
    url: &'r str,
}

/// Joins path components with `/` (the root is `.`).
pub(crate) fn join(components: &[String]) -> String {
    if components.is_empty() {
        ".".to_string()
    } else {
        components.join("/")
    }
}

/// Lexically normalizes an Application `path`: refuses absolute paths and `..` that climbs
/// above the repository root; returns the components.
pub(crate) fn normalize_app_path(path: &str) -> Result<Vec<String>, String> {
    let trimmed = path.trim();
    if trimmed.starts_with('/') || trimmed.starts_with('\\') || has_drive_prefix(trimmed) {
        return Err("absolute paths are not allowed".into());
    }
    let mut out: Vec<String> = Vec::new();
    for component in trimmed.split(['/', '\\']) {
        match component {
            "" | "." => {}
            ".." => {
                if out.pop().is_none() {
                    return Err("'..' climbs above the repository root".into());
                }
            }
            c => out.push(c.to_string()),
        }
    }
    Ok(out)
}

fn has_drive_prefix(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

impl<'r> CommitTree<'r> {
    /// The tree of `commit` in `repo`; `url` names the repository in errors.
    pub fn new(
        repo: &'r gix::Repository,
        commit: ObjectId,
        url: &'r str,
    ) -> Result<Self, SourceError> {
        let not_found = || SourceError::CommitNotFound {
            commit: commit.to_string(),
            url: url.to_string(),
        };
        let object = repo.try_find_object(commit).map_err(|e| SourceError::Git {
            url: url.to_string(),
            message: describe(&e),
        })?;
        let object = object.ok_or_else(not_found)?;
        let commit = object.try_into_commit().map_err(|_| not_found())?;
        let root = commit.tree_id().map_err(|e| SourceError::Git {
            url: url.to_string(),
            message: describe(&e),
        })?;
        Ok(CommitTree {
            repo,
            root: root.detach(),
            url,
        })
    }

    fn git_error(&self, e: &gix::Error) -> SourceError {
        SourceError::Git {
            url: self.url.to_string(),
            message: describe(e),
        }
    }

    /// The entries of folder `tree`, in Git's order.
    pub fn entries(&self, tree: ObjectId) -> Result<Vec<Entry>, SourceError> {
        let tree = self.repo.find_tree(tree).map_err(|e| self.git_error(&e))?;
        let decoded = tree.decode().map_err(|e| self.git_error(&e))?;
        Ok(decoded
            .entries
            .iter()
            .map(|e| Entry {
                name: String::from_utf8_lossy(e.filename).into_owned(),
                kind: match EntryKind::from(e.mode) {
                    EntryKind::Tree => Kind::Dir,
                    EntryKind::Blob => Kind::File { executable: false },
                    EntryKind::BlobExecutable => Kind::File { executable: true },
                    EntryKind::Link => Kind::Link,
                    EntryKind::Commit => Kind::Submodule,
                },
                id: e.oid.to_owned(),
            })
            .collect())
    }

    /// The size of blob `id` without reading it.
    pub fn blob_size(&self, id: ObjectId) -> Result<u64, SourceError> {
        Ok(self
            .repo
            .find_header(id)
            .map_err(|e| self.git_error(&e))?
            .size())
    }

    /// The content of blob `id`.
    pub fn blob(&self, id: ObjectId) -> Result<Vec<u8>, SourceError> {
        let mut blob = self.repo.find_blob(id).map_err(|e| self.git_error(&e))?;
        Ok(blob.take_data())
    }

    /// Reads a manifest file, refusing files over the size limit and binary files.
    pub fn read_text(&self, id: ObjectId, display_path: &str) -> Result<String, SourceError> {
        let size = self.blob_size(id)?;
        if size > MAX_MANIFEST_BYTES {
            return Err(SourceError::FileTooLarge {
                file: display_path.to_string(),
                size,
            });
        }
        let data = self.blob(id)?;
        if data.contains(&0) {
            return Err(SourceError::NotText {
                file: display_path.to_string(),
                reason: "binary file (contains NUL bytes)".into(),
            });
        }
        String::from_utf8(data).map_err(|_| SourceError::NotText {
            file: display_path.to_string(),
            reason: "not UTF-8 text".into(),
        })
    }

    /// Looks up `path` (components from the root), following symbolic links the way the
    /// kernel would, but never outside the repository. `Ok(None)` when nothing is there
    /// (including a dangling link or a path through a file).
    pub fn resolve(&self, path: &[String]) -> Result<Option<Resolved>, SourceError> {
        let mut pending: VecDeque<String> = path.iter().cloned().collect();
        // The folders walked into so far, each with its tree id.
        let mut stack: Vec<(String, ObjectId)> = Vec::new();
        let mut hops = 0;
        let mut last_link: Option<String> = None;
        let current_path = |stack: &[(String, ObjectId)]| -> Vec<String> {
            stack.iter().map(|(n, _)| n.clone()).collect()
        };
        while let Some(component) = pending.pop_front() {
            match component.as_str() {
                "" | "." => continue,
                ".." => {
                    if stack.pop().is_none() {
                        return Err(self.escape_error(last_link.as_deref(), path));
                    }
                    continue;
                }
                _ => {}
            }
            let dir = stack.last().map_or(self.root, |(_, id)| *id);
            let Some(entry) = self.entries(dir)?.into_iter().find(|e| e.name == component) else {
                return Ok(None);
            };
            match entry.kind {
                Kind::Dir => stack.push((entry.name, entry.id)),
                Kind::File { .. } => {
                    if pending.iter().any(|c| !c.is_empty() && c != ".") {
                        return Ok(None);
                    }
                    let mut file_path = current_path(&stack);
                    file_path.push(entry.name);
                    return Ok(Some(Resolved::File {
                        path: file_path,
                        id: entry.id,
                    }));
                }
                Kind::Link => {
                    let mut link_path = current_path(&stack);
                    link_path.push(entry.name.clone());
                    let link_display = join(&link_path);
                    hops += 1;
                    if hops > MAX_LINK_HOPS {
                        return Err(SourceError::Symlink {
                            link: link_display,
                            reason: format!(
                                "symbolic link loop (more than {MAX_LINK_HOPS} links followed)"
                            ),
                        });
                    }
                    let target = String::from_utf8_lossy(&self.blob(entry.id)?).into_owned();
                    if target.starts_with('/') || has_drive_prefix(&target) {
                        return Err(SourceError::Symlink {
                            link: link_display,
                            reason: format!(
                                "symbolic link points outside the repository (absolute target {target}); refused"
                            ),
                        });
                    }
                    for c in target.split('/').rev() {
                        pending.push_front(c.to_string());
                    }
                    last_link = Some(link_display);
                }
                Kind::Submodule => return Ok(None),
            }
        }
        Ok(Some(Resolved::Dir {
            path: current_path(&stack),
            id: stack.last().map_or(self.root, |(_, id)| *id),
        }))
    }

    fn escape_error(&self, link: Option<&str>, path: &[String]) -> SourceError {
        match link {
            Some(link) => SourceError::Symlink {
                link: link.to_string(),
                reason: "symbolic link points outside the repository; refused".into(),
            },
            None => SourceError::PathEscapes {
                path: join(path),
                url: self.url.to_string(),
                reason: "'..' climbs above the repository root".into(),
            },
        }
    }

    /// Writes the whole tree under `dest` (which must exist), for programs that read files.
    /// What cannot be written safely is left out and returned with the reason: links that
    /// loop or leave the repository, files over the manifest size limit, unsafe names.
    /// Callers refuse an app whose folder holds one of them.
    pub fn write_to(&self, dest: &Path) -> Result<Vec<LeftOut>, SourceError> {
        let mut prefix = Vec::new();
        let mut left_out = Vec::new();
        self.write_dir(self.root, dest, &mut prefix, &mut left_out)?;
        Ok(left_out)
    }

    fn write_dir(
        &self,
        tree: ObjectId,
        dest: &Path,
        prefix: &mut Vec<String>,
        left_out: &mut Vec<LeftOut>,
    ) -> Result<(), SourceError> {
        for entry in self.entries(tree)? {
            prefix.push(entry.name.clone());
            let repo_path = join(prefix);
            let mut leave_out = |reason: SourceError| {
                tracing::debug!(path = %repo_path, error = %reason, "left out of the render checkout");
                left_out.push(LeftOut {
                    path: prefix.clone(),
                    reason,
                });
            };
            if !is_safe_file_name(&entry.name) {
                leave_out(SourceError::Git {
                    url: self.url.to_string(),
                    message: format!("{repo_path}: unsafe file name in the repository; refused"),
                });
                prefix.pop();
                continue;
            }
            let target = dest.join(&entry.name);
            match entry.kind {
                Kind::Dir => {
                    std::fs::create_dir(&target).map_err(|e| SourceError::io(&target, &e))?;
                    self.write_dir(entry.id, &target, prefix, left_out)?;
                }
                Kind::File { executable } => {
                    let size = self.blob_size(entry.id)?;
                    if size > MAX_MANIFEST_BYTES {
                        leave_out(SourceError::FileTooLarge {
                            file: repo_path.clone(),
                            size,
                        });
                    } else {
                        let data = self.blob(entry.id)?;
                        std::fs::write(&target, data).map_err(|e| SourceError::io(&target, &e))?;
                        set_executable(&target, executable)?;
                    }
                }
                Kind::Link => match self.resolve(prefix) {
                    Ok(_) => {
                        let link_target =
                            String::from_utf8_lossy(&self.blob(entry.id)?).into_owned();
                        write_link(&link_target, &target)?;
                    }
                    Err(e) => leave_out(e),
                },
                Kind::Submodule => {}
            }
            prefix.pop();
        }
        Ok(())
    }
}

/// Something [`CommitTree::write_to`] did not write, and why.
#[derive(Debug, Clone)]
pub(crate) struct LeftOut {
    /// Components of its repository path.
    pub path: Vec<String>,
    /// Why it was left out, as the error an app using it gets.
    pub reason: SourceError,
}

/// A name that is safe to create inside a folder: not empty, `.`, `..` or `.git`, and free
/// of separators. Git refuses such names; a crafted repository might not.
fn is_safe_file_name(name: &str) -> bool {
    !(name.is_empty()
        || name == "."
        || name == ".."
        || name.eq_ignore_ascii_case(".git")
        || name.contains(['/', '\\', '\0']))
}

#[cfg(unix)]
fn set_executable(path: &Path, executable: bool) -> Result<(), SourceError> {
    use std::os::unix::fs::PermissionsExt;
    if executable {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| SourceError::io(path, &e))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_executable(_path: &Path, _executable: bool) -> Result<(), SourceError> {
    Ok(())
}

#[cfg(unix)]
fn write_link(link_target: &str, at: &Path) -> Result<(), SourceError> {
    std::os::unix::fs::symlink(link_target, at).map_err(|e| SourceError::io(at, &e))
}

#[cfg(not(unix))]
fn write_link(_link_target: &str, at: &Path) -> Result<(), SourceError> {
    // Symbolic links need privileges on Windows; the link is left out.
    tracing::warn!(link = %at.display(), "symbolic link left out of the render checkout");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_app_paths() {
        assert_eq!(normalize_app_path("apps/./web/").unwrap(), ["apps", "web"]);
        assert_eq!(
            normalize_app_path("apps/x/../web").unwrap(),
            ["apps", "web"]
        );
        assert!(normalize_app_path(".").unwrap().is_empty());
        assert!(normalize_app_path("../other").is_err());
        assert!(normalize_app_path("apps/../../x").is_err());
        assert!(normalize_app_path("/etc").is_err());
        assert!(normalize_app_path("C:/x").is_err());
    }

    #[test]
    fn refuses_unsafe_names() {
        assert!(is_safe_file_name("deploy.yaml"));
        assert!(!is_safe_file_name(".."));
        assert!(!is_safe_file_name(".GIT"));
        assert!(!is_safe_file_name("a/b"));
    }
}
