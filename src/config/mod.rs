//! Settings, keymap and theme loading. Imports `model` and `yaml`; the front ends read it, and
//! the TUI resolves the keymap's action names to its actions.
//!
//! The config file is `rekon/config.yaml` in the platform's config folder (on Linux
//! `~/.config/rekon/config.yaml`), or the file `REKON_CONFIG` names. A missing file means
//! defaults. Every section is optional:
//!
//! ```yaml
//! theme: light            # dark (default), light, high-contrast, or one of your themes/
//! keymap:                 # action name: a key, or a list of keys
//!   quit: [q, ctrl-c]
//!   sortHealth: H
//! bell: false             # ring the terminal bell when an app drifts or degrades
//! notify:                 # webhooks told of sync and health changes (as --notify URL)
//!   - https://hooks.slack.com/services/…
//! sync:
//!   refuseConflicts: true # syncs you start fail on fields other managers own (as
//!                         # --refuse-conflicts) instead of taking them back for Git
//! ```
//!
//! Unknown sections, action names and key names are errors naming the file and line, so a
//! typo is never silently ignored. The filter and the command line keep their own keys
//! (enter, esc, tab, ↑/↓) whatever the keymap says, so typing always works.

mod keys;
mod theme;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use thiserror::Error;

pub use keys::{KeyChord, KeyParseError};
pub use theme::{
    BadgeColors, DEFAULT_THEME, DiffColors, HealthColors, Palette, SyncColors, Theme, ThemeCatalog,
    ThemeColor, ThemeError,
};

use crate::yaml::{self, YamlError};

/// The environment variable that points at a config file instead of the default one.
pub const CONFIG_ENV: &str = "REKON_CONFIG";

/// Why the config could not be loaded.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read config file {path}: {message}")]
    Io {
        /// The file at fault.
        path: String,
        /// The OS error.
        message: String,
    },
    /// The file is not valid YAML, or has an unknown field, action or key.
    #[error("config file {0}")]
    Parse(YamlError),
}

/// The user's settings. `Config::default()` is what a missing file means.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// The file these settings come from, or would come from if it existed; `None` when
    /// the platform has no config folder (no home directory).
    pub path: Option<PathBuf>,
    /// The theme to use unless `--theme` says otherwise.
    pub theme: Option<String>,
    /// Key overrides: action name → the keys that replace its default keys.
    pub keymap: KeymapOverrides,
    /// Ring the terminal bell with drift alerts (an app turned OutOfSync or Degraded).
    pub bell: bool,
    /// Webhook URLs notified of sync and health changes (added to `--notify`).
    pub notify: Vec<String>,
    /// Defaults of the syncs the user starts.
    pub sync: SyncDefaults,
}

/// The `sync:` section: defaults of the syncs the user starts (CLI, rollback, TUI dialog).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SyncDefaults {
    /// Fail a sync before any change when another field manager owns a field Git sets,
    /// as `--refuse-conflicts` does, instead of taking the field back.
    #[serde(default)]
    pub refuse_conflicts: bool,
}

/// Key overrides from the config, by action name: each listed action gets exactly these
/// keys. Names are checked against [`KEYMAP_ACTIONS`] while parsing (so an error names the
/// line); the TUI resolves them to its actions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KeymapOverrides(pub BTreeMap<String, Vec<KeyChord>>);

/// Every action name the `keymap:` section accepts, in the order errors list them. The TUI
/// maps each to one of its actions; a test there checks that the two lists agree.
pub const KEYMAP_ACTIONS: &[&str] = &[
    "quit",
    "back",
    "help",
    "filter",
    "command",
    "up",
    "down",
    "pageUp",
    "pageDown",
    "top",
    "bottom",
    "sortName",
    "sortCluster",
    "sortNamespace",
    "sortSync",
    "sortHealth",
    "sortLastSync",
    "toggleReadOnly",
    "apps",
    "open",
    "diff",
    "sync",
    "history",
    "timeline",
    "refresh",
    "hardRefresh",
    "contexts",
    "yaml",
    "mark",
    "expand",
    "collapse",
    "focus",
    "unified",
    "nextChange",
    "prevChange",
    "nextResource",
    "prevResource",
    "scrollLeft",
    "scrollRight",
    "prune",
    "dryRun",
    "force",
    "refuseConflicts",
    "outOfSyncOnly",
    "selective",
    "confirm",
    "terminate",
    "rollback",
    "reconcile",
    "reconcileWithSource",
    "suspend",
    "resume",
    "fluxGraph",
    "images",
];

// Later sections (ignoreDifferences per kind) get a field here
// when they are built; `deny_unknown_fields` keeps typos loud until then.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    theme: Option<String>,
    #[serde(default)]
    keymap: KeymapOverrides,
    #[serde(default)]
    bell: bool,
    #[serde(default)]
    notify: Vec<String>,
    #[serde(default)]
    sync: SyncDefaults,
}

impl Config {
    /// Loads the config from `path_override`, else from `$REKON_CONFIG`, else from the
    /// platform's config folder. A missing file gives the defaults.
    pub fn load(path_override: Option<&Path>) -> Result<Config, ConfigError> {
        match path_override
            .map(Path::to_path_buf)
            .or_else(Self::default_path)
        {
            Some(path) => Self::load_file(&path),
            None => Ok(Config::default()),
        }
    }

    /// Where the config file is looked for when no path is given: `$REKON_CONFIG` (when
    /// set and non-empty), else `rekon/config.yaml` in the platform's config folder.
    pub fn default_path() -> Option<PathBuf> {
        match std::env::var_os(CONFIG_ENV) {
            Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
            _ => ProjectDirs::from("dev", "rekon", "rekon")
                .map(|dirs| dirs.config_dir().join("config.yaml")),
        }
    }

    /// Loads one file; a missing file gives the defaults (remembering the path, so the
    /// themes folder next to it is still found).
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Config {
                    path: Some(path.to_path_buf()),
                    ..Config::default()
                });
            }
            Err(e) => {
                return Err(ConfigError::Io {
                    path: path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        let mut config = Self::parse(&text, &path.display().to_string())?;
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses config text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        // An empty or comment-only file is a valid "all defaults" config.
        let docs = yaml::parse_documents(text, origin).map_err(ConfigError::Parse)?;
        let file: ConfigFile = match docs.len() {
            0 => ConfigFile::default(),
            1 => yaml::from_str(text, origin).map_err(ConfigError::Parse)?,
            _ => {
                return Err(ConfigError::Parse(YamlError {
                    origin: origin.to_string(),
                    line: docs.get(1).map(|d| d.line),
                    column: None,
                    message: "a config file holds one YAML document; remove the `---`".into(),
                }));
            }
        };
        Ok(Config {
            path: None,
            theme: file.theme,
            keymap: file.keymap,
            bell: file.bell,
            notify: file.notify,
            sync: file.sync,
        })
    }

    /// The folder of the user's themes: `themes/` next to the config file.
    pub fn themes_dir(&self) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        Some(match path.parent() {
            Some(dir) => dir.join("themes"),
            None => PathBuf::from("themes"),
        })
    }
}

impl<'de> Deserialize<'de> for KeymapOverrides {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(KeymapVisitor)
    }
}

/// An action name as a map key: checked while parsing, so the error carries its line.
struct ActionName(String);

impl<'de> Deserialize<'de> for ActionName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Checked inside the visitor so the YAML reader attaches the name's own line.
        struct NameVisitor;
        impl Visitor<'_> for NameVisitor {
            type Value = ActionName;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an action name such as `quit` or `pageDown`")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<ActionName, E> {
                if KEYMAP_ACTIONS.contains(&name) {
                    Ok(ActionName(name.to_string()))
                } else {
                    Err(E::custom(format!(
                        "unknown action `{name}`; known actions: {}",
                        KEYMAP_ACTIONS.join(", ")
                    )))
                }
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

struct KeyList(Vec<KeyChord>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        keys::deserialize_key_list(deserializer).map(KeyList)
    }
}

struct KeymapVisitor;

impl<'de> Visitor<'de> for KeymapVisitor {
    type Value = KeymapOverrides;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of action name to key or list of keys, e.g. `quit: [q, ctrl-c]`")
    }

    fn visit_unit<E: de::Error>(self) -> Result<KeymapOverrides, E> {
        Ok(KeymapOverrides::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeymapOverrides, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(ActionName(action)) = map.next_key()? {
            let KeyList(keys) = map.next_value()?;
            if out.insert(action.clone(), keys).is_some() {
                return Err(de::Error::custom(format!(
                    "action `{action}` appears twice in keymap"
                )));
            }
        }
        Ok(KeymapOverrides(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_notify_urls() {
        let c = Config::parse("notify:\n  - http://127.0.0.1:9/hook\n", "c.yaml").unwrap();
        assert_eq!(c.notify, ["http://127.0.0.1:9/hook"]);
    }

    #[test]
    fn empty_and_comment_only_files_are_defaults() {
        assert_eq!(Config::parse("", "c.yaml").unwrap(), Config::default());
        assert_eq!(
            Config::parse("# nothing yet\n", "c.yaml").unwrap(),
            Config::default()
        );
    }

    #[test]
    fn reads_theme_and_keymap() {
        let c = Config::parse(
            "theme: light\nkeymap:\n  quit: [q, ctrl-c]\n  sortHealth: H\n",
            "c.yaml",
        )
        .unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(
            c.keymap.0["quit"],
            [KeyChord::char('q'), KeyChord::ctrl('c')]
        );
        assert_eq!(c.keymap.0["sortHealth"], [KeyChord::char('H')]);
    }

    #[test]
    fn unknown_action_names_the_line_and_the_action() {
        let err = Config::parse(
            "theme: dark\nkeymap:\n  quit: q\n  frobnicate: x\n",
            "c.yaml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("config file c.yaml:4"), "{err}");
        assert!(err.contains("unknown action `frobnicate`"), "{err}");
        assert!(err.contains("pageDown"), "lists the known actions: {err}");
    }

    #[test]
    fn bad_key_names_the_line_of_the_key() {
        let err = Config::parse("keymap:\n  quit:\n    - q\n    - ctrl-shft-c\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config file c.yaml:4"), "{err}");
        assert!(err.contains("keymap.quit"), "{err}");
        assert!(err.contains("unknown key `ctrl-shft-c`"), "{err}");
        let err = Config::parse("keymap:\n  up: [k, upp]\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config file c.yaml:2"), "{err}");
        assert!(err.contains("`upp`"), "{err}");
    }

    #[test]
    fn bell_defaults_off_and_reads_a_bool() {
        assert!(!Config::parse("theme: dark\n", "c.yaml").unwrap().bell);
        assert!(Config::parse("bell: true\n", "c.yaml").unwrap().bell);
        let err = Config::parse("bell: loud\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.yaml:1"), "{err}");
    }

    #[test]
    fn sync_refuse_conflicts_defaults_off_and_unknown_sync_keys_are_errors() {
        assert!(!Config::default().sync.refuse_conflicts);
        let c = Config::parse("sync:\n  refuseConflicts: true\n", "c.yaml").unwrap();
        assert!(c.sync.refuse_conflicts);
        let err = Config::parse("sync:\n  refuseConflict: true\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("c.yaml:2") && err.contains("refuseConflict"),
            "{err}"
        );
    }

    #[test]
    fn themes_folder_is_next_to_the_file() {
        let c = Config {
            path: Some(PathBuf::from("/etc/rekon/config.yaml")),
            ..Config::default()
        };
        assert_eq!(c.themes_dir(), Some(PathBuf::from("/etc/rekon/themes")));
    }

    #[test]
    fn two_documents_are_refused() {
        let err = Config::parse("theme: dark\n---\ntheme: light\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("c.yaml:3"), "{err}");
    }
}
