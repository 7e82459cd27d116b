//! Observed apps' state: the Argo CD Applications and Flux Kustomizations/HelmReleases
//! found in the clusters, the index from the objects they manage back to them, and the
//! running actions on them waiting for their outcome (followers). `observed_apps.rs`
//! builds the rows, `observed_actions.rs` starts actions, `followers.rs` follows them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::Value;

use crate::integrations::ObservedKind;
use crate::model::{AppSnapshot, Operation, ResourceDiff, ResourceKey};

use super::Reply;

/// Names one observed app: the object Argo CD or Flux reconciles, in one cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct ObservedId {
    /// Index of its cluster.
    pub(super) cluster: usize,
    /// Application, Kustomization or HelmRelease.
    pub(super) kind: ObservedKind,
    /// Its namespace.
    pub(super) namespace: String,
    /// Its name.
    pub(super) name: String,
}

impl ObservedId {
    /// The observed object's key in its cluster.
    pub(super) fn key(&self) -> ResourceKey {
        let gk = self.kind.group_kind();
        ResourceKey::new(gk.group, gk.kind, &self.namespace, &self.name)
    }

    /// How commands name it: `argocd:ns/name`, `flux-ks:ns/name`, `flux-hr:ns/name`.
    pub(super) fn display_name(&self) -> String {
        format!("{}:{}/{}", self.kind.prefix(), self.namespace, self.name)
    }
}

/// One observed app's published state.
pub(super) struct ObservedApp {
    pub(super) summary: Arc<AppSnapshot>,
    /// Objects its tree starts from (status.resources or inventory).
    pub(super) managed: Vec<ResourceKey>,
    /// The last diff rekon rendered for it, kept for the views until the next one.
    pub(super) diffs: Option<Vec<ResourceDiff>>,
}

/// The engine's state for observed apps.
#[derive(Default)]
pub(super) struct Observed {
    pub(super) apps: BTreeMap<ObservedId, ObservedApp>,
    /// (cluster, managed object) → apps whose tree starts at it.
    index: HashMap<(usize, ResourceKey), BTreeSet<ObservedId>>,
    /// ImagePolicies per cluster.
    pub(super) policies: HashMap<usize, BTreeSet<ResourceKey>>,
    /// Running actions waiting for their outcome.
    pub(super) followers: HashMap<u64, Follower>,
    next_follower: u64,
}

impl Observed {
    /// Drops an observed app whose object is gone; whether there was one.
    pub(super) fn remove(&mut self, id: &ObservedId) -> bool {
        let c = id.cluster;
        let Some(old) = self.apps.remove(id) else {
            return false;
        };
        for m in old.managed {
            if let Some(set) = self.index.get_mut(&(c, m)) {
                set.remove(id);
            }
        }
        true
    }

    /// Puts an observed app's new state in place and indexes the objects it manages;
    /// whether its row changed.
    pub(super) fn replace(&mut self, id: &ObservedId, app: ObservedApp) -> bool {
        let c = id.cluster;
        let old_managed = self
            .apps
            .get(id)
            .map(|a| a.managed.clone())
            .unwrap_or_default();
        for m in &old_managed {
            if let Some(set) = self.index.get_mut(&(c, m.clone())) {
                set.remove(id);
                if set.is_empty() {
                    self.index.remove(&(c, m.clone()));
                }
            }
        }
        for m in &app.managed {
            self.index
                .entry((c, m.clone()))
                .or_default()
                .insert(id.clone());
        }
        let unchanged = self
            .apps
            .get(id)
            .is_some_and(|a| *a.summary == *app.summary);
        self.apps.insert(id.clone(), app);
        !unchanged
    }

    /// Whether any observed app manages objects.
    pub(super) fn manages_any(&self) -> bool {
        !self.index.is_empty()
    }

    /// The observed apps whose tree starts at `key` on cluster `c`.
    pub(super) fn managing(&self, c: usize, key: &ResourceKey) -> Option<&BTreeSet<ObservedId>> {
        self.index.get(&(c, key.clone()))
    }

    /// Registers a running action; its number.
    pub(super) fn add_follower(&mut self, follower: Follower) -> u64 {
        self.next_follower += 1;
        let n = self.next_follower;
        self.followers.insert(n, follower);
        n
    }
}

/// Where a follower's outcome goes.
pub(super) enum FollowReply {
    Operation(Reply<Operation>),
    Text(Reply<String>),
}

/// What ends a follower.
pub(super) enum Goal {
    /// Done when the patch is written.
    PatchOnly { done: String },
    /// An Argo CD operation: done when a new one has ended and `operation` is cleared.
    ArgoOperation {
        previous_started: String,
        seen_running: bool,
    },
    /// A Flux reconcile of `target`, then (with a source first) of `then`.
    FluxReconcile {
        token: String,
        then: Option<ResourceKey>,
    },
}

/// A running action waiting for its outcome.
pub(super) struct Follower {
    pub(super) app: ObservedId,
    /// The object whose changes advance it.
    pub(super) target: ResourceKey,
    pub(super) goal: Goal,
    /// The patch was accepted.
    pub(super) patched: bool,
    pub(super) reply: Option<FollowReply>,
    pub(super) started: jiff::Timestamp,
}

/// The string at `pointer` in an observed object, empty when absent.
pub(super) fn integrations_str(obj: &Value, pointer: &str) -> String {
    crate::engine::json::str_at(obj, pointer)
        .unwrap_or("")
        .to_string()
}
