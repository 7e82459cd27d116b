//! A **simulated** Argo CD application controller, for the demo and the tests: it is not
//! Argo CD and renders nothing. It carries out what rekon asks of an Application the way
//! the real controller reports it:
//! - an `operation` is picked up (`status.operationState` Running), and after a short while
//!   finished: the resources it names (all of `status.resources` when it names none) are
//!   marked Synced, `status.sync` gets the revision, prunes delete the objects that require
//!   pruning (when `prune` is set), history grows (not for dry runs or selective syncs), and
//!   `operation` is cleared. A resource missing from the cluster fails the operation: the
//!   simulation cannot create objects it has no manifests for.
//! - as in Argo CD, a sync whose resources span more than one wave (`syncWave` of
//!   `status.resources`) waits for their health: while one is Progressing the operation stays
//!   Running, "waiting for healthy state of GROUP/KIND/NAME".
//! - `status.operationState.phase: Terminating` ends the operation as Failed, "terminated".
//! - the `argocd.argoproj.io/refresh` annotation is removed and `status.reconciledAt` set.
//! - health is kept current from the live objects named in `status.resources`.

use serde_json::{Map, Value, json};

use super::meta::{self, array_at, at, set_path, str_at};
use super::{Ctx, Effect, Outcome};
use crate::clock::SimDuration;
use crate::key::ResourceKey;

/// The field manager the simulated controller writes as (the real one's name).
pub const MANAGER: &str = "argocd-application-controller";
/// The annotation that asks for a refresh.
const REFRESH: &str = "argocd.argoproj.io/refresh";
/// How long a simulated operation runs.
const OPERATION_TIME: SimDuration = SimDuration::from_secs(2);
/// How often health is looked at again.
const RESYNC: SimDuration = SimDuration::from_secs(10);

const HEALTH_ORDER: [&str; 6] = [
    "Healthy",
    "Suspended",
    "Progressing",
    "Missing",
    "Degraded",
    "Unknown",
];

fn rank(h: &str) -> usize {
    HEALTH_ORDER.iter().position(|x| *x == h).unwrap_or(5)
}

/// A small health check of live objects, enough for the simulation.
fn health_of(obj: Option<&Value>) -> (&'static str, String) {
    let Some(o) = obj else {
        return ("Missing", String::new());
    };
    let kind = str_at(o, &["kind"]);
    let generation = meta::generation(o);
    let observed = meta::i64_at(o, &["status", "observedGeneration"]).unwrap_or(0);
    match kind {
        "Deployment" | "StatefulSet" | "ReplicaSet" => {
            let wanted = meta::count_at(o, &["spec", "replicas"], 1);
            let ready = meta::count_at(o, &["status", "readyReplicas"], 0);
            if observed < generation || ready < wanted {
                ("Progressing", format!("{ready} of {wanted} replicas ready"))
            } else {
                ("Healthy", String::new())
            }
        }
        "Pod" => match meta::pod_phase(o) {
            "Running" if meta::pod_is_ready(o) => ("Healthy", String::new()),
            "Succeeded" => ("Healthy", String::new()),
            "Failed" => ("Degraded", "pod failed".into()),
            _ => ("Progressing", String::new()),
        },
        _ => ("Healthy", String::new()),
    }
}

fn key_of_resource(r: &Value) -> ResourceKey {
    ResourceKey::new(
        str_at(r, &["group"]),
        str_at(r, &["kind"]),
        str_at(r, &["namespace"]),
        str_at(r, &["name"]),
    )
}

fn selected(op: &Value, r: &Value) -> bool {
    let wanted = array_at(op, &["sync", "resources"]);
    wanted.is_empty()
        || wanted.iter().any(|w| {
            str_at(w, &["group"]) == str_at(r, &["group"])
                && str_at(w, &["kind"]) == str_at(r, &["kind"])
                && str_at(w, &["name"]) == str_at(r, &["name"])
                && (str_at(w, &["namespace"]).is_empty()
                    || str_at(w, &["namespace"]) == str_at(r, &["namespace"]))
        })
}

/// One reconcile step of an Application.
pub(super) fn reconcile(app: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(MANAGER);
    if !app.is_object() {
        return out;
    }
    let mut new = app.clone();
    let now = ctx.now_str();
    if !meta::annotation(app, REFRESH).is_empty() {
        if let Some(a) = new
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
        {
            a.remove(REFRESH);
        }
        set_path(&mut new, &["status", "reconciledAt"], json!(now));
    }
    let phase = str_at(app, &["status", "operationState", "phase"]).to_string();
    let operation = at(app, &["operation"]).filter(|o| o.is_object()).cloned();
    if phase == "Terminating" {
        set_path(
            &mut new,
            &["status", "operationState", "phase"],
            json!("Failed"),
        );
        set_path(
            &mut new,
            &["status", "operationState", "message"],
            json!("Operation terminated"),
        );
        set_path(
            &mut new,
            &["status", "operationState", "finishedAt"],
            json!(now),
        );
        if let Some(o) = new.as_object_mut() {
            o.remove("operation");
        }
    } else if let Some(op) = operation {
        if phase != "Running" {
            set_path(
                &mut new,
                &["status", "operationState"],
                json!({"operation": op, "phase": "Running",
                    "message": "one or more tasks are running", "startedAt": now}),
            );
            out.requeue(OPERATION_TIME);
        } else {
            let started = ctx.time(str_at(app, &["status", "operationState", "startedAt"]));
            match started {
                Some(s) if ctx.now < s + OPERATION_TIME => {
                    out.requeue_at(ctx.now, s + OPERATION_TIME)
                }
                _ => match waiting_for(app, &op, ctx) {
                    // Looked at again with health, every RESYNC.
                    Some(message) => set_path(
                        &mut new,
                        &["status", "operationState", "message"],
                        json!(message),
                    ),
                    None => finish(app, &op, &mut new, ctx, &mut out),
                },
            }
        }
    }
    refresh_health(&mut new, ctx);
    if !meta::same_json(&new, app) {
        out.push(Effect::Update(new));
    }
    out.requeue(RESYNC);
    out
}

/// What a multi-step sync (its resources in more than one wave) still waits for, in Argo
/// CD's words: the resources of the lowest wave that are still Progressing. `None` when the
/// operation can end.
fn waiting_for(app: &Value, op: &Value, ctx: &Ctx<'_>) -> Option<String> {
    if meta::bool_at(op, &["sync", "dryRun"]) {
        return None;
    }
    let wave = |r: &Value| meta::i64_at(r, &["syncWave"]).unwrap_or(0);
    let resources: Vec<&Value> = array_at(app, &["status", "resources"])
        .iter()
        .filter(|r| r.is_object() && selected(op, r) && !meta::bool_at(r, &["requiresPruning"]))
        .collect();
    let mut waves: Vec<i64> = resources.iter().map(|r| wave(r)).collect();
    waves.sort_unstable();
    waves.dedup();
    if waves.len() < 2 {
        return None;
    }
    let progressing: Vec<&Value> = resources
        .into_iter()
        .filter(|r| {
            let key = key_of_resource(r);
            let live = ctx
                .world
                .get(&key.group, &key.kind, &key.namespace, &key.name);
            health_of(live.as_deref()).0 == "Progressing"
        })
        .collect();
    let lowest = progressing.iter().map(|r| wave(r)).min()?;
    let waiting: Vec<&Value> = progressing
        .into_iter()
        .filter(|r| wave(r) == lowest)
        .collect();
    let first = waiting.first()?;
    let mut message = format!(
        "waiting for healthy state of {}/{}/{}",
        str_at(first, &["group"]),
        str_at(first, &["kind"]),
        str_at(first, &["name"])
    );
    if waiting.len() > 1 {
        message.push_str(&format!(" and {} more resources", waiting.len() - 1));
    }
    Some(message)
}

/// Ends a running operation.
fn finish(app: &Value, op: &Value, new: &mut Value, ctx: &mut Ctx<'_>, out: &mut Outcome) {
    let now = ctx.now_str();
    let dry_run = meta::bool_at(op, &["sync", "dryRun"]);
    let prune = meta::bool_at(op, &["sync", "prune"]);
    let selective = !array_at(op, &["sync", "resources"]).is_empty();
    let revision = [
        str_at(op, &["sync", "revision"]),
        str_at(app, &["status", "sync", "revision"]),
        str_at(app, &["spec", "source", "targetRevision"]),
    ]
    .into_iter()
    .find(|r| !r.is_empty())
    .unwrap_or("HEAD")
    .to_string();
    let mut results = Vec::new();
    let mut failed = Vec::new();
    let mut resources: Vec<Value> = array_at(app, &["status", "resources"]).to_vec();
    let mut kept = Vec::new();
    for mut r in resources.drain(..) {
        if !r.is_object() || !selected(op, &r) {
            kept.push(r);
            continue;
        }
        let key = key_of_resource(&r);
        let live = ctx
            .world
            .get(&key.group, &key.kind, &key.namespace, &key.name);
        let mut result = Map::new();
        for f in ["group", "version", "kind", "namespace", "name"] {
            result.insert(f.into(), json!(str_at(&r, &[f])));
        }
        result.insert("syncPhase".into(), json!("Sync"));
        let suffix = if dry_run { " (dry run)" } else { "" };
        if meta::bool_at(&r, &["requiresPruning"]) {
            if prune {
                result.insert("status".into(), json!("Pruned"));
                result.insert("message".into(), json!(format!("pruned{suffix}")));
                if !dry_run {
                    out.push(Effect::Delete(key));
                    results.push(Value::Object(result));
                    continue;
                }
            } else {
                result.insert("status".into(), json!("PruneSkipped"));
                result.insert("message".into(), json!("ignored (requires pruning)"));
            }
        } else if live.is_none() {
            result.insert("status".into(), json!("SyncFailed"));
            result.insert(
                "message".into(),
                json!(
                    "the simulated Argo CD controller cannot create objects it has no manifests for"
                ),
            );
            failed.push(format!("{}/{}", key.kind, key.name));
        } else {
            result.insert("status".into(), json!("Synced"));
            result.insert(
                "message".into(),
                json!(format!(
                    "{}/{} configured{suffix}",
                    key.kind.to_lowercase(),
                    key.name
                )),
            );
            if !dry_run {
                set_path(&mut r, &["status"], json!("Synced"));
            }
        }
        results.push(Value::Object(result));
        kept.push(r);
    }
    let started = str_at(app, &["status", "operationState", "startedAt"]).to_string();
    let (phase, message) = if failed.is_empty() {
        (
            "Succeeded",
            "successfully synced (all tasks run)".to_string(),
        )
    } else {
        (
            "Failed",
            format!("one or more objects failed to apply: {}", failed.join(", ")),
        )
    };
    set_path(
        new,
        &["status", "operationState"],
        json!({"operation": op, "phase": phase, "message": message, "startedAt": started,
            "finishedAt": now,
            "syncResult": {"revision": revision, "resources": results,
                "source": at(app, &["spec", "source"]).cloned().unwrap_or(Value::Null)}}),
    );
    if !dry_run {
        let all_synced = kept
            .iter()
            .all(|r| str_at(r, &["status"]) == "Synced" && !meta::bool_at(r, &["requiresPruning"]));
        set_path(new, &["status", "resources"], Value::Array(kept));
        set_path(
            new,
            &["status", "sync"],
            json!({"status": if all_synced { "Synced" } else { "OutOfSync" }, "revision": revision}),
        );
        if !selective && failed.is_empty() {
            let mut history: Vec<Value> = array_at(app, &["status", "history"]).to_vec();
            let id = history
                .iter()
                .filter_map(|h| meta::i64_at(h, &["id"]))
                .max()
                .unwrap_or(-1)
                + 1;
            history.push(json!({"id": id, "revision": revision, "deployStartedAt": started,
                "deployedAt": now, "initiatedBy": op.get("initiatedBy").cloned().unwrap_or(json!({})),
                "source": at(app, &["spec", "source"]).cloned().unwrap_or(Value::Null)}));
            let keep = history.len().saturating_sub(10);
            set_path(
                new,
                &["status", "history"],
                Value::Array(history.split_off(keep)),
            );
        }
    }
    if let Some(o) = new.as_object_mut() {
        o.remove("operation");
    }
}

/// Sets each resource's health from the live objects, and the app's as the worst of them.
fn refresh_health(new: &mut Value, ctx: &Ctx<'_>) {
    let resources: Vec<Value> = array_at(new, &["status", "resources"]).to_vec();
    if resources.is_empty() {
        return;
    }
    let mut worst = "Healthy";
    let mut why = String::new();
    let mut updated = Vec::with_capacity(resources.len());
    for mut r in resources {
        if !r.is_object() {
            updated.push(r);
            continue;
        }
        let key = key_of_resource(&r);
        let live = ctx
            .world
            .get(&key.group, &key.kind, &key.namespace, &key.name);
        let (health, message) = health_of(live.as_deref());
        let counted = !meta::bool_at(&r, &["requiresPruning"]);
        if counted && rank(health) > rank(worst) {
            worst = health;
            why = if message.is_empty() {
                format!("{} {}/{} is {health}", key.kind, key.namespace, key.name)
            } else {
                message.clone()
            };
        }
        let mut h = json!({"status": health});
        if !message.is_empty() {
            h["message"] = json!(message);
        }
        set_path(&mut r, &["health"], h);
        updated.push(r);
    }
    set_path(new, &["status", "resources"], Value::Array(updated));
    let mut app_health = json!({"status": worst});
    if worst != "Healthy" {
        app_health["message"] = json!(why);
    }
    set_path(new, &["status", "health"], app_health);
}

#[cfg(test)]
mod tests {
    use super::super::test_world::FakeWorld;
    use super::*;
    use crate::clock::{Calendar, SimTime};

    fn app(op: Option<Value>, phase: Option<&str>) -> Value {
        let mut a = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "edge", "namespace": "argocd", "resourceVersion": "5",
                "annotations": {REFRESH: "hard"}},
            "spec": {"source": {"repoURL": "r", "targetRevision": "main"}},
            "status": {"sync": {"status": "OutOfSync", "revision": "old"},
                "resources": [{"version": "v1", "kind": "Service", "namespace": "edge", "name": "edge", "status": "OutOfSync"},
                    {"version": "v1", "kind": "ConfigMap", "namespace": "edge", "name": "gone", "status": "OutOfSync", "requiresPruning": true}]}});
        if let Some(op) = op {
            a["operation"] = op;
        }
        if let Some(p) = phase {
            a["status"]["operationState"] = json!({"phase": p, "startedAt": "2025-01-01T00:00:00Z",
                "operation": a["operation"].clone()});
        }
        a
    }

    fn run(obj: &Value, world: &FakeWorld, at_secs: i64) -> Outcome {
        let mut ids = 0u64;
        let mut next = || {
            ids += 1;
            ids
        };
        let mut ctx = Ctx::new(
            world,
            SimTime::from_unix_secs(at_secs),
            Calendar::IDENTITY,
            &mut next,
        );
        reconcile(obj, &mut ctx)
    }

    fn updated(out: &Outcome) -> &Value {
        out.effects
            .iter()
            .find_map(|e| match e {
                Effect::Update(v) => Some(v),
                _ => None,
            })
            .expect("an update")
    }

    #[test]
    fn runs_an_operation_in_two_steps() {
        let world = FakeWorld::with(vec![json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "edge", "namespace": "edge"}})]);
        let op = json!({"initiatedBy": {"username": "rekon"}, "sync": {"revision": "abc", "prune": true}});
        let start = run(&app(Some(op.clone()), None), &world, 1_735_689_600);
        let started = updated(&start);
        assert_eq!(started["status"]["operationState"]["phase"], "Running");
        assert!(started["metadata"]["annotations"].get(REFRESH).is_none());
        let done = run(&app(Some(op), Some("Running")), &world, 1_735_689_700);
        let v = updated(&done);
        assert_eq!(v["status"]["operationState"]["phase"], "Succeeded");
        assert!(v.get("operation").is_none());
        assert_eq!(
            v["status"]["sync"],
            json!({"status": "Synced", "revision": "abc"})
        );
        assert_eq!(v["status"]["health"]["status"], "Healthy");
        assert_eq!(v["status"]["history"][0]["revision"], "abc");
        assert!(
            done.effects
                .iter()
                .any(|e| matches!(e, Effect::Delete(k) if k.name == "gone"))
        );
    }

    #[test]
    fn a_sync_in_waves_waits_for_the_health_of_a_progressing_wave() {
        let deploy = |ready: i64| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "edge", "namespace": "edge", "generation": 1},
                "spec": {"replicas": 2},
                "status": {"observedGeneration": 1, "readyReplicas": ready}})
        };
        let service = json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "edge", "namespace": "edge"}});
        let mut running = app(Some(json!({"sync": {"revision": "abc"}})), Some("Running"));
        running["status"]["resources"] = json!([
            {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "edge",
                "name": "edge", "status": "Synced", "syncWave": 0},
            {"version": "v1", "kind": "Service", "namespace": "edge", "name": "edge",
                "status": "Synced", "syncWave": 1}]);
        let slow = FakeWorld::with(vec![deploy(0), service.clone()]);
        let out = run(&running, &slow, 1_735_693_200);
        let v = updated(&out);
        assert_eq!(v["status"]["operationState"]["phase"], "Running");
        assert_eq!(
            v["status"]["operationState"]["message"],
            "waiting for healthy state of apps/Deployment/edge"
        );
        assert!(v.get("operation").is_some());
        let ready = FakeWorld::with(vec![deploy(2), service]);
        let out = run(&running, &ready, 1_735_693_200);
        assert_eq!(
            updated(&out)["status"]["operationState"]["phase"],
            "Succeeded"
        );
    }

    #[test]
    fn terminating_ends_as_failed() {
        let world = FakeWorld::with(vec![]);
        let op = json!({"sync": {}});
        let out = run(&app(Some(op), Some("Terminating")), &world, 1_735_689_700);
        let v = updated(&out);
        assert_eq!(v["status"]["operationState"]["phase"], "Failed");
        assert_eq!(
            v["status"]["operationState"]["message"],
            "Operation terminated"
        );
        assert_eq!(v["status"]["health"]["status"], "Missing");
    }
}
