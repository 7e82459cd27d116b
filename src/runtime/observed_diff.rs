//! Diffs of observed apps: the source rendered by rekon's engine (an Argo CD app at its
//! synced revision, a Kustomization's path at its GitRepository's artifact revision) and
//! compared with live, read only (server-side dry runs at most).

use std::collections::HashMap;
use std::sync::Arc;

use kube::api::{Api, DynamicObject};
use serde_json::Value;

use crate::cluster::compare::CompareJob;
use crate::cluster::{ApiCatalog, LiveObject, compare};
use crate::engine::desired;
use crate::engine::desired::DesiredObject;
use crate::integrations::{ObservedKind, argocd, flux};
use crate::model::{Application, ResourceDiff};

use super::Reply;
use super::actor::Actor;
use super::messages::{Msg, ObsMsg};
use super::observed::{ObservedId, integrations_str};

impl Actor {
    /// Renders an observed app's source with rekon's engine and compares it with live.
    pub(super) fn observed_diff(
        &mut self,
        id: &ObservedId,
        revision: Option<String>,
        reply: Reply<Vec<ResourceDiff>>,
    ) {
        let plan = match self.diff_source(id, revision) {
            Ok(p) => p,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let c = id.cluster;
        let Some(catalog) = self.clusters[c].catalog.clone() else {
            let _ = reply.send(Err(format!(
                "cluster {} is not connected yet",
                self.clusters[c].handle.name
            )));
            return;
        };
        let client = self.clusters[c].handle.client.clone();
        let cluster = self.clusters[c].handle.name.clone();
        let sources = self.options.sources.clone();
        let cache = self.cache.clone();
        let config_ignore = self.config_ignore.clone();
        let tx = self.tx.clone();
        let app_id = id.clone();
        tokio::spawn(async move {
            let (app, recurse) = plan;
            let render_app = app.clone();
            let rendered = tokio::task::spawn_blocking(move || {
                let commit = sources.resolve(
                    &render_app.spec.source.repo_url,
                    render_app.spec.source.revision(),
                    false,
                )?;
                let first = sources.render_app(&render_app, &commit)?;
                if recurse && first.tool == crate::source::Tool::Directory {
                    // Flux builds every manifest under the path, sub-folders included.
                    let mut deep = render_app.clone();
                    deep.spec.source.directory = Some(crate::model::DirectorySource {
                        recurse: true,
                        ..Default::default()
                    });
                    return sources.render_app(&deep, &commit);
                }
                Ok(first)
            })
            .await;
            let rendered = match rendered {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    let _ = reply.send(Err(e.to_string()));
                    return;
                }
                Err(e) => {
                    let _ = reply.send(Err(format!("rendering was interrupted: {e}")));
                    return;
                }
            };
            let instance =
                crate::engine::tracking::instance_name(app.namespace(), &app.metadata.name);
            let dest_ns = app.spec.destination.namespace.clone().unwrap_or_default();
            let desired =
                desired::prepare(&rendered.manifests, &dest_ns, &instance, &catalog, &cluster);
            let mut live = HashMap::new();
            for d in desired.iter().filter(|d| !d.hook) {
                if let Some(obj) = get_live(&client, &catalog, d).await {
                    live.insert(d.key.clone(), LiveObject::new(&d.key, &obj));
                }
            }
            let job = CompareJob {
                client,
                cluster,
                catalog,
                desired: Arc::new(desired),
                live,
                extra: Vec::new(),
                unavailable: HashMap::new(),
                app_ignore: app.spec.ignore_differences.clone(),
                config_ignore,
            };
            let diffs: Vec<ResourceDiff> = compare::run(job, cache)
                .await
                .into_iter()
                .filter(|o| o.diff.changed)
                .map(|o| o.diff)
                .collect();
            let _ = tx.send(Msg::Observed(ObsMsg::Diffed {
                app: app_id,
                diffs: diffs.clone(),
            }));
            let _ = reply.send(Ok(diffs));
        });
    }

    /// What to render for an observed app's diff: an Application (its source at the
    /// revision), and whether a plain directory is read recursively (Flux).
    fn diff_source(
        &self,
        id: &ObservedId,
        revision: Option<String>,
    ) -> Result<(Application, bool), String> {
        let name = id.display_name();
        let obj = self
            .observed_object(id)
            .ok_or_else(|| format!("{name} is gone"))?;
        match id.kind {
            ObservedKind::ArgoApplication => {
                let mut app = argocd::to_application(&obj)?;
                let synced = integrations_str(&obj, "/status/sync/revision");
                let rev = revision
                    .filter(|r| !r.is_empty())
                    .or((!synced.is_empty()).then_some(synced));
                if let Some(rev) = rev {
                    app.spec.source.target_revision = Some(rev);
                }
                Ok((app, false))
            }
            ObservedKind::FluxHelmRelease => Err(format!(
                "{name}: diffs of HelmReleases are not supported (rekon renders Git sources only)"
            )),
            ObservedKind::FluxKustomization => {
                let source_key =
                    flux::source_of(&obj).ok_or_else(|| format!("{name} has no spec.sourceRef"))?;
                if source_key.kind != "GitRepository" {
                    return Err(format!(
                        "{name} reads a {}: rekon renders Git sources only",
                        source_key.kind
                    ));
                }
                let source = self.clusters[id.cluster]
                    .store
                    .get(&source_key)
                    .map(|o| o.value())
                    .ok_or_else(|| {
                        format!(
                            "the source GitRepository {}/{} of {name} is not in the cluster",
                            source_key.namespace, source_key.name
                        )
                    })?;
                let artifact = integrations_str(&source, "/status/artifact/revision");
                let rev = match revision.filter(|r| !r.is_empty()) {
                    Some(r) => r,
                    None if !artifact.is_empty() => flux::revision_commit(&artifact).to_string(),
                    None => {
                        return Err(format!(
                            "the source GitRepository {}/{} has no artifact yet",
                            source_key.namespace, source_key.name
                        ));
                    }
                };
                let path = integrations_str(&obj, "/spec/path");
                let path = path.trim_start_matches("./").trim_start_matches('/');
                let doc = serde_json::json!({
                    "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                    "metadata": {"name": id.name, "namespace": id.namespace},
                    "spec": {
                        "source": {"repoURL": integrations_str(&source, "/spec/url"),
                            "targetRevision": rev, "path": if path.is_empty() { "." } else { path }},
                        "destination": {"namespace": integrations_str(&obj, "/spec/targetNamespace")},
                    }
                });
                let app: Application =
                    serde_json::from_value(doc).map_err(|e| format!("{name}: {e}"))?;
                Ok((app, true))
            }
        }
    }
}

/// The live object a desired object names, read from the API.
async fn get_live(client: &kube::Client, catalog: &ApiCatalog, d: &DesiredObject) -> Option<Value> {
    let kind = catalog
        .resolve(&d.api_version, &d.key.kind)
        .or_else(|| catalog.preferred(&d.key.group_kind()))?;
    let api: Api<DynamicObject> = if kind.namespaced {
        Api::namespaced_with(client.clone(), &d.key.namespace, &kind.resource)
    } else {
        Api::all_with(client.clone(), &kind.resource)
    };
    let obj = api.get_opt(&d.key.name).await.ok()??;
    let mut v = serde_json::to_value(obj).ok()?;
    if let Some(map) = v.as_object_mut() {
        map.insert(
            "apiVersion".into(),
            Value::String(kind.resource.api_version.clone()),
        );
        map.insert("kind".into(), Value::String(d.key.kind.clone()));
    }
    Some(v)
}
