//! Drawing the diff view: the list of changed resources, the column labels, and each
//! screen line side by side or unified.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::lines::{Part, ScreenLine};
use super::{DiffView, Entry, Loading, SIDE_BY_SIDE_MIN_WIDTH, Source};
use crate::config::Theme;
use crate::engine::diff::{Cell, Row, RowKind, resource_title};
use crate::model::short_sha;
use crate::tui::action::{Action, Context};
use crate::tui::views::text::highlighted;
use crate::tui::views::{DrawCx, find_app};
use crate::tui::widgets::truncate;

pub(super) fn draw(view: &mut DiffView, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
    let theme = cx.theme;
    let with_list = area.width >= SIDE_BY_SIDE_MIN_WIDTH && !view.entries.is_empty();
    let main = if with_list {
        let list_width = (area.width / 4).clamp(24, 36);
        let [list, main] =
            Layout::horizontal([Constraint::Length(list_width), Constraint::Min(0)]).areas(area);
        draw_list(view, frame, list, theme);
        main
    } else {
        area
    };

    let Some(entry) = view.entries.get(view.current) else {
        draw_empty(view, frame, main, cx);
        return;
    };
    let unified = view.cursor_unified;
    let mut title = vec![Span::styled(
        format!(" {} ", resource_title(&entry.diff.key)),
        theme.accent().add_modifier(Modifier::BOLD),
    )];
    title.push(Span::styled(
        format!("{}/{} ", view.current + 1, view.entries.len()),
        theme.muted(),
    ));
    if let Source::Revision { revision, .. } = &view.source {
        title.push(Span::styled(
            format!("@{} ", short_sha(revision)),
            theme.accent(),
        ));
    }
    let mode = if unified { "unified" } else { "side by side" };
    let block = Block::bordered()
        .border_style(theme.border())
        .title(Line::from(title))
        .title_bottom(Line::styled(format!(" {mode} "), theme.muted()).right_aligned());
    let inner = block.inner(main);
    frame.render_widget(block, main);
    if inner.height < 2 || inner.width < 10 {
        return;
    }
    let [labels, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);

    let lines = view.lines_of(entry);
    view.page = usize::from(body.height).max(1);
    // Keep the cursor on screen.
    view.cursor = view.cursor.min(lines.len().saturating_sub(1));
    if view.cursor < view.scroll {
        view.scroll = view.cursor;
    } else if view.cursor >= view.scroll + view.page {
        view.scroll = view.cursor + 1 - view.page;
    }
    // Never scroll past the end: a resource that fits is shown whole.
    view.scroll = view.scroll.min(lines.len().saturating_sub(view.page));

    let num_width = entry.sbs.number_width();
    let painter = Painter {
        entry,
        theme,
        num_width,
        hscroll: view.hscroll,
        fold_key: cx.key(Context::Diff, &Action::Open),
    };
    painter.labels(frame, labels, unified, &view.source);
    for (i, line) in lines.iter().enumerate().skip(view.scroll).take(view.page) {
        let y = body.y + u16::try_from(i - view.scroll).unwrap_or(0);
        let rect = Rect {
            y,
            height: 1,
            ..body
        };
        let selected = i == view.cursor;
        if unified {
            painter.unified_line(frame, rect, line, selected);
        } else {
            painter.side_line(frame, rect, line, selected);
        }
    }
}

fn draw_list(view: &DiffView, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let block = Block::bordered()
        .border_style(theme.border())
        .title(Line::styled(
            format!(" Changed ({}) ", view.entries.len()),
            theme.accent(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let rows = usize::from(inner.height).max(1);
    let first = view.current.saturating_sub(rows.saturating_sub(1));
    let room = usize::from(inner.width).saturating_sub(3);
    for (i, e) in view.entries.iter().enumerate().skip(first).take(rows) {
        let (symbol, style) = match (&e.diff.live, &e.diff.desired) {
            (None, _) => ("+", theme.diff_added()),
            (_, None) => ("−", theme.diff_removed()),
            _ => ("~", theme.sync(crate::model::SyncStatus::OutOfSync)),
        };
        let label = format!("{} {}", e.diff.key.kind, e.diff.key.name);
        let mut line = Line::from(vec![
            Span::styled(format!(" {symbol} "), style),
            Span::styled(truncate(&label, room), theme.text()),
        ]);
        if i == view.current {
            line = line.style(theme.selected());
        }
        let y = inner.y + u16::try_from(i - first).unwrap_or(0);
        frame.render_widget(
            line,
            Rect {
                y,
                height: 1,
                ..inner
            },
        );
    }
}

fn draw_empty(view: &DiffView, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
    let theme = cx.theme;
    let block = Block::bordered()
        .border_style(theme.border())
        .title(Line::styled(
            format!(" {} ", view.title_text()),
            theme.accent(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let compared = find_app(cx.snapshot, &view.app).is_some_and(|a| a.detail.is_some());
    let (text, style) = match &view.source {
        Source::Revision {
            revision,
            state: Loading::Waiting(_),
        } => (
            format!(
                "{} Asking the engine for revision {} against live…",
                cx.spinner,
                short_sha(revision)
            ),
            theme.muted(),
        ),
        Source::Revision {
            revision,
            state: Loading::Failed(e),
        } => (
            format!("Cannot diff revision {}: {e}", short_sha(revision)),
            theme.error(),
        ),
        Source::Revision { revision, .. } => (
            format!(
                "No differences: revision {} matches the live state.",
                short_sha(revision)
            ),
            theme.text(),
        ),
        Source::Live if !compared => (
            format!(
                "{} Waiting for the first comparison of {}…",
                cx.spinner, view.app.name
            ),
            theme.muted(),
        ),
        Source::Live => (
            "No differences: the live state matches Git.".to_string(),
            theme.text(),
        ),
    };
    let top = inner.height / 2;
    let rect = Rect {
        y: inner.y + top,
        height: inner.height - top,
        ..inner
    };
    frame.render_widget(
        Paragraph::new(Line::styled(text, style))
            .centered()
            .wrap(Wrap { trim: true }),
        rect,
    );
}

impl DiffView {
    fn title_text(&self) -> String {
        match &self.source {
            Source::Live => format!("Diff · {}", self.app.name),
            Source::Revision { revision, .. } => {
                format!("Diff · {} @{}", self.app.name, short_sha(revision))
            }
        }
    }
}

/// Draws one resource's lines.
struct Painter<'a> {
    entry: &'a Entry,
    theme: &'a Theme,
    num_width: usize,
    hscroll: usize,
    fold_key: String,
}

impl Painter<'_> {
    fn labels(&self, frame: &mut Frame<'_>, area: Rect, unified: bool, source: &Source) {
        let diff = &self.entry.diff;
        let live = if diff.live.is_some() {
            "live".to_string()
        } else {
            "live (not in the cluster)".to_string()
        };
        let desired = match (diff.desired.is_some(), source) {
            (false, _) => "desired (not in Git: a prune deletes it)".to_string(),
            (true, Source::Revision { revision, .. }) => {
                format!("desired @{}", short_sha(revision))
            }
            (true, Source::Live) => "desired (Git)".to_string(),
        };
        let style = self.theme.header();
        if unified {
            let line = Line::from(vec![
                Span::styled(
                    format!("--- {live}"),
                    self.theme.diff_removed().add_modifier(Modifier::BOLD),
                ),
                Span::raw("   "),
                Span::styled(
                    format!("+++ {desired}"),
                    self.theme.diff_added().add_modifier(Modifier::BOLD),
                ),
            ]);
            frame.render_widget(line, area);
            return;
        }
        let (left, right) = halves(area);
        frame.render_widget(Line::styled(format!(" {live}"), style), left);
        frame.render_widget(Line::styled(format!(" {desired}"), style), right);
    }

    fn number(&self, n: Option<usize>) -> String {
        match n {
            Some(n) => format!("{n:>w$} ", w = self.num_width),
            None => " ".repeat(self.num_width + 1),
        }
    }

    /// Marker, text style and whether to highlight changed words, for one side of a row.
    fn side_style(&self, kind: RowKind, old_side: bool) -> (char, Style, bool) {
        let t = self.theme;
        match (kind, old_side) {
            (RowKind::Equal, _) => (' ', t.text(), false),
            (RowKind::Changed, true) => ('-', t.diff_removed(), true),
            (RowKind::Changed, false) => ('+', t.diff_added(), true),
            (RowKind::Removed, _) => ('-', t.diff_removed(), false),
            (RowKind::Added, _) => ('+', t.diff_added(), false),
        }
    }

    fn cell_spans(&self, cell: &Cell, style: Style, words: bool) -> Vec<Span<'static>> {
        let changes = if words { cell.changes.as_slice() } else { &[] };
        highlighted(
            &cell.text,
            changes,
            style,
            self.theme.diff_changed_word(),
            self.hscroll,
        )
    }

    fn fold(&self, frame: &mut Frame<'_>, area: Rect, hidden: usize, selected: bool) {
        let noun = if hidden == 1 { "line" } else { "lines" };
        let mut line = Line::styled(
            format!(
                "··· {hidden} unchanged {noun} · {} opens ···",
                self.fold_key
            ),
            self.theme.muted(),
        )
        .centered();
        if selected {
            line = line.style(self.theme.selected());
        }
        frame.render_widget(line, area);
    }

    fn side_line(&self, frame: &mut Frame<'_>, area: Rect, line: &ScreenLine, selected: bool) {
        let row: &Row = match line {
            ScreenLine::Fold { hidden, .. } => return self.fold(frame, area, *hidden, selected),
            ScreenLine::Row { row, .. } => match self.entry.sbs.rows.get(*row) {
                Some(r) => r,
                None => return,
            },
        };
        let (left, right) = halves(area);
        for (cell, rect, old_side) in [(&row.left, left, true), (&row.right, right, false)] {
            let (marker, style, words) = self.side_style(row.kind, old_side);
            let mut spans = vec![Span::styled(
                self.number(cell.as_ref().map(|c| c.line)),
                self.theme.muted(),
            )];
            if let Some(cell) = cell {
                spans.push(Span::styled(marker.to_string(), style));
                spans.extend(self.cell_spans(cell, style, words));
            }
            let mut l = Line::from(spans);
            if selected {
                l = l.style(self.theme.selected());
            }
            frame.render_widget(l, rect);
        }
        let sep = Rect {
            x: left.right(),
            width: 1,
            ..area
        };
        frame.render_widget(Line::styled("│", self.theme.border()), sep);
    }

    fn unified_line(&self, frame: &mut Frame<'_>, area: Rect, line: &ScreenLine, selected: bool) {
        let (row, part) = match line {
            ScreenLine::Fold { hidden, .. } => return self.fold(frame, area, *hidden, selected),
            ScreenLine::Row { row, part } => match self.entry.sbs.rows.get(*row) {
                Some(r) => (r, *part),
                None => return,
            },
        };
        let (old_n, new_n, cell, old_side) = match part {
            Part::Both => (
                row.left.as_ref().map(|c| c.line),
                row.right.as_ref().map(|c| c.line),
                row.right.as_ref().or(row.left.as_ref()),
                false,
            ),
            Part::Old => (
                row.left.as_ref().map(|c| c.line),
                None,
                row.left.as_ref(),
                true,
            ),
            Part::New => (
                None,
                row.right.as_ref().map(|c| c.line),
                row.right.as_ref(),
                false,
            ),
        };
        let (marker, style, words) = self.side_style(row.kind, old_side);
        let mut spans = vec![Span::styled(
            format!("{}{}", self.number(old_n), self.number(new_n)),
            self.theme.muted(),
        )];
        spans.push(Span::styled(marker.to_string(), style));
        if let Some(cell) = cell {
            spans.extend(self.cell_spans(cell, style, words));
        }
        let mut l = Line::from(spans);
        if selected {
            l = l.style(self.theme.selected());
        }
        frame.render_widget(l, area);
    }
}

/// The two halves of a side-by-side row, with one column between them for `│`.
fn halves(area: Rect) -> (Rect, Rect) {
    let left_w = area.width.saturating_sub(1) / 2;
    let left = Rect {
        width: left_w,
        ..area
    };
    let right = Rect {
        x: area.x + left_w + 1,
        width: area.width.saturating_sub(left_w + 1),
        ..area
    };
    (left, right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_leave_one_column_between() {
        let (l, r) = halves(Rect::new(0, 0, 81, 1));
        assert_eq!((l.width, r.x, r.width), (40, 41, 40));
    }
}
