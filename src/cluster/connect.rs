//! Connecting to clusters: kubeconfig contexts (several at once) or a bare `--server` URL.

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};
use thiserror::Error;

use super::resilience::{Resilience, resilient};

/// How long connecting to an API server may take before the attempt counts as failed.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// One cluster rekon talks to, with the name the user knows it by.
#[derive(Clone)]
pub struct ClusterHandle {
    /// Context name, or the server URL for `--server`.
    pub name: String,
    /// API server URL, for display and for `destination.server` matching.
    pub server: String,
    /// The client; every call to this cluster goes through it.
    pub client: kube::Client,
}

impl std::fmt::Debug for ClusterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterHandle")
            .field("name", &self.name)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// Why a cluster connection could not be set up.
#[derive(Debug, Error)]
pub enum ConnectError {
    /// The kubeconfig file could not be read or parsed.
    #[error("kubeconfig {path}: {message}")]
    Kubeconfig {
        /// The file at fault (or `$KUBECONFIG`).
        path: String,
        /// What went wrong.
        message: String,
    },
    /// `--context NAME` names a context the kubeconfig does not have.
    #[error("kubeconfig {path} has no context {name:?} (available: {available})")]
    UnknownContext {
        /// The kubeconfig read.
        path: String,
        /// The context asked for.
        name: String,
        /// The contexts that exist, comma-separated.
        available: String,
    },
    /// No `--context` was given and the kubeconfig has no current context.
    #[error(
        "kubeconfig {path} has no current-context; pass --context NAME (available: {available})"
    )]
    NoCurrentContext {
        /// The kubeconfig read.
        path: String,
        /// The contexts that exist, comma-separated.
        available: String,
    },
    /// `--server` is not a URL.
    #[error("--server {url:?} is not a valid URL: {message}")]
    InvalidServer {
        /// What the user passed.
        url: String,
        /// Why it is not valid.
        message: String,
    },
    /// The client could not be built (TLS material, auth plugin …).
    #[error("context {context}: {message}")]
    Client {
        /// The context at fault.
        context: String,
        /// What went wrong.
        message: String,
    },
}

/// Where the kubeconfig comes from: an explicit path, `$KUBECONFIG`, or `~/.kube/config`.
fn kubeconfig_source(
    explicit: Option<&Path>,
) -> (Result<Kubeconfig, kube::config::KubeconfigError>, String) {
    if let Some(path) = explicit {
        return (Kubeconfig::read_from(path), path.display().to_string());
    }
    if let Some(env) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let label = env.to_string_lossy().into_owned();
        return match Kubeconfig::from_env() {
            Ok(Some(cfg)) => (Ok(cfg), label),
            Ok(None) => (Ok(Kubeconfig::default()), label),
            Err(e) => (Err(e), label),
        };
    }
    let default = default_kubeconfig_path();
    let label = default
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.kube/config".to_string());
    (Kubeconfig::read(), label)
}

fn default_kubeconfig_path() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.home_dir().join(".kube").join("config"))
}

/// A client for `config` with rekon's timeouts and retries (instead of kube's own retry,
/// which would also repeat creates).
fn client_of(mut config: kube::Config, options: Resilience) -> Result<kube::Client, kube::Error> {
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.default_retry = false;
    Ok(resilient(kube::Client::try_from(config)?, options))
}

/// A handle on a cluster reached through any client (the embedded emulator in process),
/// with rekon's timeouts and retries added.
pub fn in_process(
    name: &str,
    server: &str,
    client: kube::Client,
    options: Resilience,
) -> ClusterHandle {
    ClusterHandle {
        name: name.to_string(),
        server: server.to_string(),
        client: resilient(client, options),
    }
}

/// Connects to a server directly, with no authentication (the embedded API, a kubectl proxy).
pub fn connect_server(url: &str) -> Result<ClusterHandle, ConnectError> {
    connect_server_with(url, Resilience::default())
}

/// [`connect_server`] with these request limits.
pub fn connect_server_with(url: &str, options: Resilience) -> Result<ClusterHandle, ConnectError> {
    let invalid = |message: String| ConnectError::InvalidServer {
        url: url.to_string(),
        message,
    };
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("expected an http:// or https:// URL".into())),
    }
    let config = kube::Config::new(uri);
    let client = client_of(config, options).map_err(|e| invalid(e.to_string()))?;
    Ok(ClusterHandle {
        name: url.to_string(),
        server: url.to_string(),
        client,
    })
}

/// Connects to each named context of the kubeconfig (the current context when none is named).
/// Building a client does not contact the cluster; an unreachable cluster shows up later as a
/// connection state, never here.
pub async fn connect_contexts(
    kubeconfig: Option<&Path>,
    contexts: &[String],
) -> Result<Vec<ClusterHandle>, ConnectError> {
    connect_contexts_with(kubeconfig, contexts, Resilience::default()).await
}

/// [`connect_contexts`] with these request limits.
pub async fn connect_contexts_with(
    kubeconfig: Option<&Path>,
    contexts: &[String],
    limits: Resilience,
) -> Result<Vec<ClusterHandle>, ConnectError> {
    let (loaded, label) = kubeconfig_source(kubeconfig);
    let cfg = loaded.map_err(|e| ConnectError::Kubeconfig {
        path: label.clone(),
        message: e.to_string(),
    })?;
    let available = cfg
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let available = if available.is_empty() {
        "none".to_string()
    } else {
        available
    };
    let names: Vec<String> = if contexts.is_empty() {
        match &cfg.current_context {
            Some(c) if !c.is_empty() => vec![c.clone()],
            _ => {
                return Err(ConnectError::NoCurrentContext {
                    path: label,
                    available,
                });
            }
        }
    } else {
        contexts.to_vec()
    };
    let mut handles = Vec::with_capacity(names.len());
    for name in names {
        if !cfg.contexts.iter().any(|c| c.name == name) {
            return Err(ConnectError::UnknownContext {
                path: label,
                name,
                available,
            });
        }
        let options = KubeConfigOptions {
            context: Some(name.clone()),
            ..Default::default()
        };
        let client_err = |message: String| ConnectError::Client {
            context: name.clone(),
            message,
        };
        let config = kube::Config::from_custom_kubeconfig(cfg.clone(), &options)
            .await
            .map_err(|e| client_err(e.to_string()))?;
        let server = config.cluster_url.to_string();
        let client = client_of(config, limits).map_err(|e| client_err(e.to_string()))?;
        handles.push(ClusterHandle {
            name,
            server: server.trim_end_matches('/').to_string(),
            client,
        });
    }
    Ok(handles)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {server: "http://127.0.0.1:1"}
- name: b
  cluster: {server: "http://127.0.0.1:2"}
contexts:
- name: staging
  context: {cluster: a, user: u}
- name: prod
  context: {cluster: b, user: u}
users:
- name: u
  user: {}
current-context: staging
"#;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, text.as_bytes()).unwrap();
        f
    }

    #[tokio::test]
    async fn connects_current_and_named_contexts() {
        let f = write(KUBECONFIG);
        let current = connect_contexts(Some(f.path()), &[]).await.unwrap();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].name, "staging");
        assert_eq!(current[0].server, "http://127.0.0.1:1");
        let both = connect_contexts(Some(f.path()), &["staging".into(), "prod".into()])
            .await
            .unwrap();
        assert_eq!(both[1].server, "http://127.0.0.1:2");
    }

    #[tokio::test]
    async fn unknown_context_lists_the_available_ones() {
        let f = write(KUBECONFIG);
        let err = connect_contexts(Some(f.path()), &["qa".into()])
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("no context \"qa\""), "{err}");
        assert!(err.contains("available: staging, prod"), "{err}");
    }

    #[tokio::test]
    async fn broken_kubeconfig_names_the_file() {
        let f = write("clusters: [unclosed\n");
        let err = connect_contexts(Some(f.path()), &[])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("kubeconfig {}", f.path().display())),
            "{err}"
        );
    }

    #[tokio::test]
    async fn server_must_be_a_url() {
        assert!(connect_server("http://127.0.0.1:6550").is_ok());
        let err = connect_server("localhost").unwrap_err().to_string();
        assert!(err.contains("--server \"localhost\""), "{err}");
    }
}
