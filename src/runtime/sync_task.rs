//! A sync's hand-off from the actor (`Actor::launch` gathers its inputs there) and its
//! off-task part: compare when the engine's comparison is not fresh, plan, execute, and
//! record the result in the app's history.

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
use crate::source::{Rendered, Sources};
use crate::sync::{self, ExecEvent, ExecJob, LiveEvent, LiveView, history};

use super::Reply;
use super::actor::Actor;
use super::messages::{Msg, OpMsg, SyncPurpose, SyncRequest};

/// Everything the off-task part of a sync needs.
struct Pipeline {
    app_index: usize,
    app: Application,
    instance: String,
    job: CompareJob,
    outcomes: Option<Vec<ResourceOutcome>>,
    revision: String,
    options: SyncOptions,
    cache: Arc<DryRunCache>,
    tx: mpsc::UnboundedSender<Msg>,
    sources: Arc<Sources>,
    cluster: usize,
    purpose: PipelinePurpose,
}

enum PipelinePurpose {
    Plan(Reply<SyncPlan>),
    Run(RunInputs),
}

struct RunInputs {
    id: u64,
    initiated_by: String,
    record: bool,
    events: mpsc::UnboundedReceiver<LiveEvent>,
    cancel: watch::Receiver<bool>,
    watched: HashSet<GroupKind>,
    forwarded: HashSet<ResourceKey>,
}

impl Actor {
    /// Gathers the inputs on the engine task and starts the off-task pipeline.
    pub(super) fn launch(&mut self, request: SyncRequest, rendered: Option<Rendered>) {
        let a = request.app;
        let gathered = self.gather(a, rendered.as_ref());
        let (job, outcomes, revision) = match gathered {
            Ok(g) => g,
            Err(e) => return self.fail_request(request, e),
        };
        let Ok(c) = self.apps[a].cluster else {
            return self.fail_request(request, "the app has no cluster".into());
        };
        let purpose = match request.purpose {
            SyncPurpose::Plan(reply) => PipelinePurpose::Plan(reply),
            SyncPurpose::Sync { id } => {
                let Some(op) = self.apps[a].ops.running.as_mut().filter(|o| o.id == id) else {
                    return;
                };
                let mut keys: HashSet<ResourceKey> =
                    job.desired.iter().map(|d| d.key.clone()).collect();
                keys.extend(job.extra.iter().filter_map(|o| ResourceKey::of(&o.value())));
                let (events, cancel) = op.hand_off(keys.clone());
                let watched = self.clusters[c].listed_in_full(&keys);
                PipelinePurpose::Run(RunInputs {
                    id,
                    initiated_by: op.initiated_by.clone(),
                    record: op.full,
                    events,
                    cancel,
                    watched,
                    forwarded: keys,
                })
            }
        };
        let pipeline = Pipeline {
            app_index: a,
            app: self.apps[a].app.clone(),
            instance: self.apps[a].instance.clone(),
            job,
            outcomes,
            revision,
            options: request.options,
            cache: self.cache.clone(),
            tx: self.tx.clone(),
            sources: self.options.sources.clone(),
            cluster: c,
            purpose,
        };
        tokio::spawn(pipeline.run());
    }

    /// The compare job (desired, live, extras), the outcomes when the current ones are
    /// fresh, and the revision.
    fn gather(
        &self,
        a: usize,
        rendered: Option<&Rendered>,
    ) -> Result<(CompareJob, Option<Vec<ResourceOutcome>>, String), String> {
        let rt = &self.apps[a];
        let name = rt.app.qualified_name();
        if let Some(r) = rendered {
            return Ok((self.job_for(a, r)?, None, r.commit.clone()));
        }
        let c = rt.cluster.clone()?;
        let cluster = &self.clusters[c];
        let catalog = cluster.catalog.clone().ok_or_else(|| {
            format!(
                "app {name}: cluster {} is not connected yet",
                cluster.handle.name
            )
        })?;
        let revision = match &rt.rendered {
            Some(Ok(r)) => r.commit.clone(),
            Some(Err(e)) => return Err(format!("app {name} cannot be rendered: {e}")),
            None => return Err(format!("app {name} has not been rendered yet")),
        };
        let desired = rt
            .desired
            .clone()
            .ok_or_else(|| format!("app {name} has not been prepared for its cluster yet"))?;
        let outcomes = if rt.comparing || rt.stale {
            None
        } else {
            rt.outcomes.clone()
        };
        Ok((self.build_job(a, c, catalog, desired), outcomes, revision))
    }
}

impl Pipeline {
    async fn run(self) {
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
