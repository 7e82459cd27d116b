//! End to end: the real `rekon demo` in a real terminal (tmux), driven by keys like a user:
//! open the OutOfSync app, look at its diff, sync it, and wait until it is Synced and Healthy.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of our own (its own socket), so a user's tmux is never touched.
struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn available() -> bool {
        let found = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("tmux is required when CI=true");
            }
            println!("skipped: tmux is not installed");
        }
        found
    }

    fn start(command: &str, home: &Path) -> Tmux {
        let socket = format!("rekon-e2e-{}", std::process::id());
        let session = "demo".to_string();
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d", "-s", &session])
            .args(["-x", "140", "-y", "40"])
            .arg(format!(
                "env HOME={home} XDG_CONFIG_HOME={home}/config XDG_CACHE_HOME={home}/cache TERM=xterm-256color {command}",
                home = home.display()
            ))
            .status()
            .unwrap();
        assert!(status.success(), "tmux could not start");
        Tmux { socket, session }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", &self.session, k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(
            &self
                .tmux(&["capture-pane", "-p", "-t", &self.session])
                .stdout,
        )
        .into_owned()
    }

    fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", &self.session])
            .status
            .success()
    }

    /// Waits (generously: the machine is shared) until the screen satisfies `pred`.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// The apps-table row whose NAME is `app`.
fn row<'a>(screen: &'a str, app: &str) -> Option<&'a str> {
    screen.lines().find(|l| {
        l.trim_start_matches(['│', '▶', ' '])
            .starts_with(&format!("{app} "))
            && l.contains("demo-")
    })
}

#[test]
fn open_the_drifted_app_see_its_diff_sync_it_and_watch_it_turn_synced_and_healthy() {
    if !Tmux::available() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let t = Tmux::start(
        &format!("{} demo", env!("CARGO_BIN_EXE_rekon")),
        home.path(),
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
