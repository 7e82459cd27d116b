//! The driver: runs the pure controllers against the store. It listens to the store's change
//! feed, keeps a deduplicated work queue (a Pod's change also queues its controller and the
//! Services selecting it, and so on), runs one reconcile at a time, carries the effects out
//! through [`StoreAccess`] under the simulated controller's field manager, and keeps requeue
//! timers on the simulated clock.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::{FutureExt, Stream, StreamExt};
use serde_json::Value;

use super::events::{EventKey, event_key, event_namespace, event_object};
use super::nodes::initial_nodes;
use super::{
    Effect, EventSpec, KINDS, Obj, Outcome, World, handles, meta, reconcile, reconcile_deleted,
};
use crate::clock::{SimClock, SimDuration, SimTime};
use crate::key::ResourceKey;

/// How soon an object whose effects failed (conflict, not found …) is tried again.
const RETRY: SimDuration = SimDuration::from_millis(500);
/// Reconciles between checks for shutdown and yields to other tasks.
const BATCH: usize = 64;

/// A change the store reports: the object as it is now, or as it was when it was deleted.
#[derive(Debug, Clone)]
pub struct Changed {
    /// Which object changed.
    pub key: ResourceKey,
    /// The object after the change (for a deletion: its last state).
    pub object: Obj,
    /// Whether the object is gone.
    pub deleted: bool,
}

/// What the store's change feed yields.
#[derive(Debug, Clone)]
pub enum Feed {
    /// Objects changed, in the order the changes were committed.
    Changes(Vec<Changed>),
    /// Changes were missed (the feed fell behind): everything must be looked at again.
    Lost,
}

/// The store's change feed; it ends when the store shuts down.
pub type ChangeFeed = Pin<Box<dyn Stream<Item = Feed> + Send>>;

/// Why the store refused a write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// An object of that name exists already.
    #[error("{0} already exists")]
    AlreadyExists(String),
    /// The object changed since it was read (resourceVersion precondition failed).
    #[error("conflict on {0}: {1}")]
    Conflict(String, String),
    /// Anything else (invalid object, namespace terminating …).
    #[error("{0}")]
    Rejected(String),
}

/// What the driver needs from the store. Every write goes through the API machinery, so it
/// bumps resourceVersions, reaches watchers, records managedFields under `manager` and
/// appears in the audit log.
pub trait StoreAccess: World {
    /// A feed of every change to every object from now on, in order.
    fn subscribe(&self) -> ChangeFeed;
    /// Creates `obj` (the store assigns uid, resourceVersion, creationTimestamp …; a status
    /// in `obj` may be dropped, the driver writes it with `update_status` afterwards).
    fn create(&self, obj: Value, manager: &str) -> Result<Obj, StoreError>;
    /// Replaces everything but `.status`. A `metadata.resourceVersion` in `obj` is a
    /// precondition. The scheduler uses it to set `spec.nodeName` (its binding), the
    /// namespace controller to drop the `kubernetes` entry of a Namespace's `spec.finalizers`
    /// (after which a Namespace with deletionTimestamp and no finalizers is removed).
    fn update(&self, obj: Value, manager: &str) -> Result<Obj, StoreError>;
    /// Replaces `.status` of the object (the `/status` subresource); with `expected_rv`,
    /// only if the object is still at that resourceVersion.
    fn update_status(
        &self,
        key: &ResourceKey,
        status: Value,
        expected_rv: Option<&str>,
        manager: &str,
    ) -> Result<Obj, StoreError>;
    /// Deletes the object with background propagation. For a Pod that already carries
    /// `deletionTimestamp` this is the kubelet's final delete and must remove it (grace 0);
    /// objects with finalizers only get their `deletionTimestamp`.
    fn delete(&self, key: &ResourceKey, manager: &str) -> Result<(), StoreError>;
}

/// Runs the simulated controllers until `shutdown` completes or the store's change feed ends
/// (the store shut down).
///
/// At start it creates the three Nodes when the store lacks them and reconciles every
/// existing object once.
pub async fn run(
    store: Arc<dyn StoreAccess>,
    clock: SimClock,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut feed = store.subscribe();
    let mut driver = Driver::new(store, clock.clone());
    driver.bootstrap();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut since_yield = 0usize;
    loop {
        // Take in everything the feed has ready before working the queue.
        while let Some(item) = feed.next().now_or_never() {
            match item {
                Some(item) => driver.take(item),
                None => return,
            }
        }
        driver.fire_timers();
        if driver.has_work() {
            driver.work_one();
            since_yield += 1;
            if since_yield >= BATCH {
                since_yield = 0;
                if shutdown.as_mut().now_or_never().is_some() {
                    return;
                }
                tokio::task::yield_now().await;
            }
            continue;
        }
        since_yield = 0;
        let wait = driver
            .next_timer()
            .map(|at| clock.real_duration(at.since(clock.now())));
        let timer = async {
            match wait {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = shutdown.as_mut() => return,
            item = feed.next() => match item {
                Some(item) => driver.take(item),
                None => return,
            },
            _ = timer => {}
        }
    }
}

/// The driver's state between steps.
struct Driver {
    store: Arc<dyn StoreAccess>,
    clock: SimClock,
    queue: VecDeque<ResourceKey>,
    queued: HashSet<ResourceKey>,
    gone: VecDeque<Obj>,
    timers: BinaryHeap<Reverse<(SimTime, ResourceKey)>>,
    timer_at: HashMap<ResourceKey, SimTime>,
    next_id: u64,
    events: HashMap<EventKey, (String, String)>,
    // The fold key of each Event written, to forget it when the Event goes (TTL, kubectl).
    event_folds: HashMap<(String, String), EventKey>,
}

impl Driver {
    fn new(store: Arc<dyn StoreAccess>, clock: SimClock) -> Self {
        Driver {
            store,
            clock,
            queue: VecDeque::new(),
            queued: HashSet::new(),
            gone: VecDeque::new(),
            timers: BinaryHeap::new(),
            timer_at: HashMap::new(),
            next_id: 0,
            events: HashMap::new(),
            event_folds: HashMap::new(),
        }
    }

    fn bootstrap(&mut self) {
        let store = self.store.clone();
        let store = store.as_ref();
        let calendar = self.clock.calendar();
        for node in initial_nodes(calendar.calendar(self.clock.now())) {
            if store.get("", "Node", "", meta::name(&node)).is_none() {
                let key = meta::key_of(&node);
                let status = node.get("status").cloned();
                match store.create(node, super::KUBELET) {
                    Ok(_) => {
                        if let Some(status) = status
                            && let Err(e) = store.update_status(&key, status, None, super::KUBELET)
                        {
                            tracing::debug!("node status for {key}: {e}");
                        }
                    }
                    Err(e) => tracing::debug!("creating node {key}: {e}"),
                }
            }
        }
        self.enqueue_all(store);
    }

    fn enqueue_all(&mut self, store: &dyn StoreAccess) {
        for (group, kind) in KINDS {
            for obj in store.list(group, kind, None) {
                self.enqueue(meta::key_of(&obj));
            }
        }
    }

    /// After a lagged feed nothing can be trusted: reconcile everything.
    fn resync(&mut self) {
        let store = self.store.clone();
        self.enqueue_all(store.as_ref());
    }

    fn enqueue(&mut self, key: ResourceKey) {
        if self.queued.insert(key.clone()) {
            self.queue.push_back(key);
        }
    }

    fn has_work(&self) -> bool {
        !self.queue.is_empty() || !self.gone.is_empty()
    }

    fn schedule(&mut self, key: ResourceKey, at: SimTime) {
        if self.timer_at.get(&key).is_some_and(|t| *t <= at) {
            return;
        }
        self.timer_at.insert(key.clone(), at);
        self.timers.push(Reverse((at, key)));
    }

    fn next_timer(&self) -> Option<SimTime> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    fn fire_timers(&mut self) {
        let now = self.clock.now();
        while let Some(Reverse((at, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, key))) = self.timers.pop() else {
                break;
            };
            // Only the earliest timer of a key is live; later duplicates were superseded.
            if self.timer_at.get(&key) == Some(&at) {
                self.timer_at.remove(&key);
                self.enqueue(key);
            }
        }
    }

    /// Takes one item of the feed.
    fn take(&mut self, item: Feed) {
        match item {
            Feed::Lost => self.resync(),
            Feed::Changes(changes) => changes.into_iter().for_each(|c| self.on_change(c)),
        }
    }

    /// Queues what a change concerns.
    fn on_change(&mut self, change: Changed) {
        let store = self.store.clone();
        let key = &change.key;
        let obj = change.object.as_ref();
        if key.group.is_empty() && key.kind == "Event" {
            if change.deleted
                && let Some(fold) = self
                    .event_folds
                    .remove(&(key.namespace.clone(), key.name.clone()))
            {
                self.events.remove(&fold);
            }
            return;
        }
        if handles(&key.group, &key.kind) {
            if change.deleted {
                self.gone.push_back(change.object.clone());
            } else {
                self.enqueue(key.clone());
            }
        }
        if let Some((owner, _)) = meta::controller_key(obj)
            && handles(&owner.group, &owner.kind)
        {
            self.enqueue(owner);
        }
        match (key.group.as_str(), key.kind.as_str()) {
            ("", "Pod") => {
                let labels = meta::labels(obj);
                for svc in store.list("", "Service", Some(&key.namespace)) {
                    if let Some(sel) =
                        meta::at(&svc, &["spec", "selector"]).and_then(Value::as_object)
                        && !sel.is_empty()
                        && meta::map_selects(sel, &labels)
                    {
                        self.enqueue(meta::key_of(&svc));
                    }
                }
            }
            ("", "Node") => {
                for ds in store.list("apps", "DaemonSet", None) {
                    self.enqueue(meta::key_of(&ds));
                }
            }
            ("", "Endpoints") => {
                self.enqueue(ResourceKey::new("", "Service", &key.namespace, &key.name));
            }
            _ => {}
        }
        if change.deleted
            && !key.namespace.is_empty()
            && store
                .get("", "Namespace", "", &key.namespace)
                .is_some_and(|ns| meta::is_terminating(&ns))
        {
            self.enqueue(ResourceKey::new("", "Namespace", "", &key.namespace));
        }
    }

    /// Runs one queued reconcile.
    fn work_one(&mut self) {
        let store = self.store.clone();
        let store = store.as_ref();
        if let Some(obj) = self.gone.pop_front() {
            let outcome = reconcile_deleted(&obj, store);
            self.apply(store, &meta::key_of(&obj), outcome);
            return;
        }
        let Some(key) = self.queue.pop_front() else {
            return;
        };
        self.queued.remove(&key);
        let Some(obj) = store.get(&key.group, &key.kind, &key.namespace, &key.name) else {
            return;
        };
        let now = self.clock.now();
        let mut next_id = self.next_id;
        let outcome = reconcile(&obj, store, now, self.clock.calendar(), &mut || {
            next_id += 1;
            next_id
        });
        self.next_id = next_id;
        self.apply(store, &key, outcome);
    }

    fn apply(&mut self, store: &dyn StoreAccess, key: &ResourceKey, outcome: Outcome) {
        let manager = outcome.manager;
        let now = self.clock.now();
        let mut failed = false;
        // Objects this outcome already wrote: a later status write of theirs carries the
        // resourceVersion read before, which is no longer a precondition worth keeping.
        let mut written: Vec<ResourceKey> = Vec::new();
        for effect in outcome.effects {
            let result = match effect {
                Effect::Create(obj) => create_with_status(store, obj, manager),
                Effect::Update(obj) => {
                    written.push(meta::key_of(&obj));
                    store.update(obj, manager).map(drop)
                }
                Effect::UpdateStatus(obj) => {
                    let target = meta::key_of(&obj);
                    let status = obj.get("status").cloned().unwrap_or(Value::Null);
                    // A status computed from an older read must not overwrite what was
                    // written since (a controller's PUT /status carries its resourceVersion);
                    // that newer write is in the feed and brings the object back here.
                    let expected = (!written.contains(&target)).then(|| str_rv(&obj)).flatten();
                    written.push(target.clone());
                    match store.update_status(&target, status, expected.as_deref(), manager) {
                        Err(StoreError::Conflict(..)) => Ok(()),
                        other => other.map(drop),
                    }
                }
                Effect::Delete(target) => match store.delete(&target, manager) {
                    Err(StoreError::NotFound(_)) => Ok(()),
                    other => other,
                },
                Effect::Event(spec) => {
                    self.record_event(store, &spec, now, manager);
                    Ok(())
                }
                Effect::Requeue(d) => {
                    self.schedule(key.clone(), now + d);
                    Ok(())
                }
            };
            if let Err(e) = result {
                tracing::debug!("controller effect for {key} failed: {e}");
                failed = true;
            }
        }
        if failed {
            self.schedule(key.clone(), now + RETRY);
        }
    }

    /// Writes an Event, folding a repeat into the earlier Event of the same key.
    fn record_event(
        &mut self,
        store: &dyn StoreAccess,
        spec: &EventSpec,
        now: SimTime,
        manager: &str,
    ) {
        // Events carry calendar time, like every timestamp written into an object.
        let now = self.clock.calendar().calendar(now);
        let fold_key = event_key(spec);
        let existing = self
            .events
            .get(&fold_key)
            .and_then(|(ns, name)| store.get("", "Event", ns, name));
        if let Some(old) = existing {
            let updated = event_object(spec, Some(&old), now, 0);
            if store.update(updated, manager).is_ok() {
                return;
            }
        }
        self.next_id += 1;
        let event = event_object(spec, None, now, self.next_id);
        let name = meta::name(&event).to_string();
        match store.create(event, manager) {
            Ok(_) => {
                let at = (event_namespace(spec).to_string(), name);
                self.event_folds.insert(at.clone(), fold_key.clone());
                if let Some(stale) = self.events.insert(fold_key, at) {
                    self.event_folds.remove(&stale);
                }
            }
            Err(e) => tracing::debug!("recording event {}: {e}", spec.reason),
        }
    }
}

/// The resourceVersion an object was read at, if it carries one.
fn str_rv(obj: &Value) -> Option<String> {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|rv| !rv.is_empty())
        .map(String::from)
}

fn create_with_status(
    store: &dyn StoreAccess,
    obj: Value,
    manager: &str,
) -> Result<(), StoreError> {
    let status = obj
        .get("status")
        .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    let created = store.create(obj, manager)?;
    if let Some(status) = status
        && !meta::status_is(&created, &status)
    {
        store.update_status(&meta::key_of(&created), status, None, manager)?;
    }
    Ok(())
}
