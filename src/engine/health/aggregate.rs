//! An app's health: the worst health among the resources it manages directly.

use crate::engine::json::JsonPath;
use serde_json::Value;

use crate::engine::diff::resource_title;
use crate::model::{Health, HealthStatus, ResourceKey};

/// How many causes an app's health message names before "and N more".
const MAX_CAUSES: usize = 3;

/// One managed resource as app health sees it.
#[derive(Debug, Clone, Copy)]
pub struct ManagedHealth<'a> {
    /// Which resource.
    pub key: &'a ResourceKey,
    /// Its health (from [`super::assess`] on the live object); `None` for kinds without one.
    pub health: Option<&'a HealthStatus>,
    /// Whether it exists in the cluster.
    pub live: bool,
    /// Left out of app health: hooks, `argocd.argoproj.io/ignore-healthcheck: "true"`, the app
    /// itself (see [`excluded_from_app_health`]).
    pub excluded: bool,
}

/// Whether an object is a sync hook (Argo CD or Helm annotation).
pub fn is_hook(obj: &Value) -> bool {
    let annotations = obj.at("/metadata/annotations");
    ["argocd.argoproj.io/hook", "helm.sh/hook"].iter().any(|k| {
        annotations
            .and_then(|a| a.get(*k))
            .and_then(Value::as_str)
            .is_some_and(|v| !v.trim().is_empty())
    })
}

/// Whether an object stays out of its app's health: hooks and objects annotated
/// `argocd.argoproj.io/ignore-healthcheck: "true"`.
pub fn excluded_from_app_health(obj: &Value) -> bool {
    is_hook(obj)
        || obj
            .at("/metadata/annotations")
            .and_then(|a| a.get("argocd.argoproj.io/ignore-healthcheck"))
            .and_then(Value::as_str)
            == Some("true")
}

/// Argo CD's app health: the worst health of the directly managed resources that exist in the
/// cluster (children never count; excluded resources, resources missing from the cluster, and
/// child Applications that are Missing or Unknown are skipped). Missing when there are managed
/// resources and none exists. The message names up to three resources with the worst health:
/// `apps/Deployment shop/web: <why>; … and 2 more`.
pub fn app_health<'a>(resources: impl IntoIterator<Item = ManagedHealth<'a>>) -> HealthStatus {
    let mut counted = 0usize;
    let mut any_live = false;
    let mut assessed: Vec<(&ResourceKey, &HealthStatus)> = Vec::new();
    for r in resources.into_iter().filter(|r| !r.excluded) {
        counted += 1;
        if !r.live {
            continue;
        }
        any_live = true;
        let Some(h) = r.health else {
            continue;
        };
        let child_app = r.key.group == "argoproj.io" && r.key.kind == "Application";
        if child_app && matches!(h.status, Health::Missing | Health::Unknown) {
            continue;
        }
        assessed.push((r.key, h));
    }
    if counted > 0 && !any_live {
        let noun = if counted == 1 {
            "resource"
        } else {
            "resources"
        };
        return HealthStatus::new(
            Health::Missing,
            format!("None of the {counted} managed {noun} exists in the cluster"),
        );
    }
    let Some(worst) = assessed.iter().map(|(_, h)| h.status).max() else {
        return HealthStatus::new(Health::Healthy, "");
    };
    if worst == Health::Healthy {
        return HealthStatus::new(Health::Healthy, "");
    }
    let mut causes: Vec<&(&ResourceKey, &HealthStatus)> =
        assessed.iter().filter(|(_, h)| h.status == worst).collect();
    causes.sort_by(|a, b| a.0.cmp(b.0));
    let mut message = causes
        .iter()
        .take(MAX_CAUSES)
        .map(|(key, h)| {
            if h.message.is_empty() {
                resource_title(key)
            } else {
                format!("{}: {}", resource_title(key), h.message)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    if causes.len() > MAX_CAUSES {
        message.push_str(&format!(" and {} more", causes.len() - MAX_CAUSES));
    }
    HealthStatus::new(worst, message)
}
