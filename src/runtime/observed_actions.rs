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
//!
//! Commands name observed apps as `argocd:ns/name[@cluster]` or plain `ns/name`; the name is
//! resolved here too.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::integrations::{self, ObservedKind, ObservedRef, argocd, flux, flux_graph, images};
use crate::model::{Operation, ResourceDiff, SyncOptions};

use super::actor::Actor;
use super::followers::send_err;
use super::observed::{FollowReply, Goal, ObservedId, integrations_str};
use super::{EngineCommand, Reply};

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

impl Actor {
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
                    id.kind.managed_by().as_str()
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
                let _ = reply.send(self.object_yaml(id.cluster, &key));
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
                        let key = id.key();
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
                        let key = id.key();
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

    fn flux_app(&self, name: &str) -> Result<ObservedId, String> {
        let id = self
            .find_observed(name)
            .unwrap_or_else(|| Err(format!("no observed app named {name}")))?;
        if id.kind == ObservedKind::ArgoApplication {
            return Err(format!(
                "{name} is an Argo CD Application, not a Flux object"
            ));
        }
        Ok(id)
    }

    pub(super) fn observed_object(&self, id: &ObservedId) -> Option<Arc<Value>> {
        self.clusters[id.cluster]
            .store
            .get(&id.key())
            .map(|o| o.value())
    }

    fn observed_refresh(&mut self, id: &ObservedId, hard: bool) {
        match id.kind {
            ObservedKind::ArgoApplication => {
                let key = id.key();
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

    fn observed_terminate(&mut self, id: &ObservedId) {
        if id.kind != ObservedKind::ArgoApplication {
            return;
        }
        let running = self
            .observed_object(id)
            .is_some_and(|o| argocd::operation_running(&o));
        if !running {
            return;
        }
        let key = id.key();
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
        id: &ObservedId,
        entry: u64,
        initiated_by: &str,
        reply: Option<Reply<Operation>>,
    ) {
        let reply = reply.map(FollowReply::Operation);
        if id.kind != ObservedKind::ArgoApplication {
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
        id: &ObservedId,
        options: SyncOptions,
        initiated_by: &str,
        reply: Option<FollowReply>,
    ) {
        let timeout = options.timeout_secs.map(Duration::from_secs);
        if id.kind != ObservedKind::ArgoApplication {
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
        id: &ObservedId,
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
        let key = id.key();
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
        id: &ObservedId,
        with_source: bool,
        reply: Option<FollowReply>,
        timeout: Option<Duration>,
    ) {
        let Some(obj) = self.observed_object(id) else {
            return send_err(reply, "the object is gone".into());
        };
        let name = id.display_name();
        if flux::status(&obj).suspended {
            return send_err(
                reply,
                format!("{name} is suspended (spec.suspend: true): resume it first"),
            );
        }
        let token = flux::new_token(jiff::Timestamp::now());
        let key = id.key();
        match (with_source, flux::source_of(&obj)) {
            (true, Some(source)) => {
                let suspended_source = self.clusters[id.cluster]
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

    /// Finds the observed app a command names: `argocd:ns/name[@cluster]`, or plain
    /// `ns/name` when no app of rekon's own has that name and exactly one observed app does.
    fn find_observed(&self, name: &str) -> Option<Result<ObservedId, String>> {
        let matches: Vec<&ObservedId> = match ObservedRef::parse(name) {
            Some(r) => self
                .observed
                .apps
                .iter()
                .filter(|(_, a)| r.matches(&a.summary))
                .map(|(id, _)| id)
                .collect(),
            None => {
                if self.apps.iter().any(|rt| rt.app.qualified_name() == name) {
                    return None;
                }
                let (ns, n) = name.split_once('/')?;
                let found: Vec<&ObservedId> = self
                    .observed
                    .apps
                    .keys()
                    .filter(|id| id.namespace == ns && id.name == n)
                    .collect();
                if found.is_empty() {
                    return None;
                }
                found
            }
        };
        Some(match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(format!("no observed app named {name}")),
            many => Err(format!(
                "{name} is ambiguous: add @CLUSTER ({})",
                many.iter()
                    .map(|id| {
                        let a = &self.observed.apps[*id].summary;
                        integrations::app_ref_in_cluster(a)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        })
    }
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
