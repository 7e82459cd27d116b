//! Before anything changes: whose fields each apply takes, and whether the server refuses
//! the change outright (an immutable field). The server answers itself: a non-forced
//! server-side dry run as `rekon` conflicts with exactly the fields other managers own, and
//! a forced one shows what the apply would then meet.

use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;

use super::writes::{self, WRITE_CONCURRENCY, WriteMode};
use crate::cluster::{ApiCatalog, WriteError};
use crate::engine::plan::{Plan, Task, TaskKind};
use crate::model::{FieldTakeover, StepAction, StepStatus, SyncOptions};

/// What the server says of one apply before it is sent.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Fields other managers own that the apply sets.
    pub takes: Vec<FieldTakeover>,
    /// The server refuses the change because a field is immutable: its message.
    pub immutable: Option<String>,
    /// The dry run as the sync will send it (forced unless conflicts are refused).
    pub result: Result<Option<Value>, WriteError>,
}

/// Dry-runs `task`'s apply: first without force, to learn the conflicts; then, unless
/// conflicts are refused, with force, to learn what the apply meets after taking them.
pub async fn probe(
    client: &kube::Client,
    catalog: &ApiCatalog,
    task: &Task,
    refuse_conflicts: bool,
) -> Probe {
    let send = |force| {
        writes::apply(
            client,
            catalog,
            &task.object,
            &task.api_version,
            &task.options,
            WriteMode {
                dry_run: true,
                force,
            },
        )
    };
    let first = send(false).await;
    let (takes, result) = match first {
        Err(WriteError::Conflict { takes, .. }) if !refuse_conflicts && !takes.is_empty() => {
            (takes, send(true).await)
        }
        Err(WriteError::Conflict { takes, message }) => {
            (takes.clone(), Err(WriteError::Conflict { takes, message }))
        }
        other => (Vec::new(), other),
    };
    let immutable = match &result {
        Err(WriteError::Immutable(m)) => Some(m.clone()),
        _ => None,
    };
    Probe {
        takes,
        immutable,
        result: result.map(Some),
    }
}

/// Whether a step's object is probed: an apply (not `Replace=true`) of an object that
/// exists and differs from Git.
pub fn probed(action: StepAction, status: StepStatus, task: &Task) -> bool {
    action == StepAction::Configured
        && status == StepStatus::Pending
        && task.kind == TaskKind::Apply
        && !task.options.replace
        && !task.generate_name
}

/// The plan's message for an object the server refuses to change in place.
pub fn immutable_note(message: &str, force: bool) -> String {
    if force {
        format!("--force: deleted and created again ({message})")
    } else {
        format!("{message} (sync with --force to delete the object and create it again)")
    }
}

/// Names on the plan, before anything changes, the fields each apply takes and from whom,
/// and the objects `--force` replaces (or that fail without it). Other errors are left to
/// the sync's own dry run.
pub async fn annotate(
    client: &kube::Client,
    catalog: &Arc<ApiCatalog>,
    plan: &mut Plan,
    options: &SyncOptions,
) {
    let todo: Vec<usize> = (0..plan.tasks.len())
        .filter(|&i| {
            let s = &plan.model.steps[i];
            probed(s.action, s.status, &plan.tasks[i])
        })
        .collect();
    let probes = futures::stream::iter(todo.into_iter().map(|i| {
        let task = plan.tasks[i].clone();
        let client = client.clone();
        let catalog = catalog.clone();
        async move { (i, probe(&client, &catalog, &task, false).await) }
    }))
    .buffer_unordered(WRITE_CONCURRENCY)
    .collect::<Vec<_>>()
    .await;
    for (i, p) in probes {
        let step = &mut plan.model.steps[i];
        step.takes = p.takes;
        if let Some(m) = p.immutable {
            step.replace = options.force;
            step.message = immutable_note(&m, options.force);
        }
    }
}
