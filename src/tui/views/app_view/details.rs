//! The details pane beside the tree: the selected object's summary, the app's conditions,
//! and the object's recent events.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::config::Theme;
use crate::model::short_sha;
use crate::model::{AppDetail, AppSnapshot, TimelineKind, TreeNode};
use crate::tui::views::text::{age, one_line};
use crate::tui::widgets::{health_symbol, sync_symbol};
use jiff::Timestamp;

/// Events shown per object.
const RECENT_EVENTS: usize = 5;

fn field(name: &str, value: impl Into<String>, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{name:<10} "), theme.muted()),
        Span::styled(value.into(), theme.text()),
    ])
}

fn heading(text: &str, theme: &Theme) -> Line<'static> {
    Line::styled(text.to_string(), theme.header())
}

/// The lines of the details pane for `node` (the root stands for the app itself).
pub fn lines(
    app: &AppSnapshot,
    detail: &AppDetail,
    node: &TreeNode,
    is_root: bool,
    now: Option<Timestamp>,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let key = &node.key;
    let mut out = vec![Line::from(vec![
        Span::styled(format!("{} ", key.kind), theme.muted()),
        Span::styled(key.name.clone(), theme.text().add_modifier(Modifier::BOLD)),
    ])];
    if !key.namespace.is_empty() {
        out.push(field("Namespace", key.namespace.clone(), theme));
    }
    let api = if key.group.is_empty() {
        node.version.clone()
    } else {
        format!("{}/{}", key.group, node.version)
    };
    if !api.is_empty() {
        out.push(field("API", api, theme));
    }
    if let Some(h) = &node.health {
        let mut spans = vec![
            Span::styled(format!("{:<10} ", "Health"), theme.muted()),
            Span::styled(
                format!("{} {}", health_symbol(h.status), h.status.as_str()),
                theme.health(h.status),
            ),
        ];
        if !h.message.is_empty() {
            spans.push(Span::styled(
                format!("  {}", one_line(&h.message)),
                theme.text(),
            ));
        }
        out.push(Line::from(spans));
    }
    if let Some(s) = node.sync {
        out.push(Line::from(vec![
            Span::styled(format!("{:<10} ", "Sync"), theme.muted()),
            Span::styled(format!("{} {}", sync_symbol(s), s.as_str()), theme.sync(s)),
        ]));
    }
    if is_root {
        out.push(field("Cluster", app.cluster.clone(), theme));
        out.push(field("Source", app.source_label(), theme));
        if let Some(rev) = &app.revision {
            out.push(field("Revision", short_sha(rev), theme));
        }
        if let Some(git) = app.origin.describe(now) {
            let style = if app.origin.fetch_error.is_some() {
                theme.warning()
            } else {
                theme.text()
            };
            out.push(Line::from(vec![
                Span::styled(format!("{:<10} ", "Git"), theme.muted()),
                Span::styled(one_line(&git), style),
            ]));
        }
        if !detail.compare_method.is_empty() {
            out.push(field("Compared", detail.compare_method.clone(), theme));
        }
        out.push(field(
            "Last sync",
            age(now, app.last_sync.as_deref()),
            theme,
        ));
        if !app.message.is_empty() {
            out.push(field("Message", one_line(&app.message), theme));
        }
    } else if node.uid.is_none() {
        out.push(Line::styled("Not in the cluster.", theme.warning()));
    }
    for (k, v) in &node.info {
        out.push(field(k, v.clone(), theme));
    }

    if !detail.conditions.is_empty() {
        out.push(Line::raw(""));
        out.push(heading("Conditions", theme));
        for c in &detail.conditions {
            out.push(Line::from(vec![
                Span::styled(format!("{}: ", c.kind), theme.error()),
                Span::styled(one_line(&c.message), theme.text()),
            ]));
        }
    }

    out.push(Line::raw(""));
    out.push(heading(
        if is_root {
            "Recent events"
        } else {
            "Recent events of this object"
        },
        theme,
    ));
    let events: Vec<_> = detail
        .timeline
        .iter()
        .rev()
        .filter(|e| {
            if is_root {
                true
            } else {
                e.kind == TimelineKind::Event && e.object.as_ref() == Some(key)
            }
        })
        .take(RECENT_EVENTS)
        .collect();
    if events.is_empty() {
        out.push(Line::styled("none recorded", theme.muted()));
    }
    for e in events {
        let style = if e.warning {
            theme.warning()
        } else {
            theme.text()
        };
        out.push(Line::from(vec![
            Span::styled(format!("{:<9} ", age(now, Some(&e.time))), theme.muted()),
            Span::styled(format!("{} ", e.reason), style.add_modifier(Modifier::BOLD)),
            Span::styled(one_line(&e.message), style),
        ]));
    }
    out
}
