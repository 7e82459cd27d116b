//! Why a source could not be resolved or rendered. Every message names the URL, file (and
//! line), revision or tool at fault, and never carries credentials.

use thiserror::Error;

use crate::yaml::YamlError;

/// Largest file rekon reads as a manifest; bigger ones are refused.
pub const MAX_MANIFEST_BYTES: u64 = 10 * 1024 * 1024;

/// A failure to resolve or render a source.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum SourceError {
    /// The repoURL has a scheme rekon does not speak, or is empty.
    #[error("unsupported repository URL {url}: {reason}")]
    UnsupportedUrl {
        /// The URL, without credentials.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The repository could not be opened, cloned or fetched.
    #[error("cannot reach repository {url}: {reason}")]
    Unreachable {
        /// The URL, without credentials.
        url: String,
        /// The underlying cause.
        reason: String,
    },
    /// The revision names no commit in the repository.
    #[error("unknown revision '{revision}' in {url}{}", detail_suffix(.detail))]
    UnknownRevision {
        /// The branch, tag or SHA asked for.
        revision: String,
        /// The URL, without credentials.
        url: String,
        /// Extra information (e.g. an ambiguous short SHA), possibly empty.
        detail: String,
    },
    /// A commit given to `render` is not in the repository.
    #[error("commit {commit} is not in {url} (resolve it first)")]
    CommitNotFound {
        /// The SHA asked for.
        commit: String,
        /// The URL, without credentials.
        url: String,
    },
    /// The Application's `path` leaves the repository or is absolute.
    #[error("path '{path}' escapes the repository {url}: {reason}")]
    PathEscapes {
        /// The path as given.
        path: String,
        /// The URL, without credentials.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// The Application's `path` does not exist (or is not a folder) in the commit.
    #[error("path '{path}' not found in commit {commit} of {url}")]
    PathNotFound {
        /// The path as given.
        path: String,
        /// Short SHA of the commit.
        commit: String,
        /// The URL, without credentials.
        url: String,
    },
    /// A symbolic link that loops, dangles or points outside the repository.
    #[error("{link}: {reason}")]
    Symlink {
        /// Repository path of the link.
        link: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A manifest file is larger than [`MAX_MANIFEST_BYTES`]; refused rather than skipped, so
    /// the app never silently loses objects.
    #[error("{file}: file is {size} bytes, more than the 10 MB limit for a manifest; refused")]
    FileTooLarge {
        /// Repository path of the file.
        file: String,
        /// Its size in bytes.
        size: u64,
    },
    /// A manifest file holds binary data (a NUL byte) or is not UTF-8; refused.
    #[error("{file}: {reason}; refused")]
    NotText {
        /// Repository path of the file.
        file: String,
        /// `binary file (contains NUL bytes)` or `not UTF-8 text`.
        reason: String,
    },
    /// YAML or JSON that does not parse.
    #[error("{0}")]
    Syntax(#[from] YamlError),
    /// A document that is not a usable Kubernetes object.
    #[error("{origin}: {message}")]
    InvalidObject {
        /// `path/in/repo.yaml:LINE` of the document.
        origin: String,
        /// What is missing or wrong.
        message: String,
    },
    /// Two documents describe the same object.
    #[error("duplicate object {key}: defined in {first} and in {second}")]
    Duplicate {
        /// `group/Kind:namespace/name`.
        key: String,
        /// Origin of the first definition.
        first: String,
        /// Origin of the second definition.
        second: String,
    },
    /// Application options that cannot be applied (e.g. a malformed kustomize image).
    #[error("{path}: {message}")]
    BadOptions {
        /// The Application's path in the repository.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A rendering program (kustomize, kubectl, helm) is not installed.
    #[error("{tool} is not installed: needed to render {path} ({marker})")]
    ToolMissing {
        /// What to install, e.g. `helm` or `kustomize (or kubectl)`.
        tool: String,
        /// The Application's path in the repository.
        path: String,
        /// The file that selected the tool, e.g. `Chart.yaml`.
        marker: String,
    },
    /// A rendering program failed.
    #[error("{tool} failed to render {path}: {stderr}")]
    ToolFailed {
        /// The program, e.g. `kubectl kustomize`.
        tool: String,
        /// The Application's path in the repository.
        path: String,
        /// What the program printed on stderr (trimmed).
        stderr: String,
    },
    /// A rendering program ran past its time limit and was killed.
    #[error("{tool} did not finish rendering {path} within {seconds} s and was stopped")]
    ToolTimeout {
        /// The program.
        tool: String,
        /// The Application's path in the repository.
        path: String,
        /// The limit.
        seconds: u64,
    },
    /// The object database is damaged or unreadable.
    #[error("git error in {url}: {message}")]
    Git {
        /// The URL, without credentials.
        url: String,
        /// The underlying cause.
        message: String,
    },
    /// A local file operation failed (cache folder, temporary checkout).
    #[error("{path}: {message}")]
    Io {
        /// The file or folder at fault.
        path: String,
        /// The OS error.
        message: String,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl SourceError {
    /// Builds an [`SourceError::Io`] from an OS error.
    pub(crate) fn io(path: impl AsRef<std::path::Path>, err: &std::io::Error) -> Self {
        SourceError::Io {
            path: path.as_ref().display().to_string(),
            message: err.to_string(),
        }
    }
}

/// Joins an error and its causes into one line (`outer: inner: root`), skipping causes whose
/// text the outer message already contains, with any URL credentials removed.
pub(crate) fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    strip_credentials_in_text(&out)
}

/// Removes `user:secret@` after every `scheme://` in free text (error messages from gix or
/// from kustomize may quote URLs).
pub(crate) fn strip_credentials_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(idx) = rest.find("://") {
        let (head, tail) = rest.split_at(idx + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_credentials_from_text() {
        let text = "failed to fetch https://x-access-token:ghp_secret@github.com/a/b.git: 401";
        let clean = strip_credentials_in_text(text);
        assert_eq!(
            clean, "failed to fetch https://github.com/a/b.git: 401",
            "{clean}"
        );
    }
}
