//! The lines of the Flux graph, built from the engine's graphs: a cluster heading, then
//! each source with what reads it below (box drawing), each applier's `dependsOn` and
//! inventory edges under it, then what Flux would trip over (missing references, cycles).

use std::collections::{BTreeMap, HashSet};

use crate::integrations::flux_graph::{EdgeKind, FluxGraph, GraphNode};
use crate::model::{Health, ResourceKey};

/// What one line of the graph shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphLine {
    /// A cluster's heading with its counts.
    Cluster {
        /// The cluster.
        name: String,
        /// "1 source · 2 Kustomizations …".
        counts: String,
    },
    /// A Flux object.
    Node {
        /// Its cluster.
        cluster: String,
        /// The object.
        key: ResourceKey,
        /// Tree drawing before it (`│  ├─ `).
        prefix: String,
    },
    /// A `dependsOn` or inventory edge of the object above.
    Edge {
        /// Its cluster.
        cluster: String,
        /// `DependsOn` or `Inventory`.
        kind: EdgeKind,
        /// Where it points.
        to: ResourceKey,
        /// Tree drawing before it.
        prefix: String,
    },
    /// Something Flux would trip over: a dependency cycle or a reference to nothing.
    Warning {
        /// A word or two.
        title: String,
        /// The details.
        text: String,
    },
    /// A blank line between clusters.
    Blank,
}

impl GraphLine {
    /// The object the line is about (the node, or the edge's target) and its cluster.
    pub fn object(&self) -> Option<(&str, &ResourceKey)> {
        match self {
            GraphLine::Node { cluster, key, .. } => Some((cluster, key)),
            GraphLine::Edge { cluster, to, .. } => Some((cluster, to)),
            _ => None,
        }
    }

    /// Whether the cursor may rest on it: it names an object.
    pub(super) fn selectable(&self) -> bool {
        self.object().is_some()
    }
}

/// Sources first, then what reads them: roots sort by this rank.
fn kind_rank(kind: &str) -> u8 {
    match kind {
        "GitRepository" | "OCIRepository" | "Bucket" => 0,
        "HelmRepository" => 1,
        "HelmChart" => 2,
        "Kustomization" => 3,
        "HelmRelease" => 4,
        "ImageRepository" => 5,
        "ImagePolicy" => 6,
        _ => 7,
    }
}

/// `1 object`, `2 objects`.
pub(super) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The cluster heading's counts: sources, appliers, image objects, what is not ready.
fn counts(graph: &FluxGraph) -> String {
    let count = |pred: &dyn Fn(&GraphNode) -> bool| graph.nodes.iter().filter(|n| pred(n)).count();
    let sources = count(&|n| {
        matches!(
            n.key.kind.as_str(),
            "GitRepository" | "OCIRepository" | "Bucket" | "HelmRepository" | "HelmChart"
        )
    });
    let ks = count(&|n| n.key.kind == "Kustomization");
    let hr = count(&|n| n.key.kind == "HelmRelease");
    let images = count(&|n| n.key.kind.starts_with("Image"));
    let not_ready = count(&|n| !matches!(n.health, Health::Healthy | Health::Suspended));
    let suspended = count(&|n| n.suspended);
    let mut parts = vec![
        plural(sources, "source", "sources"),
        plural(ks, "Kustomization", "Kustomizations"),
        plural(hr, "HelmRelease", "HelmReleases"),
    ];
    if images > 0 {
        parts.push(plural(images, "image object", "image objects"));
    }
    if not_ready > 0 {
        parts.push(format!("{not_ready} not ready"));
    }
    if suspended > 0 {
        parts.push(format!("{suspended} suspended"));
    }
    parts.join(" · ")
}

/// `Kind namespace/name`.
pub(super) fn label(key: &ResourceKey) -> String {
    format!("{} {}/{}", key.kind, key.namespace, key.name)
}

/// The lines of the graphs, in display order.
pub fn graph_lines(graphs: &[FluxGraph]) -> Vec<GraphLine> {
    let mut out = Vec::new();
    for (i, g) in graphs.iter().enumerate() {
        if i > 0 {
            out.push(GraphLine::Blank);
        }
        out.push(GraphLine::Cluster {
            name: g.cluster.clone(),
            counts: counts(g),
        });
        let known: HashSet<&ResourceKey> = g.nodes.iter().map(|n| &n.key).collect();
        let mut children: BTreeMap<&ResourceKey, Vec<&ResourceKey>> = BTreeMap::new();
        let mut has_parent: HashSet<&ResourceKey> = HashSet::new();
        for e in g.edges.iter().filter(|e| e.kind == EdgeKind::Source) {
            if known.contains(&e.from) && known.contains(&e.to) {
                children.entry(&e.from).or_default().push(&e.to);
                has_parent.insert(&e.to);
            }
        }
        let mut roots: Vec<&ResourceKey> = g
            .nodes
            .iter()
            .map(|n| &n.key)
            .filter(|k| !has_parent.contains(k))
            .collect();
        // Dependencies before what waits for them, as Flux applies them.
        let depth = dependency_depths(g);
        let order = |a: &&ResourceKey, b: &&ResourceKey| {
            let rank = |k: &ResourceKey| (kind_rank(&k.kind), depth.get(k).copied().unwrap_or(0));
            rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
        };
        roots.sort_by(order);
        for kids in children.values_mut() {
            kids.sort_by(order);
        }
        let mut seen = HashSet::new();
        for root in roots {
            walk(g, root, "", None, &children, &mut seen, &mut out);
        }
        for cycle in g.dependency_cycles() {
            let names: Vec<String> = cycle.iter().map(label).collect();
            out.push(GraphLine::Warning {
                title: "dependency cycle".into(),
                text: format!(
                    "{} → {}: Flux waits forever",
                    names.join(" → "),
                    names.first().cloned().unwrap_or_default()
                ),
            });
        }
        for e in g.dangling() {
            let what = match e.kind {
                EdgeKind::Source => "reads",
                EdgeKind::DependsOn => "depends on",
                EdgeKind::Inventory => "applies",
            };
            let (from, to) = match e.kind {
                EdgeKind::Source => (&e.to, &e.from),
                _ => (&e.from, &e.to),
            };
            out.push(GraphLine::Warning {
                title: "missing".into(),
                text: format!(
                    "{} {what} {}, which is not in the cluster",
                    label(from),
                    label(to)
                ),
            });
        }
    }
    out
}

/// How many `dependsOn` steps lie below each object (0: it waits for nothing); cycles
/// count once.
fn dependency_depths(g: &FluxGraph) -> BTreeMap<&ResourceKey, usize> {
    fn depth<'a>(
        g: &'a FluxGraph,
        key: &'a ResourceKey,
        memo: &mut BTreeMap<&'a ResourceKey, usize>,
        path: &mut Vec<&'a ResourceKey>,
    ) -> usize {
        if let Some(d) = memo.get(key) {
            return *d;
        }
        if path.contains(&key) {
            return 0;
        }
        path.push(key);
        let d = g
            .edges_from(key)
            .filter(|e| e.kind == EdgeKind::DependsOn)
            .map(|e| depth(g, &e.to, memo, path) + 1)
            .max()
            .unwrap_or(0);
        path.pop();
        memo.insert(key, d);
        d
    }
    let mut memo = BTreeMap::new();
    for n in &g.nodes {
        depth(g, &n.key, &mut memo, &mut Vec::new());
    }
    memo
}

/// One node and, below it, its edges and the objects that read it. `last` is `None` for a
/// root, else whether the node is its parent's last child.
fn walk<'a>(
    g: &'a FluxGraph,
    key: &'a ResourceKey,
    indent: &str,
    last: Option<bool>,
    children: &BTreeMap<&'a ResourceKey, Vec<&'a ResourceKey>>,
    seen: &mut HashSet<&'a ResourceKey>,
    out: &mut Vec<GraphLine>,
) {
    if !seen.insert(key) {
        return;
    }
    let (branch, below) = match last {
        None => (String::new(), String::new()),
        Some(true) => (format!("{indent}└─ "), format!("{indent}   ")),
        Some(false) => (format!("{indent}├─ "), format!("{indent}│  ")),
    };
    out.push(GraphLine::Node {
        cluster: g.cluster.clone(),
        key: key.clone(),
        prefix: branch,
    });
    let kids: Vec<&ResourceKey> = children
        .get(key)
        .map(|v| v.iter().copied().filter(|k| !seen.contains(k)).collect())
        .unwrap_or_default();
    // Edges hang below the node, inside the line its children continue.
    let edge_indent = if kids.is_empty() {
        format!("{below}   ")
    } else {
        format!("{below}│  ")
    };
    let mut edges: Vec<_> = g
        .edges_from(key)
        .filter(|e| e.kind != EdgeKind::Source)
        .collect();
    edges.sort_by_key(|e| (e.kind != EdgeKind::DependsOn, &e.to));
    for e in edges {
        out.push(GraphLine::Edge {
            cluster: g.cluster.clone(),
            kind: e.kind,
            to: e.to.clone(),
            prefix: edge_indent.clone(),
        });
    }
    let n = kids.len();
    for (i, kid) in kids.into_iter().enumerate() {
        walk(g, kid, &below, Some(i + 1 == n), children, seen, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::flux_graph::GraphEdge;

    fn node(kind: &str, name: &str, health: Health) -> GraphNode {
        let group = crate::integrations::flux::group_of_kind(kind).unwrap_or("");
        GraphNode {
            key: ResourceKey::new(group, kind, "flux-system", name),
            health,
            ready: "True".into(),
            suspended: false,
            revision: String::new(),
            message: String::new(),
            inventory: 0,
        }
    }

    fn edge(from: &GraphNode, to: &GraphNode, kind: EdgeKind) -> GraphEdge {
        GraphEdge {
            from: from.key.clone(),
            to: to.key.clone(),
            kind,
        }
    }

    #[test]
    fn sources_lead_with_their_readers_and_edges_beneath() {
        let git = node("GitRepository", "platform", Health::Healthy);
        let infra = node("Kustomization", "infra", Health::Healthy);
        let apps = node("Kustomization", "apps", Health::Progressing);
        let repo = node("HelmRepository", "bitnami", Health::Healthy);
        let chart = node("HelmChart", "cache-redis", Health::Healthy);
        let redis = node("HelmRelease", "redis", Health::Degraded);
        let graph = FluxGraph {
            cluster: "staging".into(),
            edges: vec![
                edge(&git, &infra, EdgeKind::Source),
                edge(&git, &apps, EdgeKind::Source),
                edge(&apps, &infra, EdgeKind::DependsOn),
                edge(&infra, &apps, EdgeKind::Inventory),
                edge(&repo, &chart, EdgeKind::Source),
                edge(&chart, &redis, EdgeKind::Source),
            ],
            nodes: vec![git, infra, apps, repo, chart, redis],
        };
        let text: Vec<String> = graph_lines(&[graph])
            .iter()
            .map(|l| match l {
                GraphLine::Cluster { name, counts } => format!("{name}: {counts}"),
                GraphLine::Node { key, prefix, .. } => format!("{prefix}{}", key.name),
                GraphLine::Edge {
                    kind, to, prefix, ..
                } => format!("{prefix}{kind:?} {}", to.name),
                GraphLine::Warning { text, .. } => text.clone(),
                GraphLine::Blank => String::new(),
            })
            .collect();
        assert_eq!(
            text,
            [
                "staging: 3 sources · 2 Kustomizations · 1 HelmRelease · 2 not ready",
                "platform",
                "├─ infra",
                "│     Inventory apps",
                "└─ apps",
                "      DependsOn infra",
                "bitnami",
                "└─ cache-redis",
                "   └─ redis",
            ]
        );
    }
}
