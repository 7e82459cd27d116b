//! Broken config files and unknown themes give one clear error naming the file, the line
//! and the field (or the theme and the ones that exist), never a panic.

use std::path::{Path, PathBuf};

use ratatui::style::Color;
use rekon::config::{Config, ConfigError, KeyChord};
use rekon::tui::{Action, SortColumn, TuiOptions};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config")
        .join(name)
        .join("config.yaml")
}

fn load_err(name: &str) -> (String, String) {
    let path = fixture(name);
    let err = Config::load(Some(&path)).expect_err("the fixture is broken on purpose");
    (path.display().to_string(), err.to_string())
}

#[test]
fn syntax_error_names_file_and_line() {
    let (path, err) = load_err("broken_syntax");
    assert!(err.starts_with(&format!("config file {path}:")), "{err}");
    // The flow list opened on line 4 is never closed; the parser notices by line 5.
    let line: usize = err[format!("config file {path}:").len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((4..=5).contains(&line), "{err}");
}

#[test]
fn unknown_field_names_it_and_its_line() {
    let (path, err) = load_err("unknown_field");
    assert!(err.starts_with(&format!("config file {path}:4:")), "{err}");
    assert!(err.contains("unknown field `colour`"), "{err}");
    assert!(
        err.contains("`theme`") && err.contains("`keymap`"),
        "lists the known fields: {err}"
    );
}

#[test]
fn bad_key_name_names_the_action_and_line() {
    let (path, err) = load_err("bad_key");
    assert!(err.starts_with(&format!("config file {path}:3:")), "{err}");
    assert!(err.contains("keymap.sortHealth"), "{err}");
    assert!(err.contains("unknown key `shift-alt-hyper-h`"), "{err}");
}

#[test]
fn unknown_action_names_it_and_lists_the_known_ones() {
    let (path, err) = load_err("unknown_action");
    assert!(err.starts_with(&format!("config file {path}:3:")), "{err}");
    assert!(err.contains("unknown action `syncAll`"), "{err}");
    assert!(err.contains("quit") && err.contains("sortHealth"), "{err}");
}

#[test]
fn unknown_theme_lists_the_available_ones() {
    let config = Config::load(Some(&fixture("unknown_theme"))).unwrap();
    let err = TuiOptions::build(&config, None, false, false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&fixture("unknown_theme").display().to_string()),
        "names the config: {err}"
    );
    assert!(
        err.contains("unknown theme `solarized`; available themes: dark, high-contrast, light"),
        "{err}"
    );
    // The flag wins over the config, and is named when it is the one at fault.
    assert!(TuiOptions::build(&config, Some("light"), false, false).is_ok());
    let err = TuiOptions::build(&Config::default(), Some("nope"), false, false)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("--theme: unknown theme `nope`"), "{err}");
}

#[test]
fn broken_user_theme_names_its_file_line_and_role() {
    let config = Config::load(Some(&fixture("bad_theme"))).unwrap();
    let err = TuiOptions::build(&config, None, false, false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("broken.yaml:3"), "{err}");
    assert!(err.contains("unknown field `outofsync`"), "{err}");
    assert!(
        err.contains("outOfSync"),
        "suggests the right spelling among the roles: {err}"
    );
}

#[test]
fn missing_file_means_defaults_and_keeps_the_themes_folder() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/none/config.yaml");
    let config = Config::load(Some(&path)).unwrap();
    assert_eq!(config.theme, None);
    assert!(config.keymap.0.is_empty());
    assert_eq!(
        config.themes_dir(),
        Some(path.parent().unwrap().join("themes"))
    );
    let options = TuiOptions::build(&config, None, false, false).unwrap();
    assert_eq!(options.theme.name, "dark");
}

#[test]
fn unreadable_file_is_an_io_error_naming_it() {
    // A folder where the file should be cannot be read as a file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config.yaml")).unwrap();
    let err = Config::load(Some(&dir.path().join("config.yaml"))).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("config.yaml"), "{err}");
}

#[test]
fn a_full_config_with_a_partial_user_theme() {
    let config = Config::load(Some(&fixture("full"))).unwrap();
    assert_eq!(config.theme.as_deref(), Some("ocean"));
    assert_eq!(
        config.keymap.0["quit"],
        [KeyChord::char('x'), KeyChord::ctrl('c')]
    );
    let options = TuiOptions::build(&config, None, true, false).unwrap();
    assert!(options.read_only);
    let t = &options.theme;
    assert_eq!(t.name, "ocean");
    assert_eq!(t.palette.accent, Color::Rgb(0, 0x77, 0xbe));
    assert_eq!(t.palette.health.degraded, Color::Indexed(196));
    // Unset roles come from the base theme (light), not from dark.
    let light = rekon::config::ThemeCatalog::builtin()
        .theme("light")
        .unwrap();
    assert_eq!(t.palette.background, light.palette.background);
    assert_eq!(t.palette.sync, light.palette.sync);
    // A user theme named like a built-in adjusts that built-in.
    let names = options.themes.names();
    assert_eq!(names, ["dark", "high-contrast", "light", "ocean"]);
    let dark = options.themes.theme("dark").unwrap();
    let builtin_dark = rekon::config::ThemeCatalog::builtin()
        .theme("dark")
        .unwrap();
    assert_eq!(dark.palette.selection, Color::Blue);
    assert_eq!(dark.palette.accent, builtin_dark.palette.accent);
    // The keymap override is in force.
    let bound = options
        .keymap
        .bindings()
        .iter()
        .find(|b| b.action == Action::Sort(SortColumn::Health))
        .unwrap();
    assert_eq!(bound.keys, ["F2".parse::<KeyChord>().unwrap()]);
    // NO_COLOR drops colour from whatever theme is picked.
    let plain = TuiOptions::build(&config, None, false, true).unwrap();
    assert!(plain.theme.no_color && plain.no_color);
}
