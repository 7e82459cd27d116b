//! Argo CD's Applications as Argo CD wrote them: sync, health, operation state and
//! per-resource status mapped onto rekon's app snapshot, the tree from `status.resources`,
//! and the patches that drive Argo CD the way its CLI does (the `operation` field, the refresh
//! annotation, terminating a running operation). rekon never applies for these apps.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use crate::engine::health::parse_health;
use crate::engine::json::{annotation, str_at};
use crate::engine::tree::{AppRoot, LiveIndex, ManagedResource, build_tree};
use crate::model::{
    AppCondition, AppDetail, AppSnapshot, Application, Health, HealthStatus, HistoryEntry,
    ManagedBy, Operation, OperationPhase, ResourceKey, ResourceStatus, StepAction, StepStatus,
    SyncOptions, SyncPhase, SyncStatus, SyncStep,
};

/// Argo CD's API group.
pub const GROUP: &str = "argoproj.io";
/// The version of Argo CD's kinds.
pub const VERSION: &str = "v1alpha1";
/// The annotation that asks Argo CD to refresh an app (`normal` or `hard`).
pub const REFRESH_ANNOTATION: &str = "argocd.argoproj.io/refresh";
/// The kinds of Argo CD rekon lists.
pub const KINDS: [&str; 3] = ["Application", "AppProject", "ApplicationSet"];

fn parse_sync(word: &str) -> SyncStatus {
    match word {
        "Synced" => SyncStatus::Synced,
        "OutOfSync" => SyncStatus::OutOfSync,
        _ => SyncStatus::Unknown,
    }
}

/// The first source of an Application: `spec.source`, else `spec.sources[0]`.
fn source(obj: &Value) -> &Value {
    match obj.pointer("/spec/source") {
        Some(s) if s.is_object() => s,
        _ => obj.pointer("/spec/sources/0").unwrap_or(&Value::Null),
    }
}

/// The app's row as Argo CD reports it (no tree; see [`detail`]).
pub fn snapshot(obj: &Value, cluster: &str) -> AppSnapshot {
    let src = source(obj);
    let conditions = conditions(obj);
    let health = parse_health(str_at(obj, "/status/health/status").unwrap_or(""));
    let health = if obj.pointer("/status/health/status").is_none() {
        Health::Unknown
    } else {
        health
    };
    let operation = operation(obj);
    let message = match &operation {
        Some(op) if matches!(op.phase, OperationPhase::Failed | OperationPhase::Running) => {
            op.message.clone()
        }
        _ => {
            let health_message = str_at(obj, "/status/health/message").unwrap_or("");
            if let Some(c) = conditions.first() {
                c.message.clone()
            } else if health != Health::Healthy && !health_message.is_empty() {
                health_message.to_string()
            } else {
                String::new()
            }
        }
    };
    AppSnapshot {
        name: str_at(obj, "/metadata/name").unwrap_or("").to_string(),
        namespace: str_at(obj, "/metadata/namespace").unwrap_or("").to_string(),
        managed_by: ManagedBy::Argocd,
        kind: "Application".into(),
        cluster: cluster.to_string(),
        destination_namespace: str_at(obj, "/spec/destination/namespace")
            .unwrap_or("")
            .to_string(),
        repo_url: crate::source::display_url(str_at(src, "/repoURL").unwrap_or("")),
        path: match str_at(src, "/path").unwrap_or("") {
            "" => str_at(src, "/chart").unwrap_or("").to_string(),
            p => p.to_string(),
        },
        target_revision: match str_at(src, "/targetRevision").unwrap_or("") {
            "" => "HEAD".to_string(),
            r => r.to_string(),
        },
        revision: match str_at(obj, "/status/sync/revision").unwrap_or("") {
            "" => obj
                .pointer("/status/sync/revisions/0")
                .and_then(Value::as_str)
                .map(str::to_string),
            r => Some(r.to_string()),
        },
        sync: parse_sync(str_at(obj, "/status/sync/status").unwrap_or("")),
        health,
        message,
        auto_sync: auto_sync_on(obj),
        last_sync: match str_at(obj, "/status/operationState/finishedAt").unwrap_or("") {
            "" => None,
            t => Some(t.to_string()),
        },
        resources: std::sync::Arc::new(resources(obj)),
        operation,
        origin: Default::default(),
        detail: None,
    }
}

/// `status.resources` as rekon's resource rows.
pub fn resources(obj: &Value) -> Vec<ResourceStatus> {
    items(obj, "/status/resources")
        .map(|r| {
            let health = r
                .pointer("/health/status")
                .and_then(Value::as_str)
                .map(parse_health);
            ResourceStatus {
                group: str_at(r, "/group").unwrap_or("").to_string(),
                version: str_at(r, "/version").unwrap_or("").to_string(),
                kind: str_at(r, "/kind").unwrap_or("").to_string(),
                namespace: str_at(r, "/namespace").unwrap_or("").to_string(),
                name: str_at(r, "/name").unwrap_or("").to_string(),
                sync: parse_sync(str_at(r, "/status").unwrap_or("")),
                health,
                message: str_at(r, "/health/message").unwrap_or("").to_string(),
                requires_pruning: r.get("requiresPruning") == Some(&json!(true)),
            }
        })
        .collect()
}

fn items<'a>(obj: &'a Value, pointer: &str) -> impl Iterator<Item = &'a Value> + 'a {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.is_object())
}

/// `status.conditions` in rekon's words.
pub fn conditions(obj: &Value) -> Vec<AppCondition> {
    items(obj, "/status/conditions")
        .map(|c| AppCondition {
            kind: str_at(c, "/type").unwrap_or("").to_string(),
            message: str_at(c, "/message").unwrap_or("").to_string(),
        })
        .collect()
}

/// The app's running or last operation, from `status.operationState` (or a requested
/// `operation` the controller has not picked up yet, as Running).
pub fn operation(obj: &Value) -> Option<Operation> {
    let app = format!(
        "{}/{}",
        str_at(obj, "/metadata/namespace").unwrap_or(""),
        str_at(obj, "/metadata/name").unwrap_or("")
    );
    let state = obj
        .pointer("/status/operationState")
        .filter(|s| s.is_object());
    let requested = obj.get("operation").filter(|o| o.is_object());
    // A requested operation the controller has not picked up yet shows as running, not as
    // the previous operation's end.
    let picked_up = state
        .is_some_and(|s| matches!(str_at(s, "/phase").unwrap_or(""), "Running" | "Terminating"));
    let state = if requested.is_some() && !picked_up {
        None
    } else {
        state
    };
    let Some(state) = state else {
        let op = requested?;
        return Some(Operation {
            app,
            phase: OperationPhase::Running,
            revision: str_at(op, "/sync/revision").unwrap_or("").to_string(),
            steps: Vec::new(),
            message: "waiting for the Argo CD controller to start the operation".into(),
            started_at: String::new(),
            finished_at: None,
            initiated_by: initiated_by(op),
            dry_run: op.pointer("/sync/dryRun") == Some(&json!(true)),
        });
    };
    let phase = match str_at(state, "/phase").unwrap_or("") {
        "Succeeded" => OperationPhase::Succeeded,
        "Failed" | "Error" => OperationPhase::Failed,
        _ => OperationPhase::Running,
    };
    let message = str_at(state, "/message").unwrap_or("");
    // Argo CD reports a terminated operation as Failed with this message.
    let phase = if phase == OperationPhase::Failed && message.contains("terminated") {
        OperationPhase::Terminated
    } else {
        phase
    };
    let op = state.get("operation").unwrap_or(&Value::Null);
    let revision = match str_at(state, "/syncResult/revision").unwrap_or("") {
        "" => str_at(op, "/sync/revision").unwrap_or(""),
        r => r,
    };
    Some(Operation {
        app,
        phase,
        revision: revision.to_string(),
        steps: items(state, "/syncResult/resources").map(step).collect(),
        message: message.to_string(),
        started_at: str_at(state, "/startedAt").unwrap_or("").to_string(),
        finished_at: match str_at(state, "/finishedAt").unwrap_or("") {
            "" => None,
            t => Some(t.to_string()),
        },
        initiated_by: initiated_by(op),
        dry_run: op.pointer("/sync/dryRun") == Some(&json!(true)),
    })
}

fn initiated_by(op: &Value) -> String {
    if op.pointer("/initiatedBy/automated") == Some(&json!(true)) {
        return "automated".into();
    }
    str_at(op, "/initiatedBy/username")
        .unwrap_or("")
        .to_string()
}

/// One `syncResult.resources` entry as a step.
fn step(r: &Value) -> SyncStep {
    let hook = !str_at(r, "/hookType").unwrap_or("").is_empty();
    let status = str_at(r, "/status").unwrap_or("");
    let hook_phase = str_at(r, "/hookPhase").unwrap_or("");
    let message = str_at(r, "/message").unwrap_or("");
    let action = if hook {
        StepAction::Hook
    } else {
        match status {
            "Pruned" => StepAction::Pruned,
            "PruneSkipped" => StepAction::Skipped,
            _ if message.contains("created") => StepAction::Created,
            _ if message.contains("unchanged") => StepAction::Unchanged,
            _ => StepAction::Configured,
        }
    };
    let step_status = match (status, hook_phase) {
        ("SyncFailed", _) | (_, "Failed" | "Error") => StepStatus::Failed,
        ("PruneSkipped", _) => StepStatus::Skipped,
        (_, "Running" | "Pending" | "Terminating") => StepStatus::Running,
        _ => StepStatus::Succeeded,
    };
    SyncStep {
        phase: match str_at(r, "/syncPhase").unwrap_or("") {
            "PreSync" => SyncPhase::PreSync,
            "PostSync" => SyncPhase::PostSync,
            "SyncFail" => SyncPhase::SyncFail,
            _ => SyncPhase::Sync,
        },
        wave: r.get("syncWave").and_then(Value::as_i64).unwrap_or(0) as i32,
        group: str_at(r, "/group").unwrap_or("").to_string(),
        version: str_at(r, "/version").unwrap_or("").to_string(),
        kind: str_at(r, "/kind").unwrap_or("").to_string(),
        namespace: str_at(r, "/namespace").unwrap_or("").to_string(),
        name: str_at(r, "/name").unwrap_or("").to_string(),
        action,
        status: step_status,
        message: message.to_string(),
        takes: Vec::new(),
        replace: false,
    }
}

/// `status.history`, newest first.
pub fn history(obj: &Value) -> Vec<HistoryEntry> {
    let mut out: Vec<HistoryEntry> = items(obj, "/status/history")
        .map(|h| HistoryEntry {
            id: h.get("id").and_then(Value::as_u64).unwrap_or(0),
            revision: str_at(h, "/revision").unwrap_or("").to_string(),
            author: String::new(),
            commit_message: String::new(),
            started_at: str_at(h, "/deployStartedAt").unwrap_or("").to_string(),
            finished_at: str_at(h, "/deployedAt").unwrap_or("").to_string(),
            phase: OperationPhase::Succeeded,
            initiated_by: match str_at(h, "/initiatedBy/username").unwrap_or("") {
                "" if h.pointer("/initiatedBy/automated") == Some(&json!(true)) => "automated",
                u => u,
            }
            .to_string(),
            summary: String::new(),
            taken: Vec::new(),
        })
        .collect();
    out.reverse();
    out
}

/// The managed resources of the tree: `status.resources`.
pub fn managed(obj: &Value) -> Vec<ManagedResource> {
    resources(obj)
        .into_iter()
        .map(|r| ManagedResource {
            key: ResourceKey::new(&r.group, &r.kind, &r.namespace, &r.name),
            version: r.version,
            sync: Some(r.sync),
        })
        .collect()
}

/// Tree, conditions and history of the app: the tree is `status.resources` under the app,
/// then the live owner walk below each of them.
pub fn detail(obj: &Value, index: &dyn LiveIndex, now: Timestamp) -> AppDetail {
    let snap_health = parse_health(str_at(obj, "/status/health/status").unwrap_or(""));
    let root = AppRoot {
        key: ResourceKey::new(
            GROUP,
            "Application",
            str_at(obj, "/metadata/namespace").unwrap_or(""),
            str_at(obj, "/metadata/name").unwrap_or(""),
        ),
        version: VERSION.into(),
        health: Some(HealthStatus::new(
            snap_health,
            str_at(obj, "/status/health/message").unwrap_or(""),
        )),
        sync: Some(parse_sync(str_at(obj, "/status/sync/status").unwrap_or(""))),
    };
    let tree = build_tree(&root, &managed(obj), index, now);
    AppDetail {
        tree,
        diffs: Vec::new(),
        compare_method: "as Argo CD reports it".into(),
        conditions: conditions(obj),
        history: history(obj),
        timeline: Vec::new(),
    }
}

/// The app's snapshot with its detail.
pub fn snapshot_with_detail(
    obj: &Value,
    cluster: &str,
    index: &dyn LiveIndex,
    now: Timestamp,
) -> AppSnapshot {
    let mut snap = snapshot(obj, cluster);
    snap.detail = Some(Arc::new(detail(obj, index, now)));
    snap
}

/// The merge patch that asks Argo CD to sync, as `argocd app sync` writes it: the
/// `operation` field with who asked, the revision, prune, dry run and selected resources.
pub fn sync_patch(options: &SyncOptions, initiated_by: &str) -> Value {
    let mut sync = json!({
        "prune": options.prune,
        "dryRun": options.dry_run,
        "syncStrategy": if options.force {
            json!({"hook": {"force": true}})
        } else {
            json!({"hook": {}})
        },
    });
    if let Some(rev) = options.revision.as_deref().filter(|r| !r.is_empty()) {
        sync["revision"] = json!(rev);
    }
    if !options.resources.is_empty() {
        sync["resources"] = Value::Array(
            options
                .resources
                .iter()
                .map(|k| {
                    let mut r = json!({"group": k.group, "kind": k.kind, "name": k.name});
                    if !k.namespace.is_empty() {
                        r["namespace"] = json!(k.namespace);
                    }
                    r
                })
                .collect(),
        );
    }
    if options.apply_out_of_sync_only {
        sync["syncOptions"] = json!(["ApplyOutOfSyncOnly=true"]);
    }
    json!({"operation": {
        "initiatedBy": {"username": initiated_by},
        "sync": sync,
    }})
}

/// Whether `automated` sync is on, as Argo CD reads `spec.syncPolicy.automated`.
fn auto_sync_on(obj: &Value) -> bool {
    obj.pointer("/spec/syncPolicy/automated")
        .is_some_and(|a| a.is_object() && a.get("enabled") != Some(&json!(false)))
}

/// Refuses a sync to another revision while auto-sync is on (it would sync straight back),
/// with the words of Argo CD's API server; a dry run is allowed.
pub fn may_sync_revision(obj: &Value, options: &SyncOptions) -> Result<(), String> {
    let target = match str_at(source(obj), "/targetRevision").unwrap_or("") {
        "" => "HEAD",
        t => t,
    };
    match options.revision.as_deref() {
        Some(rev) if !rev.is_empty() && rev != target && auto_sync_on(obj) && !options.dry_run => {
            Err(format!(
                "Cannot sync to {rev}: auto-sync currently set to {target}"
            ))
        }
        _ => Ok(()),
    }
}

/// The merge patch of `argocd app rollback APP ID`: a sync of the history entry's revision
/// and source, with the apply strategy and the app's own sync options, as Argo CD's API server
/// writes it. `None` when the app has no such entry.
pub fn rollback_patch(obj: &Value, id: u64, initiated_by: &str) -> Option<Value> {
    let entry =
        items(obj, "/status/history").find(|h| h.get("id").and_then(Value::as_u64) == Some(id))?;
    let mut sync = json!({
        "revision": str_at(entry, "/revision").unwrap_or(""),
        "prune": false,
        "dryRun": false,
        "syncStrategy": {"apply": {}},
    });
    for field in ["revisions", "source", "sources"] {
        if let Some(v) = entry.get(field).filter(|v| !v.is_null()) {
            sync[field] = v.clone();
        }
    }
    if let Some(o) = obj
        .pointer("/spec/syncPolicy/syncOptions")
        .filter(|o| o.as_array().is_some_and(|a| !a.is_empty()))
    {
        sync["syncOptions"] = o.clone();
    }
    Some(json!({"operation": {
        "initiatedBy": {"username": initiated_by},
        "sync": sync,
    }}))
}

/// One entry of `status.operationState.syncResult.resources` as Argo CD wrote it, with the
/// resource's health from `status.resources`: a row of `argocd app sync`'s table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceResult {
    /// API group (empty for the core group).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace (empty for cluster-scoped objects).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `Synced`, `SyncFailed`, `Pruned`, `PruneSkipped` …
    pub status: String,
    /// The health Argo CD reports for the resource, if any.
    pub health: String,
    /// A hook's type (`PreSync` …), empty for ordinary resources.
    pub hook_type: String,
    /// A hook's phase (`Running`, `Succeeded`, `Failed` …).
    pub hook_phase: String,
    /// What happened, in Argo CD's words.
    pub message: String,
}

/// The resource results of the app's last (or running) operation, in Argo CD's order.
pub fn sync_results(obj: &Value) -> Vec<ResourceResult> {
    let health = |r: &Value| {
        items(obj, "/status/resources")
            .find(|s| {
                ["/group", "/kind", "/namespace", "/name"]
                    .iter()
                    .all(|p| str_at(s, p).unwrap_or("") == str_at(r, p).unwrap_or(""))
            })
            .map(|s| str_at(s, "/health/status").unwrap_or("").to_string())
            .unwrap_or_default()
    };
    items(obj, "/status/operationState/syncResult/resources")
        .map(|r| ResourceResult {
            group: str_at(r, "/group").unwrap_or("").to_string(),
            kind: str_at(r, "/kind").unwrap_or("").to_string(),
            namespace: str_at(r, "/namespace").unwrap_or("").to_string(),
            name: str_at(r, "/name").unwrap_or("").to_string(),
            status: str_at(r, "/status").unwrap_or("").to_string(),
            health: health(r),
            hook_type: str_at(r, "/hookType").unwrap_or("").to_string(),
            hook_phase: str_at(r, "/hookPhase").unwrap_or("").to_string(),
            message: str_at(r, "/message").unwrap_or("").to_string(),
        })
        .collect()
}

/// The phase of the app's last operation in Argo CD's words (`Running`, `Succeeded`,
/// `Failed`, `Error`), `Terminated` for one ended by a terminate request.
pub fn operation_phase(obj: &Value) -> String {
    let phase = str_at(obj, "/status/operationState/phase").unwrap_or("");
    let message = str_at(obj, "/status/operationState/message").unwrap_or("");
    if phase == "Failed" && message.contains("terminated") {
        "Terminated".into()
    } else {
        phase.to_string()
    }
}

/// The merge patch that asks Argo CD for a refresh (`hard` also drops its manifest cache).
pub fn refresh_patch(hard: bool) -> Value {
    let level = if hard { "hard" } else { "normal" };
    json!({"metadata": {"annotations": {REFRESH_ANNOTATION: level}}})
}

/// The merge patch that terminates a running operation, as Argo CD's API server writes it.
pub fn terminate_patch() -> Value {
    json!({"status": {"operationState": {"phase": "Terminating"}}})
}

/// Whether an operation is running (or requested and not yet picked up).
pub fn operation_running(obj: &Value) -> bool {
    obj.get("operation").is_some_and(|o| o.is_object())
        || matches!(
            str_at(obj, "/status/operationState/phase").unwrap_or(""),
            "Running" | "Terminating"
        )
}

/// Whether Argo CD has handled a refresh request (it removes the annotation).
pub fn refresh_pending(obj: &Value) -> bool {
    annotation(obj, REFRESH_ANNOTATION).is_some()
}

/// The Application as rekon's model reads it, for rendering its source with rekon's engine.
/// Multi-source apps use their first source.
pub fn to_application(obj: &Value) -> Result<Application, String> {
    let mut doc = obj.clone();
    if doc.pointer("/spec/source").is_none_or(|s| !s.is_object())
        && let Some(first) = doc.pointer("/spec/sources/0").cloned()
        && let Some(spec) = doc.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.insert("source".into(), first);
    }
    for field in ["status", "operation"] {
        if let Some(o) = doc.as_object_mut() {
            o.remove(field);
        }
    }
    serde_json::from_value(doc).map_err(|e| {
        format!(
            "Application {}/{} cannot be read: {e}",
            str_at(obj, "/metadata/namespace").unwrap_or(""),
            str_at(obj, "/metadata/name").unwrap_or("")
        )
    })
}

/// One AppProject or ApplicationSet as the listing shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArgoObject {
    /// `AppProject` or `ApplicationSet`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The cluster it lives in.
    pub cluster: String,
    /// A one-line description: a project's repositories and destinations, an
    /// ApplicationSet's generators and how many apps it made.
    pub summary: String,
    /// Problems the controller reported (ApplicationSet conditions with status True that
    /// are errors).
    pub conditions: Vec<AppCondition>,
}

/// An AppProject or ApplicationSet object as a listing row.
pub fn listing(obj: &Value, cluster: &str) -> Option<ArgoObject> {
    let kind = obj.get("kind")?.as_str()?;
    let summary = match kind {
        "AppProject" => {
            let repos: Vec<&str> = items_str(obj, "/spec/sourceRepos");
            let dests: Vec<String> = items(obj, "/spec/destinations")
                .map(|d| {
                    let server = match str_at(d, "/name").unwrap_or("") {
                        "" => str_at(d, "/server").unwrap_or(""),
                        n => n,
                    };
                    format!("{server}/{}", str_at(d, "/namespace").unwrap_or(""))
                })
                .collect();
            format!(
                "repos: {}; destinations: {}",
                join_or_none(&repos),
                join_or_none(&dests.iter().map(String::as_str).collect::<Vec<_>>())
            )
        }
        "ApplicationSet" => {
            let generators: Vec<String> = items(obj, "/spec/generators")
                .filter_map(|g| g.as_object()?.keys().next().cloned())
                .collect();
            let apps = items(obj, "/status/resources").count();
            format!(
                "generators: {}; {apps} applications",
                join_or_none(&generators.iter().map(String::as_str).collect::<Vec<_>>())
            )
        }
        _ => return None,
    };
    let conditions = items(obj, "/status/conditions")
        .filter(|c| {
            str_at(c, "/status").unwrap_or("") == "True"
                && str_at(c, "/type").unwrap_or("").contains("Error")
        })
        .map(|c| AppCondition {
            kind: str_at(c, "/type").unwrap_or("").to_string(),
            message: str_at(c, "/message").unwrap_or("").to_string(),
        })
        .collect();
    Some(ArgoObject {
        kind: kind.to_string(),
        namespace: str_at(obj, "/metadata/namespace").unwrap_or("").to_string(),
        name: str_at(obj, "/metadata/name").unwrap_or("").to_string(),
        cluster: cluster.to_string(),
        summary,
        conditions,
    })
}

fn items_str<'a>(obj: &'a Value, pointer: &str) -> Vec<&'a str> {
    obj.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn join_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::tree::MemoryIndex;

    fn app() -> Value {
        json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "guestbook", "namespace": "argocd"},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://github.com/argoproj/argocd-example-apps.git",
                    "targetRevision": "HEAD", "path": "guestbook"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
                "syncPolicy": {"automated": {"prune": true}}
            },
            "status": {
                "sync": {"status": "OutOfSync", "revision": "0123456789abcdef0123456789abcdef01234567"},
                "health": {"status": "Progressing", "message": "waiting for rollout"},
                "resources": [
                    {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "guestbook",
                     "name": "guestbook-ui", "status": "OutOfSync",
                     "health": {"status": "Progressing", "message": "waiting for rollout"}},
                    {"version": "v1", "kind": "Service", "namespace": "guestbook",
                     "name": "guestbook-ui", "status": "Synced", "health": {"status": "Healthy"}},
                    {"version": "v1", "kind": "ConfigMap", "namespace": "guestbook",
                     "name": "old", "status": "OutOfSync", "requiresPruning": true}
                ],
                "operationState": {
                    "operation": {"initiatedBy": {"username": "alice"}, "sync": {"revision": "abc", "prune": true}},
                    "phase": "Running", "message": "one or more tasks are running",
                    "startedAt": "2025-03-10T10:00:00Z",
                    "syncResult": {"revision": "abc", "resources": [
                        {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "guestbook",
                         "name": "guestbook-ui", "status": "Synced", "message": "deployment.apps/guestbook-ui configured",
                         "syncPhase": "Sync", "hookPhase": "Running"}
                    ]}
                },
                "history": [
                    {"id": 1, "revision": "aaa", "deployedAt": "2025-03-01T00:00:00Z"},
                    {"id": 2, "revision": "bbb", "deployedAt": "2025-03-02T00:00:00Z",
                     "initiatedBy": {"automated": true}}
                ]
            }
        })
    }

    #[test]
    fn maps_status_as_argo_cd_wrote_it() {
        let s = snapshot(&app(), "prod");
        assert_eq!(s.managed_by, ManagedBy::Argocd);
        assert_eq!(s.cluster, "prod");
        assert_eq!(s.sync, SyncStatus::OutOfSync);
        assert_eq!(s.health, Health::Progressing);
        assert_eq!(s.path, "guestbook");
        assert!(s.auto_sync);
        assert_eq!(s.resources.len(), 3);
        assert_eq!(s.resources[0].health, Some(Health::Progressing));
        assert_eq!(s.resources[1].group, "");
        assert!(s.resources[2].requires_pruning);
        assert_eq!(s.resources[2].health, None);
        let op = s.operation.unwrap();
        assert_eq!(op.phase, OperationPhase::Running);
        assert_eq!(op.initiated_by, "alice");
        assert_eq!(op.steps[0].status, StepStatus::Running);
        assert_eq!(op.steps[0].action, StepAction::Configured);
        assert_eq!(s.message, "one or more tasks are running");
        let h = history(&app());
        assert_eq!(h[0].id, 2);
        assert_eq!(h[0].initiated_by, "automated");
    }

    #[test]
    fn an_app_without_status_is_unknown() {
        let mut a = app();
        a.as_object_mut().unwrap().remove("status");
        let s = snapshot(&a, "c");
        assert_eq!((s.sync, s.health), (SyncStatus::Unknown, Health::Unknown));
        assert!(s.operation.is_none() && s.resources.is_empty());
    }

    #[test]
    fn tree_holds_status_resources() {
        let detail = detail(&app(), &MemoryIndex::new(), Timestamp::UNIX_EPOCH);
        assert_eq!(detail.tree.children.len(), 3);
        assert!(
            detail
                .tree
                .children
                .iter()
                .all(|c| c.health.as_ref().unwrap().status == Health::Missing)
        );
    }

    #[test]
    fn sync_patch_is_the_operation_field() {
        let options = SyncOptions {
            prune: true,
            dry_run: true,
            resources: vec![ResourceKey::new("apps", "Deployment", "gb", "ui")],
            revision: Some("v2".into()),
            ..SyncOptions::default()
        };
        assert_eq!(
            sync_patch(&options, "bob@host"),
            json!({"operation": {"initiatedBy": {"username": "bob@host"}, "sync": {
                "prune": true, "dryRun": true, "syncStrategy": {"hook": {}}, "revision": "v2",
                "resources": [{"group": "apps", "kind": "Deployment", "name": "ui", "namespace": "gb"}]}}})
        );
        assert_eq!(
            refresh_patch(true),
            json!({"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}})
        );
    }

    #[test]
    fn another_revision_is_refused_while_auto_sync_is_on() {
        let at = |rev: &str, dry_run: bool| SyncOptions {
            revision: Some(rev.into()),
            dry_run,
            ..SyncOptions::default()
        };
        let why = may_sync_revision(&app(), &at("v2", false)).unwrap_err();
        assert_eq!(why, "Cannot sync to v2: auto-sync currently set to HEAD");
        assert!(may_sync_revision(&app(), &at("HEAD", false)).is_ok());
        assert!(may_sync_revision(&app(), &at("v2", true)).is_ok());
        let mut manual = app();
        manual["spec"]["syncPolicy"] = json!({});
        assert!(may_sync_revision(&manual, &at("v2", false)).is_ok());
    }

    #[test]
    fn rollback_writes_the_entry_s_revision_and_source() {
        let mut a = app();
        a["status"]["history"][0]["source"] = json!({"repoURL": "r", "path": "p"});
        a["spec"]["syncPolicy"]["syncOptions"] = json!(["CreateNamespace=true"]);
        assert_eq!(
            rollback_patch(&a, 1, "me").unwrap(),
            json!({"operation": {"initiatedBy": {"username": "me"}, "sync": {
                "revision": "aaa", "prune": false, "dryRun": false,
                "syncStrategy": {"apply": {}}, "source": {"repoURL": "r", "path": "p"},
                "syncOptions": ["CreateNamespace=true"]}}})
        );
        assert!(rollback_patch(&a, 9, "me").is_none());
    }

    #[test]
    fn reads_the_application_for_rendering() {
        let a = to_application(&app()).unwrap();
        assert_eq!(a.spec.source.path(), "guestbook");
        let mut multi = app();
        let src = multi["spec"]["source"].take();
        multi["spec"]["sources"] = json!([src]);
        multi["spec"].as_object_mut().unwrap().remove("source");
        assert_eq!(
            to_application(&multi).unwrap().spec.source.path(),
            "guestbook"
        );
    }
}
