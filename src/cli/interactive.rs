//! The interactive commands: the TUI on the user's clusters, and `rekon demo`.

use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr};

use super::session;
use super::{DemoArgs, GlobalArgs};
use crate::config::Config;
use crate::demo::Demo;
use crate::tui::{self, TuiOptions};

/// What a newcomer to the demo should press first.
const DEMO_HINT: &str = "enter: open an app · d: diff · s: sync · /: filter · ?: help · q: quit";

fn tui_options(global: &GlobalArgs, contexts: Vec<String>) -> Result<TuiOptions> {
    let config = Config::load(None)?;
    let mut options = TuiOptions::from_config(&config, global.theme.as_deref(), global.read_only)?;
    options.contexts = contexts;
    Ok(options)
}

/// `rekon` with no command: the TUI on the current kubeconfig context(s).
pub async fn open(global: &GlobalArgs) -> Result<ExitCode> {
    let loaded = session::load_apps(&global.apps);
    let clusters = session::connect(global).await?;
    let mut options = tui_options(global, clusters.iter().map(|c| c.name.clone()).collect())?;
    if global.apps.is_empty() {
        options.hint = Some(
            "no apps loaded: start rekon with --apps PATH (a file or folder of Argo CD Applications)"
                .into(),
        );
    } else if let Some(e) = loaded.errors.first() {
        options.hint = Some(e.clone());
    }
    let sources = session::sources()?;
    let engine = session::start_engine(loaded.apps, clusters, sources, global.read_only);
    tui::run(options, engine.subscribe(), engine.commands()).await?;
    Ok(ExitCode::SUCCESS)
}

/// `rekon demo`: the TUI on embedded clusters seeded from the demo repository.
pub async fn demo(global: &GlobalArgs, args: &DemoArgs) -> Result<ExitCode> {
    // Check the config and theme before spending time on the clusters.
    let mut options = tui_options(
        global,
        crate::demo::CLUSTERS
            .iter()
            .map(|c| c.to_string())
            .collect(),
    )?;
    let demo = Demo::start(args.repo_dir.as_deref(), 1.0)
        .await
        .wrap_err("cannot start the demo")?;
    options.hint = Some(DEMO_HINT.into());
    let engine = session::start_engine(
        demo.applications(),
        demo.handles(),
        demo.sources.clone(),
        global.read_only,
    );
    tui::run(options, engine.subscribe(), engine.commands()).await?;
    drop(engine);
    drop(demo);
    Ok(ExitCode::SUCCESS)
}
