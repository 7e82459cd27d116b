//! The topology tree's paths and items: a node is named by the path of resource keys from
//! the root, so expansion and selection follow the same objects across live updates.

use std::collections::HashSet;

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use tui_tree_widget::TreeItem;

use crate::config::Theme;
use crate::model::{ResourceKey, TreeNode};
use crate::tui::widgets::{health_symbol, sync_symbol};

/// A node's identity: the keys from the root down to it.
pub type NodePath = Vec<ResourceKey>;

/// The node at `path`, if the tree still has it.
pub fn node_at<'a>(root: &'a TreeNode, path: &[ResourceKey]) -> Option<&'a TreeNode> {
    let (first, rest) = path.split_first()?;
    if *first != root.key {
        return None;
    }
    let mut node = root;
    for key in rest {
        node = node.children.iter().find(|c| c.key == *key)?;
    }
    Some(node)
}

/// The first path (depth first) to a node with this key.
pub fn find_key(root: &TreeNode, key: &ResourceKey) -> Option<NodePath> {
    fn walk(node: &TreeNode, key: &ResourceKey, path: &mut NodePath) -> bool {
        path.push(node.key.clone());
        if node.key == *key {
            return true;
        }
        for child in &node.children {
            if walk(child, key, path) {
                return true;
            }
        }
        path.pop();
        false
    }
    let mut path = Vec::new();
    walk(root, key, &mut path).then_some(path)
}

/// Every path that has children and is not in `closed`: what the tree shows open.
pub fn open_paths(root: &TreeNode, closed: &HashSet<NodePath>) -> Vec<NodePath> {
    fn walk(
        node: &TreeNode,
        path: &mut NodePath,
        closed: &HashSet<NodePath>,
        out: &mut Vec<NodePath>,
    ) {
        path.push(node.key.clone());
        if !node.children.is_empty() && !closed.contains(path) {
            out.push(path.clone());
            for child in unique_children(node) {
                walk(child, path, closed, out);
            }
        }
        path.pop();
    }
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), closed, &mut out);
    out
}

/// The paths shown, top to bottom, given which nodes are closed.
pub fn visible_paths(root: &TreeNode, closed: &HashSet<NodePath>) -> Vec<NodePath> {
    fn walk(
        node: &TreeNode,
        path: &mut NodePath,
        closed: &HashSet<NodePath>,
        out: &mut Vec<NodePath>,
    ) {
        path.push(node.key.clone());
        out.push(path.clone());
        if !closed.contains(path) {
            for child in unique_children(node) {
                walk(child, path, closed, out);
            }
        }
        path.pop();
    }
    let mut out = Vec::new();
    walk(root, &mut Vec::new(), closed, &mut out);
    out
}

/// Children with a key not seen before among their siblings: the tree widget needs
/// sibling ids to be unique, and the engine places every object once, so a repeat would
/// only ever be a duplicate.
pub fn unique_children(node: &TreeNode) -> impl Iterator<Item = &TreeNode> {
    let mut seen: HashSet<&ResourceKey> = HashSet::new();
    node.children.iter().filter(move |c| seen.insert(&c.key))
}

/// How much a tree line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineStyle {
    /// Health and sync in words besides their symbols.
    pub words: bool,
}

/// The tree items for the widget: `Kind name`, coloured health and sync badges, and the
/// first facts (`ready=1/1`), marked resources flagged.
pub fn items(
    root: &TreeNode,
    marked: &HashSet<ResourceKey>,
    theme: &Theme,
    style: LineStyle,
) -> TreeItem<'static, ResourceKey> {
    fn build(
        node: &TreeNode,
        depth: usize,
        marked: &HashSet<ResourceKey>,
        theme: &Theme,
        style: LineStyle,
    ) -> TreeItem<'static, ResourceKey> {
        let line = node_line(node, depth == 1 && marked.contains(&node.key), theme, style);
        let children: Vec<TreeItem<'static, ResourceKey>> = unique_children(node)
            .map(|c| build(c, depth + 1, marked, theme, style))
            .collect();
        if children.is_empty() {
            return TreeItem::new_leaf(node.key.clone(), line);
        }
        // Siblings were made unique above, so this cannot fail; a leaf is the fallback.
        TreeItem::new(node.key.clone(), line.clone(), children)
            .unwrap_or_else(|_| TreeItem::new_leaf(node.key.clone(), line))
    }
    build(root, 0, marked, theme, style)
}

/// One node's line.
pub fn node_line(node: &TreeNode, marked: bool, theme: &Theme, style: LineStyle) -> Line<'static> {
    let mut spans = Vec::new();
    if marked {
        spans.push(Span::styled(
            "◆ ",
            theme.accent().add_modifier(Modifier::BOLD),
        ));
    }
    spans.push(Span::styled(node.key.kind.clone(), theme.muted()));
    spans.push(Span::raw(" "));
    spans.push(Span::styled(node.key.name.clone(), theme.text()));
    if let Some(h) = &node.health {
        let text = if style.words {
            format!(" {} {}", health_symbol(h.status), h.status.as_str())
        } else {
            format!(" {}", health_symbol(h.status))
        };
        spans.push(Span::styled(text, theme.health(h.status)));
    }
    if let Some(s) = node.sync {
        let text = if style.words {
            format!(" {} {}", sync_symbol(s), s.as_str())
        } else {
            format!(" {}", sync_symbol(s))
        };
        spans.push(Span::styled(text, theme.sync(s)));
    }
    let facts: Vec<String> = node
        .info
        .iter()
        .filter(|(k, _)| k != "images" && k != "age")
        .take(2)
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !facts.is_empty() {
        spans.push(Span::styled(
            format!("  {}", facts.join(" ")),
            theme.muted(),
        ));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Health, HealthStatus};

    fn node(kind: &str, name: &str, children: Vec<TreeNode>) -> TreeNode {
        TreeNode {
            key: ResourceKey::new("", kind, "ns", name),
            version: "v1".into(),
            uid: Some(format!("uid-{name}")),
            health: Some(HealthStatus::new(Health::Healthy, "")),
            sync: None,
            info: vec![],
            children,
        }
    }

    fn sample() -> TreeNode {
        node(
            "Application",
            "app",
            vec![
                node(
                    "Deployment",
                    "web",
                    vec![node(
                        "ReplicaSet",
                        "web-1",
                        vec![node("Pod", "web-1-a", vec![])],
                    )],
                ),
                node("Service", "web", vec![]),
                node("Service", "web", vec![]),
            ],
        )
    }

    #[test]
    fn paths_walk_open_nodes_and_skip_duplicate_siblings() {
        let root = sample();
        let all = visible_paths(&root, &HashSet::new());
        let names: Vec<&str> = all
            .iter()
            .map(|p| p.last().unwrap().name.as_str())
            .collect();
        assert_eq!(names, ["app", "web", "web-1", "web-1-a", "web"]);
        let closed: HashSet<NodePath> = [all[1].clone()].into();
        assert_eq!(visible_paths(&root, &closed).len(), 3);
        assert_eq!(open_paths(&root, &closed).len(), 1);
        assert_eq!(node_at(&root, &all[3]).unwrap().key.name, "web-1-a");
        let pod = ResourceKey::new("", "Pod", "ns", "web-1-a");
        assert_eq!(find_key(&root, &pod), Some(all[3].clone()));
    }
}
