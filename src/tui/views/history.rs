//! The history view: the app's recorded syncs, newest first. `enter` diffs a revision
//! against live; `R` rolls back to it after confirmation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use super::columns::{ColumnSpec, fit};
use super::text::{age, one_line};
use super::{AppId, DiffView, DrawCx, Outcome, SyncDialog, Target, View, ViewCx, find_app};
use crate::config::Theme;
use crate::model::short_sha;
use crate::model::{Health, HistoryEntry, OperationPhase, Snapshot};
use crate::tui::action::{Action, Context};
use crate::tui::widgets::{truncate, width};

/// One app's sync history.
#[derive(Debug)]
pub struct HistoryView {
    app: AppId,
    /// The selected entry's id, kept across updates.
    selected: Option<u64>,
    table: TableState,
    page: usize,
}

fn entries<'a>(snapshot: &'a Snapshot, app: &AppId) -> &'a [HistoryEntry] {
    find_app(snapshot, app)
        .and_then(|a| a.detail.as_deref())
        .map_or(&[], |d| d.history.as_slice())
}

fn phase_style(phase: OperationPhase, theme: &Theme) -> ratatui::style::Style {
    match phase {
        OperationPhase::Succeeded => theme.health(Health::Healthy),
        OperationPhase::Failed => theme.error(),
        OperationPhase::Terminated => theme.warning(),
        OperationPhase::Running => theme.accent(),
    }
}

fn phase_word(phase: OperationPhase) -> &'static str {
    match phase {
        OperationPhase::Succeeded => "✓ Succeeded",
        OperationPhase::Failed => "✗ Failed",
        OperationPhase::Terminated => "■ Terminated",
        OperationPhase::Running => "◌ Running",
    }
}

impl HistoryView {
    /// The history of one app, newest entry selected.
    pub fn new(app: AppId) -> Self {
        Self {
            app,
            selected: None,
            table: TableState::default(),
            page: 1,
        }
    }

    /// The selected entry's id.
    pub fn selected(&self) -> Option<u64> {
        self.selected
    }

    fn index(&self, list: &[HistoryEntry]) -> usize {
        self.selected
            .and_then(|id| list.iter().position(|e| e.id == id))
            .unwrap_or(0)
    }

    fn move_by(&mut self, delta: isize, snapshot: &Snapshot) {
        let list = entries(snapshot, &self.app);
        if list.is_empty() {
            return;
        }
        let i = self
            .index(list)
            .saturating_add_signed(delta)
            .min(list.len() - 1);
        self.selected = Some(list[i].id);
    }

    fn current<'a>(&self, snapshot: &'a Snapshot) -> Option<&'a HistoryEntry> {
        let list = entries(snapshot, &self.app);
        list.get(self.index(list))
    }
}

impl View for HistoryView {
    fn context(&self) -> Context {
        Context::History
    }

    fn title(&self) -> String {
        format!("{} history", self.app.name)
    }

    fn on_open(&mut self, cx: &mut ViewCx<'_>) {
        self.on_snapshot(cx);
    }

    fn on_snapshot(&mut self, cx: &mut ViewCx<'_>) {
        let list = entries(cx.snapshot, &self.app);
        if !list.iter().any(|e| Some(e.id) == self.selected) {
            self.selected = list.first().map(|e| e.id);
        }
    }

    fn handle_action(&mut self, action: &Action, cx: &mut ViewCx<'_>) -> Outcome {
        let page = isize::try_from(self.page.max(1)).unwrap_or(1);
        let snapshot = cx.snapshot;
        match action {
            Action::Up => self.move_by(-1, snapshot),
            Action::Down => self.move_by(1, snapshot),
            Action::PageUp => self.move_by(-page, snapshot),
            Action::PageDown => self.move_by(page, snapshot),
            Action::Top => self.move_by(isize::MIN / 2, snapshot),
            Action::Bottom => self.move_by(isize::MAX / 2, snapshot),
            Action::Open => match self.current(snapshot) {
                Some(e) => {
                    return Outcome::Push(Box::new(DiffView::revision(
                        self.app.clone(),
                        e.revision.clone(),
                    )));
                }
                None => cx.info("no sync recorded yet"),
            },
            Action::Rollback => match self.current(snapshot) {
                Some(e) => {
                    if find_app(snapshot, &self.app).is_some_and(|a| a.auto_sync) {
                        cx.info(format!(
                            "{} has auto-sync on: the engine refuses a rollback until it is turned off",
                            self.app.name
                        ));
                    }
                    return Outcome::Push(Box::new(SyncDialog::rollback(
                        self.app.clone(),
                        e.id,
                        e.revision.clone(),
                        e.commit_message.clone(),
                    )));
                }
                None => cx.info("no sync recorded yet"),
            },
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn target(&self, _snapshot: &Snapshot) -> Option<Target> {
        Some(Target::app(self.app.clone()))
    }

    fn draw(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        let list = entries(cx.snapshot, &self.app);
        let block = Block::bordered()
            .border_style(theme.border())
            .title(Line::from(vec![
                Span::styled(
                    format!(" {} · history ", self.app.name),
                    theme.accent().add_modifier(Modifier::BOLD),
                ),
                Span::styled(format!("[{}] ", list.len()), theme.muted()),
            ]));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if list.is_empty() {
            let text = if find_app(cx.snapshot, &self.app).is_some_and(|a| a.detail.is_some()) {
                format!("No sync of {} recorded yet.", self.app.name)
            } else {
                format!(
                    "{} Waiting for the first comparison of {}…",
                    cx.spinner, self.app.name
                )
            };
            let top = inner.height / 2;
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme.muted())).centered(),
                Rect {
                    y: inner.y + top,
                    height: inner.height - top,
                    ..inner
                },
            );
            return;
        }
        self.page = usize::from(inner.height.saturating_sub(1)).max(1);
        let headers = [
            "ID", "REVISION", "AUTHOR", "MESSAGE", "STARTED", "RESULT", "BY",
        ];
        let cells: Vec<[String; 7]> = list
            .iter()
            .map(|e| {
                let mut message = one_line(&e.commit_message);
                if !e.summary.is_empty() {
                    message = if message.is_empty() {
                        e.summary.clone()
                    } else {
                        format!("{message} ({})", e.summary)
                    };
                }
                [
                    format!("#{}", e.id),
                    short_sha(&e.revision).to_string(),
                    e.author.clone(),
                    message,
                    age(cx.now, Some(&e.started_at)),
                    phase_word(e.phase).to_string(),
                    e.initiated_by.clone(),
                ]
            })
            .collect();
        // (min, priority): the message shrinks first; the author and initiator go first.
        let layout: [(u16, u8); 7] = [
            (0, 90),
            (0, 100),
            (8, 30),
            (16, 50),
            (0, 70),
            (0, 80),
            (8, 20),
        ];
        let specs: Vec<ColumnSpec> = (0..7)
            .map(|c| {
                let ideal = cells
                    .iter()
                    .map(|r| width(&r[c]))
                    .chain([width(headers[c])])
                    .max()
                    .unwrap_or(0);
                let ideal = u16::try_from(ideal).unwrap_or(u16::MAX);
                let (min, priority) = layout[c];
                ColumnSpec {
                    ideal,
                    min: if min == 0 { ideal } else { min.min(ideal) },
                    priority,
                }
            })
            .collect();
        let widths = fit(&specs, inner.width.saturating_sub(2), 1, Some(3));
        let shown: Vec<(usize, u16)> = widths
            .iter()
            .enumerate()
            .filter_map(|(i, w)| w.map(|w| (i, w)))
            .collect();
        let header = Row::new(
            shown
                .iter()
                .map(|(c, w)| Cell::from(truncate(headers[*c], usize::from(*w)))),
        )
        .style(theme.header());
        let rows = list.iter().zip(&cells).map(|(e, row)| {
            Row::new(shown.iter().map(|(c, w)| {
                let style = match *c {
                    1 => theme.accent(),
                    5 => phase_style(e.phase, theme),
                    0 | 2 | 4 | 6 => theme.muted(),
                    _ => theme.text(),
                };
                Cell::from(Span::styled(truncate(&row[*c], usize::from(*w)), style))
            }))
        });
        self.table.select(Some(self.index(list)));
        let table = Table::new(rows, shown.iter().map(|(_, w)| Constraint::Length(*w)))
            .header(header)
            .column_spacing(1)
            .row_highlight_style(theme.selected())
            .highlight_symbol("▶ ")
            .highlight_spacing(HighlightSpacing::Always);
        frame.render_stateful_widget(table, inner, &mut self.table);
    }
}
