//! Soak: `rekon run` and the TUI against `rekon emulate` under constant churn for a long
//! time; memory must stay flat (≤ 10 % growth after warm-up) and the end state must be
//! right. `cargo bench --bench soak -- --minutes 30` (the default); `--seconds N` for a
//! short trial; `--apps N`. Prints samples as it goes and a summary at the end; exits 1 when
//! the state ended wrong or memory grew past the limit.

// The harness is shared with the short soak in `tests/it`; the bench uses a part of the
// helpers around it.
#[allow(dead_code, unused_imports)]
#[path = "../tests/it/support/mod.rs"]
mod support;

use std::time::Duration;

use support::soak::{SoakOptions, soak};

/// Largest growth of resident memory after warm-up.
const MAX_GROWTH: f64 = 0.10;

/// A path in the temporary folder, for the report.
fn report_path() -> std::path::PathBuf {
    std::env::temp_dir().join("rekon-soak-report.txt")
}

fn arg(args: &[String], name: &str) -> Option<u64> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; a filter or other flags are ignored.
    let seconds = arg(&args, "--seconds").unwrap_or(60 * arg(&args, "--minutes").unwrap_or(30));
    let apps = arg(&args, "--apps").unwrap_or(4) as usize;
    let duration = Duration::from_secs(seconds.max(30));
    let opts = SoakOptions {
        duration,
        commit_every: Duration::from_secs(60),
        churn_every: Duration::from_secs(3),
        sample_every: Duration::from_secs(10),
        // A fifth of the run (at most 5 minutes): caches and the watch store fill up first.
        warmup: (duration / 5).min(Duration::from_secs(300)),
        refresh: Duration::from_secs(10),
        apps,
        tui: true,
        verbose: true,
    };
    println!(
        "soak: {} s, {apps} apps, a commit every {} s, churn every {} s",
        duration.as_secs(),
        opts.commit_every.as_secs(),
        opts.churn_every.as_secs()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let report = runtime.block_on(soak(opts));
    let summary = report.summary();
    println!("{summary}");
    let _ = std::fs::write(report_path(), &summary);
    let mut failed = report.final_state.is_err();
    for (what, growth) in [("rekon run", report.run_growth), ("TUI", report.tui_growth)] {
        if let Some(g) = growth
            && g > MAX_GROWTH
        {
            println!(
                "soak: {what} memory grew {:.1} % (limit {:.0} %)",
                g * 100.0,
                MAX_GROWTH * 100.0
            );
            failed = true;
        }
    }
    std::process::exit(i32::from(failed));
}
