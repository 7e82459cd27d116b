//! The live cache of one cluster: objects indexed by key, owner UID, kind and namespace,
//! tracking app and involved object, so a tree costs O(its nodes) and a change names exactly
//! what it touched. Fed by the watch streams of the sibling `watcher` module.
//!
//! The store is plain data with no locks: the runtime's task owns it and applies the
//! [`WatchMsg`]s the watcher tasks send, keeping one owner for live state.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;

use crate::engine::tracking;
use crate::engine::tree::LiveIndex;
use crate::model::packed::{Dictionary, PackedText};
use crate::model::{GroupKind, ResourceKey};

/// How the watch of one kind is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindState {
    /// Listing for the first time.
    Syncing,
    /// Listed and watching.
    Ready,
    /// RBAC refuses list or watch: shown as forbidden, never as empty.
    Forbidden(String),
    /// Failing for another reason; retrying with backoff.
    Failing(String),
}

/// What a watcher task reports to the owner of the store.
#[derive(Debug)]
pub enum WatchMsg {
    /// A full relist is starting: objects not re-listed before `Relisted` are gone.
    RelistStarted(GroupKind),
    /// An object was added or changed.
    Applied(GroupKind, Value),
    /// An object was added or changed, already held as the store keeps it: the watcher's
    /// task builds it, so the store's owner neither serializes it nor frees its parsed tree
    /// (profiled: a tenth of a cold `status` of 1,000 apps, on the engine's one task).
    Held(GroupKind, ResourceKey, Box<LiveObject>),
    /// An object was deleted.
    Deleted(GroupKind, Value),
    /// The relist finished.
    Relisted(GroupKind),
    /// The watch's health changed.
    State(GroupKind, KindState),
}

/// One live object, held as its compact JSON text (compressed) with the bits the indexes
/// need extracted once. A parsed `serde_json::Value` (an `IndexMap` per JSON object) took
/// about 9 KB per object against 1.5 KB of text (profiled: 470 MB of a 950 MB heap with
/// 50,000 objects), so readers parse on demand through [`LiveObject::value`].
#[derive(Debug, Clone)]
pub struct LiveObject {
    /// The object as the server sent it, serialized compactly.
    json: PackedText,
    /// metadata.uid.
    pub uid: String,
    /// UIDs of its ownerReferences.
    pub owners: Vec<String>,
    /// Only metadata is held (the kind is watched metadata-only).
    pub partial: bool,
    /// The app (instance name) its rekon tracking id names, if any.
    tracking_app: Option<String>,
    /// Whether that tracking id names this very object (not a copy of another's).
    tracks_itself: bool,
    /// For core/v1 Events: the UID of the object the event is about.
    involved: Option<String>,
}

impl LiveObject {
    /// Holds `obj`, whose key is `key`, as the cache does.
    pub fn new(key: &ResourceKey, obj: &Value) -> Self {
        Self::packed(key, obj, &obj.to_string(), None)
    }

    /// Holds `obj`, whose key is `key` and compact text `text` (`obj.to_string()`, which
    /// the caller has made already), compressed against `dictionary` (a sample of its kind).
    pub fn packed(
        key: &ResourceKey,
        obj: &Value,
        text: &str,
        dictionary: Option<&Dictionary>,
    ) -> Self {
        debug_assert_eq!(text, obj.to_string(), "the text of another object");
        let meta = &obj["metadata"];
        let uid = meta["uid"].as_str().unwrap_or_default().to_string();
        let owners: Vec<String> = meta["ownerReferences"]
            .as_array()
            .map(|refs| {
                refs.iter()
                    .filter_map(|r| r["uid"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let tracking = tracking::tracking_id(obj);
        LiveObject {
            json: PackedText::pack(text, dictionary),
            uid,
            owners,
            partial: !obj.as_object().is_some_and(|m| {
                m.keys()
                    .any(|k| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
            }),
            tracks_itself: tracking.as_ref().is_some_and(|id| id.key == *key),
            tracking_app: tracking.map(|id| id.app),
            involved: involved_uid(key, obj),
        }
    }

    /// The object, parsed from its text (a fresh tree on every call: keep it while needed).
    pub fn value(&self) -> Arc<Value> {
        // The text was written by serde_json from a Value, so it parses back; Null is
        // unreachable in practice and keeps readers free of panics.
        Arc::new(serde_json::from_str(&self.json.text()).unwrap_or(Value::Null))
    }

    /// The object's compact JSON text.
    pub fn json(&self) -> String {
        self.json.text()
    }

    /// The app (instance name) the object's rekon tracking id names.
    pub fn tracking_app(&self) -> Option<&str> {
        self.tracking_app.as_deref()
    }

    /// Whether the object's rekon tracking id names the app `instance` and this very object
    /// (what [`tracking::is_tracked_by`] says of the parsed object).
    pub fn is_tracked_by(&self, instance: &str) -> bool {
        self.tracks_itself && self.tracking_app.as_deref() == Some(instance)
    }

    /// For a core/v1 Event: the UID of its involvedObject.
    pub fn involved_uid(&self) -> Option<&str> {
        self.involved.as_deref()
    }
}

/// Live objects of one cluster, indexed by key and by owner UID.
#[derive(Debug, Default)]
pub struct LiveStore {
    // Keys are shared between the map and the indexes: five owned copies of each key were
    // a fifth of the cache's memory.
    objects: HashMap<Arc<ResourceKey>, LiveObject>,
    by_uid: HashMap<String, Arc<ResourceKey>>,
    children: HashMap<String, BTreeSet<Arc<ResourceKey>>>,
    /// (group, kind, namespace) → keys, so listing a kind in a namespace never scans.
    by_kind: HashMap<(String, String, String), BTreeSet<Arc<ResourceKey>>>,
    /// Tracking app named by the object's tracking id → keys, for finding what to prune.
    by_tracking: HashMap<String, BTreeSet<Arc<ResourceKey>>>,
    /// involvedObject UID → keys of core/v1 Events about it, for timelines.
    events: HashMap<String, BTreeSet<Arc<ResourceKey>>>,
    kinds: HashMap<GroupKind, KindState>,
    /// Keys seen during an ongoing relist, per kind (only asked "was it seen": hashed, as
    /// ordering thousands of keys showed in profiles).
    relisting: HashMap<GroupKind, HashSet<Arc<ResourceKey>>>,
}

impl LiveStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies a watcher message; returns the keys whose objects changed (for recomputing
    /// only the apps they touch).
    pub fn apply(&mut self, msg: WatchMsg) -> Vec<ResourceKey> {
        match msg {
            WatchMsg::RelistStarted(gk) => {
                self.relisting.insert(gk, HashSet::new());
                Vec::new()
            }
            WatchMsg::Applied(gk, obj) => match ResourceKey::of(&obj) {
                Some(key) => {
                    let object = LiveObject::new(&key, &obj);
                    self.put(&gk, key, object)
                }
                None => Vec::new(),
            },
            WatchMsg::Held(gk, key, object) => self.put(&gk, key, *object),
            WatchMsg::Deleted(_, obj) => match ResourceKey::of(&obj) {
                Some(key) if self.remove(&key) => vec![key],
                _ => Vec::new(),
            },
            WatchMsg::Relisted(gk) => {
                let seen = self.relisting.remove(&gk).unwrap_or_default();
                let gone: Vec<ResourceKey> = self
                    .by_kind
                    .iter()
                    .filter(|((g, k, _), _)| *g == gk.group && *k == gk.kind)
                    .flat_map(|(_, keys)| keys.iter())
                    .filter(|k| !seen.contains(*k))
                    .map(|k| (**k).clone())
                    .collect();
                for k in &gone {
                    self.remove(k);
                }
                self.kinds.insert(gk, KindState::Ready);
                gone
            }
            WatchMsg::State(gk, state) => {
                self.kinds.insert(gk, state);
                Vec::new()
            }
        }
    }

    /// Stores an added or changed object; returns its key when it did change.
    fn put(&mut self, gk: &GroupKind, key: ResourceKey, object: LiveObject) -> Vec<ResourceKey> {
        let key = match self.objects.get_key_value(&key) {
            Some((k, _)) => k.clone(),
            None => Arc::new(key),
        };
        if let Some(seen) = self.relisting.get_mut(gk) {
            seen.insert(key.clone());
        }
        let changed = self
            .objects
            .get(&key)
            .is_none_or(|old| old.json != object.json);
        if changed {
            let out = (*key).clone();
            self.upsert(key, object);
            vec![out]
        } else {
            Vec::new()
        }
    }

    fn upsert(&mut self, key: Arc<ResourceKey>, obj: LiveObject) {
        self.remove(&key);
        for owner in &obj.owners {
            self.children
                .entry(owner.clone())
                .or_default()
                .insert(key.clone());
        }
        if !obj.uid.is_empty() {
            self.by_uid.insert(obj.uid.clone(), key.clone());
        }
        self.by_kind
            .entry(kind_slot(&key))
            .or_default()
            .insert(key.clone());
        if let Some(app) = &obj.tracking_app {
            self.by_tracking
                .entry(app.clone())
                .or_default()
                .insert(key.clone());
        }
        if let Some(about) = &obj.involved {
            self.events
                .entry(about.clone())
                .or_default()
                .insert(key.clone());
        }
        self.objects.insert(key, obj);
    }

    fn remove(&mut self, key: &ResourceKey) -> bool {
        let Some(old) = self.objects.remove(key) else {
            return false;
        };
        for owner in &old.owners {
            if let Some(set) = self.children.get_mut(owner) {
                set.remove(key);
                if set.is_empty() {
                    self.children.remove(owner);
                }
            }
        }
        if self.by_uid.get(&old.uid).is_some_and(|k| **k == *key) {
            self.by_uid.remove(&old.uid);
        }
        remove_from_index(&mut self.by_kind, &kind_slot(key), key);
        if let Some(app) = &old.tracking_app {
            remove_from_index(&mut self.by_tracking, app, key);
        }
        if let Some(about) = &old.involved {
            remove_from_index(&mut self.events, about, key);
        }
        true
    }

    /// The live object with this key.
    pub fn get(&self, key: &ResourceKey) -> Option<&LiveObject> {
        self.objects.get(key)
    }

    /// The live object with this UID.
    pub fn get_by_uid(&self, uid: &str) -> Option<&LiveObject> {
        self.by_uid.get(uid).and_then(|k| self.objects.get(&**k))
    }

    /// The key of the live object with this UID.
    pub fn key_of_uid(&self, uid: &str) -> Option<&ResourceKey> {
        self.by_uid.get(uid).map(|k| &**k)
    }

    /// Keys of the objects whose ownerReferences name `uid`.
    pub fn children_of(&self, uid: &str) -> impl Iterator<Item = &ResourceKey> {
        self.children.get(uid).into_iter().flatten().map(|k| &**k)
    }

    /// Live objects of a group/kind in one namespace (`""` for cluster-scoped kinds).
    pub fn in_namespace<'a>(
        &'a self,
        group: &str,
        kind: &str,
        namespace: &str,
    ) -> impl Iterator<Item = &'a LiveObject> + 'a {
        let slot = (group.to_string(), kind.to_string(), namespace.to_string());
        self.by_kind
            .get(&slot)
            .into_iter()
            .flatten()
            .filter_map(|k| self.objects.get(&**k))
    }

    /// Keys of live objects whose tracking id names `app` (an instance name).
    pub fn tracked_by<'a>(&'a self, app: &str) -> impl Iterator<Item = &'a ResourceKey> + 'a {
        self.by_tracking
            .get(app)
            .into_iter()
            .flatten()
            .map(|k| &**k)
    }

    /// Every live object.
    pub fn iter(&self) -> impl Iterator<Item = (&ResourceKey, &LiveObject)> {
        self.objects.iter().map(|(k, o)| (&**k, o))
    }

    /// Number of live objects held.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The watch state of a kind; `None` when it is not watched.
    pub fn kind_state(&self, gk: &GroupKind) -> Option<&KindState> {
        self.kinds.get(gk)
    }

    /// core/v1 Events whose involvedObject has this UID.
    pub fn events_about<'a>(&'a self, uid: &str) -> impl Iterator<Item = &'a LiveObject> + 'a {
        self.events
            .get(uid)
            .into_iter()
            .flatten()
            .filter_map(|k| self.objects.get(&**k))
    }

    /// How many live objects of a group/kind are held.
    pub fn of_kind_count(&self, gk: &GroupKind) -> usize {
        self.by_kind
            .iter()
            .filter(|((g, k, _), _)| *g == gk.group && *k == gk.kind)
            .map(|(_, keys)| keys.len())
            .sum()
    }

    /// Kinds whose watch is failing or forbidden, with why.
    pub fn failing_kinds(&self) -> impl Iterator<Item = (&GroupKind, &str)> {
        self.kinds.iter().filter_map(|(gk, s)| match s {
            KindState::Failing(m) | KindState::Forbidden(m) => Some((gk, m.as_str())),
            _ => None,
        })
    }

    /// Every watched kind and how its watch is doing.
    pub fn watched_kinds(&self) -> impl Iterator<Item = (&GroupKind, &KindState)> {
        self.kinds.iter()
    }

    /// Whether every watched kind has finished its first list.
    pub fn all_synced(&self) -> bool {
        self.kinds.values().all(|s| *s != KindState::Syncing)
    }
}

fn involved_uid(key: &ResourceKey, obj: &Value) -> Option<String> {
    (key.group.is_empty() && key.kind == "Event")
        .then(|| obj["involvedObject"]["uid"].as_str().map(str::to_string))
        .flatten()
}

fn kind_slot(key: &ResourceKey) -> (String, String, String) {
    (key.group.clone(), key.kind.clone(), key.namespace.clone())
}

fn remove_from_index<K: std::hash::Hash + Eq>(
    index: &mut HashMap<K, BTreeSet<Arc<ResourceKey>>>,
    slot: &K,
    key: &ResourceKey,
) {
    if let Some(set) = index.get_mut(slot) {
        set.remove(key);
        if set.is_empty() {
            index.remove(slot);
        }
    }
}

impl LiveIndex for LiveStore {
    fn get(&self, key: &ResourceKey) -> Option<Arc<Value>> {
        self.objects.get(key).map(LiveObject::value)
    }

    fn children(&self, owner_uid: &str) -> Vec<Arc<Value>> {
        self.children_of(owner_uid)
            .filter_map(|k| self.objects.get(k))
            .map(LiveObject::value)
            .collect()
    }

    fn list(&self, group: &str, kind: &str, namespace: &str) -> Vec<Arc<Value>> {
        self.in_namespace(group, kind, namespace)
            .map(LiveObject::value)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, uid: &str, owner: Option<&str>) -> Value {
        let mut p = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "uid": uid}});
        if let Some(o) = owner {
            p["metadata"]["ownerReferences"] =
                json!([{"uid": o, "kind": "ReplicaSet", "name": "rs"}]);
        }
        p
    }

    #[test]
    fn indexes_children_by_owner_uid() {
        let gk = GroupKind::new("", "Pod");
        let mut store = LiveStore::new();
        store.apply(WatchMsg::Applied(gk.clone(), pod("a", "u1", Some("rs1"))));
        store.apply(WatchMsg::Applied(gk.clone(), pod("b", "u2", Some("rs1"))));
        store.apply(WatchMsg::Applied(gk.clone(), pod("c", "u3", None)));
        let kids: Vec<_> = store.children_of("rs1").map(|k| k.name.clone()).collect();
        assert_eq!(kids, ["a", "b"]);
        store.apply(WatchMsg::Deleted(gk.clone(), pod("a", "u1", Some("rs1"))));
        let kids: Vec<_> = store.children_of("rs1").map(|k| k.name.clone()).collect();
        assert_eq!(kids, ["b"]);
        assert_eq!(store.in_namespace("", "Pod", "shop").count(), 2);
        assert_eq!(store.in_namespace("", "Pod", "other").count(), 0);
        assert_eq!(store.get_by_uid("u3").unwrap().uid, "u3");
    }

    #[test]
    fn indexes_objects_by_tracking_app() {
        let gk = GroupKind::new("", "Pod");
        let mut store = LiveStore::new();
        let mut p = pod("a", "u1", None);
        p["metadata"]["annotations"] = json!({"rekon.dev/tracking-id": "web:/Pod:shop/a"});
        store.apply(WatchMsg::Applied(gk.clone(), p.clone()));
        assert_eq!(store.tracked_by("web").count(), 1);
        store.apply(WatchMsg::Deleted(gk, p));
        assert_eq!(store.tracked_by("web").count(), 0);
    }

    #[test]
    fn held_text_parses_back_with_its_index_data_extracted() {
        let gk = GroupKind::new("", "Event");
        let mut store = LiveStore::new();
        let mut p = pod("a", "u1", Some("rs1"));
        p["metadata"]["annotations"] = json!({"rekon.dev/tracking-id": "web:/Pod:shop/a"});
        p["spec"] = json!({"containers": [{"name": "c", "image": "nginx"}]});
        store.apply(WatchMsg::Applied(GroupKind::new("", "Pod"), p.clone()));
        let held = store.get_by_uid("u1").unwrap();
        assert_eq!(*held.value(), p);
        assert!(!held.partial);
        assert!(held.is_tracked_by("web"));
        assert!(!held.is_tracked_by("other"));
        assert_eq!(store.key_of_uid("u1").map(|k| k.name.as_str()), Some("a"));
        // A copy whose tracking id names another object is not tracked by the app.
        let mut copy = pod("b", "u2", None);
        copy["metadata"]["annotations"] = json!({"rekon.dev/tracking-id": "web:/Pod:shop/a"});
        store.apply(WatchMsg::Applied(GroupKind::new("", "Pod"), copy));
        assert!(!store.get_by_uid("u2").unwrap().is_tracked_by("web"));
        assert!(store.get_by_uid("u2").unwrap().partial);
        let event = json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "e1", "namespace": "shop", "uid": "e"},
            "involvedObject": {"uid": "u1"}});
        store.apply(WatchMsg::Applied(gk.clone(), event.clone()));
        let about: Vec<_> = store.events_about("u1").map(|e| e.value()).collect();
        assert_eq!(about.len(), 1);
        assert_eq!(*about[0], event);
        assert_eq!(store.get_by_uid("e").unwrap().involved_uid(), Some("u1"));
        store.apply(WatchMsg::Deleted(gk, event));
        assert_eq!(store.events_about("u1").count(), 0);
    }

    #[test]
    fn an_object_held_by_the_watcher_is_stored_as_if_applied() {
        let gk = GroupKind::new("", "Pod");
        let mut store = LiveStore::new();
        let p = pod("a", "u1", Some("rs1"));
        let key = ResourceKey::of(&p).unwrap();
        let held = Box::new(LiveObject::new(&key, &p));
        assert_eq!(store.apply(WatchMsg::Held(gk.clone(), key, held)).len(), 1);
        assert_eq!(*store.get_by_uid("u1").unwrap().value(), p);
        assert_eq!(store.children_of("rs1").count(), 1);
        // The same object arriving again, either way, is no change.
        assert!(store.apply(WatchMsg::Applied(gk, p)).is_empty());
    }

    #[test]
    fn objects_packed_against_their_kinds_sample_read_back_and_compare_by_text() {
        let gk = GroupKind::new("", "Pod");
        let mut store = LiveStore::new();
        let sample = Dictionary::from_sample(&pod("first", "u0", Some("rs1")).to_string());
        let held = |p: &Value, d: &Dictionary| {
            let key = ResourceKey::of(p).unwrap();
            let object = Box::new(LiveObject::packed(&key, p, &p.to_string(), Some(d)));
            WatchMsg::Held(gk.clone(), key, object)
        };
        let p = pod("a", "u1", Some("rs1"));
        assert_eq!(store.apply(held(&p, &sample)).len(), 1);
        assert_eq!(*store.get_by_uid("u1").unwrap().value(), p);
        assert_eq!(store.get_by_uid("u1").unwrap().json(), p.to_string());
        // Resent as it was (a relist), against the same or another sample: no change.
        assert!(store.apply(held(&p, &sample)).is_empty());
        let other = Dictionary::from_sample(&pod("other", "u9", None).to_string());
        assert!(store.apply(held(&p, &other)).is_empty());
        // A changed object is a change, and reads back as changed.
        let mut changed = p.clone();
        changed["metadata"]["labels"] = json!({"app": "web"});
        assert_eq!(store.apply(held(&changed, &sample)).len(), 1);
        assert_eq!(*store.get_by_uid("u1").unwrap().value(), changed);
    }

    #[test]
    fn unchanged_object_reports_no_change() {
        let gk = GroupKind::new("", "Pod");
        let mut store = LiveStore::new();
        assert_eq!(
            store
                .apply(WatchMsg::Applied(gk.clone(), pod("a", "u1", None)))
                .len(),
            1
        );
        assert!(
            store
                .apply(WatchMsg::Applied(gk, pod("a", "u1", None)))
                .is_empty()
        );
    }

    #[test]
    fn relist_removes_objects_that_vanished_while_disconnected() {
        let gk = GroupKind::new("", "Pod");
        let mut store = LiveStore::new();
        store.apply(WatchMsg::Applied(
            gk.clone(),
            pod("ghost", "u1", Some("rs1")),
        ));
        store.apply(WatchMsg::Applied(gk.clone(), pod("kept", "u2", None)));
        store.apply(WatchMsg::RelistStarted(gk.clone()));
        store.apply(WatchMsg::Applied(gk.clone(), pod("kept", "u2", None)));
        let gone = store.apply(WatchMsg::Relisted(gk.clone()));
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].name, "ghost");
        assert_eq!(store.len(), 1);
        assert_eq!(store.children_of("rs1").count(), 0);
        assert_eq!(store.kind_state(&gk), Some(&KindState::Ready));
    }
}
