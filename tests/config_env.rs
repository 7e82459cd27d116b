//! `REKON_CONFIG` and `NO_COLOR` come from the environment. This binary holds a single
//! test, so changing the environment cannot race another test.

use std::path::Path;

use rekon::config::{CONFIG_ENV, Config};
use rekon::tui::{TuiOptions, no_color_requested};

#[test]
fn rekon_config_and_no_color_are_read_from_the_environment() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/config/full/config.yaml");
    // SAFETY: the only test in this binary; no other thread reads the environment.
    unsafe {
        std::env::set_var(CONFIG_ENV, &path);
        std::env::set_var("NO_COLOR", "1");
    }
    assert_eq!(Config::default_path().as_deref(), Some(path.as_path()));
    let config = Config::load(None).unwrap();
    assert_eq!(config.theme.as_deref(), Some("ocean"));
    assert!(no_color_requested());
    let options = TuiOptions::from_config(&config, None, false).unwrap();
    assert!(options.theme.no_color);

    // An explicit path wins over the variable.
    let other = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/config/unknown_theme/config.yaml");
    assert_eq!(
        Config::load(Some(&other)).unwrap().theme.as_deref(),
        Some("solarized")
    );

    // An empty NO_COLOR does not count, as the convention says.
    unsafe {
        std::env::set_var("NO_COLOR", "");
        std::env::remove_var(CONFIG_ENV);
    }
    assert!(!no_color_requested());
    let default = Config::default_path().unwrap();
    assert!(
        default.ends_with("rekon/config.yaml"),
        "{}",
        default.display()
    );
}
