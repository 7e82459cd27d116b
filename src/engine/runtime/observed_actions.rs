//! Driving observed apps the way their own CLIs do, and following the outcome live.
//!
//! Argo CD: a sync writes the Application's `operation` field (then `status.operationState`
//! is followed until the operation ends), a refresh sets `argocd.argoproj.io/refresh`, a
//! terminate sets the running operation's phase to Terminating, a rollback syncs the revision
//! of a history entry. Flux: reconcile annotates `reconcile.fluxcd.io/requestedAt` (with the
//! source first when asked) and waits for `lastHandledReconcileAt` and Ready; suspend and
//! resume patch `spec.suspend`. Every write is a merge patch by field manager `rekon`, run off
//! the engine task; its outcome comes back as a message. Followers advance on watch events
//! (no polling) and give up after a timeout.

use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams};

use super::observed::ObsId;
use super::state::{Engine, Msg};
use super::*;
use crate::integrations::{self, ObservedKind, argocd, flux, flux_graph, images};
use crate::model::{OperationPhase, SyncOptions};

/// How long a follower waits for Argo CD or Flux by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// Actions and queries that only observed apps have (sync, refresh, terminate, rollback,
/// live YAML and revision diffs of observed apps go through the ordinary commands, with the
/// app named `argocd:NS/NAME`, `flux-ks:NS/NAME` or `flux-hr:NS/NAME`).
#[derive(Debug)]
pub enum ObservedCommand {
    /// `flux reconcile` (with `--with-source` when asked); the reply comes once Ready.
    Reconcile {
        /// The Flux app.
        app: String,
        /// Reconcile its source first.
        with_source: bool,
        /// The Ready message, or why it failed.
        reply: Option<Reply<String>>,
    },
    /// `flux suspend`.
    Suspend {
        /// The Flux app.
        app: String,
        /// Answered once the patch is written.
        reply: Option<Reply<String>>,
    },
    /// `flux resume`: unsuspend and reconcile; the reply comes once Ready.
    Resume {
        /// The Flux app.
        app: String,
        /// The Ready message, or why it failed.
        reply: Option<Reply<String>>,
    },
    /// Renders the app's source with rekon's engine (the synced revision for Argo CD, the
    /// source's artifact revision for a Kustomization) and compares with live, read only.
    /// The result also stays in the app's detail for the diff view.
    Diff {
        /// The observed app.
        app: String,
        /// The resources that differ.
        reply: Reply<Vec<ResourceDiff>>,
    },
    /// The Flux graph of every cluster.
    FluxGraph {
        /// One graph per cluster with Flux objects.
        reply: Reply<Vec<flux_graph::FluxGraph>>,
    },
    /// Image automation at a glance.
    Images {
        /// One entry per ImagePolicy.
        reply: Reply<Vec<images::PolicyImages>>,
    },
    /// The observed object as the cluster holds it now (the Application, Kustomization or
    /// HelmRelease), for the command line to print what Argo CD or Flux reported.
    Object {
        /// The observed app.
        app: String,
        /// The object.
        reply: Reply<Value>,
    },
    /// Argo CD's AppProjects and ApplicationSets.
    ArgoObjects {
        /// Every project and ApplicationSet of every cluster.
        reply: Reply<Vec<argocd::ArgoObject>>,
    },
}

/// Messages of observed actions back to the engine task.
#[derive(Debug)]
pub(super) enum ObsMsg {
    /// A patch was written (or refused).
    Patched {
        follower: u64,
        result: Result<(), String>,
    },
    /// A follower waited too long.
    Expired { follower: u64 },
    /// A diff was computed; kept for the app's detail.
    Diffed {
        app: ObsId,
        diffs: Vec<ResourceDiff>,
    },
}

/// Where a follower's outcome goes.
pub(super) enum FollowReply {
    Operation(Reply<Operation>),
    Text(Reply<String>),
}

pub(super) enum Goal {
    /// Done when the patch is written.
    PatchOnly { done: String },
    /// An Argo CD operation: done when a new one has ended and `operation` is cleared.
    ArgoOperation {
        previous_started: String,
        seen_running: bool,
    },
    /// A Flux reconcile of `target`, then (with a source first) of `then`.
    FluxReconcile {
        token: String,
        then: Option<ResourceKey>,
    },
}

/// A running action waiting for its outcome.
pub(super) struct Follower {
    pub(super) app: ObsId,
    /// The object whose changes advance it.
    pub(super) target: ResourceKey,
    pub(super) goal: Goal,
    /// The patch was accepted.
    pub(super) patched: bool,
    pub(super) reply: Option<FollowReply>,
    pub(super) started: jiff::Timestamp,
}

fn send_text(reply: Option<FollowReply>, result: Result<String, String>) {
    match reply {
        Some(FollowReply::Text(r)) => {
            let _ = r.send(result);
        }
        Some(FollowReply::Operation(r)) => {
            let _ = r.send(result.map(|message| Operation {
                app: String::new(),
                phase: OperationPhase::Succeeded,
                revision: String::new(),
                steps: Vec::new(),
                message,
                started_at: String::new(),
                finished_at: None,
                initiated_by: String::new(),
                dry_run: false,
            }));
        }
        None => {}
    }
}

fn send_err(reply: Option<FollowReply>, why: String) {
    send_text(reply, Err(why));
}

impl Engine {
    /// Takes the commands that name an observed app (or break an AppProject rule) out of
    /// the ordinary flow; the rest is returned untouched.
    pub(super) fn route_observed(&mut self, cmd: EngineCommand) -> Option<EngineCommand> {
        let name = match &cmd {
            EngineCommand::Refresh { app: Some(a), .. }
            | EngineCommand::Plan { app: a, .. }
            | EngineCommand::Sync { app: a, .. }
            | EngineCommand::Terminate { app: a }
            | EngineCommand::Rollback { app: a, .. }
            | EngineCommand::LiveYaml { app: a, .. }
            | EngineCommand::DiffRevision { app: a, .. } => a.clone(),
            _ => return Some(cmd),
        };
        let Some(found) = self.find_observed(&name) else {
            return self.refuse_project_violation(cmd, &name);
        };
        let id = match found {
            Ok(id) => id,
            Err(why) => {
                reply_err(cmd, why);
                return None;
            }
        };
        match cmd {
            EngineCommand::Refresh { hard, .. } => self.observed_refresh(&id, hard),
            EngineCommand::Plan { reply, .. } => {
                let _ = reply.send(Err(format!(
                    "{name} is reconciled by {}: it plans its own syncs",
                    id.1.managed_by().as_str()
                )));
            }
            EngineCommand::Sync {
                options,
                initiated_by,
                reply,
                ..
            } => self.observed_sync(
                &id,
                options,
                &initiated_by,
                reply.map(FollowReply::Operation),
            ),
            EngineCommand::Terminate { .. } => self.observed_terminate(&id),
            EngineCommand::Rollback {
                id: entry,
                initiated_by,
                reply,
                ..
            } => self.observed_rollback(&id, entry, &initiated_by, reply),
            EngineCommand::LiveYaml { key, reply, .. } => {
                let _ = reply.send(self.observed_live_yaml(&id, &key));
            }
            EngineCommand::DiffRevision {
                revision, reply, ..
            } => self.observed_diff(&id, Some(revision), reply),
            _ => {}
        }
        None
    }

    /// A sync or rollback of one of rekon's apps that breaks its AppProject is refused with
    /// the rule named.
    fn refuse_project_violation(
        &mut self,
        cmd: EngineCommand,
        name: &str,
    ) -> Option<EngineCommand> {
        let is_sync = matches!(
            cmd,
            EngineCommand::Sync { .. }
                | EngineCommand::Rollback { .. }
                | EngineCommand::Plan { .. }
        );
        if !is_sync {
            return Some(cmd);
        }
        let Ok(a) = self.find_app(name) else {
            return Some(cmd);
        };
        match self.project_violation(a) {
            Some(why) => {
                reply_err(cmd, format!("sync refused: {why}"));
                None
            }
            None => Some(cmd),
        }
    }

    /// Commands only observed apps have.
    pub(super) fn observed_command(&mut self, cmd: ObservedCommand) {
        match cmd {
            ObservedCommand::FluxGraph { reply } => {
                let _ = reply.send(Ok(self.flux_graphs()));
            }
            ObservedCommand::Images { reply } => {
                let _ = reply.send(Ok(self.image_overview()));
            }
            ObservedCommand::ArgoObjects { reply } => {
                let _ = reply.send(Ok(self.argo_objects()));
            }
            ObservedCommand::Object { app, reply } => {
                let found = self
                    .find_observed(&app)
                    .unwrap_or_else(|| Err(format!("no observed app named {app}")))
                    .and_then(|id| {
                        self.observed_object(&id)
                            .map(Arc::unwrap_or_clone)
                            .ok_or_else(|| format!("{app} is gone from the cluster"))
                    });
                let _ = reply.send(found);
            }
            ObservedCommand::Diff { app, reply } => match self.find_observed(&app) {
                Some(Ok(id)) => self.observed_diff(&id, None, reply),
                Some(Err(e)) => {
                    let _ = reply.send(Err(e));
                }
                None => {
                    let _ = reply.send(Err(format!("no observed app named {app}")));
                }
            },
            ObservedCommand::Reconcile {
                app,
                with_source,
                reply,
            } => {
                let reply = reply.map(FollowReply::Text);
                match self.flux_app(&app) {
                    Ok(id) => self.flux_reconcile(&id, with_source, reply, None),
                    Err(e) => send_err(reply, e),
                }
            }
            ObservedCommand::Suspend { app, reply } => {
                let reply = reply.map(FollowReply::Text);
                match self.flux_app(&app) {
                    Ok(id) => {
                        let key = observed_key(&id);
                        self.start_patch(
                            &id,
                            key,
                            flux::suspend_patch(),
                            Goal::PatchOnly {
                                done: format!("{app} suspended"),
                            },
                            reply,
                            None,
                        );
                    }
                    Err(e) => send_err(reply, e),
                }
            }
            ObservedCommand::Resume { app, reply } => {
                let reply = reply.map(FollowReply::Text);
                match self.flux_app(&app) {
                    Ok(id) => {
                        let token = flux::new_token(jiff::Timestamp::now());
                        let key = observed_key(&id);
                        self.start_patch(
                            &id,
                            key,
                            flux::resume_patch(&token),
                            Goal::FluxReconcile { token, then: None },
                            reply,
                            None,
                        );
                    }
                    Err(e) => send_err(reply, e),
                }
            }
        }
    }

    fn flux_app(&self, name: &str) -> Result<ObsId, String> {
        let id = self
            .find_observed(name)
            .unwrap_or_else(|| Err(format!("no observed app named {name}")))?;
        if id.1 == ObservedKind::ArgoApplication {
            return Err(format!(
                "{name} is an Argo CD Application, not a Flux object"
            ));
        }
        Ok(id)
    }

    pub(super) fn observed_object(&self, id: &ObsId) -> Option<Arc<Value>> {
        self.clusters[id.0]
            .store
            .get(&observed_key(id))
            .map(|o| o.value())
    }

    fn observed_refresh(&mut self, id: &ObsId, hard: bool) {
        match id.1 {
            ObservedKind::ArgoApplication => {
                let key = observed_key(id);
                self.start_patch(
                    id,
                    key,
                    argocd::refresh_patch(hard),
                    Goal::PatchOnly {
                        done: "refresh requested".into(),
                    },
                    None,
                    None,
                );
            }
            _ => self.flux_reconcile(id, false, None, None),
        }
    }

    fn observed_terminate(&mut self, id: &ObsId) {
        if id.1 != ObservedKind::ArgoApplication {
            return;
        }
        let running = self
            .observed_object(id)
            .is_some_and(|o| argocd::operation_running(&o));
        if !running {
            return;
        }
        let key = observed_key(id);
        self.start_patch(
            id,
            key,
            argocd::terminate_patch(),
            Goal::PatchOnly {
                done: "termination requested".into(),
            },
            None,
            None,
        );
    }

    fn observed_rollback(
        &mut self,
        id: &ObsId,
        entry: u64,
        initiated_by: &str,
        reply: Option<Reply<Operation>>,
    ) {
        let reply = reply.map(FollowReply::Operation);
        if id.1 != ObservedKind::ArgoApplication {
            return send_err(
                reply,
                "Flux has no sync history to roll back to; revert the commit in Git".into(),
            );
        }
        let Some(obj) = self.observed_object(id) else {
            return send_err(reply, "the Application is gone".into());
        };
        if obj
            .pointer("/spec/syncPolicy/automated")
            .is_some_and(|a| a.is_object())
        {
            return send_err(
                reply,
                "rollback is refused while auto-sync is on (Argo CD would sync it back)".into(),
            );
        }
        let Some(patch) = argocd::rollback_patch(&obj, entry, initiated_by) else {
            return send_err(
                reply,
                format!("the Application has no history entry {entry}"),
            );
        };
        self.start_argo_operation(id, &obj, patch, reply, None);
    }

    fn observed_sync(
        &mut self,
        id: &ObsId,
        options: SyncOptions,
        initiated_by: &str,
        reply: Option<FollowReply>,
    ) {
        let timeout = options.timeout_secs.map(Duration::from_secs);
        if id.1 != ObservedKind::ArgoApplication {
            // A Flux "sync" is what `flux reconcile --with-source` does.
            return self.flux_reconcile(id, true, reply, timeout);
        }
        let Some(obj) = self.observed_object(id) else {
            return send_err(reply, "the Application is gone".into());
        };
        if let Err(why) = argocd::may_sync_revision(&obj, &options) {
            return send_err(reply, why);
        }
        let patch = argocd::sync_patch(&options, initiated_by);
        self.start_argo_operation(id, &obj, patch, reply, timeout);
    }

    /// Writes an Argo CD `operation` and follows it, refused while one runs (as Argo CD's
    /// API server refuses it).
    fn start_argo_operation(
        &mut self,
        id: &ObsId,
        obj: &Value,
        patch: Value,
        reply: Option<FollowReply>,
        timeout: Option<Duration>,
    ) {
        if argocd::operation_running(obj) {
            return send_err(
                reply,
                "another operation is already in progress: wait for it, or terminate it first"
                    .into(),
            );
        }
        let previous_started = integrations_str(obj, "/status/operationState/startedAt");
        let key = observed_key(id);
        self.start_patch(
            id,
            key,
            patch,
            Goal::ArgoOperation {
                previous_started,
                seen_running: false,
            },
            reply,
            timeout,
        );
    }

    fn flux_reconcile(
        &mut self,
        id: &ObsId,
        with_source: bool,
        reply: Option<FollowReply>,
        timeout: Option<Duration>,
    ) {
        let Some(obj) = self.observed_object(id) else {
            return send_err(reply, "the object is gone".into());
        };
        let name = observed_name(id);
        if flux::status(&obj).suspended {
            return send_err(
                reply,
                format!("{name} is suspended (spec.suspend: true): resume it first"),
            );
        }
        let token = flux::new_token(jiff::Timestamp::now());
        let key = observed_key(id);
        match (with_source, flux::source_of(&obj)) {
            (true, Some(source)) => {
                let suspended_source = self.clusters[id.0]
                    .store
                    .get(&source)
                    .is_some_and(|s| flux::status(&s.value()).suspended);
                if suspended_source {
                    return send_err(
                        reply,
                        format!(
                            "the source {}/{}/{} of {name} is suspended: resume it first",
                            source.kind, source.namespace, source.name
                        ),
                    );
                }
                self.start_patch(
                    id,
                    source,
                    flux::reconcile_patch(&token),
                    Goal::FluxReconcile {
                        token,
                        then: Some(key),
                    },
                    reply,
                    timeout,
                );
            }
            _ => self.start_patch(
                id,
                key,
                flux::reconcile_patch(&token),
                Goal::FluxReconcile { token, then: None },
                reply,
                timeout,
            ),
        }
    }

    /// Registers a follower and writes its patch off the engine task.
    fn start_patch(
        &mut self,
        id: &ObsId,
        target: ResourceKey,
        patch: Value,
        goal: Goal,
        reply: Option<FollowReply>,
        timeout: Option<Duration>,
    ) {
        if self.options.read_only {
            return send_err(
                reply,
                format!("read-only mode: {} was not changed", observed_name(id)),
            );
        }
        self.observed.next_follower += 1;
        let n = self.observed.next_follower;
        self.observed.followers.insert(
            n,
            Follower {
                app: id.clone(),
                target: target.clone(),
                goal,
                patched: false,
                reply,
                started: jiff::Timestamp::now(),
            },
        );
        self.spawn_patch(n, id.0, target, patch);
        let tx = self.tx.clone();
        let wait = timeout.unwrap_or(DEFAULT_TIMEOUT);
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            let _ = tx.send(Msg::Observed(ObsMsg::Expired { follower: n }));
        });
    }

    fn spawn_patch(&self, follower: u64, c: usize, target: ResourceKey, patch: Value) {
        let client = self.clusters[c].handle.client.clone();
        let catalog = self.clusters[c].catalog.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let result = merge_patch(&client, catalog.as_deref(), &target, &patch).await;
            let _ = tx.send(Msg::Observed(ObsMsg::Patched { follower, result }));
        });
    }

    /// Handles a message of an observed action.
    pub(super) fn on_observed_msg(&mut self, msg: ObsMsg) {
        match msg {
            ObsMsg::Patched { follower, result } => {
                let Some(f) = self.observed.followers.get_mut(&follower) else {
                    return;
                };
                if let Err(why) = result {
                    let f = self.observed.followers.remove(&follower);
                    if let Some(f) = f {
                        send_err(f.reply, why);
                    }
                    return;
                }
                f.patched = true;
                if let Goal::PatchOnly { done } = &f.goal {
                    let done = done.clone();
                    if let Some(f) = self.observed.followers.remove(&follower) {
                        send_text(f.reply, Ok(done));
                    }
                    return;
                }
                self.advance_follower(follower);
            }
            ObsMsg::Expired { follower } => {
                if let Some(f) = self.observed.followers.remove(&follower) {
                    let waited = jiff::Timestamp::now().duration_since(f.started).as_secs();
                    let why = match f.goal {
                        Goal::ArgoOperation { .. } => format!(
                            "timed out after {waited}s waiting for Argo CD to end the operation of Application {}/{}; it may still be running",
                            f.target.namespace, f.target.name
                        ),
                        _ => format!(
                            "gave up after {waited}s waiting for {} to finish with {}/{}/{}",
                            f.app.1.managed_by().as_str(),
                            f.target.kind,
                            f.target.namespace,
                            f.target.name
                        ),
                    };
                    send_err(f.reply, why);
                }
            }
            ObsMsg::Diffed { app, diffs } => {
                if let Some(a) = self.observed.apps.get_mut(&app) {
                    a.diffs = Some(diffs);
                    self.rebuild_observed(&app);
                }
            }
        }
    }

    /// Advances the followers whose target changed on cluster `c`.
    pub(super) fn advance_followers(&mut self, c: usize, changed: &[ResourceKey]) {
        let due: Vec<u64> = self
            .observed
            .followers
            .iter()
            .filter(|(_, f)| {
                // An Argo CD operation is watched from the request on: a fast controller can
                // run and end it before the patch's answer arrives, and only the state in
                // between (`operation` set) tells the new operation's end from the last one's
                // (both can carry the same startedAt second).
                let watched = f.patched || matches!(f.goal, Goal::ArgoOperation { .. });
                f.app.0 == c && watched && changed.contains(&f.target)
            })
            .map(|(n, _)| *n)
            .collect();
        for n in due {
            self.advance_follower(n);
        }
    }

    fn advance_follower(&mut self, n: u64) {
        let Some(f) = self.observed.followers.get_mut(&n) else {
            return;
        };
        let c = f.app.0;
        let Some(obj) = self.clusters[c].store.get(&f.target).map(|o| o.value()) else {
            let f = self.observed.followers.remove(&n);
            if let Some(f) = f {
                let why = format!(
                    "{}/{}/{} was deleted",
                    f.target.kind, f.target.namespace, f.target.name
                );
                send_err(f.reply, why);
            }
            return;
        };
        let patched = f.patched;
        match &mut f.goal {
            Goal::PatchOnly { .. } => {}
            Goal::ArgoOperation {
                previous_started,
                seen_running,
            } => {
                let phase = integrations_str(&obj, "/status/operationState/phase");
                let requested = obj.get("operation").is_some_and(|o| o.is_object());
                if requested || phase == "Running" || phase == "Terminating" {
                    *seen_running = true;
                    return;
                }
                if !patched {
                    return;
                }
                let started = integrations_str(&obj, "/status/operationState/startedAt");
                let ended = matches!(phase.as_str(), "Succeeded" | "Failed" | "Error");
                if ended && (*seen_running || started != *previous_started) {
                    let Some(f) = self.observed.followers.remove(&n) else {
                        return;
                    };
                    match (f.reply, argocd::operation(&obj)) {
                        (Some(FollowReply::Operation(r)), Some(op)) => {
                            let _ = r.send(Ok(op));
                        }
                        (Some(FollowReply::Text(r)), Some(op)) => {
                            let _ = r.send(Ok(op.message));
                        }
                        (reply, None) => {
                            send_err(reply, "Argo CD reported no operation state".into())
                        }
                        (None, _) => {}
                    }
                }
            }
            Goal::FluxReconcile { token, then } => match flux::reconcile_progress(&obj, token) {
                flux::ReconcileProgress::Waiting(_) => {}
                flux::ReconcileProgress::Failed(why) => {
                    if let Some(f) = self.observed.followers.remove(&n) {
                        send_err(
                            f.reply,
                            format!(
                                "{}/{}/{}: {why}",
                                f.target.kind, f.target.namespace, f.target.name
                            ),
                        );
                    }
                }
                flux::ReconcileProgress::Ready(message) => {
                    if let Some(next) = then.take() {
                        // The source is ready: now the app itself, as `--with-source` does.
                        let new_token = flux::new_token(jiff::Timestamp::now());
                        *token = new_token.clone();
                        f.target = next.clone();
                        f.patched = false;
                        self.spawn_patch(n, c, next, flux::reconcile_patch(&new_token));
                        return;
                    }
                    if let Some(f) = self.observed.followers.remove(&n) {
                        match f.reply {
                            Some(FollowReply::Operation(r)) => {
                                let st = flux::status(&obj);
                                let _ = r.send(Ok(Operation {
                                    app: observed_name(&f.app),
                                    phase: OperationPhase::Succeeded,
                                    revision: flux::revision_commit(&st.revision).to_string(),
                                    steps: Vec::new(),
                                    message,
                                    started_at: f.started.to_string(),
                                    finished_at: Some(jiff::Timestamp::now().to_string()),
                                    initiated_by: "rekon".into(),
                                    dry_run: false,
                                }));
                            }
                            other => send_text(other, Ok(message)),
                        }
                    }
                }
            },
        }
    }
}

pub(super) fn observed_key(id: &ObsId) -> ResourceKey {
    let gk = id.1.group_kind();
    ResourceKey::new(gk.group, gk.kind, &id.2, &id.3)
}

pub(super) fn observed_name(id: &ObsId) -> String {
    format!("{}:{}/{}", id.1.prefix(), id.2, id.3)
}

pub(super) fn integrations_str(obj: &Value, pointer: &str) -> String {
    crate::engine::json::str_at(obj, pointer)
        .unwrap_or("")
        .to_string()
}

fn reply_err(cmd: EngineCommand, why: String) {
    match cmd {
        EngineCommand::Plan { reply, .. } => {
            let _ = reply.send(Err(why));
        }
        EngineCommand::Sync { reply: Some(r), .. }
        | EngineCommand::Rollback { reply: Some(r), .. } => {
            let _ = r.send(Err(why));
        }
        EngineCommand::LiveYaml { reply, .. } => {
            let _ = reply.send(Err(why));
        }
        EngineCommand::DiffRevision { reply, .. } => {
            let _ = reply.send(Err(why));
        }
        other => tracing::warn!("{why} (command {other:?} dropped)"),
    }
}

/// A merge patch as `rekon`.
async fn merge_patch(
    client: &kube::Client,
    catalog: Option<&ApiCatalog>,
    key: &ResourceKey,
    patch: &Value,
) -> Result<(), String> {
    let kind = catalog
        .and_then(|c| c.preferred(&key.group_kind()))
        .ok_or_else(|| format!("the cluster does not serve {}", key.group_kind()))?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &key.namespace, &kind.resource);
    let params = PatchParams {
        field_manager: Some(integrations::FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    api.patch(&key.name, &params, &Patch::Merge(patch))
        .await
        .map(drop)
        .map_err(|e| {
            format!(
                "patching {}/{}/{}: {}",
                key.kind,
                key.namespace,
                key.name,
                super::clusters::describe_kube(e)
            )
        })
}
