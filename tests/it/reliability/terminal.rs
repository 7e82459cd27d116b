//! The terminal is never left broken: the TUI in a real terminal (tmux) is stopped by a
//! signal, or panics, and afterwards the terminal is back in cooked mode with echo, off the
//! alternate screen and without mouse capture — exactly as before.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::tmux::{Tmux, isolated, wait_until};

/// The terminal modes that matter, from `stty -a`: canonical input, echo, signals.
fn modes(stty: &str) -> Vec<String> {
    stty.split([' ', ';', '\n'])
        .map(str::trim)
        .filter(|w| {
            matches!(
                w.trim_start_matches('-'),
                "icanon" | "echo" | "isig" | "icrnl" | "opost" | "ixon"
            )
        })
        .map(str::to_string)
        .collect()
}

/// Runs `command` in a pane between two `stty -a` captures, with its pid written where a
/// test can signal it; returns the pane and the folder of the captures.
fn around(name: &str, command: &str, dir: &Path) -> Tmux {
    let script = dir.join("run.sh");
    std::fs::write(
        &script,
        format!(
            "stty -a > {d}/before.txt\nsh -c 'echo $$ > {d}/pid; exec {command}'\necho \"exit=$?\" > {d}/exit.txt\nstty -a > {d}/after.txt\nsleep 600\n",
            d = dir.display()
        ),
    )
    .unwrap();
    Tmux::start(
        &format!("rel-{name}"),
        (100, 30),
        &format!("sh {}", script.display()),
    )
}

fn check_restored(t: &Tmux, dir: &Path) {
    let after = dir.join("after.txt");
    wait_until(
        "the program to end",
        Duration::from_secs(60),
        || after.exists(),
        || t.screen(),
    );
    // `stty` ran after the program: give it a moment to finish writing.
    std::thread::sleep(Duration::from_millis(300));
    let before = std::fs::read_to_string(dir.join("before.txt")).unwrap();
    let after = std::fs::read_to_string(&after).unwrap();
    assert!(!modes(&before).is_empty(), "{before}");
    assert_eq!(
        modes(&after),
        modes(&before),
        "terminal modes changed:\n{after}"
    );
    assert_eq!(t.flag("alternate_on"), "0", "still on the alternate screen");
    assert_eq!(t.flag("mouse_any_flag"), "0", "mouse capture left on");
    assert_eq!(t.flag("cursor_flag"), "1", "cursor left hidden");
}

#[test]
fn a_signal_while_the_tui_runs_leaves_the_terminal_as_it_was() {
    if !Tmux::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // Emulator-only: the terminal is the subject, and `rekon demo` is a TUI with its own
    // emulator, needing no cluster of the test's.
    let command = isolated(&format!("{} demo", env!("CARGO_BIN_EXE_rekon")), &home);
    let t = around("signal", &command, dir.path());
    wait_until(
        "the TUI",
        Duration::from_secs(120),
        || t.flag("alternate_on") == "1" && t.screen().contains("demo-"),
        || t.screen(),
    );
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    let status = Command::new("kill")
        .args(["-TERM", pid.trim()])
        .status()
        .unwrap();
    assert!(status.success());
    check_restored(&t, dir.path());
}

/// The child of the panic test: enters the TUI's terminal mode, then panics. Runs only when
/// the test below starts it in a terminal.
#[test]
#[ignore = "started by a_panic_in_the_tui_leaves_the_terminal_as_it_was in a terminal"]
fn panicking_tui_child() {
    if std::env::var_os("REKON_PANIC_CHILD").is_none() {
        return;
    }
    let guard = rekon::tui::terminal::enter().expect("a terminal");
    std::thread::sleep(Duration::from_millis(500));
    // The guard is still alive: only the panic hook can put the terminal back here.
    std::mem::forget(guard);
    panic!("deliberate panic while the terminal is in TUI mode");
}

#[test]
fn a_panic_in_the_tui_leaves_the_terminal_as_it_was() {
    if !Tmux::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let me = std::env::current_exe().unwrap();
    // The child's full test name: its module path without the binary's name.
    let child = concat!(module_path!(), "::panicking_tui_child");
    let child = child.split_once("::").map_or(child, |(_, rest)| rest);
    let command = format!(
        "env REKON_PANIC_CHILD=1 TERM=xterm-256color {} --ignored --exact {child} --nocapture --test-threads=1",
        me.display()
    );
    let t = around("panic", &command, dir.path());
    check_restored(&t, dir.path());
    let exit = std::fs::read_to_string(dir.path().join("exit.txt")).unwrap();
    assert_ne!(exit.trim(), "exit=0", "the child must have panicked");
    assert!(
        t.screen().contains("deliberate panic"),
        "the panic message shows on the normal screen:\n{}",
        t.screen()
    );
}
