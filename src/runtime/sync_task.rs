//! The off-task part of a sync: compare when the engine's comparison is not fresh, plan,
//! execute, and record the result in the app's history.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use kube::api::Api;
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use crate::cluster::compare::{CompareJob, DryRunCache};
use crate::cluster::{LiveObject, compare};
use crate::engine::compare::ResourceOutcome;
use crate::engine::plan::{self, PlanInput, RetryPolicy};
use crate::model::{
    Application, GroupKind, HistoryEntry, Operation, ResourceKey, SyncOptions, SyncPlan,
};
use crate::source::Sources;
use crate::sync::{self, ExecEvent, ExecJob, LiveEvent, LiveView, history};

use super::Reply;
use super::messages::{Msg, OpMsg};

/// Everything the off-task part of a sync needs.
pub(super) struct Pipeline {
    pub(super) app_index: usize,
    pub(super) app: Application,
    pub(super) instance: String,
    pub(super) job: CompareJob,
    pub(super) outcomes: Option<Vec<ResourceOutcome>>,
    pub(super) revision: String,
    pub(super) options: SyncOptions,
    pub(super) cache: Arc<DryRunCache>,
    pub(super) tx: mpsc::UnboundedSender<Msg>,
    pub(super) sources: Arc<Sources>,
    pub(super) cluster: usize,
    pub(super) purpose: PipelinePurpose,
}

pub(super) enum PipelinePurpose {
    Plan(Reply<SyncPlan>),
    Run(RunInputs),
}

pub(super) struct RunInputs {
    pub(super) id: u64,
    pub(super) initiated_by: String,
    pub(super) record: bool,
    pub(super) events: mpsc::UnboundedReceiver<LiveEvent>,
    pub(super) cancel: watch::Receiver<bool>,
    pub(super) watched: HashSet<GroupKind>,
    pub(super) forwarded: HashSet<ResourceKey>,
}

impl Pipeline {
    pub(super) async fn run(self) {
        let Pipeline {
            app_index,
            app,
            instance,
            job,
            outcomes,
            revision,
            options,
            cache,
            tx,
            sources,
            cluster,
            purpose,
        } = self;
        let client = job.client.clone();
        let catalog = job.catalog.clone();
        let desired = job.desired.clone();
        let live: HashMap<ResourceKey, Arc<Value>> = job
            .live
            .iter()
            .map(|(k, o)| (k.clone(), o.value()))
            .collect();
        let extras: Vec<Arc<Value>> = job.extra.iter().map(LiveObject::value).collect();
        let outcomes = match outcomes {
            Some(o) => o,
            None => compare::run(job, cache).await,
        };
        let create_namespace = namespace_to_create(&client, &app).await;
        let allow_empty = app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.automated.as_ref())
            .is_some_and(|a| a.allow_empty);
        let plan = plan::build(&PlanInput {
            app: &app,
            revision: &revision,
            desired: &desired,
            outcomes: &outcomes,
            live: &live,
            extras: &extras,
            options: &options,
            allow_empty,
            create_namespace,
        });
        let run = match purpose {
            PipelinePurpose::Plan(reply) => {
                let plan = match plan {
                    Ok(mut p) => {
                        sync::probe::annotate(&client, &catalog, &mut p, &options).await;
                        Ok(p.model)
                    }
                    Err(e) => Err(e.to_string()),
                };
                let _ = reply.send(plan);
                return;
            }
            PipelinePurpose::Run(run) => run,
        };
        let id = run.id;
        let finished = |result: Result<Operation, String>, history| {
            send_finished(&tx, app_index, id, result, history)
        };
        let plan = match plan {
            Ok(p) => p,
            Err(e) => return finished(Err(e.to_string()), None),
        };
        let retry = match RetryPolicy::from_spec(
            app.spec.sync_policy.as_ref().and_then(|p| p.retry.as_ref()),
        ) {
            Ok(r) => r,
            Err(e) => return finished(Err(format!("app {}: {e}", app.qualified_name())), None),
        };
        let mut initial = live.clone();
        for o in &extras {
            if let Some(k) = ResourceKey::of(o) {
                initial.insert(k, o.clone());
            }
        }
        let progress_tx = tx.clone();
        let report: sync::Reporter = Box::new(move |event| {
            let msg = match event {
                ExecEvent::Progress(op) => Msg::Op(OpMsg::Progress {
                    app: app_index,
                    id,
                    op,
                }),
                ExecEvent::Writing(writing) => Msg::Op(OpMsg::Writing {
                    app: app_index,
                    id,
                    writing,
                }),
                ExecEvent::Catalog(catalog) => Msg::Catalog {
                    cluster,
                    result: Ok((*catalog).clone()),
                },
            };
            let _ = progress_tx.send(msg);
        });
        let timeout = options
            .timeout_secs
            .map(std::time::Duration::from_secs)
            .unwrap_or(sync::DEFAULT_TIMEOUT);
        let op = sync::run(ExecJob {
            app: app.qualified_name(),
            client: client.clone(),
            catalog,
            plan,
            initiated_by: run.initiated_by.clone(),
            dry_run: options.dry_run,
            refuse_conflicts: options.refuse_conflicts,
            replace: options.force,
            timeout,
            retry,
            view: LiveView::new(initial, run.watched, run.forwarded, run.events),
            cancel: run.cancel,
            report,
        })
        .await;
        let history = if run.record {
            // A server that stops answering must not keep the result from the user.
            let record = record_history(&client, &app, &instance, &op, &sources);
            Some(match tokio::time::timeout(timeout, record).await {
                Ok(r) => r,
                Err(_) => Err(format!(
                    "cannot write sync history of {}: the API server did not answer within {}",
                    app.qualified_name(),
                    crate::model::format_duration(timeout)
                )),
            })
        } else {
            None
        };
        send_finished(&tx, app_index, id, Ok(op), history);
    }
}

fn send_finished(
    tx: &mpsc::UnboundedSender<Msg>,
    app: usize,
    id: u64,
    result: Result<Operation, String>,
    history: Option<Result<history::Stored, String>>,
) {
    let _ = tx.send(Msg::Op(OpMsg::Finished {
        app,
        id,
        result,
        history,
    }));
}

/// `CreateNamespace=true` and the destination namespace is missing: its name.
async fn namespace_to_create(client: &kube::Client, app: &Application) -> Option<String> {
    let wanted = app
        .spec
        .sync_policy
        .as_ref()
        .is_some_and(|p| p.has_option("CreateNamespace"));
    let ns = app
        .spec
        .destination
        .namespace
        .clone()
        .filter(|n| !n.is_empty())?;
    if !wanted {
        return None;
    }
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    match api.get_opt(&ns).await {
        Ok(None) => Some(ns),
        _ => None,
    }
}

async fn record_history(
    client: &kube::Client,
    app: &Application,
    instance: &str,
    op: &Operation,
    sources: &Arc<Sources>,
) -> Result<history::Stored, String> {
    let sources = sources.clone();
    let repo = app.spec.source.repo_url.clone();
    let rev = op.revision.clone();
    let info = tokio::task::spawn_blocking(move || sources.commit_info(&repo, &rev).ok())
        .await
        .ok()
        .flatten();
    let entry = HistoryEntry {
        id: 0,
        revision: op.revision.clone(),
        author: info.as_ref().map(|i| i.author.clone()).unwrap_or_default(),
        commit_message: info.map(|i| i.summary).unwrap_or_default(),
        started_at: op.started_at.clone(),
        finished_at: op.finished_at.clone().unwrap_or_default(),
        phase: op.phase,
        initiated_by: op.initiated_by.clone(),
        summary: history::summary(&op.steps),
        taken: history::taken(&op.steps),
    };
    history::record(
        client,
        app,
        instance,
        entry,
        history::applied_kinds(&op.steps),
    )
    .await
}
