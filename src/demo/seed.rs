//! Seeding the demo clusters so the first minute shows every state: apps applied at older
//! commits are OutOfSync (one with a rotated Secret), one app is edited by hand after
//! seeding, one never pulls its image, one is mid-rollout.

use color_eyre::eyre::{Result, WrapErr, eyre};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;

use super::Demo;
use crate::cluster::apply::{ApplyOptions, apply, ensure_namespace};
use crate::cluster::{ApiCatalog, ClusterHandle};
use crate::engine::compare::FIELD_MANAGER;
use crate::engine::desired;
use crate::engine::tracking;
use crate::engine::tree::kind_rank;
use crate::model::Application;

/// The app edited by hand after seeding, and how: the story's "someone ran kubectl edit".
const HAND_EDITED_APP: &str = "catalog-staging";

/// Which commit of the demo history each app is applied at (index into the commits,
/// oldest first); apps not listed get the newest commit.
fn seed_commit(app: &str, commits: usize) -> usize {
    let head = commits.saturating_sub(1);
    match app {
        // Before "bump podinfo and rotate session secret": OutOfSync with a masked Secret change.
        "storefront" => 0,
        // Before "add migration hook and sync waves": syncing it shows waves and the hook.
        "payments" => 1.min(head),
        _ => head,
    }
}

/// Applies every demo app at its seed commit, then makes the hand edit.
pub async fn seed(demo: &Demo) -> Result<()> {
    let handles = demo.handles();
    for app in &demo.repo.applications {
        let cluster = handles
            .iter()
            .find(|h| Some(h.name.as_str()) == app.spec.destination.name.as_deref())
            .ok_or_else(|| eyre!("demo app {} names no demo cluster", app.metadata.name))?;
        let index = seed_commit(&app.metadata.name, demo.repo.commits.len());
        let commit = demo.repo.commits[index].sha.clone();
        seed_app(demo, cluster, app, &commit)
            .await
            .wrap_err_with(|| format!("cannot seed demo app {}", app.metadata.name))?;
    }
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

async fn seed_app(
    demo: &Demo,
    cluster: &ClusterHandle,
    app: &Application,
    commit: &str,
) -> Result<()> {
    let rendered = {
        let sources = demo.sources.clone();
        let app = app.clone();
        let commit = commit.to_string();
        tokio::task::spawn_blocking(move || sources.render_app(&app, &commit))
            .await
            .wrap_err("rendering was interrupted")??
    };
    let catalog = ApiCatalog::discover(&cluster.client).await?;
    let namespace = app.spec.destination.namespace.clone().unwrap_or_default();
    if !namespace.is_empty() {
        ensure_namespace(&cluster.client, &namespace, false).await?;
    }
    let instance = tracking::instance_name(app.namespace(), &app.metadata.name);
    let mut objects = desired::prepare(
        &rendered.manifests,
        &namespace,
        &instance,
        &catalog,
        &cluster.name,
    );
    objects.retain(|d| !d.hook);
    objects.sort_by_key(|d| kind_rank(&d.key.kind));
    let options = ApplyOptions {
        manager: FIELD_MANAGER,
        force: true,
        dry_run: false,
    };
    for d in &objects {
        apply(&cluster.client, &catalog, &d.object, options)
            .await
            .wrap_err_with(|| format!("applying {} from {}", d.key, d.origin))?;
    }
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
