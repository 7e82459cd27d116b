//! The two header lines: contexts with their connection state and the badges, then the
//! app counts per health and sync state.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{health_symbol, sync_symbol, width};
use crate::config::Theme;
use crate::model::{ConnectionState, Health, Snapshot, SyncStatus};

/// What the header shows besides the snapshot.
pub struct HeaderInfo<'a> {
    /// Contexts asked for on the command line (shown even before the engine reports them).
    pub contexts: &'a [String],
    /// The UI refuses changes.
    pub read_only: bool,
    /// The spinner's current frame.
    pub spinner: char,
}

fn connection_span(state: &ConnectionState, theme: &Theme, spinner: char) -> Span<'static> {
    match state {
        ConnectionState::Connected => Span::styled("connected", theme.health(Health::Healthy)),
        ConnectionState::Connecting => Span::styled(
            format!("{spinner} connecting"),
            theme.health(Health::Progressing),
        ),
        ConnectionState::Degraded(m) => Span::styled(format!("degraded: {m}"), theme.warning()),
        ConnectionState::Unreachable(m) => Span::styled(format!("unreachable: {m}"), theme.error()),
    }
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

    // Line 1: contexts and their connection state; READ-ONLY on the right.
    let mut names: Vec<&str> = info.contexts.iter().map(String::as_str).collect();
    for c in &snapshot.clusters {
        if !names.contains(&c.name.as_str()) {
            names.push(&c.name);
        }
    }
    let mut left = vec![
        Span::styled(" rekon ", theme.accent().add_modifier(Modifier::BOLD)),
        Span::styled(" ", theme.muted()),
    ];
    if names.is_empty() {
        left.push(Span::styled("no cluster context", theme.muted()));
    } else {
        left.push(Span::styled(
            if names.len() == 1 {
                "context "
            } else {
                "contexts "
            },
            theme.muted(),
        ));
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                left.push(Span::styled(", ", theme.muted()));
            }
            left.push(Span::styled(
                (*name).to_string(),
                theme.text().add_modifier(Modifier::BOLD),
            ));
            if let Some(c) = snapshot.clusters.iter().find(|c| c.name == *name) {
                left.push(Span::raw(" "));
                left.push(connection_span(&c.connection, theme, info.spinner));
            }
        }
    }
    let badge = if info.read_only {
        Some(Span::styled("[READ-ONLY]", theme.badge_read_only()))
    } else {
        None
    };
    render_split(frame, top, Line::from(left), badge);

    // Line 2: counts per health and per sync state; auto-sync count on the right.
    let apps = &snapshot.apps;
    let mut counts = vec![Span::styled(
        format!(
            " {} app{}",
            apps.len(),
            if apps.len() == 1 { "" } else { "s" }
        ),
        theme.text(),
    )];
    let mut first = true;
    for h in Health::ALL {
        let n = apps.iter().filter(|a| a.health == h).count();
        if n > 0 {
            counts.push(Span::styled(
                if first { "  │ " } else { "  " },
                theme.muted(),
            ));
            counts.push(Span::styled(
                format!("{} {n} {}", health_symbol(h), h.as_str()),
                theme.health(h),
            ));
            first = false;
        }
    }
    first = true;
    for s in SyncStatus::ALL {
        let n = apps.iter().filter(|a| a.sync == s).count();
        if n > 0 {
            counts.push(Span::styled(
                if first { "  │ " } else { "  " },
                theme.muted(),
            ));
            counts.push(Span::styled(
                format!("{} {n} {}", sync_symbol(s), s.as_str()),
                theme.sync(s),
            ));
            first = false;
        }
    }
    let auto = apps.iter().filter(|a| a.auto_sync).count();
    let auto_badge =
        (auto > 0).then(|| Span::styled(format!("⟳ {auto} auto-sync"), theme.badge_auto_sync()));
    render_split(frame, bottom, Line::from(counts), auto_badge);
}

/// Draws `left` and, right-aligned, `right` on one line, giving `right` its full width.
fn render_split(
    frame: &mut Frame<'_>,
    area: Rect,
    left: Line<'static>,
    right: Option<Span<'static>>,
) {
    let Some(right) = right else {
        frame.render_widget(Paragraph::new(left), area);
        return;
    };
    let rw = u16::try_from(width(&right.content) + 1)
        .unwrap_or(area.width)
        .min(area.width);
    let [l, r] = Layout::horizontal([Constraint::Min(0), Constraint::Length(rw)]).areas(area);
    frame.render_widget(Paragraph::new(left), l);
    frame.render_widget(
        Paragraph::new(Line::from(vec![right, Span::raw(" ")])).right_aligned(),
        r,
    );
}
