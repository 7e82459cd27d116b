//! The app view: the topology tree (tui-tree-widget) beside the selected node's details
//! or its live YAML. Expansion, selection and marks are kept by identity (paths of
//! resource keys) across live updates.

mod details;
mod tree;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use tui_tree_widget::{Tree, TreeState};

use self::tree::{LineStyle, NodePath, find_key, node_at, open_paths, visible_paths};
use super::{AppId, DrawCx, Outcome, Target, View, ViewCx, find_app};
use crate::model::{AppDetail, ResourceKey, Snapshot, TreeNode};
use crate::runtime::{Answer, Request};
use crate::tui::action::{Action, Context};
use crate::tui::requests::RequestId;
use crate::tui::widgets::{health_symbol, sync_symbol};

/// Which pane the keys (and the mouse wheel) move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The tree: j/k move the selection.
    Tree,
    /// The details or YAML pane: j/k scroll it.
    Details,
}

/// The live YAML pane's state.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Yaml {
    /// Waiting for the engine; `shown` is the previous text of the same object, if any.
    Loading {
        id: RequestId,
        key: ResourceKey,
        shown: Option<String>,
    },
    Loaded {
        key: ResourceKey,
        text: String,
    },
    Failed {
        key: ResourceKey,
        error: String,
    },
    /// The node has no live object to show.
    NotLive {
        key: ResourceKey,
    },
}

impl Yaml {
    fn key(&self) -> &ResourceKey {
        match self {
            Yaml::Loading { key, .. }
            | Yaml::Loaded { key, .. }
            | Yaml::Failed { key, .. }
            | Yaml::NotLive { key } => key,
        }
    }
}

/// One app's tree and details.
#[derive(Debug)]
pub struct AppView {
    app: AppId,
    detail: Option<Arc<AppDetail>>,
    state: TreeState<ResourceKey>,
    /// Paths the user collapsed; every other node with children is open, so objects that
    /// appear later show up expanded.
    closed: HashSet<NodePath>,
    /// Managed resources marked for a selective sync.
    marked: BTreeSet<ResourceKey>,
    focus: Focus,
    scroll: usize,
    /// Rows of the tree and of the details at the last draw, for paging and clamping.
    tree_page: usize,
    details_page: usize,
    details_len: usize,
    yaml: Option<Yaml>,
    /// The selected node as last seen (without children), to notice when its object
    /// changed.
    last_node: Option<TreeNode>,
    /// The tree widget's items, kept while nothing they show changed.
    items: Option<(
        ItemsKey,
        Vec<tui_tree_widget::TreeItem<'static, ResourceKey>>,
    )>,
}

/// What the tree items are built from. Holding the detail keeps its address from being
/// reused by another tree while the items are cached.
#[derive(Debug, Clone)]
struct ItemsKey {
    detail: Arc<AppDetail>,
    marked: BTreeSet<ResourceKey>,
    style: LineStyle,
    theme: crate::config::Theme,
}

impl PartialEq for ItemsKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.detail, &other.detail)
            && self.marked == other.marked
            && self.style == other.style
            && self.theme == other.theme
    }
}

impl AppView {
    /// The view of one app, the root selected.
    pub fn new(app: AppId) -> Self {
        Self {
            app,
            detail: None,
            state: TreeState::default(),
            closed: HashSet::new(),
            marked: BTreeSet::new(),
            focus: Focus::Tree,
            scroll: 0,
            tree_page: 1,
            details_page: 1,
            details_len: 0,
            yaml: None,
            last_node: None,
            items: None,
        }
    }

    /// The app shown.
    pub fn app(&self) -> &AppId {
        &self.app
    }

    /// The selected node's path.
    pub fn selected_path(&self) -> &[ResourceKey] {
        self.state.selected()
    }

    /// The selected node's key.
    pub fn selected_key(&self) -> Option<&ResourceKey> {
        self.state.selected().last()
    }

    /// Whether the node at `path` is shown expanded.
    pub fn is_open(&self, path: &[ResourceKey]) -> bool {
        self.state.opened().contains(path)
    }

    /// The paths shown, top to bottom.
    pub fn visible(&self) -> Vec<Vec<ResourceKey>> {
        match &self.detail {
            Some(d) => visible_paths(&d.tree, &self.closed),
            None => Vec::new(),
        }
    }

    /// Resources marked for a selective sync, in tree order.
    pub fn marked(&self) -> Vec<ResourceKey> {
        match self.root() {
            Some(root) => tree::unique_children(root)
                .filter(|c| self.marked.contains(&c.key))
                .map(|c| c.key.clone())
                .collect(),
            None => self.marked.iter().cloned().collect(),
        }
    }

    /// Which pane has the focus.
    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// How far the details pane is scrolled.
    pub fn details_scroll(&self) -> usize {
        self.scroll
    }

    /// Whether the live YAML pane is shown.
    pub fn shows_yaml(&self) -> bool {
        self.yaml.is_some()
    }

    /// The live YAML on screen, if it has arrived.
    pub fn yaml_text(&self) -> Option<&str> {
        match &self.yaml {
            Some(Yaml::Loaded { text, .. }) => Some(text),
            Some(Yaml::Loading {
                shown: Some(text), ..
            }) => Some(text),
            _ => None,
        }
    }

    fn root(&self) -> Option<&TreeNode> {
        self.detail.as_ref().map(|d| &d.tree)
    }

    fn selected_node(&self) -> Option<&TreeNode> {
        node_at(self.root()?, self.state.selected())
    }

    fn qualified(&self) -> String {
        self.app.engine_name()
    }

    /// Re-derives the open set and a valid selection from the tree now shown.
    fn sync_tree(&mut self) {
        let Some(detail) = self.detail.clone() else {
            return;
        };
        let root = &detail.tree;
        self.state.close_all();
        for path in open_paths(root, &self.closed) {
            self.state.open(path);
        }
        let current = self.state.selected().to_vec();
        if current.is_empty() {
            self.state.select(vec![root.key.clone()]);
        } else if node_at(root, &current).is_none() {
            // The object moved (a pod under a new ReplicaSet) or went away: follow it by
            // key, else fall back to the nearest ancestor still there.
            let found = current.last().and_then(|k| find_key(root, k));
            let path = found.unwrap_or_else(|| {
                let mut p = current.clone();
                while !p.is_empty() && node_at(root, &p).is_none() {
                    p.pop();
                }
                if p.is_empty() {
                    vec![root.key.clone()]
                } else {
                    p
                }
            });
            // Reveal it: a node found elsewhere may sit under a closed parent.
            for depth in 1..path.len() {
                self.closed.remove(&path[..depth]);
                self.state.open(path[..depth].to_vec());
            }
            self.state.select(path);
        }
        // Only the app's own resources can be synced selectively; forget marks on gone ones.
        self.marked
            .retain(|k| root.children.iter().any(|c| c.key == *k));
    }

    fn select(&mut self, path: NodePath, cx: &mut ViewCx<'_>) {
        if self.state.selected() != path.as_slice() {
            self.state.select(path);
            self.scroll = 0;
            self.follow_selection(cx);
        }
    }

    fn move_by(&mut self, delta: isize, cx: &mut ViewCx<'_>) {
        let visible = self.visible();
        if visible.is_empty() {
            return;
        }
        let current = visible
            .iter()
            .position(|p| p.as_slice() == self.state.selected())
            .unwrap_or(0);
        let index = current.saturating_add_signed(delta).min(visible.len() - 1);
        self.select(visible[index].clone(), cx);
    }

    /// Keeps the YAML pane on the selected object: asks for it when the selection moved
    /// or the object changed.
    fn follow_selection(&mut self, cx: &mut ViewCx<'_>) {
        let node = self.selected_node().map(shallow);
        let changed = node != self.last_node;
        self.last_node = node.clone();
        let Some(yaml) = &self.yaml else {
            return;
        };
        let Some(node) = node else {
            return;
        };
        let moved = *yaml.key() != node.key;
        if moved || changed {
            self.request_yaml(&node, cx);
        }
    }

    fn request_yaml(&mut self, node: &TreeNode, cx: &mut ViewCx<'_>) {
        if node.uid.is_none() {
            self.yaml = Some(Yaml::NotLive {
                key: node.key.clone(),
            });
            return;
        }
        // Keep the old text of the same object on screen while it reloads.
        let shown = match &self.yaml {
            Some(Yaml::Loaded { key, text }) if *key == node.key => Some(text.clone()),
            Some(Yaml::Loading { key, shown, .. }) if *key == node.key => shown.clone(),
            _ => None,
        };
        if shown.is_none() {
            self.scroll = 0;
        }
        let id = cx.request(Request::LiveYaml {
            app: self.qualified(),
            key: node.key.clone(),
        });
        self.yaml = Some(Yaml::Loading {
            id,
            key: node.key.clone(),
            shown,
        });
    }

    fn toggle_mark(&mut self, cx: &mut ViewCx<'_>) {
        let path = self.state.selected().to_vec();
        if path.len() != 2 {
            cx.error(
                "only the app's own resources (one level under the app) can be marked for a selective sync",
            );
            return;
        }
        let key = path[1].clone();
        if !self.marked.remove(&key) {
            self.marked.insert(key);
        }
        let n = self.marked.len();
        if n == 0 {
            cx.info("no resource marked: a sync covers the whole app");
        } else {
            cx.info(format!(
                "{n} resource{} marked: the sync dialog offers to sync only these",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
}

/// A node without its children (cheap to keep), its age left out: an age changes with
/// every rebuild of the tree, the object does not.
fn shallow(node: &TreeNode) -> TreeNode {
    TreeNode {
        key: node.key.clone(),
        version: node.version.clone(),
        uid: node.uid.clone(),
        health: node.health.clone(),
        sync: node.sync,
        info: node
            .info
            .iter()
            .filter(|(k, _)| k != "age")
            .cloned()
            .collect(),
        children: Vec::new(),
    }
}

impl View for AppView {
    fn context(&self) -> Context {
        Context::App
    }

    fn title(&self) -> String {
        self.app.name.clone()
    }

    fn on_open(&mut self, cx: &mut ViewCx<'_>) {
        self.on_snapshot(cx);
    }

    fn on_snapshot(&mut self, cx: &mut ViewCx<'_>) {
        let detail = find_app(cx.snapshot, &self.app).and_then(|a| a.detail.clone());
        if detail.is_none() {
            self.detail = None;
            return;
        }
        self.detail = detail;
        self.sync_tree();
        self.follow_selection(cx);
    }

    fn on_reply(&mut self, id: RequestId, reply: Answer, _cx: &mut ViewCx<'_>) {
        let Some(Yaml::Loading {
            id: waiting, key, ..
        }) = &self.yaml
        else {
            return;
        };
        if *waiting != id {
            return;
        }
        let key = key.clone();
        self.yaml = Some(match reply {
            Answer::Yaml(Ok(text)) => Yaml::Loaded { key, text },
            Answer::Yaml(Err(error)) => Yaml::Failed { key, error },
            _ => return,
        });
    }

    fn handle_action(&mut self, action: &Action, cx: &mut ViewCx<'_>) -> Outcome {
        if self.detail.is_none() {
            return Outcome::Ignored;
        }
        let tree_page = isize::try_from(self.tree_page.max(1)).unwrap_or(1);
        let details_page = self.details_page.max(1);
        let details_max = self.details_len.saturating_sub(1);
        match (action, self.focus) {
            (Action::FocusNext, _) => {
                self.focus = match self.focus {
                    Focus::Tree => Focus::Details,
                    Focus::Details => Focus::Tree,
                };
            }
            (Action::Up, Focus::Details) => self.scroll = self.scroll.saturating_sub(1),
            (Action::Down, Focus::Details) => {
                self.scroll = (self.scroll + 1).min(details_max);
            }
            (Action::PageUp, Focus::Details) => {
                self.scroll = self.scroll.saturating_sub(details_page);
            }
            (Action::PageDown, Focus::Details) => {
                self.scroll = (self.scroll + details_page).min(details_max);
            }
            (Action::Top, Focus::Details) => self.scroll = 0,
            (Action::Bottom, Focus::Details) => self.scroll = details_max,
            (Action::Up, _) => self.move_by(-1, cx),
            (Action::Down, _) => self.move_by(1, cx),
            (Action::PageUp, _) => self.move_by(-tree_page, cx),
            (Action::PageDown, _) => self.move_by(tree_page, cx),
            (Action::Top, _) => self.move_by(isize::MIN / 2, cx),
            (Action::Bottom, _) => self.move_by(isize::MAX / 2, cx),
            (Action::Open, _) => {
                let path = self.state.selected().to_vec();
                if self.selected_node().is_some_and(|n| !n.children.is_empty()) {
                    if !self.closed.remove(&path) {
                        self.closed.insert(path);
                    }
                    self.sync_tree();
                }
            }
            (Action::Expand, _) => {
                let path = self.state.selected().to_vec();
                let first_child = self
                    .selected_node()
                    .and_then(|n| tree::unique_children(n).next())
                    .map(|c| c.key.clone());
                let Some(first_child) = first_child else {
                    return Outcome::Consumed;
                };
                if self.closed.remove(&path) {
                    self.sync_tree();
                } else {
                    let mut next = path;
                    next.push(first_child);
                    self.select(next, cx);
                }
            }
            (Action::Collapse, _) => {
                let path = self.state.selected().to_vec();
                let open = self.state.opened().contains(&path);
                if open {
                    self.closed.insert(path);
                    self.sync_tree();
                } else if path.len() > 1 {
                    self.select(path[..path.len() - 1].to_vec(), cx);
                }
            }
            (Action::Mark, _) => self.toggle_mark(cx),
            (Action::LiveYaml, _) => {
                if self.yaml.take().is_none() {
                    if let Some(node) = self.selected_node().map(shallow) {
                        self.request_yaml(&node, cx);
                    }
                } else {
                    self.scroll = 0;
                }
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn target(&self, _snapshot: &Snapshot) -> Option<Target> {
        let path = self.state.selected();
        Some(Target {
            app: self.app.clone(),
            resource: (path.len() > 1).then(|| path[path.len() - 1].clone()),
            marked: self.marked(),
        })
    }

    fn is_animating(&self, _snapshot: &Snapshot) -> bool {
        self.detail.is_none() || matches!(self.yaml, Some(Yaml::Loading { .. }))
    }

    fn draw(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        let app = find_app(cx.snapshot, &self.app);
        let (Some(app), Some(detail)) = (app, self.detail.clone()) else {
            let text = if app.is_none() {
                format!("{} is no longer in the engine's snapshot.", self.app.name)
            } else {
                format!(
                    "{} Waiting for the first comparison of {}…",
                    cx.spinner, self.app.name
                )
            };
            let block = Block::bordered()
                .border_style(theme.border())
                .title(Span::styled(format!(" {} ", self.app.name), theme.accent()));
            let inner = block.inner(area);
            frame.render_widget(block, area);
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme.muted())).centered(),
                inner,
            );
            return;
        };

        let tree_share = if area.width >= 100 { 50 } else { 55 };
        let [left, right] = Layout::horizontal([
            Constraint::Percentage(tree_share),
            Constraint::Percentage(100 - tree_share),
        ])
        .areas(area);

        // The tree.
        let focus_style = |f: Focus| {
            if self.focus == f {
                theme.accent()
            } else {
                theme.border()
            }
        };
        let mut title = vec![
            Span::styled(
                format!(" {} ", app.name),
                theme.accent().add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("{} {} ", sync_symbol(app.sync), app.sync.as_str()),
                theme.sync(app.sync),
            ),
            Span::styled(
                format!("{} {} ", health_symbol(app.health), app.health.as_str()),
                theme.health(app.health),
            ),
        ];
        if app
            .operation
            .as_ref()
            .is_some_and(|o| o.phase == crate::model::OperationPhase::Running)
        {
            title.push(Span::styled(
                format!("{} syncing ", cx.spinner),
                theme.accent(),
            ));
        }
        let mut block = Block::bordered()
            .border_style(focus_style(Focus::Tree))
            .title(Line::from(title));
        if !self.marked.is_empty() {
            block = block.title_bottom(Line::styled(
                format!(" ◆ {} marked for a selective sync ", self.marked.len()),
                theme.accent(),
            ));
        }
        let inner_width = left.width.saturating_sub(2);
        let style = LineStyle {
            words: inner_width >= 56,
        };
        // The items only change with the tree, the marks, the width class and the theme:
        // rebuilding them for every frame of a big tree would be wasted work.
        let cache_key = ItemsKey {
            detail: Arc::clone(&detail),
            marked: self.marked.clone(),
            style,
            theme: theme.clone(),
        };
        if self.items.as_ref().is_none_or(|(k, _)| *k != cache_key) {
            let marked: HashSet<ResourceKey> = self.marked.iter().cloned().collect();
            let built = vec![tree::items(&detail.tree, &marked, theme, style)];
            self.items = Some((cache_key, built));
        }
        let items: &[tui_tree_widget::TreeItem<'static, ResourceKey>] =
            self.items.as_ref().map_or(&[], |(_, i)| i.as_slice());
        self.tree_page = usize::from(left.height.saturating_sub(2)).max(1);
        match Tree::new(items) {
            Ok(widget) => {
                let widget = widget
                    .block(block)
                    .highlight_style(theme.selected())
                    .node_open_symbol("▾ ")
                    .node_closed_symbol("▸ ")
                    .node_no_children_symbol("  ");
                frame.render_stateful_widget(widget, left, &mut self.state);
            }
            Err(e) => {
                frame.render_widget(
                    Paragraph::new(Line::styled(
                        format!("cannot draw the tree: {e}"),
                        theme.error(),
                    ))
                    .block(block),
                    left,
                );
            }
        }

        // The details or the live YAML.
        let node = node_at(&detail.tree, self.state.selected()).unwrap_or(&detail.tree);
        let is_root = self.state.selected().len() <= 1;
        let (title, lines, wrap) = match &self.yaml {
            None => (
                Line::styled(" Details ", theme.accent()),
                details::lines(app, &detail, node, is_root, cx.now, theme),
                true,
            ),
            Some(yaml) => {
                let name = format!(" Live YAML · {} {} ", yaml.key().kind, yaml.key().name);
                let (mut title, lines) = match yaml {
                    Yaml::Loading { shown: None, .. } => (
                        vec![Span::styled(name, theme.accent())],
                        vec![Line::styled(
                            format!("{} asking the engine for the live object…", cx.spinner),
                            theme.muted(),
                        )],
                    ),
                    Yaml::Loading {
                        shown: Some(text), ..
                    }
                    | Yaml::Loaded { text, .. } => (
                        vec![Span::styled(name, theme.accent())],
                        text.lines()
                            .map(|l| Line::styled(l.to_string(), theme.text()))
                            .collect(),
                    ),
                    Yaml::Failed { error, .. } => (
                        vec![Span::styled(name, theme.accent())],
                        vec![Line::styled(
                            format!("cannot show the live object: {error}"),
                            theme.error(),
                        )],
                    ),
                    Yaml::NotLive { key } => (
                        vec![Span::styled(name, theme.accent())],
                        vec![Line::styled(
                            format!(
                                "{} {} is not in the cluster: there is no live object to show.",
                                key.kind, key.name
                            ),
                            theme.muted(),
                        )],
                    ),
                };
                if matches!(yaml, Yaml::Loading { shown: Some(_), .. }) {
                    title.push(Span::styled(format!("{} ", cx.spinner), theme.accent()));
                }
                (Line::from(title), lines, false)
            }
        };
        let block = Block::bordered()
            .border_style(focus_style(Focus::Details))
            .title(title);
        let inner = block.inner(right);
        self.details_page = usize::from(inner.height).max(1);
        self.details_len = lines.len();
        self.scroll = self.scroll.min(self.details_len.saturating_sub(1));
        let mut paragraph = Paragraph::new(lines)
            .block(block)
            .scroll((u16::try_from(self.scroll).unwrap_or(u16::MAX), 0));
        if wrap {
            paragraph = paragraph.wrap(Wrap { trim: false });
        }
        frame.render_widget(paragraph, right);
    }

    fn as_app_view(&self) -> Option<&AppView> {
        Some(self)
    }
}
