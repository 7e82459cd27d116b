//! The load harness (issue 8): `cargo bench --bench load -- [--quick] [--json] [--only LIST]`.
//!
//! Starts the embedded emulator on loopback (HTTP, so kubectl, kdash and flux9s reach it
//! too), seeds it, runs each scenario several times and prints one row per metric: median,
//! min, max, target, ok. `--json` prints the same as JSON lines. `--quick` runs fewer and
//! shorter rounds (under three minutes on a 2-core machine once kdash and flux9s are in the
//! cache). `--only status,live,rss,idle,tui,sync` picks scenarios; `--hold SECS` keeps each
//! seeded emulator up that long first, with its URL printed, for profiling by hand.
//!
//! rekon is measured as the release binary cargo builds for benches (`CARGO_BIN_EXE_rekon`,
//! bench profile = release), started as a user starts it, process start included. The
//! harness asserts nothing: it measures and says which targets are met.

mod estate;
mod procs;
mod report;
mod scenarios;
mod tui;

use std::path::PathBuf;
use std::time::Instant;

use report::Metric;

/// What the command line asked for.
#[derive(Debug, Clone)]
pub struct Config {
    /// Fewer rounds and shorter windows.
    pub quick: bool,
    /// JSON lines instead of a table.
    pub json: bool,
    /// Scenarios to run (all when empty).
    pub only: Vec<String>,
    /// Keep each seeded estate up this long before its scenarios (for profiling by hand).
    pub hold: Option<std::time::Duration>,
}

impl Config {
    fn parse() -> Config {
        let mut cfg = Config {
            quick: false,
            json: false,
            only: Vec::new(),
            hold: None,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--quick" => cfg.quick = true,
                "--json" => cfg.json = true,
                "--only" => {
                    if let Some(list) = args.next() {
                        cfg.only = list.split(',').map(str::to_string).collect();
                    }
                }
                "--hold" => {
                    cfg.hold = args
                        .next()
                        .and_then(|s| s.parse().ok())
                        .map(std::time::Duration::from_secs);
                }
                // cargo bench passes --bench; libtest-style filters are ignored.
                _ => {}
            }
        }
        cfg
    }

    /// Whether scenario `name` runs.
    pub fn wants(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == name)
    }

    /// `quick` or `full` rounds.
    pub fn rounds(&self, quick: usize, full: usize) -> usize {
        if self.quick { quick } else { full }
    }
}

/// A group of scenarios sharing one seeded emulator.
type Scenario = fn(&Harness, &tokio::runtime::Runtime) -> Result<(), String>;

/// Where the harness keeps its results while running, and what every scenario needs.
pub struct Harness {
    /// Options.
    pub cfg: Config,
    /// The rekon binary under test.
    pub rekon: PathBuf,
    /// Tools installed for comparison (kdash, flux9s): `<target dir>/load-cache`.
    pub cache: PathBuf,
    /// Scratch space for this run.
    pub tmp: tempfile::TempDir,
    started: Instant,
}

impl Harness {
    /// Prints a metric as soon as it is known.
    pub fn emit(&self, m: Metric) {
        if self.cfg.json {
            println!("{}", report::json_line(&m));
        } else {
            println!("{}", report::row(&m));
        }
    }

    /// Keeps a seeded estate up for `--hold`, saying where it is.
    pub fn hold(&self, what: &str) {
        if let Some(d) = self.cfg.hold {
            self.note(&format!("holding for {}s: {what}", d.as_secs()));
            std::thread::sleep(d);
        }
    }

    /// A progress or skip notice, on stderr so `--json` output stays clean.
    pub fn note(&self, text: &str) {
        eprintln!("[{:>6.1}s] {text}", self.started.elapsed().as_secs_f64());
    }
}

fn main() {
    let cfg = Config::parse();
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let harness = Harness {
        cfg,
        rekon: PathBuf::from(env!("CARGO_BIN_EXE_rekon")),
        cache: target_dir.join("load-cache"),
        tmp: tempfile::Builder::new()
            .prefix("rekon-load-")
            .tempdir()
            .expect("a temporary folder"),
        started: Instant::now(),
    };
    if !procs::have("git") {
        println!("skipped: the load harness needs git on PATH");
        return;
    }
    harness.note(&format!(
        "rekon under test: {} ({} mode)",
        harness.rekon.display(),
        if harness.cfg.quick { "quick" } else { "full" }
    ));
    if !harness.cfg.json {
        println!("{}", report::header());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let steps: [(&str, Scenario); 3] = [
        ("small", scenarios::small_estate),
        ("big", scenarios::big_estate),
        ("sync", scenarios::sync_and_diff),
    ];
    let mut failed = false;
    for (name, step) in steps {
        if let Err(e) = step(&harness, &runtime) {
            harness.note(&format!("{name}: {e}"));
            failed = true;
        }
    }
    harness.note("done");
    if failed {
        std::process::exit(1);
    }
}
