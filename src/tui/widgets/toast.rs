//! Toasts: short notices drawn over the top-right corner of the view (drift alerts).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::{truncate, width};
use crate::config::Theme;

/// One notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    /// What happened, naming the app.
    pub text: String,
    /// Drawn in the warning colour.
    pub warning: bool,
}

/// Draws the newest toasts (at most three) stacked in the top-right corner of `area`.
pub fn render_toasts(frame: &mut Frame<'_>, area: Rect, toasts: &[Toast], theme: &Theme) {
    let max_w = usize::from(area.width.saturating_sub(4)).min(60);
    if max_w < 12 || area.height < 4 {
        return;
    }
    let mut y = area.y + 1;
    let shown = toasts.iter().rev().take(3);
    for toast in shown {
        let text = format!(" {}", truncate(&toast.text, max_w - 4));
        let w = u16::try_from(width(&text) + 3).unwrap_or(u16::MAX);
        let rect = Rect {
            x: area.right().saturating_sub(w + 1),
            y,
            width: w,
            height: 3,
        };
        if rect.bottom() > area.bottom() {
            break;
        }
        let style = if toast.warning {
            theme.warning()
        } else {
            theme.accent()
        };
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(Line::from(Span::styled(
                text,
                style.add_modifier(Modifier::BOLD),
            )))
            .wrap(Wrap { trim: true })
            .block(Block::bordered().border_style(style).style(theme.base())),
            rect,
        );
        y += 3;
    }
    let hidden = toasts.len().saturating_sub(3);
    if hidden > 0 && y < area.bottom() {
        let more = format!("+{hidden} more");
        let w = u16::try_from(width(&more)).unwrap_or(0);
        frame.render_widget(
            Line::styled(more, theme.muted()),
            Rect {
                x: area.right().saturating_sub(w + 2),
                y,
                width: w,
                height: 1,
            },
        );
    }
}
