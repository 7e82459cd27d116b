//! The image automation view: for each Flux ImagePolicy, the tag it selects against the
//! tags the workloads actually run, the workloads behind flagged. Enter opens the app that
//! lists the selected workload among its resources. Asked of the engine again whenever a
//! new snapshot arrives (at most one request in flight).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};

use super::columns::{ColumnSpec, fit};
use super::text::one_line;
use super::{AppId, AppView, DrawCx, Outcome, Target, View, ViewCx};
use crate::integrations::images::PolicyImages;
use crate::model::{Health, ResourceKey, Snapshot};
use crate::runtime::{Answer, Request};
use crate::tui::action::{Action, Context};
use crate::tui::requests::RequestId;
use crate::tui::widgets::{truncate, width};

/// One line of the table: a policy's workload, or a policy no workload follows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ImageRow {
    /// Index into the policies.
    policy: usize,
    /// Index into the policy's workloads; `None` when it has none.
    workload: Option<usize>,
}

/// What a row is about, kept across reloads: cluster, policy, and the workload and
/// container (none for a policy no workload follows).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RowIdentity {
    cluster: String,
    policy: ResourceKey,
    workload: Option<(ResourceKey, String)>,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Waiting,
    Loaded(Vec<PolicyImages>),
    Failed(String),
}

/// Every ImagePolicy against the images the workloads run.
#[derive(Debug)]
pub struct ImagesView {
    state: State,
    rows: Vec<ImageRow>,
    asking: Option<RequestId>,
    stale: bool,
    /// The policy and workload under the cursor, kept across reloads.
    selected: Option<RowIdentity>,
    table: TableState,
    page: usize,
}

impl Default for ImagesView {
    fn default() -> Self {
        Self::new()
    }
}

impl ImagesView {
    /// A view waiting for the engine's first answer.
    pub fn new() -> Self {
        Self {
            state: State::Waiting,
            rows: Vec::new(),
            asking: None,
            stale: false,
            selected: None,
            table: TableState::default(),
            page: 1,
        }
    }

    /// The policies on screen (empty until the engine answered).
    pub fn policies(&self) -> &[PolicyImages] {
        match &self.state {
            State::Loaded(p) => p,
            _ => &[],
        }
    }

    fn ask(&mut self, cx: &mut ViewCx<'_>) {
        self.asking = Some(cx.request(Request::Images));
        self.stale = false;
    }

    fn identity(&self, row: &ImageRow) -> Option<RowIdentity> {
        let p = self.policies().get(row.policy)?;
        let workload = row
            .workload
            .and_then(|i| p.workloads.get(i))
            .map(|w| (w.workload.clone(), w.container.clone()));
        Some(RowIdentity {
            cluster: p.cluster.clone(),
            policy: p.policy.clone(),
            workload,
        })
    }

    fn relayout(&mut self) {
        let mut rows = Vec::new();
        for (i, p) in self.policies().iter().enumerate() {
            if p.workloads.is_empty() {
                rows.push(ImageRow {
                    policy: i,
                    workload: None,
                });
            }
            for w in 0..p.workloads.len() {
                rows.push(ImageRow {
                    policy: i,
                    workload: Some(w),
                });
            }
        }
        self.rows = rows;
        let found = self.selected.clone().and_then(|want| {
            self.rows
                .iter()
                .position(|r| self.identity(r).as_ref() == Some(&want))
                .or_else(|| {
                    self.rows.iter().position(|r| {
                        self.identity(r)
                            .is_some_and(|i| i.cluster == want.cluster && i.policy == want.policy)
                    })
                })
        });
        let index = found.or((!self.rows.is_empty()).then_some(0));
        self.select(index);
    }

    fn select(&mut self, index: Option<usize>) {
        self.table.select(index);
        self.selected = index
            .and_then(|i| self.rows.get(i))
            .and_then(|r| self.identity(r));
    }

    fn move_by(&mut self, delta: isize) {
        if self.rows.is_empty() {
            return;
        }
        let current = self.table.selected().unwrap_or(0);
        let next = current
            .saturating_add_signed(delta)
            .min(self.rows.len() - 1);
        self.select(Some(next));
    }

    /// The app that lists the selected workload among its resources.
    fn selected_app(&self, snapshot: &Snapshot) -> Option<AppId> {
        let row = self.table.selected().and_then(|i| self.rows.get(i))?;
        let p = self.policies().get(row.policy)?;
        let w = p.workloads.get(row.workload?)?;
        app_of(snapshot, &p.cluster, &w.workload)
    }
}

/// The app whose resources include `key` in `cluster`.
fn app_of(snapshot: &Snapshot, cluster: &str, key: &ResourceKey) -> Option<AppId> {
    snapshot
        .apps
        .iter()
        .find(|a| {
            a.cluster == cluster
                && a.resources.iter().any(|r| {
                    r.group == key.group
                        && r.kind == key.kind
                        && r.namespace == key.namespace
                        && r.name == key.name
                })
        })
        .map(AppId::of)
}

impl View for ImagesView {
    fn context(&self) -> Context {
        Context::Images
    }

    fn title(&self) -> String {
        "Images".into()
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
        let Answer::Images(result) = reply else {
            return;
        };
        self.asking = None;
        self.state = match result {
            Ok(p) => State::Loaded(p),
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
                let row = self.table.selected().and_then(|i| self.rows.get(i));
                let workload = row.and_then(|r| {
                    self.policies()
                        .get(r.policy)
                        .and_then(|p| p.workloads.get(r.workload?))
                });
                match workload {
                    Some(w) => cx.info(format!(
                        "no app lists {} {}/{} among its resources",
                        w.workload.kind, w.workload.namespace, w.workload.name
                    )),
                    None => cx.info("no workload runs this policy's image"),
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
            " Images ",
            theme.accent().add_modifier(Modifier::BOLD),
        )];
        if let State::Loaded(p) = &self.state {
            let behind: usize = p.iter().map(|p| p.behind().count()).sum();
            let n = p.len();
            title.push(Span::styled(
                format!(
                    "[{n} polic{} · {behind} behind] ",
                    if n == 1 { "y" } else { "ies" }
                ),
                if behind > 0 {
                    theme.warning()
                } else {
                    theme.muted()
                },
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
                format!("{} asking the engine for the image policies…", cx.spinner),
                theme.muted(),
            )),
            State::Failed(e) => Some(Line::styled(
                format!("cannot show the image policies: {}", one_line(e)),
                theme.error(),
            )),
            State::Loaded(p) if p.is_empty() => Some(Line::styled(
                "No ImagePolicy in the connected clusters (Flux image automation writes them).",
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

    fn as_images(&self) -> Option<&ImagesView> {
        Some(self)
    }
}

const HEADERS: [&str; 8] = [
    "POLICY",
    "CLUSTER",
    "IMAGE",
    "LATEST",
    "WORKLOAD",
    "CONTAINER",
    "RUNNING",
    "STATUS",
];
/// (min width, priority): on a narrow screen the container and the image name go first
/// (the policy names the image); the tags and the status stay.
const LAYOUT: [(u16, u8); 8] = [
    (16, 90),
    (8, 20),
    (20, 50),
    (0, 95),
    (24, 70),
    (0, 10),
    (0, 96),
    (0, 100),
];

impl ImagesView {
    fn cells(&self, row: &ImageRow, first: bool) -> [String; 8] {
        let Some(p) = self.policies().get(row.policy) else {
            return Default::default();
        };
        let policy = if first {
            [
                format!("{}/{}", p.policy.namespace, p.policy.name),
                p.cluster.clone(),
                p.image.clone(),
                if p.latest_tag.is_empty() {
                    "not scanned".to_string()
                } else {
                    p.latest_tag.clone()
                },
            ]
        } else {
            Default::default()
        };
        let [a, b, c, d] = policy;
        match row.workload.and_then(|i| p.workloads.get(i)) {
            Some(w) => [
                a,
                b,
                c,
                d,
                format!(
                    "{} {}/{}",
                    w.workload.kind, w.workload.namespace, w.workload.name
                ),
                w.container.clone(),
                w.tag.clone(),
                if w.behind {
                    "● behind".to_string()
                } else {
                    "✓ current".to_string()
                },
            ],
            None => [
                a,
                b,
                c,
                d,
                "no workload runs it".to_string(),
                String::new(),
                String::new(),
                String::new(),
            ],
        }
    }

    fn draw_table(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        let cells: Vec<[String; 8]> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let first = i == 0 || self.rows[i - 1].policy != r.policy;
                self.cells(r, first)
            })
            .collect();
        let clusters: Vec<&str> = self.policies().iter().map(|p| p.cluster.as_str()).collect();
        let one_cluster = clusters.windows(2).all(|w| w[0] == w[1]);
        let specs: Vec<ColumnSpec> = (0..8)
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
        // One cluster: its name says nothing a row needs, so its column is left out.
        let columns: Vec<usize> = (0..8).filter(|c| !(one_cluster && *c == 1)).collect();
        let specs: Vec<ColumnSpec> = columns.iter().map(|c| specs[*c]).collect();
        let grow = columns.iter().position(|c| *c == 4);
        let widths = fit(&specs, area.width.saturating_sub(2), 1, grow);
        let shown: Vec<(usize, u16)> = columns
            .iter()
            .zip(widths)
            .filter_map(|(c, w)| w.map(|w| (*c, w)))
            .collect();
        let header = Row::new(
            shown
                .iter()
                .map(|(c, w)| Cell::from(truncate(HEADERS[*c], usize::from(*w)))),
        )
        .style(theme.header());
        let rows = self.rows.iter().zip(&cells).map(|(row, text)| {
            let behind = self
                .policies()
                .get(row.policy)
                .and_then(|p| row.workload.and_then(|i| p.workloads.get(i)))
                .map(|w| w.behind);
            Row::new(shown.iter().map(|(c, w)| {
                let t = truncate(&text[*c], usize::from(*w));
                let style = match (*c, behind) {
                    (0, _) => theme.text(),
                    (3, _) => theme.accent(),
                    (6 | 7, Some(true)) => theme.warning().add_modifier(Modifier::BOLD),
                    (7, Some(false)) => theme.health(Health::Healthy),
                    (4, _) => theme.text(),
                    _ => theme.muted(),
                };
                Cell::from(Span::styled(t, style))
            }))
        });
        let table = Table::new(rows, shown.iter().map(|(_, w)| Constraint::Length(*w)))
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.selected())
            .highlight_symbol("▶ ")
            .highlight_spacing(HighlightSpacing::Always);
        frame.render_stateful_widget(table, area, &mut self.table);
    }
}
