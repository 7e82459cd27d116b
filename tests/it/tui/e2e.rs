//! End to end: the real `rekon` in a real terminal (tmux), driven by keys like a user. `rekon
//! demo` first (emulator-only by nature: the demo is the emulator with simulated Argo CD and
//! Flux controllers and a scripted story): its first screen shows every state at once; open
//! the OutOfSync app, look at its diff, sync it, and wait until it is Synced and Healthy.
//! Then the same story with `rekon` against the test's cluster (the emulator or, under
//! `REKON_TEST_CLUSTER=real`, the real control plane) and an apps file.

use std::time::{Duration, Instant};

use crate::support::emulate::Emulator;
use crate::support::rekon_command;
use crate::support::source::Fixture;
use crate::support::tmux::{Tmux, any_row, isolated, row};

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
    // Emulator-only: `rekon demo` is the emulator, its simulated controllers and its story.
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
    // Emulator-only: `rekon demo` is the emulator, its simulated controllers and its story.
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
    let (diff, screen) = diff_and_sync(&t, "storefront", row);
    assert!(diff.contains("Deployment"), "{diff}");
    // The rotated session secret shows as masked, never its value (base64 in Git).
    assert!(!diff.contains("YWNtZS1zZXNzaW9u"), "{diff}");
    assert!(
        row(&screen, "storefront").unwrap().contains("just now"),
        "{screen}"
    );
    quit(&t);
}

/// From the apps table with `app` selected: open it, look at its diff, sync it and wait
/// until its row (found by `row`) says Synced and Healthy. Returns the diff's screen and the
/// last screen.
fn diff_and_sync(
    t: &Tmux,
    app: &str,
    row: for<'a> fn(&'a str, &str) -> Option<&'a str>,
) -> (String, String) {
    let tree = format!("Application {app}");
    t.keys(&["Enter"]);
    t.wait_for("the app's tree", |s| s.contains(&tree));
    t.keys(&["d"]);
    let diff = t.wait_for("the diff", |s| s.contains("Changed ("));
    t.keys(&["Escape"]);
    t.wait_for("back in the tree", |s| {
        s.contains(&tree) && !s.contains("Changed (")
    });
    t.keys(&["s"]);
    t.wait_for("the plan", |s| s.contains("Plan:"));
    t.keys(&["Enter"]);
    t.wait_for("the confirmation", |s| s.contains("to confirm"));
    t.keys(&["y"]);
    t.wait_for("the sync to succeed", |s| s.contains("Sync succeeded"));
    t.keys(&["Enter", "Escape"]);
    let screen = t.wait_for(&format!("{app} Synced and Healthy"), |s| {
        row(s, app).is_some_and(|r| {
            r.contains("Synced") && !r.contains("OutOfSync") && r.contains("Healthy")
        })
    });
    (diff, screen)
}

/// q quits and the program is gone (the terminal restored by the program itself).
fn quit(t: &Tmux) {
    t.keys(&["Escape", "q"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while t.alive() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!t.alive(), "rekon did not quit on q");
}

/// The `shop` app at `image` with `mode` in its ConfigMap.
fn shop(repo: &Fixture, image: &str, mode: &str) -> String {
    repo.write(
        "shop/deploy.yaml",
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers: [{{name: web, image: \"{image}\"}}]\n"
        ),
    );
    repo.write(
        "shop/cm.yaml",
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: {mode}\n"
        ),
    );
    repo.commit(mode)
}

#[test]
fn against_the_cluster_open_the_drifted_app_see_its_diff_sync_it_and_watch_it_turn_healthy() {
    if !Tmux::available() {
        return;
    }
    let Some(repo) = Fixture::new() else { return };
    shop(&repo, "nginx:1.27", "fast");
    let emu = Emulator::start();
    let home = tempfile::tempdir().unwrap();
    let apps = home.path().join("apps.yaml");
    std::fs::write(
        &apps,
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: shop, namespace: argocd}}\nspec:\n  source: {{repoURL: {}, path: shop}}\n  destination: {{server: https://kubernetes.default.svc, namespace: shop}}\n  syncPolicy: {{syncOptions: [CreateNamespace=true]}}\n",
            repo.path.display()
        ),
    )
    .unwrap();
    let apps = apps.to_str().unwrap();
    // Deployed at the first commit; Git has moved on since.
    let out = rekon_command(home.path())
        .args(emu.cluster_args())
        .args(["--apps", apps, "sync", "shop"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    shop(&repo, "nginx:1.28", "slow");

    let t = Tmux::start(
        "e2e-cluster",
        (140, 40),
        &isolated(
            &format!(
                "{} {} --apps {apps}",
                env!("CARGO_BIN_EXE_rekon"),
                emu.cluster_args().join(" ")
            ),
            home.path(),
        ),
    );
    t.wait_for("shop OutOfSync", |s| {
        any_row(s, "shop").is_some_and(|r| r.contains("OutOfSync"))
    });
    let (diff, _) = diff_and_sync(&t, "shop", any_row);
    assert!(
        diff.contains("Deployment") && diff.contains("ConfigMap"),
        "{diff}"
    );
    quit(&t);
}
