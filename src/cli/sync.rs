//! The commands that sync rekon's apps: `sync`, `rollback` and `history` (observed apps go
//! to `observed_sync`, the headless loop to `run`).

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use color_eyre::eyre::{Result, bail, eyre};
use tokio::sync::oneshot;

use super::output::{TABLE_FORMATS, output_format};
use super::session;
use super::sync_args::{RollbackArgs, SyncArgs, resource_keys};
use super::sync_steps::{action_word, progress, step_message};
use super::table::table;
use super::{GlobalArgs, OutputFormat};
use crate::integrations::ObservedRef;
use crate::model::{
    Application, HistoryEntry, Operation, OperationPhase, RevisionOrigin, StepStatus, SyncOptions,
    short_sha,
};
use crate::model::{format_duration, parse_duration};
use crate::runtime::{EngineCommand, EngineHandle, EngineOptions};
use crate::yaml;

/// Exit code for a failed or terminated sync, and for errors.
const EXIT_FAILED: u8 = 2;

/// `--refuse-conflicts`, or the config's `sync: refuseConflicts`.
fn refuse_conflicts(flag: bool) -> Result<bool> {
    Ok(flag || crate::config::Config::load(None)?.sync.refuse_conflicts)
}

pub(super) async fn engine_for(
    global: &GlobalArgs,
    apps: Vec<Application>,
    auto_sync: bool,
    refresh_every: Option<Duration>,
    skip_trees: bool,
) -> Result<EngineHandle> {
    let clusters = session::connect(global).await?;
    let sources = session::sources(global)?;
    // AppProject rules of the --apps files apply to every sync this engine runs.
    let projects = session::load_apps(&global.apps).projects;
    Ok(crate::runtime::start(EngineOptions {
        apps,
        clusters,
        sources,
        read_only: global.read_only,
        config_ignore: Vec::new(),
        refresh_every,
        auto_sync,
        skip_trees,
        projects,
    }))
}

/// Starts the engine for one app and waits until it was compared; fails when it cannot be.
/// Returns the engine, the app's qualified name and where its revision was resolved.
async fn compared_app(
    global: &GlobalArgs,
    name: &str,
) -> Result<(EngineHandle, String, RevisionOrigin)> {
    let loaded = session::require_apps(global, "no apps")?;
    let app = session::find(&loaded.apps, name)?.clone();
    let qualified = app.qualified_name();
    let engine = engine_for(global, vec![app], false, None, false).await?;
    let snapshot = engine.settled().await;
    let snap = snapshot
        .apps
        .iter()
        .find(|a| a.qualified_name() == qualified)
        .ok_or_else(|| eyre!("app {qualified} produced no result"))?;
    let render_failed = snap.revision.is_none();
    if render_failed {
        let why = snap
            .detail
            .as_ref()
            .and_then(|d| d.conditions.first())
            .map(|c| c.message.clone())
            .unwrap_or_else(|| snap.message.clone());
        bail!("app {qualified}: {why}");
    }
    let origin = snap.origin.clone();
    Ok((engine, qualified, origin))
}

/// `rekon sync APP …`.
pub async fn sync(global: &GlobalArgs, args: &SyncArgs) -> Result<ExitCode> {
    if let Some(r) = ObservedRef::parse(&args.app) {
        return super::observed_sync::sync(global, args, r).await;
    }
    let format = output_format(global, OutputFormat::Table, TABLE_FORMATS, "sync")?;
    let timeout = parse_duration(&args.timeout, "--timeout")?;
    let resources = resource_keys(&args.resources)?;
    let options = SyncOptions {
        prune: args.prune,
        dry_run: args.dry_run,
        force: args.force,
        refuse_conflicts: refuse_conflicts(args.refuse_conflicts)?,
        apply_out_of_sync_only: args.apply_out_of_sync_only,
        resources,
        revision: args.revision.clone(),
        timeout_secs: Some(timeout.as_secs().max(1)),
    };
    let (engine, app, origin) = compared_app(global, &args.app).await?;
    if let Some(rev) = &options.revision {
        let snapshot = engine.current();
        let own = snapshot.apps.iter().find(|a| a.qualified_name() == app);
        if let Some(a) =
            own.filter(|a| a.auto_sync && !options.dry_run && *rev != a.target_revision)
        {
            bail!(
                "cannot sync {app} to {rev}: it auto-syncs to {} and would sync straight back (turn automated sync off first, or add --dry-run)",
                a.target_revision
            );
        }
    }
    let (tx, rx) = oneshot::channel();
    engine
        .commands()
        .send(EngineCommand::Sync {
            app: app.clone(),
            options,
            initiated_by: crate::model::initiator(),
            reply: Some(tx),
        })
        .await
        .map_err(|_| eyre!("the engine stopped"))?;
    let op = follow(&engine, &app, rx).await?;
    print_operation(&op, &origin, format)
}

/// `rekon rollback APP ID`.
pub async fn rollback(global: &GlobalArgs, args: &RollbackArgs) -> Result<ExitCode> {
    if let Some(r) = ObservedRef::parse(&args.app) {
        for (flag, on) in [
            ("--force", args.force),
            ("--refuse-conflicts", args.refuse_conflicts),
        ] {
            if on {
                bail!("{flag} does not apply to {r}: `argocd app rollback` has no such option");
            }
        }
        return super::observed_sync::rollback(global, r, args.id).await;
    }
    let format = output_format(global, OutputFormat::Table, TABLE_FORMATS, "rollback")?;
    let options = SyncOptions {
        force: args.force,
        refuse_conflicts: refuse_conflicts(args.refuse_conflicts)?,
        ..SyncOptions::default()
    };
    let (engine, app, origin) = compared_app(global, &args.app).await?;
    let (tx, rx) = oneshot::channel();
    engine
        .commands()
        .send(EngineCommand::Rollback {
            app: app.clone(),
            id: args.id,
            options,
            initiated_by: crate::model::initiator(),
            reply: Some(tx),
        })
        .await
        .map_err(|_| eyre!("the engine stopped"))?;
    let op = follow(&engine, &app, rx).await?;
    print_operation(&op, &origin, format)
}

/// Prints step changes to stderr while the operation runs; Ctrl-C terminates it.
async fn follow(
    engine: &EngineHandle,
    app: &str,
    mut reply: oneshot::Receiver<Result<Operation, String>>,
) -> Result<Operation> {
    let mut snapshots = engine.subscribe();
    let mut printed: HashMap<usize, (StepStatus, String)> = HashMap::new();
    let mut last_message = String::new();
    let mut terminating = false;
    let stderr = std::io::stderr();
    loop {
        tokio::select! {
            result = &mut reply => {
                let op = result
                    .map_err(|_| eyre!("the engine stopped before the sync ended"))?
                    .map_err(|e| eyre!("{e}"))?;
                progress(&mut stderr.lock(), &op, &mut printed, &mut last_message);
                return Ok(op);
            }
            changed = snapshots.changed() => {
                if changed.is_err() {
                    bail!("the engine stopped before the sync ended");
                }
                let op = snapshots
                    .borrow_and_update()
                    .apps
                    .iter()
                    .find(|a| a.qualified_name() == app)
                    .and_then(|a| a.operation.clone());
                if let Some(op) = op.filter(|o| o.phase == OperationPhase::Running) {
                    progress(&mut stderr.lock(), &op, &mut printed, &mut last_message);
                }
            }
            _ = tokio::signal::ctrl_c(), if !terminating => {
                terminating = true;
                eprintln!("rekon: terminating the sync of {app} (the steps done so far stay done)");
                let _ = engine
                    .commands()
                    .send(EngineCommand::Terminate { app: app.to_string() })
                    .await;
            }
        }
    }
}

fn print_operation(
    op: &Operation,
    origin: &RevisionOrigin,
    format: OutputFormat,
) -> Result<ExitCode> {
    /// The operation with where its revision was resolved, as `status -o json` says it.
    #[derive(serde::Serialize)]
    struct Printed<'a> {
        #[serde(flatten)]
        op: &'a Operation,
        #[serde(flatten)]
        origin: &'a RevisionOrigin,
    }
    let printed = Printed { op, origin };
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&printed)?)?,
        OutputFormat::Yaml => write!(out, "{}", yaml::to_string(&printed))?,
        _ => write!(out, "{}", operation_table(op))?,
    }
    out.flush()?;
    Ok(if op.phase == OperationPhase::Succeeded {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

/// The result of `sync` for people: one row per step in the order they ran, then a summary.
pub fn operation_table(op: &Operation) -> String {
    let rows: Vec<Vec<String>> = op
        .steps
        .iter()
        .map(|s| {
            let kind = if s.group.is_empty() {
                s.kind.clone()
            } else {
                format!("{}/{}", s.group, s.kind)
            };
            let name = if s.namespace.is_empty() {
                s.name.clone()
            } else {
                format!("{}/{}", s.namespace, s.name)
            };
            vec![
                format!("{:?}", s.phase),
                s.wave.to_string(),
                kind,
                name,
                if s.replace {
                    "replaced"
                } else {
                    action_word(s.action)
                }
                .to_string(),
                format!("{:?}", s.status),
                step_message(s),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "PHASE", "WAVE", "KIND", "NAME", "ACTION", "STATUS", "MESSAGE",
        ],
        &rows,
    );
    let short = short_sha(&op.revision);
    let dry = if op.dry_run { " (dry run)" } else { "" };
    text.push_str(&format!(
        "\n{:?}{dry} {} at {short}: {}\n",
        op.phase, op.app, op.message
    ));
    text
}

/// `rekon history APP`.
pub async fn history(global: &GlobalArgs, name: &str) -> Result<ExitCode> {
    if let Some(r) = ObservedRef::parse(name) {
        return super::observed_sync::history(global, r).await;
    }
    let format = output_format(global, OutputFormat::Table, TABLE_FORMATS, "history")?;
    let loaded = session::require_apps(global, "no apps")?;
    let app = session::find(&loaded.apps, name)?.clone();
    let qualified = app.qualified_name();
    let engine = engine_for(global, vec![app], false, None, false).await?;
    let (tx, rx) = oneshot::channel();
    engine
        .commands()
        .send(EngineCommand::History {
            app: qualified.clone(),
            reply: tx,
        })
        .await
        .map_err(|_| eyre!("the engine stopped"))?;
    let entries = rx
        .await
        .map_err(|_| eyre!("the engine stopped"))?
        .map_err(|e| eyre!("app {qualified}: {e}"))?;
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&entries)?)?,
        OutputFormat::Yaml => write!(out, "{}", yaml::to_string(&entries))?,
        _ if entries.is_empty() => writeln!(out, "app {qualified} has no recorded syncs")?,
        _ => write!(out, "{}", history_table(&entries))?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The `history` table, newest first.
pub fn history_table(entries: &[HistoryEntry]) -> String {
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let took = match (
                e.started_at.parse::<jiff::Timestamp>(),
                e.finished_at.parse::<jiff::Timestamp>(),
            ) {
                (Ok(a), Ok(b)) => b
                    .duration_since(a)
                    .try_into()
                    .map(format_duration)
                    .unwrap_or_default(),
                _ => String::new(),
            };
            let started = e
                .started_at
                .parse::<jiff::Timestamp>()
                .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|_| e.started_at.clone());
            vec![
                e.id.to_string(),
                short_sha(&e.revision).to_string(),
                format!("{:?}", e.phase),
                started,
                took,
                e.initiated_by.clone(),
                history_changes(e),
                e.commit_message.clone(),
            ]
        })
        .collect();
    table(
        &[
            "ID", "REVISION", "RESULT", "STARTED", "TOOK", "BY", "CHANGES", "COMMIT",
        ],
        &rows,
    )
}

/// The CHANGES cell: the summary, then what the sync took from other field managers.
fn history_changes(e: &HistoryEntry) -> String {
    let taken: Vec<String> = e
        .taken
        .iter()
        .map(|t| {
            let what: Vec<String> = t.takes.iter().map(|x| x.describe()).collect();
            format!("took {} on {}", what.join("; "), t.resource)
        })
        .collect();
    if taken.is_empty() {
        e.summary.clone()
    } else {
        format!("{}; {}", e.summary, taken.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StepAction, SyncPhase, SyncStep};

    fn step(name: &str, status: StepStatus, message: &str) -> SyncStep {
        SyncStep {
            phase: SyncPhase::Sync,
            wave: 1,
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: name.into(),
            action: StepAction::Configured,
            status,
            message: message.into(),
            takes: Vec::new(),
            replace: false,
        }
    }

    fn op(steps: Vec<SyncStep>) -> Operation {
        Operation {
            app: "argocd/shop".into(),
            phase: OperationPhase::Running,
            revision: "0123456789".into(),
            steps,
            message: "syncing".into(),
            started_at: "2025-01-01T00:00:00Z".into(),
            finished_at: None,
            initiated_by: "me@host".into(),
            dry_run: false,
        }
    }

    #[test]
    fn progress_prints_each_change_once() {
        let mut printed = HashMap::new();
        let mut last = String::new();
        let mut out = Vec::new();
        let running = op(vec![
            step("web", StepStatus::Running, "Waiting for rollout"),
            step("db", StepStatus::Pending, ""),
        ]);
        progress(&mut out, &running, &mut printed, &mut last);
        let mut again = running.clone();
        again.steps[0].message = "Waiting for rollout: 1 of 2".into();
        progress(&mut out, &again, &mut printed, &mut last);
        let mut done = again.clone();
        done.steps[0].status = StepStatus::Succeeded;
        done.steps[0].message = String::new();
        progress(&mut out, &done, &mut printed, &mut last);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "Sync        1  apps/Deployment shop/web  configured  Running: Waiting for rollout\n\
             Sync        1  apps/Deployment shop/web  configured  Succeeded\n"
        );
    }

    #[test]
    fn operation_table_lists_steps_and_the_outcome() {
        let mut o = op(vec![step("web", StepStatus::Succeeded, "")]);
        o.phase = OperationPhase::Succeeded;
        o.message = "synced: 1 configured".into();
        assert_eq!(
            operation_table(&o),
            "PHASE  WAVE  KIND             NAME      ACTION      STATUS     MESSAGE\n\
             Sync   1     apps/Deployment  shop/web  configured  Succeeded\n\
             \n\
             Succeeded argocd/shop at 0123456: synced: 1 configured\n"
        );
    }

    #[test]
    fn history_table_shows_newest_first_as_given() {
        let e = HistoryEntry {
            id: 2,
            revision: "abcdef0123".into(),
            author: "A <a@x>".into(),
            commit_message: "bump".into(),
            started_at: "2025-01-01T00:00:00Z".into(),
            finished_at: "2025-01-01T00:01:05Z".into(),
            phase: OperationPhase::Succeeded,
            initiated_by: "auto-sync".into(),
            summary: "1 configured".into(),
            taken: Vec::new(),
        };
        assert_eq!(
            history_table(&[e]),
            "ID  REVISION  RESULT     STARTED              TOOK  BY         CHANGES       COMMIT\n\
             2   abcdef0   Succeeded  2025-01-01 00:00:00  1m5s  auto-sync  1 configured  bump\n"
        );
    }
}
