//! The real `rekon` in a real terminal: a tmux server of the test's own (its own socket, so a
//! user's tmux is never touched), keys sent as a user types them, the screen read back with
//! `capture-pane`. Shared by every test that drives the binary in tmux.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// How long a wait for the screen lasts before the test fails: generous, the machine is
/// shared and a debug build is slow. A behaviour bound, not a timing assertion.
pub const PATIENCE: Duration = Duration::from_secs(120);

/// One tmux server with one session, killed on drop.
pub struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    /// Whether tmux is installed; skip-or-fail as [`super::require`] when not.
    pub fn available() -> bool {
        super::require("tmux")
    }

    /// Starts `command` (run by a shell) in a detached `width`×`height` pane, on a socket
    /// named after `name` and this process.
    pub fn start(name: &str, (width, height): (u16, u16), command: &str) -> Tmux {
        let t = Tmux {
            socket: format!("rekon-{name}-{}", std::process::id()),
            session: "main".to_string(),
        };
        let (width, height) = (width.to_string(), height.to_string());
        let out = t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            &t.session,
            "-x",
            &width,
            "-y",
            &height,
            command,
        ]);
        assert!(
            out.status.success(),
            "tmux could not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    /// Runs a tmux command against this server.
    pub fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
    }

    /// Sends keys one at a time (tmux key names: `Enter`, `Escape`, `j` …), as a user types.
    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", &self.session, k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// The visible screen, as text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(
            &self
                .tmux(&["capture-pane", "-p", "-t", &self.session])
                .stdout,
        )
        .into_owned()
    }

    /// A pane flag: `alternate_on`, `mouse_any_flag`, `cursor_flag` …
    pub fn flag(&self, name: &str) -> String {
        let out = self.tmux(&[
            "display-message",
            "-p",
            "-t",
            &self.session,
            &format!("#{{{name}}}"),
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Whether the session (the program in it) still runs.
    pub fn alive(&self) -> bool {
        self.tmux(&["has-session", "-t", &self.session])
            .status
            .success()
    }

    /// Waits up to [`PATIENCE`] until the screen satisfies `pred`; returns that screen.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        wait_until(
            what,
            PATIENCE,
            || {
                last = self.screen();
                pred(&last)
            },
            || self.screen(),
        );
        last
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

/// Polls `check` until it holds; past `limit` the test fails showing `screen()`.
pub fn wait_until(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> bool,
    screen: impl Fn() -> String,
) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; screen:\n{}",
            screen()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `command` with HOME, the XDG folders and TERM set so the program under test sees none of
/// the user's configuration or cache, and `PATH` as [`super::rekon_command`] sets it.
pub fn isolated(command: &str, home: &Path) -> String {
    format!(
        "env PATH=\"{path}\" HOME={h} XDG_CONFIG_HOME={h}/config XDG_CACHE_HOME={h}/cache TERM=xterm-256color {command}",
        path = super::tool_path().to_string_lossy(),
        h = home.display()
    )
}

/// The demo's apps-table row whose NAME is `app` (on one of its `demo-…` clusters).
pub fn row<'a>(screen: &'a str, app: &str) -> Option<&'a str> {
    screen
        .lines()
        .find(|l| names(l, app) && l.contains("demo-"))
}

/// The apps-table row whose NAME is `app`, whatever its cluster.
pub fn any_row<'a>(screen: &'a str, app: &str) -> Option<&'a str> {
    screen.lines().find(|l| names(l, app))
}

/// Whether a screen line starts (past the table's border and cursor) with `app`'s name.
fn names(line: &str, app: &str) -> bool {
    line.trim_start_matches(['│', '▶', ' '])
        .starts_with(&format!("{app} "))
}
