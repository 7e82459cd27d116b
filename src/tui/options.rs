//! What the TUI is started with, built from the config and the command-line flags.

use thiserror::Error;

use super::keymap::Keymap;
use crate::config::{Config, DEFAULT_THEME, Theme, ThemeCatalog, ThemeError};

/// Why the TUI's options could not be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum OptionsError {
    /// The theme named by `--theme` or by the config does not exist or is broken.
    #[error("{origin}: {source}")]
    Theme {
        /// `--theme`, or the config file and its `theme:` field.
        origin: String,
        /// What is wrong with it.
        source: ThemeError,
    },
    /// The user's themes folder could not be read.
    #[error("{0}")]
    Themes(ThemeError),
}

/// Everything the TUI needs besides the snapshots.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    /// The theme to start with.
    pub theme: Theme,
    /// Every theme `:theme` can switch to.
    pub themes: ThemeCatalog,
    /// Key bindings, with the config's overrides.
    pub keymap: Keymap,
    /// Started with `--read-only`: the UI refuses changes and `:readonly` cannot lift it.
    pub read_only: bool,
    /// Cluster contexts in use (shown in the header before the engine reports on them).
    pub contexts: Vec<String>,
    /// A first-run hint telling a newcomer which key to press next.
    pub hint: Option<String>,
    /// `NO_COLOR` is set: themes switched to later drop their colours too.
    pub no_color: bool,
    /// Ring the terminal bell with drift alerts (config `bell: true`).
    pub bell: bool,
    /// Who syncs and rollbacks are recorded as started by (`user@host`).
    pub initiated_by: String,
    /// Syncs start with "refuse conflicts" on (config `sync: refuseConflicts: true`).
    pub refuse_conflicts: bool,
}

/// Whether the `NO_COLOR` convention asks for no colour (set and non-empty).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl TuiOptions {
    /// Options from the config and the flags; `NO_COLOR` is read from the environment.
    /// `--theme` wins over the config's `theme:`.
    pub fn from_config(
        config: &Config,
        theme_flag: Option<&str>,
        read_only: bool,
    ) -> Result<Self, OptionsError> {
        Self::build(config, theme_flag, read_only, no_color_requested())
    }

    /// Like [`TuiOptions::from_config`], with `no_color` given instead of read from the
    /// environment.
    pub fn build(
        config: &Config,
        theme_flag: Option<&str>,
        read_only: bool,
        no_color: bool,
    ) -> Result<Self, OptionsError> {
        let themes =
            ThemeCatalog::load(config.themes_dir().as_deref()).map_err(OptionsError::Themes)?;
        let (name, origin) = match (theme_flag, &config.theme) {
            (Some(flag), _) => (flag, "--theme".to_string()),
            (None, Some(name)) => (
                name.as_str(),
                match &config.path {
                    Some(p) => format!("config file {} (theme)", p.display()),
                    None => "config (theme)".to_string(),
                },
            ),
            (None, None) => (DEFAULT_THEME, "default theme".to_string()),
        };
        let mut theme = themes
            .theme(name)
            .map_err(|source| OptionsError::Theme { origin, source })?;
        if no_color {
            theme = theme.without_color();
        }
        Ok(Self {
            theme,
            themes,
            keymap: Keymap::with_overrides(&config.keymap),
            read_only,
            contexts: Vec::new(),
            hint: None,
            no_color,
            bell: config.bell,
            initiated_by: crate::model::initiator(),
            refuse_conflicts: config.sync.refuse_conflicts,
        })
    }
}
