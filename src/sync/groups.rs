//! Running one (phase, wave) group of a sync: prunes, hook re-creation, applies in
//! parallel per run of consecutive kinds, then the wait for health, hooks and deletions,
//! and the hooks' delete policies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use super::execute::{
    Call, Exec, ExecEvent, POLL_TOLD, POLL_UNTOLD, REPORT_EVERY, Stop, WriteFuture, is_crd,
    provided_kind, until_cancelled,
};
use super::writes::{self, WRITE_CONCURRENCY};
use crate::cluster::ApiCatalog;
use crate::engine::plan::annotations::{DeletePolicy, Propagation};
use crate::engine::plan::verdict::{hook_verdict, resource_verdict};
use crate::engine::plan::{TaskKind, step_title};
use crate::model::format_duration;
use crate::model::{GroupKind, ResourceKey, StepStatus};

impl Exec {
    pub(super) async fn run_group(&mut self, group: &[usize], later: bool) -> Result<(), Stop> {
        (self.report)(ExecEvent::Writing(true));
        let result = self.run_group_inner(group, later).await;
        (self.report)(ExecEvent::Writing(false));
        result
    }

    async fn run_group_inner(&mut self, group: &[usize], later: bool) -> Result<(), Stop> {
        let pending: Vec<usize> = group
            .iter()
            .copied()
            .filter(|i| self.steps[*i].status == StepStatus::Pending)
            .collect();
        let prunes: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|i| self.tasks[*i].kind == TaskKind::Prune)
            .collect();
        self.run_batch(&prunes).await;
        self.delete_old_hooks(&pending).await?;
        let writes: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|i| {
                matches!(
                    self.tasks[*i].kind,
                    TaskKind::Apply | TaskKind::Hook { .. } | TaskKind::CreateNamespace
                )
            })
            .collect();
        let mut start = 0;
        while start < writes.len() {
            if self.any_failed(group) {
                break;
            }
            let kind = &self.steps[writes[start]].kind;
            let end = writes[start..]
                .iter()
                .position(|i| self.steps[*i].kind != *kind)
                .map_or(writes.len(), |n| start + n);
            let batch = writes[start..end].to_vec();
            self.run_batch(&batch).await;
            if batch.iter().any(|i| is_crd(&self.steps[*i])) {
                self.refresh_catalog(&batch).await;
            }
            start = end;
        }
        let has_hooks = group
            .iter()
            .any(|i| matches!(self.tasks[*i].kind, TaskKind::Hook { .. }));
        if (later || has_hooks) && !self.any_failed(group) {
            (self.report)(ExecEvent::Writing(false));
            let pruned: Vec<usize> = if later {
                prunes
                    .iter()
                    .copied()
                    .filter(|i| self.steps[*i].status == StepStatus::Succeeded)
                    .collect()
            } else {
                Vec::new()
            };
            self.wait(group, &pruned).await?;
        }
        for &i in group {
            // Nothing follows and the group has no hooks: done once applied (Argo CD).
            if self.steps[i].status == StepStatus::Running {
                self.set(i, StepStatus::Succeeded, "");
            }
        }
        self.apply_hook_delete_policies(group).await;
        self.report(true);
        if self.any_failed(group) {
            let first = group
                .iter()
                .map(|i| &self.steps[*i])
                .find(|s| s.status == StepStatus::Failed)
                .map(|s| format!("{}: {}", step_title(s), s.message))
                .unwrap_or_default();
            self.op.message = first;
            return Err(Stop::Failed);
        }
        Ok(())
    }

    pub(super) fn any_failed(&self, group: &[usize]) -> bool {
        group
            .iter()
            .any(|i| self.steps[*i].status == StepStatus::Failed)
    }

    /// Writes the steps in parallel (bounded); applied objects start Running, prunes and
    /// namespaces are done once the server accepts them.
    pub(super) async fn run_batch(&mut self, batch: &[usize]) {
        if batch.is_empty() {
            return;
        }
        for &i in batch {
            self.steps[i].status = StepStatus::Running;
        }
        self.report(true);
        let jobs: Vec<WriteFuture> = batch.iter().map(|&i| self.owned(i, Call::Write)).collect();
        let mut stream = futures::stream::iter(jobs).buffer_unordered(WRITE_CONCURRENCY);
        while let Some((i, result)) = stream.next().await {
            match result {
                Err(e) => self.set(i, StepStatus::Failed, writes::describe(&e)),
                Ok(obj) => self.after_write(i, obj),
            }
            self.report(false);
        }
    }

    fn after_write(&mut self, i: usize, obj: Option<Value>) {
        match self.tasks[i].kind {
            TaskKind::Prune => self.set(i, StepStatus::Succeeded, "deleted"),
            TaskKind::CreateNamespace => self.set(i, StepStatus::Succeeded, ""),
            _ => {
                if let Some(obj) = obj {
                    if self.tasks[i].generate_name
                        && let Some(key) = ResourceKey::of(&obj)
                    {
                        self.steps[i].name = key.name.clone();
                        self.keys[i] = key;
                    }
                    let key = self.keys[i].clone();
                    self.view.observe(&key, Some(obj));
                }
                self.steps[i].message = String::new();
            }
        }
    }

    /// BeforeHookCreation: the previous copy of each hook goes before it is created again.
    pub(super) async fn delete_old_hooks(&mut self, pending: &[usize]) -> Result<(), Stop> {
        let hooks: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|i| {
                matches!(&self.tasks[*i].kind, TaskKind::Hook { delete_policies }
                    if delete_policies.contains(&DeletePolicy::BeforeHookCreation))
                    && !self.tasks[*i].generate_name
                    // Known absent (its kind is watched and it is not there): nothing to delete.
                    && !(self.view.is_told(&self.keys[*i]) && self.view.get(&self.keys[*i]).is_none())
            })
            .collect();
        if hooks.is_empty() {
            return Ok(());
        }
        let futures: Vec<WriteFuture> = hooks
            .iter()
            .map(|&i| self.owned(i, Call::DeleteHook))
            .collect();
        let results = futures::stream::iter(futures)
            .buffer_unordered(WRITE_CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
        let mut deleted = Vec::new();
        for (i, r) in results {
            match r {
                Ok(_) => deleted.push(i),
                Err(e) => self.set(
                    i,
                    StepStatus::Failed,
                    format!("cannot delete the previous hook (BeforeHookCreation): {e}"),
                ),
            }
        }
        // Gone means gone: a GET per hook (usually one), not the watch, which may lag.
        let deadline = Instant::now() + self.timeout;
        for i in deleted {
            let t = self.tasks[i].clone();
            loop {
                match writes::get(&self.client, &self.catalog, &self.keys[i], &t.api_version).await
                {
                    Ok(None) => {
                        let key = self.keys[i].clone();
                        self.view.observe(&key, None);
                        break;
                    }
                    Ok(Some(_)) if Instant::now() < deadline => {}
                    Ok(Some(_)) => {
                        self.set(
                            i,
                            StepStatus::Failed,
                            format!(
                                "the previous hook was still being deleted after {}",
                                format_duration(self.timeout)
                            ),
                        );
                        break;
                    }
                    Err(e) => {
                        self.set(i, StepStatus::Failed, e.to_string());
                        break;
                    }
                }
                let mut cancel = self.cancel.clone();
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = until_cancelled(&mut cancel) => return Err(Stop::Terminated),
                }
            }
        }
        Ok(())
    }

    /// Waits until the group's applied objects are healthy, its hooks finished and the
    /// `pruned` objects gone; what is still waiting at the timeout fails.
    pub(super) async fn wait(&mut self, group: &[usize], pruned: &[usize]) -> Result<(), Stop> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut last_untold = tokio::time::Instant::now();
        let mut last_told = tokio::time::Instant::now();
        loop {
            self.view.drain();
            let mut waiting: Vec<usize> = Vec::new();
            let mut changed = false;
            for &i in group {
                if self.steps[i].status != StepStatus::Running {
                    continue;
                }
                let obj = self.view.get(&self.keys[i]).map(|o| o.as_ref());
                let (status, message) = match self.tasks[i].kind {
                    TaskKind::Hook { .. } => hook_verdict(obj),
                    _ => resource_verdict(obj),
                };
                if status != StepStatus::Running {
                    self.set(i, status, message);
                    changed = true;
                } else {
                    if self.steps[i].message != message {
                        self.steps[i].message = message;
                        changed = true;
                    }
                    waiting.push(i);
                }
            }
            let deleting: Vec<usize> = pruned
                .iter()
                .copied()
                .filter(|i| !self.view.is_gone(&self.keys[*i]))
                .collect();
            if changed {
                self.report(false);
            }
            if waiting.is_empty() && deleting.is_empty() {
                return Ok(());
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                let took = format_duration(self.timeout);
                for i in waiting {
                    let why = self.steps[i].message.clone();
                    let what = if matches!(self.tasks[i].kind, TaskKind::Hook { .. }) {
                        "the hook to finish"
                    } else {
                        "it to become healthy"
                    };
                    let mut message = format!("timed out after {took} waiting for {what}");
                    if !why.is_empty() {
                        message.push_str(&format!(" (last: {why})"));
                    }
                    self.set(i, StepStatus::Failed, message);
                }
                for i in deleting {
                    self.set(
                        i,
                        StepStatus::Failed,
                        format!("timed out after {took} waiting for the deletion to finish"),
                    );
                }
                return Ok(());
            }
            let untold: Vec<usize> = waiting
                .iter()
                .chain(&deleting)
                .copied()
                .filter(|i| !self.view.is_told(&self.keys[*i]))
                .collect();
            let next_poll = if untold.is_empty() {
                last_told + POLL_TOLD
            } else {
                (last_untold + POLL_UNTOLD).min(last_told + POLL_TOLD)
            };
            let mut cancel = self.cancel.clone();
            // A change the throttle held back is published once its time comes.
            let flush_at = match (self.unreported, self.last_report) {
                (true, Some(t)) => Some(tokio::time::Instant::from_std(t + REPORT_EVERY)),
                _ => None,
            };
            tokio::select! {
                _ = self.view.next_event() => {}
                _ = async {
                    match flush_at {
                        Some(t) => tokio::time::sleep_until(t).await,
                        None => std::future::pending().await,
                    }
                } => self.report(true),
                _ = tokio::time::sleep_until(next_poll.min(deadline)) => {
                    let now = tokio::time::Instant::now();
                    let all = now >= last_told + POLL_TOLD;
                    let targets: Vec<usize> = if all {
                        waiting.iter().chain(&deleting).copied().collect()
                    } else {
                        untold
                    };
                    if all {
                        last_told = now;
                    }
                    last_untold = now;
                    self.poll(&targets).await;
                }
                _ = until_cancelled(&mut cancel) => return Err(Stop::Terminated),
            }
        }
    }

    pub(super) async fn poll(&mut self, steps: &[usize]) {
        for &i in steps {
            let api_version = self.tasks[i].api_version.clone();
            let key = self.keys[i].clone();
            if let Ok(obj) = writes::get(&self.client, &self.catalog, &key, &api_version).await {
                self.view.observe(&key, obj);
            }
        }
    }

    /// HookSucceeded / HookFailed: finished hooks are deleted according to their policy.
    pub(super) async fn apply_hook_delete_policies(&mut self, group: &[usize]) {
        for &i in group {
            let TaskKind::Hook { delete_policies } = &self.tasks[i].kind else {
                continue;
            };
            let status = self.steps[i].status;
            let delete = (status == StepStatus::Succeeded
                && delete_policies.contains(&DeletePolicy::HookSucceeded))
                || (status == StepStatus::Failed
                    && delete_policies.contains(&DeletePolicy::HookFailed));
            if !delete || self.keys[i].name.is_empty() {
                continue;
            }
            let api_version = self.tasks[i].api_version.clone();
            let result = writes::delete(
                &self.client,
                &self.catalog,
                &self.keys[i],
                &api_version,
                Propagation::Background,
                false,
            )
            .await;
            let note = match result {
                Ok(()) => "deleted by its delete policy".to_string(),
                Err(e) => format!("could not be deleted by its delete policy: {e}"),
            };
            let message = match self.steps[i].message.as_str() {
                "" => note,
                m => format!("{m}; {note}"),
            };
            self.steps[i].message = message;
        }
    }

    /// After CRDs were applied, discovers again until their kinds are served (briefly), so
    /// the custom resources that follow can be written.
    pub(super) async fn refresh_catalog(&mut self, batch: &[usize]) {
        let wanted: Vec<GroupKind> = batch
            .iter()
            .filter(|i| self.steps[**i].status != StepStatus::Failed)
            .filter_map(|i| provided_kind(&self.tasks[*i]))
            .collect();
        if wanted.is_empty() {
            return;
        }
        for _ in 0..40 {
            if let Ok(catalog) = ApiCatalog::discover(&self.client).await {
                let ready = wanted.iter().all(|gk| catalog.preferred(gk).is_some());
                let catalog = Arc::new(catalog);
                self.catalog = catalog.clone();
                if ready {
                    (self.report)(ExecEvent::Catalog(catalog));
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
