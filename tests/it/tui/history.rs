//! The history and timeline views, drawn from hand-built app details.

use std::sync::Arc;

use crate::support::tui::*;
use crossterm::event::KeyCode;
use rekon::model::{TimelineEntry, TimelineKind};
use rekon::tui::{App, Context, TuiOptions};

fn open(view: &str) -> App {
    let (mut app, _rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    type_text(&mut app, view);
    app
}

#[test]
fn history_120x40_and_80x24() {
    let mut app = open("h");
    assert_eq!(app.context(), Context::History);
    let text = screen(&mut app, 120, 40);
    for expected in [
        "#3",
        "4f2a9c1",
        "Ana Lima",
        "checkout: bump to 1.25",
        "✗ Failed",
        "auto-sync",
        "2h ago",
    ] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    insta::assert_snapshot!("history_120x40", text);
    insta::assert_snapshot!("history_80x24", screen(&mut app, 80, 24));
}

#[test]
fn history_selection_stays_on_its_entry_when_a_sync_is_recorded() {
    let mut app = open("hj");
    let mut snap = app.snapshot().clone();
    let checkout = snap.apps.iter_mut().find(|a| a.name == "checkout").unwrap();
    let mut detail = (**checkout.detail.as_ref().unwrap()).clone();
    let mut newest = detail.history[0].clone();
    newest.id = 4;
    detail.history.insert(0, newest);
    checkout.detail = Some(Arc::new(detail));
    app.set_snapshot(Arc::new(snap));
    let rows = rows(&mut app, 120, 40);
    let marked: Vec<&String> = rows.iter().filter(|r| r.contains('▶')).collect();
    assert_eq!(marked.len(), 1);
    assert!(marked[0].contains("#2"), "{marked:?}");
}

#[test]
fn empty_history_says_so() {
    let (mut app, _rx) = ui_with_engine(TuiOptions::default());
    let mut snap = app.snapshot().clone();
    let checkout = snap.apps.iter_mut().find(|a| a.name == "checkout").unwrap();
    let mut detail = (**checkout.detail.as_ref().unwrap()).clone();
    detail.history.clear();
    detail.timeline.clear();
    checkout.detail = Some(Arc::new(detail));
    app.set_snapshot(Arc::new(snap));
    select_app(&mut app, "checkout");
    type_text(&mut app, "h");
    assert!(
        rows(&mut app, 80, 24)
            .join("\n")
            .contains("No sync of checkout recorded yet.")
    );
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.message().unwrap().text, "no sync recorded yet");
    app.handle_key(key(KeyCode::Esc));
    type_text(&mut app, "t");
    assert!(
        rows(&mut app, 80, 24)
            .join("\n")
            .contains("Nothing recorded for checkout yet")
    );
}

#[test]
fn timeline_120x40_and_80x24_newest_at_the_bottom() {
    let mut app = open("t");
    assert_eq!(app.context(), Context::Timeline);
    let text = screen(&mut app, 120, 40);
    let sync_at = text.find("Running").unwrap();
    let backoff_at = text.find("BackOff").unwrap();
    assert!(sync_at < backoff_at, "the sync comes before what it caused");
    assert!(text.contains("⚠ 3"), "warnings are counted: {text}");
    insta::assert_snapshot!("timeline_120x40", text);
    insta::assert_snapshot!("timeline_80x24", screen(&mut app, 80, 24));
}

#[test]
fn timeline_highlights_warnings() {
    let mut app = open("t");
    let buf = draw(&mut app, 120, 40);
    let warning = app.theme().warning().fg.unwrap();
    let y = (0..40u16)
        .find(|y| {
            (0..120u16)
                .map(|x| buf[(x, *y)].symbol().to_string())
                .collect::<String>()
                .contains("BackOff")
        })
        .unwrap();
    let row: String = (0..120u16)
        .map(|x| buf[(x, y)].symbol().to_string())
        .collect();
    let x = row
        .find("BackOff")
        .map(|i| row[..i].chars().count() as u16)
        .unwrap();
    assert_eq!(buf[(x, y)].fg, warning);
}

#[test]
fn timeline_follows_new_entries_only_while_on_the_newest() {
    let mut app = open("t");
    rows(&mut app, 120, 40);
    let add = |app: &mut App, reason: &str| {
        let mut snap = app.snapshot().clone();
        let checkout = snap.apps.iter_mut().find(|a| a.name == "checkout").unwrap();
        let mut detail = (**checkout.detail.as_ref().unwrap()).clone();
        detail.timeline.push(TimelineEntry {
            time: "2026-05-01T11:59:00Z".into(),
            kind: TimelineKind::Event,
            object: None,
            reason: reason.into(),
            message: format!("{reason} happened"),
            warning: false,
        });
        checkout.detail = Some(Arc::new(detail));
        app.set_snapshot(Arc::new(snap));
    };
    add(&mut app, "FirstNew");
    // The line under the list's separator shows the selected entry in full.
    let detail_line = |app: &mut App| {
        let r = rows(app, 120, 40);
        let sep = r.iter().position(|l| l.starts_with("│───")).unwrap();
        r[sep + 1].clone()
    };
    assert!(
        detail_line(&mut app).contains("FirstNew happened"),
        "follows the newest"
    );
    type_text(&mut app, "k");
    add(&mut app, "SecondNew");
    assert!(
        detail_line(&mut app).contains("Scaled down replica set"),
        "stays on the entry the user picked"
    );
}
