//! Argo CD and Flux side by side with rekon's own apps. Imports `engine`, `source`, `yaml`
//! and `model`; the engine never imports it.
//!
//! Objects reconciled by Argo CD (Applications) and by Flux (Kustomizations, HelmReleases)
//! are *observed*: rekon reads their status as their controllers wrote it, shows their
//! topology, diffs them with its own renderer, and drives them the way `argocd` and `flux`
//! do (an `operation` field, a refresh annotation, `reconcile.fluxcd.io/requestedAt`,
//! `spec.suspend`), never by applying their objects itself.
//!
//! Everything here is pure (status mapping, patches, graph, generators, project rules),
//! except [`crds::install`] and [`notify`], which talk to a cluster or a webhook. The engine
//! side (watches, followers of running actions) lives in `runtime/observed.rs`.
//!
//! On the command line observed apps are named `argocd:NAMESPACE/NAME`,
//! `flux-ks:NAMESPACE/NAME` and `flux-hr:NAMESPACE/NAME`; `@CLUSTER` may follow to pick one
//! when several clusters hold an object of that name.

pub mod appset;
pub mod argocd;
pub mod crds;
pub mod flux;
pub mod flux_graph;
pub mod images;
pub mod notify;
pub mod project;

use std::fmt;

use serde_json::Value;

use crate::model::{AppSnapshot, GroupKind, ManagedBy};

/// Field manager of every write rekon makes to an observed object (never `kubectl`, whose
/// fields Flux's kustomize-controller strips).
pub const FIELD_MANAGER: &str = "rekon";

/// A kind of observed app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObservedKind {
    /// `argoproj.io/Application`.
    ArgoApplication,
    /// `kustomize.toolkit.fluxcd.io/Kustomization`.
    FluxKustomization,
    /// `helm.toolkit.fluxcd.io/HelmRelease`.
    FluxHelmRelease,
}

impl ObservedKind {
    /// Every observed kind.
    pub const ALL: [ObservedKind; 3] = [
        ObservedKind::ArgoApplication,
        ObservedKind::FluxKustomization,
        ObservedKind::FluxHelmRelease,
    ];

    /// The command-line prefix: `argocd`, `flux-ks` or `flux-hr`.
    pub fn prefix(self) -> &'static str {
        match self {
            ObservedKind::ArgoApplication => "argocd",
            ObservedKind::FluxKustomization => "flux-ks",
            ObservedKind::FluxHelmRelease => "flux-hr",
        }
    }

    /// The Kubernetes group and kind.
    pub fn group_kind(self) -> GroupKind {
        match self {
            ObservedKind::ArgoApplication => GroupKind::new(argocd::GROUP, "Application"),
            ObservedKind::FluxKustomization => {
                GroupKind::new(flux::KUSTOMIZE_GROUP, "Kustomization")
            }
            ObservedKind::FluxHelmRelease => GroupKind::new(flux::HELM_GROUP, "HelmRelease"),
        }
    }

    /// Who reconciles it.
    pub fn managed_by(self) -> ManagedBy {
        match self {
            ObservedKind::ArgoApplication => ManagedBy::Argocd,
            _ => ManagedBy::Flux,
        }
    }

    /// The observed kind of a group/kind, if it is one.
    pub fn of(group: &str, kind: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.group_kind().group == group && k.group_kind().kind == kind)
    }

    /// The observed kind of a published app; `None` for rekon's own apps.
    pub fn of_snapshot(app: &AppSnapshot) -> Option<Self> {
        Self::of_managed(app.managed_by, &app.kind)
    }

    /// The kind of an app reconciled by `managed_by`, if it is an observed one.
    pub fn of_managed(managed_by: ManagedBy, kind: &str) -> Option<Self> {
        match managed_by {
            ManagedBy::Rekon => None,
            ManagedBy::Argocd => Some(ObservedKind::ArgoApplication),
            ManagedBy::Flux if kind == "HelmRelease" => Some(ObservedKind::FluxHelmRelease),
            ManagedBy::Flux => Some(ObservedKind::FluxKustomization),
        }
    }

    /// The kind of an object, if it is an observed app.
    pub fn of_object(obj: &Value) -> Option<Self> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let kind = obj.get("kind")?.as_str()?;
        Self::of(crate::model::split_api_version(api_version).0, kind)
    }
}

/// A name of an observed app as the command line writes it: `flux-ks:NAMESPACE/NAME`,
/// optionally `@CLUSTER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObservedRef {
    /// Which kind.
    pub kind: ObservedKind,
    /// Namespace of the object.
    pub namespace: String,
    /// Name of the object.
    pub name: String,
    /// The cluster, when the name says.
    pub cluster: Option<String>,
}

impl ObservedRef {
    /// Parses `PREFIX:NAMESPACE/NAME[@CLUSTER]`; `None` when the text has no known prefix
    /// (it then names one of rekon's own apps).
    pub fn parse(text: &str) -> Option<Self> {
        let (prefix, rest) = text.split_once(':')?;
        let kind = ObservedKind::ALL
            .into_iter()
            .find(|k| k.prefix() == prefix)?;
        let (object, cluster) = match rest.rsplit_once('@') {
            Some((o, c)) if !c.is_empty() => (o, Some(c.to_string())),
            _ => (rest, None),
        };
        let (namespace, name) = object.split_once('/')?;
        if namespace.is_empty() || name.is_empty() {
            return None;
        }
        Some(ObservedRef {
            kind,
            namespace: namespace.to_string(),
            name: name.to_string(),
            cluster,
        })
    }

    /// Whether a published app is the one this name means.
    pub fn matches(&self, app: &AppSnapshot) -> bool {
        ObservedKind::of_snapshot(app) == Some(self.kind)
            && app.namespace == self.namespace
            && app.name == self.name
            && self.cluster.as_deref().is_none_or(|c| c == app.cluster)
    }
}

impl fmt::Display for ObservedRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.kind.prefix(), self.namespace, self.name)?;
        if let Some(c) = &self.cluster {
            write!(f, "@{c}")?;
        }
        Ok(())
    }
}

/// The name commands take for a published app: `NAMESPACE/NAME` for rekon's own apps,
/// `argocd:NAMESPACE/NAME`, `flux-ks:…` or `flux-hr:…` for observed ones.
pub fn app_ref(app: &AppSnapshot) -> String {
    match ObservedKind::of_snapshot(app) {
        Some(kind) => format!("{}:{}/{}", kind.prefix(), app.namespace, app.name),
        None => app.qualified_name(),
    }
}

/// [`app_ref`] with `@CLUSTER` for observed apps: unambiguous across clusters.
pub fn app_ref_in_cluster(app: &AppSnapshot) -> String {
    engine_name(
        app.managed_by,
        &app.kind,
        &app.namespace,
        &app.name,
        &app.cluster,
    )
}

/// The name the engine knows an app by: `NS/NAME` for rekon's own apps,
/// `PREFIX:NS/NAME@CLUSTER` for observed ones.
pub fn engine_name(
    managed_by: ManagedBy,
    kind: &str,
    namespace: &str,
    name: &str,
    cluster: &str,
) -> String {
    match ObservedKind::of_managed(managed_by, kind) {
        Some(k) => format!("{}:{namespace}/{name}@{cluster}", k.prefix()),
        None => format!("{namespace}/{name}"),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn engine_names_carry_prefix_and_cluster_for_observed_apps_only() {
        use crate::model::ManagedBy;
        assert_eq!(
            engine_name(ManagedBy::Rekon, "Application", "argocd", "web", "c"),
            "argocd/web"
        );
        assert_eq!(
            engine_name(ManagedBy::Argocd, "Application", "argocd", "web", "prod"),
            "argocd:argocd/web@prod"
        );
        assert_eq!(
            engine_name(
                ManagedBy::Flux,
                "HelmRelease",
                "flux-system",
                "redis",
                "staging"
            ),
            "flux-hr:flux-system/redis@staging"
        );
        assert_eq!(
            engine_name(
                ManagedBy::Flux,
                "Kustomization",
                "flux-system",
                "apps",
                "staging"
            ),
            "flux-ks:flux-system/apps@staging"
        );
    }

    use super::*;

    #[test]
    fn parses_observed_names() {
        let r = ObservedRef::parse("flux-ks:flux-system/apps@prod").unwrap();
        assert_eq!(r.kind, ObservedKind::FluxKustomization);
        assert_eq!(
            (r.namespace.as_str(), r.name.as_str()),
            ("flux-system", "apps")
        );
        assert_eq!(r.cluster.as_deref(), Some("prod"));
        assert_eq!(r.to_string(), "flux-ks:flux-system/apps@prod");
        let r = ObservedRef::parse("argocd:argocd/guestbook").unwrap();
        assert_eq!(r.kind, ObservedKind::ArgoApplication);
        assert_eq!(r.cluster, None);
        assert!(ObservedRef::parse("argocd/guestbook").is_none());
        assert!(ObservedRef::parse("helm:x/y").is_none());
        assert!(ObservedRef::parse("flux-hr:/y").is_none());
    }
}
