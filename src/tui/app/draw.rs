//! Drawing the app: one frame of header, views and popups, toasts, status line and hint bar.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::App;
use crate::config::Theme;
use crate::tui::views::{DrawCx, MessageKind, Prompt};
use crate::tui::widgets::{
    HeaderInfo, SPINNER, Toast, render_header, render_hint_bar, render_toasts, truncate, width,
};

impl App {
    /// Draws the whole screen: header, the view (and popups), toasts, prompt or status
    /// line, the first-run hint and the key hint bar.
    pub fn draw(&mut self, frame: &mut Frame<'_>) {
        let area = frame.area();
        let theme = self.options.theme.clone();
        frame.render_widget(Block::new().style(theme.base()), area);
        let hint_rows = u16::from(self.options.hint.is_some());
        let [header, body, hint, status, bar] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(0),
            Constraint::Length(hint_rows),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);

        let spinner = SPINNER[self.spinner % SPINNER.len()];
        let read_only = self.read_only();
        let only_context = self
            .layers
            .first()
            .and_then(|l| l.view.as_apps())
            .and_then(|a| a.cluster_filter())
            .map(str::to_string);
        let info = HeaderInfo {
            contexts: &self.options.contexts,
            read_only,
            spinner,
            only_context: only_context.as_deref(),
        };
        render_header(frame, header, &self.snapshot, &info, &theme);

        let cx = DrawCx {
            snapshot: &self.snapshot,
            theme: &theme,
            keymap: &self.options.keymap,
            now: self.now,
            spinner,
            read_only,
        };
        let base = self
            .layers
            .iter()
            .rposition(|l| !l.view.is_popup())
            .unwrap_or(0);
        for layer in self.layers.iter_mut().skip(base) {
            layer.view.draw(frame, body, &cx);
        }
        let toasts: Vec<Toast> = self.toasts.iter().map(|t| t.toast.clone()).collect();
        render_toasts(frame, body, &toasts, &theme);

        if let Some(text) = &self.options.hint {
            let line = Line::from(vec![
                Span::styled(" → ", theme.key()),
                Span::styled(text.clone(), theme.accent()),
            ]);
            frame.render_widget(Paragraph::new(line), hint);
        }
        self.draw_status(frame, status, &theme);
        render_hint_bar(
            frame,
            bar,
            &self
                .options
                .keymap
                .hints_for(self.context(), self.subject()),
            &theme,
        );
    }

    fn draw_status(&self, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
        let prompt = if self.command.is_active() {
            let editor = self.command.editor();
            Some(Prompt {
                prefix: ':',
                text: editor.text().to_string(),
                cursor: editor.cursor_column(),
            })
        } else {
            self.layers.last().and_then(|l| l.view.prompt())
        };
        if let Some(p) = prompt {
            let mut spans = vec![
                Span::styled(format!(" {}", p.prefix), theme.key()),
                Span::styled(p.text.clone(), theme.text()),
            ];
            if self.command.is_active() {
                let suggestions = self.command.suggestions(&self.vocabulary());
                // A lone suggestion already typed out adds nothing.
                let redundant = suggestions.len() == 1 && p.text.ends_with(&suggestions[0]);
                if !suggestions.is_empty() && !redundant {
                    let room = usize::from(area.width).saturating_sub(width(&p.text) + 6);
                    spans.push(Span::styled(
                        format!("   {}", truncate(&suggestions.join("  "), room)),
                        theme.muted(),
                    ));
                }
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), area);
            let x = area.x.saturating_add(2).saturating_add(p.cursor);
            if x < area.right() {
                frame.set_cursor_position(Position::new(x, area.y));
            }
            return;
        }
        if let Some(m) = &self.message {
            let style = match m.kind {
                MessageKind::Info => theme.accent(),
                MessageKind::Error => theme.error(),
            };
            frame.render_widget(
                Paragraph::new(Line::styled(format!(" {}", m.text), style)),
                area,
            );
        } else if let Some(text) = self.flux.progress(SPINNER[self.spinner % SPINNER.len()]) {
            frame.render_widget(
                Paragraph::new(Line::styled(format!(" {text}"), theme.accent())),
                area,
            );
        }
    }
}
