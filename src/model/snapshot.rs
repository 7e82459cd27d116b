//! What the engine publishes and every view reads: immutable snapshots of app state.
//! Field names follow the `status -o json` contract (README, "Commands").

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Health, HistoryEntry, Operation, ResourceDiff, RevisionOrigin, SyncStatus, TreeNode};

/// Who reconciles an app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ManagedBy {
    /// rekon's own engine.
    Rekon,
    /// An Argo CD controller in the cluster (observed).
    Argocd,
    /// Flux controllers in the cluster (observed).
    Flux,
}

impl ManagedBy {
    /// The word used in JSON output and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            ManagedBy::Rekon => "rekon",
            ManagedBy::Argocd => "argocd",
            ManagedBy::Flux => "flux",
        }
    }
}

/// One resource of an app, as `status -o json` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStatus {
    /// API group, empty for core.
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Sync state of this resource.
    pub sync: SyncStatus,
    /// Health, `None` for kinds without a health rule (ConfigMap, Secret …).
    pub health: Option<Health>,
    /// Why it is unhealthy or out of sync, if anything.
    pub message: String,
    /// Live and tracked by the app, but gone from Git.
    pub requires_pruning: bool,
}

/// One app's state at a moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppSnapshot {
    /// Application name.
    pub name: String,
    /// Application namespace.
    pub namespace: String,
    /// Who reconciles it.
    pub managed_by: ManagedBy,
    /// `Application`, `Kustomization` or `HelmRelease`.
    pub kind: String,
    /// The context name or server URL it deploys to.
    pub cluster: String,
    /// Namespace objects go to when they set none.
    pub destination_namespace: String,
    /// Repository URL of the source.
    pub repo_url: String,
    /// Path inside the repository.
    pub path: String,
    /// Branch, tag or commit asked for.
    pub target_revision: String,
    /// Full commit SHA the desired state came from, when resolved.
    pub revision: Option<String>,
    /// Where that revision was resolved (remote, cache, local) and when the cache was fetched.
    #[serde(flatten)]
    pub origin: RevisionOrigin,
    /// Whole-app sync state.
    pub sync: SyncStatus,
    /// Whole-app health.
    pub health: Health,
    /// A short explanation: comparison errors, health causes.
    pub message: String,
    /// Auto-sync is on for this app.
    pub auto_sync: bool,
    /// When the last sync finished (RFC 3339), if any.
    pub last_sync: Option<String>,
    /// Per-resource state; shared, because every snapshot carries every app (copying
    /// 1,000 apps × 30 resources on each publication dominated a live change's latency).
    pub resources: Arc<Vec<ResourceStatus>>,
    /// The running or last sync operation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<Operation>,
    /// Tree, diffs and conditions for the views; absent until the app was compared.
    #[serde(skip)]
    pub detail: Option<Arc<AppDetail>>,
}

/// What the app views need beyond the summary row.
#[derive(Debug, Clone, PartialEq)]
pub struct AppDetail {
    /// The topology: app, managed resources, their live descendants. Only the app's own
    /// node when the engine runs with `EngineOptions::skip_trees` (no client shows it).
    pub tree: TreeNode,
    /// Desired against live for each resource that differs (normalized, secrets masked).
    pub diffs: Vec<ResourceDiff>,
    /// How desired was predicted: `server-side dry run`, `Git fields only`, or both.
    pub compare_method: String,
    /// Problems found while comparing (ComparisonError and the like).
    pub conditions: Vec<AppCondition>,
    /// Recorded syncs, newest first.
    pub history: Vec<HistoryEntry>,
    /// Kubernetes events of the app's objects, its syncs, and its health and sync
    /// transitions, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

/// What a timeline entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimelineKind {
    /// A Kubernetes Event about one of the app's objects.
    Event,
    /// A sync started or ended.
    Sync,
    /// The app's health changed.
    Health,
    /// The app's sync status changed.
    SyncStatus,
}

/// One moment in an app's life, for the timeline view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// RFC 3339.
    pub time: String,
    /// What it records.
    pub kind: TimelineKind,
    /// The object it is about, when not the app itself.
    pub object: Option<super::ResourceKey>,
    /// Short reason (`ScalingReplicaSet`, `Degraded`, `Succeeded` …).
    pub reason: String,
    /// The full message.
    pub message: String,
    /// A warning (Warning events, failed syncs, turning Degraded or OutOfSync).
    pub warning: bool,
}

/// A condition on an app, in Argo CD's words (`ComparisonError`, `SyncError` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCondition {
    /// Condition type.
    #[serde(rename = "type")]
    pub kind: String,
    /// What is wrong, naming the file, object or URL at fault.
    pub message: String,
}

impl AppSnapshot {
    /// `namespace/name`.
    pub fn qualified_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The SOURCE column: `repo path @ short revision`.
    pub fn source_label(&self) -> String {
        let repo = self
            .repo_url
            .trim_end_matches('/')
            .trim_end_matches(".git")
            .rsplit(['/', ':'])
            .next()
            .unwrap_or(&self.repo_url);
        let rev = match &self.revision {
            Some(sha) => super::short_sha(sha).to_string(),
            None => self.target_revision.clone(),
        };
        let path = if self.path.is_empty() || self.path == "." {
            String::new()
        } else {
            format!(" {}", self.path)
        };
        format!("{repo}{path} @ {rev}")
    }
}

/// How a cluster connection is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "state", content = "message")]
pub enum ConnectionState {
    /// Not yet connected.
    Connecting,
    /// Watches are up.
    Connected,
    /// Some requests fail; retrying.
    Degraded(String),
    /// Cannot reach the cluster.
    Unreachable(String),
}

/// One cluster rekon talks to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSnapshot {
    /// Context name or server URL.
    pub name: String,
    /// Connection health.
    pub connection: ConnectionState,
}

/// Everything the views read, published as a whole.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Increases with every publication.
    pub generation: u64,
    /// Apps, sorted by namespace then name.
    pub apps: Vec<AppSnapshot>,
    /// Clusters in use.
    pub clusters: Vec<ClusterSnapshot>,
    /// Changes to the cluster and to Git are refused.
    pub read_only: bool,
    /// Every app has been compared (or failed to) at least once.
    pub settled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_label_is_repo_path_and_short_revision() {
        let app = AppSnapshot {
            name: "web".into(),
            namespace: "argocd".into(),
            managed_by: ManagedBy::Rekon,
            kind: "Application".into(),
            cluster: "demo-prod".into(),
            destination_namespace: "web".into(),
            repo_url: "https://github.com/acme/gitops.git".into(),
            path: "apps/web".into(),
            target_revision: "main".into(),
            revision: Some("0123456789abcdef".into()),
            sync: SyncStatus::Unknown,
            health: Health::Unknown,
            message: String::new(),
            auto_sync: false,
            last_sync: None,
            resources: Default::default(),
            operation: None,
            origin: Default::default(),
            detail: None,
        };
        assert_eq!(app.source_label(), "gitops apps/web @ 0123456");
    }
}
