//! The runtime: the one task that owns app state. It renders apps from Git, keeps a live
//! store per cluster fed by watchers, compares, and publishes immutable snapshots that the
//! TUI and the headless commands read. Network and Git work runs in spawned tasks whose
//! results come back tagged with the generation that asked for them; stale ones are dropped.
//!
//! Start at [`start`] and `actor.rs` (the loop). State, each concept in its file:
//! `apps.rs` (rekon's apps), `clusters.rs` (catalogs, stores, watches), `observed.rs`
//! (Argo CD and Flux apps found in the clusters), `messages.rs` (the actor's inbox).
//! Behaviour: `comparison.rs` (render, prepare, watch, compare, summarize), `syncs.rs` (sync
//! operations on the actor) and `sync_task.rs` (a sync's hand-off and its off-task part),
//! `auto_sync.rs`, `queries.rs`, `observed_apps.rs` (their rows), `observed_actions.rs`
//! (commands naming them, acting on them) and `followers.rs` (waiting for the outcome),
//! `observed_diff.rs`. Each file imports what it uses by name; state files never import
//! behaviour files, which keeps the modules free of cycles. Front ends speak [`Request`] and
//! [`Answer`] (`requests.rs`), or [`EngineCommand`] with their own reply channels.

mod actor;
mod apps;
mod auto_sync;
mod clusters;
mod comparison;
mod followers;
mod messages;
mod observed;
mod observed_actions;
mod observed_apps;
mod observed_diff;
mod queries;
mod requests;
mod summary;
mod sync_task;
mod syncs;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use crate::cluster::ClusterHandle;
use crate::model::{
    Application, HistoryEntry, IgnoreDifference, Operation, ResourceDiff, ResourceKey, Snapshot,
    SyncOptions, SyncPlan,
};
use crate::source::Sources;

/// What the engine is started with.
pub struct EngineOptions {
    /// The apps to reconcile.
    pub apps: Vec<Application>,
    /// The clusters apps may deploy to.
    pub clusters: Vec<ClusterHandle>,
    /// Git access and rendering.
    pub sources: Arc<Sources>,
    /// Refuse every change to the cluster and to Git.
    pub read_only: bool,
    /// ignoreDifferences rules from config, applied to every app.
    pub config_ignore: Vec<IgnoreDifference>,
    /// Fetch Git and re-render this often; `None` renders once.
    pub refresh_every: Option<Duration>,
    /// AppProjects from `--apps` files: syncs that break their rules are refused.
    pub projects: Vec<crate::integrations::project::AppProject>,
    /// Run auto-sync and self-heal for apps whose `syncPolicy.automated` asks for it
    /// (`rekon run`, the TUI's `--auto`).
    pub auto_sync: bool,
    /// Keep only the root of each app's tree in its snapshot (`AppDetail.tree`), for
    /// clients that never show a tree (`rekon run`): the trees of 1,000 apps held
    /// a quarter of the heap (profiled). Timelines are still filled from the whole tree.
    pub skip_trees: bool,
}

/// Where the answer to a query goes; a dropped receiver means the asker moved on.
pub type Reply<T> = oneshot::Sender<Result<T, String>>;

/// What a client of the engine may ask for. Apps are named `namespace/name`.
#[derive(Debug)]
pub enum EngineCommand {
    /// Fetch Git and compare again: one app or all; `hard` also drops cached dry runs and
    /// reads the API discovery of the apps' clusters again.
    Refresh {
        /// The app, or every app when `None`.
        app: Option<String>,
        /// Forget cached dry runs and rediscover the served kinds too.
        hard: bool,
    },
    /// The plan a sync with these options would run (nothing changes).
    Plan {
        /// The app.
        app: String,
        /// Sync options.
        options: SyncOptions,
        /// Where the plan goes.
        reply: Reply<SyncPlan>,
    },
    /// Starts a sync; progress shows in the app's `operation`, the reply gets the end result.
    Sync {
        /// The app.
        app: String,
        /// Sync options.
        options: SyncOptions,
        /// Who asked (`user@host`, `auto-sync` …).
        initiated_by: String,
        /// Where the finished operation goes, if anyone waits for it.
        reply: Option<Reply<Operation>>,
    },
    /// Stops the app's running operation.
    Terminate {
        /// The app.
        app: String,
    },
    /// Syncs the revision of history entry `id` (refused while auto-sync is on).
    Rollback {
        /// The app.
        app: String,
        /// History entry id.
        id: u64,
        /// How to sync it (`force`, `refuse_conflicts`; the revision is the entry's).
        options: SyncOptions,
        /// Who asked.
        initiated_by: String,
        /// Where the finished operation goes.
        reply: Option<Reply<Operation>>,
    },
    /// The live object behind a tree node, as YAML with Secret values masked.
    LiveYaml {
        /// The app (chooses the cluster).
        app: String,
        /// The object.
        key: ResourceKey,
        /// Where the YAML goes.
        reply: Reply<String>,
    },
    /// Argo CD and Flux: actions and queries only observed apps have.
    Observed(ObservedCommand),
    /// The app's recorded syncs, newest first, read from its cluster.
    History {
        /// The app.
        app: String,
        /// Where the entries go.
        reply: Reply<Vec<HistoryEntry>>,
    },
    /// Desired at `revision` against live, for every resource that differs.
    DiffRevision {
        /// The app.
        app: String,
        /// Branch, tag or commit.
        revision: String,
        /// Where the diffs go.
        reply: Reply<Vec<ResourceDiff>>,
    },
}

/// A running engine: snapshots out, commands in. Dropping it stops the engine.
pub struct EngineHandle {
    snapshots: watch::Receiver<Arc<Snapshot>>,
    commands: mpsc::Sender<EngineCommand>,
    task: JoinHandle<()>,
}

impl EngineHandle {
    /// A receiver of every snapshot the engine publishes.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.snapshots.clone()
    }

    /// The latest snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        self.snapshots.borrow().clone()
    }

    /// A sender of commands.
    pub fn commands(&self) -> mpsc::Sender<EngineCommand> {
        self.commands.clone()
    }

    /// Waits until every app has been compared (or failed to be) at least once.
    pub async fn settled(&self) -> Arc<Snapshot> {
        let mut rx = self.snapshots.clone();
        match rx.wait_for(|s| s.settled).await {
            Ok(s) => s.clone(),
            Err(_) => self.current(),
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts the engine on the current Tokio runtime.
pub fn start(options: EngineOptions) -> EngineHandle {
    let (snap_tx, snap_rx) = watch::channel(Arc::new(Snapshot {
        read_only: options.read_only,
        ..Snapshot::default()
    }));
    let (cmd_tx, cmd_rx) = mpsc::channel(64);
    let task = tokio::spawn(async move {
        let mut engine = actor::Actor::new(options, snap_tx);
        engine.run(cmd_rx).await;
    });
    EngineHandle {
        snapshots: snap_rx,
        commands: cmd_tx,
        task,
    }
}

pub use observed_actions::ObservedCommand;
pub use requests::{Answer, PendingAnswer, Request};
