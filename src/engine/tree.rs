//! An app's topology: the app, its managed resources (missing ones included), and below them
//! the live objects they own, by ownerReferences and by Argo CD's inferred edges (EndpointSlice
//! → Service by the `kubernetes.io/service-name` label, Endpoints → Service of the same name,
//! PVC `<template>-<statefulset>-<N>` → StatefulSet).
//!
//! The live cache is reached through [`LiveIndex`], so building a tree costs O(its nodes): one
//! lookup per node for its children, and one listing per (kind, namespace) for inferred edges.

use crate::engine::json::JsonPath;
use jiff::Timestamp;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::health;
use crate::model::{Health, HealthStatus, ResourceKey, SyncStatus, TreeNode, split_api_version};

/// Ownership deeper than this is cut off (real chains are 3 or 4 deep).
const MAX_DEPTH: usize = 32;

const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// What tree building needs from the live cache. Objects come back shared (`Arc`) because
/// the live cache holds text and parses an object when it is asked for.
pub trait LiveIndex {
    /// The live object with this key.
    fn get(&self, key: &ResourceKey) -> Option<Arc<Value>>;
    /// Live objects whose ownerReferences name this UID.
    fn children(&self, owner_uid: &str) -> Vec<Arc<Value>>;
    /// Live objects of a group/kind in a namespace. Called at most once per (kind, namespace)
    /// per tree, for inferred edges; should be indexed to keep trees O(nodes).
    fn list(&self, group: &str, kind: &str, namespace: &str) -> Vec<Arc<Value>>;
}

/// A plain in-memory [`LiveIndex`], for tests, fixtures and one-shot commands.
#[derive(Debug, Default, Clone)]
pub struct MemoryIndex {
    objects: HashMap<ResourceKey, Arc<Value>>,
    children: HashMap<String, Vec<ResourceKey>>,
    by_kind: HashMap<(String, String, String), Vec<ResourceKey>>,
}

impl MemoryIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Indexes these objects (ones without apiVersion, kind or name are skipped).
    pub fn from_objects(objects: impl IntoIterator<Item = Value>) -> Self {
        let mut index = Self::new();
        for obj in objects {
            index.insert(obj);
        }
        index
    }

    /// Adds an object, replacing one with the same key.
    pub fn insert(&mut self, obj: Value) {
        let Some(key) = ResourceKey::of(&obj) else {
            return;
        };
        if self.objects.contains_key(&key) {
            self.remove(&key);
        }
        for owner in owner_uids(&obj) {
            self.children.entry(owner).or_default().push(key.clone());
        }
        self.by_kind
            .entry((key.group.clone(), key.kind.clone(), key.namespace.clone()))
            .or_default()
            .push(key.clone());
        self.objects.insert(key, Arc::new(obj));
    }

    /// Removes an object; returns whether it was there.
    pub fn remove(&mut self, key: &ResourceKey) -> bool {
        let Some(obj) = self.objects.remove(key) else {
            return false;
        };
        for owner in owner_uids(&obj) {
            if let Some(list) = self.children.get_mut(&owner) {
                list.retain(|k| k != key);
            }
        }
        let kind = (key.group.clone(), key.kind.clone(), key.namespace.clone());
        if let Some(list) = self.by_kind.get_mut(&kind) {
            list.retain(|k| k != key);
        }
        true
    }

    /// Number of objects held.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the index holds nothing.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

impl LiveIndex for MemoryIndex {
    fn get(&self, key: &ResourceKey) -> Option<Arc<Value>> {
        self.objects.get(key).cloned()
    }

    fn children(&self, owner_uid: &str) -> Vec<Arc<Value>> {
        self.children
            .get(owner_uid)
            .into_iter()
            .flatten()
            .filter_map(|k| self.objects.get(k).cloned())
            .collect()
    }

    fn list(&self, group: &str, kind: &str, namespace: &str) -> Vec<Arc<Value>> {
        let key = (group.to_string(), kind.to_string(), namespace.to_string());
        self.by_kind
            .get(&key)
            .into_iter()
            .flatten()
            .filter_map(|k| self.objects.get(k).cloned())
            .collect()
    }
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj.at("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// The app at the root of a tree.
#[derive(Debug, Clone, PartialEq)]
pub struct AppRoot {
    /// The Application's key (`argoproj.io/Application`, or a Flux kind for observed apps).
    pub key: ResourceKey,
    /// Its API version.
    pub version: String,
    /// App health.
    pub health: Option<HealthStatus>,
    /// App sync status.
    pub sync: Option<SyncStatus>,
}

/// A resource the app manages directly: in Git, or live and tracked (to be pruned).
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedResource {
    /// Which object.
    pub key: ResourceKey,
    /// API version from Git, shown when the object is missing from the cluster.
    pub version: String,
    /// Its sync status from the comparison.
    pub sync: Option<SyncStatus>,
}

/// Builds the app's tree: the app, its managed resources (missing ones with Missing health),
/// and their live descendants. Ages are measured from `now`. Every live object appears once;
/// ownership cycles and absurd depths are cut.
pub fn build_tree(
    app: &AppRoot,
    managed: &[ManagedResource],
    index: &dyn LiveIndex,
    now: Timestamp,
) -> TreeNode {
    let mut builder = Builder {
        index,
        now,
        seen: HashSet::new(),
        slices: HashMap::new(),
        claims: HashMap::new(),
    };
    // Managed resources are placed under the app, never again as someone's child.
    let live: Vec<Option<Arc<Value>>> = managed.iter().map(|m| index.get(&m.key)).collect();
    for obj in live.iter().flatten() {
        if let Some(uid) = uid_of(obj) {
            builder.seen.insert(uid.to_string());
        }
    }
    let mut children: Vec<TreeNode> = managed
        .iter()
        .zip(&live)
        .map(|(m, obj)| match obj {
            Some(obj) => {
                let mut node = builder.node(obj, 1);
                node.sync = m.sync;
                node
            }
            None => TreeNode {
                key: m.key.clone(),
                version: m.version.clone(),
                uid: None,
                health: Some(HealthStatus::new(Health::Missing, "Not in the cluster")),
                sync: m.sync,
                info: Vec::new(),
                children: Vec::new(),
            },
        })
        .collect();
    sort_nodes(&mut children);
    TreeNode {
        key: app.key.clone(),
        version: app.version.clone(),
        uid: None,
        health: app.health.clone(),
        sync: app.sync,
        info: Vec::new(),
        children,
    }
}

struct Builder<'a> {
    index: &'a dyn LiveIndex,
    now: Timestamp,
    /// UIDs already placed in the tree.
    seen: HashSet<String>,
    /// Per namespace: EndpointSlices by the Service they name.
    slices: HashMap<String, HashMap<String, Vec<Arc<Value>>>>,
    /// Per namespace: PVCs by their name without the `-<ordinal>` suffix.
    claims: HashMap<String, HashMap<String, Vec<Arc<Value>>>>,
}

impl Builder<'_> {
    fn node(&mut self, obj: &Value, depth: usize) -> TreeNode {
        let key = ResourceKey::of(obj).unwrap_or_else(|| ResourceKey::new("", "", "", ""));
        let version = obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(|v| split_api_version(v).1.to_string())
            .unwrap_or_default();
        let uid = uid_of(obj).map(str::to_string);
        let mut children = Vec::new();
        if depth < MAX_DEPTH {
            for child in self.child_objects(obj, &key, uid.as_deref()) {
                match uid_of(&child) {
                    Some(u) if !self.seen.insert(u.to_string()) => continue,
                    _ => {}
                }
                children.push(self.node(&child, depth + 1));
            }
        }
        sort_nodes(&mut children);
        TreeNode {
            health: health::assess(obj),
            info: info(obj, &key, self.now),
            key,
            version,
            uid,
            sync: None,
            children,
        }
    }

    fn child_objects(
        &mut self,
        obj: &Value,
        key: &ResourceKey,
        uid: Option<&str>,
    ) -> Vec<Arc<Value>> {
        let mut out = match uid {
            Some(uid) => self.index.children(uid),
            None => Vec::new(),
        };
        match (key.group.as_str(), key.kind.as_str()) {
            ("", "Service") => {
                let endpoints = ResourceKey::new("", "Endpoints", &key.namespace, &key.name);
                out.extend(self.index.get(&endpoints));
                out.extend(self.endpoint_slices(&key.namespace, &key.name));
            }
            ("apps", "StatefulSet") => {
                for template in claim_templates(obj) {
                    let prefix = format!("{template}-{}", key.name);
                    out.extend(self.claims_with_prefix(&key.namespace, &prefix));
                }
            }
            _ => {}
        }
        out
    }

    fn endpoint_slices(&mut self, namespace: &str, service: &str) -> Vec<Arc<Value>> {
        let index = self.index;
        let by_service = self.slices.entry(namespace.to_string()).or_insert_with(|| {
            let mut map: HashMap<String, Vec<Arc<Value>>> = HashMap::new();
            for slice in index.list("discovery.k8s.io", "EndpointSlice", namespace) {
                let label = slice
                    .at("/metadata/labels")
                    .and_then(|l| l.get(SERVICE_NAME_LABEL))
                    .and_then(Value::as_str);
                if let Some(svc) = label.map(str::to_string) {
                    map.entry(svc).or_default().push(slice);
                }
            }
            map
        });
        by_service.get(service).cloned().unwrap_or_default()
    }

    fn claims_with_prefix(&mut self, namespace: &str, prefix: &str) -> Vec<Arc<Value>> {
        let index = self.index;
        let by_prefix = self.claims.entry(namespace.to_string()).or_insert_with(|| {
            let mut map: HashMap<String, Vec<Arc<Value>>> = HashMap::new();
            for claim in index.list("", "PersistentVolumeClaim", namespace) {
                let name = claim
                    .at("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let base = name
                    .rsplit_once('-')
                    .filter(|(_, ordinal)| {
                        !ordinal.is_empty() && ordinal.bytes().all(|b| b.is_ascii_digit())
                    })
                    .map(|(base, _)| base.to_string());
                if let Some(base) = base {
                    map.entry(base).or_default().push(claim);
                }
            }
            map
        });
        by_prefix.get(prefix).cloned().unwrap_or_default()
    }
}

fn uid_of(obj: &Value) -> Option<&str> {
    obj.at("/metadata/uid")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
}

fn claim_templates(obj: &Value) -> Vec<&str> {
    obj.at("/spec/volumeClaimTemplates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.at("/metadata/name").and_then(Value::as_str))
        .collect()
}

/// Kinds in Helm's install order (Argo CD's sync order), so trees read top-down the way a
/// sync creates them; other kinds come after, alphabetically.
const KIND_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Position of a kind in Helm's install order; unknown kinds get `KIND_ORDER.len()`.
pub fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

fn sort_nodes(nodes: &mut [TreeNode]) {
    nodes.sort_by(|a, b| {
        kind_rank(&a.key.kind)
            .cmp(&kind_rank(&b.key.kind))
            .then_with(|| a.key.kind.cmp(&b.key.kind))
            .then_with(|| a.key.name.cmp(&b.key.name))
            .then_with(|| a.key.namespace.cmp(&b.key.namespace))
            .then_with(|| a.key.group.cmp(&b.key.group))
    });
}

/// Short facts about a live object, in display order.
fn info(obj: &Value, key: &ResourceKey, now: Timestamp) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |k: &str, v: String| {
        if !v.is_empty() {
            out.push((k.to_string(), v));
        }
    };
    let s = |p: &str| obj.at(p).and_then(Value::as_str).unwrap_or("").to_string();
    let n = |p: &str| obj.at(p).and_then(Value::as_i64);
    match (key.group.as_str(), key.kind.as_str()) {
        ("", "Pod") => {
            push("phase", pod_status(obj));
            let (ready, total) = health::pod_ready_counts(obj);
            push("ready", format!("{ready}/{total}"));
            let restarts: i64 = obj
                .at("/status/containerStatuses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("restartCount").and_then(Value::as_i64))
                .sum();
            push("restarts", restarts.to_string());
            push("images", images(obj.at("/spec")));
        }
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet") => {
            if let Some(rev) = obj
                .at("/metadata/annotations")
                .and_then(|a| a.get("deployment.kubernetes.io/revision"))
                .and_then(Value::as_str)
            {
                push("revision", rev.to_string());
            }
            let wanted = n("/spec/replicas").unwrap_or(1);
            let ready = n("/status/readyReplicas").unwrap_or(0);
            push("ready", format!("{ready}/{wanted}"));
            push("images", images(obj.at("/spec/template/spec")));
        }
        ("apps", "DaemonSet") => {
            let wanted = n("/status/desiredNumberScheduled").unwrap_or(0);
            let ready = n("/status/numberReady").unwrap_or(0);
            push("ready", format!("{ready}/{wanted}"));
            push("images", images(obj.at("/spec/template/spec")));
        }
        ("batch", "Job") => {
            let wanted = n("/spec/completions").unwrap_or(1);
            let done = n("/status/succeeded").unwrap_or(0);
            push("completions", format!("{done}/{wanted}"));
            push("images", images(obj.at("/spec/template/spec")));
        }
        ("", "Service") => {
            push("type", s("/spec/type"));
            push("address", lb_addresses(obj));
        }
        ("networking.k8s.io" | "extensions", "Ingress") => {
            let hosts: Vec<&str> = obj
                .at("/spec/rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("host").and_then(Value::as_str))
                .collect();
            push("hosts", hosts.join(","));
            push("address", lb_addresses(obj));
        }
        ("", "PersistentVolumeClaim") => {
            push("phase", s("/status/phase"));
            push("capacity", s("/status/capacity/storage"));
        }
        _ => {}
    }
    if let Some(created) = obj
        .at("/metadata/creationTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok())
    {
        push("age", human_age(now.duration_since(created).as_secs()));
    }
    out
}

/// kubectl's STATUS column for a pod: Terminating, a container's waiting or terminated reason,
/// or the phase.
fn pod_status(obj: &Value) -> String {
    if obj
        .at("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
    {
        return "Terminating".to_string();
    }
    let statuses = obj
        .at("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for cs in statuses {
        for state in ["waiting", "terminated"] {
            if let Some(reason) = cs
                .at(&format!("/state/{state}/reason"))
                .and_then(Value::as_str)
                && !reason.is_empty()
            {
                return reason.to_string();
            }
        }
    }
    obj.at("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Unknown")
        .to_string()
}

fn images(pod_spec: Option<&Value>) -> String {
    let Some(spec) = pod_spec else {
        return String::new();
    };
    let mut out: Vec<&str> = Vec::new();
    for field in ["initContainers", "containers"] {
        for c in spec
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(image) = c.get("image").and_then(Value::as_str)
                && !out.contains(&image)
            {
                out.push(image);
            }
        }
    }
    out.join(",")
}

fn lb_addresses(obj: &Value) -> String {
    obj.at("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|i| {
            i.get("ip")
                .or_else(|| i.get("hostname"))
                .and_then(Value::as_str)
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// An age the way kubectl prints it (`45s`, `5m12s`, `3h`, `12d`, `2y30d`).
pub fn human_age(secs: i64) -> String {
    if secs < 0 {
        return "0s".to_string();
    }
    let minutes = secs / 60;
    let hours = secs / 3600;
    let days = hours / 24;
    if secs < 120 {
        format!("{secs}s")
    } else if minutes < 10 {
        match secs % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        }
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        match hours % 24 {
            0 => format!("{days}d"),
            h => format!("{days}d{h}h"),
        }
    } else if days < 365 * 2 {
        format!("{days}d")
    } else if days < 365 * 8 {
        match days % 365 {
            0 => format!("{}y", days / 365),
            d => format!("{}y{d}d", days / 365),
        }
    } else {
        format!("{}y", days / 365)
    }
}

/// Text for `rekon tree -o text`: one line per node, `├──`/`└──` branches,
/// `Kind/namespace/name (Health, Sync) key=value …`, and the health message of nodes that are
/// not healthy.
pub fn render_text(root: &TreeNode) -> String {
    let mut out = String::new();
    out.push_str(&node_line(root));
    out.push('\n');
    render_children(&root.children, "", &mut out);
    out
}

fn render_children(children: &[TreeNode], prefix: &str, out: &mut String) {
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        out.push_str(prefix);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&node_line(child));
        out.push('\n');
        let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
        render_children(&child.children, &deeper, out);
    }
}

fn node_line(node: &TreeNode) -> String {
    let key = &node.key;
    let mut line = if key.namespace.is_empty() {
        format!("{}/{}", key.kind, key.name)
    } else {
        format!("{}/{}/{}", key.kind, key.namespace, key.name)
    };
    let mut badges: Vec<&str> = Vec::new();
    if let Some(h) = &node.health {
        badges.push(h.status.as_str());
    }
    if let Some(s) = node.sync {
        badges.push(s.as_str());
    }
    if !badges.is_empty() {
        line.push_str(&format!(" ({})", badges.join(", ")));
    }
    for (k, v) in &node.info {
        line.push_str(&format!(" {k}={v}"));
    }
    if let Some(h) = &node.health
        && h.status != Health::Healthy
        && !h.message.is_empty()
    {
        line.push_str(" — ");
        line.push_str(&h.message);
    }
    line
}

#[cfg(test)]
mod tests;
