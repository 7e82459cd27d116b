//! The app view (topology tree, details, live YAML), drift toasts and the app-wide `:`
//! commands, driven by synthetic keys and hand-built snapshots; the test plays the engine.

use std::sync::Arc;

use crate::support::tui::*;
use crossterm::event::{KeyCode, KeyModifiers, MouseEvent, MouseEventKind};
use rekon::model::{Health, ResourceKey, SyncStatus, TreeNode};
use rekon::runtime::EngineCommand;
use rekon::tui::{Context, Focus, MessageKind, TuiOptions};

fn open_checkout() -> (rekon::tui::App, tokio::sync::mpsc::Receiver<EngineCommand>) {
    let (mut app, rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.context(), Context::App);
    (app, rx)
}

fn selected(app: &rekon::tui::App) -> String {
    let key = app.app_view().unwrap().selected_key().unwrap();
    format!("{} {}", key.kind, key.name)
}

fn k(group: &str, kind: &str, ns: &str, name: &str) -> ResourceKey {
    ResourceKey::new(group, kind, ns, name)
}

#[test]
fn tree_with_details_120x40_and_80x24() {
    let (mut app, _rx) = open_checkout();
    assert_eq!(app.breadcrumbs(), ["Apps", "checkout"]);
    assert_eq!(selected(&app), "Application checkout");
    insta::assert_snapshot!("app_tree_root_120x40", screen(&mut app, 120, 40));
    type_text(&mut app, "jj");
    assert_eq!(selected(&app), "Deployment checkout");
    let rows = rows(&mut app, 120, 40);
    assert!(
        rows.iter()
            .any(|r| r.contains("images     registry.example.com/checkout:1.25"))
    );
    insta::assert_snapshot!("app_tree_deployment_120x40", screen(&mut app, 120, 40));
    insta::assert_snapshot!("app_tree_deployment_80x24", screen(&mut app, 80, 24));
}

#[test]
fn recent_events_of_the_selected_object() {
    let (mut app, _rx) = open_checkout();
    // Application, ConfigMap, Deployment, ReplicaSet, Pod …-abcde
    type_text(&mut app, "jjjj");
    assert_eq!(selected(&app), "Pod checkout-7d9f8c-abcde");
    let text = rows(&mut app, 120, 40).join("\n");
    assert!(
        text.contains("BackOff Back-off restarting failed container"),
        "{text}"
    );
    assert!(text.contains("Pulling"), "{text}");
    assert!(
        !text.contains("ScalingReplicaSet"),
        "events of other objects stay out: {text}"
    );
}

#[test]
fn tree_navigation_expands_and_collapses() {
    let (mut app, _rx) = open_checkout();
    let view = app.app_view().unwrap();
    assert_eq!(view.visible().len(), 11, "everything starts expanded");
    type_text(&mut app, "jj");
    app.handle_key(key(KeyCode::Left));
    let deployment = vec![
        k("argoproj.io", "Application", "argocd", "checkout"),
        k("apps", "Deployment", "shop", "checkout"),
    ];
    assert!(!app.app_view().unwrap().is_open(&deployment));
    assert_eq!(app.app_view().unwrap().visible().len(), 7);
    // ← again goes to the parent; → opens, then → again steps into the first child.
    app.handle_key(key(KeyCode::Left));
    assert_eq!(selected(&app), "Application checkout");
    type_text(&mut app, "jj");
    app.handle_key(key(KeyCode::Right));
    assert!(app.app_view().unwrap().is_open(&deployment));
    app.handle_key(key(KeyCode::Right));
    assert_eq!(selected(&app), "ReplicaSet checkout-7d9f8c");
    // Enter toggles.
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.app_view().unwrap().visible().len(), 9);
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.app_view().unwrap().visible().len(), 11);
    type_text(&mut app, "G");
    assert_eq!(selected(&app), "Service checkout-legacy");
    app.handle_key(key(KeyCode::Esc));
    assert_eq!(app.context(), Context::Apps);
}

#[test]
fn live_yaml_shows_a_spinner_then_the_masked_object() {
    let (mut app, mut rx) = open_checkout();
    type_text(&mut app, "jjjjjjj");
    assert_eq!(selected(&app), "Secret checkout-db");
    type_text(&mut app, "y");
    let mut commands = received(&mut rx);
    assert_eq!(commands.len(), 1);
    let Some(EngineCommand::LiveYaml {
        app: name,
        key,
        reply,
    }) = commands.pop()
    else {
        panic!("expected a LiveYaml command");
    };
    assert_eq!(name, "argocd/checkout");
    assert_eq!(key, k("", "Secret", "shop", "checkout-db"));
    assert!(app.is_animating(), "a spinner turns while waiting");
    insta::assert_snapshot!("live_yaml_loading_80x24", screen(&mut app, 80, 24));
    reply
        .send(Ok("apiVersion: v1\nkind: Secret\nmetadata:\n  name: checkout-db\n  namespace: shop\ntype: Opaque\ndata:\n  password: +++++++++\n  username: ++++++++\n".into()))
        .unwrap();
    assert!(app.poll_replies());
    assert!(!app.is_animating());
    assert!(
        app.app_view()
            .unwrap()
            .yaml_text()
            .unwrap()
            .contains("password: +++++++++")
    );
    insta::assert_snapshot!("live_yaml_120x40", screen(&mut app, 120, 40));
    insta::assert_snapshot!("live_yaml_80x24", screen(&mut app, 80, 24));
    // y again hides it.
    type_text(&mut app, "y");
    assert!(!app.app_view().unwrap().shows_yaml());
}

#[test]
fn live_yaml_answer_for_a_node_the_user_left_is_dropped() {
    let (mut app, mut rx) = open_checkout();
    type_text(&mut app, "jj");
    type_text(&mut app, "y");
    let Some(EngineCommand::LiveYaml {
        key: first_key,
        reply: first,
        ..
    }) = received(&mut rx).pop()
    else {
        panic!("expected a LiveYaml command");
    };
    assert_eq!(first_key.kind, "Deployment");
    // The user moves on before the engine answers: the pane follows the new node.
    type_text(&mut app, "j");
    let Some(EngineCommand::LiveYaml {
        key: second_key,
        reply: second,
        ..
    }) = received(&mut rx).pop()
    else {
        panic!("moving the selection asks for the new node");
    };
    assert_eq!(second_key.kind, "ReplicaSet");
    // The late answer for the Deployment finds nobody waiting.
    assert!(first.is_closed(), "the abandoned request was dropped");
    let _ = first.send(Ok("kind: Deployment # STALE\n".into()));
    app.poll_replies();
    assert_eq!(app.app_view().unwrap().yaml_text(), None);
    let text = rows(&mut app, 120, 40).join("\n");
    assert!(!text.contains("STALE"), "{text}");
    assert!(text.contains("asking the engine"), "{text}");
    second
        .send(Ok("kind: ReplicaSet # FRESH\n".into()))
        .unwrap();
    app.poll_replies();
    assert_eq!(
        app.app_view().unwrap().yaml_text(),
        Some("kind: ReplicaSet # FRESH\n")
    );
}

#[test]
fn live_yaml_of_an_object_not_in_the_cluster_asks_nothing() {
    let (mut app, mut rx) = open_checkout();
    let mut snap = app.snapshot().clone();
    let checkout = snap.apps.iter_mut().find(|a| a.name == "checkout").unwrap();
    let mut detail = (**checkout.detail.as_ref().unwrap()).clone();
    detail.tree.children[2].uid = None;
    checkout.detail = Some(Arc::new(detail));
    app.set_snapshot(Arc::new(snap));
    type_text(&mut app, "jjjjjjj");
    assert_eq!(selected(&app), "Secret checkout-db");
    type_text(&mut app, "y");
    assert!(received(&mut rx).is_empty());
    let text = rows(&mut app, 120, 40).join("\n");
    assert!(text.contains("is not in the cluster"), "{text}");
}

#[test]
fn engine_errors_for_live_yaml_are_shown() {
    let (mut app, mut rx) = open_checkout();
    type_text(&mut app, "jjy");
    let Some(EngineCommand::LiveYaml { reply, .. }) = received(&mut rx).pop() else {
        panic!("expected a LiveYaml command");
    };
    reply
        .send(Err(
            "apps/Deployment:shop/checkout is not in the cluster".into()
        ))
        .unwrap();
    app.poll_replies();
    let text = rows(&mut app, 120, 40).join("\n");
    assert!(text.contains("cannot show the live object"), "{text}");
}

/// The checkout tree after a rollout: a new ReplicaSet owns the pods, an old pod is gone,
/// and a new Service appeared.
fn rolled_out(tree: &TreeNode) -> TreeNode {
    let mut tree = tree.clone();
    let deployment = &mut tree.children[1];
    let mut pods = std::mem::take(&mut deployment.children[0].children);
    pods.retain(|p| p.key.name != "checkout-7d9f8c-fghij");
    let mut new_rs = deployment.children[0].clone();
    new_rs.key.name = "checkout-66aa11".into();
    new_rs.children = pods;
    deployment.children.insert(0, new_rs);
    let mut extra = tree.children[4].clone();
    extra.key.name = "checkout-admin".into();
    extra.children.clear();
    tree.children.insert(4, extra);
    tree
}

#[test]
fn expansion_and_selection_survive_a_snapshot_update() {
    let (mut app, _rx) = open_checkout();
    // Collapse the Service, select the pod that will move to a new ReplicaSet.
    type_text(&mut app, "GkkkkkG");
    type_text(&mut app, "k");
    assert_eq!(selected(&app), "EndpointSlice checkout-x2k9p");
    app.handle_key(key(KeyCode::Left));
    app.handle_key(key(KeyCode::Left));
    assert_eq!(selected(&app), "Service checkout");
    let service = vec![
        k("argoproj.io", "Application", "argocd", "checkout"),
        k("", "Service", "shop", "checkout"),
    ];
    assert!(!app.app_view().unwrap().is_open(&service));
    type_text(&mut app, "gjjjj");
    assert_eq!(selected(&app), "Pod checkout-7d9f8c-abcde");
    let before = rows(&mut app, 120, 40);

    let mut snap = app.snapshot().clone();
    snap.generation += 1;
    let checkout = snap.apps.iter_mut().find(|a| a.name == "checkout").unwrap();
    let mut detail = (**checkout.detail.as_ref().unwrap()).clone();
    detail.tree = rolled_out(&detail.tree);
    checkout.detail = Some(Arc::new(detail));
    app.set_snapshot(Arc::new(snap));

    let view = app.app_view().unwrap();
    assert_eq!(
        selected(&app),
        "Pod checkout-7d9f8c-abcde",
        "followed by key"
    );
    assert_eq!(
        view.selected_path()[2],
        k("apps", "ReplicaSet", "shop", "checkout-66aa11"),
        "now under the new ReplicaSet"
    );
    assert!(
        !view.is_open(&service),
        "the collapsed Service stays collapsed"
    );
    let new_rs = vec![
        k("argoproj.io", "Application", "argocd", "checkout"),
        k("apps", "Deployment", "shop", "checkout"),
        k("apps", "ReplicaSet", "shop", "checkout-66aa11"),
    ];
    assert!(view.is_open(&new_rs), "new nodes appear expanded");
    let after = rows(&mut app, 120, 40);
    assert_ne!(before, after);
    assert!(after.iter().any(|r| r.contains("Service checkout-admin")));

    // A selection whose object vanished falls back to its nearest ancestor.
    type_text(&mut app, "k");
    assert_eq!(selected(&app), "ReplicaSet checkout-66aa11");
    let mut snap = app.snapshot().clone();
    let checkout = snap.apps.iter_mut().find(|a| a.name == "checkout").unwrap();
    let mut detail = (**checkout.detail.as_ref().unwrap()).clone();
    detail.tree.children[1].children.remove(0);
    checkout.detail = Some(Arc::new(detail));
    app.set_snapshot(Arc::new(snap));
    assert_eq!(selected(&app), "Deployment checkout");
}

#[test]
fn marks_choose_the_resources_of_a_selective_sync() {
    let (mut app, mut rx) = open_checkout();
    type_text(&mut app, "jj ");
    type_text(&mut app, "jjjjj ");
    assert_eq!(selected(&app), "Secret checkout-db");
    assert_eq!(
        app.app_view().unwrap().marked(),
        [
            k("apps", "Deployment", "shop", "checkout"),
            k("", "Secret", "shop", "checkout-db")
        ]
    );
    let text = rows(&mut app, 120, 40).join("\n");
    assert!(text.contains("◆ Deployment checkout"), "{text}");
    assert!(text.contains("2 marked for a selective sync"), "{text}");
    // A pod is not one of the app's own resources.
    type_text(&mut app, "kk ");
    assert_eq!(app.message().map(|m| m.kind), Some(MessageKind::Error));
    assert_eq!(app.app_view().unwrap().marked().len(), 2);

    type_text(&mut app, "s");
    let Some(EngineCommand::Plan { options, .. }) = received(&mut rx).pop() else {
        panic!("the sync dialog asks for a plan");
    };
    assert_eq!(options.resources.len(), 2);
    // m turns the selection off: the whole app again.
    type_text(&mut app, "m");
    let Some(EngineCommand::Plan { options, .. }) = received(&mut rx).pop() else {
        panic!("toggling asks for a new plan");
    };
    assert!(options.resources.is_empty());
}

#[test]
fn tab_moves_the_focus_and_the_wheel_scrolls_the_focused_pane() {
    let (mut app, _rx) = open_checkout();
    rows(&mut app, 80, 24);
    app.handle_key(key(KeyCode::Tab));
    assert_eq!(app.app_view().unwrap().focus(), Focus::Details);
    let wheel = MouseEvent {
        kind: MouseEventKind::ScrollDown,
        column: 60,
        row: 10,
        modifiers: KeyModifiers::NONE,
    };
    app.handle_mouse(&wheel);
    app.handle_mouse(&wheel);
    assert_eq!(app.app_view().unwrap().details_scroll(), 2);
    assert_eq!(
        selected(&app),
        "Application checkout",
        "the tree did not move"
    );
    app.handle_key(key(KeyCode::Tab));
    app.handle_mouse(&wheel);
    assert_eq!(selected(&app), "ConfigMap checkout-config");
}

#[test]
fn app_keys_open_the_views_of_the_selected_app() {
    let (mut app, _rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "checkout");
    type_text(&mut app, "h");
    assert_eq!(app.breadcrumbs(), ["Apps", "checkout history"]);
    app.handle_key(key(KeyCode::Esc));
    type_text(&mut app, "t");
    assert_eq!(app.breadcrumbs(), ["Apps", "checkout timeline"]);
    // :diff from the timeline acts on the same app.
    type_text(&mut app, ":diff");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        app.breadcrumbs(),
        ["Apps", "checkout timeline", "checkout diff"]
    );
    type_text(&mut app, ":apps");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.breadcrumbs(), ["Apps"]);
}

#[test]
fn refresh_goes_to_the_engine() {
    let (mut app, mut rx) = ui_with_engine(TuiOptions::default());
    select_app(&mut app, "payments");
    type_text(&mut app, "r");
    let Some(EngineCommand::Refresh { app: name, hard }) = received(&mut rx).pop() else {
        panic!("expected a Refresh command");
    };
    assert_eq!((name.as_deref(), hard), (Some("argocd/payments"), false));
    type_text(&mut app, ":refresh!");
    app.handle_key(key(KeyCode::Enter));
    let Some(EngineCommand::Refresh { hard, .. }) = received(&mut rx).pop() else {
        panic!("expected a hard Refresh command");
    };
    assert!(hard);
    assert!(
        app.message()
            .unwrap()
            .text
            .contains("hard refresh of payments")
    );
}

#[test]
fn ctx_command_shows_one_cluster_lists_them_and_clears() {
    let (mut app, _rx) = ui_with_engine(TuiOptions::default());
    let visible = |app: &rekon::tui::App| -> Vec<String> {
        app.apps_view()
            .unwrap()
            .visible_names(app.snapshot())
            .into_iter()
            .map(String::from)
            .collect()
    };
    type_text(&mut app, ":ctx demo-p");
    app.handle_key(key(KeyCode::Tab));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(visible(&app), ["batch-jobs", "checkout", "payments"]);
    insta::assert_snapshot!("ctx_filter_80x24", screen(&mut app, 80, 24));
    type_text(&mut app, ":ctx");
    app.handle_key(key(KeyCode::Enter));
    let m = app.message().unwrap().text.clone();
    assert!(
        m.contains("demo-staging (connected)") && m.contains("showing demo-prod"),
        "{m}"
    );
    type_text(&mut app, ":ctx nowhere");
    app.handle_key(key(KeyCode::Enter));
    assert!(
        app.message()
            .unwrap()
            .text
            .contains("unknown context `nowhere`")
    );
    type_text(&mut app, ":ctx all");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(visible(&app).len(), 6);
}

#[test]
fn drift_raises_a_toast_and_the_bell_when_configured() {
    let (mut app, _rx) = ui_with_engine(TuiOptions {
        bell: true,
        ..TuiOptions::default()
    });
    let mut next = app.snapshot().clone();
    next.generation += 1;
    for a in &mut next.apps {
        if a.name == "guestbook" {
            a.sync = SyncStatus::OutOfSync;
        }
        if a.name == "search" {
            a.health = Health::Degraded;
            a.message = "Deployment/search: 0 of 3 replicas available".into();
        }
    }
    app.set_snapshot(Arc::new(next.clone()));
    let toasts: Vec<String> = app.toasts().iter().map(|t| t.text.clone()).collect();
    assert_eq!(
        toasts,
        [
            "guestbook (demo-staging) drifted: OutOfSync",
            "search (demo-staging) turned Degraded: Deployment/search: 0 of 3 replicas available"
        ]
    );
    assert!(app.take_bell());
    assert!(!app.take_bell(), "rings once");
    insta::assert_snapshot!("toast_120x40", screen(&mut app, 120, 40));
    insta::assert_snapshot!("toast_80x24", screen(&mut app, 80, 24));
    // The same state again raises nothing new.
    app.set_snapshot(Arc::new(next));
    assert_eq!(app.toasts().len(), 2);
    assert!(app.expire_toasts(std::time::Instant::now() + std::time::Duration::from_secs(60)));
    assert!(app.toasts().is_empty());
}

#[test]
fn no_toast_before_the_first_comparisons_settle_and_no_bell_by_default() {
    let (mut app, _rx) = ui_with_engine(TuiOptions::default());
    let mut first = app.snapshot().clone();
    first.settled = false;
    app.set_snapshot(Arc::new(first.clone()));
    let mut next = first;
    for a in &mut next.apps {
        a.sync = SyncStatus::OutOfSync;
    }
    next.settled = true;
    app.set_snapshot(Arc::new(next));
    assert!(app.toasts().is_empty());
    let mut later = app.snapshot().clone();
    later.apps[0].health = Health::Degraded;
    app.set_snapshot(Arc::new(later));
    assert_eq!(app.toasts().len(), 1);
    assert!(
        !app.take_bell(),
        "the bell is off unless the config turns it on"
    );
}

#[test]
fn details_say_where_the_revision_came_from() {
    let (mut app, _rx) = open_checkout();
    let text = rows(&mut app, 220, 40).join("\n");
    assert!(!text.contains("Git "), "no origin yet, no line: {text}");

    let mut s = app.snapshot().clone();
    s.generation += 1;
    for a in &mut s.apps {
        if a.name == "checkout" {
            a.origin = rekon::model::RevisionOrigin {
                revision_source: Some(rekon::model::RevisionSource::Cache),
                fetched_at: Some("2026-05-01T09:00:00Z".into()),
                fetch_error: Some("connection refused".into()),
            };
        }
    }
    app.set_snapshot(Arc::new(s));
    let text = rows(&mut app, 220, 40).join("\n");
    assert!(
        text.contains("Git        cache (remote unreachable: connection refused; fetched 3h ago)"),
        "{text}"
    );
}
