//! The bottom line of keys valid right now, generated from the keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::width;
use crate::config::Theme;
use crate::tui::keymap::Hint;

/// Draws as many hints as fit, in order; none is cut in half.
pub fn render_hint_bar(frame: &mut Frame<'_>, area: Rect, hints: &[Hint], theme: &Theme) {
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for hint in hints {
        let key = hint.key.to_string();
        let item = width(&key) + 1 + width(hint.label) + 2;
        if used + item > usize::from(area.width) + 2 {
            break;
        }
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::styled(format!(" {}  ", hint.label), theme.muted()));
        used += item;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
