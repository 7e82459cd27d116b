//! Seeding the demo clusters so the first screen shows every state, and keeps showing it
//! for half an hour unless the user acts: apps applied at older commits are OutOfSync (one
//! with a rotated Secret), one app is edited by hand after seeding, one never pulls its image
//! (past its progress deadline within seconds), one is mid-rollout with pods that take 30
//! minutes to start, one was never synced (Missing), and one's newest commit does not render.

use color_eyre::eyre::{Result, WrapErr, eyre};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;

use tokio::sync::oneshot;

use super::Demo;
use crate::cluster::ClusterHandle;
use crate::cluster::apply::ensure_namespace;
use crate::model::{Application, OperationPhase, SyncOptions};
use crate::runtime::{self, EngineCommand, EngineOptions};

/// Who the seed syncs are recorded as in the demo's history.
const SEEDED_BY: &str = "rekon demo (seed)";

/// The app edited by hand after seeding, and how: the story's "someone ran kubectl edit".
const HAND_EDITED_APP: &str = "catalog-staging";

/// Which commit of the demo history each app is applied at (index into the commits,
/// oldest first), or `None` for an app never synced; apps not listed get the newest commit.
fn seed_commit(app: &str, commits: usize) -> Option<usize> {
    let head = commits.saturating_sub(1);
    match app {
        // Before "bump podinfo and rotate session secret": OutOfSync with a masked Secret change.
        "storefront" => Some(0),
        // Before "add migration hook and sync waves": syncing it shows waves and the hook.
        "payments" => Some(1.min(head)),
        // The newest commit breaks its YAML: it runs what the commit before rendered.
        "session-cache" => Some(head.saturating_sub(1)),
        // Added to Git, its first sync left to the user: Missing.
        "search" => None,
        _ => Some(head),
    }
}

/// Syncs every demo app at its seed commit through rekon's own engine (so the demo starts
/// with real sync history), then makes the hand edit and seeds the Argo CD and Flux objects.
pub async fn seed(demo: &Demo) -> Result<()> {
    let handles = demo.handles();
    for app in &demo.repo.applications {
        if seed_commit(&app.metadata.name, demo.repo.commits.len()).is_none() {
            continue;
        }
        let cluster = handles
            .iter()
            .find(|h| Some(h.name.as_str()) == app.spec.destination.name.as_deref())
            .ok_or_else(|| eyre!("demo app {} names no demo cluster", app.metadata.name))?;
        // Not every demo app asks for CreateNamespace; the seed makes sure they exist.
        if let Some(ns) = app
            .spec
            .destination
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
        {
            ensure_namespace(&cluster.client, ns, false).await?;
        }
    }
    let engine = runtime::start(EngineOptions {
        apps: demo.applications(),
        clusters: handles.clone(),
        sources: demo.sources.clone(),
        read_only: false,
        config_ignore: Vec::new(),
        refresh_every: None,
        auto_sync: false,
        skip_trees: false,
        projects: Vec::new(),
    });
    engine.settled().await;
    let mut waiting = Vec::new();
    for app in &demo.repo.applications {
        let Some(index) = seed_commit(&app.metadata.name, demo.repo.commits.len()) else {
            continue;
        };
        let (reply, answer) = oneshot::channel();
        engine
            .commands()
            .send(EngineCommand::Sync {
                app: app.qualified_name(),
                options: SyncOptions {
                    revision: Some(demo.repo.commits[index].sha.clone()),
                    ..SyncOptions::default()
                },
                initiated_by: SEEDED_BY.into(),
                reply: Some(reply),
            })
            .await
            .map_err(|_| eyre!("the demo's engine stopped while seeding"))?;
        waiting.push((app.metadata.name.clone(), answer));
    }
    for (name, answer) in waiting {
        let op = answer
            .await
            .map_err(|_| eyre!("the demo's engine stopped while seeding {name}"))?
            .map_err(|e| eyre!("cannot seed demo app {name}: {e}"))?;
        if op.phase == OperationPhase::Failed {
            return Err(eyre!("cannot seed demo app {name}: {}", op.message));
        }
    }
    drop(engine);
    if let Some(app) = demo
        .repo
        .applications
        .iter()
        .find(|a| a.metadata.name == HAND_EDITED_APP)
        && let Some(cluster) = handles
            .iter()
            .find(|h| Some(h.name.as_str()) == app.spec.destination.name.as_deref())
    {
        hand_edit(cluster, app).await?;
    }
    super::observed::seed(demo)
        .await
        .wrap_err("cannot seed the demo's Argo CD and Flux objects")?;
    Ok(())
}

/// Someone scales staging up by hand during a load test and forgets it: `spec.replicas`
/// written by another field manager, so the app turns OutOfSync and the diff shows exactly
/// that field.
async fn hand_edit(cluster: &ClusterHandle, app: &Application) -> Result<()> {
    let namespace = app.spec.destination.namespace.clone().unwrap_or_default();
    let api: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        &namespace,
        &kube::discovery::ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&()),
    );
    let Some(deploy) = api
        .list(&Default::default())
        .await?
        .items
        .into_iter()
        .next()
    else {
        return Ok(());
    };
    let name = deploy.metadata.name.clone().unwrap_or_default();
    let replicas = deploy.data["spec"]["replicas"].as_i64().unwrap_or(1);
    let patch = json!({"spec": {"replicas": replicas + 2}});
    api.patch(
        &name,
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..PatchParams::default()
        },
        &Patch::Merge(&patch),
    )
    .await
    .wrap_err_with(|| format!("scaling deployment {namespace}/{name} by hand"))?;
    Ok(())
}
