//! The two header lines: contexts with their connection state and the badges, then the
//! app counts per health and sync state.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{health_symbol, sync_symbol, width};
use crate::config::Theme;
use crate::model::{AppSnapshot, ConnectionState, Health, Snapshot, SyncStatus};

/// What the header shows besides the snapshot.
pub struct HeaderInfo<'a> {
    /// Contexts asked for on the command line (shown even before the engine reports them).
    pub contexts: &'a [String],
    /// The UI refuses changes.
    pub read_only: bool,
    /// The spinner's current frame.
    pub spinner: char,
    /// Counts only the apps of this context (`:ctx NAME`).
    pub only_context: Option<&'a str>,
}

/// How much of a connection state the header has room for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// `! degraded: Secret: forbidden …`
    Message,
    /// `! degraded`
    Word,
    /// `!`
    Symbol,
}

fn connection_span(
    state: &ConnectionState,
    theme: &Theme,
    spinner: char,
    detail: Detail,
) -> Span<'static> {
    let (symbol, word, message, style) = match state {
        ConnectionState::Connected => ('✓', "connected", None, theme.health(Health::Healthy)),
        ConnectionState::Connecting => (
            spinner,
            "connecting",
            None,
            theme.health(Health::Progressing),
        ),
        ConnectionState::Degraded(m) => ('!', "degraded", Some(m), theme.warning()),
        ConnectionState::Unreachable(m) => ('✗', "unreachable", Some(m), theme.error()),
    };
    match (detail, message) {
        (Detail::Message, Some(m)) => Span::styled(format!("{symbol} {word}: {m}"), style),
        (Detail::Message | Detail::Word, _) => Span::styled(format!("{symbol} {word}"), style),
        (Detail::Symbol, _) => Span::styled(symbol.to_string(), style),
    }
}

/// `rekon  contexts a ✓ connected, b ! degraded: why`, without the why, or
/// `rekon  a ✓ b !` when short of room.
fn context_spans(
    names: &[&str],
    snapshot: &Snapshot,
    info: &HeaderInfo<'_>,
    theme: &Theme,
    detail: Detail,
) -> Vec<Span<'static>> {
    let words = detail != Detail::Symbol;
    let mut spans = vec![
        Span::styled(" rekon ", theme.accent().add_modifier(Modifier::BOLD)),
        Span::raw(" "),
    ];
    if names.is_empty() {
        spans.push(Span::styled("no cluster context", theme.muted()));
        return spans;
    }
    if words {
        let label = if names.len() == 1 {
            "context "
        } else {
            "contexts "
        };
        spans.push(Span::styled(label, theme.muted()));
    }
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(if words { ", " } else { "  " }, theme.muted()));
        }
        spans.push(Span::styled(
            (*name).to_string(),
            theme.text().add_modifier(Modifier::BOLD),
        ));
        if let Some(c) = snapshot.clusters.iter().find(|c| c.name == *name) {
            spans.push(Span::raw(" "));
            spans.push(connection_span(&c.connection, theme, info.spinner, detail));
        }
    }
    spans
}

/// Draws the header into a two-line area.
pub fn render_header(
    frame: &mut Frame<'_>,
    area: Rect,
    snapshot: &Snapshot,
    info: &HeaderInfo<'_>,
    theme: &Theme,
) {
    let [top, bottom] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);

    // Line 1: contexts and their connection state (in words when they fit); badges on
    // the right.
    let mut names: Vec<&str> = info.contexts.iter().map(String::as_str).collect();
    for c in &snapshot.clusters {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    let apps = &snapshot.apps;
    let auto = apps.iter().filter(|a| a.auto_sync).count();
    let mut badges = Vec::new();
    if auto > 0 {
        badges.push(Span::styled(
            format!("⟳ {auto} auto-sync"),
            theme.badge_auto_sync(),
        ));
    }
    if info.read_only {
        if !badges.is_empty() {
            badges.push(Span::raw("  "));
        }
        badges.push(Span::styled("[READ-ONLY]", theme.badge_read_only()));
    }
    let room = usize::from(area.width).saturating_sub(line_width(&badges) + 1);
    let left = [Detail::Message, Detail::Word]
        .into_iter()
        .map(|d| context_spans(&names, snapshot, info, theme, d))
        .find(|spans| line_width(spans) <= room)
        .unwrap_or_else(|| context_spans(&names, snapshot, info, theme, Detail::Symbol));
    render_split(frame, top, Line::from(left), badges);

    // Line 2: counts per health and per sync state, without the words when they do not fit.
    let counted: Vec<&AppSnapshot> = snapshot
        .apps
        .iter()
        .filter(|a| info.only_context.is_none_or(|c| a.cluster == c))
        .collect();
    let counts = [(true, "  "), (true, " "), (false, " ")]
        .into_iter()
        .map(|(words, gap)| count_spans(&counted, info.only_context, theme, words, gap))
        .find(|spans| line_width(spans) <= usize::from(area.width))
        .unwrap_or_else(|| count_spans(&counted, info.only_context, theme, false, " "));
    render_split(frame, bottom, Line::from(counts), Vec::new());
}

fn line_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|s| width(&s.content)).sum()
}

/// `6 apps │ ♥ 2 Healthy … │ ✓ 3 Synced …` (`♥2 … │ ✓3 …` without `words`), items
/// separated by `gap`.
fn count_spans(
    apps: &[&AppSnapshot],
    context: Option<&str>,
    theme: &Theme,
    words: bool,
    gap: &'static str,
) -> Vec<Span<'static>> {
    let mut spans = vec![Span::styled(
        format!(
            " {} app{}",
            apps.len(),
            if apps.len() == 1 { "" } else { "s" }
        ),
        theme.text(),
    )];
    if let Some(c) = context {
        spans.push(Span::styled(format!(" in {c}"), theme.accent()));
    }
    let mut group = |items: Vec<(char, usize, &'static str, ratatui::style::Style)>| {
        let mut first = true;
        for (symbol, n, word, style) in items {
            if n == 0 {
                continue;
            }
            let sep = if first {
                format!("{gap}│ ")
            } else {
                gap.to_string()
            };
            spans.push(Span::styled(sep, theme.muted()));
            let text = if words {
                format!("{symbol} {n} {word}")
            } else {
                format!("{symbol}{n}")
            };
            spans.push(Span::styled(text, style));
            first = false;
        }
    };
    group(
        Health::ALL
            .iter()
            .map(|h| {
                let n = apps.iter().filter(|a| a.health == *h).count();
                (health_symbol(*h), n, h.as_str(), theme.health(*h))
            })
            .collect(),
    );
    group(
        SyncStatus::ALL
            .iter()
            .map(|s| {
                let n = apps.iter().filter(|a| a.sync == *s).count();
                (sync_symbol(*s), n, s.as_str(), theme.sync(*s))
            })
            .collect(),
    );
    spans
}

/// Draws `left` and, right-aligned, `right` on one line, giving `right` its full width.
fn render_split(
    frame: &mut Frame<'_>,
    area: Rect,
    left: Line<'static>,
    mut right: Vec<Span<'static>>,
) {
    if right.is_empty() {
        frame.render_widget(Paragraph::new(left), area);
        return;
    }
    right.push(Span::raw(" "));
    let rw = u16::try_from(line_width(&right))
        .unwrap_or(area.width)
        .min(area.width);
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(rw)]).areas(area);
    frame.render_widget(Paragraph::new(left), l);
    frame.render_widget(Paragraph::new(Line::from(right)).right_aligned(), r);
}
