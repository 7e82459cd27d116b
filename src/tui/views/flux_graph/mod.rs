//! The Flux graph view: every cluster's Flux objects as one tree — sources, then what reads
//! them (Kustomizations and HelmReleases under their GitRepository or HelmChart, HelmCharts
//! under their HelmRepository, ImagePolicies under their ImageRepository) — with each
//! applier's `dependsOn` edges and the Flux objects its inventory applies as lines beneath
//! it, health badges and revisions beside. Enter opens the app of the selected line.
//!
//! The graph comes from the engine on request and is asked for again whenever a new
//! snapshot arrives (at most one request in flight), so it follows the cluster.

mod lines;

pub use lines::{GraphLine, graph_lines};

use lines::{label, plural};

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};

use super::columns::{ColumnSpec, fit};
use super::text::one_line;
use super::{AppId, AppView, DrawCx, Outcome, Target, View, ViewCx};
use crate::integrations::flux::short_revision;
use crate::integrations::flux_graph::{EdgeKind, FluxGraph, GraphNode};
use crate::model::{Health, ManagedBy, ResourceKey, Snapshot};
use crate::runtime::{Answer, Request};
use crate::tui::action::{Action, Context};
use crate::tui::requests::RequestId;
use crate::tui::widgets::{health_symbol, truncate, width};

#[derive(Debug, Clone, PartialEq)]
enum State {
    Waiting,
    Loaded(Vec<FluxGraph>),
    Failed(String),
}

/// The Flux graph of every cluster.
#[derive(Debug)]
pub struct FluxGraphView {
    state: State,
    lines: Vec<GraphLine>,
    /// The request in flight, if any.
    asking: Option<RequestId>,
    /// A snapshot arrived while a request was in flight: ask again once it is answered.
    stale: bool,
    /// The object under the cursor (kept across reloads), and the line it is on.
    selected: Option<(String, ResourceKey, bool)>,
    table: TableState,
    page: usize,
}

impl Default for FluxGraphView {
    fn default() -> Self {
        Self::new()
    }
}

impl FluxGraphView {
    /// A view waiting for the engine's first answer.
    pub fn new() -> Self {
        Self {
            state: State::Waiting,
            lines: Vec::new(),
            asking: None,
            stale: false,
            selected: None,
            table: TableState::default(),
            page: 1,
        }
    }

    /// The lines on screen.
    pub fn lines(&self) -> &[GraphLine] {
        &self.lines
    }

    /// The line under the cursor.
    pub fn selected_line(&self) -> Option<&GraphLine> {
        self.table.selected().and_then(|i| self.lines.get(i))
    }

    fn ask(&mut self, cx: &mut ViewCx<'_>) {
        self.asking = Some(cx.request(Request::FluxGraph));
        self.stale = false;
    }

    fn node<'a>(&'a self, cluster: &str, key: &ResourceKey) -> Option<&'a GraphNode> {
        let State::Loaded(graphs) = &self.state else {
            return None;
        };
        graphs
            .iter()
            .filter(|g| g.cluster == cluster)
            .flat_map(|g| g.nodes.iter())
            .find(|n| n.key == *key)
    }

    /// Rebuilds the lines and puts the cursor back on the object it was on.
    fn relayout(&mut self) {
        self.lines = match &self.state {
            State::Loaded(graphs) => graph_lines(graphs),
            _ => Vec::new(),
        };
        let found = self.selected.as_ref().and_then(|(cluster, key, edge)| {
            let same = |l: &GraphLine| {
                l.object() == Some((cluster.as_str(), key))
                    && matches!(l, GraphLine::Edge { .. }) == *edge
            };
            self.lines.iter().position(same).or_else(|| {
                self.lines
                    .iter()
                    .position(|l| l.object() == Some((cluster.as_str(), key)))
            })
        });
        let index = found.or_else(|| self.lines.iter().position(GraphLine::selectable));
        self.select(index);
    }

    fn select(&mut self, index: Option<usize>) {
        self.table.select(index);
        self.selected = index.and_then(|i| self.lines.get(i)).and_then(|l| {
            l.object().map(|(c, k)| {
                (
                    c.to_string(),
                    k.clone(),
                    matches!(l, GraphLine::Edge { .. }),
                )
            })
        });
    }

    /// Moves to the next selectable line `delta` steps away (lines without an object are
    /// skipped).
    fn move_by(&mut self, delta: isize) {
        let selectable: Vec<usize> = (0..self.lines.len())
            .filter(|i| self.lines[*i].selectable())
            .collect();
        if selectable.is_empty() {
            return;
        }
        let current = self
            .table
            .selected()
            .and_then(|s| selectable.iter().position(|i| *i == s))
            .unwrap_or(0);
        let next = current
            .saturating_add_signed(delta)
            .min(selectable.len() - 1);
        self.select(Some(selectable[next]));
    }

    /// The app (Kustomization or HelmRelease in the snapshot) of the selected line.
    fn selected_app(&self, snapshot: &Snapshot) -> Option<AppId> {
        let (cluster, key) = self.selected_line()?.object()?;
        find_flux_app(snapshot, cluster, key)
    }
}

/// The Flux app a graph object is, if the snapshot lists it.
fn find_flux_app(snapshot: &Snapshot, cluster: &str, key: &ResourceKey) -> Option<AppId> {
    snapshot
        .apps
        .iter()
        .find(|a| {
            a.managed_by == ManagedBy::Flux
                && a.cluster == cluster
                && a.kind == key.kind
                && a.namespace == key.namespace
                && a.name == key.name
        })
        .map(AppId::of)
}

impl View for FluxGraphView {
    fn context(&self) -> Context {
        Context::Graph
    }

    fn title(&self) -> String {
        "Flux graph".into()
    }

    fn on_open(&mut self, cx: &mut ViewCx<'_>) {
        self.ask(cx);
    }

    fn on_snapshot(&mut self, cx: &mut ViewCx<'_>) {
        if self.asking.is_some() {
            self.stale = true;
        } else {
            self.ask(cx);
        }
    }

    fn on_reply(&mut self, id: RequestId, reply: Answer, cx: &mut ViewCx<'_>) {
        if self.asking != Some(id) {
            return;
        }
        let Answer::Graph(result) = reply else {
            return;
        };
        self.asking = None;
        self.state = match result {
            Ok(graphs) => State::Loaded(graphs),
            Err(e) => State::Failed(e),
        };
        self.relayout();
        if self.stale {
            self.ask(cx);
        }
    }

    fn handle_action(&mut self, action: &Action, cx: &mut ViewCx<'_>) -> Outcome {
        let page = isize::try_from(self.page.max(1)).unwrap_or(1);
        match action {
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-page),
            Action::PageDown => self.move_by(page),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            Action::Open => {
                if let Some(app) = self.selected_app(cx.snapshot) {
                    return Outcome::Push(Box::new(AppView::new(app)));
                }
                match self.selected_line().and_then(GraphLine::object) {
                    Some((_, key)) => cx.info(format!(
                        "{} is not an app: open a Kustomization or HelmRelease",
                        label(key)
                    )),
                    None => cx.info("nothing selected"),
                }
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn target(&self, snapshot: &Snapshot) -> Option<Target> {
        self.selected_app(snapshot).map(Target::app)
    }

    fn scopes_target(&self) -> bool {
        true
    }

    fn is_animating(&self, _snapshot: &Snapshot) -> bool {
        self.state == State::Waiting
    }

    fn draw(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        let mut title = vec![Span::styled(
            " Flux graph ",
            theme.accent().add_modifier(Modifier::BOLD),
        )];
        if let State::Loaded(graphs) = &self.state {
            let objects: usize = graphs.iter().map(|g| g.nodes.len()).sum();
            title.push(Span::styled(
                format!(
                    "[{} in {}] ",
                    plural(objects, "object", "objects"),
                    plural(graphs.len(), "cluster", "clusters")
                ),
                theme.muted(),
            ));
        }
        if self.asking.is_some() && self.state != State::Waiting {
            title.push(Span::styled(format!("{} ", cx.spinner), theme.accent()));
        }
        let block = Block::bordered()
            .border_style(theme.border())
            .title(Line::from(title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let empty = match &self.state {
            State::Waiting => Some(Line::styled(
                format!("{} asking the engine for the Flux graph…", cx.spinner),
                theme.muted(),
            )),
            State::Failed(e) => Some(Line::styled(
                format!("cannot show the Flux graph: {}", one_line(e)),
                theme.error(),
            )),
            State::Loaded(g) if g.is_empty() => Some(Line::styled(
                "No Flux objects in the connected clusters (no GitRepository, Kustomization or HelmRelease).",
                theme.muted(),
            )),
            State::Loaded(_) => None,
        };
        if let Some(line) = empty {
            let top = inner.height / 2;
            let area = Rect {
                y: inner.y + top,
                height: inner.height.saturating_sub(top),
                ..inner
            };
            frame.render_widget(
                Paragraph::new(line).centered().wrap(Wrap { trim: true }),
                area,
            );
            return;
        }
        self.page = usize::from(inner.height.saturating_sub(1)).max(1);
        self.draw_table(frame, inner, cx);
    }

    fn as_flux_graph(&self) -> Option<&FluxGraphView> {
        Some(self)
    }
}

const HEADERS: [&str; 5] = ["OBJECT", "HEALTH", "REVISION", "APPLIES", "MESSAGE"];
/// (min width, priority): on a narrow screen the message goes first, then the inventory
/// count; the tree keeps room for its names.
const LAYOUT: [(u16, u8); 5] = [(40, 100), (0, 90), (10, 50), (0, 30), (16, 10)];

impl FluxGraphView {
    fn cells(&self, line: &GraphLine) -> [String; 5] {
        match line {
            // Drawn across the whole row after the table (see `draw_headings`).
            GraphLine::Cluster { .. } => Default::default(),
            GraphLine::Node {
                cluster,
                key,
                prefix,
            } => {
                let node = self.node(cluster, key);
                let health = node.map_or(Health::Missing, |n| n.health);
                // HelmReleases list an inventory only since helm-controller 1.1: none
                // there says nothing.
                let inventory = match node {
                    Some(n) if key.kind == "Kustomization" || n.inventory > 0 => {
                        plural(n.inventory, "object", "objects")
                    }
                    _ => String::new(),
                };
                [
                    format!("{prefix}{}", label(key)),
                    format!("{} {}", health_symbol(health), health.as_str()),
                    node.map(|n| short_revision(&n.revision))
                        .unwrap_or_default(),
                    inventory,
                    node.map(|n| one_line(&n.message)).unwrap_or_default(),
                ]
            }
            GraphLine::Edge {
                cluster,
                kind,
                to,
                prefix,
            } => {
                let node = self.node(cluster, to);
                let health = node.map_or(Health::Missing, |n| n.health);
                let (arrow, what) = match kind {
                    EdgeKind::DependsOn => ("→", "depends on"),
                    EdgeKind::Inventory => ("▸", "applies"),
                    EdgeKind::Source => ("←", "reads"),
                };
                [
                    format!("{prefix}{arrow} {what} {}", label(to)),
                    format!("{} {}", health_symbol(health), health.as_str()),
                    String::new(),
                    String::new(),
                    if node.is_none() {
                        "not in the cluster".to_string()
                    } else {
                        String::new()
                    },
                ]
            }
            GraphLine::Warning { title, text } => [
                format!("⚠ {title}"),
                String::new(),
                String::new(),
                String::new(),
                text.clone(),
            ],
            GraphLine::Blank => Default::default(),
        }
    }

    fn draw_table(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        let cells: Vec<[String; 5]> = self.lines.iter().map(|l| self.cells(l)).collect();
        let specs: Vec<ColumnSpec> = (0..5)
            .map(|c| {
                let ideal = cells
                    .iter()
                    .map(|row| width(&row[c]))
                    .chain([width(HEADERS[c])])
                    .max()
                    .unwrap_or(0);
                let ideal = u16::try_from(ideal).unwrap_or(u16::MAX);
                let (min, priority) = LAYOUT[c];
                ColumnSpec {
                    ideal,
                    min: if min == 0 { ideal } else { min.min(ideal) },
                    priority,
                }
            })
            .collect();
        let available = area.width.saturating_sub(2);
        let widths = fit(&specs, available, 1, Some(4));
        let shown: Vec<(usize, u16)> = widths
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.map(|w| (i, w)))
            .collect();
        let header = Row::new(
            shown
                .iter()
                .map(|(c, w)| Cell::from(truncate(HEADERS[*c], usize::from(*w)))),
        )
        .style(theme.header());
        let rows = self.lines.iter().zip(&cells).map(|(line, row)| {
            let health = match line {
                GraphLine::Node { cluster, key, .. } => Some(
                    self.node(cluster, key)
                        .map_or(Health::Missing, |n| n.health),
                ),
                GraphLine::Edge { cluster, to, .. } => {
                    Some(self.node(cluster, to).map_or(Health::Missing, |n| n.health))
                }
                _ => None,
            };
            Row::new(shown.iter().map(|(c, w)| {
                let text = truncate(&row[*c], usize::from(*w));
                let style = match (line, *c) {
                    (GraphLine::Warning { .. }, _) => theme.warning(),
                    (GraphLine::Edge { .. }, 0) => theme.muted(),
                    (_, 1) => health.map_or(theme.text(), |h| theme.health(h)),
                    (_, 0) => theme.text(),
                    (GraphLine::Node { .. }, 4) if health == Some(Health::Degraded) => {
                        theme.error()
                    }
                    _ => theme.muted(),
                };
                Cell::from(Span::styled(text, style))
            }))
        });
        let table = Table::new(rows, shown.iter().map(|(_, w)| Constraint::Length(*w)))
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.selected())
            .highlight_symbol("▶ ")
            .highlight_spacing(HighlightSpacing::Always);
        frame.render_stateful_widget(table, area, &mut self.table);
        self.draw_headings(frame, area, cx);
    }

    /// Cluster headings span the whole row, over the empty cells the table drew for them.
    fn draw_headings(&self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        // The header row, then one row per line from the table's scroll offset.
        let first = self.table.offset();
        let rows = usize::from(area.height.saturating_sub(1));
        for (i, line) in self.lines.iter().enumerate().skip(first).take(rows) {
            let GraphLine::Cluster { name, counts } = line else {
                continue;
            };
            let y = area.y + 1 + u16::try_from(i - first).unwrap_or(u16::MAX);
            // Past the highlight column, so a selection marker is never drawn over.
            let x = area.x + 2;
            let room = usize::from(area.width.saturating_sub(2));
            let name = format!("⎈ {name}");
            let rest = truncate(&format!("  {counts}"), room.saturating_sub(width(&name)));
            frame.render_widget(
                Line::from(vec![
                    Span::styled(name, theme.accent().add_modifier(Modifier::BOLD)),
                    Span::styled(rest, theme.muted()),
                ]),
                Rect {
                    x,
                    y,
                    width: area.width.saturating_sub(2),
                    height: 1,
                },
            );
        }
    }
}
