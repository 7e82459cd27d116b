//! Shared helpers for the TUI tests: a hand-built snapshot of six apps in mixed states,
//! synthetic keys, and rendering on ratatui's TestBackend.

#![allow(dead_code)]

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use rekon::model::{
    AppSnapshot, ClusterSnapshot, ConnectionState, Health, ManagedBy, Snapshot, SyncStatus,
};
use rekon::tui::{App, TuiOptions};

/// The fixed clock of every test, so ages render the same on every run.
pub const NOW: &str = "2026-05-01T12:00:00Z";

#[allow(clippy::too_many_arguments)]
pub fn app(
    name: &str,
    cluster: &str,
    ns: &str,
    path: &str,
    sync: SyncStatus,
    health: Health,
    last_sync: Option<&str>,
    message: &str,
) -> AppSnapshot {
    AppSnapshot {
        name: name.into(),
        namespace: "argocd".into(),
        managed_by: ManagedBy::Rekon,
        kind: "Application".into(),
        cluster: cluster.into(),
        destination_namespace: ns.into(),
        repo_url: "https://github.com/acme/gitops.git".into(),
        path: path.into(),
        target_revision: "main".into(),
        revision: Some("4f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49".into()),
        sync,
        health,
        message: message.into(),
        auto_sync: false,
        last_sync: last_sync.map(String::from),
        resources: vec![],
        operation: None,
        detail: None,
    }
}

/// Six apps across two clusters: synced and healthy, out of sync, degraded, mid-rollout,
/// suspended, and one that could not be compared.
pub fn six_apps() -> Snapshot {
    let mut guestbook = app(
        "guestbook",
        "demo-staging",
        "guestbook",
        "apps/guestbook",
        SyncStatus::Synced,
        Health::Healthy,
        Some("2026-05-01T11:55:00Z"),
        "",
    );
    guestbook.auto_sync = true;
    let mut monitoring = app(
        "monitoring",
        "demo-staging",
        "monitoring",
        "platform/monitoring",
        SyncStatus::Unknown,
        Health::Unknown,
        None,
        "comparison failed: kustomize build platform/monitoring: no such file kustomization.yaml",
    );
    monitoring.revision = None;
    Snapshot {
        generation: 7,
        apps: vec![
            app(
                "batch-jobs",
                "demo-prod",
                "jobs",
                "apps/batch",
                SyncStatus::Synced,
                Health::Suspended,
                Some("2026-04-28T09:00:00Z"),
                "CronJob nightly-report is suspended",
            ),
            app(
                "checkout",
                "demo-prod",
                "shop",
                "apps/checkout",
                SyncStatus::OutOfSync,
                Health::Healthy,
                Some("2026-05-01T10:00:00Z"),
                "Deployment/checkout differs from Git: spec.replicas",
            ),
            guestbook,
            monitoring,
            app(
                "payments",
                "demo-prod",
                "shop",
                "apps/payments",
                SyncStatus::Synced,
                Health::Degraded,
                Some("2026-05-01T11:30:00Z"),
                "Deployment/payments: ImagePullBackOff: registry.example.com/payments:v9 not found",
            ),
            app(
                "search",
                "demo-staging",
                "search",
                "apps/search",
                SyncStatus::OutOfSync,
                Health::Progressing,
                Some("2026-05-01T11:59:20Z"),
                "Waiting for rollout: 1 of 3 updated replicas are available",
            ),
        ],
        clusters: vec![
            ClusterSnapshot {
                name: "demo-staging".into(),
                connection: ConnectionState::Connected,
            },
            ClusterSnapshot {
                name: "demo-prod".into(),
                connection: ConnectionState::Connected,
            },
        ],
        read_only: false,
        settled: true,
    }
}

/// An app UI on the six apps, clock fixed.
pub fn ui_with(options: TuiOptions) -> App {
    let mut app = App::new(options);
    app.set_now(Some(NOW.parse().unwrap()));
    app.set_snapshot(Arc::new(six_apps()));
    app
}

/// An app UI with default options on the six apps.
pub fn ui() -> App {
    ui_with(TuiOptions {
        contexts: vec!["demo-staging".into(), "demo-prod".into()],
        ..TuiOptions::default()
    })
}

/// A key press without modifiers.
pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Presses the keys of `text`, one character each (upper-case letters arrive with SHIFT,
/// as terminals send them).
pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        let mods = if c.is_ascii_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        };
        app.handle_key(KeyEvent::new(KeyCode::Char(c), mods));
    }
}

/// Draws the app on a `w`×`h` test terminal and returns the buffer.
pub fn draw(app: &mut App, w: u16, h: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| app.draw(f)).unwrap();
    terminal.backend().buffer().clone()
}

/// The screen as text, one line per row, trailing spaces kept (as insta stores it).
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| app.draw(f)).unwrap();
    terminal.backend().to_string()
}

/// The screen's rows as plain strings.
pub fn rows(app: &mut App, w: u16, h: u16) -> Vec<String> {
    let buf = draw(app, w, h);
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect()
}
