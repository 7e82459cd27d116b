//! A one-line text field for the filter and the command line.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::text::Span;

/// Text being typed, with a cursor (in characters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    text: String,
    cursor: usize,
}

impl LineEditor {
    /// A field holding `text`, cursor at the end.
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Replaces the text, cursor at the end.
    pub fn set(&mut self, text: &str) {
        *self = Self::new(text);
    }

    /// Display columns before the cursor, to place the terminal cursor.
    pub fn cursor_column(&self) -> u16 {
        let before: String = self.text.chars().take(self.cursor).collect();
        u16::try_from(Span::raw(before).width()).unwrap_or(u16::MAX)
    }

    fn byte_at(&self, char_index: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_index)
            .map_or(self.text.len(), |(i, _)| i)
    }

    /// Applies an editing key; returns whether the text changed. Keys that are not
    /// editing keys are left alone (false).
    pub fn handle_key(&mut self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let len = self.text.chars().count();
        match key.code {
            KeyCode::Char('u') if ctrl => {
                let at = self.byte_at(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
                at > 0
            }
            KeyCode::Char('w') if ctrl => self.delete_word_before(),
            KeyCode::Char('a') if ctrl => {
                self.cursor = 0;
                false
            }
            KeyCode::Char('e') if ctrl => {
                self.cursor = len;
                false
            }
            KeyCode::Char(c)
                if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) && !c.is_control() =>
            {
                let at = self.byte_at(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
                true
            }
            KeyCode::Backspace if self.cursor > 0 => {
                let at = self.byte_at(self.cursor - 1);
                self.text.remove(at);
                self.cursor -= 1;
                true
            }
            KeyCode::Delete if self.cursor < len => {
                let at = self.byte_at(self.cursor);
                self.text.remove(at);
                true
            }
            KeyCode::Left => {
                self.cursor = self.cursor.saturating_sub(1);
                false
            }
            KeyCode::Right => {
                self.cursor = (self.cursor + 1).min(len);
                false
            }
            KeyCode::Home => {
                self.cursor = 0;
                false
            }
            KeyCode::End => {
                self.cursor = len;
                false
            }
            _ => false,
        }
    }

    fn delete_word_before(&mut self) -> bool {
        let chars: Vec<char> = self.text.chars().collect();
        let mut start = self.cursor;
        while start > 0 && chars[start - 1] == ' ' {
            start -= 1;
        }
        while start > 0 && chars[start - 1] != ' ' {
            start -= 1;
        }
        if start == self.cursor {
            return false;
        }
        let (from, to) = (self.byte_at(start), self.byte_at(self.cursor));
        self.text.replace_range(from..to, "");
        self.cursor = start;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_in_the_middle_and_deletes_words() {
        let mut e = LineEditor::new("thme");
        e.handle_key(&key(KeyCode::Left));
        e.handle_key(&key(KeyCode::Left));
        e.handle_key(&key(KeyCode::Char('e')));
        assert_eq!(e.text(), "theme");
        e.handle_key(&key(KeyCode::End));
        for c in " li".chars() {
            e.handle_key(&key(KeyCode::Char(c)));
        }
        e.handle_key(&KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL));
        assert_eq!(e.text(), "theme ");
        e.handle_key(&key(KeyCode::Backspace));
        assert_eq!(e.text(), "theme");
        assert_eq!(e.cursor_column(), 5);
    }

    #[test]
    fn handles_multibyte_text() {
        let mut e = LineEditor::new("né");
        e.handle_key(&key(KeyCode::Backspace));
        assert_eq!(e.text(), "n");
        e.handle_key(&key(KeyCode::Home));
        e.handle_key(&key(KeyCode::Delete));
        assert_eq!(e.text(), "");
        assert!(!e.handle_key(&key(KeyCode::Backspace)));
    }
}
