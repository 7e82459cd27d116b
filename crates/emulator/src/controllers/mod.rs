//! The simulated controllers of the embedded cluster: what kube-controller-manager, the
//! scheduler and the kubelets do on a real cluster, reduced to what a GitOps tool observes.
//!
//! Every controller is a pure function: it reads one object and a read-only [`World`] view and
//! returns [`Effect`]s. The [`driver`] carries the effects out through the API machinery (so
//! resourceVersions, watches, managedFields and the audit log see them), keeps the work queue
//! and sleeps on the simulated clock. No controller does I/O, reads the wall clock or draws a
//! random number: names are made from the caller's id counter, so runs are reproducible.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde_json::Value;

use crate::clock::{Calendar, SimDuration, SimTime};
use crate::key::ResourceKey;

mod containers;
mod cron;
mod cronjob;
mod daemonset;
mod deployment;
pub mod driver;
mod events;
mod hash;
mod job;
mod kubelet;
mod meta;
mod namespace;
pub mod nodes;
mod pvc;
mod replicaset;
mod scheduler;
mod service;
pub mod sim_argocd;
pub mod sim_flux;
mod statefulset;
#[cfg(test)]
mod test_world;

pub use containers::SIMULATE_ANNOTATION;
pub use cron::{CronError, CronSchedule};
pub use driver::{ChangeFeed, Changed, Feed, StoreAccess, StoreError, run};
pub use events::event_object;
pub use hash::pod_template_hash;

/// Field manager of the controllers that live in kube-controller-manager.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";
/// Field manager of the scheduler (it sets `spec.nodeName`).
pub const SCHEDULER: &str = "kube-scheduler";
/// Field manager of the kubelets (pod status).
pub const KUBELET: &str = "kubelet";

/// A read-only object as the store holds it: a cheap shared handle that derefs to its JSON,
/// so the store can hand out what it already keeps without copying it.
#[derive(Clone)]
pub struct Obj(Arc<dyn AsRef<Value> + Send + Sync>);

struct Owned(Value);

impl AsRef<Value> for Owned {
    fn as_ref(&self) -> &Value {
        &self.0
    }
}

impl Obj {
    /// Wraps an object the caller owns.
    pub fn new(value: Value) -> Self {
        Obj(Arc::new(Owned(value)))
    }

    /// Shares an object the store already holds (no copy), e.g. its `Arc<Stored>` behind a
    /// type that implements `AsRef<Value>`.
    pub fn shared<T: AsRef<Value> + Send + Sync + 'static>(inner: Arc<T>) -> Self {
        Obj(inner)
    }
}

impl Deref for Obj {
    type Target = Value;
    fn deref(&self) -> &Value {
        (*self.0).as_ref()
    }
}

impl AsRef<Value> for Obj {
    fn as_ref(&self) -> &Value {
        self
    }
}

impl fmt::Debug for Obj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl From<Value> for Obj {
    fn from(value: Value) -> Self {
        Obj::new(value)
    }
}

/// Read-only view of the cluster's objects (the store implements it).
pub trait World: Send + Sync {
    /// One object, by group (`""` for core), kind, namespace (`""` if cluster-scoped) and name.
    fn get(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<Obj>;

    /// Every object of a kind, in one namespace or (with `None`) in all of them.
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Obj>;

    /// Objects of a kind in `namespace` whose controller ownerReference has `owner_uid`.
    /// The default scans [`World::list`]; a store with an owner index can answer faster.
    fn list_owned(&self, group: &str, kind: &str, namespace: &str, owner_uid: &str) -> Vec<Obj> {
        self.list(group, kind, Some(namespace))
            .into_iter()
            .filter(|o| meta::is_controlled_by(o, owner_uid))
            .collect()
    }

    /// Every object in `namespace`, of every namespaced kind (custom resources included).
    fn namespace_contents(&self, namespace: &str) -> Vec<Obj>;
}

/// Severity of an Event, as core/v1 spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// `Normal`.
    Normal,
    /// `Warning`.
    Warning,
}

impl EventType {
    /// The word Kubernetes writes in `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// The object an Event is about (core/v1 `involvedObject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvolvedObject {
    /// `apiVersion` of the object.
    pub api_version: String,
    /// Kind of the object.
    pub kind: String,
    /// Namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// Name of the object.
    pub name: String,
    /// Its uid (empty when unknown).
    pub uid: String,
    /// Its resourceVersion when the event happened (empty when unknown).
    pub resource_version: String,
    /// The part of the object, e.g. `spec.containers{web}` for kubelet events.
    pub field_path: Option<String>,
}

impl InvolvedObject {
    /// The reference to `obj` as it is now.
    pub fn of(obj: &Value) -> Self {
        InvolvedObject {
            api_version: meta::str_at(obj, &["apiVersion"]).to_string(),
            kind: meta::str_at(obj, &["kind"]).to_string(),
            namespace: meta::namespace(obj).to_string(),
            name: meta::name(obj).to_string(),
            uid: meta::uid(obj).to_string(),
            resource_version: meta::str_at(obj, &["metadata", "resourceVersion"]).to_string(),
            field_path: None,
        }
    }

    /// The same reference narrowed to a part of the object.
    pub fn with_field_path(mut self, path: impl Into<String>) -> Self {
        self.field_path = Some(path.into());
        self
    }
}

/// A core/v1 Event a controller wants recorded. Repeats of the same (object, reason,
/// message) are folded into one Event with a rising `count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    /// What the event is about.
    pub involved: InvolvedObject,
    /// Normal or Warning.
    pub event_type: EventType,
    /// CamelCase reason, e.g. `ScalingReplicaSet`.
    pub reason: String,
    /// Human-readable message.
    pub message: String,
    /// `source.component` and `reportingComponent`, e.g. `deployment-controller`.
    pub component: &'static str,
    /// `source.host`: the node, for kubelet events.
    pub host: Option<String>,
}

impl EventSpec {
    /// An event about `obj` from `component`.
    pub fn new(
        obj: &Value,
        component: &'static str,
        event_type: EventType,
        reason: &str,
        message: impl Into<String>,
    ) -> Self {
        EventSpec {
            involved: InvolvedObject::of(obj),
            event_type,
            reason: reason.to_string(),
            message: message.into(),
            component,
            host: None,
        }
    }
}

/// What a controller wants done; the driver carries it out through the API machinery.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Create this object (status included: the driver writes it through `/status` after).
    Create(Value),
    /// Replace this object's metadata and spec (it carries the resourceVersion it was read at,
    /// so a concurrent change makes it a conflict and the object is reconciled again).
    Update(Value),
    /// The object with a new `.status`; only `.status` is taken.
    UpdateStatus(Value),
    /// Delete this object (for a Pod that already has `deletionTimestamp`, this is the
    /// kubelet's final, immediate delete).
    Delete(ResourceKey),
    /// Record a core/v1 Event.
    Event(EventSpec),
    /// Reconcile this object again after this much simulated time.
    Requeue(SimDuration),
}

/// The result of one reconcile step: the field manager the effects are written as, and the
/// effects in the order they must be carried out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    /// Field manager for writes, e.g. `kube-controller-manager` or `kubelet`.
    pub manager: &'static str,
    /// The effects, in order.
    pub effects: Vec<Effect>,
}

impl Outcome {
    fn new(manager: &'static str) -> Self {
        Outcome {
            manager,
            effects: Vec::new(),
        }
    }

    fn push(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    fn event(&mut self, spec: EventSpec) {
        self.effects.push(Effect::Event(spec));
    }

    /// Asks to be called again after `d`, keeping only the earliest such request.
    fn requeue(&mut self, d: SimDuration) {
        for e in &mut self.effects {
            if let Effect::Requeue(old) = e {
                if d < *old {
                    *old = d;
                }
                return;
            }
        }
        self.effects.push(Effect::Requeue(d));
    }

    /// Asks to be called again at `at` (now or later).
    fn requeue_at(&mut self, now: SimTime, at: SimTime) {
        self.requeue(at.since(now).max(SimDuration::from_millis(1)));
    }
}

/// Everything a reconcile step may read: the world, the simulated time, and the source of
/// fresh ids for generated names.
pub struct Ctx<'a> {
    /// The cluster as the store holds it now.
    pub world: &'a dyn World,
    /// The current simulated instant.
    pub now: SimTime,
    /// How simulated instants are written into objects and read back from them.
    pub calendar: Calendar,
    ids: &'a mut dyn FnMut() -> u64,
}

impl<'a> Ctx<'a> {
    /// A context over `world` at `now` on `calendar`, drawing ids from `ids`.
    pub fn new(
        world: &'a dyn World,
        now: SimTime,
        calendar: Calendar,
        ids: &'a mut dyn FnMut() -> u64,
    ) -> Self {
        Ctx {
            world,
            now,
            calendar,
            ids,
        }
    }

    /// A fresh id from the caller's counter.
    pub fn next_id(&mut self) -> u64 {
        (self.ids)()
    }

    /// A fresh five-character name suffix, like the API server's `generateName`.
    pub fn suffix(&mut self) -> String {
        let id = self.next_id();
        meta::name_suffix(id)
    }

    /// `now` as a Kubernetes timestamp (calendar time, see [`Calendar`]).
    pub fn now_str(&self) -> String {
        self.calendar.stamp(self.now)
    }

    /// A simulated instant as a Kubernetes timestamp (calendar time, see [`Calendar`]).
    pub fn stamp(&self, t: SimTime) -> String {
        self.calendar.stamp(t)
    }

    /// The simulated instant a timestamp in an object stands for; `None` if it is not one.
    pub fn time(&self, text: &str) -> Option<SimTime> {
        self.calendar.parse(text)
    }
}

/// The (group, kind) pairs some controller reconciles.
pub const KINDS: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Pod"),
    ("", "Service"),
    ("", "PersistentVolumeClaim"),
    ("apps", "Deployment"),
    ("apps", "ReplicaSet"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"),
    // Simulations of Argo CD's and Flux's controllers (see sim_argocd.rs, sim_flux.rs).
    ("argoproj.io", "Application"),
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
    ("helm.toolkit.fluxcd.io", "HelmRelease"),
    ("source.toolkit.fluxcd.io", "GitRepository"),
    ("source.toolkit.fluxcd.io", "OCIRepository"),
    ("source.toolkit.fluxcd.io", "HelmRepository"),
    ("source.toolkit.fluxcd.io", "HelmChart"),
    ("image.toolkit.fluxcd.io", "ImageRepository"),
    ("image.toolkit.fluxcd.io", "ImagePolicy"),
    ("image.toolkit.fluxcd.io", "ImageUpdateAutomation"),
];

/// Whether some controller reconciles objects of this group and kind.
pub fn handles(group: &str, kind: &str) -> bool {
    KINDS.iter().any(|(g, k)| *g == group && *k == kind)
}

/// One reconcile step for `obj` at simulated `now`, writing timestamps on `calendar`. `obj`
/// must be of a kind [`handles`] accepts (others give an empty outcome).
pub fn reconcile(
    obj: &Value,
    world: &dyn World,
    now: SimTime,
    calendar: Calendar,
    ids: &mut dyn FnMut() -> u64,
) -> Outcome {
    let mut ctx = Ctx::new(world, now, calendar, ids);
    let Some(key) = ResourceKey::of(obj) else {
        return Outcome::default();
    };
    match (key.group.as_str(), key.kind.as_str()) {
        ("apps", "Deployment") => deployment::reconcile(obj, &mut ctx),
        ("apps", "ReplicaSet") => replicaset::reconcile(obj, &mut ctx),
        ("apps", "StatefulSet") => statefulset::reconcile(obj, &mut ctx),
        ("apps", "DaemonSet") => daemonset::reconcile(obj, &mut ctx),
        ("batch", "Job") => job::reconcile(obj, &mut ctx),
        ("batch", "CronJob") => cronjob::reconcile(obj, &mut ctx),
        ("", "Pod") => {
            if meta::str_at(obj, &["spec", "nodeName"]).is_empty() && !meta::is_terminating(obj) {
                scheduler::reconcile(obj, &mut ctx)
            } else {
                kubelet::reconcile(obj, &mut ctx)
            }
        }
        ("", "Service") => service::reconcile(obj, &mut ctx),
        ("networking.k8s.io", "Ingress") => service::reconcile_ingress(obj, &mut ctx),
        ("", "PersistentVolumeClaim") => pvc::reconcile(obj, &mut ctx),
        ("", "Namespace") => namespace::reconcile(obj, &mut ctx),
        ("argoproj.io", "Application") => sim_argocd::reconcile(obj, &mut ctx),
        (g, k) if sim_flux::KINDS.contains(&(g, k)) => sim_flux::reconcile(obj, &mut ctx),
        _ => Outcome::default(),
    }
}

/// What controllers do when an object is gone: a deleted Service takes its legacy Endpoints
/// with it (EndpointSlices have an ownerReference, so garbage collection removes those).
pub fn reconcile_deleted(obj: &Value, world: &dyn World) -> Outcome {
    match ResourceKey::of(obj) {
        Some(key) if key.group.is_empty() && key.kind == "Service" => {
            service::reconcile_deleted(obj, world)
        }
        _ => Outcome::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::test_world::*;
    use super::*;
    use serde_json::json;

    /// Malformed objects (wrong types everywhere) never make a controller panic.
    #[test]
    fn malformed_objects_do_not_panic() {
        let junk_values = [
            json!("junk"),
            json!(7),
            json!([1, 2]),
            json!(null),
            json!({"replicas": "x", "template": "y", "selector": 3, "containers": "z"}),
            json!({"replicas": 2, "selector": {"app": "x", "matchLabels": 4, "matchExpressions": [1]},
                "type": "LoadBalancer", "ports": [1, {"targetPort": []}, {"targetPort": "http"}],
                "template": {"metadata": 1, "spec": {"containers": [1, {"image": 3}], "initContainers": 2}},
                "volumeClaimTemplates": [1, "a", {"metadata": 2}], "jobTemplate": 5, "schedule": 5,
                "strategy": {"type": 9, "rollingUpdate": {"maxSurge": [], "maxUnavailable": {}}},
                "updateStrategy": {"rollingUpdate": {"partition": "p"}}, "finalizers": [1],
                "phase": 3, "conditions": [1, {"type": 2}], "containerStatuses": [1, {"state": 2}],
                "startTime": 4, "loadBalancer": {"ingress": 1}, "active": 1}),
        ];
        let mut world = FakeWorld::with(nodes::initial_nodes(SimTime::from_unix_secs(0)));
        for (i, j) in junk_values.iter().enumerate() {
            world.put(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("p{i}"), "namespace": "ns", "labels": j,
                    "ownerReferences": j, "annotations": j},
                "spec": j, "status": j}));
            // Owned by every test object below, with junk everywhere else.
            world.put(json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("x-{i}"), "namespace": "ns", "uid": format!("pod{i}"),
                    "labels": {"app": "x"}, "annotations": j,
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x",
                        "uid": "u", "controller": true}]},
                "spec": {"nodeName": j, "containers": j}, "status": {"phase": "Running",
                    "podIP": "10.0.0.1", "conditions": j, "containerStatuses": j}}));
            for (g, k) in [
                ("apps", "ReplicaSet"),
                ("batch", "Job"),
                ("discovery.k8s.io", "EndpointSlice"),
            ] {
                world.put(json!({"apiVersion": format!("{g}/v1"), "kind": k,
                    "metadata": {"name": format!("x-{i}"), "namespace": "ns", "annotations": j,
                        "labels": {"kubernetes.io/service-name": "x",
                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                        "ownerReferences": [{"uid": "u", "controller": true}]},
                    "spec": j, "status": j, "endpoints": j}));
            }
        }
        for (group, kind) in KINDS {
            let api_version = if group.is_empty() {
                "v1".to_string()
            } else {
                format!("{group}/v1")
            };
            for j in &junk_values {
                for (spec, status) in [(j, j), (j, &json!({})), (&json!({}), j)] {
                    let obj = json!({"apiVersion": api_version, "kind": kind,
                        "metadata": {"name": "x", "namespace": "ns", "uid": "u",
                            "annotations": j, "labels": j, "deletionTimestamp": null,
                            "ownerReferences": j, "creationTimestamp": j},
                        "spec": spec, "status": status});
                    let _ = step(&obj, &world, SimTime::from_unix_secs(1_000));
                    let mut terminating = obj.clone();
                    terminating["metadata"]["deletionTimestamp"] = json!("2024-01-01T00:00:00Z");
                    meta::set_path(&mut terminating, &["spec", "nodeName"], json!("node-1"));
                    let _ = step(&terminating, &world, SimTime::from_unix_secs(1_000));
                    let _ = reconcile_deleted(&obj, &world);
                }
            }
        }
    }
}
