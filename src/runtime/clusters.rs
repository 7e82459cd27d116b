//! The connected clusters: per cluster its API catalog, live store and running watches;
//! choosing an app's cluster, and what to watch along with a kind.

use super::*;

/// One connected cluster, as the actor keeps it.
pub(super) struct ClusterState {
    pub(super) handle: ClusterHandle,
    pub(super) catalog: Option<Arc<ApiCatalog>>,
    pub(super) catalog_error: Option<String>,
    pub(super) store: LiveStore,
    pub(super) watches: HashMap<GroupKind, Watch>,
}

impl Drop for ClusterState {
    fn drop(&mut self) {
        for w in self.watches.values() {
            w.task.abort();
        }
    }
}

/// One running watch of a kind.
pub(super) struct Watch {
    pub(super) task: JoinHandle<()>,
    pub(super) metadata_only: bool,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ClusterState {
    /// How the cluster's connection looks to the user.
    pub(super) fn connection(&self) -> ConnectionState {
        connection_state(self)
    }
}

fn connection_state(c: &ClusterState) -> ConnectionState {
    if let (Some(e), None) = (&c.catalog_error, &c.catalog) {
        return ConnectionState::Unreachable(e.clone());
    }
    if c.catalog.is_none() {
        return ConnectionState::Connecting;
    }
    let failing: Vec<(&GroupKind, &str)> = c.store.failing_kinds().collect();
    let Some((gk, why)) = failing.iter().min_by(|a, b| a.0.cmp(b.0)).copied() else {
        return ConnectionState::Connected;
    };
    // Every watch failing (and not for RBAC) means the server is gone, not just unwell.
    let all_failing = c
        .store
        .watched_kinds()
        .all(|(_, s)| matches!(s, KindState::Failing(_)));
    if all_failing {
        ConnectionState::Unreachable(why.to_string())
    } else {
        ConnectionState::Degraded(format!("{gk}: {why}"))
    }
}

/// Kinds whose objects hang under a managed kind in the tree, watched along with it.
pub(super) fn child_kinds(gk: &GroupKind) -> &'static [(&'static str, &'static str)] {
    match (gk.group.as_str(), gk.kind.as_str()) {
        ("apps", "Deployment") => &[("apps", "ReplicaSet"), ("", "Pod")],
        ("apps", "ReplicaSet") | ("apps", "DaemonSet") | ("batch", "Job") => &[("", "Pod")],
        ("apps", "StatefulSet") => &[("", "Pod"), ("", "PersistentVolumeClaim")],
        ("batch", "CronJob") => &[("batch", "Job"), ("", "Pod")],
        ("", "Service") => &[("discovery.k8s.io", "EndpointSlice")],
        _ => &[],
    }
}

/// Chooses the app's cluster: `destination.name` is a context name, `destination.server` a
/// server URL; the in-cluster address (or no destination) means the first cluster.
pub(super) fn pick_cluster(app: &Application, clusters: &[ClusterHandle]) -> Result<usize, String> {
    const IN_CLUSTER: &str = "https://kubernetes.default.svc";
    let known = || {
        clusters
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if clusters.is_empty() {
        return Err("no cluster is connected".into());
    }
    let dest = &app.spec.destination;
    if let Some(name) = dest.name.as_deref().filter(|n| !n.is_empty()) {
        if name == "in-cluster" {
            return Ok(0);
        }
        return clusters.iter().position(|c| c.name == name).ok_or_else(|| {
            format!(
                "destination cluster {name:?} is not one of the connected clusters ({})",
                known()
            )
        });
    }
    if let Some(server) = dest.server.as_deref().filter(|s| !s.is_empty()) {
        let server = server.trim_end_matches('/');
        if server == IN_CLUSTER {
            return Ok(0);
        }
        return clusters
            .iter()
            .position(|c| c.server == server || c.name == server)
            .ok_or_else(|| {
                format!(
                    "destination server {server} is not one of the connected clusters ({})",
                    known()
                )
            });
    }
    Ok(0)
}

pub(super) fn describe_kube(e: kube::Error) -> String {
    crate::cluster::describe_kube(&e)
}
