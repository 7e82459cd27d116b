//! The sync dialog, refresh and terminate for apps Argo CD and Flux reconcile: where the
//! engine leaves the plan to their controller, the dialog shows what the sync asks of it
//! (the `operation` field, `flux reconcile --with-source`), then follows the outcome: Argo
//! CD's `operationState` from the snapshots, Flux's answer. The test plays the engine.

use std::sync::Arc;

use crate::support::tui::observed::*;
use crate::support::tui::*;
use crossterm::event::KeyCode;
use rekon::model::{
    Operation, OperationPhase, StepAction, StepStatus, SyncOptions, SyncPhase, SyncPlan,
};
use rekon::runtime::EngineCommand;
use rekon::tui::{App, Context, SyncStage, TuiOptions};
use tokio::sync::{mpsc, oneshot};

type PlanReply = oneshot::Sender<Result<SyncPlan, String>>;

fn plan_request(rx: &mut mpsc::Receiver<EngineCommand>, want: &str) -> (SyncOptions, PlanReply) {
    match received(rx).pop() {
        Some(EngineCommand::Plan {
            app,
            options,
            reply,
        }) => {
            assert_eq!(app, want);
            (options, reply)
        }
        other => panic!("expected a Plan command, got {other:?}"),
    }
}

const EDGE: &str = "argocd:argocd/edge@demo-prod";
const APPS: &str = "flux-ks:flux-system/apps@demo-staging";

fn open_sync(app_name: &str, engine_name: &str) -> (App, mpsc::Receiver<EngineCommand>) {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    select_app(&mut app, app_name);
    type_text(&mut app, "s");
    assert_eq!(app.context(), Context::Sync);
    let (_, reply) = plan_request(&mut rx, engine_name);
    // What the engine answers for an observed app.
    let who = if engine_name.starts_with("argocd") {
        "argocd"
    } else {
        "flux"
    };
    reply
        .send(Err(format!(
            "{engine_name} is reconciled by {who}: it plans its own syncs"
        )))
        .unwrap();
    app.poll_replies();
    (app, rx)
}

/// Argo CD's operation as the snapshot shows it while it runs and when it ended.
fn argo_operation(phase: OperationPhase, started: &str) -> Operation {
    let step = |kind: &str, name: &str, status| rekon::model::SyncStep {
        phase: SyncPhase::Sync,
        wave: 0,
        group: if kind == "Deployment" { "apps" } else { "" }.into(),
        version: "v1".into(),
        kind: kind.into(),
        namespace: "edge".into(),
        name: name.into(),
        action: StepAction::Configured,
        status,
        message: String::new(),
        takes: Vec::new(),
        replace: false,
    };
    Operation {
        app: "argocd/edge".into(),
        phase,
        revision: "4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49".into(),
        steps: vec![
            step("Deployment", "edge", StepStatus::Succeeded),
            step(
                "Service",
                "edge",
                if phase == OperationPhase::Running {
                    StepStatus::Running
                } else {
                    StepStatus::Succeeded
                },
            ),
        ],
        message: match phase {
            OperationPhase::Running => "waiting for healthy state of apps/Deployment/edge".into(),
            OperationPhase::Terminated => "Operation terminated".into(),
            _ => "successfully synced (all tasks run)".into(),
        },
        started_at: started.into(),
        finished_at: (phase != OperationPhase::Running).then(|| "2026-05-01T11:59:40Z".into()),
        initiated_by: "tester@ci".into(),
        dry_run: false,
    }
}

fn with_edge_operation(app: &App, op: Option<Operation>) -> Arc<rekon::model::Snapshot> {
    let mut s = app.snapshot().clone();
    s.generation += 1;
    for a in &mut s.apps {
        if a.name == "edge" {
            a.operation = op.clone();
        }
    }
    Arc::new(s)
}

#[test]
fn argo_sync_shows_the_operation_it_writes_and_follows_operation_state() {
    let (mut app, mut rx) = open_sync("edge", EDGE);
    let text = screen(&mut app, 120, 40);
    for want in [
        "Argo CD plans and runs this sync; rekon asks for it in the Application's operation field:",
        "revision   main",
        "prune      no",
        "resources  all of the app's resources",
        "Argo CD reports now: 1 out of sync · 1 to prune",
        "● Deployment edge/edge",
        "− Service edge/edge-legacy  kept: prune is off",
    ] {
        assert!(text.contains(want), "missing {want:?}:\n{text}");
    }
    assert!(!text.contains("cannot plan"), "{text}");
    insta::assert_snapshot!("argo_sync_preview_120x40", text);

    // The options still apply: prune is asked for again, and shown.
    type_text(&mut app, "p");
    let (options, reply) = plan_request(&mut rx, EDGE);
    assert!(options.prune);
    reply.send(Err("plans its own syncs".into())).unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("prune      yes: resources that left Git are deleted"),
        "{text}"
    );
    assert!(
        text.contains("edge/edge-legacy  deleted by this sync"),
        "{text}"
    );

    app.handle_key(key(KeyCode::Enter));
    assert!(screen(&mut app, 120, 40).contains("Ask Argo CD to sync edge now?"));
    insta::assert_snapshot!("argo_sync_confirm_80x24", screen(&mut app, 80, 24));
    type_text(&mut app, "y");
    let Some(EngineCommand::Sync {
        app: name,
        options,
        reply: Some(reply),
        ..
    }) = received(&mut rx).pop()
    else {
        panic!("expected a Sync command");
    };
    assert_eq!(name, EDGE);
    assert!(options.prune);
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Running);
    assert!(
        screen(&mut app, 120, 40).contains("waiting for Argo CD to take the operation"),
        "before any operation shows"
    );

    // The operation field is written; Argo CD has not taken it yet.
    let requested = Operation {
        revision: String::new(),
        steps: vec![],
        started_at: String::new(),
        message: "waiting for the Argo CD controller to start the operation".into(),
        ..argo_operation(OperationPhase::Running, "")
    };
    let snap = with_edge_operation(&app, Some(requested));
    app.set_snapshot(snap);
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("⠋ Sync running "), "{text}");
    assert!(!text.contains("steps done"), "no steps yet: {text}");
    assert!(text.contains("asked by tester@ci"), "{text}");
    assert!(
        text.contains("waiting for the Argo CD controller to start the operation"),
        "{text}"
    );

    // Argo CD runs it: progress comes from operationState in the snapshots.
    let running = argo_operation(OperationPhase::Running, "2026-05-01T11:59:00Z");
    let snap = with_edge_operation(&app, Some(running));
    app.set_snapshot(snap);
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("Sync running · 1 of 2 steps done"), "{text}");
    assert!(
        text.contains("waiting for healthy state of apps/Deployment/edge"),
        "{text}"
    );
    insta::assert_snapshot!("argo_sync_progress_120x40", text);

    // x terminates it through the engine.
    type_text(&mut app, "x");
    let Some(EngineCommand::Terminate { app: name }) = received(&mut rx).pop() else {
        panic!("expected a Terminate command");
    };
    assert_eq!(name, EDGE);
    let terminated = argo_operation(OperationPhase::Terminated, "2026-05-01T11:59:00Z");
    let snap = with_edge_operation(&app, Some(terminated.clone()));
    app.set_snapshot(snap);
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Done);
    assert!(screen(&mut app, 120, 40).contains("■ Sync terminated"));
    // The engine's own answer comes later and agrees.
    reply.send(Ok(terminated)).unwrap();
    app.poll_replies();
    assert_eq!(app.sync_dialog().unwrap().stage(), SyncStage::Done);
}

#[test]
fn an_argo_operation_running_already_opens_as_progress() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    let running = argo_operation(OperationPhase::Running, "2026-05-01T11:59:00Z");
    let snap = with_edge_operation(&app, Some(running));
    app.set_snapshot(snap);
    select_app(&mut app, "edge");
    type_text(&mut app, "s");
    assert_eq!(app.context(), Context::SyncProgress);
    assert!(received(&mut rx).is_empty(), "no second sync is offered");
    type_text(&mut app, "x");
    assert!(matches!(
        received(&mut rx).pop(),
        Some(EngineCommand::Terminate { app }) if app == EDGE
    ));
}

#[test]
fn refresh_and_hard_refresh_reach_argo_cd_apps() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    select_app(&mut app, "edge");
    type_text(&mut app, "r");
    assert!(matches!(
        received(&mut rx).pop(),
        Some(EngineCommand::Refresh { app: Some(a), hard: false }) if a == EDGE
    ));
    type_text(&mut app, ":refresh!");
    app.handle_key(key(KeyCode::Enter));
    assert!(matches!(
        received(&mut rx).pop(),
        Some(EngineCommand::Refresh { app: Some(a), hard: true }) if a == EDGE
    ));
    assert_eq!(
        app.message().unwrap().text,
        "hard refresh of edge asked; the table updates when it is done"
    );
}

#[test]
fn flux_sync_is_a_reconcile_with_source() {
    let (mut app, mut rx) = open_sync("apps", APPS);
    let text = screen(&mut app, 120, 40);
    for want in [
        "Flux plans and runs its own syncs; this asks it to reconcile with the source first,",
        "flux reconcile kustomization apps -n flux-system --with-source",
        "1. source  GitRepository flux-system/platform fetches main",
        "2. app     Kustomization flux-system/apps applies ./apps at the revision the source stores",
    ] {
        assert!(text.contains(want), "missing {want:?}:\n{text}");
    }
    assert!(!text.contains("[ ] prune"), "no options for Flux: {text}");
    insta::assert_snapshot!("flux_sync_preview_120x40", text);
    // Toggles do not apply; nothing is asked.
    type_text(&mut app, "p");
    assert!(received(&mut rx).is_empty());
    assert!(
        app.message()
            .unwrap()
            .text
            .starts_with("Flux has no sync options")
    );
    app.handle_key(key(KeyCode::Enter));
    assert!(screen(&mut app, 120, 40).contains("Ask Flux to reconcile apps with its source now?"));
    type_text(&mut app, "y");
    let Some(EngineCommand::Sync {
        app: name,
        reply: Some(reply),
        ..
    }) = received(&mut rx).pop()
    else {
        panic!("expected a Sync command");
    };
    assert_eq!(name, APPS);
    let text = screen(&mut app, 120, 40);
    assert!(
        text.contains("Reconcile sent; waiting for Flux: the source first, then the app…"),
        "{text}"
    );
    // A Flux reconcile cannot be terminated.
    type_text(&mut app, "x");
    assert!(received(&mut rx).is_empty());
    assert!(app.message().unwrap().text.contains("cannot be stopped"));
    reply
        .send(Ok(Operation {
            app: APPS.into(),
            phase: OperationPhase::Succeeded,
            revision: SHA.into(),
            steps: vec![],
            message: format!("Applied revision: main@sha1:{SHA}"),
            started_at: "2026-05-01T11:59:00Z".into(),
            finished_at: Some("2026-05-01T11:59:05Z".into()),
            initiated_by: "rekon".into(),
            dry_run: false,
        }))
        .unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    assert!(text.contains("✓ Reconcile succeeded"), "{text}");
    assert!(text.contains("Applied revision: main@sha1:"), "{text}");
}

#[test]
fn a_refused_flux_sync_says_why() {
    let (mut app, mut rx) = open_sync("apps", APPS);
    app.handle_key(key(KeyCode::Enter));
    type_text(&mut app, "y");
    let Some(EngineCommand::Sync { reply: Some(r), .. }) = received(&mut rx).pop() else {
        panic!("expected a Sync command");
    };
    r.send(Err(
        "flux-ks:flux-system/apps is suspended (spec.suspend: true): resume it first".into(),
    ))
    .unwrap();
    app.poll_replies();
    assert!(
        screen(&mut app, 120, 40).contains(
            "✗ Reconcile not started: flux-ks:flux-system/apps is suspended (spec.suspend: true): resume it first"
        )
    );
}
