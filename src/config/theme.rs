//! Colour themes: the built-in ones embedded from `themes/*.yaml`, the user's from the
//! config folder's `themes/`, and the styles views ask for by semantic role.
//! The file format is documented at the top of `themes/dark.yaml`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use thiserror::Error;

use crate::model::{Health, SyncStatus};
use crate::yaml::{self, YamlError};

/// The theme used when neither the flag nor the config names one.
pub const DEFAULT_THEME: &str = "dark";

const BUILTIN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.yaml")),
    ("light", include_str!("../../themes/light.yaml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.yaml"),
    ),
];

/// Why a theme could not be used.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ThemeError {
    /// No theme by that name.
    #[error("unknown theme `{name}`; available themes: {}", available.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// Every theme that exists.
        available: Vec<String>,
    },
    /// A theme file is not valid YAML or has an unknown role or colour.
    #[error("theme {0}")]
    Parse(YamlError),
    /// `base:` names a theme that is not built in.
    #[error("theme {origin}: base `{base}` is not a built-in theme; use one of: {}", available.join(", "))]
    UnknownBase {
        /// The theme file at fault.
        origin: String,
        /// The base it names.
        base: String,
        /// The built-in themes.
        available: Vec<String>,
    },
    /// The user's themes folder or a file in it could not be read.
    #[error("cannot read theme {path}: {message}")]
    Io {
        /// The file or folder at fault.
        path: String,
        /// The OS error.
        message: String,
    },
}

/// A colour as written in a theme file: a name, `#rrggbb`, a 0-255 palette index, or
/// `default` for the terminal's own colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThemeColor(pub Color);

impl FromStr for ThemeColor {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("default") || t.eq_ignore_ascii_case("none") {
            return Ok(Self(Color::Reset));
        }
        Color::from_str(t).map(Self).map_err(|_| {
            format!(
                "unknown colour `{s}`: use a name (red, lightblue, darkgray, default …), \
                 #rrggbb or a palette index 0-255"
            )
        })
    }
}

impl<'de> Deserialize<'de> for ThemeColor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ColorVisitor;
        impl Visitor<'_> for ColorVisitor {
            type Value = ThemeColor;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a colour name, #rrggbb or a palette index 0-255")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ThemeColor, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ThemeColor, E> {
                u8::try_from(v)
                    .map(|i| ThemeColor(Color::Indexed(i)))
                    .map_err(|_| E::custom(format!("palette index {v} is not in 0-255")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ThemeColor, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("palette index {v} is not in 0-255")))
                    .and_then(|u| self.visit_u64(u))
            }
        }
        deserializer.deserialize_any(ColorVisitor)
    }
}

/// Colours per health word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthColors {
    /// Healthy.
    pub healthy: Color,
    /// Progressing.
    pub progressing: Color,
    /// Degraded.
    pub degraded: Color,
    /// Suspended.
    pub suspended: Color,
    /// Missing.
    pub missing: Color,
    /// Unknown.
    pub unknown: Color,
}

/// Colours per sync word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncColors {
    /// Synced.
    pub synced: Color,
    /// OutOfSync.
    pub out_of_sync: Color,
    /// Unknown.
    pub unknown: Color,
}

/// Colours of diffs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffColors {
    /// Lines only in the desired state.
    pub added: Color,
    /// Lines only in the live state.
    pub removed: Color,
    /// Background of the words that changed inside a changed line.
    pub changed_word: Color,
}

/// Colours of badges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadgeColors {
    /// The READ-ONLY badge.
    pub read_only: Color,
    /// The auto-sync badge.
    pub auto_sync: Color,
}

/// Every role's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Palette {
    /// Screen background.
    pub background: Color,
    /// Ordinary text.
    pub foreground: Color,
    /// Secondary text: hints, ages, column headers of lesser weight.
    pub muted: Color,
    /// Titles, keys in the hint bar, the app name.
    pub accent: Color,
    /// Borders of panels and popups.
    pub border: Color,
    /// Background of the selected row.
    pub selection: Color,
    /// Table column headers.
    pub header: Color,
    /// Health words.
    pub health: HealthColors,
    /// Sync words.
    pub sync: SyncColors,
    /// Diffs.
    pub diff: DiffColors,
    /// Badges.
    pub badge: BadgeColors,
    /// Error messages.
    pub error: Color,
    /// Warnings.
    pub warning: Color,
}

impl Palette {
    /// Every role in the terminal's default colour.
    pub const fn plain() -> Self {
        let c = Color::Reset;
        Self {
            background: c,
            foreground: c,
            muted: c,
            accent: c,
            border: c,
            selection: c,
            header: c,
            health: HealthColors {
                healthy: c,
                progressing: c,
                degraded: c,
                suspended: c,
                missing: c,
                unknown: c,
            },
            sync: SyncColors {
                synced: c,
                out_of_sync: c,
                unknown: c,
            },
            diff: DiffColors {
                added: c,
                removed: c,
                changed_word: c,
            },
            badge: BadgeColors {
                read_only: c,
                auto_sync: c,
            },
            error: c,
            warning: c,
        }
    }
}

/// A theme file as written: every role optional, so a user theme may set only a few.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ThemeFile {
    base: Option<String>,
    background: Option<ThemeColor>,
    foreground: Option<ThemeColor>,
    muted: Option<ThemeColor>,
    accent: Option<ThemeColor>,
    border: Option<ThemeColor>,
    selection: Option<ThemeColor>,
    header: Option<ThemeColor>,
    error: Option<ThemeColor>,
    warning: Option<ThemeColor>,
    #[serde(default)]
    health: HealthFile,
    #[serde(default)]
    sync: SyncFile,
    #[serde(default)]
    diff: DiffFile,
    #[serde(default)]
    badge: BadgeFile,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct HealthFile {
    healthy: Option<ThemeColor>,
    progressing: Option<ThemeColor>,
    degraded: Option<ThemeColor>,
    suspended: Option<ThemeColor>,
    missing: Option<ThemeColor>,
    unknown: Option<ThemeColor>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SyncFile {
    synced: Option<ThemeColor>,
    out_of_sync: Option<ThemeColor>,
    unknown: Option<ThemeColor>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DiffFile {
    added: Option<ThemeColor>,
    removed: Option<ThemeColor>,
    changed_word: Option<ThemeColor>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BadgeFile {
    read_only: Option<ThemeColor>,
    auto_sync: Option<ThemeColor>,
}

impl ThemeFile {
    fn parse(text: &str, origin: &str) -> Result<Self, ThemeError> {
        // An empty or comment-only file is a theme that changes nothing.
        let docs = yaml::parse_documents(text, origin).map_err(ThemeError::Parse)?;
        if docs.is_empty() {
            return Ok(Self::default());
        }
        yaml::from_str(text, origin).map_err(ThemeError::Parse)
    }

    /// Overlays the roles this file sets onto `p`.
    fn apply(&self, p: &mut Palette) {
        fn set(slot: &mut Color, value: Option<ThemeColor>) {
            if let Some(ThemeColor(c)) = value {
                *slot = c;
            }
        }
        set(&mut p.background, self.background);
        set(&mut p.foreground, self.foreground);
        set(&mut p.muted, self.muted);
        set(&mut p.accent, self.accent);
        set(&mut p.border, self.border);
        set(&mut p.selection, self.selection);
        set(&mut p.header, self.header);
        set(&mut p.error, self.error);
        set(&mut p.warning, self.warning);
        let h = &self.health;
        set(&mut p.health.healthy, h.healthy);
        set(&mut p.health.progressing, h.progressing);
        set(&mut p.health.degraded, h.degraded);
        set(&mut p.health.suspended, h.suspended);
        set(&mut p.health.missing, h.missing);
        set(&mut p.health.unknown, h.unknown);
        set(&mut p.sync.synced, self.sync.synced);
        set(&mut p.sync.out_of_sync, self.sync.out_of_sync);
        set(&mut p.sync.unknown, self.sync.unknown);
        set(&mut p.diff.added, self.diff.added);
        set(&mut p.diff.removed, self.diff.removed);
        set(&mut p.diff.changed_word, self.diff.changed_word);
        set(&mut p.badge.read_only, self.badge.read_only);
        set(&mut p.badge.auto_sync, self.badge.auto_sync);
    }

    /// Roles this file leaves unset (the built-in themes must set all of them).
    #[cfg(test)]
    fn missing_roles(&self) -> Vec<&'static str> {
        let roles: [(&str, bool); 23] = [
            ("background", self.background.is_some()),
            ("foreground", self.foreground.is_some()),
            ("muted", self.muted.is_some()),
            ("accent", self.accent.is_some()),
            ("border", self.border.is_some()),
            ("selection", self.selection.is_some()),
            ("header", self.header.is_some()),
            ("error", self.error.is_some()),
            ("warning", self.warning.is_some()),
            ("health.healthy", self.health.healthy.is_some()),
            ("health.progressing", self.health.progressing.is_some()),
            ("health.degraded", self.health.degraded.is_some()),
            ("health.suspended", self.health.suspended.is_some()),
            ("health.missing", self.health.missing.is_some()),
            ("health.unknown", self.health.unknown.is_some()),
            ("sync.synced", self.sync.synced.is_some()),
            ("sync.outOfSync", self.sync.out_of_sync.is_some()),
            ("sync.unknown", self.sync.unknown.is_some()),
            ("diff.added", self.diff.added.is_some()),
            ("diff.removed", self.diff.removed.is_some()),
            ("diff.changedWord", self.diff.changed_word.is_some()),
            ("badge.readOnly", self.badge.read_only.is_some()),
            ("badge.autoSync", self.badge.auto_sync.is_some()),
        ];
        roles
            .into_iter()
            .filter(|(_, set)| !set)
            .map(|(name, _)| name)
            .collect()
    }
}

/// A resolved theme: a palette plus whether colour is off (`NO_COLOR`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    /// The name it was picked by.
    pub name: String,
    /// Colours per role.
    pub palette: Palette,
    /// When set, every style drops its colours and keeps only bold/reverse/underline.
    pub no_color: bool,
}

impl Default for Theme {
    fn default() -> Self {
        ThemeCatalog::builtin()
            .theme(DEFAULT_THEME)
            .unwrap_or_else(|_| Theme::plain(DEFAULT_THEME))
    }
}

impl Theme {
    /// A theme with every role in the terminal's default colours.
    pub fn plain(name: &str) -> Self {
        Self {
            name: name.to_string(),
            palette: Palette::plain(),
            no_color: false,
        }
    }

    /// The same theme with colour turned off (for `NO_COLOR`).
    pub fn without_color(mut self) -> Self {
        self.no_color = true;
        self
    }

    fn fg(&self, c: Color) -> Style {
        if self.no_color {
            Style::new()
        } else {
            Style::new().fg(c)
        }
    }

    /// The whole screen: foreground on background.
    pub fn base(&self) -> Style {
        if self.no_color {
            Style::new()
        } else {
            Style::new()
                .fg(self.palette.foreground)
                .bg(self.palette.background)
        }
    }

    /// Ordinary text.
    pub fn text(&self) -> Style {
        self.fg(self.palette.foreground)
    }

    /// Secondary text.
    pub fn muted(&self) -> Style {
        self.fg(self.palette.muted)
    }

    /// Titles and highlighted words.
    pub fn accent(&self) -> Style {
        self.fg(self.palette.accent)
    }

    /// Keys shown in hints and help.
    pub fn key(&self) -> Style {
        self.fg(self.palette.accent).add_modifier(Modifier::BOLD)
    }

    /// Panel and popup borders.
    pub fn border(&self) -> Style {
        self.fg(self.palette.border)
    }

    /// Table column headers.
    pub fn header(&self) -> Style {
        self.fg(self.palette.header).add_modifier(Modifier::BOLD)
    }

    /// The selected row; reverse video without colour, so it stays visible.
    pub fn selected(&self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::new()
                .bg(self.palette.selection)
                .add_modifier(Modifier::BOLD)
        }
    }

    /// A health word.
    pub fn health(&self, h: Health) -> Style {
        let c = &self.palette.health;
        self.fg(match h {
            Health::Healthy => c.healthy,
            Health::Progressing => c.progressing,
            Health::Degraded => c.degraded,
            Health::Suspended => c.suspended,
            Health::Missing => c.missing,
            Health::Unknown => c.unknown,
        })
    }

    /// A sync word.
    pub fn sync(&self, s: SyncStatus) -> Style {
        let c = &self.palette.sync;
        self.fg(match s {
            SyncStatus::Synced => c.synced,
            SyncStatus::OutOfSync => c.out_of_sync,
            SyncStatus::Unknown => c.unknown,
        })
    }

    /// Lines added in a diff.
    pub fn diff_added(&self) -> Style {
        self.fg(self.palette.diff.added)
    }

    /// Lines removed in a diff.
    pub fn diff_removed(&self) -> Style {
        self.fg(self.palette.diff.removed)
    }

    /// Words changed inside a changed line.
    pub fn diff_changed_word(&self) -> Style {
        if self.no_color {
            Style::new().add_modifier(Modifier::UNDERLINED)
        } else {
            Style::new().bg(self.palette.diff.changed_word)
        }
    }

    /// The READ-ONLY badge.
    pub fn badge_read_only(&self) -> Style {
        self.fg(self.palette.badge.read_only)
            .add_modifier(Modifier::BOLD)
    }

    /// The auto-sync badge.
    pub fn badge_auto_sync(&self) -> Style {
        self.fg(self.palette.badge.auto_sync)
    }

    /// Error messages.
    pub fn error(&self) -> Style {
        self.fg(self.palette.error).add_modifier(Modifier::BOLD)
    }

    /// Warnings.
    pub fn warning(&self) -> Style {
        self.fg(self.palette.warning)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ThemeSource {
    Builtin(&'static str),
    User { path: PathBuf, text: String },
}

/// Every theme that can be picked by name: the built-in ones, then the user's (a user
/// theme with a built-in's name replaces it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThemeCatalog {
    entries: BTreeMap<String, ThemeSource>,
}

impl Default for ThemeCatalog {
    fn default() -> Self {
        Self::builtin()
    }
}

impl ThemeCatalog {
    /// Only the themes embedded in the binary.
    pub fn builtin() -> Self {
        let entries = BUILTIN
            .iter()
            .map(|(name, text)| (name.to_string(), ThemeSource::Builtin(text)))
            .collect();
        Self { entries }
    }

    /// The built-in themes plus every `*.yaml`/`*.yml` file in `user_dir` (a missing
    /// folder is fine). Files are read now, so switching themes later does no I/O.
    pub fn load(user_dir: Option<&Path>) -> Result<Self, ThemeError> {
        let mut catalog = Self::builtin();
        let Some(dir) = user_dir else {
            return Ok(catalog);
        };
        let io = |p: &Path, e: std::io::Error| ThemeError::Io {
            path: p.display().to_string(),
            message: e.to_string(),
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(catalog),
            Err(e) => return Err(io(dir, e)),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| io(dir, e))?.path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "yaml" | "yml") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        for path in files {
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
            catalog.entries.insert(
                name.to_string(),
                ThemeSource::User {
                    path: path.clone(),
                    text,
                },
            );
        }
        Ok(catalog)
    }

    /// Theme names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// Resolves a theme by name. A user theme starts from its `base:` (a built-in theme),
    /// else from the built-in of the same name, else from `dark`.
    pub fn theme(&self, name: &str) -> Result<Theme, ThemeError> {
        let source = self.entries.get(name).ok_or_else(|| ThemeError::Unknown {
            name: name.to_string(),
            available: self.names(),
        })?;
        let mut palette = Palette::plain();
        match source {
            ThemeSource::Builtin(text) => {
                ThemeFile::parse(text, &format!("{name} (built-in)"))?.apply(&mut palette);
            }
            ThemeSource::User { path, text } => {
                let origin = path.display().to_string();
                let file = ThemeFile::parse(text, &origin)?;
                let base = match &file.base {
                    Some(b) => b.as_str(),
                    None if builtin_text(name).is_some() => name,
                    None => DEFAULT_THEME,
                };
                let base_text = builtin_text(base).ok_or_else(|| ThemeError::UnknownBase {
                    origin: origin.clone(),
                    base: base.to_string(),
                    available: BUILTIN.iter().map(|(n, _)| n.to_string()).collect(),
                })?;
                ThemeFile::parse(base_text, &format!("{base} (built-in)"))?.apply(&mut palette);
                file.apply(&mut palette);
            }
        }
        Ok(Theme {
            name: name.to_string(),
            palette,
            no_color: false,
        })
    }
}

fn builtin_text(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_themes_parse_and_set_every_role() {
        for (name, text) in BUILTIN {
            let file = ThemeFile::parse(text, name).unwrap();
            assert!(file.base.is_none(), "{name} must not have a base");
            assert_eq!(file.missing_roles(), Vec::<&str>::new(), "{name}");
        }
    }

    #[test]
    fn builtin_themes_differ() {
        let c = ThemeCatalog::builtin();
        let dark = c.theme("dark").unwrap();
        let light = c.theme("light").unwrap();
        let hc = c.theme("high-contrast").unwrap();
        assert_ne!(dark.palette, light.palette);
        assert_ne!(dark.palette, hc.palette);
    }

    #[test]
    fn unknown_theme_lists_the_available_ones() {
        let err = ThemeCatalog::builtin().theme("solarized").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown theme `solarized`; available themes: dark, high-contrast, light"
        );
    }

    #[test]
    fn colours_accept_names_hex_indexes_and_default() {
        assert_eq!("red".parse::<ThemeColor>().unwrap().0, Color::Red);
        assert_eq!(
            "#0a0b0c".parse::<ThemeColor>().unwrap().0,
            Color::Rgb(10, 11, 12)
        );
        assert_eq!("default".parse::<ThemeColor>().unwrap().0, Color::Reset);
        assert!("#12345".parse::<ThemeColor>().is_err());
        let file = ThemeFile::parse("accent: 208\n", "t").unwrap();
        assert_eq!(file.accent, Some(ThemeColor(Color::Indexed(208))));
    }

    #[test]
    fn bad_role_or_colour_names_the_line() {
        let err = ThemeFile::parse("accent: red\nhealth:\n  healthy: reddish\n", "my.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("my.yaml:3"), "{err}");
        assert!(err.contains("health.healthy"), "{err}");
        assert!(err.contains("reddish"), "{err}");
        let err = ThemeFile::parse("acent: red\n", "my.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("my.yaml:1"), "{err}");
        assert!(err.contains("acent"), "{err}");
    }

    #[test]
    fn no_color_keeps_selection_visible() {
        let t = Theme::default().without_color();
        assert_eq!(t.health(Health::Degraded), Style::new());
        assert!(t.selected().add_modifier.contains(Modifier::REVERSED));
        assert_eq!(t.selected().bg, None);
    }
}
