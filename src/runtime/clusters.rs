//! The connected clusters: per cluster its API catalog, live store and running watches,
//! and what to watch along with a kind.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use crate::cluster::{ApiCatalog, ClusterHandle, KindState, LiveStore, WatchMsg, spawn_watch};
use crate::model::{ConnectionState, GroupKind, ResourceKey};

use super::messages::Msg;

/// Kinds watched metadata-only on every cluster to find tracked objects Git dropped.
const PRUNABLE_KINDS: &[(&str, &str)] = &[
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"),
    ("", "Namespace"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
];

/// One connected cluster, as the actor keeps it.
pub(super) struct ClusterState {
    pub(super) handle: ClusterHandle,
    pub(super) catalog: Option<Arc<ApiCatalog>>,
    pub(super) catalog_error: Option<String>,
    pub(super) store: LiveStore,
    watches: HashMap<GroupKind, Watch>,
}

impl Drop for ClusterState {
    fn drop(&mut self) {
        for w in self.watches.values() {
            w.task.abort();
        }
    }
}

/// One running watch of a kind.
struct Watch {
    task: JoinHandle<()>,
    metadata_only: bool,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ClusterState {
    /// A cluster not discovered yet, with nothing watched.
    pub(super) fn new(handle: ClusterHandle) -> Self {
        ClusterState {
            handle,
            catalog: None,
            catalog_error: None,
            store: LiveStore::new(),
            watches: HashMap::new(),
        }
    }

    /// Reads the cluster's API discovery off the actor; it comes back as `Msg::Catalog`.
    pub(super) fn discover(&self, c: usize, tx: &UnboundedSender<Msg>) {
        let client = self.handle.client.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let result = ApiCatalog::discover(&client).await.map_err(describe_kube);
            let _ = tx.send(Msg::Catalog { cluster: c, result });
        });
    }

    /// Discovers again after a pause: an unreachable cluster may come back.
    pub(super) fn rediscover_later(&self, cluster: usize, tx: &UnboundedSender<Msg>) {
        let tx = tx.clone();
        let client = self.handle.client.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let result = ApiCatalog::discover(&client).await.map_err(describe_kube);
            let _ = tx.send(Msg::Catalog { cluster, result });
        });
    }

    /// Starts a watch of `gk` (cluster index `c`) feeding the store through the actor,
    /// unless one runs; a full watch replaces a metadata-only one.
    pub(super) fn ensure_watch(
        &mut self,
        c: usize,
        gk: &GroupKind,
        metadata_only: bool,
        tx: &UnboundedSender<Msg>,
    ) {
        match self.watches.get(gk) {
            Some(w) if !w.metadata_only || metadata_only => return,
            // A full watch replaces a metadata-only one; its relist replaces the objects.
            _ => {}
        }
        let Some(kind) = self
            .catalog
            .as_ref()
            .and_then(|cat| cat.preferred(gk))
            .cloned()
        else {
            return;
        };
        if !kind.watchable {
            return;
        }
        // Mark it syncing now, so no compare runs before its first list arrives.
        self.store
            .apply(WatchMsg::State(gk.clone(), KindState::Syncing));
        let forward = tx.clone();
        let task = spawn_watch(
            self.handle.client.clone(),
            kind.resource.clone(),
            metadata_only,
            move |msg| forward.send(Msg::Watch { cluster: c, msg }).is_ok(),
        );
        self.watches.insert(
            gk.clone(),
            Watch {
                task,
                metadata_only,
            },
        );
    }

    /// Starts the metadata-only watches that find prune candidates (cluster index `c`), and
    /// the Events watch that feeds the timelines.
    pub(super) fn watch_prunable_kinds(&mut self, c: usize, tx: &UnboundedSender<Msg>) {
        for (g, k) in PRUNABLE_KINDS {
            self.ensure_watch(c, &GroupKind::new(*g, *k), true, tx);
        }
        // Events feed the timelines.
        self.ensure_watch(c, &GroupKind::new("", "Event"), false, tx);
    }

    /// Whether a full (not metadata-only) watch of `gk` runs.
    fn watches_in_full(&self, gk: &GroupKind) -> bool {
        self.watches.get(gk).is_some_and(|w| !w.metadata_only)
    }

    /// The kinds of `keys` whose full watch has listed: a sync can wait on their events.
    pub(super) fn listed_in_full(&self, keys: &HashSet<ResourceKey>) -> HashSet<GroupKind> {
        keys.iter()
            .map(ResourceKey::group_kind)
            .filter(|gk| {
                // Metadata-only watches carry no status: health needs polling there.
                self.watches_in_full(gk)
                    && matches!(
                        self.store.kind_state(gk),
                        Some(KindState::Ready | KindState::Syncing)
                    )
            })
            .collect()
    }

    /// Whether the metadata-only watches that find prune candidates on cluster `c` have
    /// not all listed yet: a comparison before then could miss tracked objects Git dropped.
    pub(super) fn prunable_pending(&self) -> bool {
        let store = &self.store;
        PRUNABLE_KINDS.iter().any(|(g, k)| {
            let gk = GroupKind::new(*g, *k);
            let served = self
                .catalog
                .as_ref()
                .and_then(|cat| cat.preferred(&gk))
                .is_some_and(|kind| kind.watchable);
            served && matches!(store.kind_state(&gk), None | Some(KindState::Syncing))
        })
    }

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

fn describe_kube(e: kube::Error) -> String {
    crate::cluster::describe_kube(&e)
}
