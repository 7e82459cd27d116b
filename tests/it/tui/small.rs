//! The TUI in a terminal as small as 40x10 (and smaller): every main view draws without a
//! panic and degrades gracefully; and the header's connection states, degraded and
//! unreachable, as the engine publishes them while a cluster misbehaves.

use std::sync::Arc;

use crate::support::tui::*;
use crossterm::event::KeyCode;
use rekon::model::{ClusterSnapshot, ConnectionState};
use rekon::tui::{App, Context, TuiOptions};

/// The main views, each reached as a user would, on the six apps with details.
fn views() -> Vec<(&'static str, App, Context)> {
    let mut out = Vec::new();
    let mut open = |name: &'static str, keys: &str, context: Context| {
        let (mut app, rx) = ui_with_engine(TuiOptions::default());
        // The fake engine's receiver must stay alive while the view is drawn.
        std::mem::forget(rx);
        if !keys.is_empty() {
            select_app(&mut app, "checkout");
            if keys == "\n" {
                app.handle_key(key(KeyCode::Enter));
            } else {
                type_text(&mut app, keys);
            }
        }
        assert_eq!(app.context(), context, "{name}");
        out.push((name, app, context));
    };
    open("apps", "", Context::Apps);
    open("app", "\n", Context::App);
    open("diff", "d", Context::Diff);
    open("history", "h", Context::History);
    open("timeline", "t", Context::Timeline);
    open("sync", "s", Context::Sync);
    open("help", "?", Context::Help);
    open("command", ":", Context::Command);
    out
}

#[test]
fn every_main_view_at_40x10() {
    for (name, mut app, _) in views() {
        let text = screen(&mut app, 40, 10);
        // Something recognisable is still there: not a blank or garbled screen.
        assert!(
            text.chars().any(|c| c.is_alphanumeric()),
            "{name} draws nothing at 40x10:\n{text}"
        );
        insta::assert_snapshot!(format!("small_{name}_40x10"), text);
    }
}

#[test]
fn smaller_and_odd_sizes_never_panic() {
    for (name, mut app, _) in views() {
        for (w, h) in [
            (1, 1),
            (2, 2),
            (10, 3),
            (20, 5),
            (40, 1),
            (1, 40),
            (39, 9),
            (300, 4),
        ] {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = draw(&mut app, w, h);
            }));
            assert!(result.is_ok(), "{name} panicked at {w}x{h}");
        }
    }
}

#[test]
fn keys_in_a_tiny_terminal_never_panic() {
    for (name, mut app, _) in views() {
        for k in "jjjkkgGhlnNpfomuxdy/ \t".chars() {
            app.handle_key(key(KeyCode::Char(k)));
            let _ = draw(&mut app, 40, 10);
        }
        for code in [
            KeyCode::Down,
            KeyCode::Up,
            KeyCode::PageDown,
            KeyCode::PageUp,
            KeyCode::End,
            KeyCode::Home,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Tab,
            KeyCode::Enter,
            KeyCode::Esc,
        ] {
            app.handle_key(key(code));
            let _ = draw(&mut app, 40, 10);
        }
        let _ = name;
    }
}

fn with_connections(states: [ConnectionState; 2]) -> App {
    let mut app = ui();
    let mut snap = app.snapshot().clone();
    snap.clusters = vec![
        ClusterSnapshot {
            name: "demo-staging".into(),
            connection: states[0].clone(),
        },
        ClusterSnapshot {
            name: "demo-prod".into(),
            connection: states[1].clone(),
        },
    ];
    app.set_snapshot(Arc::new(snap));
    app
}

#[test]
fn the_header_shows_a_degraded_and_an_unreachable_cluster() {
    let mut app = with_connections([
        ConnectionState::Degraded(
            "Secret: secrets is forbidden: User \"rekon\" cannot list resource \"secrets\"".into(),
        ),
        ConnectionState::Unreachable(
            "error trying to connect: tcp connect error: Connection refused (os error 111)".into(),
        ),
    ]);
    let text = screen(&mut app, 120, 10);
    let header: Vec<&str> = text.lines().take(3).collect();
    let header = header.join("\n");
    assert!(header.contains("degraded"), "{header}");
    assert!(header.contains("unreachable"), "{header}");
    insta::assert_snapshot!("header_degraded_unreachable_120x10", text);
    // Narrow: the states still show, the messages give way.
    let narrow = screen(&mut app, 40, 10);
    insta::assert_snapshot!("header_degraded_unreachable_40x10", narrow);
}

#[test]
fn the_header_recovers_when_the_cluster_does() {
    let mut app = with_connections([
        ConnectionState::Unreachable("Connection refused".into()),
        ConnectionState::Connected,
    ]);
    assert!(screen(&mut app, 120, 10).contains("unreachable"));
    let mut app2 = with_connections([ConnectionState::Connected, ConnectionState::Connected]);
    let text = screen(&mut app2, 120, 10);
    assert!(
        !text.contains("unreachable") && !text.contains("degraded"),
        "{text}"
    );
}
