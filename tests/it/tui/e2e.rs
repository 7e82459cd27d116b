//! End to end: the real `rekon demo` in a real terminal (tmux). Its first screen shows every
//! state at once; driven by keys like a user: open the OutOfSync app, look at its diff, sync
//! it, and wait until it is Synced and Healthy.

use std::time::{Duration, Instant};

use crate::support::tmux::{Tmux, isolated, row};

/// What the first screen must show, row by row: the app and the words its row has.
const FIRST_SCREEN: [(&str, &[&str]); 9] = [
    ("observability-infra", &["Synced", "Healthy"]),
    ("catalog-prod", &["Synced", "Progressing"]),
    ("recommendations", &["Degraded"]),
    ("search", &["OutOfSync", "Missing"]),
    // Synced at head, then edited by hand: drift.
    ("catalog-staging", &["OutOfSync", "Healthy"]),
    (
        "session-cache",
        &["Unknown", "apps/session-cache/statefulset.yaml:27"],
    ),
    ("observability-alerts", &["Suspended"]),
    // The Argo CD Application whose sync operation runs.
    (
        "edge-proxy",
        &[
            "Progressing",
            "waiting for healthy state of apps/Deployment/edge-proxy",
        ],
    ),
    ("storefront", &["OutOfSync", "Healthy"]),
];

/// The rows of [`FIRST_SCREEN`] that `screen` does not show as wanted.
fn not_shown(screen: &str) -> Vec<&'static str> {
    FIRST_SCREEN
        .iter()
        .filter(|(app, words)| {
            !row(screen, app).is_some_and(|r| words.iter().all(|w| r.contains(w)))
        })
        .map(|(app, _)| *app)
        .collect()
}

#[test]
fn the_demos_first_screen_shows_every_state_at_once() {
    if !Tmux::available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    // Wide enough for the whole message column.
    let t = Tmux::start(
        "first-screen",
        (220, 30),
        &isolated(
            &format!("{} demo", env!("CARGO_BIN_EXE_rekon")),
            home.path(),
        ),
    );
    // Polled until every row shows its state at once: a behaviour, not a timing, bound.
    t.wait_for(
        "every state on one screen (healthy, progressing, degraded, missing, drifted, \
         not rendering, suspended, operation running)",
        |s| not_shown(s).is_empty(),
    );
}

#[test]
fn open_the_drifted_app_see_its_diff_sync_it_and_watch_it_turn_synced_and_healthy() {
    if !Tmux::available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let t = Tmux::start(
        "e2e",
        (140, 40),
        &isolated(
            &format!("{} demo", env!("CARGO_BIN_EXE_rekon")),
            home.path(),
        ),
    );

    // storefront starts a commit behind: OutOfSync.
    t.wait_for("storefront OutOfSync", |s| {
        row(s, "storefront").is_some_and(|r| r.contains("OutOfSync"))
    });
    t.keys(&[
        "/", "s", "t", "o", "r", "e", "f", "r", "o", "n", "t", "Enter",
    ]);
    // The filter also matches apps in the storefront namespace: go to storefront's row.
    let screen = t.wait_for("the filtered list", |s| !s.contains("catalog-prod"));
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains("demo-")).collect();
    let index = rows
        .iter()
        .position(|r| row(r, "storefront").is_some())
        .unwrap_or_else(|| panic!("storefront not listed:\n{screen}"));
    t.keys(&["g"]);
    for _ in 0..index {
        t.keys(&["j"]);
    }
    t.keys(&["Enter"]);
    t.wait_for("the app's tree", |s| s.contains("Application storefront"));
    t.keys(&["d"]);
    let diff = t.wait_for("the diff", |s| s.contains("Changed ("));
    assert!(diff.contains("Deployment"), "{diff}");
    // The rotated session secret shows as masked, never its value (base64 in Git).
    assert!(!diff.contains("YWNtZS1zZXNzaW9u"), "{diff}");
    t.keys(&["Escape"]);
    t.wait_for("back in the tree", |s| {
        s.contains("Application storefront") && !s.contains("Changed (")
    });
    t.keys(&["s"]);
    t.wait_for("the plan", |s| s.contains("Plan:"));
    t.keys(&["Enter"]);
    t.wait_for("the confirmation", |s| s.contains("to confirm"));
    t.keys(&["y"]);
    t.wait_for("the sync to succeed", |s| s.contains("Sync succeeded"));
    t.keys(&["Enter", "Escape"]);
    let screen = t.wait_for("storefront Synced and Healthy", |s| {
        row(s, "storefront").is_some_and(|r| {
            r.contains("Synced") && !r.contains("OutOfSync") && r.contains("Healthy")
        })
    });
    assert!(
        row(&screen, "storefront").unwrap().contains("just now"),
        "{screen}"
    );

    // q quits and the program is gone (the terminal restored by the program itself).
    t.keys(&["Escape", "q"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while t.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!t.alive(), "rekon did not quit on q");
}
