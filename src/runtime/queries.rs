//! Queries answered from the actor's state: live YAML, diffs of another revision.

use std::sync::Arc;

use serde_json::Value;

use crate::cluster::compare;
use crate::cluster::compare::CompareJob;
use crate::engine::desired;
use crate::model::{ResourceDiff, ResourceKey};
use crate::source::{Rendered, SourceError};

use super::Reply;
use super::actor::Actor;
use super::messages::Msg;

impl Actor {
    pub(super) fn find_app(&self, name: &str) -> Result<usize, String> {
        self.apps
            .iter()
            .position(|rt| rt.app.qualified_name() == name)
            .ok_or_else(|| format!("no app named {name}"))
    }

    /// The live object as YAML, Secret values masked.
    pub(super) fn live_yaml(&self, app: &str, key: &ResourceKey) -> Result<String, String> {
        let a = self.find_app(app)?;
        let c = self.apps[a].cluster.clone()?;
        self.object_yaml(c, key)
    }

    /// Object `key` of cluster `c` from the live cache as YAML: Secret values masked, no
    /// managedFields.
    pub(super) fn object_yaml(&self, c: usize, key: &ResourceKey) -> Result<String, String> {
        let obj = self.clusters[c]
            .store
            .get(key)
            .ok_or_else(|| format!("{key} is not in the cluster"))?;
        let mut v = Arc::unwrap_or_clone(obj.value());
        crate::engine::mask::mask_object(&mut v);
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        Ok(crate::engine::diff::to_stable_yaml(&v))
    }

    /// Renders app `a` at `revision` off the engine task; the result comes back as a
    /// message and is compared against live like a normal compare.
    pub(super) fn render_revision(
        &mut self,
        a: usize,
        revision: String,
        reply: Reply<Vec<ResourceDiff>>,
    ) {
        let mut application = self.apps[a].app.clone();
        application.spec.source.target_revision = Some(revision);
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
            let _ = tx.send(Msg::RevisionRendered {
                app: a,
                result,
                reply,
            });
        });
    }

    /// Compares a revision's render against live and answers with the differing resources.
    pub(super) fn compare_revision(
        &mut self,
        a: usize,
        result: Result<Rendered, SourceError>,
        reply: Reply<Vec<ResourceDiff>>,
    ) {
        let rendered = match result {
            Ok(r) => r,
            Err(e) => {
                let _ = reply.send(Err(e.to_string()));
                return;
            }
        };
        let job = match self.job_for(a, &rendered) {
            Ok(job) => job,
            Err(e) => {
                let _ = reply.send(Err(e));
                return;
            }
        };
        let cache = self.cache.clone();
        tokio::spawn(async move {
            let outcomes = compare::run(job, cache).await;
            let diffs = outcomes
                .into_iter()
                .filter(|o| o.diff.changed)
                .map(|o| o.diff)
                .collect();
            let _ = reply.send(Ok(diffs));
        });
    }

    /// A compare job for app `a` against `rendered` (not necessarily its current render).
    pub(super) fn job_for(&self, a: usize, rendered: &Rendered) -> Result<CompareJob, String> {
        let c = self.apps[a].cluster.clone()?;
        let cluster = &self.clusters[c];
        let catalog = cluster
            .catalog
            .clone()
            .ok_or_else(|| format!("cluster {} is not connected yet", cluster.handle.name))?;
        let dest_ns = self.apps[a]
            .app
            .spec
            .destination
            .namespace
            .clone()
            .unwrap_or_default();
        let desired = Arc::new(desired::prepare(
            &rendered.manifests,
            &dest_ns,
            &self.apps[a].instance,
            &catalog,
            &cluster.handle.name,
        ));
        Ok(self.build_job(a, c, catalog, desired))
    }
}
