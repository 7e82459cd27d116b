//! Running a plan against a cluster.
//!
//! First every step is sent as a server dry run; an apply goes first without force, so the
//! fields it takes from other field managers are named on its step before anything changes
//! (or, with `--refuse-conflicts`, fail the sync), and an object the server refuses to change
//! in place (an immutable field) is marked for delete-and-create when `--force` asks for it.
//! Any failure ends the operation with nothing written. Then group by group — (phase, wave) in plan order — prunes, then hook deletions
//! (BeforeHookCreation), then applies in parallel per run of consecutive kinds; then, if
//! anything follows or the group has hooks, a wait until the group's objects are healthy,
//! its hooks finished and its pruned objects gone, bounded by the timeout. A failure skips
//! what is left and runs the SyncFail hooks. `--dry-run` stops after the dry runs.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use serde_json::Value;
use tokio::sync::watch;

use super::live_view::LiveView;
use super::probe;
use super::writes::{self, WRITE_CONCURRENCY, WriteMode};
use crate::cluster::{ApiCatalog, WriteError};
use crate::engine::plan::annotations::Propagation;
use crate::engine::plan::retry::RetryPolicy;
use crate::engine::plan::{Plan, Task, TaskKind, history, step_title};
use crate::model::format_duration;
use crate::model::{
    GroupKind, Operation, OperationPhase, ResourceKey, StepAction, StepStatus, SyncPhase, SyncStep,
};

/// How often objects the engine does not tell us about are read while waiting.
pub(super) const POLL_UNTOLD: Duration = Duration::from_secs(1);
/// How often objects the engine does tell us about are read anyway, in case a watch stalls.
pub(super) const POLL_TOLD: Duration = Duration::from_secs(10);
/// Progress is published at most this often while steps change quickly.
pub(super) const REPORT_EVERY: Duration = Duration::from_millis(100);

/// What a running sync tells its owner.
#[derive(Debug, Clone)]
pub enum ExecEvent {
    /// The operation as it stands now.
    Progress(Operation),
    /// Discovery after CRDs were applied found new kinds.
    Catalog(Arc<ApiCatalog>),
    /// The sync starts (`true`) or stops (`false`) a burst of writes; comparisons of the app
    /// can wait until it ends.
    Writing(bool),
}

/// Where a running sync sends its events.
pub type Reporter = Box<dyn Fn(ExecEvent) + Send + Sync>;

/// Everything a sync needs to run.
pub struct ExecJob {
    /// `namespace/name` of the app.
    pub app: String,
    /// Client of the app's cluster.
    pub client: kube::Client,
    /// What the cluster serves.
    pub catalog: Arc<ApiCatalog>,
    /// The plan to run.
    pub plan: Plan,
    /// Who started it.
    pub initiated_by: String,
    /// Only server dry runs.
    pub dry_run: bool,
    /// Fail instead of taking over fields other managers own.
    pub refuse_conflicts: bool,
    /// Delete and create again the objects the server refuses to change in place.
    pub replace: bool,
    /// Longest wait for one group's health, hooks or deletions.
    pub timeout: Duration,
    /// How failed attempts are retried.
    pub retry: RetryPolicy,
    /// Live objects as the engine sees them, and its updates.
    pub view: LiveView,
    /// Becomes true when the user terminates the operation.
    pub cancel: watch::Receiver<bool>,
    /// Progress goes here.
    pub report: Reporter,
}

/// Which request [`Exec::owned`] sends for a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Call {
    Write,
    DryRun,
    DeleteHook,
}

pub(super) type WriteFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = (usize, Result<Option<Value>, WriteError>)> + Send>,
>;

/// A preflight dry run's answer: a plain write's, or an apply's probe.
enum DryRun {
    Plain(Result<Option<Value>, WriteError>),
    Probed(probe::Probe),
}

type DryRunFuture = std::pin::Pin<Box<dyn std::future::Future<Output = (usize, DryRun)> + Send>>;

/// Why a group stopped the run.
pub(super) enum Stop {
    Failed,
    Terminated,
}

pub(super) struct Exec {
    pub(super) client: kube::Client,
    pub(super) catalog: Arc<ApiCatalog>,
    pub(super) tasks: Vec<Task>,
    pub(super) plan_steps: Vec<SyncStep>,
    pub(super) steps: Vec<SyncStep>,
    pub(super) keys: Vec<ResourceKey>,
    pub(super) view: LiveView,
    pub(super) cancel: watch::Receiver<bool>,
    pub(super) report: Reporter,
    pub(super) dry_run: bool,
    pub(super) refuse_conflicts: bool,
    pub(super) replace: bool,
    pub(super) timeout: Duration,
    pub(super) op: Operation,
    pub(super) last_report: Option<Instant>,
    /// Something was written in this attempt (the dry runs passed).
    pub(super) started: bool,
    /// A change was held back by the report throttle.
    pub(super) unreported: bool,
}

/// Runs the plan (with retries) and returns the finished operation.
pub async fn run(job: ExecJob) -> Operation {
    let op = Operation {
        app: job.app.clone(),
        phase: OperationPhase::Running,
        revision: job.plan.model.revision.clone(),
        steps: job.plan.model.steps.clone(),
        message: if job.dry_run {
            "dry run".into()
        } else {
            "syncing".into()
        },
        started_at: jiff::Timestamp::now().to_string(),
        finished_at: None,
        initiated_by: job.initiated_by.clone(),
        dry_run: job.dry_run,
    };
    let keys = job.plan.model.steps.iter().map(SyncStep::key).collect();
    let mut exec = Exec {
        client: job.client,
        catalog: job.catalog,
        tasks: job.plan.tasks,
        plan_steps: job.plan.model.steps.clone(),
        steps: job.plan.model.steps,
        keys,
        view: job.view,
        cancel: job.cancel,
        report: job.report,
        dry_run: job.dry_run,
        refuse_conflicts: job.refuse_conflicts,
        replace: job.replace,
        timeout: job.timeout,
        op,
        last_report: None,
        started: false,
        unreported: false,
    };
    let mut retries = 0u32;
    loop {
        exec.steps = exec.plan_steps.clone();
        exec.keys = exec.steps.iter().map(SyncStep::key).collect();
        if retries > 0 {
            exec.op.message = format!("syncing (retry {retries})");
        }
        exec.report(true);
        exec.started = false;
        let outcome = exec.attempt().await;
        if matches!(outcome, Err(Stop::Failed)) && exec.started {
            exec.run_sync_fail().await;
        }
        exec.finish(outcome);
        let retry =
            exec.op.phase == OperationPhase::Failed && !exec.dry_run && job.retry.allows(retries);
        if !retry {
            break;
        }
        let delay = job.retry.backoff.delay(retries);
        retries += 1;
        let failure = exec.op.message.clone();
        exec.op.phase = OperationPhase::Running;
        exec.op.finished_at = None;
        exec.op.message = format!(
            "{failure}; retrying in {} (retry {retries}{})",
            format_duration(delay),
            job.retry
                .limit
                .map(|l| format!(" of {l}"))
                .unwrap_or_default()
        );
        exec.report(true);
        let mut cancel = exec.cancel.clone();
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = until_cancelled(&mut cancel) => {
                exec.op.phase = OperationPhase::Terminated;
                exec.op.message = "terminated while waiting to retry".into();
                exec.op.finished_at = Some(jiff::Timestamp::now().to_string());
                break;
            }
        }
    }
    if retries > 0 && exec.op.phase != OperationPhase::Terminated {
        exec.op.message = format!(
            "{} (after {retries} {})",
            exec.op.message,
            if retries == 1 { "retry" } else { "retries" }
        );
    }
    exec.report(true);
    exec.op
}

pub(super) fn provided_kind(task: &Task) -> Option<GroupKind> {
    let spec = &task.object["spec"];
    Some(GroupKind::new(
        spec["group"].as_str()?,
        spec["names"]["kind"].as_str()?,
    ))
}

pub(super) fn is_crd(step: &SyncStep) -> bool {
    step.group == "apiextensions.k8s.io" && step.kind == "CustomResourceDefinition"
}

impl Exec {
    pub(super) fn report(&mut self, force: bool) {
        let due = self.last_report.is_none_or(|t| t.elapsed() >= REPORT_EVERY);
        if !(force || due) {
            self.unreported = true;
            return;
        }
        self.unreported = false;
        self.last_report = Some(Instant::now());
        self.op.steps = self.steps.clone();
        (self.report)(ExecEvent::Progress(self.op.clone()));
    }

    pub(super) fn set(&mut self, i: usize, status: StepStatus, message: impl Into<String>) {
        self.steps[i].status = status;
        self.steps[i].message = message.into();
    }

    pub(super) fn cancelled(&self) -> bool {
        *self.cancel.borrow()
    }

    pub(super) fn write_mode(&self, dry_run: bool) -> WriteMode {
        WriteMode {
            dry_run,
            force: !self.refuse_conflicts,
        }
    }

    async fn attempt(&mut self) -> Result<(), Stop> {
        self.preflight().await?;
        if self.dry_run {
            return Ok(());
        }
        self.started = true;
        let groups = self.groups_where(|p| p != SyncPhase::SyncFail);
        for (n, group) in groups.iter().enumerate() {
            if self.cancelled() {
                return Err(Stop::Terminated);
            }
            self.run_group(group, n + 1 < groups.len()).await?;
        }
        Ok(())
    }

    /// After a failure: what did not run is skipped, then the SyncFail hooks run.
    async fn run_sync_fail(&mut self) {
        for s in &mut self.steps {
            if s.status == StepStatus::Pending && s.phase != SyncPhase::SyncFail {
                s.status = StepStatus::Skipped;
                s.message = "not run: an earlier step failed".into();
            }
        }
        let failure = self.op.message.clone();
        let groups = self.groups_where(|p| p == SyncPhase::SyncFail);
        let mut outcome = Ok(());
        for (n, group) in groups.iter().enumerate() {
            outcome = self.run_group(group, n + 1 < groups.len()).await;
            if outcome.is_err() {
                break;
            }
        }
        self.op.message = match outcome {
            Ok(()) if groups.is_empty() => failure,
            Ok(()) => format!("{failure} (SyncFail hooks ran)"),
            Err(_) => format!("{failure}; a SyncFail hook failed too: {}", self.op.message),
        };
    }

    fn groups_where(&self, keep: impl Fn(SyncPhase) -> bool) -> Vec<Vec<usize>> {
        let mut out: Vec<Vec<usize>> = Vec::new();
        let mut last: Option<(SyncPhase, i32)> = None;
        for (i, s) in self.steps.iter().enumerate() {
            if !keep(s.phase) {
                continue;
            }
            if last != Some((s.phase, s.wave)) {
                out.push(Vec::new());
                last = Some((s.phase, s.wave));
            }
            if let Some(g) = out.last_mut() {
                g.push(i);
            }
        }
        out
    }

    /// Why step `i` cannot be dry-run before the sync, if it cannot: what it needs is created
    /// by this very sync.
    fn dry_run_blocked(&self, i: usize, created_ns: &HashSet<String>) -> Option<String> {
        let s = &self.steps[i];
        let t = &self.tasks[i];
        if !s.namespace.is_empty() && created_ns.contains(&s.namespace) {
            return Some(format!(
                "not dry-run: namespace {} is created by this sync",
                s.namespace
            ));
        }
        let served = self.catalog.resolve(&t.api_version, &s.kind).is_some();
        if served || matches!(t.kind, TaskKind::Prune | TaskKind::CreateNamespace) {
            return None;
        }
        let gk = GroupKind::new(&s.group, &s.kind);
        let crd_here = self.steps.iter().zip(&self.tasks).any(|(cs, ct)| {
            is_crd(cs) && ct.kind == TaskKind::Apply && provided_kind(ct).as_ref() == Some(&gk)
        });
        if crd_here {
            return Some("not dry-run: its CRD is created by this sync".into());
        }
        if t.options.skip_dry_run_on_missing {
            return Some("not dry-run: SkipDryRunOnMissingResource=true".into());
        }
        None
    }

    async fn preflight(&mut self) -> Result<(), Stop> {
        let created_ns: HashSet<String> = self
            .steps
            .iter()
            .zip(&self.tasks)
            .filter(|(s, t)| {
                s.kind == "Namespace"
                    && s.group.is_empty()
                    && (t.kind == TaskKind::CreateNamespace
                        || (t.kind == TaskKind::Apply && s.action == StepAction::Created))
            })
            .map(|(s, _)| s.name.clone())
            .collect();
        let mut todo = Vec::new();
        for i in 0..self.steps.len() {
            if self.steps[i].status != StepStatus::Pending
                || self.steps[i].phase == SyncPhase::SyncFail
            {
                continue;
            }
            match self.dry_run_blocked(i, &created_ns) {
                Some(why) if self.dry_run => self.set(i, StepStatus::Succeeded, why),
                Some(_) => {}
                None => todo.push(i),
            }
        }
        let (probed, todo): (Vec<usize>, Vec<usize>) = todo.into_iter().partition(|&i| {
            probe::probed(self.steps[i].action, self.steps[i].status, &self.tasks[i])
        });
        let mut futures: Vec<DryRunFuture> = todo
            .iter()
            .map(|&i| -> DryRunFuture {
                Box::pin(
                    self.owned(i, Call::DryRun)
                        .map(|(i, r)| (i, DryRun::Plain(r))),
                )
            })
            .collect();
        for i in probed {
            futures.push(self.probe_future(i));
        }
        let results = futures::stream::iter(futures)
            .buffer_unordered(WRITE_CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        let mut failed = 0;
        for (i, result) in results {
            let result = self.judge(i, result);
            match result {
                Ok(_) if self.dry_run && self.steps[i].replace => {
                    let message = format!("dry run; {}", self.steps[i].message);
                    self.set(i, StepStatus::Succeeded, message);
                }
                Ok(_) if self.dry_run => {
                    let message = match self.steps[i].message.as_str() {
                        "" => "dry run".to_string(),
                        m => format!("dry run; {m}"),
                    };
                    self.set(i, StepStatus::Succeeded, message);
                }
                Ok(_) => {}
                Err(e) => {
                    failed += 1;
                    self.set(i, StepStatus::Failed, writes::describe(&e));
                }
            }
        }
        if failed > 0 {
            let first = self
                .steps
                .iter()
                .find(|s| s.status == StepStatus::Failed)
                .map(|s| format!("{}: {}", step_title(s), s.message))
                .unwrap_or_default();
            self.op.message = if self.dry_run {
                format!("dry run failed for {failed} of the steps; first: {first}")
            } else {
                format!(
                    "dry run failed for {failed} of the steps, so nothing was changed; first: {first}"
                )
            };
            return Err(Stop::Failed);
        }
        Ok(())
    }

    /// Step `i`'s probe (see [`probe::probe`]) as a future; its takeovers and an immutable
    /// field's refusal come back through [`Exec::judge`].
    fn probe_future(&self, i: usize) -> DryRunFuture {
        let client = self.client.clone();
        let catalog = self.catalog.clone();
        let task = self.tasks[i].clone();
        let refuse = self.refuse_conflicts;
        let limit = self.timeout;
        Box::pin(async move {
            let work = probe::probe(&client, &catalog, &task, refuse);
            let result = match tokio::time::timeout(limit, work).await {
                Ok(p) => DryRun::Probed(p),
                Err(_) => DryRun::Plain(Err(WriteError::Transport(format!(
                    "gave up after {}: the API server did not answer",
                    format_duration(limit)
                )))),
            };
            (i, result)
        })
    }

    /// Settles a probe's findings on step `i` and returns the dry run's result as the sync
    /// sees it: conflicts taken (or refused), immutable fields replaced (or refused).
    fn judge(&mut self, i: usize, result: DryRun) -> Result<Option<Value>, WriteError> {
        let p = match result {
            DryRun::Probed(p) => p,
            DryRun::Plain(r) => return r,
        };
        self.steps[i].takes = p.takes.clone();
        if self.refuse_conflicts && !p.takes.is_empty() {
            return Err(WriteError::Conflict {
                message: String::new(),
                takes: p.takes,
            });
        }
        match p.immutable {
            Some(m) if self.replace => {
                self.steps[i].replace = true;
                self.steps[i].message = probe::immutable_note(&m, true);
                Ok(None)
            }
            _ => p.result,
        }
    }

    /// Step `i`'s request as a future that owns what it needs (so batches can run it in
    /// parallel while the step list changes).
    pub(super) fn owned(&self, i: usize, what: Call) -> WriteFuture {
        let client = self.client.clone();
        let catalog = self.catalog.clone();
        let task = self.tasks[i].clone();
        let key = self.keys[i].clone();
        let mode = self.write_mode(what == Call::DryRun);
        let limit = self.timeout;
        let recreate = self.steps[i].replace && what == Call::Write;
        Box::pin(async move {
            let work = async {
                match (what, &task.kind) {
                    _ if recreate => writes::recreate(
                        &client,
                        &catalog,
                        &task.object,
                        &task.api_version,
                        &task.options,
                        &key,
                        limit,
                    )
                    .await
                    .map(Some),
                    (Call::DeleteHook, _) => writes::delete(
                        &client,
                        &catalog,
                        &key,
                        &task.api_version,
                        Propagation::Background,
                        false,
                    )
                    .await
                    .map(|_| None),
                    // Hooks are created anew; one left from an earlier sync is not an error
                    // (BeforeHookCreation deletes it first).
                    (Call::DryRun, TaskKind::Hook { .. }) => {
                        match writes::create(
                            &client,
                            &catalog,
                            &task.object,
                            &task.api_version,
                            true,
                        )
                        .await
                        {
                            Err(WriteError::Api { code: 409, .. }) => Ok(None),
                            other => other.map(Some),
                        }
                    }
                    _ => write_one(&client, &catalog, &task, &key, mode).await,
                }
            };
            // Each request has its own time limit, but retries add up: the step as a whole
            // gives up after the sync's timeout.
            let result = match tokio::time::timeout(limit, work).await {
                Ok(r) => r,
                Err(_) => Err(WriteError::Transport(format!(
                    "gave up after {}: the API server did not answer",
                    format_duration(limit)
                ))),
            };
            (i, result)
        })
    }

    /// Settles every step at the end of an attempt and runs SyncFail hooks after a failure.
    fn finish(&mut self, outcome: Result<(), Stop>) {
        let now = jiff::Timestamp::now().to_string();
        match outcome {
            Ok(()) => {
                for s in &mut self.steps {
                    if s.status == StepStatus::Pending && s.phase == SyncPhase::SyncFail {
                        s.status = StepStatus::Skipped;
                        s.message = "runs only when the sync fails".into();
                    }
                }
                self.op.phase = OperationPhase::Succeeded;
                self.op.message = if self.dry_run {
                    format!("dry run succeeded: {}", history::summary(&self.steps))
                } else {
                    format!("synced: {}", history::summary(&self.steps))
                };
            }
            Err(Stop::Failed) => {
                let started = self.started;
                for s in &mut self.steps {
                    if s.status == StepStatus::Pending {
                        s.status = StepStatus::Skipped;
                        s.message = if started {
                            "not run: an earlier step failed".into()
                        } else {
                            "not run: the dry run failed, nothing was changed".into()
                        };
                    }
                }
                self.op.phase = OperationPhase::Failed;
            }
            Err(Stop::Terminated) => {
                for s in &mut self.steps {
                    match s.status {
                        StepStatus::Pending => {
                            s.status = StepStatus::Skipped;
                            s.message = "not run: the operation was terminated".into();
                        }
                        StepStatus::Running => {
                            s.status = StepStatus::Failed;
                            s.message = "terminated before it finished".into();
                        }
                        _ => {}
                    }
                }
                self.op.phase = OperationPhase::Terminated;
                self.op.message = "terminated by the user".into();
            }
        }
        self.op.finished_at = Some(now);
    }
}

async fn write_one(
    client: &kube::Client,
    catalog: &ApiCatalog,
    task: &Task,
    key: &ResourceKey,
    mode: WriteMode,
) -> Result<Option<Value>, WriteError> {
    match &task.kind {
        TaskKind::Apply => writes::apply(
            client,
            catalog,
            &task.object,
            &task.api_version,
            &task.options,
            mode,
        )
        .await
        .map(Some),
        TaskKind::Hook { .. } if task.generate_name => writes::create(
            client,
            catalog,
            &task.object,
            &task.api_version,
            mode.dry_run,
        )
        .await
        .map(Some),
        TaskKind::Hook { .. } => writes::apply(
            client,
            catalog,
            &task.object,
            &task.api_version,
            &task.options,
            mode,
        )
        .await
        .map(Some),
        TaskKind::Prune => writes::delete(
            client,
            catalog,
            key,
            &task.api_version,
            task.options.propagation,
            mode.dry_run,
        )
        .await
        .map(|_| None),
        TaskKind::CreateNamespace => writes::create_namespace(client, &key.name, mode.dry_run)
            .await
            .map(|_| None),
        TaskKind::Nothing => Ok(None),
    }
}

/// Resolves when the operation is terminated (or its owner is gone).
pub(super) async fn until_cancelled(cancel: &mut watch::Receiver<bool>) {
    let _ = cancel.wait_for(|c| *c).await.map(|_| ());
}
