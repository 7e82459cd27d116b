//! The demo's Argo CD and Flux side: their CRDs in both embedded clusters, an Argo CD
//! Application (`argocd/edge-proxy` on demo-prod) and a Flux GitRepository with two
//! Kustomizations, one depending on the other, plus an ImagePolicy the exporter lags behind
//! (on demo-staging). Their objects are applied the way those controllers apply them (their
//! field managers, Argo CD's tracking annotation, Flux's owner labels) and their status is
//! written as the controllers would; the emulator's simulated Argo CD and Flux controllers
//! keep it current from then on. The objects are in `assets/demo/observed.yaml`.

use color_eyre::eyre::{Result, WrapErr, eyre};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};

use super::Demo;
use crate::cluster::apply::{ApplyOptions, apply, ensure_namespace};
use crate::cluster::{ApiCatalog, ClusterHandle};
use crate::engine::{desired, tracking};
use crate::integrations::{crds, flux};
use crate::model::{AppSource, ResourceKey};
use crate::yaml;

/// The observed objects, with `{{REPO}}` and `{{HEAD}}` placeholders.
const OBSERVED: &str = include_str!("../../assets/demo/observed.yaml");
/// The cluster Argo CD runs in.
const ARGO_CLUSTER: &str = "demo-prod";
/// The cluster Flux runs in.
const FLUX_CLUSTER: &str = "demo-staging";
/// The tag the ImagePolicy selects; the exporter in Git still runs v0.24.0.
const LATEST_EXPORTER_TAG: &str = "v0.25.0";

/// Seeds the Argo CD and Flux objects.
pub async fn seed(demo: &Demo) -> Result<()> {
    let handles = demo.handles();
    for h in &handles {
        crds::install(&h.client, crds::ARGOCD, "assets/crds/argocd.yaml")
            .await
            .map_err(|e| eyre!("{e}"))?;
        crds::install(&h.client, crds::FLUX, "assets/crds/flux.yaml")
            .await
            .map_err(|e| eyre!("{e}"))?;
    }
    let cluster = |name: &str| {
        handles
            .iter()
            .find(|h| h.name == name)
            .ok_or_else(|| eyre!("the demo has no cluster {name}"))
    };
    let head = demo.repo.head().to_string();
    let text = OBSERVED
        .replace("{{REPO}}", &demo.repo.path.display().to_string())
        .replace("{{HEAD}}", &head);
    let docs = yaml::parse_documents(&text, "assets/demo/observed.yaml")?;
    let now = jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    for doc in docs {
        let obj = doc.value;
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let path = obj
            .pointer("/spec/source/path")
            .or_else(|| obj.pointer("/spec/path"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim_start_matches("./")
            .to_string();
        match kind.as_str() {
            "Application" => {
                let h = cluster(ARGO_CLUSTER)?;
                let keys = apply_path(demo, h, &path, "edge", "argocd-controller", &|o, key| {
                    let id = tracking::TrackingId::new("edge-proxy", key).to_string();
                    set(
                        o,
                        &[
                            "metadata",
                            "annotations",
                            tracking::ARGOCD_TRACKING_ANNOTATION,
                        ],
                        json!(id),
                    );
                })
                .await?;
                let resources: Vec<Value> = keys
                    .iter()
                    .map(|(k, v, wave)| {
                        json!({"group": k.group, "version": v, "kind": k.kind, "namespace": k.namespace,
                            "name": k.name, "status": "Synced", "health": {"status": "Progressing"},
                            "syncWave": wave})
                    })
                    .collect();
                // The automated sync is mid-way, as Argo CD shows it: wave 0 applied, waiting
                // for its health before wave 1. The simulated controller keeps it running
                // until the Deployment is healthy.
                let first_wave = keys.iter().map(|(_, _, w)| *w).min().unwrap_or(0);
                let applied: Vec<Value> = keys
                    .iter()
                    .filter(|(_, _, w)| *w == first_wave)
                    .map(|(k, v, w)| {
                        json!({"group": k.group, "version": v, "kind": k.kind, "namespace": k.namespace,
                            "name": k.name, "status": "Synced", "syncPhase": "Sync", "syncWave": w,
                            "message": format!("{}/{} configured", k.kind.to_lowercase(), k.name)})
                    })
                    .collect();
                let operation =
                    json!({"initiatedBy": {"automated": true}, "sync": {"revision": head}});
                let mut app = obj.clone();
                app["operation"] = operation.clone();
                app["status"] = json!({
                    "sync": {"status": "Synced", "revision": head},
                    "health": {"status": "Progressing"},
                    "resources": resources,
                    "operationState": {"phase": "Running",
                        "message": "waiting for healthy state of apps/Deployment/edge-proxy",
                        "startedAt": now, "operation": operation,
                        "syncResult": {"revision": head, "resources": applied}},
                    "history": [{"id": 0, "revision": head, "deployStartedAt": now, "deployedAt": now,
                        "initiatedBy": {"automated": true}}]
                });
                put(h, app, "argocd-controller").await?;
            }
            "AppProject" => put(cluster(ARGO_CLUSTER)?, obj, "argocd-server").await?,
            "GitRepository" => {
                let mut repo = obj.clone();
                repo["status"] = json!({"artifact": {"revision": format!("main@sha1:{head}"),
                    "path": "gitrepository/flux-system/platform/latest.tar.gz",
                    "url": "http://source-controller.flux-system.svc/gitrepository/flux-system/platform/latest.tar.gz",
                    "lastUpdateTime": now}});
                put(cluster(FLUX_CLUSTER)?, repo, "source-controller").await?;
            }
            "Kustomization" => {
                let h = cluster(FLUX_CLUSTER)?;
                let name = obj
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let keys = apply_path(demo, h, &path, "", "kustomize-controller", &|o, _| {
                    set(o, &["metadata", "labels", flux::KS_NAME_LABEL], json!(name));
                    set(
                        o,
                        &["metadata", "labels", flux::KS_NAMESPACE_LABEL],
                        json!("flux-system"),
                    );
                })
                .await?;
                let entries: Vec<Value> = keys
                    .iter()
                    .map(|(k, v, _)| json!({"id": flux::inventory_id(k), "v": v}))
                    .collect();
                let revision = format!("main@sha1:{head}");
                let mut ks = obj.clone();
                ks["status"] = json!({"inventory": {"entries": entries},
                    "lastAppliedRevision": revision});
                // The simulated controller leaves a suspended Kustomization alone, so it keeps
                // the Ready condition of its last reconcile before `flux suspend`.
                if obj.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
                    ks["status"]["observedGeneration"] = json!(1);
                    ks["status"]["conditions"] = json!([{"type": "Ready", "status": "True",
                        "reason": "ReconciliationSucceeded", "lastTransitionTime": now,
                        "message": format!("Applied revision: {revision}")}]);
                }
                put(h, ks, "kustomize-controller").await?;
            }
            "ImageRepository" => {
                let mut r = obj.clone();
                r["status"] = json!({"canonicalImageName": "quay.io/prometheus/blackbox-exporter",
                    "lastScanResult": {"tagCount": 27, "scanTime": now,
                        "latestTags": [LATEST_EXPORTER_TAG, "v0.24.0", "v0.23.0"]}});
                put(cluster(FLUX_CLUSTER)?, r, "image-reflector-controller").await?;
            }
            "ImagePolicy" => {
                let mut p = obj.clone();
                p["status"] = json!({"latestRef": {"name": "quay.io/prometheus/blackbox-exporter",
                    "tag": LATEST_EXPORTER_TAG}});
                put(cluster(FLUX_CLUSTER)?, p, "image-reflector-controller").await?;
            }
            other => return Err(eyre!("assets/demo/observed.yaml: unexpected kind {other}")),
        }
    }
    Ok(())
}

fn set(obj: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = obj;
    for p in parents {
        if !cur.get(*p).is_some_and(Value::is_object) {
            cur[*p] = json!({});
        }
        cur = &mut cur[*p];
    }
    cur[*last] = value;
}

/// Renders `path` of the demo repository at its head and applies it as `manager` (after
/// `mark` adds the controller's own markers); returns the objects' keys, versions and Argo
/// CD sync waves.
async fn apply_path(
    demo: &Demo,
    cluster: &ClusterHandle,
    path: &str,
    namespace: &str,
    manager: &str,
    mark: &(dyn Fn(&mut Value, &ResourceKey) + Sync),
) -> Result<Vec<(ResourceKey, String, i64)>> {
    let source = AppSource {
        repo_url: demo.repo.path.display().to_string(),
        path: Some(path.to_string()),
        ..AppSource::default()
    };
    let rendered = {
        let sources = demo.sources.clone();
        let head = demo.repo.head().to_string();
        tokio::task::spawn_blocking(move || sources.render(&source, "observed", &head))
            .await
            .wrap_err("rendering was interrupted")??
    };
    let catalog = ApiCatalog::discover(&cluster.client).await?;
    if !namespace.is_empty() {
        ensure_namespace(&cluster.client, namespace, false).await?;
    }
    let mut objects = desired::prepare(
        &rendered.manifests,
        namespace,
        "observed",
        &catalog,
        &cluster.name,
    );
    objects.sort_by_key(|d| crate::engine::tree::kind_rank(&d.key.kind));
    let mut keys = Vec::new();
    for d in &mut objects {
        let mut object = d.object();
        if let Some(a) = object
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            a.remove(tracking::TRACKING_ANNOTATION);
        }
        mark(&mut object, &d.key);
        d.set_object(&object);
        apply(
            &cluster.client,
            &catalog,
            &object,
            ApplyOptions {
                manager,
                force: true,
                dry_run: false,
            },
        )
        .await
        .wrap_err_with(|| format!("applying {} from {}", d.key, d.origin))?;
        let wave = i64::from(crate::engine::plan::annotations::wave(&object));
        keys.push((
            d.key.clone(),
            crate::model::split_api_version(&d.api_version)
                .1
                .to_string(),
            wave,
        ));
    }
    Ok(keys)
}

/// Writes an object and then its status, as its controller would have.
async fn put(cluster: &ClusterHandle, obj: Value, manager: &str) -> Result<()> {
    let catalog = ApiCatalog::discover(&cluster.client).await?;
    let key = ResourceKey::of(&obj)
        .ok_or_else(|| eyre!("observed.yaml: an object without kind or name"))?;
    if !key.namespace.is_empty() {
        ensure_namespace(&cluster.client, &key.namespace, false).await?;
    }
    let mut spec = obj.clone();
    let status = spec.as_object_mut().and_then(|o| o.remove("status"));
    apply(
        &cluster.client,
        &catalog,
        &spec,
        ApplyOptions {
            manager,
            force: true,
            dry_run: false,
        },
    )
    .await
    .wrap_err_with(|| format!("seeding {key}"))?;
    let Some(status) = status else {
        return Ok(());
    };
    let kind = catalog
        .resolve(obj["apiVersion"].as_str().unwrap_or_default(), &key.kind)
        .ok_or_else(|| eyre!("{} is not served", key.kind))?;
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client.clone(), &key.namespace, &kind.resource);
    let params = PatchParams {
        field_manager: Some(manager.into()),
        ..PatchParams::default()
    };
    let body = json!({"status": status});
    // Argo CD's Application has no status subresource: its status is part of the object.
    let written = match api
        .patch_status(&key.name, &params, &Patch::Merge(&body))
        .await
    {
        Ok(_) => Ok(()),
        Err(_) => api
            .patch(&key.name, &params, &Patch::Merge(&body))
            .await
            .map(drop),
    };
    written.wrap_err_with(|| format!("writing the status of {key}"))
}
