//! The graph no Flux tool shows whole: sources → Kustomizations and HelmReleases
//! (`sourceRef`, `chartRef`), `dependsOn` edges between them, and each one's inventory
//! (`status.inventory`, recursing into child Kustomizations); then, for one object's tree,
//! the live owner walk down to Pods.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use super::flux::{self, depends_on, inventory, source_of};
use crate::engine::tree::{AppRoot, LiveIndex, ManagedResource, build_tree};
use crate::model::{
    Health, HealthStatus, ResourceKey, SyncStatus, TreeNode, abbreviate_revision, split_api_version,
};

/// Recursion into child Kustomizations stops this deep (real setups nest 2 or 3 levels).
const MAX_NESTING: usize = 8;

/// What an edge means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EdgeKind {
    /// `from` is the source `to` reads (GitRepository → Kustomization, HelmChart → HelmRelease,
    /// HelmRepository → HelmChart, ImageRepository → ImagePolicy).
    Source,
    /// `from` waits for `to` (`spec.dependsOn`).
    DependsOn,
    /// `from` applied `to` (`status.inventory`); only Flux objects are drawn as nodes.
    Inventory,
}

/// One Flux object in the graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphNode {
    /// The object.
    #[serde(flatten)]
    pub key: ResourceKey,
    /// kstatus health.
    pub health: Health,
    /// The Ready condition's status.
    pub ready: String,
    /// `spec.suspend`.
    pub suspended: bool,
    /// Applied or stored revision.
    pub revision: String,
    /// The Ready message.
    pub message: String,
    /// How many objects its inventory holds (0 for sources).
    pub inventory: usize,
}

/// An edge between two objects.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GraphEdge {
    /// Where it starts.
    pub from: ResourceKey,
    /// Where it ends (may be missing from the cluster: a dangling reference).
    pub to: ResourceKey,
    /// What it means.
    pub kind: EdgeKind,
}

/// The Flux graph of one cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FluxGraph {
    /// The cluster.
    pub cluster: String,
    /// Every Flux object, sorted by key.
    pub nodes: Vec<GraphNode>,
    /// Every edge, sorted.
    pub edges: Vec<GraphEdge>,
}

impl FluxGraph {
    /// The edges leaving `key`.
    pub fn edges_from<'a>(&'a self, key: &'a ResourceKey) -> impl Iterator<Item = &'a GraphEdge> {
        self.edges.iter().filter(move |e| e.from == *key)
    }

    /// References to objects that do not exist (a missing source or dependency). A source
    /// edge runs from the source, so there the missing end is `from`.
    pub fn dangling(&self) -> Vec<&GraphEdge> {
        let known: HashSet<&ResourceKey> = self.nodes.iter().map(|n| &n.key).collect();
        self.edges
            .iter()
            .filter(|e| match e.kind {
                EdgeKind::Source => !known.contains(&e.from),
                EdgeKind::DependsOn => !known.contains(&e.to),
                EdgeKind::Inventory => false,
            })
            .collect()
    }

    /// Cycles of `dependsOn` (each as its keys in order): Flux would wait forever.
    pub fn dependency_cycles(&self) -> Vec<Vec<ResourceKey>> {
        let mut next: BTreeMap<&ResourceKey, Vec<&ResourceKey>> = BTreeMap::new();
        for e in self.edges.iter().filter(|e| e.kind == EdgeKind::DependsOn) {
            next.entry(&e.from).or_default().push(&e.to);
        }
        let mut cycles: BTreeSet<Vec<ResourceKey>> = BTreeSet::new();
        for start in next.keys() {
            let mut path = vec![*start];
            find_cycles(start, &next, &mut path, &mut cycles);
        }
        cycles.into_iter().collect()
    }
}

fn find_cycles<'a>(
    start: &'a ResourceKey,
    next: &BTreeMap<&'a ResourceKey, Vec<&'a ResourceKey>>,
    path: &mut Vec<&'a ResourceKey>,
    out: &mut BTreeSet<Vec<ResourceKey>>,
) {
    if path.len() > 64 {
        return;
    }
    let Some(last) = path.last().copied() else {
        return;
    };
    for to in next.get(last).into_iter().flatten() {
        if *to == start {
            // Rotate so the smallest key leads: one cycle is reported once.
            let mut cycle: Vec<ResourceKey> = path.iter().map(|k| (*k).clone()).collect();
            if let Some(pos) = cycle
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.cmp(b.1))
                .map(|(i, _)| i)
            {
                cycle.rotate_left(pos);
            }
            out.insert(cycle);
        } else if !path.contains(to) {
            path.push(to);
            find_cycles(start, next, path, out);
            path.pop();
        }
    }
}

/// Builds the graph of one cluster from its Flux objects.
pub fn build<'a>(cluster: &str, objects: impl IntoIterator<Item = &'a Value>) -> FluxGraph {
    let mut nodes = Vec::new();
    let mut edges = BTreeSet::new();
    let objects: Vec<&Value> = objects.into_iter().collect();
    let flux_keys: HashSet<ResourceKey> =
        objects.iter().filter_map(|o| ResourceKey::of(o)).collect();
    for obj in &objects {
        let Some(key) = ResourceKey::of(obj) else {
            continue;
        };
        let st = flux::status(obj);
        let inv = inventory(obj);
        if let Some(src) = source_of(obj) {
            edges.insert(GraphEdge {
                from: src,
                to: key.clone(),
                kind: EdgeKind::Source,
            });
        }
        for dep in depends_on(obj) {
            edges.insert(GraphEdge {
                from: key.clone(),
                to: dep,
                kind: EdgeKind::DependsOn,
            });
        }
        for e in &inv {
            if flux_keys.contains(&e.key) {
                edges.insert(GraphEdge {
                    from: key.clone(),
                    to: e.key.clone(),
                    kind: EdgeKind::Inventory,
                });
            }
        }
        nodes.push(GraphNode {
            key,
            health: st.health,
            ready: st.ready,
            suspended: st.suspended,
            revision: st.revision,
            message: st.message,
            inventory: inv.len(),
        });
    }
    nodes.sort_by(|a, b| a.key.cmp(&b.key));
    FluxGraph {
        cluster: cluster.to_string(),
        nodes,
        edges: edges.into_iter().collect(),
    }
}

/// Text for a person: one block per applier (Kustomization, HelmRelease) with its source,
/// dependencies and inventory size, dependencies first.
pub fn render_text(graph: &FluxGraph) -> String {
    let mut out = format!("cluster {}\n", graph.cluster);
    let name = |k: &ResourceKey| format!("{}/{}/{}", k.kind, k.namespace, k.name);
    for node in graph
        .nodes
        .iter()
        .filter(|n| matches!(n.key.kind.as_str(), "Kustomization" | "HelmRelease"))
    {
        let flags = if node.suspended { ", suspended" } else { "" };
        let revision = abbreviate_revision(flux::revision_commit(&node.revision), 12);
        let revision = if revision.is_empty() {
            String::new()
        } else {
            format!(" {revision}")
        };
        out.push_str(&format!(
            "{} ({}{flags}){revision} — {} objects\n",
            name(&node.key),
            node.health,
            node.inventory
        ));
        for e in graph
            .edges
            .iter()
            .filter(|e| e.to == node.key && e.kind == EdgeKind::Source)
        {
            out.push_str(&format!("  ← source {}\n", name(&e.from)));
        }
        for e in graph.edges_from(&node.key) {
            match e.kind {
                EdgeKind::DependsOn => out.push_str(&format!("  → depends on {}\n", name(&e.to))),
                EdgeKind::Inventory => out.push_str(&format!("  ▸ applies {}\n", name(&e.to))),
                EdgeKind::Source => {}
            }
        }
    }
    for cycle in graph.dependency_cycles() {
        let names: Vec<String> = cycle.iter().map(name).collect();
        out.push_str(&format!("dependency cycle: {}\n", names.join(" → ")));
    }
    for e in graph.dangling() {
        let (referrer, missing) = match e.kind {
            EdgeKind::Source => (&e.to, &e.from),
            _ => (&e.from, &e.to),
        };
        out.push_str(&format!(
            "missing: {} names {}\n",
            name(referrer),
            name(missing)
        ));
    }
    out
}

fn info_node(key: ResourceKey, obj: Option<&Value>, role: &str) -> TreeNode {
    let (version, health, mut info) = match obj {
        Some(o) => {
            let st = flux::status(o);
            let mut info = vec![("role".to_string(), role.to_string())];
            if !st.revision.is_empty() {
                info.push(("revision".into(), st.revision.clone()));
            }
            if st.suspended {
                info.push(("suspended".into(), "true".into()));
            }
            (
                o.get("apiVersion")
                    .and_then(Value::as_str)
                    .map(|v| split_api_version(v).1.to_string())
                    .unwrap_or_default(),
                Some(HealthStatus::new(st.health, st.message)),
                info,
            )
        }
        None => (
            String::new(),
            Some(HealthStatus::new(
                Health::Missing,
                "referenced but not in the cluster",
            )),
            vec![("role".to_string(), role.to_string())],
        ),
    };
    info.dedup();
    TreeNode {
        uid: obj
            .and_then(|o| o.pointer("/metadata/uid"))
            .and_then(Value::as_str)
            .map(str::to_string),
        key,
        version,
        health,
        sync: None,
        info,
        children: Vec::new(),
    }
}

/// The source chain of an object: its source, and that source's own source (HelmChart →
/// HelmRepository).
fn source_node(obj: &Value, index: &dyn LiveIndex) -> Option<TreeNode> {
    let key = source_of(obj)?;
    let src = index.get(&key);
    let mut node = info_node(key, src.as_deref(), "source");
    if let Some(s) = src
        && let Some(upstream) = source_node(&s, index)
    {
        node.children.push(upstream);
    }
    Some(node)
}

/// The tree of a Kustomization or HelmRelease: its source chain and `dependsOn` objects
/// first (marked by a `role` info entry), then its inventory with the live owner walk below
/// each object, child Kustomizations and HelmReleases expanded the same way.
pub fn tree(
    obj: &Value,
    sync: Option<SyncStatus>,
    index: &dyn LiveIndex,
    now: Timestamp,
) -> TreeNode {
    let mut visited = HashSet::new();
    tree_inner(obj, sync, index, now, 0, &mut visited)
}

fn tree_inner(
    obj: &Value,
    sync: Option<SyncStatus>,
    index: &dyn LiveIndex,
    now: Timestamp,
    depth: usize,
    visited: &mut HashSet<ResourceKey>,
) -> TreeNode {
    let key = ResourceKey::of(obj).unwrap_or_else(|| ResourceKey::new("", "", "", ""));
    visited.insert(key.clone());
    let st = flux::status(obj);
    let root = AppRoot {
        key: key.clone(),
        version: obj
            .get("apiVersion")
            .and_then(Value::as_str)
            .map(|v| split_api_version(v).1.to_string())
            .unwrap_or_default(),
        health: Some(HealthStatus::new(st.health, st.message.clone())),
        sync,
    };
    let managed: Vec<ManagedResource> = inventory(obj)
        .into_iter()
        .map(|e| ManagedResource {
            key: e.key,
            version: e.version,
            sync: None,
        })
        .collect();
    let mut node = build_tree(&root, &managed, index, now);
    node.uid = obj
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .map(str::to_string);
    if !st.revision.is_empty() {
        node.info.push(("revision".into(), st.revision.clone()));
    }
    if st.suspended {
        node.info.push(("suspended".into(), "true".into()));
    }
    for child in &mut node.children {
        let applier = child.key.group.ends_with(".toolkit.fluxcd.io")
            && matches!(child.key.kind.as_str(), "Kustomization" | "HelmRelease");
        if !applier || depth + 1 >= MAX_NESTING || visited.contains(&child.key) {
            continue;
        }
        if let Some(child_obj) = index.get(&child.key) {
            let sub = tree_inner(&child_obj, None, index, now, depth + 1, visited);
            child.children = sub.children;
            child.info = sub.info;
        }
    }
    let mut first = Vec::new();
    if let Some(src) = source_node(obj, index) {
        first.push(src);
    }
    for dep in depends_on(obj) {
        let dep_obj = index.get(&dep);
        first.push(info_node(dep, dep_obj.as_deref(), "dependsOn"));
    }
    first.append(&mut node.children);
    node.children = first;
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tree::MemoryIndex;
    use serde_json::json;

    fn objects() -> Vec<Value> {
        vec![
            json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
                "metadata": {"name": "platform", "namespace": "flux-system", "uid": "g"},
                "spec": {"url": "https://x/platform.git"},
                "status": {"artifact": {"revision": "main@sha1:abc"},
                    "conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded"}]}}),
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": "infra", "namespace": "flux-system", "uid": "i"},
                "spec": {"sourceRef": {"kind": "GitRepository", "name": "platform"}},
                "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded"}],
                    "inventory": {"entries": [{"id": "flux-system_apps_kustomize.toolkit.fluxcd.io_Kustomization", "v": "v1"}]}}}),
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
                "metadata": {"name": "apps", "namespace": "flux-system", "uid": "a"},
                "spec": {"sourceRef": {"kind": "GitRepository", "name": "platform"},
                    "dependsOn": [{"name": "infra"}, {"name": "ghost"}]},
                "status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Succeeded"}],
                    "inventory": {"entries": [{"id": "shop_web_apps_Deployment", "v": "v1"}]}}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop", "uid": "d"},
                "spec": {"replicas": 1}, "status": {}}),
            json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "web-1", "namespace": "shop", "uid": "r",
                    "ownerReferences": [{"uid": "d", "kind": "Deployment", "name": "web"}]}}),
        ]
    }

    #[test]
    fn graph_has_source_dependency_and_inventory_edges() {
        let objs = objects();
        let flux: Vec<&Value> = objs.iter().take(3).collect();
        let g = build("c", flux);
        let apps = ResourceKey::new(
            flux::KUSTOMIZE_GROUP,
            "Kustomization",
            "flux-system",
            "apps",
        );
        let infra = ResourceKey::new(
            flux::KUSTOMIZE_GROUP,
            "Kustomization",
            "flux-system",
            "infra",
        );
        assert!(g.edges.contains(&GraphEdge {
            from: ResourceKey::new(
                flux::SOURCE_GROUP,
                "GitRepository",
                "flux-system",
                "platform"
            ),
            to: apps.clone(),
            kind: EdgeKind::Source
        }));
        assert!(g.edges.contains(&GraphEdge {
            from: apps.clone(),
            to: infra.clone(),
            kind: EdgeKind::DependsOn
        }));
        assert!(g.edges.contains(&GraphEdge {
            from: infra,
            to: apps,
            kind: EdgeKind::Inventory
        }));
        let dangling = g.dangling();
        assert_eq!(dangling.len(), 1);
        assert_eq!(dangling[0].to.name, "ghost");
        let text = render_text(&g);
        assert!(
            text.contains("Kustomization/flux-system/apps (Healthy) — 1 objects"),
            "{text}"
        );
        assert!(
            text.contains(
                "missing: Kustomization/flux-system/apps names Kustomization/flux-system/ghost"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_missing_source_is_dangling() {
        let ks = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "f"},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": "gone"}}});
        let g = build("c", [&ks]);
        let dangling = g.dangling();
        assert_eq!(dangling.len(), 1);
        assert_eq!(dangling[0].from.name, "gone");
        assert!(
            render_text(&g).contains("missing: Kustomization/f/apps names GitRepository/f/gone"),
            "{}",
            render_text(&g)
        );
    }

    #[test]
    fn finds_dependency_cycles() {
        let a = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "a", "namespace": "f"}, "spec": {"dependsOn": [{"name": "b"}]}});
        let b = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "b", "namespace": "f"}, "spec": {"dependsOn": [{"name": "a"}]}});
        let g = build("c", [&a, &b]);
        assert_eq!(g.dependency_cycles().len(), 1);
    }

    #[test]
    fn tree_recurses_into_child_kustomizations_down_to_owned_objects() {
        let index = MemoryIndex::from_objects(objects());
        let objs = objects();
        let t = tree(
            &objs[1],
            Some(SyncStatus::Synced),
            &index,
            Timestamp::UNIX_EPOCH,
        );
        assert_eq!(t.key.name, "infra");
        assert_eq!(t.children[0].key.kind, "GitRepository");
        assert_eq!(t.children[0].info_value("role"), Some("source"));
        let apps = &t.children[1];
        assert_eq!(apps.key.name, "apps");
        let kinds: Vec<&str> = apps.children.iter().map(|c| c.key.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "GitRepository",
                "Kustomization",
                "Kustomization",
                "Deployment"
            ]
        );
        assert_eq!(
            apps.children[2].health.as_ref().unwrap().status,
            Health::Missing
        );
        let deploy = &apps.children[3];
        assert_eq!(deploy.children[0].key.kind, "ReplicaSet");
    }
}
