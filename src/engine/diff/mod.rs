//! Desired against live, per resource: the compare pipeline (normalize, ignoreDifferences,
//! Secret masking) ending in two YAML texts with keys in a stable order, and the forms that
//! show them: unified text, JSON, and side-by-side rows (in [`side`]).
//!
//! Direction: live is the old side and desired the new one, as `kubectl diff` and `argocd app
//! diff` show it: `-` lines (left column) are what the cluster runs, `+` lines (right column)
//! what a sync would make it.

pub mod side;

use serde_json::{Map, Value};
use similar::{Algorithm, TextDiff};
use std::cmp::Ordering;

use super::ignore::apply_ignore_differences;
use super::mask::mask_secrets_with;
use super::normalize::{CompareMethod, normalize_pair};
pub use crate::model::ResourceDiff;
use crate::model::{IgnoreDifference, ResourceKey};
use crate::yaml;

pub use side::{Cell, DisplayLine, Fold, Row, RowKind, SideBySide, render_side_by_side};

/// Lines of context around changes, in unified output and around folds.
pub const DEFAULT_CONTEXT: usize = 3;

/// What the compare step needs besides the two objects.
#[derive(Debug, Clone, Copy)]
pub struct CompareOptions<'a> {
    /// Whether `desired` is a dry-run prediction or the rendered manifest.
    pub method: CompareMethod,
    /// The app's `spec.ignoreDifferences`.
    pub app_ignore: &'a [IgnoreDifference],
    /// Ignore rules from config, per kind or for all kinds.
    pub config_ignore: &'a [IgnoreDifference],
    /// Annotations whose values are masked on any kind, as Secret data is.
    pub sensitive_annotations: &'a [String],
}

impl<'a> CompareOptions<'a> {
    /// Options with no ignore rules and no extra masked annotations.
    pub fn new(method: CompareMethod) -> Self {
        Self {
            method,
            app_ignore: &[],
            config_ignore: &[],
            sensitive_annotations: &[],
        }
    }
}

/// Runs the whole compare step for one resource: normalize both sides for the method, remove
/// ignored fields (managed fields are read from the raw `live`), mask Secrets, and render
/// both sides as YAML. Nothing unmasked leaves this function.
pub fn compare_resource(
    key: ResourceKey,
    desired: Option<&Value>,
    live: Option<&Value>,
    options: &CompareOptions<'_>,
) -> ResourceDiff {
    let managed_fields = live.and_then(|l| l.pointer("/metadata/managedFields"));
    let mut pair = normalize_pair(desired, live, options.method);
    apply_ignore_differences(
        options.app_ignore.iter().chain(options.config_ignore),
        &key,
        managed_fields,
        pair.desired.as_mut(),
        pair.live.as_mut(),
    );
    mask_secrets_with(
        pair.desired.as_mut(),
        pair.live.as_mut(),
        options.sensitive_annotations,
    );
    let desired = pair.desired.as_ref().map(to_stable_yaml);
    let live = pair.live.as_ref().map(to_stable_yaml);
    let changed = desired != live;
    ResourceDiff {
        key,
        desired,
        live,
        changed,
    }
}

/// YAML with keys in a stable order: `apiVersion`, `kind`, `metadata`, `spec`, then the rest
/// sorted at the top; `name` and `namespace` first, then sorted, everywhere else.
pub fn to_stable_yaml(obj: &Value) -> String {
    yaml::to_string(&ordered(obj, true))
}

fn ordered(v: &Value, top_level: bool) -> Value {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| compare_keys(top_level, a, b));
            let mut out = Map::with_capacity(map.len());
            for k in keys {
                out.insert(k.clone(), ordered(&map[k], false));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| ordered(i, false)).collect()),
        other => other.clone(),
    }
}

fn compare_keys(top_level: bool, a: &str, b: &str) -> Ordering {
    let rank = |k: &str| -> usize {
        match (top_level, k) {
            (true, "apiVersion") => 0,
            (true, "kind") => 1,
            (true, "metadata") => 2,
            (true, "spec") => 3,
            (true, _) => 4,
            (false, "name") => 0,
            (false, "namespace") => 1,
            (false, _) => 2,
        }
    };
    rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
}

/// `apps/Deployment shop/web`; the core group and cluster scope leave their part out
/// (`Namespace shop`).
pub fn resource_title(key: &ResourceKey) -> String {
    let kind = if key.group.is_empty() {
        key.kind.clone()
    } else {
        format!("{}/{}", key.group, key.kind)
    };
    if key.namespace.is_empty() {
        format!("{kind} {}", key.name)
    } else {
        format!("{kind} {}/{}", key.namespace, key.name)
    }
}

/// The header line that opens each resource in text output (Argo CD's style).
pub fn resource_header(key: &ResourceKey) -> String {
    format!("===== {} ======", resource_title(key))
}

fn side_labels(diff: &ResourceDiff) -> (&'static str, &'static str) {
    let live = if diff.live.is_some() {
        "live"
    } else {
        "live (not in the cluster)"
    };
    let desired = if diff.desired.is_some() {
        "desired"
    } else {
        "desired (not in Git)"
    };
    (live, desired)
}

/// A `diff -u` of one resource (live → desired) with `context` lines, without the resource
/// header; `None` when nothing changed.
pub fn unified(diff: &ResourceDiff, context: usize) -> Option<String> {
    if !diff.changed {
        return None;
    }
    let old = diff.live.as_deref().unwrap_or("");
    let new = diff.desired.as_deref().unwrap_or("");
    let text_diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_lines(old, new);
    let (a, b) = side_labels(diff);
    Some(
        text_diff
            .unified_diff()
            .context_radius(context)
            .header(a, b)
            .to_string(),
    )
}

/// Unified text for a set of resources: a header per changed resource, then its hunks.
/// Unchanged resources are left out.
pub fn render_unified(diffs: &[ResourceDiff], context: usize) -> String {
    let mut out = String::new();
    for diff in diffs {
        if let Some(body) = unified(diff, context) {
            out.push_str(&resource_header(&diff.key));
            out.push('\n');
            out.push_str(&body);
        }
    }
    out
}

/// The JSON form (`rekon diff -o json`): an array with one entry per changed resource:
/// `{group, kind, namespace, name, desired, live, diff}`, `diff` being the unified text.
pub fn to_json(diffs: &[ResourceDiff], context: usize) -> Value {
    Value::Array(
        diffs
            .iter()
            .filter(|d| d.changed)
            .map(|d| {
                serde_json::json!({
                    "group": d.key.group,
                    "kind": d.key.kind,
                    "namespace": d.key.namespace,
                    "name": d.key.name,
                    "desired": d.desired,
                    "live": d.live,
                    "diff": unified(d, context),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests;
