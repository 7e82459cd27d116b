//! Classifying a `repoURL`: where the repository lives, how rekon reaches it, how it is
//! shown in messages (never with credentials) and which cache folder holds its clone.

use std::path::PathBuf;

use super::error::SourceError;

/// Where a repository lives and how rekon reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A folder on this machine, read in place.
    Local(PathBuf),
    /// Anything reached through a Git transport (`https`, `http`, `ssh`, scp-style, `file://`),
    /// cloned into the cache. Holds the URL exactly as given (credentials included).
    Remote(String),
}

/// A parsed `repoURL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepoUrl {
    /// How to reach it.
    pub location: Location,
    /// The URL for messages and keys: credentials removed, trailing `/` trimmed.
    pub display: String,
}

/// Schemes reached through a Git transport (plain `http` only to this machine: see
/// [`is_loopback_http`]).
const REMOTE_SCHEMES: [&str; 4] = ["https", "http", "ssh", "file"];

/// Whether an `http://` URL's host is this machine (`localhost`, `127.0.0.1`, `[::1]`). Flux
/// reads plain HTTP Git servers, and a Flux app's diff must read what Flux reads; but rekon's
/// credential helpers would hand a token to any host in clear, so only a loopback server is
/// read: nothing crosses the network.
fn is_loopback_http(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    matches!(
        host.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1"
    )
}

impl RepoUrl {
    /// Classifies `raw`; refuses empty URLs, schemes other than https, http, ssh and file, and
    /// `http://` to another machine.
    /// `git_available` says whether `git-upload-pack` exists: gix's `file://` transport
    /// runs it, so without it a `file://` URL is read in place like a plain folder.
    pub fn parse(raw: &str, git_available: bool) -> Result<Self, SourceError> {
        let trimmed = raw.trim();
        let display = strip_credentials(trimmed).trim_end_matches('/').to_string();
        let display = if display.is_empty() {
            trimmed.to_string()
        } else {
            display
        };
        if trimmed.is_empty() {
            return Err(SourceError::UnsupportedUrl {
                url: "''".into(),
                reason: "the repository URL is empty".into(),
            });
        }
        if let Some((scheme, rest)) = trimmed.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            if !REMOTE_SCHEMES.contains(&scheme.as_str()) {
                return Err(SourceError::UnsupportedUrl {
                    url: display,
                    reason: format!(
                        "scheme '{scheme}' is not supported (use https://, ssh://, git@host:path, file:// or a local folder)"
                    ),
                });
            }
            if scheme == "http" && !is_loopback_http(rest) {
                return Err(SourceError::UnsupportedUrl {
                    url: display,
                    reason: "plain http:// is read only from this machine (localhost): credentials would cross the network in clear (use https://)".into(),
                });
            }
            if scheme == "file" && !git_available {
                // Without git-upload-pack the clone cannot run; the folder is still readable.
                let path = percent_decode(rest.strip_prefix("localhost").unwrap_or(rest));
                return Ok(RepoUrl {
                    location: Location::Local(PathBuf::from(path)),
                    display,
                });
            }
            return Ok(RepoUrl {
                location: Location::Remote(trimmed.to_string()),
                display,
            });
        }
        if is_transport_helper(trimmed) {
            return Err(SourceError::UnsupportedUrl {
                url: display,
                reason: "git transport helpers (`name::address`) are not supported (use https://, ssh://, git@host:path, file:// or a local folder)".into(),
            });
        }
        if is_scp_like(trimmed) {
            return Ok(RepoUrl {
                location: Location::Remote(trimmed.to_string()),
                display,
            });
        }
        Ok(RepoUrl {
            location: Location::Local(PathBuf::from(trimmed)),
            display,
        })
    }

    /// The cache folder name for a clone: a readable part from the URL and a stable hash of
    /// the credential-free URL, so different URLs never share a folder.
    pub fn cache_folder_name(&self) -> String {
        let without_scheme = match self.display.split_once("://") {
            Some((_, rest)) => rest,
            None => self.display.as_str(),
        };
        let mut readable: String = without_scheme
            .trim_end_matches(".git")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        readable = readable.trim_matches(['_', '.']).to_string();
        if readable.len() > 48 {
            readable = readable[readable.len() - 48..].to_string();
        }
        format!("{readable}-{:016x}", fnv1a(self.display.as_bytes()))
    }
}

/// `user@host:path` (scp-style ssh) as opposed to a local path: a colon before any slash,
/// and not a Windows drive letter (`C:`). Git's transport-helper syntax (`ext::command`,
/// `fd::17`) and hosts with spaces are not scp-style: they are refused, never handed to a
/// transport that could run a command.
fn is_scp_like(s: &str) -> bool {
    match s.find(':') {
        Some(colon) => {
            let before = &s[..colon];
            !before.contains('/') && before.len() > 1
        }
        None => false,
    }
}

/// Whether `s` uses git's `transport::address` syntax, which can run programs.
fn is_transport_helper(s: &str) -> bool {
    let Some(colon) = s.find(':') else {
        return false;
    };
    let before = &s[..colon];
    !before.contains('/')
        && (s[colon + 1..].starts_with(':') || before.contains(char::is_whitespace))
}

/// Removes the user-info part (`user:token@`) of a `scheme://` URL, and a password from an
/// scp-style address. Other text is returned unchanged.
pub(crate) fn strip_credentials(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        return match authority.rfind('@') {
            Some(at) => format!(
                "{scheme}://{}{}",
                &authority[at + 1..],
                &rest[authority_end..]
            ),
            None => url.to_string(),
        };
    }
    if is_scp_like(url)
        && let Some(at) = url.find('@')
        && url[..at].contains(':')
    {
        return url[at + 1..].to_string();
    }
    url.to_string()
}

/// Decodes `%XX` escapes of a `file://` path.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// 64-bit FNV-1a: a hash that is stable across Rust versions and platforms (cache folder
/// names must not change when rekon is rebuilt).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_helpers_are_refused_and_local_paths_with_spaces_are_not() {
        for url in ["ext::sh -c touch% /tmp/pwned", "fd::17", "my host:repo"] {
            let e = RepoUrl::parse(url, true).unwrap_err().to_string();
            assert!(e.contains("not supported"), "{url}: {e}");
        }
        let local = RepoUrl::parse("/tmp/my folder/repo", true).unwrap();
        assert_eq!(
            local.location,
            Location::Local(PathBuf::from("/tmp/my folder/repo"))
        );
        assert!(matches!(
            RepoUrl::parse("git@github.com:acme/gitops.git", true)
                .unwrap()
                .location,
            Location::Remote(_)
        ));
    }

    #[test]
    fn classifies_urls() {
        let https = RepoUrl::parse("https://user:tok@github.com/acme/gitops.git/", true).unwrap();
        assert_eq!(
            https.location,
            Location::Remote("https://user:tok@github.com/acme/gitops.git/".into())
        );
        assert_eq!(https.display, "https://github.com/acme/gitops.git");
        // Plain HTTP to this machine only (a Git server beside a local cluster).
        for local in [
            "http://127.0.0.1:8080/platform.git",
            "http://localhost/platform.git",
            "http://[::1]:3000/platform.git",
        ] {
            let http = RepoUrl::parse(local, true).unwrap();
            assert!(matches!(http.location, Location::Remote(_)), "{local}");
        }
        for remote in [
            "http://gitea.git.svc:3000/acme/gitops.git",
            "http://127.0.0.1.example.com/x.git",
            "http://localhost@evil.example.com/x.git",
        ] {
            let err = RepoUrl::parse(remote, true).unwrap_err().to_string();
            assert!(
                err.contains("plain http:// is read only from this machine"),
                "{err}"
            );
        }
        let scp = RepoUrl::parse("git@github.com:acme/gitops.git", true).unwrap();
        assert!(matches!(scp.location, Location::Remote(_)));
        assert_eq!(scp.display, "git@github.com:acme/gitops.git");
        let local = RepoUrl::parse("/srv/git/demo", true).unwrap();
        assert_eq!(local.location, Location::Local("/srv/git/demo".into()));
        let rel = RepoUrl::parse("./repos/x:y", true).unwrap();
        assert!(matches!(rel.location, Location::Local(_)));
        let file = RepoUrl::parse("file:///srv/git/my%20repo", false).unwrap();
        assert_eq!(file.location, Location::Local("/srv/git/my repo".into()));
        assert!(matches!(
            RepoUrl::parse("file:///srv/git/x", true).unwrap().location,
            Location::Remote(_)
        ));
    }

    #[test]
    fn refuses_other_schemes_without_credentials_in_the_message() {
        let err = RepoUrl::parse("ftp://bob:hunter2@example.com/repo", true).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("ftp://example.com/repo"), "{msg}");
        assert!(msg.contains("scheme 'ftp'"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(RepoUrl::parse("  ", true).is_err());
    }

    #[test]
    fn strips_credentials_from_scp_addresses() {
        assert_eq!(strip_credentials("bob:pw@host:org/r.git"), "host:org/r.git");
    }

    #[test]
    fn cache_folder_names_are_safe_and_distinct() {
        let a = RepoUrl::parse("https://github.com/acme/gitops.git", true).unwrap();
        let b = RepoUrl::parse("https://github.com/acme/gitops2.git", true).unwrap();
        let name = a.cache_folder_name();
        assert!(name.starts_with("github.com_acme_gitops-"), "{name}");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        );
        assert_ne!(name, b.cache_folder_name());
        // Credentials do not change (or appear in) the folder name.
        let with_token = RepoUrl::parse("https://t:s@github.com/acme/gitops.git", true).unwrap();
        assert_eq!(with_token.cache_folder_name(), name);
    }
}
