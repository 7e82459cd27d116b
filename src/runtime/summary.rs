//! From an app's latest inputs (Git, cluster, comparison) to the summary the views read:
//! per-resource sync and health, the app's sync and health, its tree and its diffs.

use crate::engine::json::JsonPath;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use jiff::Timestamp;

use crate::cluster::{LiveObject, LiveStore};
use crate::engine::compare::ResourceOutcome;
use crate::engine::desired::DesiredObject;
use crate::engine::health::{self, ManagedHealth, excluded_from_app_health};
use crate::engine::normalize::CompareMethod;
use crate::engine::tree::{AppRoot, LiveIndex, ManagedResource, build_tree};
use crate::model::{
    AppCondition, AppDetail, AppSnapshot, Application, Health, HealthStatus, ManagedBy,
    ResourceKey, ResourceStatus, SyncStatus,
};
use crate::source::{Rendered, SourceError};

/// Everything a summary is computed from.
pub struct SummaryInput<'a> {
    /// The Application.
    pub app: &'a Application,
    /// The cluster's display name.
    pub cluster: &'a str,
    /// Why the cluster cannot be used, if it cannot.
    pub cluster_problem: Option<&'a str>,
    /// The last render, if any finished.
    pub rendered: Option<&'a Result<Rendered, SourceError>>,
    /// Desired objects prepared for the cluster.
    pub desired: Option<&'a [DesiredObject]>,
    /// The last comparison.
    pub outcomes: Option<&'a [ResourceOutcome]>,
    /// The cluster's live objects.
    pub store: Option<&'a LiveStore>,
    /// For ages in the tree.
    pub now: Timestamp,
}

/// A row for an app whose first render has not finished.
pub fn pending(app: &Application, cluster: &str) -> AppSnapshot {
    base(app, cluster, None, "comparing…".into())
}

fn base(
    app: &Application,
    cluster: &str,
    revision: Option<String>,
    message: String,
) -> AppSnapshot {
    let source = &app.spec.source;
    AppSnapshot {
        name: app.metadata.name.clone(),
        namespace: app.namespace().to_string(),
        managed_by: ManagedBy::Rekon,
        kind: "Application".into(),
        cluster: cluster.to_string(),
        destination_namespace: app.spec.destination.namespace.clone().unwrap_or_default(),
        // Snapshots reach the screen, JSON output and notifications: never credentials.
        repo_url: crate::source::display_url(&source.repo_url),
        path: source.path().to_string(),
        target_revision: source.revision().to_string(),
        revision,
        sync: SyncStatus::Unknown,
        health: Health::Unknown,
        message,
        auto_sync: app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.automated.as_ref())
            .is_some_and(|a| a.enabled),
        last_sync: None,
        resources: Default::default(),
        operation: None,
        origin: Default::default(),
        detail: None,
    }
}

/// Computes the app's summary. An app that cannot be compared (bad source, unknown
/// cluster) is Unknown with a ComparisonError naming the culprit.
pub fn summarize(input: &SummaryInput<'_>) -> AppSnapshot {
    let mut snap = summarize_state(input);
    if let Some(Ok(r)) = input.rendered {
        snap.origin = r.origin.clone();
    }
    snap
}

fn summarize_state(input: &SummaryInput<'_>) -> AppSnapshot {
    let app = input.app;
    let revision = match input.rendered {
        Some(Ok(r)) => Some(r.commit.clone()),
        _ => None,
    };
    let error = |message: String| {
        let mut snap = base(app, input.cluster, revision.clone(), message.clone());
        snap.detail = Some(Arc::new(AppDetail {
            tree: build_tree(&root(app, None, None), &[], &EmptyIndex, input.now),
            diffs: Vec::new(),
            compare_method: String::new(),
            conditions: vec![AppCondition {
                kind: "ComparisonError".into(),
                message,
            }],
            history: Vec::new(),
            timeline: Vec::new(),
        }));
        snap
    };
    // A broken source is the app's own fault: say so even while the cluster is away.
    if let Some(Err(e)) = input.rendered {
        return error(e.to_string());
    }
    if let Some(problem) = input.cluster_problem {
        return error(problem.to_string());
    }
    if input.rendered.is_none() {
        return pending(app, input.cluster);
    }
    let (Some(desired), Some(outcomes), Some(store)) = (input.desired, input.outcomes, input.store)
    else {
        let mut snap = pending(app, input.cluster);
        snap.revision = revision;
        return snap;
    };

    let mut resources = Vec::with_capacity(outcomes.len());
    let mut managed_health = Vec::with_capacity(outcomes.len());
    let mut managed = Vec::with_capacity(outcomes.len());
    let mut methods = (false, false);
    let mut conditions = Vec::new();
    for o in outcomes {
        let live = store.get(&o.key).map(LiveObject::value);
        let health = live.as_deref().and_then(health::assess);
        let health = match (&live, &health) {
            (None, _) if !o.requires_pruning => Some(HealthStatus::new(Health::Missing, "")),
            _ => health,
        };
        let excluded = live.as_deref().is_some_and(excluded_from_app_health);
        managed_health.push((o.key.clone(), health.clone(), live.clone(), excluded));
        match o.method {
            Some(CompareMethod::ServerSideDryRun) => methods.0 = true,
            Some(CompareMethod::GitFieldsOnly) => methods.1 = true,
            None => {}
        }
        if o.sync == SyncStatus::Unknown {
            conditions.push(AppCondition {
                kind: "ComparisonError".into(),
                message: format!("{}: {}", o.key, o.message),
            });
        }
        let message = match (&health, o.sync) {
            (Some(h), SyncStatus::Synced) if !h.message.is_empty() => h.message.clone(),
            _ if !o.message.is_empty() => o.message.clone(),
            (Some(h), _) => h.message.clone(),
            _ => String::new(),
        };
        resources.push(ResourceStatus {
            group: o.key.group.clone(),
            version: o.version.clone(),
            kind: o.key.kind.clone(),
            namespace: o.key.namespace.clone(),
            name: o.key.name.clone(),
            sync: o.sync,
            health: health.map(|h| h.status),
            message,
            requires_pruning: o.requires_pruning,
        });
        managed.push(ManagedResource {
            key: o.key.clone(),
            version: o.version.clone(),
            sync: Some(o.sync),
        });
    }
    // Hooks are listed in the tree when live, but never counted.
    for d in desired.iter().filter(|d| d.hook) {
        if store.get(&d.key).is_some() {
            managed.push(ManagedResource {
                key: d.key.clone(),
                version: crate::model::split_api_version(&d.api_version)
                    .1
                    .to_string(),
                sync: None,
            });
        }
    }

    let app_health =
        health::app_health(
            managed_health
                .iter()
                .map(|(key, h, live, excluded)| ManagedHealth {
                    key,
                    health: h.as_ref(),
                    live: live.is_some(),
                    excluded: *excluded,
                }),
        );
    let counted = resources
        .iter()
        .filter(|r| !is_ignored_extraneous(store, r));
    let sync = if resources.iter().any(|r| r.sync == SyncStatus::Unknown) {
        SyncStatus::Unknown
    } else if counted.clone().any(|r| r.sync == SyncStatus::OutOfSync) {
        SyncStatus::OutOfSync
    } else {
        SyncStatus::Synced
    };
    let message = if let Some(c) = conditions.first() {
        c.message.clone()
    } else if app_health.status != Health::Healthy && !app_health.message.is_empty() {
        app_health.message.clone()
    } else {
        let out = resources
            .iter()
            .filter(|r| r.sync == SyncStatus::OutOfSync)
            .count();
        if out > 0 {
            format!("{out} of {} resources out of sync", resources.len())
        } else {
            String::new()
        }
    };
    let compare_method = match methods {
        (true, true) => "server-side dry run; Git fields only where the server refused",
        (true, false) => "server-side dry run",
        (false, true) => "Git fields only",
        (false, false) => "",
    }
    .to_string();
    let parsed = ParsedFirst {
        store,
        parsed: managed_health
            .iter()
            .filter_map(|(key, _, live, _)| live.clone().map(|v| (key, v)))
            .collect(),
    };
    let tree = build_tree(
        &root(app, Some(app_health.clone()), Some(sync)),
        &managed,
        &parsed,
        input.now,
    );
    let diffs = outcomes
        .iter()
        .filter(|o| o.diff.changed)
        .map(|o| o.diff.clone())
        .collect();
    let mut snap = base(app, input.cluster, revision, message);
    snap.sync = sync;
    snap.health = app_health.status;
    snap.resources = std::sync::Arc::new(resources);
    snap.detail = Some(Arc::new(AppDetail {
        tree,
        diffs,
        compare_method,
        conditions,
        history: Vec::new(),
        timeline: Vec::new(),
    }));
    snap
}

/// `argocd.argoproj.io/compare-options: IgnoreExtraneous` on a live-only resource keeps it
/// out of the app's sync status.
fn is_ignored_extraneous(store: &LiveStore, r: &ResourceStatus) -> bool {
    if !r.requires_pruning {
        return false;
    }
    let key = ResourceKey::new(&r.group, &r.kind, &r.namespace, &r.name);
    store.get(&key).is_some_and(|o| {
        o.value()
            .at("/metadata/annotations/argocd.argoproj.io~1compare-options")
            .and_then(|v| v.as_str())
            .is_some_and(|v| v.split(',').any(|p| p.trim() == "IgnoreExtraneous"))
    })
}

fn root(app: &Application, health: Option<HealthStatus>, sync: Option<SyncStatus>) -> AppRoot {
    AppRoot {
        key: ResourceKey::new(
            "argoproj.io",
            "Application",
            app.namespace(),
            &app.metadata.name,
        ),
        version: "v1alpha1".into(),
        health,
        sync,
    }
}

struct EmptyIndex;

impl LiveIndex for EmptyIndex {
    fn get(&self, _: &ResourceKey) -> Option<Arc<Value>> {
        None
    }
    fn children(&self, _: &str) -> Vec<Arc<Value>> {
        Vec::new()
    }
    fn list(&self, _: &str, _: &str, _: &str) -> Vec<Arc<Value>> {
        Vec::new()
    }
}

/// The live cache with the app's managed objects already parsed (for their health), so the
/// tree does not parse them a second time.
struct ParsedFirst<'a> {
    store: &'a LiveStore,
    parsed: HashMap<&'a ResourceKey, Arc<Value>>,
}

impl LiveIndex for ParsedFirst<'_> {
    fn get(&self, key: &ResourceKey) -> Option<Arc<Value>> {
        match self.parsed.get(key) {
            Some(v) => Some(v.clone()),
            None => LiveIndex::get(self.store, key),
        }
    }
    fn children(&self, owner_uid: &str) -> Vec<Arc<Value>> {
        self.store.children(owner_uid)
    }
    fn list(&self, group: &str, kind: &str, namespace: &str) -> Vec<Arc<Value>> {
        self.store.list(group, kind, namespace)
    }
}
