//! The object store: every object of the emulated cluster, indexed by resource, namespace and
//! name in ordered maps, under one global resourceVersion, with a bounded event log that
//! watches and in-process controllers read from.
//!
//! Objects are serialized once, when they are committed; lists and watch events reuse those
//! bytes. Reads clone `Arc`s under a read lock and render outside it. Writes compute their
//! result outside the lock and commit it only if the object did not change meanwhile
//! (optimistic concurrency, see `write.rs`).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::watch;

use super::clock::Clock;
use super::crd;
use super::kinds::{GroupResource, Registry};
use super::services::ServiceAllocator;
use super::status::ApiError;

/// An object as committed: its value, its JSON bytes and its resourceVersion.
#[derive(Debug)]
pub struct Stored {
    /// The object, `metadata.resourceVersion` included.
    pub object: Value,
    /// `object` serialized, shared by every list and watch that sends it.
    pub json: Bytes,
    /// The resourceVersion of this state (0 for a dry-run result never stored).
    pub rv: u64,
}

impl Stored {
    /// Stamps `rv` into the object (unless 0) and serializes it.
    pub fn new(mut object: Value, rv: u64) -> Self {
        if rv > 0
            && let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        // Serializing a Value cannot fail: its keys are strings and numbers are finite.
        let json = Bytes::from(serde_json::to_vec(&object).unwrap_or_default());
        Self { object, json, rv }
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        meta_str(&self.object, "name")
    }

    /// `metadata.namespace`, empty for cluster-scoped objects.
    pub fn namespace(&self) -> &str {
        meta_str(&self.object, "namespace")
    }

    /// `metadata.uid`.
    pub fn uid(&self) -> &str {
        meta_str(&self.object, "uid")
    }

    /// The JSON of the object relabelled to `api_version` (the cached bytes when it matches).
    pub fn json_at(&self, api_version: &str) -> Bytes {
        if self.object.get("apiVersion").and_then(Value::as_str) == Some(api_version) {
            return self.json.clone();
        }
        let mut o = self.object.clone();
        o["apiVersion"] = Value::String(api_version.to_string());
        Bytes::from(serde_json::to_vec(&o).unwrap_or_default())
    }
}

/// A string field of `metadata`, empty when missing.
pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed.
    Modified,
    /// Removed.
    Deleted,
}

impl EventType {
    /// The watch wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change, as watches and controllers see it.
#[derive(Debug)]
pub struct Event {
    /// The resourceVersion the change was committed at.
    pub rv: u64,
    /// Added, modified or deleted.
    pub kind: EventType,
    /// The resource the object belongs to.
    pub gr: GroupResource,
    /// The object after the change (for a delete: its last state, at `rv`).
    pub object: Arc<Stored>,
    /// The object before the change, for modifications and deletions.
    pub previous: Option<Arc<Stored>>,
    frame: OnceLock<Bytes>,
}

impl Event {
    /// The watch line `{"type":..,"object":..}\n`, built once and shared by every watcher.
    pub fn frame(&self) -> Bytes {
        self.frame
            .get_or_init(|| watch_frame(self.kind.as_str(), &self.object.json))
            .clone()
    }
}

/// Builds one watch line around already-serialized object bytes.
pub fn watch_frame(kind: &str, object: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(object.len() + 32);
    out.extend_from_slice(b"{\"type\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"object\":");
    out.extend_from_slice(object);
    out.extend_from_slice(b"}\n");
    Bytes::from(out)
}

/// Where an object lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjRef {
    /// Its resource.
    pub gr: GroupResource,
    /// Its namespace, empty when cluster-scoped.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

type Objects = BTreeMap<(String, String), Arc<Stored>>;

struct State {
    rv: u64,
    objects: HashMap<GroupResource, Objects>,
    uids: HashMap<String, ObjRef>,
    /// Owner uid → objects whose ownerReferences name it (kept after the owner is gone, so
    /// the garbage collector can find orphans).
    dependents: HashMap<String, HashSet<ObjRef>>,
    log: VecDeque<Arc<Event>>,
    /// Events at or below this resourceVersion have left the log.
    compacted: u64,
    capacity: usize,
    services: ServiceAllocator,
    /// The resourceVersion at which each custom resource began to be served: a watch cannot
    /// start before it (kube-apiserver's watch cache of the type starts there).
    served_since: HashMap<GroupResource, u64>,
}

/// Switches that tests (and the fault work) use to disturb open watches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchControl {
    /// Bumped to end every open watch cleanly.
    pub close_epoch: u64,
    /// Bumped to end every open watch with an in-stream 410 Expired.
    pub expire_epoch: u64,
}

struct Core {
    state: RwLock<State>,
    registry: RwLock<Arc<Registry>>,
    changes: watch::Sender<u64>,
    control: watch::Sender<WatchControl>,
    shutdown: watch::Sender<bool>,
    clock: Clock,
}

/// Why a commit did not happen.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// The object changed since it was read: compute again.
    Stale,
    /// Refused (namespace missing or terminating, IP taken, ...).
    Api(ApiError),
}

/// The cluster's objects. Cheap to clone; every clone is the same store.
#[derive(Clone)]
pub struct Store {
    core: Arc<Core>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("resource_version", &self.resource_version())
            .finish()
    }
}

impl Store {
    /// An empty store keeping the last `event_log_capacity` events.
    pub fn new(event_log_capacity: usize, clock: Clock) -> Self {
        let state = State {
            rv: 1,
            objects: HashMap::new(),
            uids: HashMap::new(),
            dependents: HashMap::new(),
            log: VecDeque::new(),
            compacted: 1,
            capacity: event_log_capacity.max(1),
            services: ServiceAllocator::default(),
            served_since: HashMap::new(),
        };
        Self {
            core: Arc::new(Core {
                state: RwLock::new(state),
                registry: RwLock::new(Arc::new(Registry::builtin())),
                changes: watch::channel(1).0,
                control: watch::channel(WatchControl::default()).0,
                shutdown: watch::channel(false).0,
                clock,
            }),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic elsewhere must not take the whole cluster down with poisoned locks.
        self.core.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.core.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The resources served right now.
    pub fn registry(&self) -> Arc<Registry> {
        self.core
            .registry
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The resource type of an apiVersion and kind, as served now (for in-process callers).
    pub fn resource_type(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<Arc<super::kinds::ResourceType>> {
        self.registry().for_kind(api_version, kind).cloned()
    }

    /// The clock of this cluster (timestamps, simulated speed).
    pub fn clock(&self) -> &Clock {
        &self.core.clock
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.read().rv
    }

    /// One object.
    pub fn get_stored(
        &self,
        gr: &GroupResource,
        namespace: &str,
        name: &str,
    ) -> Option<Arc<Stored>> {
        self.read()
            .objects
            .get(gr)?
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }

    /// The objects of a resource (in one namespace, or all), in namespace/name order, with
    /// the resourceVersion the list is consistent with.
    pub fn list_stored(
        &self,
        gr: &GroupResource,
        namespace: Option<&str>,
    ) -> (u64, Vec<Arc<Stored>>) {
        let st = self.read();
        let items = match st.objects.get(gr) {
            None => Vec::new(),
            Some(map) => match namespace {
                None => map.values().cloned().collect(),
                Some(ns) => map
                    .range((ns.to_string(), String::new())..)
                    .take_while(|((n, _), _)| n == ns)
                    .map(|(_, v)| v.clone())
                    .collect(),
            },
        };
        (st.rv, items)
    }

    /// Where the object with this uid lives, if it exists.
    pub fn locate_uid(&self, uid: &str) -> Option<ObjRef> {
        self.read().uids.get(uid).cloned()
    }

    /// Objects whose ownerReferences name this uid.
    pub fn dependents_of(&self, uid: &str) -> Vec<ObjRef> {
        let mut v: Vec<ObjRef> = self
            .read()
            .dependents
            .get(uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    /// How many objects of any resource live in a namespace.
    pub fn count_in_namespace(&self, namespace: &str) -> usize {
        let st = self.read();
        st.objects
            .values()
            .map(|m| {
                m.range((namespace.to_string(), String::new())..)
                    .take_while(|((n, _), _)| n == namespace)
                    .count()
            })
            .sum()
    }

    /// Events after `cursor`, or `Err(compacted)` when some of them have left the log.
    pub fn events_since(&self, cursor: u64) -> Result<Vec<Arc<Event>>, u64> {
        let st = self.read();
        if cursor < st.compacted {
            return Err(st.compacted);
        }
        let start = st.log.partition_point(|e| e.rv <= cursor);
        Ok(st.log.range(start..).cloned().collect())
    }

    /// Oldest resourceVersion a watch can still start from.
    pub fn compacted(&self) -> u64 {
        self.read().compacted
    }

    /// The oldest resourceVersion a watch of `gr` can start from: the event log's, or the
    /// one at which a custom resource began to be served, whichever is later.
    pub fn oldest_watchable(&self, gr: &GroupResource) -> u64 {
        let st = self.read();
        st.served_since
            .get(gr)
            .copied()
            .map_or(st.compacted, |since| since.max(st.compacted))
    }

    /// A receiver that changes whenever a commit happens (its value is the new rv).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.core.changes.subscribe()
    }

    /// A receiver of the watch-disturbing switches.
    pub fn control(&self) -> watch::Receiver<WatchControl> {
        self.core.control.subscribe()
    }

    /// A receiver that turns true when the cluster stops.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.core.shutdown.subscribe()
    }

    /// Stops every watch and background task reading this store.
    pub fn shut_down(&self) {
        self.core.shutdown.send_replace(true);
    }

    /// A subscription to every change from now on, for in-process controllers.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            store: self.clone(),
            cursor: self.resource_version(),
            changes: self.changes(),
            shutdown: self.shutdown_signal(),
        }
    }

    /// Ends every open watch cleanly (clients re-watch from their last resourceVersion).
    pub fn close_watches(&self) {
        self.core.control.send_modify(|c| c.close_epoch += 1);
    }

    /// Ends every open watch with an in-stream 410 Expired and forgets the event log, so
    /// that clients must list again.
    pub fn expire_watches(&self) {
        self.compact();
        self.core.control.send_modify(|c| c.expire_epoch += 1);
    }

    /// Drops the whole event log: watches from any earlier resourceVersion get 410.
    pub fn compact(&self) {
        let mut st = self.write();
        st.log.clear();
        st.compacted = st.rv;
    }

    /// Service IPs and node ports a create would get, without reserving them (dry runs).
    pub(crate) fn preview_service_allocation(
        &self,
        obj: &mut Value,
        previous: Option<&Value>,
    ) -> Result<(), ApiError> {
        self.read().services.preview(obj, previous)
    }

    /// Commits `new` (or removes the object when `None`) if the object is still `expected`.
    /// Creates are refused in a missing or terminating namespace.
    pub(crate) fn commit(
        &self,
        gr: &GroupResource,
        namespace: &str,
        name: &str,
        expected: Option<&Arc<Stored>>,
        new: Option<Value>,
    ) -> Result<Arc<Stored>, CommitError> {
        let is_crd =
            gr.group == "apiextensions.k8s.io" && gr.resource == "customresourcedefinitions";
        let is_service = gr.group.is_empty() && gr.resource == "services";
        let key = (namespace.to_string(), name.to_string());
        let mut st = self.write();
        let current = st.objects.get(gr).and_then(|m| m.get(&key)).cloned();
        let unchanged = match (&current, expected) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if !unchanged {
            return Err(CommitError::Stale);
        }
        let rv = st.rv + 1;
        let objref = ObjRef {
            gr: gr.clone(),
            namespace: namespace.to_string(),
            name: name.to_string(),
        };
        let (kind, stored) = match new {
            Some(mut obj) => {
                if current.is_none() && !namespace.is_empty() {
                    check_namespace(&st, gr, namespace, name).map_err(CommitError::Api)?;
                }
                if is_service {
                    st.services
                        .assign(
                            &mut obj,
                            current.as_deref().map(|s| &s.object),
                            namespace,
                            name,
                        )
                        .map_err(CommitError::Api)?;
                }
                let stored = Arc::new(Stored::new(obj, rv));
                let kind = if current.is_some() {
                    EventType::Modified
                } else {
                    EventType::Added
                };
                st.objects
                    .entry(gr.clone())
                    .or_default()
                    .insert(key, stored.clone());
                (kind, stored)
            }
            None => {
                let Some(cur) = &current else {
                    return Err(CommitError::Stale);
                };
                if let Some(m) = st.objects.get_mut(gr) {
                    m.remove(&key);
                }
                if is_service {
                    st.services.release(namespace, name);
                }
                (
                    EventType::Deleted,
                    Arc::new(Stored::new(cur.object.clone(), rv)),
                )
            }
        };
        index_owners(&mut st, &objref, current.as_deref(), &stored, kind);
        st.rv = rv;
        let event = Arc::new(Event {
            rv,
            kind,
            gr: gr.clone(),
            object: stored.clone(),
            previous: current,
            frame: OnceLock::new(),
        });
        st.log.push_back(event);
        while st.log.len() > st.capacity {
            if let Some(old) = st.log.pop_front() {
                st.compacted = old.rv;
            }
        }
        if is_crd {
            // Serving follows the CRD in the same critical section: a client that sees the
            // CRD created also finds its resources.
            let mut reg = self
                .core
                .registry
                .write()
                .unwrap_or_else(|e| e.into_inner());
            let (crd_gr, types) = match kind {
                EventType::Deleted => (crd::group_resource(&stored.object), Vec::new()),
                _ => (
                    crd::group_resource(&stored.object),
                    crd::served_types(&stored.object, &reg),
                ),
            };
            if let Some(crd_gr) = crd_gr {
                let was_served = reg
                    .types()
                    .iter()
                    .any(|t| t.custom && t.group_resource() == crd_gr);
                match (was_served, types.is_empty()) {
                    (false, false) => {
                        st.served_since.insert(crd_gr.clone(), rv);
                    }
                    (_, true) => {
                        st.served_since.remove(&crd_gr);
                    }
                    (true, false) => {}
                }
                *reg = Arc::new(reg.with_custom(&crd_gr, types));
            }
        }
        drop(st);
        self.core.changes.send_replace(rv);
        Ok(stored)
    }
}

fn check_namespace(
    st: &State,
    gr: &GroupResource,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    let ns = st
        .objects
        .get(&GroupResource::new("", "namespaces"))
        .and_then(|m| m.get(&(String::new(), namespace.to_string())));
    match ns {
        None => Err(ApiError::not_found("", "namespaces", namespace)),
        Some(ns) if ns.object.pointer("/metadata/deletionTimestamp").is_some() => Err(
            ApiError::namespace_terminating(&gr.group, &gr.resource, name, namespace),
        ),
        Some(_) => Ok(()),
    }
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn index_owners(
    st: &mut State,
    objref: &ObjRef,
    previous: Option<&Stored>,
    stored: &Stored,
    kind: EventType,
) {
    if let Some(prev) = previous {
        for uid in owner_uids(&prev.object) {
            if let Some(set) = st.dependents.get_mut(&uid) {
                set.remove(objref);
                if set.is_empty() {
                    st.dependents.remove(&uid);
                }
            }
        }
    }
    let uid = stored.uid().to_string();
    if kind == EventType::Deleted {
        st.uids.remove(&uid);
        return;
    }
    if !uid.is_empty() {
        st.uids.insert(uid, objref.clone());
    }
    for owner in owner_uids(&stored.object) {
        st.dependents
            .entry(owner)
            .or_default()
            .insert(objref.clone());
    }
}

/// A cursor over the store's changes, for in-process controllers.
pub struct Subscription {
    store: Store,
    cursor: u64,
    changes: watch::Receiver<u64>,
    shutdown: watch::Receiver<bool>,
}

/// What a subscription yields.
#[derive(Debug)]
pub enum Changes {
    /// New events, in order.
    Events(Vec<Arc<Event>>),
    /// Events were lost (the log moved on): re-read the state you need, then carry on.
    Lost,
}

impl Subscription {
    /// The resourceVersion of the last event handed out.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Waits for the next changes; `None` once the cluster stops.
    pub async fn next(&mut self) -> Option<Changes> {
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            match self.store.events_since(self.cursor) {
                Err(_) => {
                    self.cursor = self.store.resource_version();
                    return Some(Changes::Lost);
                }
                Ok(events) if !events.is_empty() => {
                    self.cursor = events.last().map_or(self.cursor, |e| e.rv);
                    return Some(Changes::Events(events));
                }
                Ok(_) => {}
            }
            tokio::select! {
                r = self.changes.changed() => if r.is_err() { return None },
                r = self.shutdown.changed() => if r.is_err() { return None },
            }
        }
    }
}
