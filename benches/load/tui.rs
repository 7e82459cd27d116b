//! The TUI against kdash and flux9s: each in a real terminal (tmux), on the same seeded
//! emulator, for the same window at the same time; resident memory and CPU of each.
//!
//! kdash and flux9s come from crates.io, installed once into the harness's cache
//! (`<target dir>/load-cache/bin`) with `cargo install --locked --root`; when that fails,
//! the comparison says so and goes on without them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::Harness;
use crate::procs::{self, Tmux};
use crate::report::{Metric, Target};

/// The comparison tools, from crates.io.
const TOOLS: [&str; 2] = ["kdash", "flux9s"];

/// The installed tool, installing it into the cache first when absent; `None` (with a
/// printed notice) when it cannot be had.
fn ensure_tool(h: &Harness, name: &str) -> Option<PathBuf> {
    let bin = h.cache.join("bin").join(name);
    if bin.is_file() {
        return Some(bin);
    }
    if std::env::var_os("REKON_LOAD_NO_INSTALL").is_some() {
        h.note(&format!(
            "skipping {name}: not in {} and REKON_LOAD_NO_INSTALL is set",
            h.cache.display()
        ));
        return None;
    }
    h.note(&format!(
        "installing {name} from crates.io into {} (once; this takes minutes)",
        h.cache.display()
    ));
    // --locked first (the versions its authors tested); without it when a locked version
    // is not in the registry (seen: flux9s 1.5.1's webpki-roots 1.0.11).
    let install = |locked: bool| {
        let mut c = Command::new("cargo");
        c.args(["install", name, "--root"])
            .arg(&h.cache)
            .arg("--target-dir")
            .arg(h.cache.join("build"))
            .env_remove("CARGO_TARGET_DIR")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if locked {
            c.arg("--locked");
        }
        c.status()
    };
    let status = match install(true) {
        Ok(s) if s.success() => Ok(s),
        _ => install(false),
    };
    // The build folder is large and only needed once.
    let _ = std::fs::remove_dir_all(h.cache.join("build"));
    match status {
        Ok(s) if s.success() && bin.is_file() => Some(bin),
        Ok(s) => {
            h.note(&format!("skipping {name}: cargo install failed ({s})"));
            None
        }
        Err(e) => {
            h.note(&format!("skipping {name}: cannot run cargo install: {e}"));
            None
        }
    }
}

/// Runs rekon's TUI, kdash and flux9s side by side and emits their memory and CPU.
pub fn compare(
    h: &Harness,
    apps_file: &Path,
    url: &str,
    kubeconfig: &Path,
    cache: &Path,
) -> Result<(), String> {
    if !procs::have("tmux") {
        h.note("skipped the TUI comparison: tmux is not on PATH");
        return Ok(());
    }
    let tools: Vec<(&str, PathBuf)> = TOOLS
        .iter()
        .filter_map(|t| ensure_tool(h, t).map(|b| (*t, b)))
        .collect();
    let home = h.tmp.path().join("tui-home");
    let _ = std::fs::create_dir_all(home.join("config"));
    let tmux = Tmux::new();
    let rekon_line = format!(
        "{} --server {url} --apps {}",
        h.rekon.display(),
        apps_file.display()
    );
    let env: Vec<(&str, &Path)> = vec![
        ("HOME", &home),
        ("XDG_CACHE_HOME", cache),
        ("KUBECONFIG", kubeconfig),
        ("TERM", Path::new("xterm-256color")),
    ];
    let xdg_config = home.join("config");
    let mut rekon_env = env.clone();
    rekon_env.push(("XDG_CONFIG_HOME", &xdg_config));
    // Two ways to run rekon: on its own 100 apps (which also watches their 5,000 Pods),
    // the view kdash's cluster-wide dashboard gives; and with no --apps, observing the
    // cluster's Flux objects only, the view flux9s gives.
    let flux_line = format!("{} --server {url}", h.rekon.display());
    let mut sessions = vec![
        ("rekon", tmux.spawn("rekon", &rekon_line, &rekon_env)?),
        (
            "rekon-flux",
            tmux.spawn("rekon-flux", &flux_line, &rekon_env)?,
        ),
    ];
    for (name, bin) in &tools {
        sessions.push((name, tmux.spawn(name, &bin.display().to_string(), &env)?));
    }
    // Let each load its data before measuring the steady state a user sits in front of.
    std::thread::sleep(Duration::from_secs(10));
    for (name, _) in &sessions {
        let screen = tmux.capture(name);
        let first = screen
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("(blank)");
        h.note(&format!("{name} shows: {}", first.trim()));
        if *name == "rekon" && !screen.contains("app-00") {
            h.note(
                "rekon's TUI does not list the estate's apps: its figures may not be comparable",
            );
        }
    }
    let window = Duration::from_secs(if h.cfg.quick { 15 } else { 30 });
    let pids: Vec<u32> = sessions.iter().map(|(_, p)| *p).collect();
    // Three consecutive thirds of the window: three figures for each tool.
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); sessions.len()];
    let mut rss: Vec<Vec<f64>> = vec![Vec::new(); sessions.len()];
    for _ in 0..3 {
        for (i, u) in procs::observe(&pids, window / 3).into_iter().enumerate() {
            match u {
                Some(u) => {
                    cpu[i].push(u.cpu_pct);
                    rss[i].push(u.mean_rss_mb);
                }
                None => h.note(&format!("{} exited during the window", sessions[i].0)),
            }
        }
    }
    let median = |v: &[f64]| crate::report::percentile(v, 50.0);
    let secs = window.as_secs();
    for (label, unit, figures) in [("RSS", "MiB", &rss), ("CPU", "%", &cpu)] {
        let of = |name: &str| {
            sessions
                .iter()
                .position(|(n, _)| *n == name)
                .map(|i| figures[i].clone())
                .filter(|v| !v.is_empty())
        };
        let against = |names: &[&str]| {
            let others: Vec<(String, f64)> = names
                .iter()
                .filter_map(|n| of(n).map(|v| (n.to_string(), median(&v))))
                .collect();
            if others.is_empty() {
                Target::Info
            } else {
                Target::Below(others)
            }
        };
        // Each rekon row is judged against the tool that loads the same state: kdash lists
        // the cluster's workloads and Pods, flux9s only the Flux objects.
        let rows = [
            ("rekon, 100 apps + 5,000 Pods", "rekon", against(&["kdash"])),
            (
                "rekon, Flux objects only",
                "rekon-flux",
                against(&["flux9s"]),
            ),
            ("kdash", "kdash", Target::Info),
            ("flux9s", "flux9s", Target::Info),
        ];
        for (title, name, target) in rows {
            if let Some(v) = of(name) {
                h.emit(Metric::new(
                    format!("TUI {label} over {secs}s: {title}"),
                    unit,
                    v,
                    target,
                ));
            }
        }
    }
    Ok(())
}
