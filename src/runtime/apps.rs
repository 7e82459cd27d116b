//! rekon's own apps: what the actor keeps per app (its render, desired objects, latest
//! comparison and summary, sync operations and history, the running operation's
//! lifecycle), the cluster an app deploys to, and the index of the objects apps want.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::sync::watch;

use crate::cluster::ClusterHandle;
use crate::engine::compare::ResourceOutcome;
use crate::engine::desired::DesiredObject;
use crate::engine::plan::autosync;
use crate::engine::tracking;
use crate::model::{Application, HistoryEntry, Operation, ResourceKey};
use crate::source::{Rendered, SourceError};
use crate::sync::LiveEvent;

use super::Reply;

/// One of rekon's apps, as the actor keeps it.
pub(super) struct AppState {
    pub(super) app: Application,
    pub(super) instance: String,
    pub(super) cluster: Result<usize, String>,
    pub(super) render_generation: u64,
    pub(super) rendered: Option<Result<Rendered, SourceError>>,
    pub(super) desired: Option<Arc<Vec<DesiredObject>>>,
    pub(super) compare_generation: u64,
    pub(super) comparing: bool,
    /// A compare was asked for while one ran; run again when it returns.
    pub(super) stale: bool,
    pub(super) outcomes: Option<Vec<ResourceOutcome>>,
    pub(super) summary: Option<Arc<crate::model::AppSnapshot>>,
    /// Sync operations, history and auto-sync state.
    pub(super) ops: AppOps,
    /// The app's own health and sync transitions, oldest first (bounded).
    pub(super) transitions: Vec<crate::model::TimelineEntry>,
}

impl AppState {
    /// An app not rendered yet, on the cluster its destination names.
    pub(super) fn new(app: &Application, clusters: &[ClusterHandle]) -> Self {
        AppState {
            instance: tracking::instance_name(app.namespace(), &app.metadata.name),
            cluster: pick_cluster(app, clusters),
            app: app.clone(),
            render_generation: 0,
            rendered: None,
            desired: None,
            compare_generation: 0,
            comparing: false,
            stale: false,
            outcomes: None,
            summary: None,
            ops: Default::default(),
            transitions: Vec::new(),
        }
    }

    /// The destination as the app names it, for an app without a connected cluster.
    pub(super) fn destination_label(&self) -> String {
        let dest = &self.app.spec.destination;
        dest.name
            .clone()
            .or(dest.server.clone())
            .unwrap_or_default()
    }
}

/// Per-app operation state.
#[derive(Default)]
pub(super) struct AppOps {
    /// The running operation, if any.
    pub(super) running: Option<RunningOp>,
    /// The last finished operation.
    pub(super) last: Option<Operation>,
    /// Recorded syncs, oldest first, once loaded.
    pub(super) history: Vec<HistoryEntry>,
    pub(super) history_state: HistoryState,
    /// Auto-sync bookkeeping.
    pub(super) auto: autosync::AutoState,
    /// A self-heal waits for a comparison started after this compare generation.
    pub(super) heal_verify_after: Option<u64>,
}

/// Whether the app's sync history was read from its cluster.
#[derive(Default, PartialEq, Eq, Clone, Copy)]
pub(super) enum HistoryState {
    #[default]
    NotLoaded,
    Loading,
    Loaded,
}

/// What started an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trigger {
    User,
    AutoSync,
    SelfHeal,
}

/// The one running sync operation of an app.
pub(super) struct RunningOp {
    pub(super) id: u64,
    cancel: watch::Sender<bool>,
    /// Live changes of `keys` go here once the operation is handed off.
    events: Option<UnboundedSender<LiveEvent>>,
    keys: HashSet<ResourceKey>,
    waiters: Vec<Reply<Operation>>,
    pub(super) current: Option<Operation>,
    pub(super) trigger: Trigger,
    pub(super) initiated_by: String,
    /// A full, real sync: recorded in history and counted by auto-sync.
    pub(super) full: bool,
    /// In a burst of writes: comparisons wait.
    pub(super) writing: bool,
}

impl RunningOp {
    /// Operation `id`, just started: its first state `pending`; `reply` waits for its end.
    pub(super) fn new(
        id: u64,
        trigger: Trigger,
        initiated_by: String,
        full: bool,
        reply: Option<Reply<Operation>>,
        pending: Operation,
    ) -> Self {
        let (cancel, _) = watch::channel(false);
        let mut waiters = Vec::new();
        waiters.extend(reply);
        RunningOp {
            id,
            cancel,
            events: None,
            keys: HashSet::new(),
            waiters,
            current: Some(pending),
            trigger,
            initiated_by,
            full,
            writing: false,
        }
    }

    /// Asks the operation to stop.
    pub(super) fn terminate(&self) {
        let _ = self.cancel.send(true);
    }

    /// Hands the operation to its off-task part: live changes of `keys` are forwarded from
    /// now on. The receivers of those changes and of the stop signal.
    pub(super) fn hand_off(
        &mut self,
        keys: HashSet<ResourceKey>,
    ) -> (UnboundedReceiver<LiveEvent>, watch::Receiver<bool>) {
        let (events_tx, events_rx) = tokio::sync::mpsc::unbounded_channel();
        self.events = Some(events_tx);
        self.keys = keys;
        (events_rx, self.cancel.subscribe())
    }

    /// Where live changes go and the objects they are forwarded for, once handed off.
    pub(super) fn live_events(
        &self,
    ) -> Option<(&UnboundedSender<LiveEvent>, &HashSet<ResourceKey>)> {
        self.events.as_ref().map(|events| (events, &self.keys))
    }

    /// Sends the operation's end to everyone waiting for it.
    pub(super) fn answer_waiters(self, result: &Result<Operation, String>) {
        for w in self.waiters {
            let _ = w.send(result.clone());
        }
    }
}

/// Apps that want an object, by the fingerprint of its key in its cluster's index
/// ([`crate::model::ResourceKey::fingerprint_in`]): a shared slot only makes an extra
/// app recompare, and owned keys were most of the index's memory with 30,000 desired
/// objects (heaptrack).
#[derive(Default)]
pub(super) struct WantedBy(HashMap<u64, Vec<usize>>);

impl WantedBy {
    /// The apps that want the object of this fingerprint.
    pub(super) fn get(&self, fingerprint: u64) -> Option<&Vec<usize>> {
        self.0.get(&fingerprint)
    }

    /// App `a` on cluster `c` now wants `new` instead of `old`.
    pub(super) fn replace(
        &mut self,
        a: usize,
        c: usize,
        old: Option<&[DesiredObject]>,
        new: &[DesiredObject],
    ) {
        if let Some(old) = old {
            for d in old.iter() {
                let slot = d.key.fingerprint_in(c);
                if let Some(list) = self.0.get_mut(&slot) {
                    list.retain(|x| *x != a);
                    // Apps whose object names change per commit would leave a slot behind
                    // for every name they ever rendered.
                    if list.is_empty() {
                        self.0.remove(&slot);
                    }
                }
            }
        }
        for d in new {
            self.0.entry(d.key.fingerprint_in(c)).or_default().push(a);
        }
    }
}

/// Chooses the app's cluster: `destination.name` is a context name, `destination.server` a
/// server URL; the in-cluster address (or no destination) means the first cluster.
fn pick_cluster(app: &Application, clusters: &[ClusterHandle]) -> Result<usize, String> {
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
