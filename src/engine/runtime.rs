//! The engine task: the one owner of app state. It renders apps from Git, keeps a live
//! store per cluster fed by watchers, compares, and publishes immutable snapshots that the
//! TUI and the headless commands read. Network and Git work runs in spawned tasks whose
//! results come back tagged with the generation that asked for them; stale ones are dropped.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::compare::{self, CompareJob, DryRunCache, ResourceOutcome};
use super::desired::{self, DesiredObject};
use super::summary;
use super::tracking;
use crate::cluster::{ApiCatalog, ClusterHandle, KindState, LiveStore, WatchMsg, spawn_watch};
use crate::model::{
    Application, ClusterSnapshot, ConnectionState, GroupKind, IgnoreDifference, Operation,
    ResourceDiff, ResourceKey, Snapshot, SyncOptions, SyncPlan, split_api_version,
};
use crate::source::{Rendered, SourceError, Sources};

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
}

/// Where the answer to a query goes; a dropped receiver means the asker moved on.
pub type Reply<T> = oneshot::Sender<Result<T, String>>;

/// What a client of the engine may ask for. Apps are named `namespace/name`.
#[derive(Debug)]
pub enum EngineCommand {
    /// Fetch Git and compare again: one app or all; `hard` drops cached dry runs too.
    Refresh {
        /// The app, or every app when `None`.
        app: Option<String>,
        /// Forget cached dry runs too.
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
        let mut engine = Engine::new(options, snap_tx);
        engine.run(cmd_rx).await;
    });
    EngineHandle {
        snapshots: snap_rx,
        commands: cmd_tx,
        task,
    }
}

/// Kinds whose objects hang under a managed kind in the tree, watched along with it.
fn child_kinds(gk: &GroupKind) -> &'static [(&'static str, &'static str)] {
    match (gk.group.as_str(), gk.kind.as_str()) {
        ("apps", "Deployment") => &[("apps", "ReplicaSet"), ("", "Pod")],
        ("apps", "ReplicaSet") | ("apps", "DaemonSet") | ("batch", "Job") => &[("", "Pod")],
        ("apps", "StatefulSet") => &[("", "Pod"), ("", "PersistentVolumeClaim")],
        ("batch", "CronJob") => &[("batch", "Job"), ("", "Pod")],
        ("", "Service") => &[("discovery.k8s.io", "EndpointSlice")],
        _ => &[],
    }
}

enum Msg {
    Rendered {
        app: usize,
        generation: u64,
        result: Result<Rendered, SourceError>,
    },
    Catalog {
        cluster: usize,
        result: Result<ApiCatalog, String>,
    },
    Watch {
        cluster: usize,
        msg: WatchMsg,
    },
    Compared {
        app: usize,
        generation: u64,
        outcomes: Vec<ResourceOutcome>,
    },
    RevisionRendered {
        app: usize,
        result: Result<Rendered, SourceError>,
        reply: Reply<Vec<ResourceDiff>>,
    },
}

struct ClusterRuntime {
    handle: ClusterHandle,
    catalog: Option<Arc<ApiCatalog>>,
    catalog_error: Option<String>,
    store: LiveStore,
    watches: HashMap<GroupKind, JoinHandle<()>>,
}

impl Drop for ClusterRuntime {
    fn drop(&mut self) {
        for w in self.watches.values() {
            w.abort();
        }
    }
}

struct AppRuntime {
    app: Application,
    instance: String,
    cluster: Result<usize, String>,
    render_generation: u64,
    rendered: Option<Result<Rendered, SourceError>>,
    desired: Option<Arc<Vec<DesiredObject>>>,
    compare_generation: u64,
    comparing: bool,
    /// A compare was asked for while one ran; run again when it returns.
    stale: bool,
    outcomes: Option<Vec<ResourceOutcome>>,
    summary: Option<Arc<crate::model::AppSnapshot>>,
}

struct Engine {
    options: EngineOptions,
    clusters: Vec<ClusterRuntime>,
    apps: Vec<AppRuntime>,
    /// (cluster, key) → apps that want that object.
    wanted_by: HashMap<(usize, ResourceKey), Vec<usize>>,
    cache: Arc<DryRunCache>,
    config_ignore: Arc<Vec<IgnoreDifference>>,
    tx: mpsc::UnboundedSender<Msg>,
    rx: mpsc::UnboundedReceiver<Msg>,
    snapshots: watch::Sender<Arc<Snapshot>>,
    generation: u64,
    dirty: bool,
}

impl Engine {
    fn new(options: EngineOptions, snapshots: watch::Sender<Arc<Snapshot>>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let clusters: Vec<ClusterRuntime> = options
            .clusters
            .iter()
            .map(|h| ClusterRuntime {
                handle: h.clone(),
                catalog: None,
                catalog_error: None,
                store: LiveStore::new(),
                watches: HashMap::new(),
            })
            .collect();
        let apps = options
            .apps
            .iter()
            .map(|app| AppRuntime {
                instance: tracking::instance_name(app.namespace(), &app.metadata.name),
                cluster: pick_cluster(app, &options.clusters),
                app: app.clone(),
                render_generation: 0,
                rendered: None,
                desired: None,
                compare_generation: 0,
                comparing: false,
                stale: false,
                outcomes: None,
                summary: None,
            })
            .collect();
        let config_ignore = Arc::new(options.config_ignore.clone());
        Engine {
            options,
            clusters,
            apps,
            wanted_by: HashMap::new(),
            cache: Arc::new(DryRunCache::default()),
            config_ignore,
            tx,
            rx,
            snapshots,
            generation: 0,
            dirty: true,
        }
    }

    async fn run(&mut self, mut commands: mpsc::Receiver<EngineCommand>) {
        for c in 0..self.clusters.len() {
            self.discover(c);
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
            tokio::select! {
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
        match cmd {
            EngineCommand::Refresh { app, hard } => {
                if hard {
                    self.cache.clear();
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
            EngineCommand::Plan { reply, .. } => {
                let _ = reply.send(Err("syncing is not available in this build".into()));
            }
            EngineCommand::Sync { reply, .. } | EngineCommand::Rollback { reply, .. } => {
                if let Some(reply) = reply {
                    let _ = reply.send(Err("syncing is not available in this build".into()));
                }
            }
            EngineCommand::Terminate { .. } => {}
        }
    }

    fn find_app(&self, name: &str) -> Result<usize, String> {
        self.apps
            .iter()
            .position(|rt| rt.app.qualified_name() == name)
            .ok_or_else(|| format!("no app named {name}"))
    }

    /// The live object as YAML, Secret values masked.
    fn live_yaml(&self, app: &str, key: &ResourceKey) -> Result<String, String> {
        let a = self.find_app(app)?;
        let c = self.apps[a].cluster.clone()?;
        let obj = self.clusters[c]
            .store
            .get(key)
            .ok_or_else(|| format!("{key} is not in the cluster"))?;
        let mut v = (*obj.object).clone();
        super::mask::mask_object(&mut v);
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        Ok(super::diff::to_stable_yaml(&v))
    }

    /// Renders app `a` at `revision` off the engine task; the result comes back as a
    /// message and is compared against live like a normal compare.
    fn render_revision(&mut self, a: usize, revision: String, reply: Reply<Vec<ResourceDiff>>) {
        let mut application = self.apps[a].app.clone();
        application.spec.source.target_revision = Some(revision);
        let sources = self.options.sources.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = sources
                .resolve(
                    &application.spec.source.repo_url,
                    application.spec.source.revision(),
                    false,
                )
                .and_then(|commit| sources.render_app(&application, &commit));
            let _ = tx.send(Msg::RevisionRendered {
                app: a,
                result,
                reply,
            });
        });
    }

    /// Compares a revision's render against live and answers with the differing resources.
    fn compare_revision(
        &mut self,
        a: usize,
        result: Result<Rendered, SourceError>,
        reply: Reply<Vec<ResourceDiff>>,
    ) {
        let rendered = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = reply.send(Err(e.to_string()));
                return;
            }
        };
        let job = match self.job_for(a, &rendered) {
            Ok(job) => job,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let cache = self.cache.clone();
        tokio::spawn(async move {
            let outcomes = compare::run(job, cache).await;
            let diffs = outcomes
                .into_iter()
                .filter(|o| o.diff.changed)
                .map(|o| o.diff)
                .collect();
            let _ = reply.send(Ok(diffs));
        });
    }

    /// A compare job for app `a` against `rendered` (not necessarily its current render).
    fn job_for(&self, a: usize, rendered: &Rendered) -> Result<CompareJob, String> {
        let c = self.apps[a].cluster.clone()?;
        let cluster = &self.clusters[c];
        let catalog = cluster
            .catalog
            .clone()
            .ok_or_else(|| format!("cluster {} is not connected yet", cluster.handle.name))?;
        let dest_ns = self.apps[a]
            .app
            .spec
            .destination
            .namespace
            .clone()
            .unwrap_or_default();
        let desired = Arc::new(desired::prepare(
            &rendered.manifests,
            &dest_ns,
            &self.apps[a].instance,
            &catalog,
            &cluster.handle.name,
        ));
        Ok(self.build_job(a, c, catalog, desired))
    }

    fn discover(&mut self, c: usize) {
        let client = self.clusters[c].handle.client.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = ApiCatalog::discover(&client).await.map_err(describe_kube);
            let _ = tx.send(Msg::Catalog { cluster: c, result });
        });
    }

    fn render(&mut self, a: usize, fetch: bool) {
        let app = &mut self.apps[a];
        app.render_generation += 1;
        let generation = app.render_generation;
        let application = app.app.clone();
        let sources = self.options.sources.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = sources
                .resolve(
                    &application.spec.source.repo_url,
                    application.spec.source.revision(),
                    fetch,
                )
                .and_then(|commit| sources.render_app(&application, &commit));
            let _ = tx.send(Msg::Rendered {
                app: a,
                generation,
                result,
            });
        });
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Catalog { cluster, result } => {
                match result {
                    Ok(catalog) => {
                        self.clusters[cluster].catalog = Some(Arc::new(catalog));
                        self.clusters[cluster].catalog_error = None;
                    }
                    Err(e) => {
                        self.clusters[cluster].catalog_error = Some(e);
                        // Retry: an unreachable cluster may come back.
                        let tx = self.tx.clone();
                        let client = self.clusters[cluster].handle.client.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            let result = ApiCatalog::discover(&client).await.map_err(describe_kube);
                            let _ = tx.send(Msg::Catalog { cluster, result });
                        });
                    }
                }
                let apps: Vec<usize> = (0..self.apps.len())
                    .filter(|a| self.apps[*a].cluster == Ok(cluster))
                    .collect();
                for a in apps {
                    self.prepare(a);
                }
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
                self.apps[app].rendered = Some(result);
                self.prepare(app);
                self.dirty = true;
            }
            Msg::Watch { cluster, msg } => {
                let is_state = matches!(msg, WatchMsg::State(..) | WatchMsg::Relisted(_));
                let changed = self.clusters[cluster].store.apply(msg);
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
            Msg::RevisionRendered { app, result, reply } => {
                self.compare_revision(app, result, reply);
            }
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
            }
        }
    }

    /// Apps that want `key`, that track it, or whose wanted objects own it (walking up
    /// ownerReferences): the only apps a change to `key` can affect.
    fn apps_touched_by(&self, cluster: usize, key: &ResourceKey, out: &mut BTreeSet<usize>) {
        let store = &self.clusters[cluster].store;
        let mut current = Some(key.clone());
        let mut hops = 0;
        while let Some(k) = current.take() {
            if let Some(apps) = self.wanted_by.get(&(cluster, k.clone())) {
                out.extend(apps.iter().copied());
            }
            let Some(obj) = store.get(&k) else { break };
            if let Some(id) = tracking::tracking_id(&obj.object) {
                out.extend((0..self.apps.len()).filter(|a| {
                    self.apps[*a].instance == id.app && self.apps[*a].cluster == Ok(cluster)
                }));
            }
            hops += 1;
            if hops > 8 {
                break;
            }
            current = obj
                .owners
                .first()
                .and_then(|uid| store.get_by_uid(uid))
                .and_then(|o| ResourceKey::of(&o.object));
        }
        // A deleted object is gone from the store; its apps still need a recompare.
        if store.get(key).is_none() {
            out.extend((0..self.apps.len()).filter(|a| {
                self.apps[*a].cluster == Ok(cluster)
                    && self.apps[*a]
                        .desired
                        .as_ref()
                        .is_some_and(|d| d.iter().any(|o| o.key == *key))
            }));
        }
    }

    /// Turns the rendered manifests into desired objects for the app's cluster, starts the
    /// watches they need and compares.
    fn prepare(&mut self, a: usize) {
        let Ok(c) = self.apps[a].cluster else {
            self.summarize(a);
            return;
        };
        let Some(Ok(rendered)) = &self.apps[a].rendered else {
            self.summarize(a);
            return;
        };
        let Some(catalog) = self.clusters[c].catalog.clone() else {
            self.summarize(a);
            return;
        };
        let dest_ns = self.apps[a]
            .app
            .spec
            .destination
            .namespace
            .clone()
            .unwrap_or_default();
        let objects = desired::prepare(
            &rendered.manifests,
            &dest_ns,
            &self.apps[a].instance,
            &catalog,
            &self.clusters[c].handle.name,
        );
        if let Some(old) = &self.apps[a].desired {
            for d in old.iter() {
                if let Some(list) = self.wanted_by.get_mut(&(c, d.key.clone())) {
                    list.retain(|x| *x != a);
                }
            }
        }
        for d in &objects {
            self.wanted_by
                .entry((c, d.key.clone()))
                .or_default()
                .push(a);
        }
        let mut kinds: BTreeSet<GroupKind> = BTreeSet::new();
        for d in &objects {
            let gk = d.key.group_kind();
            for (g, k) in child_kinds(&gk) {
                kinds.insert(GroupKind::new(*g, *k));
            }
            kinds.insert(gk);
        }
        self.apps[a].desired = Some(Arc::new(objects));
        for gk in kinds {
            self.ensure_watch(c, &gk);
        }
        self.compare(a);
    }

    fn ensure_watch(&mut self, c: usize, gk: &GroupKind) {
        let cluster = &mut self.clusters[c];
        if cluster.watches.contains_key(gk) {
            return;
        }
        let Some(kind) = cluster
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
        cluster
            .store
            .apply(WatchMsg::State(gk.clone(), KindState::Syncing));
        let (tx, mut rx) = mpsc::channel(1024);
        let forward = self.tx.clone();
        let watch = spawn_watch(cluster.handle.client.clone(), kind.resource.clone(), tx);
        let relay = tokio::spawn(async move {
            while let Some(msg) = rx.recv().await {
                if forward.send(Msg::Watch { cluster: c, msg }).is_err() {
                    break;
                }
            }
            watch.abort();
        });
        cluster.watches.insert(gk.clone(), relay);
    }

    /// Starts a comparison of app `a` if its inputs are ready.
    fn compare(&mut self, a: usize) {
        let Ok(c) = self.apps[a].cluster else { return };
        let Some(desired) = self.apps[a].desired.clone() else {
            return;
        };
        let Some(catalog) = self.clusters[c].catalog.clone() else {
            return;
        };
        let store = &self.clusters[c].store;
        let mut unavailable = HashMap::new();
        for d in desired.iter() {
            match store.kind_state(&d.key.group_kind()) {
                Some(KindState::Syncing) => return, // wait for the first list
                Some(KindState::Forbidden(m)) => {
                    unavailable.insert(
                        (d.key.group.clone(), d.key.kind.clone()),
                        format!("forbidden: {m}"),
                    );
                }
                Some(KindState::Failing(m)) if store.of_kind_count(&d.key.group_kind()) == 0 => {
                    unavailable.insert((d.key.group.clone(), d.key.kind.clone()), m.clone());
                }
                _ => {}
            }
        }
        if self.apps[a].comparing {
            self.apps[a].stale = true;
            return;
        }
        let mut job = self.build_job(a, c, catalog, desired);
        job.unavailable = unavailable;
        let rt = &mut self.apps[a];
        rt.compare_generation += 1;
        rt.comparing = true;
        let generation = rt.compare_generation;
        let cache = self.cache.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let outcomes = compare::run(job, cache).await;
            let _ = tx.send(Msg::Compared {
                app: a,
                generation,
                outcomes,
            });
        });
    }

    /// Gathers what comparing `desired` needs from the engine's state (live copies, tracked
    /// extras), so the comparison itself can run elsewhere.
    fn build_job(
        &self,
        a: usize,
        c: usize,
        catalog: Arc<ApiCatalog>,
        desired: Arc<Vec<DesiredObject>>,
    ) -> CompareJob {
        let store = &self.clusters[c].store;
        let live: HashMap<ResourceKey, Arc<Value>> = desired
            .iter()
            .filter_map(|d| store.get(&d.key).map(|o| (d.key.clone(), o.object.clone())))
            .collect();
        let wanted: HashSet<&ResourceKey> = desired.iter().map(|d| &d.key).collect();
        let instance = &self.apps[a].instance;
        let extra: Vec<Arc<Value>> = store
            .tracked_by(instance)
            .filter(|k| !wanted.contains(k))
            .filter_map(|k| store.get(k))
            .filter(|o| tracking::is_tracked_by(&o.object, instance))
            .map(|o| o.object.clone())
            .collect();
        CompareJob {
            client: self.clusters[c].handle.client.clone(),
            cluster: self.clusters[c].handle.name.clone(),
            catalog,
            desired,
            live,
            extra,
            unavailable: HashMap::new(),
            app_ignore: self.apps[a].app.spec.ignore_differences.clone(),
            config_ignore: self.config_ignore.clone(),
        }
    }

    /// Rebuilds app `a`'s published summary from its latest inputs.
    fn summarize(&mut self, a: usize) {
        let rt = &self.apps[a];
        let (cluster_name, store, cluster_problem) = match rt.cluster {
            Ok(c) => {
                let cl = &self.clusters[c];
                let problem = if cl.catalog.is_none() {
                    Some(match &cl.catalog_error {
                        Some(e) => format!("cluster {} is unreachable: {e}", cl.handle.name),
                        None => format!("connecting to cluster {}", cl.handle.name),
                    })
                } else {
                    None
                };
                (cl.handle.name.clone(), Some(&cl.store), problem)
            }
            Err(ref e) => (
                rt.app
                    .spec
                    .destination
                    .name
                    .clone()
                    .or(rt.app.spec.destination.server.clone())
                    .unwrap_or_default(),
                None,
                Some(e.clone()),
            ),
        };
        let input = summary::SummaryInput {
            app: &rt.app,
            instance: &rt.instance,
            cluster: &cluster_name,
            cluster_problem: cluster_problem.as_deref(),
            rendered: rt.rendered.as_ref(),
            desired: rt.desired.as_deref().map(Vec::as_slice),
            outcomes: rt.outcomes.as_deref(),
            store,
            now: jiff::Timestamp::now(),
        };
        let snap = summary::summarize(&input);
        self.apps[a].summary = Some(Arc::new(snap));
        self.dirty = true;
    }

    fn publish(&mut self) {
        if !self.dirty {
            return;
        }
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
        apps.sort_by(|x, y| {
            (&x.namespace, &x.name, &x.cluster).cmp(&(&y.namespace, &y.name, &y.cluster))
        });
        let settled = self.apps.iter().all(|rt| {
            rt.outcomes.is_some()
                || rt.cluster.is_err()
                || matches!(rt.rendered, Some(Err(_)))
                || rt.cluster.as_ref().is_ok_and(|c| {
                    self.clusters[*c].catalog.is_none() && self.clusters[*c].catalog_error.is_some()
                })
        });
        let clusters = self
            .clusters
            .iter()
            .map(|c| ClusterSnapshot {
                name: c.handle.name.clone(),
                connection: connection_state(c),
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
    }

    fn cluster_label(&self, rt: &AppRuntime) -> String {
        match rt.cluster {
            Ok(c) => self.clusters[c].handle.name.clone(),
            Err(_) => rt
                .app
                .spec
                .destination
                .name
                .clone()
                .or(rt.app.spec.destination.server.clone())
                .unwrap_or_default(),
        }
    }
}

fn connection_state(c: &ClusterRuntime) -> ConnectionState {
    if let (Some(e), None) = (&c.catalog_error, &c.catalog) {
        return ConnectionState::Unreachable(e.clone());
    }
    if c.catalog.is_none() {
        return ConnectionState::Connecting;
    }
    match c.store.failing_kinds().next() {
        Some((gk, why)) => ConnectionState::Degraded(format!("{gk}: {why}")),
        None => ConnectionState::Connected,
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

fn describe_kube(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        other => {
            let mut msg = other.to_string();
            let mut source = std::error::Error::source(&other);
            while let Some(s) = source {
                msg = format!("{msg}: {s}");
                source = s.source();
            }
            msg
        }
    }
}

/// The `version` of an apiVersion string.
pub(crate) fn version_of(api_version: &str) -> &str {
    split_api_version(api_version).1
}
