//! The actor loop of the runtime: the one task that owns every app's state. Commands
//! come in from the front ends, results of spawned work come back as [`Msg`]s, and after
//! each batch an immutable snapshot goes out on a watch channel.
//!
//! [`Actor::run`] is the loop; [`Actor::command`] and [`Actor::handle`] dispatch to the
//! concept files (comparison, syncs, auto_sync, observed_*, queries).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::cluster::WatchMsg;
use crate::cluster::compare::DryRunCache;
use crate::model::{ClusterSnapshot, IgnoreDifference, Snapshot};

use super::apps::{AppState, WantedBy};
use super::clusters::ClusterState;
use super::messages::Msg;
use super::observed::Observed;
use super::{EngineCommand, EngineOptions, summary};

/// Apps compared at once; the rest wait with no job. The dry-run cache lets 32 resources
/// run engine-wide, but a turn reaches the engine's task behind the watch messages of a
/// cold start: 16 apps left the dry runs starved (1,000 apps settled in 15.8 s instead of
/// 9.4 s), 128 do not (9.2 s), and 128 waiting jobs hold about 2 MB.
const APPS_COMPARING: usize = 128;

/// The runtime's state, owned by its one task.
pub(super) struct Actor {
    pub(super) options: EngineOptions,
    pub(super) clusters: Vec<ClusterState>,
    pub(super) apps: Vec<AppState>,
    /// Apps that want an object (see [`WantedBy`]).
    pub(super) wanted_by: WantedBy,
    pub(super) cache: Arc<DryRunCache>,
    /// Apps whose comparison runs at once; the others wait without a job (see
    /// [`Actor::compare`]).
    pub(super) compare_turns: Arc<tokio::sync::Semaphore>,
    pub(super) config_ignore: Arc<Vec<IgnoreDifference>>,
    pub(super) tx: mpsc::UnboundedSender<Msg>,
    rx: mpsc::UnboundedReceiver<Msg>,
    snapshots: watch::Sender<Arc<Snapshot>>,
    generation: u64,
    pub(super) dirty: bool,
    /// Argo CD and Flux apps found in the clusters (see observed.rs).
    pub(super) observed: Observed,
    /// Ids of sync operations, increasing.
    pub(super) next_op_id: u64,
    /// When the last snapshot went out and how long building it took.
    last_publish: (tokio::time::Instant, Duration),
    /// A publication held back by [`PUBLISH_COST_SHARE`], due at this time.
    publish_due: Option<tokio::time::Instant>,
}

/// A snapshot copies every app's summary, so with 1,000 apps a burst of comparisons that
/// published after each one spent most of its time copying (quadratic). Publications are
/// spaced so that building them takes at most 1/N of the engine's time; a change after a
/// quiet moment still goes out at once.
const PUBLISH_COST_SHARE: u32 = 4;

impl Actor {
    pub(super) fn new(options: EngineOptions, snapshots: watch::Sender<Arc<Snapshot>>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let clusters: Vec<ClusterState> = options
            .clusters
            .iter()
            .map(|h| ClusterState::new(h.clone()))
            .collect();
        let apps = options
            .apps
            .iter()
            .map(|app| AppState::new(app, &options.clusters))
            .collect();
        let config_ignore = Arc::new(options.config_ignore.clone());
        Actor {
            options,
            clusters,
            apps,
            wanted_by: WantedBy::default(),
            cache: Arc::new(DryRunCache::default()),
            compare_turns: Arc::new(tokio::sync::Semaphore::new(APPS_COMPARING)),
            config_ignore,
            tx,
            rx,
            snapshots,
            generation: 0,
            dirty: true,
            observed: Default::default(),
            next_op_id: 0,
            last_publish: (tokio::time::Instant::now(), Duration::ZERO),
            publish_due: None,
        }
    }

    pub(super) async fn run(&mut self, mut commands: mpsc::Receiver<EngineCommand>) {
        for c in 0..self.clusters.len() {
            self.clusters[c].discover(c, &self.tx);
        }
        for a in 0..self.apps.len() {
            self.render(a, false);
        }
        self.publish();
        let mut refresh = self.options.refresh_every.map(|every| {
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        loop {
            let due = self.publish_due;
            tokio::select! {
                () = async {
                    match due {
                        Some(t) => tokio::time::sleep_until(t).await,
                        None => std::future::pending::<()>().await,
                    }
                } => {
                    self.publish_due = None;
                    self.publish();
                }
                Some(msg) = self.rx.recv() => {
                    self.handle(msg);
                    // Drain what else is queued so a burst of watch events costs one publish.
                    while let Ok(msg) = self.rx.try_recv() {
                        self.handle(msg);
                    }
                    self.publish();
                }
                cmd = commands.recv() => match cmd {
                    Some(cmd) => {
                        self.command(cmd);
                        self.publish();
                    }
                    None => return,
                },
                _ = async {
                    match refresh.as_mut() {
                        Some(t) => { t.tick().await; }
                        None => std::future::pending::<()>().await,
                    }
                } => {
                    for a in 0..self.apps.len() {
                        self.render(a, true);
                    }
                }
            }
        }
    }

    fn command(&mut self, cmd: EngineCommand) {
        let Some(cmd) = self.route_observed(cmd) else {
            return;
        };
        match cmd {
            EngineCommand::Observed(cmd) => self.observed_command(cmd),
            EngineCommand::Refresh { app, hard } => {
                if hard {
                    self.cache.clear();
                    // Kinds whose CRD was installed (or removed) outside any app since the
                    // last discovery are found this way; syncs that apply CRDs rediscover
                    // by themselves. The new catalog prepares the cluster's apps again.
                    let clusters: BTreeSet<usize> = self
                        .apps
                        .iter()
                        .filter(|rt| app.as_deref().is_none_or(|q| rt.app.qualified_name() == q))
                        .filter_map(|rt| rt.cluster.as_ref().ok().copied())
                        .collect();
                    for c in clusters {
                        self.clusters[c].discover(c, &self.tx);
                    }
                }
                for a in 0..self.apps.len() {
                    let wanted = app
                        .as_deref()
                        .is_none_or(|q| self.apps[a].app.qualified_name() == q);
                    if wanted {
                        self.render(a, true);
                    }
                }
            }
            EngineCommand::LiveYaml { app, key, reply } => {
                let _ = reply.send(self.live_yaml(&app, &key));
            }
            EngineCommand::DiffRevision {
                app,
                revision,
                reply,
            } => match self.find_app(&app) {
                Ok(a) => self.render_revision(a, revision, reply),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            cmd @ (EngineCommand::Plan { .. }
            | EngineCommand::Sync { .. }
            | EngineCommand::Terminate { .. }
            | EngineCommand::Rollback { .. }
            | EngineCommand::History { .. }) => self.op_command(cmd),
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Catalog { cluster, result } => {
                match result {
                    Ok(catalog) => {
                        self.clusters[cluster].catalog = Some(Arc::new(catalog));
                        self.clusters[cluster].catalog_error = None;
                        self.observe_cluster(cluster);
                    }
                    Err(e) => {
                        self.clusters[cluster].catalog_error = Some(e);
                        self.clusters[cluster].rediscover_later(cluster, &self.tx);
                    }
                }
                let apps: Vec<usize> = (0..self.apps.len())
                    .filter(|a| self.apps[*a].cluster == Ok(cluster))
                    .collect();
                for a in apps {
                    self.prepare(a);
                }
                // After the apps' own watches, so kinds they want in full are not first
                // listed metadata-only.
                self.watch_prunable_kinds(cluster);
                self.dirty = true;
            }
            Msg::Rendered {
                app,
                generation,
                result,
            } => {
                if self.apps[app].render_generation != generation {
                    return;
                }
                self.note_rendered(app, &result);
                self.apps[app].rendered = Some(result);
                self.prepare(app);
                if let Ok(c) = self.apps[app].cluster {
                    self.watch_prunable_kinds(c);
                }
                self.dirty = true;
            }
            Msg::Watch { cluster, msg } => {
                let is_state = matches!(msg, WatchMsg::State(..) | WatchMsg::Relisted(_));
                let changed = self.clusters[cluster].store.apply(msg);
                self.observed_changed(cluster, &changed, is_state);
                self.forward_live(cluster, &changed);
                let mut touched = BTreeSet::new();
                for key in &changed {
                    self.apps_touched_by(cluster, key, &mut touched);
                }
                if is_state {
                    touched.extend(
                        (0..self.apps.len()).filter(|a| self.apps[*a].cluster == Ok(cluster)),
                    );
                    self.dirty = true;
                }
                for a in touched {
                    self.compare(a);
                }
            }
            Msg::Observed(msg) => self.on_observed_msg(msg),
            Msg::RevisionRendered { app, result, reply } => {
                self.compare_revision(app, result, reply);
            }
            Msg::Op(msg) => self.on_op_msg(msg),
            Msg::Compared {
                app,
                generation,
                outcomes,
            } => {
                let rt = &mut self.apps[app];
                if rt.compare_generation != generation {
                    return;
                }
                rt.comparing = false;
                rt.outcomes = Some(outcomes);
                self.summarize(app);
                if self.apps[app].stale {
                    self.apps[app].stale = false;
                    self.compare(app);
                }
                self.after_compare(app, generation);
            }
            Msg::CompareTurn(turn) => self.start_compare(*turn),
        }
    }

    /// Apps that want `key`, that track it, or whose wanted objects own it (walking up
    /// ownerReferences): the only apps a change to `key` can affect.
    fn publish(&mut self) {
        if !self.dirty {
            return;
        }
        let (at, cost) = self.last_publish;
        let earliest = at + cost * PUBLISH_COST_SHARE;
        let now = tokio::time::Instant::now();
        if now < earliest {
            self.publish_due = Some(earliest);
            return;
        }
        self.publish_due = None;
        self.dirty = false;
        self.generation += 1;
        let mut apps: Vec<crate::model::AppSnapshot> = self
            .apps
            .iter()
            .map(|rt| match &rt.summary {
                Some(s) => (**s).clone(),
                None => summary::pending(&rt.app, &self.cluster_label(rt)),
            })
            .collect();
        apps.extend(self.observed_snapshots());
        apps.sort_by(|x, y| {
            (&x.namespace, &x.name, &x.cluster, x.managed_by, &x.kind).cmp(&(
                &y.namespace,
                &y.name,
                &y.cluster,
                y.managed_by,
                &y.kind,
            ))
        });
        let settled = self.observed_settled()
            && self.apps.iter().all(|rt| {
                rt.outcomes.is_some()
                    || rt.cluster.is_err()
                    || matches!(rt.rendered, Some(Err(_)))
                    || rt.cluster.as_ref().is_ok_and(|c| {
                        self.clusters[*c].catalog.is_none()
                            && self.clusters[*c].catalog_error.is_some()
                    })
            });
        let clusters = self
            .clusters
            .iter()
            .map(|c| ClusterSnapshot {
                name: c.handle.name.clone(),
                connection: c.connection(),
            })
            .collect();
        let snapshot = Snapshot {
            generation: self.generation,
            apps,
            clusters,
            read_only: self.options.read_only,
            settled,
        };
        let _ = self.snapshots.send(Arc::new(snapshot));
        self.last_publish = (now, now.elapsed());
    }

    fn cluster_label(&self, rt: &AppState) -> String {
        match rt.cluster {
            Ok(c) => self.clusters[c].handle.name.clone(),
            Err(_) => rt.destination_label(),
        }
    }
}
