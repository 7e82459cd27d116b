//! The diff view: side by side and unified, the narrow fallback, change and resource
//! navigation, folds, horizontal scroll, opening at a node, and a history revision's diff
//! asked from the (fake) engine.

use crate::support::tui::*;
use crossterm::event::KeyCode;
use rekon::runtime::EngineCommand;
use rekon::tui::{App, Context, TuiOptions};

fn diff_of_checkout() -> (App, tokio::sync::mpsc::Receiver<EngineCommand>) {
    let (mut app, rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    type_text(&mut app, "d");
    assert_eq!(app.context(), Context::Diff);
    (app, rx)
}

fn current(app: &App) -> String {
    let key = app.diff_view().unwrap().current().unwrap();
    format!("{} {}", key.kind, key.name)
}

#[test]
fn side_by_side_120x40_lists_only_changed_resources() {
    let (mut app, _rx) = diff_of_checkout();
    let view = app.diff_view().unwrap();
    let names: Vec<String> = view
        .resources()
        .iter()
        .map(|k| format!("{} {}", k.kind, k.name))
        .collect();
    assert_eq!(
        names,
        [
            "Deployment checkout",
            "Secret checkout-db",
            "Service checkout-legacy"
        ],
        "the identical ConfigMap is left out"
    );
    let screen = screen(&mut app, 120, 40);
    assert!(!app.diff_view().unwrap().is_unified());
    assert!(screen.contains("12 -  replicas: 2"), "{screen}");
    assert!(screen.contains("12 +  replicas: 3"), "{screen}");
    assert!(screen.contains("unchanged lines"), "{screen}");
    insta::assert_snapshot!("diff_side_by_side_120x40", screen);
}

#[test]
fn words_that_changed_are_highlighted_inside_changed_lines() {
    let (mut app, _rx) = diff_of_checkout();
    let buf = draw(&mut app, 120, 40);
    let highlight = app.theme().diff_changed_word().bg;
    assert!(highlight.is_some());
    // Find the desired side's `replicas: 3`: only the `3` carries the changed-word colour.
    let (y, x) = (0..40u16)
        .find_map(|y| {
            let row: String = (0..120u16)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            row.find("+  replicas: 3")
                .map(|i| (y, row[..i].chars().count() as u16))
        })
        .expect("the replicas line is on screen");
    let three = x + "+  replicas: ".chars().count() as u16;
    assert_eq!(buf[(three, y)].symbol(), "3");
    assert_eq!(buf[(three, y)].bg, highlight.unwrap());
    assert_ne!(
        buf[(three - 2, y)].bg,
        highlight.unwrap(),
        "`replicas` did not change"
    );
}

#[test]
fn u_switches_to_unified_and_back() {
    let (mut app, _rx) = diff_of_checkout();
    rows(&mut app, 120, 40);
    type_text(&mut app, "u");
    let screen = screen(&mut app, 120, 40);
    assert!(app.diff_view().unwrap().is_unified());
    assert!(screen.contains("--- live"), "{screen}");
    insta::assert_snapshot!("diff_unified_120x40", screen);
    type_text(&mut app, "u");
    rows(&mut app, 120, 40);
    assert!(!app.diff_view().unwrap().is_unified());
}

#[test]
fn narrow_terminals_fall_back_to_unified() {
    let (mut app, _rx) = diff_of_checkout();
    let screen = screen(&mut app, 80, 24);
    assert!(app.diff_view().unwrap().is_unified());
    assert!(
        !screen.contains("Changed (3)"),
        "no room for the list: {screen}"
    );
    insta::assert_snapshot!("diff_narrow_80x24", screen);
    // u explains instead of doing nothing silently.
    type_text(&mut app, "u");
    assert!(
        app.message()
            .unwrap()
            .text
            .contains("narrower than 100 columns")
    );
    rows(&mut app, 80, 24);
    assert!(app.diff_view().unwrap().is_unified());
    rows(&mut app, 120, 40);
    assert!(
        !app.diff_view().unwrap().is_unified(),
        "wide again: side by side"
    );
}

#[test]
fn n_and_shift_n_walk_the_changes_across_resources() {
    let (mut app, _rx) = diff_of_checkout();
    rows(&mut app, 120, 40);
    let row = |app: &App| app.diff_view().unwrap().cursor_row().unwrap();
    // Opened on the first change (replicas, row 11 counting from 0).
    assert_eq!(
        (current(&app), row(&app)),
        ("Deployment checkout".into(), 11)
    );
    type_text(&mut app, "n");
    assert_eq!(row(&app), 28, "the image line");
    type_text(&mut app, "n");
    assert_eq!(row(&app), 35, "the new env var");
    type_text(&mut app, "n");
    assert_eq!(
        current(&app),
        "Secret checkout-db",
        "on to the next resource"
    );
    type_text(&mut app, "n");
    assert_eq!(current(&app), "Service checkout-legacy");
    type_text(&mut app, "n");
    assert!(app.message().unwrap().text.contains("last change"));
    type_text(&mut app, "N");
    assert_eq!(current(&app), "Secret checkout-db");
    type_text(&mut app, "N");
    assert_eq!(
        (current(&app), row(&app)),
        ("Deployment checkout".into(), 35)
    );
    // [ and ] jump between resources.
    type_text(&mut app, "]]");
    assert_eq!(current(&app), "Service checkout-legacy");
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("desired (not in Git: a prune deletes it)"),
        "{text}"
    );
    type_text(&mut app, "[");
    assert_eq!(current(&app), "Secret checkout-db");
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("password: +++++++++"),
        "masked values only: {text}"
    );
}

#[test]
fn enter_opens_the_fold_under_the_cursor() {
    let (mut app, _rx) = diff_of_checkout();
    let before = rows(&mut app, 120, 40).join("\n");
    assert!(before.contains("··· 8 unchanged lines"), "{before}");
    assert!(!before.contains("name: checkout\n"));
    type_text(&mut app, "g");
    assert_eq!(app.diff_view().unwrap().cursor_row(), Some(0));
    app.handle_key(key(KeyCode::Enter));
    let after = rows(&mut app, 120, 40).join("\n");
    assert!(!after.contains("··· 8 unchanged lines"), "{after}");
    assert!(after.contains(" 1  apiVersion: apps/v1"), "{after}");
    // Enter on a plain line says what it is for.
    type_text(&mut app, "j");
    app.handle_key(key(KeyCode::Enter));
    assert!(app.message().unwrap().text.contains("nothing folded here"));
}

#[test]
fn l_and_h_scroll_long_lines_sideways() {
    let (mut app, _rx) = diff_of_checkout();
    type_text(&mut app, "u");
    let before = rows(&mut app, 120, 40).join("\n");
    assert!(!before.contains("backoff=exponential"));
    type_text(&mut app, "llllllll");
    let after = rows(&mut app, 120, 40).join("\n");
    assert!(after.contains("backoff=exponential"), "{after}");
    // Line numbers stay put.
    assert!(after.contains("32 32 "), "{after}");
    type_text(&mut app, "hhhhhhhh");
    assert_eq!(rows(&mut app, 120, 40).join("\n"), before);
}

#[test]
fn diff_from_a_tree_node_opens_at_that_resource() {
    let (mut app, _rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    app.handle_key(key(KeyCode::Enter));
    type_text(&mut app, "jjjjjjj");
    type_text(&mut app, "d");
    assert_eq!(current(&app), "Secret checkout-db");
    app.handle_key(key(KeyCode::Esc));
    // A pod has no diff of its own: say so and show the app's.
    type_text(&mut app, "kkkd");
    assert_eq!(current(&app), "Deployment checkout");
    let message = app.message().unwrap().text.clone();
    assert!(
        message.contains("Pod shop/checkout-7d9f8c-abcde has no differences"),
        "{message}"
    );
}

#[test]
fn an_app_in_sync_says_so() {
    let (mut app, _rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "payments");
    type_text(&mut app, "d");
    let text = rows(&mut app, 80, 24).join("\n");
    assert!(
        text.contains("No differences: the live state matches Git."),
        "{text}"
    );
    // An app not compared yet waits, with a spinner.
    app.handle_key(key(KeyCode::Esc));
    select_app(&mut app, "guestbook");
    type_text(&mut app, "d");
    let text = rows(&mut app, 80, 24).join("\n");
    assert!(
        text.contains("Waiting for the first comparison of guestbook"),
        "{text}"
    );
}

#[test]
fn the_diff_follows_new_snapshots() {
    let (mut app, _rx) = diff_of_checkout();
    type_text(&mut app, "]");
    assert_eq!(current(&app), "Secret checkout-db");
    // The Secret gets synced: it leaves the list; the view moves to what is left.
    let mut snap = app.snapshot().clone();
    let checkout = snap.apps.iter_mut().find(|a| a.name == "checkout").unwrap();
    let mut detail = (**checkout.detail.as_ref().unwrap()).clone();
    detail.diffs.retain(|d| d.key.kind != "Secret");
    checkout.detail = Some(std::sync::Arc::new(detail));
    app.set_snapshot(std::sync::Arc::new(snap));
    assert_eq!(app.diff_view().unwrap().resources().len(), 2);
    assert_eq!(current(&app), "Service checkout-legacy");
}

#[test]
fn enter_in_history_diffs_that_revision_against_live() {
    let (mut app, mut rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    type_text(&mut app, "hj");
    app.handle_key(key(KeyCode::Enter));
    let Some(EngineCommand::DiffRevision {
        app: name,
        revision,
        reply,
    }) = received(&mut rx).pop()
    else {
        panic!("expected a DiffRevision command");
    };
    assert_eq!(name, "argocd/checkout");
    assert_eq!(revision, "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c");
    assert!(app.is_animating());
    insta::assert_snapshot!("diff_revision_loading_80x24", screen(&mut app, 80, 24));
    let mut diffs = checkout_diffs();
    diffs.truncate(2);
    reply.send(Ok(diffs)).unwrap();
    assert!(app.poll_replies());
    assert_eq!(current(&app), "Deployment checkout");
    let screen = screen(&mut app, 120, 40);
    assert!(screen.contains("desired @9b8c7d6"), "{screen}");
    insta::assert_snapshot!("diff_revision_120x40", screen);
}

#[test]
fn a_revision_diff_answered_after_the_user_left_is_dropped() {
    let (mut app, mut rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    type_text(&mut app, "h");
    app.handle_key(key(KeyCode::Enter));
    let Some(EngineCommand::DiffRevision { reply, .. }) = received(&mut rx).pop() else {
        panic!("expected a DiffRevision command");
    };
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.breadcrumbs(), ["Apps", "checkout history"]);
    assert!(reply.is_closed(), "leaving the view abandons its request");
    let _ = reply.send(Ok(checkout_diffs()));
    app.poll_replies();
    assert!(app.diff_view().is_none());
    // A failed answer is shown, not spun on forever.
    app.handle_key(key(KeyCode::Enter));
    let Some(EngineCommand::DiffRevision { reply, .. }) = received(&mut rx).pop() else {
        panic!("expected a DiffRevision command");
    };
    reply
        .send(Err(
            "commit 4f2a9c1 is not in the repository https://github.com/acme/gitops.git".into(),
        ))
        .unwrap();
    app.poll_replies();
    let text = rows(&mut app, 120, 40).join("\n");
    assert!(text.contains("Cannot diff revision 4f2a9c1"), "{text}");
    assert!(!app.is_animating());
}
