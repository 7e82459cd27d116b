//! The simulated controllers driven end to end against an in-memory store at high speed:
//! Deployments roll out, images fail to pull, containers crash-loop, Jobs finish, StatefulSets
//! come up in order, Services track their Pods, Namespaces cascade, Events are recorded.
//!
//! Every wait polls for a condition with a generous timeout; nothing asserts how long a step
//! took.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rekon_emulator::ResourceKey;
use rekon_emulator::clock::{SimClock, SimTime};
use rekon_emulator::controllers::{
    ChangeFeed, Changed, Feed, Obj, StoreAccess, StoreError, World, run,
};
use serde_json::{Value, json};
use tokio::sync::{broadcast, oneshot};

mod deployments;
mod other_controllers;

/// A small API store: uids, resourceVersions, generations, status kept apart from the rest,
/// graceful Pod deletion, finalizers, background garbage collection by ownerReferences.
struct FakeStore {
    state: Mutex<State>,
    tx: Mutex<Option<broadcast::Sender<Changed>>>,
    clock: SimClock,
    writes: AtomicU64,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<ResourceKey, Obj>,
    rv: u64,
    uid: u64,
}

fn key_of(obj: &Value) -> Result<ResourceKey, StoreError> {
    ResourceKey::of(obj).ok_or_else(|| StoreError::Rejected("object without kind or name".into()))
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(x) => cur = x,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

impl FakeStore {
    /// Now as the API server writes it: calendar time, like the real store.
    fn stamp_now(&self) -> String {
        self.clock.calendar().stamp(self.clock.now())
    }

    fn new(clock: SimClock) -> Arc<Self> {
        let (tx, _) = broadcast::channel(100_000);
        let store = Arc::new(FakeStore {
            state: Mutex::new(State::default()),
            tx: Mutex::new(Some(tx)),
            clock,
            writes: AtomicU64::new(0),
        });
        for ns in ["default", "kube-system"] {
            store.apply(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns},
                "spec": {"finalizers": ["kubernetes"]}}),
            );
        }
        store
    }

    /// What a user's create is here (status dropped, as the API server drops it).
    fn apply(&self, obj: Value) -> Obj {
        self.create(obj, "test").expect("test object is created")
    }

    fn notify(&self, key: ResourceKey, object: Obj, deleted: bool) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if let Some(tx) = self.tx.lock().unwrap().as_ref() {
            let _ = tx.send(Changed {
                key,
                object,
                deleted,
            });
        }
    }

    fn next_rv(state: &mut State) -> String {
        state.rv += 1;
        state.rv.to_string()
    }

    /// Removes an object and, in the background, everything it owns.
    fn remove(
        &self,
        state: &mut State,
        key: &ResourceKey,
        notes: &mut Vec<(ResourceKey, Obj, bool)>,
    ) {
        let Some(obj) = state.objects.remove(key) else {
            return;
        };
        let uid = s(&obj, &["metadata", "uid"]).to_string();
        notes.push((key.clone(), obj, true));
        let owned: Vec<ResourceKey> = state
            .objects
            .iter()
            .filter(|(_, o)| {
                o["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| refs.iter().any(|r| r["uid"] == json!(uid)))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in owned {
            self.delete_locked(state, &k, notes);
        }
    }

    fn delete_locked(
        &self,
        state: &mut State,
        key: &ResourceKey,
        notes: &mut Vec<(ResourceKey, Obj, bool)>,
    ) -> bool {
        let Some(obj) = state.objects.get(key).cloned() else {
            return false;
        };
        let terminating = obj["metadata"].get("deletionTimestamp").is_some();
        let finalizers = obj["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
            || (key.kind == "Namespace"
                && obj["spec"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty()));
        let graceful_pod = key.kind == "Pod" && !s(&obj, &["spec", "nodeName"]).is_empty();
        if terminating && (finalizers || !graceful_pod) {
            return true;
        }
        if !terminating && (finalizers || graceful_pod) {
            let mut o = (*obj).clone();
            o["metadata"]["deletionTimestamp"] = json!(self.stamp_now());
            if graceful_pod {
                o["metadata"]["deletionGracePeriodSeconds"] = json!(30);
            }
            o["metadata"]["resourceVersion"] = json!(Self::next_rv(state));
            let o = Obj::new(o);
            state.objects.insert(key.clone(), o.clone());
            notes.push((key.clone(), o, false));
            return true;
        }
        self.remove(state, key, notes);
        true
    }

    fn get_key(&self, key: &ResourceKey) -> Option<Obj> {
        self.state.lock().unwrap().objects.get(key).cloned()
    }

    fn all(&self, group: &str, kind: &str) -> Vec<Obj> {
        self.list(group, kind, None)
    }

    /// Replaces spec fields like `kubectl apply` would (bumping generation).
    fn edit(&self, key: &ResourceKey, f: impl FnOnce(&mut Value)) {
        let mut obj = (*self.get_key(key).expect("object to edit exists")).clone();
        f(&mut obj);
        obj["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        self.update(obj, "test").expect("edit applies");
    }
}

impl World for FakeStore {
    fn get(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<Obj> {
        self.get_key(&ResourceKey::new(group, kind, namespace, name))
    }

    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Obj> {
        let state = self.state.lock().unwrap();
        state
            .objects
            .iter()
            .filter(|(k, _)| {
                k.group == group && k.kind == kind && namespace.is_none_or(|n| k.namespace == n)
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn namespace_contents(&self, namespace: &str) -> Vec<Obj> {
        let state = self.state.lock().unwrap();
        state
            .objects
            .iter()
            .filter(|(k, _)| k.namespace == namespace)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl StoreAccess for FakeStore {
    fn subscribe(&self) -> ChangeFeed {
        let rx = match self.tx.lock().unwrap().as_ref() {
            Some(tx) => tx.subscribe(),
            None => broadcast::channel(1).1,
        };
        Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            let item = match rx.recv().await {
                Ok(change) => Feed::Changes(vec![change]),
                Err(broadcast::error::RecvError::Lagged(_)) => Feed::Lost,
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            Some((item, rx))
        }))
    }

    fn create(&self, mut obj: Value, _manager: &str) -> Result<Obj, StoreError> {
        let key = key_of(&obj)?;
        let created = {
            let mut state = self.state.lock().unwrap();
            if state.objects.contains_key(&key) {
                return Err(StoreError::AlreadyExists(key.to_string()));
            }
            state.uid += 1;
            let uid = format!("00000000-0000-4000-8000-{:012}", state.uid);
            let md = obj["metadata"]
                .as_object_mut()
                .ok_or_else(|| StoreError::Rejected("no metadata".into()))?;
            md.insert("uid".into(), json!(uid));
            md.insert("creationTimestamp".into(), json!(self.stamp_now()));
            md.insert("generation".into(), json!(1));
            md.insert("resourceVersion".into(), json!(Self::next_rv(&mut state)));
            if let Some(m) = obj.as_object_mut() {
                m.remove("status");
            }
            let obj = Obj::new(obj);
            state.objects.insert(key.clone(), obj.clone());
            obj
        };
        self.notify(key, created.clone(), false);
        Ok(created)
    }

    fn update(&self, mut obj: Value, _manager: &str) -> Result<Obj, StoreError> {
        let key = key_of(&obj)?;
        let mut notes = Vec::new();
        let result = {
            let mut state = self.state.lock().unwrap();
            let Some(current) = state.objects.get(&key).cloned() else {
                return Err(StoreError::NotFound(key.to_string()));
            };
            let rv = s(&obj, &["metadata", "resourceVersion"]);
            if !rv.is_empty() && rv != s(&current, &["metadata", "resourceVersion"]) {
                return Err(StoreError::Conflict(
                    key.to_string(),
                    "the object has been modified".into(),
                ));
            }
            let mut generation = current["metadata"]["generation"].as_i64().unwrap_or(1);
            if obj.get("spec") != current.get("spec") {
                generation += 1;
            }
            for field in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
            ] {
                if let Some(v) = current["metadata"].get(field) {
                    obj["metadata"][field] = v.clone();
                }
            }
            obj["metadata"]["generation"] = json!(generation);
            obj["metadata"]["resourceVersion"] = json!(Self::next_rv(&mut state));
            match current.get("status") {
                Some(st) => obj["status"] = st.clone(),
                None => {
                    if let Some(m) = obj.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
            let obj = Obj::new(obj);
            state.objects.insert(key.clone(), obj.clone());
            notes.push((key.clone(), obj.clone(), false));
            let no_finalizers = obj["metadata"]["finalizers"]
                .as_array()
                .is_none_or(|f| f.is_empty())
                && (key.kind != "Namespace"
                    || obj["spec"]["finalizers"]
                        .as_array()
                        .is_none_or(|f| f.is_empty()));
            if obj["metadata"].get("deletionTimestamp").is_some() && no_finalizers {
                self.remove(&mut state, &key, &mut notes);
            }
            obj
        };
        for (k, o, d) in notes {
            self.notify(k, o, d);
        }
        Ok(result)
    }

    fn update_status(
        &self,
        key: &ResourceKey,
        status: Value,
        expected_rv: Option<&str>,
        _manager: &str,
    ) -> Result<Obj, StoreError> {
        let obj = {
            let mut state = self.state.lock().unwrap();
            let Some(current) = state.objects.get(key).cloned() else {
                return Err(StoreError::NotFound(key.to_string()));
            };
            let rv = current
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str);
            if expected_rv.is_some() && rv != expected_rv {
                return Err(StoreError::Conflict(key.to_string(), "changed".into()));
            }
            let mut obj = (*current).clone();
            obj["status"] = status;
            obj["metadata"]["resourceVersion"] = json!(Self::next_rv(&mut state));
            let obj = Obj::new(obj);
            state.objects.insert(key.clone(), obj.clone());
            obj
        };
        self.notify(key.clone(), obj.clone(), false);
        Ok(obj)
    }

    fn delete(&self, key: &ResourceKey, _manager: &str) -> Result<(), StoreError> {
        let mut notes = Vec::new();
        let found = {
            let mut state = self.state.lock().unwrap();
            self.delete_locked(&mut state, key, &mut notes)
        };
        for (k, o, d) in notes {
            self.notify(k, o, d);
        }
        if found {
            Ok(())
        } else {
            Err(StoreError::NotFound(key.to_string()))
        }
    }
}

/// A running cluster: the store, its clock, and the driver (stopped on drop).
struct Cluster {
    store: Arc<FakeStore>,
    stop: Option<oneshot::Sender<()>>,
    driver: Option<tokio::task::JoinHandle<()>>,
}

impl Cluster {
    fn start(speed: f64) -> Self {
        let clock = SimClock::new(speed).unwrap();
        let store = FakeStore::new(clock.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let driver = tokio::spawn(run(store.clone(), clock, async move {
            let _ = stopped.await;
        }));
        Cluster {
            store,
            stop: Some(stop),
            driver: Some(driver),
        }
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(d) = self.driver.take() {
            tokio::time::timeout(Duration::from_secs(30), d)
                .await
                .expect("driver stops on shutdown")
                .expect("driver task did not panic");
        }
    }
}

/// Polls `check` until it returns `Some`, or fails the test after a generous timeout.
async fn wait_for<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = check() {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn key(group: &str, kind: &str, ns: &str, name: &str) -> ResourceKey {
    ResourceKey::new(group, kind, ns, name)
}

fn cond<'a>(obj: &'a Value, ctype: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == ctype)
}

fn owned_by<'a>(objs: &'a [Obj], owner: &Value) -> Vec<&'a Obj> {
    objs.iter()
        .filter(|o| {
            o["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["uid"] == owner["metadata"]["uid"]))
        })
        .collect()
}

fn deployment(name: &str, replicas: i64, image: &str, annotations: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "progressDeadlineSeconds": 30,
            "template": {"metadata": {"labels": {"app": name}, "annotations": annotations},
                "spec": {"containers": [{"name": "main", "image": image,
                    "ports": [{"name": "http", "containerPort": 8080}]}]}}}})
}

/// `kubectl rollout status` is satisfied.
fn rolled_out(d: &Value) -> bool {
    let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
    let st = &d["status"];
    st["observedGeneration"].as_i64() >= d["metadata"]["generation"].as_i64()
        && st["updatedReplicas"].as_i64() == Some(want)
        && st["replicas"].as_i64() == Some(want)
        && st["availableReplicas"].as_i64() == Some(want)
}

fn events_about(store: &FakeStore, name: &str) -> Vec<Obj> {
    store
        .all("", "Event")
        .into_iter()
        .filter(|e| e["involvedObject"]["name"] == json!(name))
        .collect()
}

/// Waits until the store has seen no write for a while (no controller keeps rewriting).
async fn quiescent(store: &FakeStore) {
    let mut last = store.writes.load(Ordering::SeqCst);
    let mut stable_polls = 0;
    wait_for("the controllers to settle", || {
        let now = store.writes.load(Ordering::SeqCst);
        if now == last {
            stable_polls += 1;
        } else {
            stable_polls = 0;
            last = now;
        }
        (stable_polls >= 25).then_some(())
    })
    .await;
}
