//! Key chords as users write them in the config (`q`, `S`, `ctrl-c`, `pgdn`) and as
//! crossterm reports them, normalised so the two compare equal.

use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use thiserror::Error;

/// One key with its modifiers, e.g. `ctrl-c` or `G`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    /// The key. Letters keep their case: `G` is shift-g.
    pub code: KeyCode,
    /// Ctrl and Alt; Shift is folded into the character for printable keys.
    pub modifiers: KeyModifiers,
}

/// A key name in the config that rekon does not know.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unknown key `{0}`: use a character (q, G, ?), a named key (enter, esc, tab, backtab, space, \
     backspace, delete, insert, up, down, left, right, home, end, pgup, pgdn, f1-f12), \
     optionally with ctrl-, alt- or shift-"
)]
pub struct KeyParseError(pub String);

impl KeyChord {
    /// A key without modifiers.
    pub const fn plain(code: KeyCode) -> Self {
        Self {
            code,
            modifiers: KeyModifiers::NONE,
        }
    }

    /// A printable character without modifiers.
    pub const fn char(c: char) -> Self {
        Self::plain(KeyCode::Char(c))
    }

    /// A character with Ctrl held.
    pub const fn ctrl(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::CONTROL,
        }
    }

    /// The chord a terminal key event stands for. Terminals disagree on whether `G`
    /// arrives with SHIFT set; the character already says it, so SHIFT is dropped there.
    pub fn from_event(event: &KeyEvent) -> Self {
        Self::normalised(event.code, event.modifiers)
    }

    fn normalised(code: KeyCode, modifiers: KeyModifiers) -> Self {
        let mut modifiers =
            modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            KeyCode::Char(c) => {
                if modifiers.contains(KeyModifiers::SHIFT) {
                    modifiers.remove(KeyModifiers::SHIFT);
                    KeyCode::Char(c.to_uppercase().next().unwrap_or(c))
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        // Ctrl+letter is case-insensitive for the user; store it lower-case.
        let code = match code {
            KeyCode::Char(c) if modifiers.contains(KeyModifiers::CONTROL) => {
                KeyCode::Char(c.to_ascii_lowercase())
            }
            other => other,
        };
        Self { code, modifiers }
    }

    /// Whether typing this key in a text field inserts a character (so it must not act
    /// as a command there).
    pub fn is_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_))
            && !self
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    }
}

impl FromStr for KeyChord {
    type Err = KeyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || KeyParseError(s.to_string());
        if s.is_empty() {
            return Err(err());
        }
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = s;
        // A lone `-` or a chord ending in `-` (`ctrl--`) names the minus key itself.
        loop {
            let lower = rest.to_ascii_lowercase();
            let (prefix_len, m) = if lower.starts_with("ctrl-") {
                (5, KeyModifiers::CONTROL)
            } else if lower.starts_with("alt-") {
                (4, KeyModifiers::ALT)
            } else if lower.starts_with("shift-") {
                (6, KeyModifiers::SHIFT)
            } else {
                break;
            };
            if rest.len() == prefix_len {
                return Err(err());
            }
            modifiers |= m;
            rest = &rest[prefix_len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => named_key(&rest.to_ascii_lowercase()).ok_or_else(err)?,
        };
        Ok(Self::normalised(code, modifiers))
    }
}

fn named_key(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pgup" | "pageup" => KeyCode::PageUp,
        "pgdn" | "pgdown" | "pagedown" => KeyCode::PageDown,
        f if f.starts_with('f') => {
            let n: u8 = f[1..].parse().ok()?;
            if (1..=12).contains(&n) {
                KeyCode::F(n)
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for KeyChord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Parsing inside the visitor lets the YAML reader attach the key's own line.
        struct ChordVisitor;
        impl Visitor<'_> for ChordVisitor {
            type Value = KeyChord;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key such as `q`, `G`, `ctrl-c` or `pgdn`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyChord, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(ChordVisitor)
    }
}

impl Serialize for KeyChord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads `q` or `[q, ctrl-c]` into a list of chords.
pub(crate) fn deserialize_key_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<KeyChord>, D::Error> {
    struct ListVisitor;
    impl<'de> Visitor<'de> for ListVisitor {
        type Value = Vec<KeyChord>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a key (e.g. `q`) or a list of keys (e.g. `[q, ctrl-c]`)")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<KeyChord>, E> {
            v.parse().map(|k| vec![k]).map_err(E::custom)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<KeyChord>, A::Error> {
            let mut keys = Vec::new();
            while let Some(k) = seq.next_element::<KeyChord>()? {
                keys.push(k);
            }
            if keys.is_empty() {
                return Err(de::Error::custom(
                    "an empty key list would make the action unreachable",
                ));
            }
            Ok(keys)
        }
    }
    deserializer.deserialize_any(ListVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> KeyChord {
        s.parse().unwrap()
    }

    #[test]
    fn parses_characters_named_keys_and_modifiers() {
        assert_eq!(parse("q"), KeyChord::char('q'));
        assert_eq!(parse("S"), KeyChord::char('S'));
        assert_eq!(parse("shift-s"), KeyChord::char('S'));
        assert_eq!(parse("ctrl-c"), KeyChord::ctrl('c'));
        assert_eq!(parse("Ctrl-C"), KeyChord::ctrl('c'));
        assert_eq!(parse("pgdn"), KeyChord::plain(KeyCode::PageDown));
        assert_eq!(parse("space"), KeyChord::char(' '));
        assert_eq!(parse("-"), KeyChord::char('-'));
        assert_eq!(parse("ctrl--"), KeyChord::ctrl('-'));
        assert_eq!(parse("f5"), KeyChord::plain(KeyCode::F(5)));
        assert_eq!(parse("shift-tab"), KeyChord::plain(KeyCode::BackTab));
    }

    #[test]
    fn refuses_unknown_names() {
        for bad in ["", "ctrl-", "enterr", "f13", "hyper-x", "qq"] {
            let err = bad.parse::<KeyChord>().unwrap_err();
            assert!(err.to_string().contains(&format!("`{bad}`")), "{err}");
        }
    }

    #[test]
    fn events_normalise_shift_into_the_character() {
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(KeyChord::from_event(&ev), KeyChord::char('G'));
        let ev = KeyEvent::new(KeyCode::Char('g'), KeyModifiers::SHIFT);
        assert_eq!(KeyChord::from_event(&ev), KeyChord::char('G'));
        let ev = KeyEvent::new(
            KeyCode::Char('C'),
            KeyModifiers::CONTROL | KeyModifiers::SHIFT,
        );
        assert_eq!(KeyChord::from_event(&ev), KeyChord::ctrl('c'));
    }

    #[test]
    fn display_round_trips() {
        for s in ["q", "G", "ctrl-c", "enter", "pgup", "space", "f2", "alt-x"] {
            assert_eq!(parse(&parse(s).to_string()), parse(s));
        }
    }

    #[test]
    fn text_keys_are_plain_characters() {
        assert!(parse("j").is_text());
        assert!(parse("?").is_text());
        assert!(!parse("ctrl-c").is_text());
        assert!(!parse("enter").is_text());
    }
}
