//! The apps view, driven by synthetic keys and hand-built snapshots, drawn on TestBackend.

use std::sync::Arc;

use crate::support::tui::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::style::{Color, Modifier};
use rekon::model::{Health, Snapshot, SyncStatus};
use rekon::tui::{Action, App, Context, MessageKind, SortColumn, TuiOptions};

fn selected_name(app: &App) -> String {
    app.selected_app()
        .map(|a| a.name.clone())
        .unwrap_or_default()
}

fn visible(app: &App) -> Vec<String> {
    app.apps_view()
        .unwrap()
        .visible_names(app.snapshot())
        .into_iter()
        .map(String::from)
        .collect()
}

#[test]
fn apps_view_120x40() {
    let mut app = ui();
    insta::assert_snapshot!("apps_120x40", screen(&mut app, 120, 40));
}

#[test]
fn apps_view_80x24_stays_usable() {
    let mut app = ui();
    let rows = rows(&mut app, 80, 24);
    // The columns that matter most survive; MESSAGE goes first.
    let header = &rows[3];
    for col in ["NAME", "CLUSTER", "SYNC", "HEALTH"] {
        assert!(header.contains(col), "{col} missing from {header:?}");
    }
    assert!(!header.contains("MESSAGE"), "{header:?}");
    insta::assert_snapshot!("apps_80x24", screen(&mut app, 80, 24));
}

#[test]
fn first_run_hint_and_read_only_badge() {
    let mut app = ui_with(TuiOptions {
        contexts: vec!["demo-staging".into(), "demo-prod".into()],
        read_only: true,
        hint: Some("press j/k to pick an app, / to filter, ? for every key".into()),
        ..TuiOptions::default()
    });
    let rows = rows(&mut app, 120, 40);
    assert!(rows[0].contains("[READ-ONLY]"), "{}", rows[0]);
    assert!(
        rows[37].contains("press j/k to pick an app"),
        "{}",
        rows[37]
    );
    insta::assert_snapshot!("apps_hint_read_only_80x24", screen(&mut app, 80, 24));
}

#[test]
fn the_first_run_hint_goes_once_the_newcomer_opens_an_app() {
    let mut app = ui_with(TuiOptions {
        hint: Some("enter: open an app".into()),
        ..TuiOptions::default()
    });
    assert!(
        rows(&mut app, 120, 40)
            .iter()
            .any(|r| r.contains("enter: open an app"))
    );
    app.handle_key(key(KeyCode::Enter));
    assert!(
        !rows(&mut app, 120, 40)
            .iter()
            .any(|r| r.contains("enter: open an app"))
    );
}

#[test]
fn navigation_moves_the_selection() {
    let mut app = ui();
    assert_eq!(selected_name(&app), "batch-jobs");
    type_text(&mut app, "jj");
    assert_eq!(selected_name(&app), "guestbook");
    app.handle_key(key(KeyCode::Up));
    assert_eq!(selected_name(&app), "checkout");
    type_text(&mut app, "G");
    assert_eq!(selected_name(&app), "search");
    type_text(&mut app, "j");
    assert_eq!(selected_name(&app), "search", "stops at the last row");
    type_text(&mut app, "g");
    assert_eq!(selected_name(&app), "batch-jobs");
    // A page is what the last frame showed: 14 rows fit at 80x24, more than there are.
    rows(&mut app, 80, 24);
    app.handle_key(key(KeyCode::PageDown));
    assert_eq!(selected_name(&app), "search");
    app.handle_key(key(KeyCode::PageUp));
    assert_eq!(selected_name(&app), "batch-jobs");
}

#[test]
fn mouse_wheel_moves_the_selection() {
    let mut app = ui();
    let wheel = |kind| MouseEvent {
        kind,
        column: 10,
        row: 10,
        modifiers: KeyModifiers::NONE,
    };
    assert!(app.handle_mouse(&wheel(MouseEventKind::ScrollDown)));
    assert!(app.handle_mouse(&wheel(MouseEventKind::ScrollDown)));
    assert_eq!(selected_name(&app), "guestbook");
    assert!(app.handle_mouse(&wheel(MouseEventKind::ScrollUp)));
    assert_eq!(selected_name(&app), "checkout");
}

#[test]
fn filter_takes_j_and_k_as_text_and_never_moves() {
    let mut app = ui();
    type_text(&mut app, "j");
    assert_eq!(selected_name(&app), "checkout");
    assert_eq!(
        app.handle_key(key(KeyCode::Char('/'))),
        Some(Action::Filter)
    );
    assert_eq!(app.context(), Context::Filter);
    // `j` and `k` are typed, not navigation; `q` does not quit.
    type_text(&mut app, "jobs");
    assert_eq!(app.apps_view().unwrap().filter(), "jobs");
    assert_eq!(visible(&app), ["batch-jobs"]);
    insta::assert_snapshot!("filter_typing_80x24", screen(&mut app, 80, 24));
    for _ in 0..4 {
        app.handle_key(key(KeyCode::Backspace));
    }
    type_text(&mut app, "check q");
    assert!(!app.should_quit());
    assert_eq!(app.apps_view().unwrap().filter(), "check q");
    assert!(visible(&app).is_empty());
    app.handle_key(key(KeyCode::Backspace));
    app.handle_key(key(KeyCode::Backspace));
    assert_eq!(visible(&app), ["checkout"]);
    assert_eq!(
        selected_name(&app),
        "checkout",
        "selection stayed on its app"
    );
    // Enter keeps the filter and leaves the text field.
    assert_eq!(app.handle_key(key(KeyCode::Enter)), Some(Action::Select));
    assert_eq!(app.context(), Context::Apps);
    assert_eq!(visible(&app), ["checkout"]);
    insta::assert_snapshot!("filter_kept_120x40", screen(&mut app, 120, 40));
    // Esc clears it.
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.apps_view().unwrap().filter(), "");
    assert_eq!(visible(&app).len(), 6);
    assert_eq!(selected_name(&app), "checkout");
}

#[test]
fn filter_matches_every_field_and_all_terms() {
    let mut app = ui();
    let filter = |app: &mut App, text: &str| {
        app.handle_key(key(KeyCode::Char('/')));
        app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
        type_text(app, text);
        app.handle_key(key(KeyCode::Enter));
        visible(app)
    };
    assert_eq!(filter(&mut app, "degraded"), ["payments"]);
    assert_eq!(
        filter(&mut app, "DEMO-STAGING"),
        ["guestbook", "monitoring", "search"]
    );
    assert_eq!(filter(&mut app, "outofsync prod"), ["checkout"]);
    assert_eq!(filter(&mut app, "platform/monitoring"), ["monitoring"]);
    assert_eq!(filter(&mut app, "shop"), ["checkout", "payments"]);
    assert_eq!(
        filter(&mut app, "argocd").len(),
        6,
        "the app's own namespace"
    );
    assert_eq!(filter(&mut app, "zzz"), Vec::<String>::new());
    insta::assert_snapshot!("filter_no_match_80x24", screen(&mut app, 80, 24));
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(visible(&app).len(), 6);
}

#[test]
fn esc_while_typing_the_filter_clears_it() {
    let mut app = ui();
    type_text(&mut app, "/pay");
    assert_eq!(visible(&app), ["payments"]);
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.context(), Context::Apps);
    assert_eq!(visible(&app).len(), 6);
}

#[test]
fn sort_keys_order_rows_and_again_reverses() {
    let mut app = ui();
    assert_eq!(
        app.handle_key(KeyEvent::new(KeyCode::Char('H'), KeyModifiers::SHIFT)),
        Some(Action::Sort(SortColumn::Health))
    );
    assert_eq!(
        visible(&app),
        [
            "payments",
            "monitoring",
            "search",
            "batch-jobs",
            "checkout",
            "guestbook"
        ]
    );
    type_text(&mut app, "S");
    assert_eq!(
        visible(&app),
        [
            "checkout",
            "search",
            "monitoring",
            "batch-jobs",
            "guestbook",
            "payments"
        ]
    );
    type_text(&mut app, "N");
    assert_eq!(visible(&app)[0], "batch-jobs");
    type_text(&mut app, "N");
    assert_eq!(visible(&app)[0], "search");
    assert_eq!(
        app.apps_view().unwrap().sort(),
        Some((SortColumn::Name, true))
    );
    type_text(&mut app, "L");
    assert_eq!(
        visible(&app),
        [
            "search",
            "guestbook",
            "payments",
            "checkout",
            "batch-jobs",
            "monitoring"
        ]
    );
    insta::assert_snapshot!("sorted_by_last_sync_120x40", screen(&mut app, 120, 40));
}

#[test]
fn rows_update_in_place_keeping_the_selection_on_the_same_app() {
    let mut ui = ui();
    type_text(&mut ui, "jjj");
    assert_eq!(selected_name(&ui), "monitoring");

    // The engine publishes again: monitoring is now synced and healthy, a new app sorts
    // before it, and another app is gone. The cursor follows monitoring, not the index.
    let mut next = six_apps();
    next.generation += 1;
    next.apps.retain(|a| a.name != "batch-jobs");
    next.apps.insert(
        0,
        app(
            "api",
            "demo-prod",
            "api",
            "apps/api",
            SyncStatus::Synced,
            Health::Healthy,
            None,
            "",
        ),
    );
    next.apps.insert(
        1,
        app(
            "billing",
            "demo-prod",
            "billing",
            "apps/billing",
            SyncStatus::Synced,
            Health::Healthy,
            None,
            "",
        ),
    );
    let monitoring = next
        .apps
        .iter_mut()
        .find(|a| a.name == "monitoring")
        .unwrap();
    monitoring.sync = SyncStatus::Synced;
    monitoring.health = Health::Healthy;
    monitoring.message.clear();
    ui.set_snapshot(Arc::new(next));
    assert_eq!(selected_name(&ui), "monitoring");
    let sel = ui.selected_app().unwrap();
    assert_eq!(
        (sel.sync, sel.health),
        (SyncStatus::Synced, Health::Healthy)
    );
    let rows = rows(&mut ui, 120, 40);
    let marked: Vec<&String> = rows.iter().filter(|r| r.contains('▶')).collect();
    assert_eq!(marked.len(), 1);
    assert!(
        marked[0].contains("monitoring") && marked[0].contains("Healthy"),
        "{marked:?}"
    );

    // Under a sort, a changed health moves the row; the cursor moves with it.
    type_text(&mut ui, "H");
    assert_eq!(selected_name(&ui), "monitoring");
    let mut worse = (*ui.snapshot()).clone();
    worse.generation += 1;
    let m = worse
        .apps
        .iter_mut()
        .find(|a| a.name == "monitoring")
        .unwrap();
    m.health = Health::Degraded;
    ui.set_snapshot(Arc::new(worse));
    assert_eq!(selected_name(&ui), "monitoring");
    assert_eq!(visible(&ui)[0..2], ["monitoring", "payments"]);

    // When the selected app disappears, the cursor stays at its row index.
    let mut gone = (*ui.snapshot()).clone();
    gone.apps.retain(|a| a.name != "monitoring");
    ui.set_snapshot(Arc::new(gone));
    assert_eq!(selected_name(&ui), "payments");
}

#[test]
fn empty_and_loading_states_explain_themselves() {
    let mut app = App::new(TuiOptions::default());
    assert!(app.is_animating(), "spinner while waiting for the engine");
    let rows_loading = rows(&mut app, 80, 24);
    assert!(
        rows_loading
            .iter()
            .any(|r| r.contains("Waiting for the first update"))
    );
    app.set_snapshot(Arc::new(Snapshot {
        generation: 1,
        ..Snapshot::default()
    }));
    assert!(!app.is_animating(), "no tick when nothing animates");
    insta::assert_snapshot!("apps_empty_80x24", screen(&mut app, 80, 24));
}

#[test]
fn command_line_completes_with_tab_and_runs() {
    let mut app = ui();
    assert_eq!(
        app.handle_key(key(KeyCode::Char(':'))),
        Some(Action::CommandLine)
    );
    assert_eq!(app.context(), Context::Command);
    type_text(&mut app, "th");
    app.handle_key(key(KeyCode::Tab));
    type_text(&mut app, "l");
    app.handle_key(key(KeyCode::Tab));
    insta::assert_snapshot!("command_completed_80x24", screen(&mut app, 80, 24));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.context(), Context::Apps);
    assert_eq!(app.theme().name, "light");
    assert_eq!(app.message().unwrap().text, "theme light");
    assert_eq!(app.command_history(), ["theme light"]);

    // ↑ brings the last command back.
    type_text(&mut app, ":");
    app.handle_key(key(KeyCode::Up));
    let r = rows(&mut app, 80, 24);
    assert!(r[22].contains(":theme light"), "{}", r[22]);
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.context(), Context::Apps);
}

#[test]
fn command_aliases_and_errors() {
    let mut app = ui();
    type_text(&mut app, ":nonsense");
    app.handle_key(key(KeyCode::Enter));
    let m = app.message().unwrap();
    assert_eq!(m.kind, MessageKind::Error);
    assert!(m.text.contains("unknown command `:nonsense`"), "{}", m.text);
    let r = rows(&mut app, 80, 24);
    assert!(
        r[22].contains("unknown command"),
        "shown in the status line: {}",
        r[22]
    );

    type_text(&mut app, ":theme solarized");
    app.handle_key(key(KeyCode::Enter));
    let m = app.message().unwrap();
    assert_eq!(
        m.text,
        "unknown theme `solarized`; available themes: dark, high-contrast, light"
    );
    assert_eq!(app.theme().name, "dark");

    type_text(&mut app, ":?");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.context(), Context::Help);
    type_text(&mut app, ":a");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        app.context(),
        Context::Apps,
        ":a goes back to the apps table"
    );

    type_text(&mut app, ":q");
    app.handle_key(key(KeyCode::Enter));
    assert!(app.should_quit());
}

#[test]
fn readonly_command_toggles_only_what_the_ui_owns() {
    let mut app = ui();
    assert!(!app.read_only());
    type_text(&mut app, ":readonly");
    app.handle_key(key(KeyCode::Enter));
    assert!(app.read_only());
    assert!(rows(&mut app, 120, 40)[0].contains("[READ-ONLY]"));
    type_text(&mut app, ":ro");
    app.handle_key(key(KeyCode::Enter));
    assert!(!app.read_only());

    let mut locked = ui_with(TuiOptions {
        read_only: true,
        ..TuiOptions::default()
    });
    type_text(&mut locked, ":readonly");
    locked.handle_key(key(KeyCode::Enter));
    assert!(
        locked.read_only(),
        "--read-only cannot be lifted from the UI"
    );
    assert_eq!(locked.message().unwrap().kind, MessageKind::Error);
}

#[test]
fn q_quits_and_ctrl_c_quits_even_while_typing() {
    let mut app = ui();
    assert_eq!(app.handle_key(key(KeyCode::Char('q'))), Some(Action::Quit));
    assert!(app.should_quit());

    let mut app = ui();
    type_text(&mut app, "/abc");
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(app.should_quit());
}

#[test]
fn no_color_drops_colours_but_keeps_the_selection_visible() {
    let mut app = ui_with(TuiOptions {
        theme: rekon::config::Theme::default().without_color(),
        no_color: true,
        ..TuiOptions::default()
    });
    let buf = draw(&mut app, 120, 40);
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "coloured cell {cell:?}"
        );
    }
    // Row 4 is the first app (header 2 lines, border, column headers).
    assert!(buf[(5, 4)].modifier.contains(Modifier::REVERSED));
    assert!(!buf[(5, 5)].modifier.contains(Modifier::REVERSED));
    // Switching theme keeps colour off.
    type_text(&mut app, ":theme light");
    app.handle_key(key(KeyCode::Enter));
    assert!(app.theme().no_color);
}

#[test]
fn themes_colour_health_words() {
    let mut app = ui();
    let buf = draw(&mut app, 120, 40);
    let theme = app.theme().clone();
    // Find the payments row and its HEALTH cell.
    let y = (0..40)
        .find(|y| {
            (0..120)
                .map(|x| buf[(x, *y)].symbol())
                .collect::<String>()
                .contains("payments")
        })
        .unwrap();
    let x = (0..120).find(|x| buf[(*x, y)].symbol() == "✗").unwrap();
    assert_eq!(buf[(x, y)].fg, theme.palette.health.degraded);
    assert_ne!(theme.palette.health.degraded, Color::Reset);
}

#[test]
fn a_filter_that_hides_the_selected_app_starts_from_the_top() {
    let mut app = ui();
    type_text(&mut app, "jjjj");
    assert_eq!(selected_name(&app), "payments");
    type_text(&mut app, "/staging");
    assert_eq!(visible(&app), ["guestbook", "monitoring", "search"]);
    assert_eq!(selected_name(&app), "guestbook");
}
