//! The home view: every app in one table, filtered and sorted, with the selection kept on
//! the same app across live updates.

use std::cmp::Ordering;

use crossterm::event::KeyEvent;
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};

use super::columns::{ColumnSpec, fit};
use super::text::{age, one_line};
use super::{AppView, DrawCx, Outcome, Prompt, Target, View, ViewCx};
use crate::model::{AppSnapshot, Health, ManagedBy, Snapshot, SyncStatus};
use crate::tui::action::{Action, Context, SortColumn};
use crate::tui::input::LineEditor;
use crate::tui::widgets::{health_symbol, sync_symbol, truncate, width};

/// What identifies an app across snapshots (its row may move; its identity does not).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppId {
    /// Who reconciles it.
    pub managed_by: ManagedBy,
    /// Application, Kustomization or HelmRelease.
    pub kind: String,
    /// Cluster it deploys to.
    pub cluster: String,
    /// Its own namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
}

impl AppId {
    /// The name the engine knows this app by (observed apps carry their prefix and cluster).
    pub fn engine_name(&self) -> String {
        crate::integrations::engine_name(
            self.managed_by,
            &self.kind,
            &self.namespace,
            &self.name,
            &self.cluster,
        )
    }

    /// The identity of an app in a snapshot.
    pub fn of(app: &AppSnapshot) -> Self {
        Self {
            managed_by: app.managed_by,
            kind: app.kind.clone(),
            cluster: app.cluster.clone(),
            namespace: app.namespace.clone(),
            name: app.name.clone(),
        }
    }

    /// Whether `app` is the app with this identity (without building its id).
    pub fn is(&self, app: &AppSnapshot) -> bool {
        self.name == app.name
            && self.namespace == app.namespace
            && self.cluster == app.cluster
            && self.kind == app.kind
            && self.managed_by == app.managed_by
    }
}

/// The apps table with its filter, sort order and selection.
#[derive(Debug, Default)]
pub struct AppsView {
    filter: String,
    /// Only apps of this cluster context (`:ctx NAME`).
    context: Option<String>,
    /// Open while the filter is being typed.
    editor: Option<LineEditor>,
    sort: Option<(SortColumn, bool)>,
    /// Indices into the snapshot's apps, in display order.
    rows: Vec<usize>,
    selected: Option<AppId>,
    table: TableState,
    /// Rows visible at the last draw, for page up/down.
    page: usize,
    total: usize,
    loading: bool,
}

/// Where the cursor goes when its app is no longer shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fallback {
    SameIndex,
    Top,
}

/// Rank for "worst first".
fn health_rank(h: Health) -> u8 {
    match h {
        Health::Degraded => 0,
        Health::Missing => 1,
        Health::Unknown => 2,
        Health::Progressing => 3,
        Health::Suspended => 4,
        Health::Healthy => 5,
    }
}

fn sync_rank(s: SyncStatus) -> u8 {
    match s {
        SyncStatus::OutOfSync => 0,
        SyncStatus::Unknown => 1,
        SyncStatus::Synced => 2,
    }
}

fn last_sync_key(app: &AppSnapshot) -> Option<Timestamp> {
    app.last_sync.as_deref().and_then(|t| t.parse().ok())
}

/// Whether every space-separated term of `filter` occurs (case-insensitively) in one of
/// the app's name, namespaces, cluster, source, sync or health.
pub fn matches(app: &AppSnapshot, filter: &str) -> bool {
    let fields = [
        app.name.to_lowercase(),
        app.namespace.to_lowercase(),
        app.destination_namespace.to_lowercase(),
        app.cluster.to_lowercase(),
        app.source_label().to_lowercase(),
        app.sync.as_str().to_lowercase(),
        app.health.as_str().to_lowercase(),
    ];
    filter
        .split_whitespace()
        .map(str::to_lowercase)
        .all(|term| fields.iter().any(|f| f.contains(&term)))
}

impl AppsView {
    /// An empty table, waiting for a snapshot.
    pub fn new() -> Self {
        Self {
            loading: true,
            ..Self::default()
        }
    }

    /// The app under the cursor.
    pub fn selected(&self) -> Option<&AppId> {
        self.selected.as_ref()
    }

    /// The filter in force (possibly being typed).
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// The cluster context the table is limited to, if any.
    pub fn cluster_filter(&self) -> Option<&str> {
        self.context.as_deref()
    }

    /// Limits the table to one cluster context (`None`: all of them).
    pub fn set_cluster_filter(&mut self, context: Option<String>, snapshot: &Snapshot) {
        self.context = context;
        self.refresh(snapshot, Fallback::Top);
    }

    /// The sort column and whether it is reversed.
    pub fn sort(&self) -> Option<(SortColumn, bool)> {
        self.sort
    }

    /// Names of the shown apps, in display order (for tests and the CLI's captures).
    pub fn visible_names<'a>(&self, snapshot: &'a Snapshot) -> Vec<&'a str> {
        self.rows
            .iter()
            .filter_map(|i| snapshot.apps.get(*i))
            .map(|a| a.name.as_str())
            .collect()
    }

    fn compare(&self, a: &AppSnapshot, b: &AppSnapshot) -> Ordering {
        let by = match self.sort {
            None => Ordering::Equal,
            Some((col, reversed)) => {
                let o = match col {
                    SortColumn::Name => a.name.cmp(&b.name),
                    SortColumn::Cluster => a.cluster.cmp(&b.cluster),
                    SortColumn::Namespace => a.destination_namespace.cmp(&b.destination_namespace),
                    SortColumn::Sync => sync_rank(a.sync).cmp(&sync_rank(b.sync)),
                    SortColumn::Health => health_rank(a.health).cmp(&health_rank(b.health)),
                    // Newest first; never-synced last.
                    SortColumn::LastSync => match (last_sync_key(a), last_sync_key(b)) {
                        (Some(x), Some(y)) => y.cmp(&x),
                        (Some(_), None) => Ordering::Less,
                        (None, Some(_)) => Ordering::Greater,
                        (None, None) => Ordering::Equal,
                    },
                };
                if reversed { o.reverse() } else { o }
            }
        };
        by.then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.namespace.cmp(&b.namespace))
            .then_with(|| a.cluster.cmp(&b.cluster))
    }

    /// Recomputes the rows from a snapshot, keeping the selection on the same app when it
    /// is still shown. Otherwise a live update keeps the cursor near the row it was on
    /// (the app vanished), while a new filter or sort starts from the top.
    fn refresh(&mut self, snapshot: &Snapshot, fallback: Fallback) {
        let previous_index = self.table.selected().unwrap_or(0);
        let mut rows: Vec<usize> = (0..snapshot.apps.len())
            .filter(|i| {
                let app = &snapshot.apps[*i];
                matches(app, &self.filter)
                    && self.context.as_ref().is_none_or(|c| app.cluster == *c)
            })
            .collect();
        if self.sort.is_some() {
            rows.sort_by(|x, y| self.compare(&snapshot.apps[*x], &snapshot.apps[*y]));
        }
        self.rows = rows;
        self.total = snapshot.apps.len();
        self.loading = snapshot.generation == 0 && snapshot.apps.is_empty();
        if self.rows.is_empty() {
            self.table.select(None);
            // Keep the identity: it comes back into view when the filter is relaxed.
            return;
        }
        let found = self
            .selected
            .as_ref()
            .and_then(|id| self.rows.iter().position(|i| id.is(&snapshot.apps[*i])));
        let index = match (found, fallback) {
            (Some(i), _) => i,
            (None, Fallback::SameIndex) => previous_index.min(self.rows.len() - 1),
            (None, Fallback::Top) => 0,
        };
        self.select_index(index, snapshot);
    }

    fn select_index(&mut self, index: usize, snapshot: &Snapshot) {
        if self.rows.is_empty() {
            self.table.select(None);
            return;
        }
        let index = index.min(self.rows.len() - 1);
        self.table.select(Some(index));
        self.selected = snapshot.apps.get(self.rows[index]).map(AppId::of);
    }

    fn move_by(&mut self, delta: isize, snapshot: &Snapshot) {
        let current = self.table.selected().unwrap_or(0);
        let index = current.saturating_add_signed(delta);
        self.select_index(index, snapshot);
    }
}

impl View for AppsView {
    fn context(&self) -> Context {
        if self.editor.is_some() {
            Context::Filter
        } else {
            Context::Apps
        }
    }

    fn title(&self) -> String {
        "Apps".into()
    }

    fn on_snapshot(&mut self, cx: &mut ViewCx<'_>) {
        self.refresh(cx.snapshot, Fallback::SameIndex);
    }

    fn handle_action(&mut self, action: &Action, cx: &mut ViewCx<'_>) -> Outcome {
        let snapshot = cx.snapshot;
        let page = isize::try_from(self.page.max(1)).unwrap_or(1);
        match action {
            Action::Filter => {
                self.editor = Some(LineEditor::new(&self.filter));
            }
            Action::Select if self.editor.is_some() => {
                self.editor = None;
            }
            Action::Back if self.editor.is_some() || !self.filter.is_empty() => {
                self.editor = None;
                self.filter.clear();
                self.refresh(snapshot, Fallback::Top);
            }
            Action::Open => match &self.selected {
                Some(id) if !self.rows.is_empty() => {
                    return Outcome::Push(Box::new(AppView::new(id.clone())));
                }
                _ => cx.info("no app selected"),
            },
            Action::Up => self.move_by(-1, snapshot),
            Action::Down => self.move_by(1, snapshot),
            Action::PageUp => self.move_by(-page, snapshot),
            Action::PageDown => self.move_by(page, snapshot),
            Action::Top => self.select_index(0, snapshot),
            Action::Bottom => self.select_index(usize::MAX, snapshot),
            Action::Sort(col) => {
                self.sort = match self.sort {
                    Some((c, reversed)) if c == *col => Some((c, !reversed)),
                    _ => Some((*col, false)),
                };
                self.refresh(snapshot, Fallback::Top);
                if let Some((col, reversed)) = self.sort {
                    let name = col.header().to_lowercase();
                    cx.info(if reversed {
                        format!("sorted by {name}, reversed")
                    } else {
                        format!("sorted by {name}")
                    });
                }
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn handle_text(&mut self, key: &KeyEvent, cx: &mut ViewCx<'_>) {
        if let Some(editor) = &mut self.editor
            && editor.handle_key(key)
        {
            self.filter = editor.text().to_string();
            self.refresh(cx.snapshot, Fallback::Top);
        }
    }

    fn prompt(&self) -> Option<Prompt> {
        self.editor.as_ref().map(|e| Prompt {
            prefix: '/',
            text: e.text().to_string(),
            cursor: e.cursor_column(),
        })
    }

    fn target(&self, _snapshot: &Snapshot) -> Option<Target> {
        if self.rows.is_empty() {
            return None;
        }
        self.selected.clone().map(Target::app)
    }

    fn is_animating(&self, _snapshot: &Snapshot) -> bool {
        self.loading
    }

    fn draw(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        let mut title = vec![Span::styled(
            " Apps ",
            theme.accent().add_modifier(Modifier::BOLD),
        )];
        if self.filter.is_empty() && self.context.is_none() {
            title.push(Span::styled(format!("[{}] ", self.total), theme.muted()));
        } else {
            title.push(Span::styled(
                format!("[{} of {}] ", self.rows.len(), self.total),
                theme.muted(),
            ));
            if let Some(c) = &self.context {
                title.push(Span::styled(format!("@{c} "), theme.accent()));
            }
            if !self.filter.is_empty() {
                title.push(Span::styled(format!("/{} ", self.filter), theme.accent()));
            }
        }
        let block = Block::bordered()
            .border_style(theme.border())
            .title(Line::from(title));
        let inner = block.inner(area);
        frame.render_widget(block, area);

        if self.rows.is_empty() {
            self.page = 0;
            let lines = self.empty_message(cx);
            let top = inner
                .height
                .saturating_sub(u16::try_from(lines.len()).unwrap_or(0))
                / 2;
            let area = Rect {
                y: inner.y + top,
                height: inner.height.saturating_sub(top),
                ..inner
            };
            frame.render_widget(
                Paragraph::new(lines).centered().wrap(Wrap { trim: true }),
                area,
            );
            return;
        }
        self.page = usize::from(inner.height.saturating_sub(1));
        self.draw_table(frame, inner, cx);
    }

    fn as_apps(&self) -> Option<&AppsView> {
        Some(self)
    }

    fn as_apps_mut(&mut self) -> Option<&mut AppsView> {
        Some(self)
    }
}

/// Column order and indices.
const NAME: usize = 0;
const CLUSTER: usize = 1;
const NAMESPACE: usize = 2;
const SOURCE: usize = 3;
const SYNC: usize = 4;
const HEALTH: usize = 5;
const LAST_SYNC: usize = 6;
const MESSAGE: usize = 7;
const HEADERS: [&str; 8] = [
    "NAME",
    "CLUSTER",
    "NAMESPACE",
    "SOURCE",
    "SYNC",
    "HEALTH",
    "LAST SYNC",
    "MESSAGE",
];
/// (min width, priority): higher priority is hidden later; MESSAGE goes first.
const LAYOUT: [(u16, u8); 8] = [
    (12, 100),
    (8, 60),
    (9, 40),
    (16, 50),
    (0, 80),
    (0, 90),
    (0, 30),
    (20, 10),
];

impl AppsView {
    fn empty_message(&self, cx: &DrawCx<'_>) -> Vec<Line<'static>> {
        let theme = cx.theme;
        if self.loading {
            return vec![Line::styled(
                format!(
                    "{} Waiting for the first update from the engine…",
                    cx.spinner
                ),
                theme.muted(),
            )];
        }
        if self.total == 0 {
            return vec![
                Line::styled(
                    "No applications yet.",
                    theme.text().add_modifier(Modifier::BOLD),
                ),
                Line::raw(""),
                Line::styled(
                    "Point rekon at Argo CD Application YAML with --apps PATH,",
                    theme.muted(),
                ),
                Line::styled(
                    "or run `rekon demo` to try it without a cluster.",
                    theme.muted(),
                ),
            ];
        }
        if self.filter.is_empty()
            && let Some(c) = &self.context
        {
            return vec![
                Line::styled(
                    format!("No app deploys to context `{c}`."),
                    theme.text().add_modifier(Modifier::BOLD),
                ),
                Line::styled("`:ctx all` shows every context.", theme.muted()),
            ];
        }
        let clear = cx
            .keymap
            .key_for(Context::Apps, &Action::Back)
            .map_or_else(|| "esc".to_string(), |k| k.to_string());
        vec![
            Line::styled(
                format!("No app matches `{}`.", self.filter),
                theme.text().add_modifier(Modifier::BOLD),
            ),
            Line::styled(format!("Press {clear} to clear the filter."), theme.muted()),
        ]
    }

    fn draw_table(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        let apps: Vec<&AppSnapshot> = self
            .rows
            .iter()
            .filter_map(|i| cx.snapshot.apps.get(*i))
            .collect();
        let cells: Vec<[String; 8]> = apps
            .iter()
            .map(|a| {
                [
                    a.name.clone(),
                    a.cluster.clone(),
                    a.destination_namespace.clone(),
                    a.source_label(),
                    format!("{} {}", sync_symbol(a.sync), a.sync.as_str()),
                    format!("{} {}", health_symbol(a.health), a.health.as_str()),
                    age(cx.now, a.last_sync.as_deref()),
                    one_line(&a.message),
                ]
            })
            .collect();
        let mut headers: [String; 8] = HEADERS.map(String::from);
        if let Some((col, reversed)) = self.sort {
            let i = match col {
                SortColumn::Name => NAME,
                SortColumn::Cluster => CLUSTER,
                SortColumn::Namespace => NAMESPACE,
                SortColumn::Sync => SYNC,
                SortColumn::Health => HEALTH,
                SortColumn::LastSync => LAST_SYNC,
            };
            headers[i].push(if reversed { '↑' } else { '↓' });
        }
        let specs: Vec<ColumnSpec> = (0..8)
            .map(|c| {
                let ideal = cells
                    .iter()
                    .map(|row| width(&row[c]))
                    .chain([width(&headers[c])])
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
        let symbol = "▶ ";
        let spacing = if area.width >= 160 { 2 } else { 1 };
        let available = area.width.saturating_sub(2);
        let widths = fit(&specs, available, spacing, Some(MESSAGE));
        let shown: Vec<(usize, u16)> = widths
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.map(|w| (i, w)))
            .collect();

        let header = Row::new(
            shown
                .iter()
                .map(|(c, w)| Cell::from(truncate(&headers[*c], usize::from(*w)))),
        )
        .style(theme.header());
        let rows = apps.iter().zip(&cells).map(|(app, row)| {
            Row::new(shown.iter().map(|(c, w)| {
                let text = truncate(&row[*c], usize::from(*w));
                let style = match *c {
                    NAME => theme.text(),
                    SYNC => theme.sync(app.sync),
                    HEALTH => theme.health(app.health),
                    MESSAGE if app.health == Health::Degraded => theme.error(),
                    CLUSTER | NAMESPACE | SOURCE | LAST_SYNC | MESSAGE => theme.muted(),
                    _ => theme.text(),
                };
                Cell::from(Span::styled(text, style))
            }))
        });
        let table = Table::new(rows, shown.iter().map(|(_, w)| Constraint::Length(*w)))
            .header(header)
            .column_spacing(spacing)
            .row_highlight_style(theme.selected())
            .highlight_symbol(symbol)
            .highlight_spacing(HighlightSpacing::Always);
        frame.render_stateful_widget(table, area, &mut self.table);
    }
}
