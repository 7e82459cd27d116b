//! **Simulated** Flux controllers, for the demo and the tests: they are not Flux, fetch no
//! source and apply nothing. They answer what rekon asks of Flux objects the way the real
//! controllers report it:
//! - a new `reconcile.fluxcd.io/requestedAt` token (or a new generation) is picked up:
//!   `lastHandledReconcileAt` and `observedGeneration` are set with `Reconciling=True`, and
//!   a moment later the object is judged and `Ready` written;
//! - a source is Ready when it has `status.artifact` (which the demo and tests write), else
//!   not (the simulation cannot fetch);
//! - a Kustomization or HelmRelease is Ready when its `dependsOn` objects are Ready, its
//!   source has an artifact and every object of its `status.inventory` exists; then
//!   `lastAppliedRevision` (HelmRelease: `lastAttemptedRevision`) takes the source's revision.
//!   One waiting for a dependency is looked at again every few seconds;
//! - image objects are marked Ready, keeping what their status says;
//! - a suspended object is left alone, as Flux does.

use serde_json::{Map, Value, json};

use super::meta::{self, array_at, set_path, str_at};
use super::{Ctx, Effect, Outcome};
use crate::clock::SimDuration;
use crate::key::ResourceKey;

/// The annotation that asks for a reconcile.
const REQUESTED_AT: &str = "reconcile.fluxcd.io/requestedAt";
/// How long a simulated reconcile takes.
const RECONCILE_TIME: SimDuration = SimDuration::from_secs(1);
/// How soon an object waiting for a dependency or its source is looked at again.
const RETRY: SimDuration = SimDuration::from_secs(5);

/// The Flux kinds the simulation handles.
pub const KINDS: [(&str, &str); 9] = [
    ("kustomize.toolkit.fluxcd.io", "Kustomization"),
    ("helm.toolkit.fluxcd.io", "HelmRelease"),
    ("source.toolkit.fluxcd.io", "GitRepository"),
    ("source.toolkit.fluxcd.io", "OCIRepository"),
    ("source.toolkit.fluxcd.io", "HelmRepository"),
    ("source.toolkit.fluxcd.io", "HelmChart"),
    ("image.toolkit.fluxcd.io", "ImageRepository"),
    ("image.toolkit.fluxcd.io", "ImagePolicy"),
    ("image.toolkit.fluxcd.io", "ImageUpdateAutomation"),
];

/// The real controller's name for a group, used as field manager.
fn manager(group: &str) -> &'static str {
    match group {
        "kustomize.toolkit.fluxcd.io" => "kustomize-controller",
        "helm.toolkit.fluxcd.io" => "helm-controller",
        "source.toolkit.fluxcd.io" => "source-controller",
        _ => "image-reflector-controller",
    }
}

fn group_of(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map(|(g, _)| *g)
        .unwrap_or("source.toolkit.fluxcd.io")
}

fn reference(r: &Value, default_kind: &str, namespace: &str) -> Option<ResourceKey> {
    let name = str_at(r, &["name"]);
    if name.is_empty() {
        return None;
    }
    let kind = match str_at(r, &["kind"]) {
        "" => default_kind,
        k => k,
    };
    let ns = match str_at(r, &["namespace"]) {
        "" => namespace,
        n => n,
    };
    Some(ResourceKey::new(group_of(kind), kind, ns, name))
}

fn is_ready(obj: &Value) -> bool {
    meta::condition_true(obj, "Ready")
}

fn condition(ctype: &str, status: &str, reason: &str, message: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!(ctype));
    m.insert("status".into(), json!(status));
    m.insert("reason".into(), json!(reason));
    m.insert("message".into(), json!(message));
    m
}

/// One reconcile step of a Flux object.
pub(super) fn reconcile(obj: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let key = meta::key_of(obj);
    let mut out = Outcome::new(manager(&key.group));
    if !obj.is_object() || meta::bool_at(obj, &["spec", "suspend"]) {
        return out;
    }
    let token = meta::annotation(obj, REQUESTED_AT);
    let handled = str_at(obj, &["status", "lastHandledReconcileAt"]);
    let generation = meta::generation(obj);
    let observed = meta::i64_at(obj, &["status", "observedGeneration"]).unwrap_or(-1);
    let reconciling = meta::condition_true(obj, "Reconciling");
    let asked = (!token.is_empty() && token != handled)
        || observed != generation
        || meta::condition(obj, "Ready").is_none();
    let waiting = meta::condition(obj, "Ready").is_some_and(|c| {
        str_at(c, &["status"]) != "True"
            && matches!(
                str_at(c, &["reason"]),
                "DependencyNotReady"
                    | "ArtifactFailed"
                    | "ReconciliationFailed"
                    | "GitOperationFailed"
            )
    });
    let now = ctx.now_str();
    let mut status = obj.get("status").cloned().unwrap_or_else(|| json!({}));
    if !status.is_object() {
        status = json!({});
    }
    let mut conditions: Vec<Value> = array_at(&status, &["conditions"]).to_vec();
    if asked && !reconciling {
        if !token.is_empty() {
            set_path(&mut status, &["lastHandledReconcileAt"], json!(token));
        }
        set_path(&mut status, &["observedGeneration"], json!(generation));
        meta::upsert_condition(
            &mut conditions,
            condition(
                "Reconciling",
                "True",
                "Progressing",
                "Reconciliation in progress",
            ),
            &now,
        );
        meta::upsert_condition(
            &mut conditions,
            condition(
                "Ready",
                "Unknown",
                "Progressing",
                "Reconciliation in progress",
            ),
            &now,
        );
        out.requeue(RECONCILE_TIME);
    } else if reconciling || asked || waiting {
        let verdict = judge(obj, &key, ctx, &mut status);
        conditions.retain(|c| str_at(c, &["type"]) != "Reconciling");
        let (ready, reason, message) = match &verdict {
            Ok(message) => ("True", success_reason(&key.kind), message.clone()),
            Err((reason, message)) => ("False", *reason, message.clone()),
        };
        meta::upsert_condition(
            &mut conditions,
            condition("Ready", ready, reason, &message),
            &now,
        );
        if verdict.is_err() {
            out.requeue(RETRY);
        }
    } else {
        return out;
    }
    set_path(&mut status, &["conditions"], Value::Array(conditions));
    if !meta::status_is(obj, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(obj, status)));
    }
    out
}

fn success_reason(kind: &str) -> &'static str {
    match kind {
        "Kustomization" => "ReconciliationSucceeded",
        "HelmRelease" => "UpgradeSucceeded",
        _ => "Succeeded",
    }
}

/// Whether the object would reconcile, and with what message; sets the revision fields.
fn judge(
    obj: &Value,
    key: &ResourceKey,
    ctx: &Ctx<'_>,
    status: &mut Value,
) -> Result<String, (&'static str, String)> {
    let ns = key.namespace.as_str();
    match key.kind.as_str() {
        "GitRepository" | "OCIRepository" | "HelmRepository" | "HelmChart" => {
            let revision = str_at(obj, &["status", "artifact", "revision"]);
            if revision.is_empty() {
                return Err((
                    "GitOperationFailed",
                    "the simulated source-controller fetches nothing: no artifact in status".into(),
                ));
            }
            Ok(format!("stored artifact for revision '{revision}'"))
        }
        "Kustomization" | "HelmRelease" => {
            for dep in array_at(obj, &["spec", "dependsOn"]) {
                let Some(mut dk) = reference(dep, &key.kind, ns) else {
                    continue;
                };
                dk.group = key.group.clone();
                dk.kind = key.kind.clone();
                let ready = ctx
                    .world
                    .get(&dk.group, &dk.kind, &dk.namespace, &dk.name)
                    .is_some_and(|d| is_ready(&d));
                if !ready {
                    return Err((
                        "DependencyNotReady",
                        format!("dependency '{}/{}' is not ready", dk.namespace, dk.name),
                    ));
                }
            }
            let source = if key.kind == "Kustomization" {
                meta::at(obj, &["spec", "sourceRef"])
                    .and_then(|r| reference(r, "GitRepository", ns))
            } else if let Some(r) = meta::at(obj, &["spec", "chartRef"]) {
                reference(r, "OCIRepository", ns)
            } else {
                meta::at(obj, &["spec", "chart", "spec", "sourceRef"])
                    .and_then(|r| reference(r, "HelmRepository", ns))
            };
            let revision = match &source {
                Some(s) => {
                    let src = ctx.world.get(&s.group, &s.kind, &s.namespace, &s.name);
                    let rev = src
                        .as_deref()
                        .map(|o| str_at(o, &["status", "artifact", "revision"]).to_string())
                        .unwrap_or_default();
                    if rev.is_empty() {
                        return Err((
                            "ArtifactFailed",
                            format!(
                                "Source artifact not found: {} '{}/{}'",
                                s.kind, s.namespace, s.name
                            ),
                        ));
                    }
                    rev
                }
                None => return Err(("ArtifactFailed", "no source reference in spec".into())),
            };
            for entry in array_at(obj, &["status", "inventory", "entries"]) {
                let id = str_at(entry, &["id"]);
                let parts: Vec<&str> = id.rsplitn(3, '_').collect();
                let (Some(kind), Some(group), Some(rest)) =
                    (parts.first(), parts.get(1), parts.get(2))
                else {
                    continue;
                };
                let Some((ons, oname)) = rest.split_once('_') else {
                    continue;
                };
                if ctx.world.get(group, kind, ons, oname).is_none() {
                    return Err((
                        "ReconciliationFailed",
                        format!(
                            "{kind}/{ons}/{oname} is not in the cluster (the simulated {} applies nothing)",
                            manager(&key.group)
                        ),
                    ));
                }
            }
            if key.kind == "HelmRelease" {
                let version = match str_at(obj, &["spec", "chart", "spec", "version"]) {
                    "" => revision.clone(),
                    v => v.to_string(),
                };
                set_path(status, &["lastAttemptedRevision"], json!(version));
                Ok(format!(
                    "Helm upgrade succeeded for release {ns}/{}",
                    key.name
                ))
            } else {
                set_path(status, &["lastAppliedRevision"], json!(revision));
                set_path(status, &["lastAttemptedRevision"], json!(revision));
                Ok(format!("Applied revision: {revision}"))
            }
        }
        _ => Ok("simulated: nothing to do".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_world::FakeWorld;
    use super::*;
    use crate::clock::{Calendar, SimTime};

    fn ks(token: &str, status: Value) -> Value {
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "apps", "namespace": "flux-system", "generation": 1,
                "annotations": {REQUESTED_AT: token}},
            "spec": {"sourceRef": {"kind": "GitRepository", "name": "platform"}, "dependsOn": [{"name": "infra"}]},
            "status": status})
    }

    fn run(obj: &Value, world: &FakeWorld) -> Outcome {
        let mut n = 0u64;
        let mut ids = || {
            n += 1;
            n
        };
        let mut ctx = Ctx::new(
            world,
            SimTime::from_unix_secs(1_735_689_600),
            Calendar::IDENTITY,
            &mut ids,
        );
        reconcile(obj, &mut ctx)
    }

    fn status_of(out: &Outcome) -> Value {
        out.effects
            .iter()
            .find_map(|e| match e {
                Effect::UpdateStatus(v) => Some(v["status"].clone()),
                _ => None,
            })
            .expect("a status update")
    }

    #[test]
    fn handles_a_request_then_judges() {
        let source = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": "platform", "namespace": "flux-system"},
            "status": {"artifact": {"revision": "main@sha1:abc"}}});
        let infra = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": "infra", "namespace": "flux-system"},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let world = FakeWorld::with(vec![source, infra]);
        let first = status_of(&run(&ks("t1", json!({})), &world));
        assert_eq!(first["lastHandledReconcileAt"], "t1");
        assert_eq!(first["conditions"][0]["type"], "Reconciling");
        let second = status_of(&run(&ks("t1", first), &world));
        assert_eq!(second["lastAppliedRevision"], "main@sha1:abc");
        let ready = second["conditions"].as_array().unwrap();
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0]["status"], "True");
        assert_eq!(ready[0]["message"], "Applied revision: main@sha1:abc");
    }

    #[test]
    fn waits_for_dependencies_and_leaves_suspended_objects_alone() {
        let world = FakeWorld::with(vec![]);
        let reconciling = json!({"lastHandledReconcileAt": "t1", "observedGeneration": 1,
            "conditions": [{"type": "Reconciling", "status": "True"}]});
        let out = run(&ks("t1", reconciling.clone()), &world);
        let st = status_of(&out);
        assert_eq!(st["conditions"][0]["reason"], "DependencyNotReady");
        assert!(out.effects.iter().any(|e| matches!(e, Effect::Requeue(_))));
        let mut suspended = ks("t2", reconciling);
        suspended["spec"]["suspend"] = json!(true);
        assert!(run(&suspended, &world).effects.is_empty());
    }
}
