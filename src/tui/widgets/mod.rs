//! Small drawing pieces shared by the views: health and sync badges, the header, the
//! hint bar, text cutting.

mod header;
mod hint_bar;
mod toast;

pub use header::{HeaderInfo, render_header};
pub use hint_bar::render_hint_bar;
pub use toast::{Toast, render_toasts};

use ratatui::text::Span;

use crate::model::{Health, SyncStatus};

/// Spinner frames, advanced by the tick while something is in progress.
pub const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// The symbol shown before a health word.
pub fn health_symbol(h: Health) -> char {
    match h {
        Health::Healthy => '♥',
        Health::Progressing => '◌',
        Health::Degraded => '✗',
        Health::Suspended => '‖',
        Health::Missing => '∅',
        Health::Unknown => '?',
    }
}

/// The symbol shown before a sync word.
pub fn sync_symbol(s: SyncStatus) -> char {
    match s {
        SyncStatus::Synced => '✓',
        SyncStatus::OutOfSync => '●',
        SyncStatus::Unknown => '?',
    }
}

/// Display width of a string in terminal cells.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// Cuts `s` to at most `max` cells, ending with `…` when something was cut.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = width(c.encode_utf8(&mut [0; 4]));
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("guestbook", 20), "guestbook");
        assert_eq!(truncate("guestbook", 6), "guest…");
        assert_eq!(truncate("guestbook", 1), "…");
        assert_eq!(truncate("guestbook", 0), "");
    }
}
