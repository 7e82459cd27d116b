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

#[tokio::test]
async fn nodes_exist_and_a_deployment_becomes_available() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(deployment("web", 3, "nginx:1.25", json!({})));
    let dkey = key("apps", "Deployment", "default", "web");

    let d = wait_for("web to roll out", || {
        store.get_key(&dkey).filter(|d| rolled_out(d))
    })
    .await;
    assert_eq!(store.all("", "Node").len(), 3);
    assert_eq!(cond(&d, "Available").unwrap()["status"], "True");
    assert_eq!(
        cond(&d, "Progressing").unwrap()["reason"],
        "NewReplicaSetAvailable"
    );
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );

    let rss = store.all("apps", "ReplicaSet");
    assert_eq!(rss.len(), 1);
    let rs = &rss[0];
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(rs["metadata"]["name"], json!(format!("web-{hash}")));
    assert_eq!(rs["status"]["readyReplicas"], 3);

    let pods = store.all("", "Pod");
    let mine = owned_by(&pods, rs);
    assert_eq!(mine.len(), 3);
    let mut nodes: Vec<&str> = mine.iter().map(|p| s(p, &["spec", "nodeName"])).collect();
    nodes.sort();
    assert_eq!(
        nodes,
        vec!["node-1", "node-2", "node-3"],
        "spread over the nodes"
    );
    for p in &mine {
        assert_eq!(p["status"]["phase"], "Running");
        assert_eq!(cond(p, "Ready").unwrap()["status"], "True");
        assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
        assert!(!s(p, &["status", "podIP"]).is_empty());
    }

    // Events from the deployment controller, the ReplicaSet controller, scheduler and kubelet.
    let reasons = |name: &str| -> Vec<String> {
        events_about(store, name)
            .iter()
            .map(|e| s(e, &["reason"]).to_string())
            .collect()
    };
    assert!(reasons("web").contains(&"ScalingReplicaSet".to_string()));
    assert!(reasons(s(rs, &["metadata", "name"])).contains(&"SuccessfulCreate".to_string()));
    let pod_reasons = reasons(s(mine[0], &["metadata", "name"]));
    for r in ["Scheduled", "Pulling", "Pulled", "Created", "Started"] {
        assert!(
            pod_reasons.contains(&r.to_string()),
            "{r} in {pod_reasons:?}"
        );
    }
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn changing_the_image_rolls_to_a_new_replica_set() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(deployment("web", 3, "nginx:1.25", json!({})));
    let dkey = key("apps", "Deployment", "default", "web");
    wait_for("first rollout", || {
        store.get_key(&dkey).filter(|d| rolled_out(d))
    })
    .await;

    store.edit(&dkey, |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26")
    });
    let d = wait_for("second rollout", || {
        store
            .get_key(&dkey)
            .filter(|d| d["metadata"]["generation"] == 2 && rolled_out(d))
            .filter(|_| {
                store
                    .all("apps", "ReplicaSet")
                    .iter()
                    .all(|rs| rs["status"]["replicas"] != 0 || rs["spec"]["replicas"] == 0)
            })
    })
    .await;
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    let rss = store.all("apps", "ReplicaSet");
    assert_eq!(rss.len(), 2);
    let new = rss
        .iter()
        .find(|rs| rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2")
        .unwrap();
    let old = rss
        .iter()
        .find(|rs| rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1")
        .unwrap();
    assert_eq!(new["spec"]["replicas"], 3);
    assert_eq!(
        new["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.26"
    );
    assert_eq!(old["spec"]["replicas"], 0);
    let downs: Vec<String> = events_about(store, "web")
        .iter()
        .map(|e| s(e, &["message"]).to_string())
        .filter(|m| m.starts_with("Scaled down"))
        .collect();
    assert!(!downs.is_empty(), "old replica set scaled down with events");
    wait_for("old pods gone", || {
        let pods = store.all("", "Pod");
        (owned_by(&pods, old).is_empty()).then_some(())
    })
    .await;
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn an_image_that_never_pulls_ends_in_progress_deadline_exceeded() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(deployment("broken", 2, "nginx:does-not-exist", json!({})));
    let dkey = key("apps", "Deployment", "default", "broken");
    let d = wait_for("deadline exceeded", || {
        store.get_key(&dkey).filter(|d| {
            cond(d, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded")
        })
    })
    .await;
    assert_eq!(cond(&d, "Progressing").unwrap()["status"], "False");
    assert_eq!(cond(&d, "Available").unwrap()["status"], "False");
    assert!(d["status"].get("availableReplicas").is_none());
    let pod = wait_for("image pull back-off", || {
        store.all("", "Pod").into_iter().find(|p| {
            p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"
        })
    })
    .await;
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
        "Back-off pulling image \"nginx:does-not-exist\""
    );
    assert_eq!(pod["status"]["phase"], "Pending");
    cluster.shutdown().await;
}

#[tokio::test]
async fn crashloop_restarts_and_events_are_folded() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(deployment(
        "crashy",
        1,
        "busybox",
        json!({"rekon.dev/simulate": "crashloop"}),
    ));
    let pod = wait_for("two restarts in back-off", || {
        store.all("", "Pod").into_iter().find(|p| {
            let c = &p["status"]["containerStatuses"][0];
            c["restartCount"].as_i64() >= Some(2)
                && c["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        })
    })
    .await;
    let c = &pod["status"]["containerStatuses"][0];
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(c["ready"], false);
    assert_eq!(pod["status"]["phase"], "Running");
    let name = s(&pod, &["metadata", "name"]).to_string();
    let backoffs = events_about(store, &name)
        .into_iter()
        .filter(|e| e["reason"] == "BackOff")
        .collect::<Vec<_>>();
    assert_eq!(backoffs.len(), 1, "repeats fold into one Event");
    assert!(backoffs[0]["count"].as_i64() >= Some(2));
    assert_eq!(backoffs[0]["type"], "Warning");
    cluster.shutdown().await;
}

fn job(name: &str, simulate: Option<&str>, backoff_limit: i64) -> Value {
    let mut annotations = json!({});
    if let Some(sim) = simulate {
        annotations["rekon.dev/simulate"] = json!(sim);
    }
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"},
        "spec": {"backoffLimit": backoff_limit, "completions": 2, "parallelism": 1,
            "template": {"metadata": {"annotations": annotations},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "run", "image": "busybox"}]}}}})
}

#[tokio::test]
async fn jobs_complete_or_fail_with_backoff_limit_exceeded() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(job("ok", None, 2));
    store.apply(job("bad", Some("fail"), 1));
    let ok = wait_for("job ok complete", || {
        store
            .get_key(&key("batch", "Job", "default", "ok"))
            .filter(|j| cond(j, "Complete").is_some())
    })
    .await;
    assert_eq!(ok["status"]["succeeded"], 2);
    assert!(cond(&ok, "SuccessCriteriaMet").is_some());
    assert!(ok["status"]["completionTime"].is_string());
    let bad = wait_for("job bad failed", || {
        store
            .get_key(&key("batch", "Job", "default", "bad"))
            .filter(|j| cond(j, "Failed").is_some())
    })
    .await;
    assert_eq!(
        cond(&bad, "Failed").unwrap()["reason"],
        "BackoffLimitExceeded"
    );
    assert_eq!(bad["status"]["failed"], 2);
    let failed_pods = store
        .all("", "Pod")
        .into_iter()
        .filter(|p| p["status"]["phase"] == "Failed")
        .count();
    assert_eq!(failed_pods, 2);
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn statefulset_pods_come_up_in_order_with_their_claims() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}));
    let skey = key("apps", "StatefulSet", "default", "db");
    let sts = wait_for("statefulset ready", || {
        store
            .get_key(&skey)
            .filter(|s| s["status"]["readyReplicas"] == 3)
    })
    .await;
    assert_eq!(
        sts["status"]["currentRevision"],
        sts["status"]["updateRevision"]
    );
    assert_eq!(sts["status"]["updatedReplicas"], 3);
    for ord in 0..3 {
        let claim = store
            .get_key(&key(
                "",
                "PersistentVolumeClaim",
                "default",
                &format!("data-db-{ord}"),
            ))
            .unwrap();
        assert_eq!(claim["status"]["phase"], "Bound");
    }
    // Each member was created no earlier than the previous one became Ready.
    for ord in 1..3 {
        let prev = store
            .get_key(&key("", "Pod", "default", &format!("db-{}", ord - 1)))
            .unwrap();
        let this = store
            .get_key(&key("", "Pod", "default", &format!("db-{ord}")))
            .unwrap();
        let ready_at =
            SimTime::parse_rfc3339(s(cond(&prev, "Ready").unwrap(), &["lastTransitionTime"]))
                .unwrap();
        let created = SimTime::parse_rfc3339(s(&this, &["metadata", "creationTimestamp"])).unwrap();
        assert!(
            created >= ready_at,
            "db-{ord} created before db-{} was ready",
            ord - 1
        );
    }

    store.edit(&skey, |s| s["spec"]["replicas"] = json!(1));
    wait_for("scaled down to one", || {
        let pods = store.all("", "Pod");
        (pods.len() == 1 && pods[0]["metadata"]["name"] == "db-0").then_some(())
    })
    .await;
    assert_eq!(
        store.all("", "PersistentVolumeClaim").len(),
        3,
        "claims are kept"
    );
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn daemonset_runs_one_pod_per_node() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "kube-system"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}}));
    let ds = wait_for("daemonset available", || {
        store
            .get_key(&key("apps", "DaemonSet", "kube-system", "agent"))
            .filter(|d| d["status"]["numberAvailable"] == 3)
    })
    .await;
    assert_eq!(ds["status"]["desiredNumberScheduled"], 3);
    assert_eq!(ds["status"]["numberReady"], 3);
    assert_eq!(ds["status"]["updatedNumberScheduled"], 3);
    let mut nodes: Vec<String> = store
        .all("", "Pod")
        .iter()
        .map(|p| s(p, &["spec", "nodeName"]).to_string())
        .collect();
    nodes.sort();
    assert_eq!(nodes, vec!["node-1", "node-2", "node-3"]);
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn cronjob_creates_a_job_on_schedule() {
    let cluster = Cluster::start(600.0);
    let store = &cluster.store;
    store.apply(json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "tick", "namespace": "default"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "t", "image": "busybox"}]}}}}}}));
    let cj = wait_for("a successful scheduled run", || {
        store
            .get_key(&key("batch", "CronJob", "default", "tick"))
            .filter(|c| c["status"]["lastSuccessfulTime"].is_string())
    })
    .await;
    // Scheduled on simulated minutes, written in calendar time: never after the wall clock.
    let scheduled = SimTime::parse_rfc3339(s(&cj, &["status", "lastScheduleTime"])).unwrap();
    assert!(scheduled.to_jiff() <= jiff::Timestamp::now());
    let jobs = store.all("batch", "Job");
    assert!(!jobs.is_empty());
    assert!(
        jobs.iter()
            .all(|j| s(j, &["metadata", "name"]).starts_with("tick-"))
    );
    assert!(
        jobs.len() <= 4,
        "history limit keeps at most 3 finished jobs plus a running one"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn service_endpoint_slice_tracks_ready_pods_and_load_balancer_gets_an_address() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}));
    store.apply(deployment("web", 2, "nginx:1.25", json!({})));
    let ready_endpoints = |n: usize| {
        let store = store.clone();
        move || {
            let slices = store.all("discovery.k8s.io", "EndpointSlice");
            let slice = slices.first()?;
            let eps = slice["endpoints"].as_array()?;
            let ready = eps
                .iter()
                .filter(|e| e["conditions"]["ready"] == true)
                .count();
            (slices.len() == 1 && eps.len() == n && ready == n).then(|| slice.clone())
        }
    };
    let slice = wait_for("two ready endpoints", ready_endpoints(2)).await;
    assert_eq!(
        slice["metadata"]["labels"]["kubernetes.io/service-name"],
        "web"
    );
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(slice["ports"][0]["port"], 8080);
    let endpoints = store
        .get_key(&key("", "Endpoints", "default", "web"))
        .unwrap();
    assert_eq!(
        endpoints["subsets"][0]["addresses"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let svc = wait_for("load balancer address", || {
        store
            .get_key(&key("", "Service", "default", "web"))
            .filter(|s| s["status"]["loadBalancer"]["ingress"][0]["ip"].is_string())
    })
    .await;
    assert!(
        svc["status"]["loadBalancer"]["ingress"][0]["ip"]
            .as_str()
            .unwrap()
            .starts_with("172.18.255.")
    );

    store.edit(&key("apps", "Deployment", "default", "web"), |d| {
        d["spec"]["replicas"] = json!(1)
    });
    wait_for("one endpoint left", ready_endpoints(1)).await;
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn deleting_a_namespace_empties_it_then_removes_it() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"},
        "spec": {"finalizers": ["kubernetes"]}}),
    );
    store.apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}}));
    let mut d = deployment("web", 2, "nginx:1.25", json!({}));
    d["metadata"]["namespace"] = json!("shop");
    store.apply(d);
    let ns_key = key("", "Namespace", "", "shop");
    wait_for("shop active and running", || {
        let ns = store.get_key(&ns_key)?;
        let running = store
            .list("", "Pod", Some("shop"))
            .iter()
            .filter(|p| p["status"]["phase"] == "Running")
            .count();
        (ns["status"]["phase"] == "Active" && running == 2).then_some(())
    })
    .await;
    store.delete(&ns_key, "test").unwrap();
    wait_for("namespace gone", || {
        store.get_key(&ns_key).is_none().then_some(())
    })
    .await;
    assert!(store.namespace_contents("shop").is_empty());
    cluster.shutdown().await;
}

#[tokio::test]
async fn the_driver_stops_when_the_feed_ends() {
    let clock = SimClock::new(100.0).unwrap();
    let store = FakeStore::new(clock.clone());
    let handle = tokio::spawn(run(store.clone(), clock, std::future::pending::<()>()));
    wait_for("nodes created", || {
        (store.all("", "Node").len() == 3).then_some(())
    })
    .await;
    // The store shuts down: its feed ends.
    store.tx.lock().unwrap().take();
    tokio::time::timeout(Duration::from_secs(30), handle)
        .await
        .expect("driver ends when the feed ends")
        .expect("no panic");
}
