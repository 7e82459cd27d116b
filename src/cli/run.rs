//! `rekon run`: the headless reconcile loop. Refreshes Git, auto-syncs and self-heals the
//! apps whose syncPolicy asks for it, logs one line per event, and stops on SIGINT/SIGTERM.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use color_eyre::eyre::{Result, bail};

use super::GlobalArgs;
use super::session;
use super::sync::engine_for;
use crate::model::{AppSnapshot, OperationPhase, Snapshot, short_sha};
use crate::model::{format_duration, parse_duration};
use crate::runtime::{EngineCommand, EngineHandle};
use crate::stop_signal::{Hangup, stop_signal};

/// Options of `rekon run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Fetch Git and compare again this often (e.g. 30s, 3m)
    #[arg(long, default_value = "3m", value_name = "DURATION")]
    pub refresh: String,
}

/// `rekon run`: refresh, auto-sync and self-heal until SIGINT or SIGTERM.
pub async fn run(global: &GlobalArgs, args: &RunArgs) -> Result<ExitCode> {
    let refresh = parse_duration(&args.refresh, "--refresh")?;
    if refresh < Duration::from_secs(1) {
        bail!("--refresh {} is too short (at least 1s)", args.refresh);
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("REKON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("rekon=info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_target(false)
        .compact()
        .try_init();
    let loaded = session::require_apps(global, "no apps")?;
    for e in &loaded.errors {
        tracing::warn!("{e}");
    }
    let automated = loaded
        .apps
        .iter()
        .filter(|a| {
            a.spec
                .sync_policy
                .as_ref()
                .and_then(|p| p.automated.as_ref())
                .is_some_and(|x| x.enabled)
        })
        .count();
    let count = loaded.apps.len();
    // Nothing here shows a tree: the snapshots keep only each tree's root (profiled: the
    // trees of 1,000 apps were a quarter of the heap).
    let engine = engine_for(global, loaded.apps, true, Some(refresh), true).await?;
    // Webhooks of --notify and the config hear of sync and health changes and ended syncs.
    let mut urls = global.notify.clone();
    urls.extend(crate::config::Config::load(None)?.notify);
    let _notifier = crate::integrations::notify::spawn(
        urls,
        engine.subscribe(),
        crate::integrations::notify::NotifyOptions::default(),
    );
    tracing::info!(
        "reconciling {count} apps ({automated} with auto-sync) every {}{}",
        format_duration(refresh),
        if global.read_only {
            "; read-only: nothing will be synced"
        } else {
            ""
        }
    );
    let mut snapshots = engine.subscribe();
    let mut seen: HashMap<String, (String, String, Option<String>)> = HashMap::new();
    let stop = stop_signal(Hangup::Untouched);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            signal = &mut stop => {
                tracing::info!("{signal}: stopping");
                break;
            }
            changed = snapshots.changed() => {
                if changed.is_err() {
                    bail!("the engine stopped");
                }
                let snap = snapshots.borrow_and_update().clone();
                log_transitions(&snap, &mut seen);
            }
        }
    }
    terminate_running(&engine).await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// One line when an app's sync state, health or revision changes.
fn log_transitions(snap: &Snapshot, seen: &mut HashMap<String, (String, String, Option<String>)>) {
    if !snap.settled {
        return;
    }
    for app in &snap.apps {
        let now = (
            app.sync.to_string(),
            app.health.to_string(),
            app.revision.clone(),
        );
        let name = app.qualified_name();
        if seen.get(&name) == Some(&now) {
            continue;
        }
        log_app(app);
        seen.insert(name, now);
    }
}

fn log_app(app: &AppSnapshot) {
    let rev: String = app
        .revision
        .as_deref()
        .map(|r| short_sha(r).to_string())
        .unwrap_or_else(|| "-".into());
    let message = if app.message.is_empty() {
        String::new()
    } else {
        format!(": {}", app.message.lines().next().unwrap_or(""))
    };
    tracing::info!(
        "{} is {} and {} at {rev}{message}",
        app.qualified_name(),
        app.sync,
        app.health
    );
}

/// Terminates running syncs and waits (briefly) for them to record how they ended.
async fn terminate_running(engine: &EngineHandle) {
    let running = |snap: &Arc<Snapshot>| -> Vec<String> {
        snap.apps
            .iter()
            .filter(|a| {
                a.operation
                    .as_ref()
                    .is_some_and(|o| o.phase == OperationPhase::Running)
            })
            .map(AppSnapshot::qualified_name)
            .collect()
    };
    let now = running(&engine.current());
    if now.is_empty() {
        return;
    }
    for app in &now {
        tracing::info!("terminating the running sync of {app}");
        let _ = engine
            .commands()
            .send(EngineCommand::Terminate { app: app.clone() })
            .await;
    }
    let mut rx = engine.subscribe();
    let done = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if running(&rx.borrow_and_update().clone()).is_empty() {
                return;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
    })
    .await;
    if done.is_err() {
        tracing::warn!("gave up waiting for running syncs to end");
    }
}
