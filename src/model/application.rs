//! Argo CD's `Application` (argoproj.io/v1alpha1), the subset rekon reads.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

use crate::yaml;

/// An Application document as found in a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// Must be `argoproj.io/v1alpha1`.
    pub api_version: String,
    /// Must be `Application`.
    pub kind: String,
    /// Name and namespace of the Application.
    pub metadata: AppMetadata,
    /// What to deploy where, and how.
    pub spec: AppSpec,
}

/// Name, namespace, labels and annotations of an Application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppMetadata {
    /// Application name.
    pub name: String,
    /// Namespace the Application lives in (Argo CD's control namespace, `argocd` by default).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Labels on the Application.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations on the Application.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// `spec` of an Application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSpec {
    /// The AppProject the Application belongs to.
    #[serde(default)]
    pub project: Option<String>,
    /// Where the desired state comes from.
    pub source: AppSource,
    /// Which cluster and namespace it goes to.
    #[serde(default)]
    pub destination: Destination,
    /// Automation and options for syncs.
    #[serde(default)]
    pub sync_policy: Option<SyncPolicy>,
    /// Differences to ignore when comparing.
    #[serde(default)]
    pub ignore_differences: Vec<IgnoreDifference>,
    /// How many syncs to keep in history (10 when unset).
    #[serde(default)]
    pub revision_history_limit: Option<u32>,
}

/// `spec.source`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSource {
    /// Git repository: a local folder, `file://`, `https://`, `ssh://` or scp-style address.
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    /// Branch, tag, commit SHA or `HEAD` (the default).
    #[serde(default)]
    pub target_revision: Option<String>,
    /// Folder inside the repository (`.` when unset).
    #[serde(default)]
    pub path: Option<String>,
    /// Options for plain directories of manifests.
    #[serde(default)]
    pub directory: Option<DirectorySource>,
    /// Options for Kustomize.
    #[serde(default)]
    pub kustomize: Option<KustomizeSource>,
    /// Options for Helm.
    #[serde(default)]
    pub helm: Option<HelmSource>,
    /// A Helm chart name, for Helm repositories (not supported by rekon's sources yet).
    #[serde(default)]
    pub chart: Option<String>,
}

impl AppSource {
    /// The revision to resolve, `HEAD` when unset or empty.
    pub fn revision(&self) -> &str {
        match self.target_revision.as_deref() {
            None | Some("") => "HEAD",
            Some(r) => r,
        }
    }

    /// The path inside the repository, `.` when unset or empty.
    pub fn path(&self) -> &str {
        match self.path.as_deref() {
            None | Some("") => ".",
            Some(p) => p,
        }
    }
}

/// `spec.source.directory`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectorySource {
    /// Read sub-folders too.
    #[serde(default)]
    pub recurse: bool,
    /// Glob of files to read (Argo CD allows `{a,b}` alternatives).
    #[serde(default)]
    pub include: Option<String>,
    /// Glob of files to skip.
    #[serde(default)]
    pub exclude: Option<String>,
}

/// `spec.source.kustomize`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KustomizeSource {
    /// Prefix added to every name.
    #[serde(default)]
    pub name_prefix: Option<String>,
    /// Suffix added to every name.
    #[serde(default)]
    pub name_suffix: Option<String>,
    /// Namespace for every namespaced object.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Image overrides, `name=newName:tag` or `name:tag`.
    #[serde(default)]
    pub images: Vec<String>,
    /// Labels added to every object.
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    /// Annotations added to every object.
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
}

/// `spec.source.helm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmSource {
    /// Values files, relative to the chart.
    #[serde(default)]
    pub value_files: Vec<String>,
    /// Inline values as a YAML string.
    #[serde(default)]
    pub values: Option<String>,
    /// Inline values as an object.
    #[serde(default)]
    pub values_object: Option<Value>,
    /// `--set` parameters.
    #[serde(default)]
    pub parameters: Vec<HelmParameter>,
    /// Release name (the Application name when unset).
    #[serde(default)]
    pub release_name: Option<String>,
}

/// One Helm `--set` (or `--set-string`) parameter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmParameter {
    /// Dotted key.
    pub name: String,
    /// Value.
    pub value: String,
    /// Pass as `--set-string`.
    #[serde(default)]
    pub force_string: bool,
}

/// `spec.destination`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// API server URL.
    #[serde(default)]
    pub server: Option<String>,
    /// Cluster name (a kubeconfig context for rekon).
    #[serde(default)]
    pub name: Option<String>,
    /// Namespace for namespaced objects that set none.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// `spec.syncPolicy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPolicy {
    /// Auto-sync settings; present means automated.
    #[serde(default)]
    pub automated: Option<Automated>,
    /// `Name=value` options such as `CreateNamespace=true`.
    #[serde(default)]
    pub sync_options: Vec<String>,
    /// Retry settings for failed syncs.
    #[serde(default)]
    pub retry: Option<RetryStrategy>,
}

impl SyncPolicy {
    /// Whether a `Name=true` sync option is set.
    pub fn has_option(&self, name: &str) -> bool {
        self.sync_options.iter().any(|o| {
            o.split_once('=')
                .is_some_and(|(k, v)| k.trim() == name && v.trim().eq_ignore_ascii_case("true"))
        })
    }
}

/// `spec.syncPolicy.automated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    /// Turned on (Argo CD 3 allows `enabled: false` to pause automation).
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Delete tracked objects that left Git.
    #[serde(default)]
    pub prune: bool,
    /// Undo live drift.
    #[serde(default)]
    pub self_heal: bool,
    /// Allow a sync that prunes everything because Git renders nothing.
    #[serde(default)]
    pub allow_empty: bool,
}

fn default_true() -> bool {
    true
}

/// `spec.syncPolicy.retry`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryStrategy {
    /// Attempts after the first failure; -1 means unlimited.
    #[serde(default)]
    pub limit: Option<i64>,
    /// Backoff between attempts.
    #[serde(default)]
    pub backoff: Option<Backoff>,
}

/// `spec.syncPolicy.retry.backoff`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Backoff {
    /// First delay, e.g. `5s`.
    #[serde(default)]
    pub duration: Option<String>,
    /// Multiplier per attempt.
    #[serde(default)]
    pub factor: Option<f64>,
    /// Cap on the delay, e.g. `3m`.
    #[serde(default)]
    pub max_duration: Option<String>,
}

/// One `spec.ignoreDifferences` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreDifference {
    /// API group (empty for core).
    #[serde(default)]
    pub group: String,
    /// Kind; `*` matches all.
    pub kind: String,
    /// Only this object name, when set.
    #[serde(default)]
    pub name: Option<String>,
    /// Only this namespace, when set.
    #[serde(default)]
    pub namespace: Option<String>,
    /// RFC 6901 pointers of fields to ignore.
    #[serde(default)]
    pub json_pointers: Vec<String>,
    /// Fields owned by these managers are ignored.
    #[serde(default)]
    pub managed_fields_managers: Vec<String>,
}

/// Why an Application document was refused.
#[derive(Debug, Clone, Error, PartialEq)]
pub enum AppError {
    /// Unreadable file.
    #[error("{path}: {message}")]
    Io {
        /// The file at fault.
        path: String,
        /// The OS error.
        message: String,
    },
    /// YAML syntax error.
    #[error("{0}")]
    Yaml(#[from] yaml::YamlError),
    /// A document that is not a valid Application.
    #[error("{origin}:{line}: {message}")]
    Invalid {
        /// The file at fault.
        origin: String,
        /// 1-based line of the document.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl Application {
    /// `namespace/name`, the app's full name.
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.namespace(), self.metadata.name)
    }

    /// The Application's namespace (`argocd` when unset, as Argo CD assumes).
    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("argocd")
    }

    /// Parses every `Application` in a YAML text; other kinds are skipped, as Argo CD's CLI
    /// does for mixed files. Each Application is checked for the fields rekon needs.
    pub fn parse_all(text: &str, origin: &str) -> Result<Vec<Application>, AppError> {
        let mut apps = Vec::new();
        for doc in yaml::parse_documents(text, origin)? {
            let kind = doc.value.get("kind").and_then(Value::as_str);
            if kind != Some("Application") {
                continue;
            }
            let invalid = |message: String| AppError::Invalid {
                origin: origin.to_string(),
                line: doc.line,
                message,
            };
            let api_version = doc.value.get("apiVersion").and_then(Value::as_str);
            if api_version != Some("argoproj.io/v1alpha1") {
                return Err(invalid(format!(
                    "Application must have apiVersion argoproj.io/v1alpha1, found {}",
                    api_version.unwrap_or("none")
                )));
            }
            let app: Application = serde_json::from_value(doc.value.clone())
                .map_err(|e| invalid(format!("not a valid Application: {e}")))?;
            if app.metadata.name.is_empty() {
                return Err(invalid("Application has no metadata.name".into()));
            }
            if app.spec.source.repo_url.trim().is_empty() {
                return Err(invalid(format!(
                    "Application {} has no spec.source.repoURL",
                    app.metadata.name
                )));
            }
            apps.push(app);
        }
        Ok(apps)
    }

    /// Reads Applications from a file, or from every `.yaml`/`.yml`/`.json` file of a folder
    /// (sorted, not recursive).
    pub fn load_path(path: &Path) -> Result<Vec<Application>, AppError> {
        let io = |p: &Path, e: std::io::Error| AppError::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        let meta = std::fs::metadata(path).map_err(|e| io(path, e))?;
        let mut files = Vec::new();
        if meta.is_dir() {
            for entry in std::fs::read_dir(path).map_err(|e| io(path, e))? {
                let p = entry.map_err(|e| io(path, e))?.path();
                let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
                if p.is_file() && matches!(ext, "yaml" | "yml" | "json") {
                    files.push(p);
                }
            }
            files.sort();
        } else {
            files.push(path.to_path_buf());
        }
        let mut apps = Vec::new();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| io(&file, e))?;
            apps.extend(Application::parse_all(&text, &file.display().to_string())?);
        }
        Ok(apps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUESTBOOK: &str = r#"
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: guestbook
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/argoproj/argocd-example-apps.git
    targetRevision: HEAD
    path: guestbook
    directory:
      recurse: true
  destination:
    server: https://kubernetes.default.svc
    namespace: guestbook
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers: [/spec/replicas]
"#;

    #[test]
    fn parses_an_argo_cd_application() {
        let apps = Application::parse_all(GUESTBOOK, "gb.yaml").unwrap();
        assert_eq!(apps.len(), 1);
        let app = &apps[0];
        assert_eq!(app.qualified_name(), "argocd/guestbook");
        assert_eq!(app.spec.source.path(), "guestbook");
        assert!(app.spec.source.directory.as_ref().unwrap().recurse);
        let policy = app.spec.sync_policy.as_ref().unwrap();
        assert!(policy.automated.as_ref().unwrap().enabled);
        assert!(policy.automated.as_ref().unwrap().self_heal);
        assert!(policy.has_option("CreateNamespace"));
        assert_eq!(
            app.spec.ignore_differences[0].json_pointers,
            ["/spec/replicas"]
        );
    }

    #[test]
    fn refuses_an_application_without_repo_and_names_the_line() {
        let text = "kind: ConfigMap\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: x}\nspec:\n  source: {repoURL: ''}\n";
        let err = Application::parse_all(text, "apps.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "apps.yaml:3: Application x has no spec.source.repoURL"
        );
    }
}
