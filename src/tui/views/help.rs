//! The `?` popup: every key binding by group, then the `:` commands, all generated from the
//! keymap and the command table so help never drifts from what the keys do.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState};

use super::{DrawCx, Outcome, View, ViewCx};
use crate::tui::action::{Action, Context};
use crate::tui::commands::COMMANDS;
use crate::tui::keymap::{GROUPS, Keymap};
use crate::tui::widgets::width;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Group(String),
    Item { keys: String, description: String },
    Blank,
}

/// The help popup's content and scroll position.
#[derive(Debug, Clone)]
pub struct HelpView {
    entries: Vec<Entry>,
    scroll: usize,
    /// Lines visible at the last draw.
    page: usize,
}

impl HelpView {
    /// Builds the help from the keymap (bindings without keys are left out: they are
    /// reached through the command line, listed below them).
    pub fn new(keymap: &Keymap) -> Self {
        let mut entries = Vec::new();
        for group in GROUPS {
            let mut items: Vec<Entry> = keymap
                .bindings()
                .iter()
                .filter(|b| b.text.group == group && !b.keys.is_empty())
                .map(|b| Entry::Item {
                    keys: b
                        .keys
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                    description: b.text.description.to_string(),
                })
                .collect();
            // The same binding in several views (the Flux keys) is listed once.
            let mut seen = Vec::new();
            items.retain(|e| {
                let fresh = !seen.contains(e);
                if fresh {
                    seen.push(e.clone());
                }
                fresh
            });
            if items.is_empty() {
                continue;
            }
            entries.push(Entry::Group(group.to_string()));
            entries.extend(items);
            entries.push(Entry::Blank);
        }
        entries.push(Entry::Group("Commands".into()));
        for c in COMMANDS {
            let mut keys = format!(":{}", c.name);
            if let Some(arg) = c.arg {
                keys.push(' ');
                keys.push_str(arg);
            }
            let aliases: Vec<String> = c.aliases.iter().map(|a| format!(":{a}")).collect();
            let description = if aliases.is_empty() {
                c.description.to_string()
            } else {
                format!("{} (also {})", c.description, aliases.join(" "))
            };
            entries.push(Entry::Item { keys, description });
        }
        Self {
            entries,
            scroll: 0,
            page: 0,
        }
    }

    /// Every line of the help as plain text (for tests and the README).
    pub fn lines(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| match e {
                Entry::Group(g) => g.clone(),
                Entry::Item { keys, description } => format!("  {keys}  {description}"),
                Entry::Blank => String::new(),
            })
            .collect()
    }

    fn max_scroll(&self) -> usize {
        self.entries.len().saturating_sub(self.page.max(1))
    }

    fn scroll_by(&mut self, delta: isize) {
        self.scroll = self
            .scroll
            .saturating_add_signed(delta)
            .min(self.max_scroll());
    }
}

impl View for HelpView {
    fn context(&self) -> Context {
        Context::Help
    }

    fn title(&self) -> String {
        "Help".into()
    }

    fn is_popup(&self) -> bool {
        true
    }

    fn handle_action(&mut self, action: &Action, _cx: &mut ViewCx<'_>) -> Outcome {
        let page = isize::try_from(self.page.max(1)).unwrap_or(1);
        match action {
            Action::Back | Action::Help => return Outcome::Close,
            Action::Up => self.scroll_by(-1),
            Action::Down => self.scroll_by(1),
            Action::PageUp => self.scroll_by(-page),
            Action::PageDown => self.scroll_by(page),
            Action::Top => self.scroll = 0,
            Action::Bottom => self.scroll = self.max_scroll(),
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn draw(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        let theme = cx.theme;
        let key_width = self
            .entries
            .iter()
            .filter_map(|e| match e {
                Entry::Item { keys, .. } => Some(width(keys)),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let content_width = self
            .entries
            .iter()
            .map(|e| match e {
                Entry::Item { description, .. } => key_width + 4 + width(description),
                Entry::Group(g) => width(g) + 1,
                Entry::Blank => 0,
            })
            .max()
            .unwrap_or(0);
        // Leave a margin so the popup reads as a layer over the view, when there is room.
        let max_w = if area.width > 60 {
            area.width - 4
        } else {
            area.width
        };
        let max_h = if area.height > 12 {
            area.height - 2
        } else {
            area.height
        };
        let w = u16::try_from(content_width + 4)
            .unwrap_or(u16::MAX)
            .min(max_w);
        let h = u16::try_from(self.entries.len() + 2)
            .unwrap_or(u16::MAX)
            .min(max_h);
        let [row] = Layout::vertical([Constraint::Length(h)])
            .flex(Flex::Center)
            .areas(area);
        let [popup] = Layout::horizontal([Constraint::Length(w)])
            .flex(Flex::Center)
            .areas(row);

        let block = Block::bordered()
            .border_style(theme.border())
            .style(theme.base())
            .title(Line::from(Span::styled(
                " Help ",
                theme.accent().add_modifier(Modifier::BOLD),
            )));
        let inner = block.inner(popup);
        self.page = usize::from(inner.height);
        self.scroll = self.scroll.min(self.max_scroll());
        let lines: Vec<Line<'static>> = self
            .entries
            .iter()
            .skip(self.scroll)
            .take(self.page)
            .map(|e| match e {
                Entry::Group(g) => Line::styled(format!(" {g}"), theme.header()),
                Entry::Item { keys, description } => Line::from(vec![
                    Span::raw("  "),
                    Span::styled(format!("{keys:<key_width$}"), theme.key()),
                    Span::raw("  "),
                    Span::styled(description.clone(), theme.text()),
                ]),
                Entry::Blank => Line::raw(""),
            })
            .collect();
        frame.render_widget(Clear, popup);
        frame.render_widget(block, popup);
        frame.render_widget(Paragraph::new(lines), inner);
        if self.entries.len() > self.page {
            let mut state = ScrollbarState::new(self.max_scroll() + 1).position(self.scroll);
            frame.render_stateful_widget(
                Scrollbar::new(ScrollbarOrientation::VerticalRight).style(theme.border()),
                popup.inner(ratatui::layout::Margin {
                    horizontal: 0,
                    vertical: 1,
                }),
                &mut state,
            );
        }
    }
}
