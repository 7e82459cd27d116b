//! The timeline view: the app's Kubernetes events, syncs, and health and sync changes on
//! one time axis, so a deployment can be tied to what followed it.
//!
//! Newest at the bottom: read downwards, a sync comes before the events it caused, the
//! way logs and `kubectl events` read. The view opens on the newest entry and follows new
//! ones while the cursor stays on the last line (like `tail -f`).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::text::{age, one_line, utc_time};
use super::{AppId, DrawCx, Outcome, Target, View, ViewCx, find_app};
use crate::config::Theme;
use crate::model::{Snapshot, TimelineEntry, TimelineKind};
use crate::tui::action::{Action, Context};
use crate::tui::widgets::truncate;

/// One app's timeline.
#[derive(Debug)]
pub struct TimelineView {
    app: AppId,
    cursor: usize,
    /// The cursor is on the newest entry and stays there as entries arrive.
    follow: bool,
    /// The entry under the cursor, to find it again after an update.
    selected: Option<TimelineEntry>,
    scroll: usize,
    page: usize,
}

fn entries<'a>(snapshot: &'a Snapshot, app: &AppId) -> &'a [TimelineEntry] {
    find_app(snapshot, app)
        .and_then(|a| a.detail.as_deref())
        .map_or(&[], |d| d.timeline.as_slice())
}

fn kind_word(kind: TimelineKind) -> &'static str {
    match kind {
        TimelineKind::Event => "event",
        TimelineKind::Sync => "sync",
        TimelineKind::Health => "health",
        TimelineKind::SyncStatus => "status",
    }
}

impl TimelineView {
    /// The timeline of one app, on its newest entry.
    pub fn new(app: AppId) -> Self {
        Self {
            app,
            cursor: 0,
            follow: true,
            selected: None,
            scroll: usize::MAX,
            page: 1,
        }
    }

    /// Index of the entry under the cursor (oldest is 0).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    fn move_to(&mut self, index: usize, list: &[TimelineEntry]) {
        if list.is_empty() {
            return;
        }
        self.cursor = index.min(list.len() - 1);
        self.follow = self.cursor + 1 == list.len();
        self.selected = list.get(self.cursor).cloned();
    }
}

impl View for TimelineView {
    fn context(&self) -> Context {
        Context::Timeline
    }

    fn title(&self) -> String {
        format!("{} timeline", self.app.name)
    }

    fn on_open(&mut self, cx: &mut ViewCx<'_>) {
        self.on_snapshot(cx);
    }

    fn on_snapshot(&mut self, cx: &mut ViewCx<'_>) {
        let list = entries(cx.snapshot, &self.app);
        if list.is_empty() {
            return;
        }
        let index = if self.follow {
            list.len() - 1
        } else {
            self.selected
                .as_ref()
                .and_then(|s| list.iter().rposition(|e| e == s))
                .unwrap_or(self.cursor)
        };
        self.move_to(index, list);
    }

    fn handle_action(&mut self, action: &Action, cx: &mut ViewCx<'_>) -> Outcome {
        let list = entries(cx.snapshot, &self.app);
        let page = isize::try_from(self.page.max(1)).unwrap_or(1);
        let index = match action {
            Action::Up => self.cursor.saturating_sub(1),
            Action::Down => self.cursor + 1,
            Action::PageUp => self.cursor.saturating_add_signed(-page),
            Action::PageDown => self.cursor.saturating_add_signed(page),
            Action::Top => 0,
            Action::Bottom => usize::MAX,
            _ => return Outcome::Ignored,
        };
        self.move_to(index, list);
        Outcome::Consumed
    }

    fn target(&self, _snapshot: &Snapshot) -> Option<Target> {
        Some(Target::app(self.app.clone()))
    }

    fn draw(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        let list = entries(cx.snapshot, &self.app);
        let warnings = list.iter().filter(|e| e.warning).count();
        let mut title = vec![
            Span::styled(
                format!(" {} · timeline ", self.app.name),
                theme.accent().add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("[{}] ", list.len()), theme.muted()),
        ];
        if warnings > 0 {
            title.push(Span::styled(format!("⚠ {warnings} "), theme.warning()));
        }
        let block = Block::bordered()
            .border_style(theme.border())
            .title(Line::from(title))
            .title_bottom(
                Line::styled(" times in UTC · newest at the bottom ", theme.muted())
                    .right_aligned(),
            );
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if list.is_empty() {
            let text = if find_app(cx.snapshot, &self.app).is_some_and(|a| a.detail.is_some()) {
                format!(
                    "Nothing recorded for {} yet: events, syncs and health changes appear here.",
                    self.app.name
                )
            } else {
                format!(
                    "{} Waiting for the first comparison of {}…",
                    cx.spinner, self.app.name
                )
            };
            let top = inner.height / 2;
            frame.render_widget(
                Paragraph::new(Line::styled(text, theme.muted()))
                    .centered()
                    .wrap(Wrap { trim: true }),
                Rect {
                    y: inner.y + top,
                    height: inner.height - top,
                    ..inner
                },
            );
            return;
        }
        // The selected entry's whole message under the list.
        let detail_h = if inner.height >= 12 { 3 } else { 2 };
        let [head, body, detail] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(0),
            Constraint::Length(detail_h),
        ])
        .areas(inner);
        self.page = usize::from(body.height).max(1);
        self.cursor = self.cursor.min(list.len() - 1);
        if self.scroll == usize::MAX || self.cursor >= self.scroll + self.page {
            self.scroll = (self.cursor + 1).saturating_sub(self.page);
        } else if self.cursor < self.scroll {
            self.scroll = self.cursor;
        }
        let wide = inner.width >= 100;
        frame.render_widget(header_line(theme, wide), head);
        for (i, e) in list.iter().enumerate().skip(self.scroll).take(self.page) {
            let y = body.y + u16::try_from(i - self.scroll).unwrap_or(0);
            let mut line = entry_line(e, cx, wide, usize::from(body.width));
            if i == self.cursor {
                line = line.style(theme.selected());
            }
            frame.render_widget(
                line,
                Rect {
                    y,
                    height: 1,
                    ..body
                },
            );
        }
        if let Some(e) = list.get(self.cursor) {
            let style = if e.warning {
                theme.warning()
            } else {
                theme.text()
            };
            let mut spans = vec![Span::styled(
                format!("{} ", utc_time(&e.time)),
                theme.muted(),
            )];
            if let Some(o) = &e.object {
                spans.push(Span::styled(
                    format!("{} {}: ", o.kind, o.name),
                    theme.text(),
                ));
            }
            spans.push(Span::styled(e.message.clone(), style));
            frame.render_widget(
                Paragraph::new(Line::from(spans))
                    .wrap(Wrap { trim: true })
                    .block(
                        Block::new()
                            .borders(ratatui::widgets::Borders::TOP)
                            .border_style(theme.border()),
                    ),
                detail,
            );
        }
    }
}

fn header_line(theme: &Theme, wide: bool) -> Line<'static> {
    let text = if wide {
        format!(
            "  {:<19} {:<9} {:<7} {:<28} {:<18} MESSAGE",
            "TIME", "AGE", "WHAT", "OBJECT", "REASON"
        )
    } else {
        format!(
            "  {:<8} {:<7} {:<22} {:<14} MESSAGE",
            "TIME", "WHAT", "OBJECT", "REASON"
        )
    };
    Line::styled(text, theme.header())
}

fn entry_line(e: &TimelineEntry, cx: &DrawCx<'_>, wide: bool, width: usize) -> Line<'static> {
    let theme = cx.theme;
    let is_sync = e.kind == TimelineKind::Sync;
    let style = if e.warning {
        theme.warning()
    } else if is_sync {
        theme.accent()
    } else {
        theme.text()
    };
    // A sync is the anchor the rest is read against: mark it.
    let marker = if is_sync {
        Span::styled("⚑ ", theme.accent().add_modifier(Modifier::BOLD))
    } else if e.warning {
        Span::styled("⚠ ", theme.warning())
    } else {
        Span::raw("  ")
    };
    let object = e
        .object
        .as_ref()
        .map_or_else(|| "(app)".to_string(), |o| format!("{} {}", o.kind, o.name));
    let time = utc_time(&e.time);
    let mut spans = vec![marker];
    if wide {
        spans.push(Span::styled(format!("{time:<19} "), theme.muted()));
        spans.push(Span::styled(
            format!("{:<9} ", age(cx.now, Some(&e.time))),
            theme.muted(),
        ));
        spans.push(Span::styled(
            format!("{:<7} ", kind_word(e.kind)),
            theme.muted(),
        ));
        spans.push(Span::styled(
            format!("{:<28} ", truncate(&object, 28)),
            theme.text(),
        ));
        spans.push(Span::styled(
            format!("{:<18} ", truncate(&e.reason, 18)),
            style.add_modifier(Modifier::BOLD),
        ));
    } else {
        // Only the clock: the date is in the detail line below.
        let clock = time.rsplit(' ').next().unwrap_or(&time).to_string();
        spans.push(Span::styled(format!("{clock:<8} "), theme.muted()));
        spans.push(Span::styled(
            format!("{:<7} ", kind_word(e.kind)),
            theme.muted(),
        ));
        spans.push(Span::styled(
            format!("{:<22} ", truncate(&object, 22)),
            theme.text(),
        ));
        spans.push(Span::styled(
            format!("{:<14} ", truncate(&e.reason, 14)),
            style.add_modifier(Modifier::BOLD),
        ));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    spans.push(Span::styled(
        truncate(&one_line(&e.message), width.saturating_sub(used)),
        style,
    ));
    Line::from(spans)
}
