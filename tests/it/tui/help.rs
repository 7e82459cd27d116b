//! The `?` help popup and the hint bar, both generated from the one keymap.

use crate::support::tui::*;
use crossterm::event::KeyCode;
use rekon::config::Config;
use rekon::tui::{Action, App, Context, Keymap, TuiOptions};

/// Every line the help popup shows, scrolling it from top to bottom.
fn all_help_text(app: &mut App, w: u16, h: u16) -> String {
    app.handle_key(key(KeyCode::Char('?')));
    assert_eq!(app.context(), Context::Help);
    let mut seen = String::new();
    let mut last = Vec::new();
    for _ in 0..100 {
        let r = rows(app, w, h);
        if r == last {
            break;
        }
        seen.push_str(&r.join("\n"));
        last = r;
        app.handle_key(key(KeyCode::Char('j')));
    }
    seen
}

#[test]
fn help_popup_120x40() {
    let mut app = ui();
    app.handle_key(key(KeyCode::Char('?')));
    insta::assert_snapshot!("help_120x40", screen(&mut app, 120, 40));
}

#[test]
fn help_popup_80x24_scrolls() {
    let mut app = ui();
    app.handle_key(key(KeyCode::Char('?')));
    insta::assert_snapshot!("help_80x24", screen(&mut app, 80, 24));
    app.handle_key(key(KeyCode::Char('G')));
    insta::assert_snapshot!("help_80x24_bottom", screen(&mut app, 80, 24));
    assert_eq!(
        app.selected_app().unwrap().name,
        "batch-jobs",
        "G scrolled the help, not the table"
    );
}

#[test]
fn help_closes_with_esc_or_question_mark() {
    let mut app = ui();
    app.handle_key(key(KeyCode::Char('?')));
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.context(), Context::Apps);
    app.handle_key(key(KeyCode::Char('?')));
    app.handle_key(key(KeyCode::Char('?')));
    assert_eq!(app.context(), Context::Apps);
    assert_eq!(app.breadcrumbs(), ["Apps"]);
}

#[test]
fn every_binding_appears_in_the_help_popup() {
    let mut app = ui();
    let text = all_help_text(&mut app, 120, 40);
    let keymap = Keymap::default();
    for b in keymap.bindings().iter().filter(|b| !b.keys.is_empty()) {
        assert!(
            text.contains(b.text.description),
            "help lacks {:?}",
            b.text.description
        );
        let keys = b
            .keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ");
        let line = text
            .lines()
            .find(|l| l.contains(b.text.description))
            .unwrap();
        assert!(
            line.contains(&keys),
            "{:?} shown without its keys {keys:?}: {line}",
            b.action
        );
    }
    for c in rekon::tui::COMMANDS {
        assert!(
            text.contains(&format!(":{}", c.name)),
            "help lacks :{}",
            c.name
        );
    }
}

#[test]
fn hint_bar_shows_only_what_works_in_the_current_context() {
    let keymap = Keymap::default();
    let cases: [(&str, Context); 4] = [
        ("", Context::Apps),
        ("/", Context::Filter),
        (":", Context::Command),
        ("?", Context::Help),
    ];
    for (keys, context) in cases {
        let mut app = ui();
        type_text(&mut app, keys);
        assert_eq!(app.context(), context);
        let bar = rows(&mut app, 120, 40).pop().unwrap();
        let hints = keymap.hints(context);
        assert!(!hints.is_empty());
        for h in &hints {
            let shown = format!("{} {}", h.key, h.label);
            assert!(
                bar.contains(&shown),
                "{context:?}: {shown:?} missing from {bar:?}"
            );
            // The key shown really triggers that binding here.
            let hit = keymap.lookup(context, h.key).unwrap();
            assert_eq!(hit.text.hint, h.label);
        }
        for b in keymap.bindings().iter().filter(|b| b.in_hint_bar) {
            let valid = keymap.valid_keys(context, b);
            let hidden = format!("{} {}", b.keys[0], b.text.hint);
            // The same key and word may belong to this context's own binding (`d diff`
            // exists in the apps table and in the app view).
            let same_here = hints
                .iter()
                .any(|h| format!("{} {}", h.key, h.label) == hidden);
            if valid.is_empty() && !same_here {
                assert!(
                    !bar.contains(&hidden),
                    "{context:?}: {hidden:?} shown but does not work"
                );
            }
        }
    }
    // Spot checks: typing contexts never advertise plain-letter keys.
    let mut app = ui();
    type_text(&mut app, "/");
    let bar = rows(&mut app, 120, 40).pop().unwrap();
    assert!(
        bar.contains("ctrl-c quit") && !bar.contains("q quit"),
        "{bar}"
    );
    assert!(!bar.contains("/ filter"), "{bar}");
}

#[test]
fn config_overrides_reach_the_hint_bar_and_help() {
    let config = Config::parse("keymap:\n  quit: x\n  help: [F1, '?']\n", "test config").unwrap();
    let options = TuiOptions::build(&config, None, false, false).unwrap();
    let mut app = ui_with(options);
    let bar = rows(&mut app, 120, 40).pop().unwrap();
    assert!(bar.contains("x quit"), "{bar}");
    assert!(bar.contains("f1 help"), "{bar}");
    assert_eq!(
        app.handle_key(key(KeyCode::Char('q'))),
        None,
        "q is no longer bound"
    );
    assert!(!app.should_quit());
    let text = all_help_text(&mut app, 120, 40);
    let quit = text.lines().find(|l| l.contains("Quit rekon")).unwrap();
    assert!(quit.contains(" x "), "{quit}");
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.handle_key(key(KeyCode::Char('x'))), Some(Action::Quit));
}
