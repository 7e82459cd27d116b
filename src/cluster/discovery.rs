//! What a cluster serves: kinds, their resources, scope and verbs.

use std::collections::HashMap;

use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Discovery, Scope};

use crate::engine::desired::ServedKinds;
use crate::model::{GroupKind, split_api_version};

/// One servable kind at one version.
#[derive(Debug, Clone)]
pub struct ApiKind {
    /// Group, version, kind and plural, as kube's dynamic API wants them.
    pub resource: ApiResource,
    /// Namespaced (true) or cluster-scoped.
    pub namespaced: bool,
    /// The kind can be watched (and listed).
    pub watchable: bool,
}

/// The kinds a cluster serves, for resolving an object's apiVersion/kind to a resource.
#[derive(Debug, Clone, Default)]
pub struct ApiCatalog {
    by_gvk: HashMap<(String, String, String), ApiKind>,
    preferred: HashMap<GroupKind, ApiKind>,
}

impl ApiCatalog {
    /// Runs discovery: aggregated discovery first (two requests), the per-group form when the
    /// server does not offer it.
    pub async fn discover(client: &kube::Client) -> Result<Self, kube::Error> {
        let discovery = match Discovery::new(client.clone()).run_aggregated().await {
            Ok(d) => d,
            Err(_) => Discovery::new(client.clone()).run().await?,
        };
        let mut catalog = ApiCatalog::default();
        for group in discovery.groups() {
            for version in group.versions() {
                for (ar, caps) in group.versioned_resources(version) {
                    catalog.insert(ar, &caps, false);
                }
            }
            for (ar, caps) in group.recommended_resources() {
                catalog.insert(ar, &caps, true);
            }
        }
        Ok(catalog)
    }

    fn insert(&mut self, ar: ApiResource, caps: &ApiCapabilities, preferred: bool) {
        let kind = ApiKind {
            namespaced: caps.scope == Scope::Namespaced,
            watchable: caps.supports_operation("watch"),
            resource: ar,
        };
        let gk = GroupKind::new(kind.resource.group.clone(), kind.resource.kind.clone());
        if preferred {
            self.preferred.insert(gk, kind);
        } else {
            self.by_gvk.insert(
                (
                    kind.resource.group.clone(),
                    kind.resource.version.clone(),
                    kind.resource.kind.clone(),
                ),
                kind,
            );
        }
    }

    /// Builds a catalog from explicit entries (tests, and callers that already know the kinds).
    pub fn from_kinds(kinds: impl IntoIterator<Item = ApiKind>) -> Self {
        let mut catalog = ApiCatalog::default();
        for k in kinds {
            let gk = GroupKind::new(k.resource.group.clone(), k.resource.kind.clone());
            catalog.preferred.entry(gk).or_insert_with(|| k.clone());
            catalog.by_gvk.insert(
                (
                    k.resource.group.clone(),
                    k.resource.version.clone(),
                    k.resource.kind.clone(),
                ),
                k,
            );
        }
        catalog
    }

    /// The kind an object's `apiVersion` and `kind` name, at exactly that version.
    pub fn resolve(&self, api_version: &str, kind: &str) -> Option<&ApiKind> {
        let (group, version) = split_api_version(api_version);
        self.by_gvk
            .get(&(group.to_string(), version.to_string(), kind.to_string()))
    }

    /// The server's preferred version of a group/kind.
    pub fn preferred(&self, gk: &GroupKind) -> Option<&ApiKind> {
        self.preferred.get(gk)
    }

    /// Whether the group/kind is namespaced; `None` when the cluster does not serve it.
    pub fn is_namespaced(&self, gk: &GroupKind) -> Option<bool> {
        self.preferred.get(gk).map(|k| k.namespaced)
    }

    /// Every preferred kind the cluster serves.
    pub fn kinds(&self) -> impl Iterator<Item = &ApiKind> {
        self.preferred.values()
    }

    /// Builds the kube `ApiResource` for a group/version/kind, whether or not it is served.
    pub fn api_resource(gvk: &GroupVersionKind, plural: &str) -> ApiResource {
        ApiResource::from_gvk_with_plural(gvk, plural)
    }
}

impl ServedKinds for ApiCatalog {
    fn namespaced_at(&self, api_version: &str, kind: &str) -> Option<bool> {
        self.resolve(api_version, kind).map(|k| k.namespaced)
    }
    fn namespaced(&self, gk: &GroupKind) -> Option<bool> {
        self.is_namespaced(gk)
    }
}
