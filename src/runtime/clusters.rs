//! Choosing an app's cluster, and what to watch along with a kind.

use super::*;

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
