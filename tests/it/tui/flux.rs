//! Driving Flux from the TUI: reconcile (with its source), suspend and resume by key and by
//! `:` command, the spinner and the outcome, the refusals (suspended, read-only, not a Flux
//! app), the keys offered only on Flux apps, the Flux graph view and the image automation
//! view. The test plays the engine: it reads the commands and answers them.

use std::sync::Arc;

use crate::support::tui::observed::*;
use crate::support::tui::*;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use rekon::integrations::flux_graph::{self, FluxGraph};
use rekon::integrations::images::{PolicyImages, WorkloadImage};
use rekon::model::ResourceKey;
use rekon::runtime::{EngineCommand, ObservedCommand};
use rekon::tui::{App, Context, GraphLine, MessageKind, TuiOptions};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

type Answer = oneshot::Sender<Result<String, String>>;

/// Keys (or a command) pressed on the app under the cursor.
type Press = dyn Fn(&mut App);

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn run_command(app: &mut App, line: &str) {
    type_text(app, ":");
    type_text(app, line);
    app.handle_key(key(KeyCode::Enter));
}

fn status_line(app: &mut App, w: u16, h: u16) -> String {
    let r = rows(app, w, h);
    r[r.len() - 2].trim_end().to_string()
}

/// The one Flux action the fake engine received: (verb, app, with_source, reply).
fn flux_command(rx: &mut mpsc::Receiver<EngineCommand>) -> (&'static str, String, bool, Answer) {
    let mut got = received(rx);
    assert_eq!(got.len(), 1, "exactly one command: {got:?}");
    match got.pop() {
        Some(EngineCommand::Observed(ObservedCommand::Reconcile {
            app,
            with_source,
            reply: Some(reply),
        })) => ("reconcile", app, with_source, reply),
        Some(EngineCommand::Observed(ObservedCommand::Suspend {
            app,
            reply: Some(reply),
        })) => ("suspend", app, false, reply),
        Some(EngineCommand::Observed(ObservedCommand::Resume {
            app,
            reply: Some(reply),
        })) => ("resume", app, false, reply),
        other => panic!("expected a Flux command with a reply, got {other:?}"),
    }
}

#[test]
fn flux_keys_are_offered_only_on_flux_apps() {
    let (mut app, _rx) = flux_ui(TuiOptions::default());
    select_app(&mut app, "checkout");
    let bar = rows(&mut app, 120, 40).pop().unwrap();
    assert!(
        !bar.contains("reconcile") && !bar.contains("suspend"),
        "{bar}"
    );
    select_app(&mut app, "edge");
    let bar = rows(&mut app, 120, 40).pop().unwrap();
    assert!(!bar.contains("reconcile"), "Argo CD apps have none: {bar}");
    select_app(&mut app, "apps");
    let bar = rows(&mut app, 120, 40).pop().unwrap();
    assert!(bar.contains("s sync  R reconcile  T suspend"), "{bar}");
    insta::assert_snapshot!("flux_hint_bar_120x40", screen(&mut app, 120, 40));
    insta::assert_snapshot!("flux_hint_bar_80x24", screen(&mut app, 80, 24));
    // A suspended app offers resume on the same key.
    select_app(&mut app, "redis");
    let bar = rows(&mut app, 80, 24).pop().unwrap();
    assert!(
        bar.contains("T resume") && !bar.contains("T suspend"),
        "{bar}"
    );
    // The app view of a Flux app offers them too.
    select_app(&mut app, "infra");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.context(), Context::App);
    let bar = rows(&mut app, 120, 40).pop().unwrap();
    assert!(bar.contains("R reconcile  T suspend"), "{bar}");
}

#[test]
fn reconcile_shows_a_spinner_then_what_flux_reported() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    select_app(&mut app, "apps");
    type_text(&mut app, "R");
    let (verb, name, with_source, reply) = flux_command(&mut rx);
    assert_eq!(
        (verb, name.as_str(), with_source),
        ("reconcile", "flux-ks:flux-system/apps@demo-staging", false)
    );
    assert!(app.is_animating(), "the spinner turns while Flux works");
    assert_eq!(
        status_line(&mut app, 120, 40),
        " ⠋ reconciling flux-system/apps… (waiting for Flux)"
    );
    // The user moves on: the outcome still arrives.
    type_text(&mut app, "j");
    reply
        .send(Ok(format!("Applied revision: main@sha1:{SHA}")))
        .unwrap();
    assert!(app.poll_replies());
    assert_eq!(
        app.message().map(|m| (m.kind, m.text.clone())),
        Some((
            MessageKind::Info,
            format!("✓ reconciled flux-system/apps: Applied revision: main@sha1:{SHA}")
        ))
    );
    assert!(app.running_actions().is_empty());
    assert!(!app.is_animating());
}

#[test]
fn every_flux_key_and_command_sends_its_engine_command() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    let cases: [(&str, &Press, &str, &str, bool); 7] = [
        (
            "apps",
            &|a| type_text(a, "R"),
            "reconcile",
            "flux-ks:flux-system/apps@demo-staging",
            false,
        ),
        (
            "apps",
            &|a| {
                a.handle_key(ctrl('r'));
            },
            "reconcile",
            "flux-ks:flux-system/apps@demo-staging",
            true,
        ),
        (
            "infra",
            &|a| type_text(a, "T"),
            "suspend",
            "flux-ks:flux-system/infra@demo-staging",
            false,
        ),
        (
            "redis",
            &|a| type_text(a, "T"),
            "resume",
            "flux-hr:cache/redis@demo-staging",
            false,
        ),
        (
            "apps",
            &|a| run_command(a, "reconcile!"),
            "reconcile",
            "flux-ks:flux-system/apps@demo-staging",
            true,
        ),
        (
            "infra",
            &|a| run_command(a, "suspend"),
            "suspend",
            "flux-ks:flux-system/infra@demo-staging",
            false,
        ),
        (
            "redis",
            &|a| run_command(a, "resume"),
            "resume",
            "flux-hr:cache/redis@demo-staging",
            false,
        ),
    ];
    for (target, press, verb, name, with_source) in cases {
        select_app(&mut app, target);
        press(&mut app);
        let (got_verb, got_name, got_source, reply) = flux_command(&mut rx);
        assert_eq!(
            (got_verb, got_name.as_str(), got_source),
            (verb, name, with_source),
            "on {target}"
        );
        reply.send(Ok("Ready".into())).unwrap();
        app.poll_replies();
        assert!(app.running_actions().is_empty());
    }
    // The answer to suspend names what it means.
    select_app(&mut app, "apps");
    type_text(&mut app, "T");
    let (_, _, _, reply) = flux_command(&mut rx);
    reply
        .send(Ok("flux-ks:flux-system/apps suspended".into()))
        .unwrap();
    app.poll_replies();
    assert_eq!(
        app.message().unwrap().text,
        "✓ suspended flux-system/apps: Flux leaves it alone until it is resumed"
    );
}

#[test]
fn a_second_action_on_the_same_app_waits_for_the_first() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    select_app(&mut app, "apps");
    type_text(&mut app, "R");
    let (_, _, _, _reply) = flux_command(&mut rx);
    type_text(&mut app, "T");
    assert!(received(&mut rx).is_empty(), "nothing more is sent");
    assert_eq!(
        app.message().unwrap().text,
        "reconciling flux-system/apps already: wait for Flux to answer"
    );
    // Another app is free.
    select_app(&mut app, "infra");
    type_text(&mut app, "R");
    let (_, name, _, _reply2) = flux_command(&mut rx);
    assert_eq!(name, "flux-ks:flux-system/infra@demo-staging");
    assert_eq!(
        status_line(&mut app, 120, 40),
        " ⠋ reconciling flux-system/apps… · reconciling flux-system/infra… (waiting for Flux)"
    );
}

#[test]
fn a_suspended_app_is_not_reconciled() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    select_app(&mut app, "redis");
    type_text(&mut app, "R");
    assert!(received(&mut rx).is_empty(), "refused before asking Flux");
    let m = app.message().unwrap();
    assert_eq!(
        (m.kind, m.text.as_str()),
        (
            MessageKind::Error,
            "cache/redis is suspended: resume it first (:resume)"
        )
    );
    insta::assert_snapshot!("flux_suspended_refusal_80x24", screen(&mut app, 80, 24));
    insta::assert_snapshot!("flux_suspended_refusal_120x40", screen(&mut app, 120, 40));
    // Suspended meanwhile (the snapshot was older): the engine's refusal is shown the same
    // way, and stays as a toast.
    select_app(&mut app, "apps");
    type_text(&mut app, "R");
    let (_, _, _, reply) = flux_command(&mut rx);
    reply
        .send(Err(
            "flux-ks:flux-system/apps is suspended (spec.suspend: true): resume it first".into(),
        ))
        .unwrap();
    app.poll_replies();
    assert_eq!(
        app.message().unwrap().text,
        "✗ could not reconcile flux-system/apps: flux-ks:flux-system/apps is suspended (spec.suspend: true): resume it first"
    );
    assert!(
        app.toasts()
            .iter()
            .any(|t| t.warning && t.text.contains("is suspended"))
    );
}

#[test]
fn read_only_mode_refuses_flux_actions() {
    let (mut app, mut rx) = flux_ui(TuiOptions {
        read_only: true,
        ..TuiOptions::default()
    });
    select_app(&mut app, "apps");
    let presses: [&dyn Fn(&mut App); 3] = [&|a| type_text(a, "R"), &|a| type_text(a, "T"), &|a| {
        run_command(a, "reconcile!")
    }];
    for press in presses {
        press(&mut app);
        let m = app.message().unwrap();
        assert_eq!(m.kind, MessageKind::Error);
        assert!(
            m.text.starts_with(
                "read-only: rekon refuses changes to the cluster: flux-system/apps was not"
            ),
            "{}",
            m.text
        );
    }
    assert!(received(&mut rx).is_empty());
    insta::assert_snapshot!("flux_read_only_80x24", screen(&mut app, 80, 24));
}

#[test]
fn flux_actions_on_other_apps_say_what_to_use() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    select_app(&mut app, "edge");
    type_text(&mut app, "R");
    assert_eq!(
        app.message().unwrap().text,
        "argocd/edge is an Argo CD Application: reconcile is for Flux apps (:refresh and :sync ask Argo CD)"
    );
    select_app(&mut app, "checkout");
    run_command(&mut app, "suspend");
    assert!(
        app.message()
            .unwrap()
            .text
            .starts_with("argocd/checkout is one of rekon's own apps: suspend is for Flux apps")
    );
    assert!(received(&mut rx).is_empty());
}

// ---------------------------------------------------------------------------------------
// The Flux graph.

fn graph_request(
    rx: &mut mpsc::Receiver<EngineCommand>,
) -> oneshot::Sender<Result<Vec<FluxGraph>, String>> {
    let mut got = received(rx);
    assert_eq!(got.len(), 1, "one graph request: {got:?}");
    match got.pop() {
        Some(EngineCommand::Observed(ObservedCommand::FluxGraph { reply })) => reply,
        other => panic!("expected a FluxGraph command, got {other:?}"),
    }
}

/// Moves the graph's cursor to the line naming `kind` `name` (a node, not an edge).
fn select_line(app: &mut App, kind: &str, name: &str) {
    type_text(app, "g");
    for _ in 0..40 {
        let on = app.flux_graph().and_then(|g| g.selected_line()).cloned();
        if let Some(GraphLine::Node { key, .. }) = on
            && key.kind == kind
            && key.name == name
        {
            return;
        }
        type_text(app, "j");
    }
    panic!("no graph line for {kind} {name}");
}

#[test]
fn graph_view_shows_sources_appliers_dependencies_and_inventories() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    run_command(&mut app, "graph");
    assert_eq!(app.context(), Context::Graph);
    let reply = graph_request(&mut rx);
    assert!(app.is_animating());
    assert!(
        rows(&mut app, 120, 40)
            .join("\n")
            .contains("asking the engine for the Flux graph")
    );
    reply.send(Ok(graphs())).unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    for want in [
        "⎈ demo-staging",
        "GitRepository flux-system/platform",
        "├─ Kustomization flux-system/infra",
        "▸ applies Kustomization flux-system/apps",
        "└─ Kustomization flux-system/apps",
        "→ depends on Kustomization flux-system/infra",
        "└─ HelmChart flux-system/cache-redis",
        "└─ HelmRelease cache/redis",
        "‖ Suspended",
        "main@0123456",
    ] {
        assert!(text.contains(want), "missing {want:?}:\n{text}");
    }
    insta::assert_snapshot!("flux_graph_120x40", text);
    insta::assert_snapshot!("flux_graph_80x24", screen(&mut app, 80, 24));
}

#[test]
fn graph_view_opens_apps_acts_on_them_and_follows_snapshots() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    // The key from the apps view.
    type_text(&mut app, "F");
    assert_eq!(app.context(), Context::Graph);
    graph_request(&mut rx).send(Ok(graphs())).unwrap();
    app.poll_replies();

    // Flux keys act on the Kustomization under the cursor, not on the apps table's row.
    select_line(&mut app, "Kustomization", "infra");
    let bar = rows(&mut app, 120, 40).pop().unwrap();
    assert!(bar.contains("enter open  R reconcile  T suspend"), "{bar}");
    type_text(&mut app, "R");
    let (_, name, _, _reply) = flux_command(&mut rx);
    assert_eq!(name, "flux-ks:flux-system/infra@demo-staging");
    // A source is not an app: nothing is sent for it.
    select_line(&mut app, "GitRepository", "platform");
    type_text(&mut app, "T");
    assert!(received(&mut rx).is_empty());
    assert_eq!(app.message().unwrap().text, "no app selected");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        app.message().unwrap().text,
        "GitRepository flux-system/platform is not an app: open a Kustomization or HelmRelease"
    );

    // A new snapshot asks again; only one request is in flight at a time.
    let mut next = observed_snapshot();
    next.generation += 1;
    app.set_snapshot(Arc::new(next.clone()));
    let reply = graph_request(&mut rx);
    next.generation += 1;
    app.set_snapshot(Arc::new(next));
    assert!(
        received(&mut rx).is_empty(),
        "waits for the answer in flight"
    );
    let without_redis: Vec<Value> = flux_objects()
        .into_iter()
        .filter(|o| o["kind"] != "HelmRelease")
        .collect();
    reply
        .send(Ok(vec![flux_graph::build(
            "demo-staging",
            without_redis.iter(),
        )]))
        .unwrap();
    app.poll_replies();
    let again = graph_request(&mut rx);
    assert!(!screen(&mut app, 120, 40).contains("HelmRelease cache/redis"));
    // The cursor stayed on the same object across reloads.
    assert!(matches!(
        app.flux_graph().unwrap().selected_line(),
        Some(GraphLine::Node { key, .. }) if key.name == "platform"
    ));
    again.send(Ok(graphs())).unwrap();
    app.poll_replies();

    // Enter on a Kustomization opens its app view; esc comes back.
    select_line(&mut app, "Kustomization", "apps");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.context(), Context::App);
    assert_eq!(app.app_view().unwrap().app().name, "apps");
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.context(), Context::Graph);
    assert_eq!(app.breadcrumbs(), ["Apps", "Flux graph"]);
}

#[test]
fn graph_view_says_when_there_is_no_flux() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    run_command(&mut app, "flux");
    graph_request(&mut rx).send(Ok(vec![])).unwrap();
    app.poll_replies();
    assert!(screen(&mut app, 80, 24).contains("No Flux objects in the connected clusters"),);
    // A failure is shown, not hidden.
    let mut next = observed_snapshot();
    next.generation += 1;
    app.set_snapshot(Arc::new(next));
    graph_request(&mut rx)
        .send(Err("the engine stopped".into()))
        .unwrap();
    app.poll_replies();
    assert!(screen(&mut app, 120, 40).contains("cannot show the Flux graph: the engine stopped"));
}

// ---------------------------------------------------------------------------------------
// Image automation.

fn workload(name: &str, tag: &str, behind: bool) -> WorkloadImage {
    WorkloadImage {
        workload: ResourceKey::new("apps", "Deployment", "monitoring", name),
        container: "exporter".into(),
        image: format!("quay.io/prometheus/blackbox-exporter:{tag}"),
        tag: tag.into(),
        behind,
    }
}

fn policies() -> Vec<PolicyImages> {
    vec![
        PolicyImages {
            cluster: "demo-staging".into(),
            policy: ResourceKey::new(
                "image.toolkit.fluxcd.io",
                "ImagePolicy",
                "flux-system",
                "exporter",
            ),
            image: "quay.io/prometheus/blackbox-exporter".into(),
            latest_tag: "v0.25.0".into(),
            workloads: vec![
                workload("exporter", "v0.24.0", true),
                workload("exporter-canary", "v0.25.0", false),
            ],
        },
        PolicyImages {
            cluster: "demo-staging".into(),
            policy: ResourceKey::new(
                "image.toolkit.fluxcd.io",
                "ImagePolicy",
                "flux-system",
                "podinfo",
            ),
            image: "ghcr.io/stefanprodan/podinfo".into(),
            latest_tag: "6.5.4".into(),
            workloads: vec![],
        },
    ]
}

fn images_request(
    rx: &mut mpsc::Receiver<EngineCommand>,
) -> oneshot::Sender<Result<Vec<PolicyImages>, String>> {
    let mut got = received(rx);
    assert_eq!(got.len(), 1, "one images request: {got:?}");
    match got.pop() {
        Some(EngineCommand::Observed(ObservedCommand::Images { reply })) => reply,
        other => panic!("expected an Images command, got {other:?}"),
    }
}

#[test]
fn images_view_flags_workloads_behind_their_policy() {
    let (mut app, mut rx) = flux_ui(TuiOptions::default());
    run_command(&mut app, "images");
    assert_eq!(app.context(), Context::Images);
    let reply = images_request(&mut rx);
    assert!(screen(&mut app, 80, 24).contains("asking the engine for the image policies"));
    reply.send(Ok(policies())).unwrap();
    app.poll_replies();
    let text = screen(&mut app, 120, 40);
    for want in [
        "[2 policies · 1 behind]",
        "flux-system/exporter",
        "v0.25.0",
        "Deployment monitoring/exporter ",
        "● behind",
        "✓ current",
        "no workload runs it",
    ] {
        assert!(text.contains(want), "missing {want:?}:\n{text}");
    }
    insta::assert_snapshot!("flux_images_120x40", text);
    insta::assert_snapshot!("flux_images_80x24", screen(&mut app, 80, 24));

    // Enter opens the app that lists the workload; a workload no app lists says so.
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.context(), Context::App);
    assert_eq!(app.app_view().unwrap().app().name, "apps");
    app.handle_key(key(KeyCode::Esc));
    type_text(&mut app, "j");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.context(), Context::Images);
    assert_eq!(
        app.message().unwrap().text,
        "no app lists Deployment monitoring/exporter-canary among its resources"
    );
    // The key from the apps view opens it too, replacing nothing else.
    app.handle_key(key(KeyCode::Esc));
    type_text(&mut app, "I");
    assert_eq!(app.context(), Context::Images);
    assert_eq!(app.images_view().unwrap().policies().len(), 0);
    images_request(&mut rx);
}
