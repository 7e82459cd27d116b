//! The `rekon` binary: error hooks, command line, dispatch.

use std::process::ExitCode;

use clap::Parser;
use rekon::cli::{Cli, Command, GlobalArgs, flux, headless, interactive, run, sync};

fn main() -> ExitCode {
    rekon::malloc::tune();
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
    let global = cli.global();
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
        rekon::malloc::trim_when_grown();
    }
    let result = runtime.block_on(dispatch(cli.command, global));
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

async fn dispatch(command: Option<Command>, global: GlobalArgs) -> color_eyre::Result<ExitCode> {
    let g = &global;
    match command {
        Some(Command::Demo { args, .. }) => interactive::demo(g, &args).await,
        Some(Command::Emulate(args)) => {
            rekon_emulator::run_emulate(&args.serve_options()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Status { names, .. }) => headless::status(g, &names).await,
        Some(Command::Tree { app, .. }) => headless::tree(g, &app).await,
        Some(Command::Diff { app, revision, .. }) => {
            headless::diff(g, &app, revision.as_deref()).await
        }
        Some(Command::Manifests { app, revision, .. }) => {
            headless::manifests(g, &app, revision.as_deref()).await
        }
        Some(Command::Sync { args, .. }) => sync::sync(g, &args).await,
        Some(Command::History { app, .. }) => sync::history(g, &app).await,
        Some(Command::Rollback { args, .. }) => sync::rollback(g, &args).await,
        Some(Command::Run { args, .. }) => run::run(g, &args).await,
        Some(Command::Reconcile { args, .. }) => flux::reconcile(g, &args).await,
        Some(Command::Suspend { app, .. }) => flux::suspend(g, &app).await,
        Some(Command::Resume { app, .. }) => flux::resume(g, &app).await,
        Some(Command::Graph { .. }) => flux::graph(g).await,
        Some(Command::Images { .. }) => flux::images(g).await,
        None => interactive::open(g, g.auto).await,
    }
}
