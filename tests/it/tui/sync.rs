//! The sync dialog: options and the engine's plan, confirmation, live progress from the
//! app's operation, the result, read-only refusals, terminate, and rollback from history.
//! The test plays the engine: it reads the commands and answers them.

use std::sync::Arc;

use crate::support::tui::*;
use crossterm::event::KeyCode;
use rekon::model::{
    FieldTakeover, Operation, OperationPhase, ResourceKey, StepStatus, SyncOptions, SyncPlan,
    SyncStatus,
};
use rekon::runtime::EngineCommand;
use rekon::tui::{App, Context, MessageKind, SyncStage, TuiOptions};
use tokio::sync::{mpsc, oneshot};

type PlanReply = oneshot::Sender<Result<SyncPlan, String>>;
type OpReply = oneshot::Sender<Result<Operation, String>>;

fn plan_request(rx: &mut mpsc::Receiver<EngineCommand>) -> (SyncOptions, PlanReply) {
    match received(rx).pop() {
        Some(EngineCommand::Plan {
            app,
            options,
            reply,
        }) => {
            assert_eq!(app, "argocd/checkout");
            (options, reply)
        }
        other => panic!("expected a Plan command, got {other:?}"),
    }
}

fn open_sync(options: TuiOptions) -> (App, mpsc::Receiver<EngineCommand>) {
    let (mut app, mut rx) = ui_with_engine(options);
    select_app(&mut app, "checkout");
    type_text(&mut app, "s");
    assert_eq!(app.context(), Context::Sync);
    let (opts, reply) = plan_request(&mut rx);
    assert_eq!(opts, SyncOptions::default());
    reply.send(Ok(checkout_plan(false))).unwrap();
    assert!(app.poll_replies());
    (app, rx)
}

#[test]
fn dialog_shows_the_plan_by_phase_and_wave() {
    let (mut app, mut rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    type_text(&mut app, "s");
    let (_, reply) = plan_request(&mut rx);
    assert!(app.is_animating(), "a spinner while the plan is computed");
    assert!(
        rows(&mut app, 120, 40)
            .join("\n")
            .contains("asking the engine for the plan")
    );
    reply.send(Ok(checkout_plan(false))).unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("Plan: 2 to update · 1 hook · 1 skipped · 2 unchanged"),
        "{text}"
    );
    assert!(text.contains("PreSync · wave 0"), "{text}");
    assert!(text.contains("Sync · wave -1"), "{text}");
    insta::assert_snapshot!("sync_plan_120x40", text);
    insta::assert_snapshot!("sync_plan_80x24", screen(&mut app, 80, 24));
}

#[test]
fn toggles_ask_for_a_new_plan_and_the_older_one_is_dropped() {
    let (mut app, mut rx) = open_sync(TuiOptions::default());
    type_text(&mut app, "p");
    let (opts, first) = plan_request(&mut rx);
    assert!(opts.prune);
    type_text(&mut app, "f");
    let (opts, second) = plan_request(&mut rx);
    assert!(opts.prune && opts.force);
    assert!(
        first.is_closed(),
        "the plan for the old options is abandoned"
    );
    second.send(Ok(checkout_plan(true))).unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("− prune     Service shop/checkout-legacy"),
        "{text}"
    );
    assert!(
        text.contains("⚠ destructive: prune deletes 1 resource · force deletes and creates again"),
        "{text}"
    );
    // The destructive toggles are drawn in the error colour.
    let buf = draw(&mut app, 120, 40);
    let error = app.theme().error().fg;
    let (x, y) = (0..40u16)
        .find_map(|y| {
            let row: String = (0..120u16)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            row.find("[x] prune")
                .map(|i| (row[..i].chars().count() as u16, y))
        })
        .unwrap();
    assert_eq!(buf[(x + 4, y)].fg, error.unwrap());
    type_text(&mut app, "do");
    let (opts, _) = plan_request(&mut rx);
    assert!(opts.dry_run && opts.apply_out_of_sync_only);
}

/// The checkout plan where someone scaled the Deployment by hand.
fn plan_with_takeover() -> SyncPlan {
    let mut plan = checkout_plan(false);
    let web = plan
        .steps
        .iter_mut()
        .find(|s| s.name == "checkout")
        .unwrap();
    web.takes = vec![FieldTakeover {
        manager: "kubectl-scale".into(),
        fields: vec![".spec.replicas".into()],
    }];
    plan
}

#[test]
fn the_plan_names_the_fields_taken_and_refuse_conflicts_is_a_toggle() {
    let (mut app, mut rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    type_text(&mut app, "s");
    let (opts, reply) = plan_request(&mut rx);
    assert!(!opts.refuse_conflicts);
    reply.send(Ok(plan_with_takeover())).unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("Deployment shop/checkout  takes .spec.replicas from kubectl-scale"),
        "{text}"
    );
    assert!(text.contains("c [ ] refuse conflicts"), "{text}");
    assert!(text.contains("Git wins: 1 resource"), "{text}");
    insta::assert_snapshot!("sync_plan_takeover_120x40", text);

    type_text(&mut app, "c");
    let (opts, reply) = plan_request(&mut rx);
    assert!(opts.refuse_conflicts);
    reply.send(Ok(plan_with_takeover())).unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("c [x] refuse conflicts"), "{text}");
    assert!(
        text.contains("refused: .spec.replicas owned by kubectl-scale"),
        "{text}"
    );
    assert!(text.contains("this sync fails before any change"), "{text}");
    insta::assert_snapshot!("sync_plan_refuse_conflicts_120x40", text);
}

#[test]
fn the_config_makes_refusing_conflicts_the_default_of_syncs_and_rollbacks() {
    let options = TuiOptions {
        refuse_conflicts: true,
        ..TuiOptions::default()
    };
    let (mut app, mut rx) = ui_with_engine(options);
    select_app(&mut app, "checkout");
    type_text(&mut app, "s");
    let (opts, _reply) = plan_request(&mut rx);
    assert!(opts.refuse_conflicts);
}

#[test]
fn confirming_sends_the_sync_and_progress_follows_the_operation() {
    let (mut app, mut rx) = open_sync(TuiOptions::default());
    type_text(&mut app, "p");
    let (_, reply) = plan_request(&mut rx);
    reply.send(Ok(checkout_plan(true))).unwrap();
    app.poll_replies();
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Confirm);
    assert!(
        received(&mut rx).is_empty(),
        "nothing is sent before confirmation"
    );
    insta::assert_snapshot!("sync_confirm_120x40", screen(&mut app, 120, 40));
    type_text(&mut app, "y");
    let Some(EngineCommand::Sync {
        app: name,
        options,
        initiated_by,
        reply,
    }) = received(&mut rx).pop()
    else {
        panic!("expected a Sync command");
    };
    assert_eq!(name, "argocd/checkout");
    assert!(options.prune && !options.force);
    assert_eq!(initiated_by, "tester@ci");
    let reply: OpReply = reply.expect("the dialog waits for the result");
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Running);
    assert!(
        rows(&mut app, 80, 24)
            .join("\n")
            .contains("waiting for the engine to start it")
    );

    use StepStatus::*;
    let running = checkout_operation(
        OperationPhase::Running,
        &[Succeeded, Skipped, Succeeded, Running, Pending, Pending],
    );
    app.set_snapshot(Arc::new(with_operation(&app, Some(running), None)));
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("Sync running · 3 of 6 steps done"), "{text}");
    insta::assert_snapshot!("sync_progress_120x40", text);
    insta::assert_snapshot!("sync_progress_80x24", screen(&mut app, 80, 24));

    let done = checkout_operation(
        OperationPhase::Succeeded,
        &[
            Succeeded, Skipped, Succeeded, Succeeded, Succeeded, Succeeded,
        ],
    );
    reply.send(Ok(done.clone())).unwrap();
    app.poll_replies();
    app.set_snapshot(Arc::new(with_operation(
        &app,
        Some(done),
        Some(SyncStatus::Synced),
    )));
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Done);
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("✓ Sync succeeded"), "{text}");
    insta::assert_snapshot!("sync_result_80x24", text);
    insta::assert_snapshot!("sync_result_120x40", screen(&mut app, 120, 40));
    // The result stays until dismissed.
    app.set_snapshot(Arc::new(with_operation(&app, None, None)));
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Done);
    app.handle_key(key(KeyCode::Enter));
    assert!(app.sync_dialog().is_none());
    assert_eq!(app.context(), Context::Apps);
}

#[test]
fn an_older_finished_operation_is_not_taken_for_the_new_one() {
    let (mut app, mut rx) = ui_with_engine(TuiOptions::default());
    let old = checkout_operation(OperationPhase::Failed, &[StepStatus::Failed]);
    app.set_snapshot(Arc::new(with_operation(&app, Some(old.clone()), None)));
    select_app(&mut app, "checkout");
    type_text(&mut app, "s");
    received(&mut rx);
    app.handle_key(key(KeyCode::Enter));
    type_text(&mut app, "y");
    assert!(matches!(
        received(&mut rx).pop(),
        Some(EngineCommand::Sync { .. })
    ));
    app.set_snapshot(Arc::new(with_operation(&app, Some(old), None)));
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Running);
    assert!(app.sync_dialog().unwrap().operation().is_none());
    let mut new = checkout_operation(OperationPhase::Running, &[StepStatus::Running]);
    new.started_at = "2026-05-01T12:00:00Z".into();
    app.set_snapshot(Arc::new(with_operation(&app, Some(new), None)));
    assert!(app.sync_dialog().unwrap().operation().is_some());
}

#[test]
fn the_engine_refusing_the_sync_is_shown() {
    let (mut app, mut rx) = open_sync(TuiOptions::default());
    app.handle_key(key(KeyCode::Enter));
    type_text(&mut app, "y");
    let Some(EngineCommand::Sync { reply, .. }) = received(&mut rx).pop() else {
        panic!("expected a Sync command");
    };
    reply
        .unwrap()
        .send(Err(
            "argocd/checkout: another operation is already running".into()
        ))
        .unwrap();
    app.poll_replies();
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Done);
    let text = rows(&mut app, 120, 40).join("\n");
    assert!(
        text.contains("✗ Sync not started: argocd/checkout: another operation is already running"),
        "{text}"
    );
}

#[test]
fn read_only_opens_the_dialog_but_refuses_the_sync() {
    let (mut app, mut rx) = open_sync(TuiOptions {
        read_only: true,
        ..TuiOptions::default()
    });
    let text = screen(&mut app, 80, 24);
    assert!(text.contains("read-only"), "{text}");
    app.handle_key(key(KeyCode::Enter));
    let m = app.message().unwrap();
    assert_eq!(m.kind, MessageKind::Error);
    assert!(
        m.text
            .contains("read-only: rekon refuses changes to the cluster"),
        "{}",
        m.text
    );
    insta::assert_snapshot!("sync_read_only_80x24", screen(&mut app, 80, 24));
    type_text(&mut app, "y");
    assert!(app.message().unwrap().text.contains("read-only"));
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Options);
    assert!(
        !received(&mut rx)
            .iter()
            .any(|c| matches!(c, EngineCommand::Sync { .. })),
        "no sync reached the engine"
    );
}

#[test]
fn readonly_command_also_refuses_a_sync_already_being_confirmed() {
    let (mut app, mut rx) = open_sync(TuiOptions::default());
    app.handle_key(key(KeyCode::Enter));
    type_text(&mut app, ":readonly");
    app.handle_key(key(KeyCode::Enter));
    type_text(&mut app, "y");
    assert!(
        app.message()
            .unwrap()
            .text
            .contains("this sync was not started")
    );
    assert!(received(&mut rx).is_empty());
}

#[test]
fn x_terminates_a_running_sync_and_esc_leaves_it_running() {
    let (mut app, mut rx) = open_sync(TuiOptions::default());
    app.handle_key(key(KeyCode::Enter));
    type_text(&mut app, "y");
    received(&mut rx);
    type_text(&mut app, "x");
    let Some(EngineCommand::Terminate { app: name }) = received(&mut rx).pop() else {
        panic!("expected a Terminate command");
    };
    assert_eq!(name, "argocd/checkout");
    app.handle_key(key(KeyCode::Esc));
    assert!(app.sync_dialog().is_none());
    assert!(app.message().unwrap().text.contains("goes on"));
}

#[test]
fn selective_sync_from_marks() {
    let (mut app, mut rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    app.handle_key(key(KeyCode::Enter));
    type_text(&mut app, "jj s");
    let (opts, reply) = plan_request(&mut rx);
    assert_eq!(
        opts.resources,
        [ResourceKey::new("apps", "Deployment", "shop", "checkout")]
    );
    reply.send(Ok(checkout_plan(false))).unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("[x] only the 1 marked: Deployment checkout"),
        "{text}"
    );
}

#[test]
fn rollback_from_history_confirms_then_follows_the_operation() {
    let (mut app, mut rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    type_text(&mut app, "hjR");
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Confirm);
    let (opts, reply) = plan_request(&mut rx);
    assert_eq!(
        opts.revision.as_deref(),
        Some("9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c"),
        "the plan previews the rollback's revision"
    );
    reply.send(Ok(checkout_plan(false))).unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("Roll checkout back to 9b8c7d6 now?"),
        "{text}"
    );
    insta::assert_snapshot!("rollback_confirm_80x24", screen(&mut app, 80, 24));
    type_text(&mut app, "y");
    let Some(EngineCommand::Rollback {
        app: name,
        id,
        initiated_by,
        reply,
        ..
    }) = received(&mut rx).pop()
    else {
        panic!("expected a Rollback command");
    };
    assert_eq!(
        (name.as_str(), id, initiated_by.as_str()),
        ("argocd/checkout", 2, "tester@ci")
    );
    reply
        .unwrap()
        .send(Err(
            "argocd/checkout has auto-sync on: turn it off before a rollback".into(),
        ))
        .unwrap();
    app.poll_replies();
    let text = rows(&mut app, 120, 40).join("\n");
    assert!(
        text.contains("Rollback not started: argocd/checkout has auto-sync on"),
        "{text}"
    );
    // Esc from the confirmation of a rollback closes the dialog.
    app.handle_key(key(KeyCode::Esc));
    type_text(&mut app, "R");
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.breadcrumbs(), ["Apps", "checkout history"]);
}

#[test]
fn opening_the_dialog_during_a_running_sync_shows_its_progress() {
    let (mut app, mut rx) = ui_with_engine(TuiOptions::default());
    let running = checkout_operation(OperationPhase::Running, &[StepStatus::Running]);
    app.set_snapshot(Arc::new(with_operation(&app, Some(running), None)));
    select_app(&mut app, "checkout");
    type_text(&mut app, "s");
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Running);
    assert_eq!(app.context(), Context::SyncProgress);
    assert!(
        received(&mut rx).is_empty(),
        "no plan for a sync that cannot start"
    );
    let text = rows(&mut app, 120, 40).join("\n");
    assert!(text.contains("Sync running · 0 of 6 steps done"), "{text}");
}
