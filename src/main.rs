//! The `rekon` binary: error hooks, command line, dispatch.

use std::process::ExitCode;

use clap::Parser;
use rekon::cli::{Cli, Command, flux, headless, interactive, sync};

fn main() -> ExitCode {
    tune_malloc();
    // color-eyre goes first, so that the panic hook ratatui installs later (which restores
    // the terminal) runs before color-eyre prints anything.
    if let Err(e) = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .install()
    {
        eprintln!("rekon: cannot install error hooks: {e}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rekon")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rekon: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    if cli.runs_long() {
        trim_heap_periodically();
    }
    let result = runtime.block_on(dispatch(cli));
    // Every command has finished its work (and restored the terminal) by now. Tearing the
    // runtime down would free the engine's live cache object by object, a sixth of a
    // `status` of 1,000 apps (profiled); the OS takes the memory back at exit at no cost.
    std::mem::forget(runtime);
    match result {
        Ok(code) => code,
        Err(report) => {
            if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
                eprintln!("rekon: {report:?}");
            } else {
                eprintln!("rekon: {}", one_line(&report));
            }
            ExitCode::from(2)
        }
    }
}

/// Caps glibc's malloc arenas before any thread starts. By default glibc gives each new
/// thread its own arena, up to eight per core, and tokio's workers and blocking threads
/// each grew one that kept freed memory resident (BENCHMARKS.md note 16: peak RSS with
/// 50,000 live objects 452 -> 415 MiB). Large blocks keep a fixed mmap threshold, so a
/// freed list page goes back to the OS instead of raising the threshold for good.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt only sets allocator parameters; it is called before any other
    // thread exists. A refused setting (return 0) leaves glibc's default, which is fine.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}

/// How often long-running commands hand freed heap pages back to the OS.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// Gives freed memory back to the OS every `TRIM_EVERY`, for as long as the process lives.
/// glibc returns free pages only from the top of each arena; under constant churn a few
/// live blocks near the top pin the rest, and the resident set of `rekon run` and the
/// TUI crept about 1 MiB a minute while the live heap stayed flat (BENCHMARKS.md "Soak").
/// `malloc_trim(0)` releases free pages anywhere in every arena; on a heap of tens of MB
/// it takes well under a millisecond, and it runs on its own thread, off the runtime.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_heap_periodically() {
    let spawned = std::thread::Builder::new()
        .name("rekon-trim".into())
        .spawn(|| {
            loop {
                std::thread::sleep(TRIM_EVERY);
                // SAFETY: malloc_trim takes each arena's lock itself; it only returns
                // pages malloc already holds as free.
                unsafe {
                    libc::malloc_trim(0);
                }
            }
        });
    // Without the thread memory is only kept longer, so a failure to spawn is not an error.
    drop(spawned);
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_heap_periodically() {}

/// One line naming the culprit: the context chain, outermost first, without repeating a
/// cause its context already quotes.
fn one_line(report: &color_eyre::Report) -> String {
    let mut line = String::new();
    for cause in report.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.replace('\n', " ")
}

async fn dispatch(cli: Cli) -> color_eyre::Result<ExitCode> {
    match cli.command {
        Some(Command::Demo(args)) => interactive::demo(&cli.global, &args).await,
        Some(Command::Emulate(args)) => {
            rekon::emulator::run_emulate(&args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Status { names }) => headless::status(&cli.global, &names).await,
        Some(Command::Tree { app }) => headless::tree(&cli.global, &app).await,
        Some(Command::Diff { app, revision }) => {
            headless::diff(&cli.global, &app, revision.as_deref()).await
        }
        Some(Command::Manifests { app, revision }) => {
            headless::manifests(&cli.global, &app, revision.as_deref()).await
        }
        Some(Command::Sync(args)) => sync::sync(&cli.global, &args).await,
        Some(Command::History { app }) => sync::history(&cli.global, &app).await,
        Some(Command::Rollback(args)) => sync::rollback(&cli.global, &args).await,
        Some(Command::Run(args)) => sync::run(&cli.global, &args).await,
        Some(Command::Reconcile(args)) => flux::reconcile(&cli.global, &args).await,
        Some(Command::Suspend { app }) => flux::suspend(&cli.global, &app).await,
        Some(Command::Resume { app }) => flux::resume(&cli.global, &app).await,
        Some(Command::Graph) => flux::graph(&cli.global).await,
        Some(Command::Images) => flux::images(&cli.global).await,
        None => interactive::open(&cli.global, cli.auto).await,
    }
}
