//! `sync`, `rollback` and `history` of the apps observed in the clusters.
//!
//! `rekon sync argocd:NS/NAME` writes the Application's `operation` as `argocd app sync`
//! does and follows `status.operationState` to its end (the engine's observed sync, the one
//! the TUI uses), then prints each resource's result as Argo CD reported it; `rollback`
//! writes what `argocd app rollback` writes; `history` reads `status.history`. A Flux app's
//! sync is `rekon reconcile --with-source`. Progress goes to stderr, the result to stdout;
//! exit code 0 when the operation succeeded, 2 otherwise.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use color_eyre::eyre::{Result, bail, eyre};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use super::output::{TABLE_FORMATS, output_format};
use super::sync_args::{SyncArgs, resource_keys};
use super::sync_steps::progress;
use super::table::table;
use super::{GlobalArgs, OutputFormat};
use crate::integrations::argocd::{self, ResourceResult};
use crate::integrations::{ObservedKind, ObservedRef, app_ref_in_cluster};
use crate::model::{HistoryEntry, Operation, OperationPhase, StepStatus, SyncOptions, short_sha};
use crate::model::{format_duration, parse_duration};
use crate::runtime::{EngineCommand, EngineHandle, ObservedCommand};
use crate::yaml;

/// Exit code for an operation that did not succeed, and for errors.
const EXIT_FAILED: u8 = 2;

/// `rekon sync argocd:NS/NAME …`, `flux-ks:…`, `flux-hr:…`.
pub async fn sync(global: &GlobalArgs, args: &SyncArgs, r: ObservedRef) -> Result<ExitCode> {
    let timeout = parse_duration(&args.timeout, "--timeout")?;
    if r.kind != ObservedKind::ArgoApplication {
        refuse_flux_flags(global, args, &r)?;
        return super::flux::sync(global, &args.app, timeout).await;
    }
    let format = output_format(global, OutputFormat::Table, TABLE_FORMATS, "sync")?;
    let options = SyncOptions {
        prune: args.prune,
        dry_run: args.dry_run,
        force: args.force,
        apply_out_of_sync_only: args.apply_out_of_sync_only,
        resources: resource_keys(&args.resources)?,
        revision: args.revision.clone(),
        timeout_secs: Some(timeout.as_secs().max(1)),
        refuse_conflicts: false,
    };
    if args.refuse_conflicts {
        // Argo CD's sync has no such option: its controller always applies what Git holds.
        bail!(
            "--refuse-conflicts does not apply to {r}: Argo CD's controller applies, and its sync has no such option"
        );
    }
    refuse_read_only(global, &r)?;
    let (app, engine) = super::headless::observed_app(global, &r, false).await?;
    let name = app_ref_in_cluster(&app);
    let at = options
        .revision
        .as_deref()
        .map(|rev| format!(" at {rev}"))
        .unwrap_or_default();
    let dry = if options.dry_run { " (dry run)" } else { "" };
    eprintln!("► asking Argo CD to sync {name}{at}{dry}");
    let (tx, rx) = oneshot::channel();
    send(
        &engine,
        EngineCommand::Sync {
            app: name.clone(),
            options,
            initiated_by: crate::model::initiator(),
            reply: Some(tx),
        },
    )
    .await?;
    let op = follow(&engine, &name, rx)
        .await
        .map_err(|e| eyre!("sync of {name}: {e}"))?;
    finish(&engine, &name, op, format).await
}

/// `rekon rollback argocd:NS/NAME ID`: a sync of the history entry's revision and source.
pub async fn rollback(global: &GlobalArgs, r: ObservedRef, id: u64) -> Result<ExitCode> {
    if r.kind != ObservedKind::ArgoApplication {
        bail!("{r}: Flux keeps no sync history to roll back to; revert the commit in Git");
    }
    let format = output_format(global, OutputFormat::Table, TABLE_FORMATS, "rollback")?;
    refuse_read_only(global, &r)?;
    let (app, engine) = super::headless::observed_app(global, &r, false).await?;
    let name = app_ref_in_cluster(&app);
    eprintln!("► asking Argo CD to roll {name} back to history entry {id}");
    let (tx, rx) = oneshot::channel();
    send(
        &engine,
        EngineCommand::Rollback {
            app: name.clone(),
            id,
            options: SyncOptions::default(),
            initiated_by: crate::model::initiator(),
            reply: Some(tx),
        },
    )
    .await?;
    let op = follow(&engine, &name, rx)
        .await
        .map_err(|e| eyre!("rollback of {name}: {e}"))?;
    finish(&engine, &name, op, format).await
}

/// `rekon history argocd:NS/NAME`: `status.history`, newest first.
pub async fn history(global: &GlobalArgs, r: ObservedRef) -> Result<ExitCode> {
    if r.kind != ObservedKind::ArgoApplication {
        bail!(
            "{r}: Flux keeps no sync history (`rekon status {r}` shows the revision it applied last)"
        );
    }
    let format = output_format(global, OutputFormat::Table, TABLE_FORMATS, "history")?;
    let (app, _engine) = super::headless::observed_app(global, &r, true).await?;
    let name = app_ref_in_cluster(&app);
    let entries: Vec<HistoryEntry> = app
        .detail
        .as_ref()
        .map(|d| d.history.clone())
        .unwrap_or_default();
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&entries)?)?,
        OutputFormat::Yaml => write!(out, "{}", yaml::to_string(&entries))?,
        _ if entries.is_empty() => writeln!(out, "{name} has no history in Argo CD")?,
        _ => write!(out, "{}", history_table(&entries))?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The sync flags Flux has no counterpart for: it applies what its source holds.
fn refuse_flux_flags(global: &GlobalArgs, args: &SyncArgs, r: &ObservedRef) -> Result<()> {
    let set = [
        ("--prune", args.prune),
        ("--dry-run", args.dry_run),
        ("--force", args.force),
        ("--resource", !args.resources.is_empty()),
        ("--revision", args.revision.is_some()),
        ("--apply-out-of-sync-only", args.apply_out_of_sync_only),
        ("--refuse-conflicts", args.refuse_conflicts),
    ];
    if let Some(o) = global.output.filter(|o| *o != OutputFormat::Table) {
        bail!(
            "--output {} is not supported by sync of {r}: it is `rekon reconcile --with-source`, which prints one line",
            format!("{o:?}").to_lowercase()
        );
    }
    if let Some((flag, _)) = set.iter().find(|(_, on)| *on) {
        bail!(
            "{flag} does not apply to {r}: Flux applies what its source holds, and `rekon sync` of a Flux app is `rekon reconcile --with-source` (Flux's prune is spec.prune)"
        );
    }
    Ok(())
}

fn refuse_read_only(global: &GlobalArgs, r: &ObservedRef) -> Result<()> {
    if global.read_only {
        bail!("{r} was not changed: --read-only refuses every change to the cluster");
    }
    Ok(())
}

async fn send(engine: &EngineHandle, cmd: EngineCommand) -> Result<()> {
    engine
        .commands()
        .send(cmd)
        .await
        .map_err(|_| eyre!("the engine stopped"))
}

/// Prints the operation's progress to stderr until the engine says how it ended.
async fn follow(
    engine: &EngineHandle,
    name: &str,
    mut reply: oneshot::Receiver<Result<Operation, String>>,
) -> Result<Operation> {
    let mut snapshots = engine.subscribe();
    let mut printed: HashMap<usize, (StepStatus, String)> = HashMap::new();
    let mut last_message = String::new();
    let stderr = std::io::stderr();
    loop {
        tokio::select! {
            result = &mut reply => {
                return result
                    .map_err(|_| eyre!("the engine stopped before the operation ended"))?
                    .map_err(|e| eyre!("{e}"));
            }
            changed = snapshots.changed() => {
                if changed.is_err() {
                    bail!("the engine stopped before the operation ended");
                }
                let op = snapshots
                    .borrow_and_update()
                    .apps
                    .iter()
                    .find(|a| app_ref_in_cluster(a) == name)
                    .and_then(|a| a.operation.clone())
                    .filter(|o| o.phase == OperationPhase::Running);
                if let Some(op) = op {
                    let mut err = stderr.lock();
                    if op.message != last_message && !op.message.is_empty() {
                        let _ = writeln!(err, "◎ {}", op.message);
                    }
                    // Every message was printed above: `progress` adds only the steps.
                    last_message.clone_from(&op.message);
                    progress(&mut err, &op, &mut printed, &mut last_message);
                }
            }
        }
    }
}

/// Prints the ended operation from the Application as Argo CD left it.
async fn finish(
    engine: &EngineHandle,
    name: &str,
    op: Operation,
    format: OutputFormat,
) -> Result<ExitCode> {
    let (tx, rx) = oneshot::channel();
    send(
        engine,
        EngineCommand::Observed(ObservedCommand::Object {
            app: name.to_string(),
            reply: tx,
        }),
    )
    .await?;
    let obj = rx
        .await
        .map_err(|_| eyre!("the engine stopped"))?
        .map_err(|e| eyre!("{e}"))?;
    let phase = argocd::operation_phase(&obj);
    let results = argocd::sync_results(&obj);
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&operation_json(&op, &phase, &results))?
        )?,
        OutputFormat::Yaml => write!(
            out,
            "{}",
            yaml::to_string(&operation_json(&op, &phase, &results))
        )?,
        _ => write!(out, "{}", result_table(name, &op, &phase, &results))?,
    }
    out.flush()?;
    Ok(if phase == "Succeeded" {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    })
}

/// The operation in the shape of rekon's own `sync -o json`, each step with what Argo CD
/// reported of it (`syncStatus`, `health`, `hookType`, `hookPhase`), and Argo CD's phase.
pub fn operation_json(op: &Operation, argo_phase: &str, results: &[ResourceResult]) -> Value {
    let mut v = serde_json::to_value(op).unwrap_or(Value::Null);
    v["argocdPhase"] = json!(argo_phase);
    if let Some(steps) = v.get_mut("steps").and_then(Value::as_array_mut) {
        for (step, r) in steps.iter_mut().zip(results) {
            step["syncStatus"] = json!(r.status);
            step["health"] = json!(r.health);
            step["hookType"] = json!(r.hook_type);
            step["hookPhase"] = json!(r.hook_phase);
        }
    }
    v
}

/// `argocd app sync`'s resource table, then one line: how it ended, at which revision.
pub fn result_table(
    name: &str,
    op: &Operation,
    argo_phase: &str,
    results: &[ResourceResult],
) -> String {
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let status = if r.status.is_empty() {
                r.hook_phase.clone()
            } else {
                r.status.clone()
            };
            let hook = match (r.hook_type.as_str(), r.hook_phase.as_str()) {
                ("", _) => String::new(),
                (t, "") => t.to_string(),
                (t, p) => format!("{t} ({p})"),
            };
            vec![
                r.group.clone(),
                r.kind.clone(),
                r.namespace.clone(),
                r.name.clone(),
                status,
                r.health.clone(),
                hook,
                r.message.lines().next().unwrap_or("").to_string(),
            ]
        })
        .collect();
    let mut text = if rows.is_empty() {
        "no resources were synced\n".to_string()
    } else {
        table(
            &[
                "GROUP",
                "KIND",
                "NAMESPACE",
                "NAME",
                "STATUS",
                "HEALTH",
                "HOOK",
                "MESSAGE",
            ],
            &rows,
        )
    };
    let short = short_sha(&op.revision);
    let at = if short.is_empty() {
        String::new()
    } else {
        format!(" at {short}")
    };
    let dry = if op.dry_run { " (dry run)" } else { "" };
    let took = match (
        op.started_at.parse::<jiff::Timestamp>(),
        op.finished_at.as_deref().map(str::parse::<jiff::Timestamp>),
    ) {
        (Ok(a), Some(Ok(b))) => b
            .duration_since(a)
            .try_into()
            .map(|d| format!(" in {}", format_duration(d)))
            .unwrap_or_default(),
        _ => String::new(),
    };
    text.push_str(&format!(
        "\n{argo_phase}{dry} {name}{at}{took}: {}\n",
        op.message
    ));
    text
}

/// `status.history` for people: `argocd app history`'s columns and who deployed it.
pub fn history_table(entries: &[HistoryEntry]) -> String {
    let when = |t: &str| {
        t.parse::<jiff::Timestamp>()
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_else(|_| t.to_string())
    };
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.id.to_string(),
                when(&e.finished_at),
                e.revision.clone(),
                e.initiated_by.clone(),
            ]
        })
        .collect();
    table(&["ID", "DEPLOYED", "REVISION", "BY"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StepAction, SyncPhase, SyncStep};

    fn result(kind: &str, status: &str, message: &str) -> ResourceResult {
        ResourceResult {
            group: if kind == "Deployment" { "apps" } else { "" }.into(),
            kind: kind.into(),
            namespace: "edge".into(),
            name: "edge".into(),
            status: status.into(),
            health: "Healthy".into(),
            hook_type: String::new(),
            hook_phase: String::new(),
            message: message.into(),
        }
    }

    fn op() -> Operation {
        Operation {
            app: "argocd/edge".into(),
            phase: OperationPhase::Succeeded,
            revision: "f00dfeed0123".into(),
            steps: vec![SyncStep {
                phase: SyncPhase::Sync,
                wave: 0,
                group: "apps".into(),
                version: "v1".into(),
                kind: "Deployment".into(),
                namespace: "edge".into(),
                name: "edge".into(),
                action: StepAction::Configured,
                status: StepStatus::Succeeded,
                message: "deployment/edge configured".into(),
                takes: Vec::new(),
                replace: false,
            }],
            message: "successfully synced (all tasks run)".into(),
            started_at: "2026-05-01T10:00:00Z".into(),
            finished_at: Some("2026-05-01T10:00:02Z".into()),
            initiated_by: "me@host".into(),
            dry_run: false,
        }
    }

    #[test]
    fn result_table_is_argo_cds_with_the_outcome() {
        let mut hook = result("Job", "", "job completed");
        hook.hook_type = "PreSync".into();
        hook.hook_phase = "Succeeded".into();
        hook.health = String::new();
        let text = result_table(
            "argocd:argocd/edge@prod",
            &op(),
            "Succeeded",
            &[
                hook,
                result("Deployment", "Synced", "deployment/edge configured"),
            ],
        );
        let want = [
            "GROUP  KIND        NAMESPACE  NAME  STATUS     HEALTH   HOOK                 MESSAGE",
            "       Job         edge       edge  Succeeded           PreSync (Succeeded)  job completed",
            "apps   Deployment  edge       edge  Synced     Healthy                       deployment/edge configured",
            "",
            "Succeeded argocd:argocd/edge@prod at f00dfee in 2s: successfully synced (all tasks run)",
            "",
        ];
        assert_eq!(text, want.join("\n"));
    }

    #[test]
    fn json_keeps_rekons_shape_and_adds_argo_cds_words() {
        let v = operation_json(
            &op(),
            "Error",
            &[result("Deployment", "SyncFailed", "denied")],
        );
        assert_eq!(v["phase"], "Succeeded");
        assert_eq!(v["argocdPhase"], "Error");
        assert_eq!(v["revision"], "f00dfeed0123");
        assert_eq!(v["steps"][0]["action"], "configured");
        assert_eq!(v["steps"][0]["syncStatus"], "SyncFailed");
        assert_eq!(v["steps"][0]["hookPhase"], "");
    }

    #[test]
    fn history_table_lists_what_argo_cd_recorded() {
        let e = HistoryEntry {
            id: 3,
            revision: "abc123".into(),
            author: String::new(),
            commit_message: String::new(),
            started_at: String::new(),
            finished_at: "2026-05-01T10:00:02Z".into(),
            phase: OperationPhase::Succeeded,
            initiated_by: "automated".into(),
            summary: String::new(),
            taken: Vec::new(),
        };
        assert_eq!(
            history_table(&[e]),
            "ID  DEPLOYED             REVISION  BY\n3   2026-05-01 10:00:02  abc123    automated\n"
        );
    }
}
