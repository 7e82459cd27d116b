//! Followers: actions on observed apps waiting for their outcome. A follower writes its
//! patch off the actor, then advances on the watch events of its target (no polling)
//! until Argo CD or Flux reports the end, and gives up after a timeout.

use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use crate::cluster::ApiCatalog;
use crate::integrations::{self, argocd, flux};
use crate::model::{Operation, OperationPhase, ResourceKey};

use super::actor::Actor;
use super::messages::{Msg, ObsMsg};
use super::observed::{FollowReply, Follower, Goal, ObservedId, integrations_str};

/// How long a follower waits for Argo CD or Flux by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

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

pub(super) fn send_err(reply: Option<FollowReply>, why: String) {
    send_text(reply, Err(why));
}

impl Actor {
    /// Registers a follower and writes its patch off the engine task.
    pub(super) fn start_patch(
        &mut self,
        id: &ObservedId,
        target: ResourceKey,
        patch: Value,
        goal: Goal,
        reply: Option<FollowReply>,
        timeout: Option<Duration>,
    ) {
        if self.options.read_only {
            return send_err(
                reply,
                format!("read-only mode: {} was not changed", id.display_name()),
            );
        }
        let n = self.observed.add_follower(Follower {
            app: id.clone(),
            target: target.clone(),
            goal,
            patched: false,
            reply,
            started: jiff::Timestamp::now(),
        });
        self.spawn_patch(n, id.cluster, target, patch);
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
                            f.app.kind.managed_by().as_str(),
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
                f.app.cluster == c && watched && changed.contains(&f.target)
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
        let c = f.app.cluster;
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
                                    app: f.app.display_name(),
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
                crate::cluster::describe_kube(&e)
            )
        })
}
