//! What an object's annotations ask of a sync: hook phases (Argo CD's and Helm's), the
//! hook delete policy, the sync wave and per-object sync options.

use serde_json::Value;

use crate::model::SyncPhase;

/// Argo CD's hook annotation.
pub const HOOK: &str = "argocd.argoproj.io/hook";
/// Argo CD's hook delete policy annotation.
pub const HOOK_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
/// Argo CD's sync wave annotation.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// Argo CD's per-object sync options annotation.
pub const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
/// Helm's hook annotation.
pub const HELM_HOOK: &str = "helm.sh/hook";
/// Helm's hook weight annotation (the wave when no sync-wave is set).
pub const HELM_HOOK_WEIGHT: &str = "helm.sh/hook-weight";
/// Helm's hook delete policy annotation.
pub const HELM_HOOK_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";

/// When a hook object is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeletePolicy {
    /// Delete the previous copy before creating it again (the default).
    BeforeHookCreation,
    /// Delete it once it succeeded.
    HookSucceeded,
    /// Delete it once it failed.
    HookFailed,
}

/// How an object takes part in a sync, from its annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookRole {
    /// An ordinary resource, applied in the Sync phase.
    Resource,
    /// A hook, run in each of these phases (deduplicated, in phase order).
    Hook {
        /// Phases it runs in.
        phases: Vec<SyncPhase>,
        /// When it is deleted.
        delete_policies: Vec<DeletePolicy>,
    },
    /// `argocd.argoproj.io/hook: Skip`: never applied.
    Skip,
    /// A hook of a kind syncs do not run (PreDelete, PostDelete, Helm's `test` …), with the
    /// annotation value for the message.
    Unsupported(String),
}

/// An annotation's value, trimmed; `None` when absent or blank.
fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    crate::engine::json::annotation(obj, key)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// The hook role of an object. Argo CD's annotation wins over Helm's; Helm's hooks map as
/// Argo CD maps them (pre-install/pre-upgrade → PreSync, post-install/post-upgrade →
/// PostSync).
pub fn hook_role(obj: &Value) -> HookRole {
    if let Some(value) = annotation(obj, HOOK) {
        let mut phases = Vec::new();
        let mut skip = false;
        for word in list(value) {
            match word {
                "PreSync" => phases.push(SyncPhase::PreSync),
                "Sync" => phases.push(SyncPhase::Sync),
                "PostSync" => phases.push(SyncPhase::PostSync),
                "SyncFail" => phases.push(SyncPhase::SyncFail),
                "Skip" => skip = true,
                _ => {}
            }
        }
        if skip {
            return HookRole::Skip;
        }
        if phases.is_empty() {
            return HookRole::Unsupported(value.to_string());
        }
        return hook(phases, obj, HOOK_DELETE_POLICY);
    }
    if let Some(value) = annotation(obj, HELM_HOOK) {
        let mut phases = Vec::new();
        for word in list(value) {
            match word {
                "pre-install" | "pre-upgrade" => phases.push(SyncPhase::PreSync),
                "post-install" | "post-upgrade" => phases.push(SyncPhase::PostSync),
                _ => {}
            }
        }
        if phases.is_empty() {
            return HookRole::Unsupported(value.to_string());
        }
        // Argo CD's delete policy annotation applies to Helm hooks too, and wins.
        let policy_key = if annotation(obj, HOOK_DELETE_POLICY).is_some() {
            HOOK_DELETE_POLICY
        } else {
            HELM_HOOK_DELETE_POLICY
        };
        return hook(phases, obj, policy_key);
    }
    HookRole::Resource
}

fn hook(mut phases: Vec<SyncPhase>, obj: &Value, policy_key: &str) -> HookRole {
    phases.sort();
    phases.dedup();
    let mut delete_policies: Vec<DeletePolicy> = annotation(obj, policy_key)
        .map(|v| {
            list(v)
                .filter_map(|w| match w {
                    "BeforeHookCreation" | "before-hook-creation" => {
                        Some(DeletePolicy::BeforeHookCreation)
                    }
                    "HookSucceeded" | "hook-succeeded" => Some(DeletePolicy::HookSucceeded),
                    "HookFailed" | "hook-failed" => Some(DeletePolicy::HookFailed),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if delete_policies.is_empty() {
        delete_policies.push(DeletePolicy::BeforeHookCreation);
    }
    delete_policies.sort();
    delete_policies.dedup();
    HookRole::Hook {
        phases,
        delete_policies,
    }
}

/// The object's sync wave: `argocd.argoproj.io/sync-wave`, else Helm's hook weight on Helm
/// hooks, else 0. A value that is not an integer counts as 0, as in Argo CD.
pub fn wave(obj: &Value) -> i32 {
    if let Some(v) = annotation(obj, SYNC_WAVE) {
        return v.parse().unwrap_or(0);
    }
    if annotation(obj, HELM_HOOK).is_some()
        && let Some(v) = annotation(obj, HELM_HOOK_WEIGHT)
    {
        return v.parse().unwrap_or(0);
    }
    0
}

/// The `Name=value` sync options an object sets on itself.
pub fn object_options(obj: &Value) -> Vec<(String, String)> {
    annotation(obj, SYNC_OPTIONS)
        .map(|v| parse_options(list(v)))
        .unwrap_or_default()
}

/// Parses `Name=value` option words; words without `=` are dropped.
pub fn parse_options<'a>(words: impl IntoIterator<Item = &'a str>) -> Vec<(String, String)> {
    words
        .into_iter()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Sync options as they apply to one object: the app's `syncPolicy.syncOptions`, overridden
/// by the object's own annotation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectOptions {
    /// `Prune=false`: never deleted by a prune.
    pub no_prune: bool,
    /// `PruneLast=true`: pruned after every Sync wave.
    pub prune_last: bool,
    /// `Replace=true`: written with create/replace instead of apply.
    pub replace: bool,
    /// `ServerSideApply=false` was asked for (rekon applies server-side regardless).
    pub client_side_asked: bool,
    /// `Validate=false`: the server ignores unknown fields.
    pub no_validate: bool,
    /// `ApplyOutOfSyncOnly=true`: objects already in sync are left alone.
    pub out_of_sync_only: bool,
    /// `PrunePropagationPolicy=…`: foreground (default), background or orphan.
    pub propagation: Propagation,
    /// `SkipDryRunOnMissingResource=true`: a kind the cluster does not serve yet is not
    /// dry-run before the sync.
    pub skip_dry_run_on_missing: bool,
}

/// How a prune's deletion treats the object's dependents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// Dependents first, then the object (Argo CD's default for prunes).
    #[default]
    Foreground,
    /// The object now, dependents by the garbage collector.
    Background,
    /// Dependents are left behind.
    Orphan,
}

impl ObjectOptions {
    /// Combines app-level options with the object's (the object's win).
    pub fn resolve(app: &[(String, String)], object: &[(String, String)]) -> Self {
        let mut out = ObjectOptions::default();
        for (k, v) in app.iter().chain(object) {
            let on = v.eq_ignore_ascii_case("true");
            match k.as_str() {
                "Prune" => out.no_prune = v.eq_ignore_ascii_case("false"),
                "PruneLast" => out.prune_last = on,
                "Replace" => out.replace = on,
                "ServerSideApply" => out.client_side_asked = v.eq_ignore_ascii_case("false"),
                "Validate" => out.no_validate = v.eq_ignore_ascii_case("false"),
                "ApplyOutOfSyncOnly" => out.out_of_sync_only = on,
                "SkipDryRunOnMissingResource" => out.skip_dry_run_on_missing = on,
                "PrunePropagationPolicy" => {
                    out.propagation = match v.to_ascii_lowercase().as_str() {
                        "background" => Propagation::Background,
                        "orphan" => Propagation::Orphan,
                        _ => Propagation::Foreground,
                    }
                }
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(annotations: Value) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "annotations": annotations}})
    }

    #[test]
    fn argo_hooks_with_several_phases_and_policies() {
        let o = obj(
            json!({HOOK: "PostSync, PreSync", HOOK_DELETE_POLICY: "HookSucceeded,BeforeHookCreation"}),
        );
        assert_eq!(
            hook_role(&o),
            HookRole::Hook {
                phases: vec![SyncPhase::PreSync, SyncPhase::PostSync],
                delete_policies: vec![
                    DeletePolicy::BeforeHookCreation,
                    DeletePolicy::HookSucceeded
                ],
            }
        );
    }

    #[test]
    fn delete_policy_defaults_to_before_hook_creation() {
        let o = obj(json!({HOOK: "SyncFail"}));
        assert_eq!(
            hook_role(&o),
            HookRole::Hook {
                phases: vec![SyncPhase::SyncFail],
                delete_policies: vec![DeletePolicy::BeforeHookCreation],
            }
        );
    }

    #[test]
    fn helm_hooks_map_as_argo_cd_maps_them() {
        let pre = obj(
            json!({HELM_HOOK: "pre-install,pre-upgrade", HELM_HOOK_WEIGHT: "-5",
            HELM_HOOK_DELETE_POLICY: "hook-succeeded"}),
        );
        assert_eq!(
            hook_role(&pre),
            HookRole::Hook {
                phases: vec![SyncPhase::PreSync],
                delete_policies: vec![DeletePolicy::HookSucceeded],
            }
        );
        assert_eq!(wave(&pre), -5);
        let post = obj(json!({HELM_HOOK: "post-upgrade"}));
        assert!(
            matches!(hook_role(&post), HookRole::Hook { phases, .. } if phases == [SyncPhase::PostSync])
        );
        assert_eq!(
            hook_role(&obj(json!({HELM_HOOK: "test"}))),
            HookRole::Unsupported("test".into())
        );
    }

    #[test]
    fn argo_annotation_wins_over_helm() {
        let o = obj(
            json!({HOOK: "Sync", HELM_HOOK: "pre-install", SYNC_WAVE: "3", HELM_HOOK_WEIGHT: "9"}),
        );
        assert!(
            matches!(hook_role(&o), HookRole::Hook { phases, .. } if phases == [SyncPhase::Sync])
        );
        assert_eq!(wave(&o), 3);
    }

    #[test]
    fn skip_and_delete_hooks() {
        assert_eq!(hook_role(&obj(json!({HOOK: "Skip"}))), HookRole::Skip);
        assert_eq!(
            hook_role(&obj(json!({HOOK: "PreDelete"}))),
            HookRole::Unsupported("PreDelete".into())
        );
        assert_eq!(hook_role(&obj(json!({}))), HookRole::Resource);
    }

    #[test]
    fn waves_default_to_zero_and_ignore_helm_weight_on_plain_objects() {
        assert_eq!(wave(&obj(json!({}))), 0);
        assert_eq!(wave(&obj(json!({SYNC_WAVE: "-2"}))), -2);
        assert_eq!(wave(&obj(json!({SYNC_WAVE: "soon"}))), 0);
        assert_eq!(wave(&obj(json!({HELM_HOOK_WEIGHT: "4"}))), 0);
    }

    #[test]
    fn object_options_override_app_options() {
        let app = parse_options(["PruneLast=true", "Validate=false", "Replace=true"]);
        let o =
            obj(json!({SYNC_OPTIONS: "Prune=false, Replace=false,PrunePropagationPolicy=orphan"}));
        let opts = ObjectOptions::resolve(&app, &object_options(&o));
        assert!(opts.no_prune && opts.prune_last && opts.no_validate);
        assert!(!opts.replace);
        assert_eq!(opts.propagation, Propagation::Orphan);
        assert_eq!(
            ObjectOptions::resolve(&[], &[]).propagation,
            Propagation::Foreground
        );
    }
}
