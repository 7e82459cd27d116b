//! The interactive commands: the TUI on the user's clusters, and `rekon demo`.

use std::process::ExitCode;

use color_eyre::eyre::{Result, WrapErr};

use super::session;
use super::{DemoArgs, GlobalArgs};
use crate::config::Config;
use crate::demo::Demo;
use crate::integrations::notify;
use crate::tui::{self, TuiOptions};

/// What a newcomer to the demo should press first.
const DEMO_HINT: &str = "enter: open an app · d: diff · s: sync · /: filter · ?: help · q: quit";

/// Notifies `--notify` and the config's `notify` URLs of the engine's changes.
fn notifier(
    global: &GlobalArgs,
    engine: &crate::runtime::EngineHandle,
) -> Result<notify::Notifier> {
    let config = Config::load(None)?;
    let mut urls = global.notify.clone();
    urls.extend(config.notify);
    urls.dedup();
    Ok(notify::spawn(
        urls,
        engine.subscribe(),
        notify::NotifyOptions::default(),
    ))
}

fn tui_options(global: &GlobalArgs, contexts: Vec<String>) -> Result<TuiOptions> {
    let config = Config::load(None)?;
    let mut options = TuiOptions::from_config(&config, global.theme.as_deref(), global.read_only)?;
    options.contexts = contexts;
    Ok(options)
}

/// `rekon` with no command: the TUI on the current kubeconfig context(s).
pub async fn open(global: &GlobalArgs, auto: bool) -> Result<ExitCode> {
    let mut loaded = session::load_apps(&global.apps);
    let clusters = session::connect(global).await?;
    let sources = session::quiet_sources(global)?;
    session::expand_appsets(&mut loaded, &clusters, sources.clone()).await;
    let mut options = tui_options(global, clusters.iter().map(|c| c.name.clone()).collect())?;
    if global.apps.is_empty() {
        options.hint = Some(
            "no apps of rekon's own: Argo CD and Flux apps of the cluster are shown; add --apps PATH for yours"
                .into(),
        );
    } else if let Some(e) = loaded.errors.first() {
        options.hint = Some(e.clone());
    }
    let mode = session::Mode {
        auto_sync: auto,
        refresh_every: Some(session::INTERACTIVE_REFRESH),
        skip_trees: false,
    };
    let engine = session::start_engine_with_projects(
        loaded.apps,
        loaded.projects,
        clusters,
        sources,
        global.read_only,
        mode,
    );
    let _notifier = notifier(global, &engine)?;
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
    let mode = session::Mode {
        auto_sync: args.auto,
        refresh_every: Some(session::INTERACTIVE_REFRESH),
        skip_trees: false,
    };
    let engine = session::start_engine(
        demo.applications(),
        demo.handles(),
        demo.sources.clone(),
        global.read_only,
        mode,
    );
    let notifier = notifier(global, &engine)?;
    tui::run(options, engine.subscribe(), engine.commands()).await?;
    drop(notifier);
    drop(engine);
    drop(demo);
    Ok(ExitCode::SUCCESS)
}
