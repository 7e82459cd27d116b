//! Sync operations of rekon's apps, on the actor: planning, starting, terminating and
//! rolling back syncs, one operation per app at a time, with progress published in the
//! app's snapshot and the cluster's live changes forwarded to the running sync.
//!
//! A sync gathers its inputs on the engine task (desired objects, live copies, tracked
//! extras, the latest comparison), then runs off it: compare if needed, plan, execute,
//! record history. Results come back as [`OpMsg`]s tagged with the operation's id.

use std::sync::Arc;

use crate::model::{GroupKind, HistoryEntry, Operation, OperationPhase, ResourceKey, SyncOptions};
use crate::sync::{LiveEvent, history};

use super::actor::Actor;
use super::apps::{HistoryState, RunningOp, Trigger};
use super::messages::{Msg, OpMsg, SyncPurpose, SyncRequest};
use super::{EngineCommand, Reply};

impl Actor {
    /// Handles the sync-related commands.
    pub(super) fn op_command(&mut self, cmd: EngineCommand) {
        match cmd {
            EngineCommand::Plan {
                app,
                options,
                reply,
            } => match self.find_app(&app) {
                Ok(a) => self.request(SyncRequest {
                    app: a,
                    options,
                    purpose: SyncPurpose::Plan(reply),
                }),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            EngineCommand::Sync {
                app,
                options,
                initiated_by,
                reply,
            } => match self.find_app(&app) {
                Ok(a) => self.start_sync(a, options, initiated_by, reply, Trigger::User),
                Err(e) => refuse(reply, e),
            },
            EngineCommand::Terminate { app } => {
                if let Ok(a) = self.find_app(&app)
                    && let Some(op) = &self.apps[a].ops.running
                {
                    op.terminate();
                }
            }
            EngineCommand::Rollback {
                app,
                id,
                options,
                initiated_by,
                reply,
            } => match self.find_app(&app) {
                Ok(a) => self.rollback(a, id, options, initiated_by, reply),
                Err(e) => refuse(reply, e),
            },
            EngineCommand::History { app, reply } => match self.find_app(&app) {
                Ok(a) => self.load_history(a, Some(reply)),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            _ => {}
        }
    }

    /// Starts a sync of app `a`, or refuses it with a message saying why.
    pub(super) fn start_sync(
        &mut self,
        a: usize,
        options: SyncOptions,
        initiated_by: String,
        reply: Option<Reply<Operation>>,
        trigger: Trigger,
    ) {
        let name = self.apps[a].app.qualified_name();
        if self.options.read_only && !options.dry_run {
            let why = format!(
                "sync of {name} refused: rekon runs with --read-only, which forbids every change to the cluster"
            );
            tracing::warn!("{why}");
            return refuse(reply, why);
        }
        if let Some(op) = &self.apps[a].ops.running {
            let since = op
                .current
                .as_ref()
                .map(|o| format!(" (started by {} at {})", o.initiated_by, o.started_at))
                .unwrap_or_default();
            return refuse(
                reply,
                format!(
                    "sync of {name} refused: another operation is running{since}; wait for it or terminate it"
                ),
            );
        }
        self.next_op_id += 1;
        let id = self.next_op_id;
        let full = options.resources.is_empty() && !options.dry_run;
        let pending = Operation {
            app: name.clone(),
            phase: OperationPhase::Running,
            revision: options.revision.clone().unwrap_or_default(),
            steps: Vec::new(),
            message: "planning".into(),
            started_at: jiff::Timestamp::now().to_string(),
            finished_at: None,
            initiated_by: initiated_by.clone(),
            dry_run: options.dry_run,
        };
        self.apps[a].ops.running = Some(RunningOp::new(
            id,
            trigger,
            initiated_by,
            full,
            reply,
            pending,
        ));
        self.patch_operation(a);
        self.request(SyncRequest {
            app: a,
            options,
            purpose: SyncPurpose::Sync { id },
        });
    }

    /// Prepares a plan or sync: renders another revision first when asked for one.
    fn request(&mut self, request: SyncRequest) {
        let a = request.app;
        let current = match &self.apps[a].rendered {
            Some(Ok(r)) => Some(r.commit.clone()),
            _ => None,
        };
        let wanted = request.options.revision.clone();
        match wanted {
            Some(rev) if Some(&rev) != current.as_ref() => {
                let mut application = self.apps[a].app.clone();
                application.spec.source.target_revision = Some(rev);
                let sources = self.options.sources.clone();
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let result = sources
                        .resolve(
                            &application.spec.source.repo_url,
                            application.spec.source.revision(),
                            false,
                        )
                        .and_then(|commit| sources.render_app(&application, &commit));
                    let _ = tx.send(Msg::Op(OpMsg::RevisionRendered { request, result }));
                });
            }
            _ => self.launch(request, None),
        }
    }

    pub(super) fn fail_request(&mut self, request: SyncRequest, error: String) {
        match request.purpose {
            SyncPurpose::Plan(reply) => {
                let _ = reply.send(Err(error));
            }
            SyncPurpose::Sync { id } => self.finish(request.app, id, Err(error), None),
        }
    }

    /// Handles a message from an operation's off-task parts.
    pub(super) fn on_op_msg(&mut self, msg: OpMsg) {
        match msg {
            OpMsg::RevisionRendered { request, result } => match result {
                Ok(r) => self.launch(request, Some(r)),
                Err(e) => self.fail_request(request, e.to_string()),
            },
            OpMsg::Progress { app, id, op } => {
                let Some(running) = self.apps[app].ops.running.as_mut().filter(|o| o.id == id)
                else {
                    return;
                };
                running.current = Some(op);
                self.patch_operation(app);
            }
            OpMsg::Finished {
                app,
                id,
                result,
                history,
            } => self.finish(app, id, result, history),
            OpMsg::History { app, result } => {
                let ops = &mut self.apps[app].ops;
                ops.history_state = HistoryState::Loaded;
                match result {
                    Ok(stored) => {
                        if ops.auto.attempted.is_none() {
                            ops.auto.attempted = stored.entries.last().map(|e| {
                                (e.revision.clone(), e.phase == OperationPhase::Succeeded)
                            });
                        }
                        ops.history = stored.entries;
                        self.watch_kinds(app, &stored.kinds);
                    }
                    Err(e) => tracing::warn!("{e}"),
                }
                self.patch_operation(app);
                self.consider_auto_sync(app);
            }
            OpMsg::RollbackResolved {
                app,
                revision,
                initiated_by,
                mut options,
                reply,
            } => match revision {
                Ok(rev) => {
                    options.revision = Some(rev);
                    self.start_sync(app, options, initiated_by, reply, Trigger::User);
                }
                Err(e) => refuse(reply, e),
            },
            OpMsg::Writing { app, id, writing } => {
                let Some(running) = self.apps[app].ops.running.as_mut().filter(|o| o.id == id)
                else {
                    return;
                };
                running.writing = writing;
                if !writing && self.apps[app].stale && !self.apps[app].comparing {
                    self.apps[app].stale = false;
                    self.compare(app);
                }
            }
            OpMsg::HealDue { app } => {
                self.apps[app].ops.heal_verify_after = Some(self.apps[app].compare_generation);
                self.compare(app);
            }
        }
    }

    fn finish(
        &mut self,
        a: usize,
        id: u64,
        result: Result<Operation, String>,
        history: Option<Result<history::Stored, String>>,
    ) {
        let name = self.apps[a].app.qualified_name();
        if let Some(Ok(stored)) = &history {
            self.watch_kinds(a, &stored.kinds);
        }
        let rendered = match &self.apps[a].rendered {
            Some(Ok(r)) => Some(r.commit.clone()),
            _ => None,
        };
        let ops = &mut self.apps[a].ops;
        let Some(running) = ops.running.take_if(|o| o.id == id) else {
            return;
        };
        let result = result.map(|mut op| {
            match history {
                Some(Ok(stored)) => {
                    ops.history = stored.entries;
                    ops.history_state = HistoryState::Loaded;
                }
                Some(Err(e)) => op.message = format!("{}; history not recorded: {e}", op.message),
                None => {}
            }
            op
        });
        match &result {
            Ok(op) => {
                if running.full {
                    ops.auto.attempted =
                        Some((op.revision.clone(), op.phase == OperationPhase::Succeeded));
                }
                tracing::info!(
                    "{} {name} {:?} at {}: {}",
                    if op.dry_run { "dry run of" } else { "sync of" },
                    op.phase,
                    crate::model::short_sha(&op.revision),
                    op.message
                );
                ops.last = Some(op.clone());
            }
            Err(e) => {
                tracing::warn!("sync of {name} not started: {e}");
                if running.full && running.trigger != Trigger::User {
                    // Do not retry the same revision in a loop when it cannot even be planned.
                    if let Some(commit) = rendered {
                        ops.auto.attempted = Some((commit, false));
                    }
                }
            }
        }
        running.answer_waiters(&result);
        self.patch_operation(a);
        // Compare again: the cluster changed under the app.
        self.compare(a);
    }

    /// Whether a comparison of app `a` waits: while its sync writes a group, a comparison per
    /// burst of watch events would dry-run every changed object again, competing with the
    /// sync for the API server. It runs when the burst ends (health waits compare as usual).
    pub(super) fn compare_deferred(&mut self, a: usize) -> bool {
        if self.apps[a].ops.running.as_ref().is_some_and(|r| r.writing) {
            self.apps[a].stale = true;
            return true;
        }
        false
    }

    /// Refreshes the app's published operation and history without recomputing the summary.
    fn patch_operation(&mut self, a: usize) {
        let Some(summary) = self.apps[a].summary.clone() else {
            return;
        };
        let mut snap = (*summary).clone();
        self.decorate(a, &mut snap);
        self.apps[a].summary = Some(Arc::new(snap));
        self.dirty = true;
    }

    /// Adds the operation and the history to a freshly computed summary.
    pub(super) fn decorate(&self, a: usize, snap: &mut crate::model::AppSnapshot) {
        let ops = &self.apps[a].ops;
        snap.operation = ops
            .running
            .as_ref()
            .and_then(|r| r.current.clone())
            .or_else(|| ops.last.clone());
        snap.last_sync = ops
            .last
            .as_ref()
            .filter(|o| !o.dry_run)
            .and_then(|o| o.finished_at.clone())
            .or_else(|| ops.history.last().map(|e| e.finished_at.clone()));
        if let Some(detail) = snap.detail.as_mut() {
            let newest_first: Vec<HistoryEntry> = ops.history.iter().rev().cloned().collect();
            if detail.history != newest_first {
                Arc::make_mut(detail).history = newest_first;
            }
        }
    }

    /// Forwards live changes to the running syncs that wait on those objects.
    pub(super) fn forward_live(&mut self, cluster: usize, changed: &[ResourceKey]) {
        if changed.is_empty() {
            return;
        }
        for a in 0..self.apps.len() {
            if self.apps[a].cluster != Ok(cluster) {
                continue;
            }
            let Some(op) = &self.apps[a].ops.running else {
                continue;
            };
            let Some((events, keys)) = op.live_events() else {
                continue;
            };
            for key in changed.iter().filter(|k| keys.contains(*k)) {
                let object = match self.clusters[cluster].store.get(key) {
                    // Metadata only: says nothing about health; the sync reads it itself.
                    Some(o) if o.partial => continue,
                    Some(o) => Some(o.value()),
                    None => None,
                };
                let _ = events.send(LiveEvent {
                    key: key.clone(),
                    object,
                });
            }
        }
    }

    /// Watches the kinds the app's syncs applied, so its tracked objects of kinds that left
    /// Git are seen (and can be pruned) after a restart.
    fn watch_kinds(&mut self, a: usize, kinds: &[GroupKind]) {
        let Ok(c) = self.apps[a].cluster else {
            return;
        };
        for gk in kinds {
            self.ensure_watch(c, gk, true);
        }
    }

    /// Reads the app's history from its cluster; answers `reply` when given.
    pub(super) fn load_history(&mut self, a: usize, reply: Option<Reply<Vec<HistoryEntry>>>) {
        let Ok(c) = self.apps[a].cluster.clone() else {
            if let Some(reply) = reply {
                let _ = reply.send(self.apps[a].cluster.clone().map(|_| Vec::new()));
            }
            return;
        };
        if reply.is_none() && self.apps[a].ops.history_state != HistoryState::NotLoaded {
            return;
        }
        self.apps[a].ops.history_state = HistoryState::Loading;
        let client = self.clusters[c].handle.client.clone();
        let app = self.apps[a].app.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = history::load(&client, &app).await;
            if let Some(reply) = reply {
                let newest_first = result.clone().map(|stored| {
                    let mut entries = stored.entries;
                    entries.reverse();
                    entries
                });
                let _ = reply.send(newest_first);
            }
            let _ = tx.send(Msg::Op(OpMsg::History { app: a, result }));
        });
    }

    fn rollback(
        &mut self,
        a: usize,
        id: u64,
        options: SyncOptions,
        initiated_by: String,
        reply: Option<Reply<Operation>>,
    ) {
        let app = self.apps[a].app.clone();
        let name = app.qualified_name();
        let automated = app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.automated.as_ref())
            .is_some_and(|a| a.enabled);
        if automated {
            return refuse(
                reply,
                format!(
                    "rollback of {name} refused: auto-sync is on (spec.syncPolicy.automated), and it would sync Git's revision right back; turn auto-sync off first, as Argo CD requires"
                ),
            );
        }
        if self.options.read_only {
            return refuse(
                reply,
                format!(
                    "rollback of {name} refused: rekon runs with --read-only, which forbids every change to the cluster"
                ),
            );
        }
        let Ok(c) = self.apps[a].cluster.clone() else {
            return refuse(reply, format!("rollback of {name}: the app has no cluster"));
        };
        let client = self.clusters[c].handle.client.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let revision = match history::load(&client, &app).await {
                Ok(stored) => match stored.entries.iter().find(|e| e.id == id) {
                    Some(e) => Ok(e.revision.clone()),
                    None => {
                        let known: Vec<String> =
                            stored.entries.iter().map(|e| e.id.to_string()).collect();
                        Err(if known.is_empty() {
                            format!("rollback of {name}: the app has no sync history yet")
                        } else {
                            format!(
                                "rollback of {name}: no history entry {id} (known: {})",
                                known.join(", ")
                            )
                        })
                    }
                },
                Err(e) => Err(format!("rollback of {name}: {e}")),
            };
            let _ = tx.send(Msg::Op(OpMsg::RollbackResolved {
                app: a,
                revision,
                initiated_by,
                options,
                reply,
            }));
        });
    }
}

fn refuse(reply: Option<Reply<Operation>>, why: String) {
    match reply {
        Some(reply) => {
            let _ = reply.send(Err(why));
        }
        None => tracing::warn!("{why}"),
    }
}
