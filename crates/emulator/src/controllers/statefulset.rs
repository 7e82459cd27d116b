//! StatefulSet controller: Pods `<sts>-<ordinal>` created in order (each after the previous
//! is Running and Ready, unless `podManagementPolicy: Parallel`), PVCs from
//! volumeClaimTemplates (`<template>-<sts>-<ordinal>`, kept on scale-down), rolling updates
//! from the highest ordinal down (with partition), and the status fields Argo CD reads.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::hash::pod_template_hash;
use super::meta::{self, put_nonzero};
use super::{CONTROLLER_MANAGER, Ctx, Effect, EventSpec, EventType, Obj, Outcome};

const COMPONENT: &str = "statefulset-controller";
const REVISION_LABEL: &str = "controller-revision-hash";

/// One reconcile step for a StatefulSet.
pub fn reconcile(sts: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if meta::is_terminating(sts) {
        return out;
    }
    let name = meta::name(sts);
    let ns = meta::namespace(sts);
    let replicas = meta::count_at(sts, &["spec", "replicas"], 1);
    let parallel = meta::str_at(sts, &["spec", "podManagementPolicy"]) == "Parallel";
    let min_ready = meta::i64_at(sts, &["spec", "minReadySeconds"]).unwrap_or(0);
    let template = meta::at(sts, &["spec", "template"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let update_revision = format!(
        "{name}-{}",
        pod_template_hash(
            &template,
            // The status always carries collisionCount (0 at first), so hash with it from the start.
            Some(meta::i64_at(sts, &["status", "collisionCount"]).unwrap_or(0))
        )
    );
    let current_revision = match meta::str_at(sts, &["status", "currentRevision"]) {
        "" => update_revision.clone(),
        r => r.to_string(),
    };

    // Pods by ordinal; pods with other names are not ours to manage.
    let mut pods: BTreeMap<i64, Obj> = BTreeMap::new();
    for p in ctx.world.list_owned("", "Pod", ns, meta::uid(sts)) {
        if let Some(ord) = ordinal(name, meta::name(&p)) {
            pods.insert(ord, p);
        }
    }
    let healthy = |p: &Value| {
        meta::pod_is_ready(p) && meta::pod_phase(p) == "Running" && !meta::is_terminating(p)
    };

    // Scale up, in order.
    for ord in 0..replicas {
        match pods.get(&ord) {
            Some(p) if meta::pod_is_terminal(p) && !meta::is_terminating(p) => {
                // A failed or finished member is replaced, as the real controller does.
                out.push(Effect::Delete(meta::key_of(p)));
                break;
            }
            Some(p) => {
                if !parallel && !healthy(p) {
                    break;
                }
            }
            None => {
                let pod_name = format!("{name}-{ord}");
                for claim in claims(sts, ord) {
                    let claim_name = meta::name(&claim).to_string();
                    if ctx
                        .world
                        .get("", "PersistentVolumeClaim", ns, &claim_name)
                        .is_none()
                    {
                        out.push(Effect::Create(claim));
                        out.event(EventSpec::new(
                            sts,
                            COMPONENT,
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!("create Claim {claim_name} Pod {pod_name} in StatefulSet {name} success"),
                        ));
                    }
                }
                out.push(Effect::Create(new_pod(
                    sts,
                    &template,
                    ord,
                    &update_revision,
                )));
                out.event(EventSpec::new(
                    sts,
                    COMPONENT,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("create Pod {pod_name} in StatefulSet {name} successful"),
                ));
                if !parallel {
                    break;
                }
            }
        }
    }

    // Scale down from the highest ordinal, one at a time unless Parallel; claims stay.
    let surplus: Vec<&Obj> = pods.range(replicas..).rev().map(|(_, p)| p).collect();
    let all_healthy_below = pods.range(..replicas).all(|(_, p)| healthy(p));
    for p in surplus.iter().take(if parallel { usize::MAX } else { 1 }) {
        if meta::is_terminating(p) || (!parallel && !all_healthy_below) {
            continue;
        }
        out.push(Effect::Delete(meta::key_of(p)));
        out.event(EventSpec::new(
            sts,
            COMPONENT,
            EventType::Normal,
            "SuccessfulDelete",
            format!(
                "delete Pod {} in StatefulSet {name} successful",
                meta::name(p)
            ),
        ));
    }

    // Rolling update: replace the highest-ordinal outdated Pod once every other Pod is healthy.
    let strategy = meta::str_at(sts, &["spec", "updateStrategy", "type"]);
    let partition = meta::i64_at(
        sts,
        &["spec", "updateStrategy", "rollingUpdate", "partition"],
    )
    .unwrap_or(0);
    let in_range: Vec<(i64, &Obj)> = pods.range(..replicas).map(|(o, p)| (*o, p)).collect();
    if strategy != "OnDelete"
        && in_range.len() as i64 == replicas
        && in_range.iter().all(|(_, p)| healthy(p))
        && let Some((_, p)) = in_range
            .iter()
            .rev()
            .find(|(o, p)| *o >= partition && revision(p) != update_revision)
    {
        out.push(Effect::Delete(meta::key_of(p)));
        out.event(EventSpec::new(
            sts,
            COMPONENT,
            EventType::Normal,
            "SuccessfulDelete",
            format!(
                "delete Pod {} in StatefulSet {name} successful",
                meta::name(p)
            ),
        ));
    }

    let live: Vec<&Obj> = pods
        .values()
        .filter(|p| !meta::pod_is_terminal(p))
        .collect();
    let ready = live.iter().filter(|p| meta::pod_is_ready(p)).count() as i64;
    let mut available = 0;
    for p in &live {
        match meta::pod_availability(p, min_ready, ctx.now, ctx.calendar) {
            (true, _) => available += 1,
            (false, Some(at)) => out.requeue_at(ctx.now, at),
            _ => {}
        }
    }
    let updated = live
        .iter()
        .filter(|p| revision(p) == update_revision)
        .count() as i64;
    let mut current = live
        .iter()
        .filter(|p| revision(p) == current_revision)
        .count() as i64;
    let mut current_revision = current_revision;
    // The rollout is done when every replica runs the update revision and is ready.
    if updated == replicas && ready == replicas && live.len() as i64 == replicas {
        current_revision = update_revision.clone();
        current = updated;
    }
    let mut st = Map::new();
    st.insert("availableReplicas".into(), json!(available));
    st.insert(
        "collisionCount".into(),
        json!(meta::i64_at(sts, &["status", "collisionCount"]).unwrap_or(0)),
    );
    put_nonzero(&mut st, "currentReplicas", current);
    st.insert("currentRevision".into(), json!(current_revision));
    put_nonzero(&mut st, "observedGeneration", meta::generation(sts));
    put_nonzero(&mut st, "readyReplicas", ready);
    st.insert("replicas".into(), json!(live.len()));
    st.insert("updateRevision".into(), json!(update_revision));
    put_nonzero(&mut st, "updatedReplicas", updated);
    let status = Value::Object(st);
    if !meta::status_is(sts, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(sts, status)));
    }
    out
}

fn ordinal(sts_name: &str, pod_name: &str) -> Option<i64> {
    pod_name
        .strip_prefix(sts_name)?
        .strip_prefix('-')?
        .parse::<i64>()
        .ok()
        .filter(|o| *o >= 0)
}

fn revision(pod: &Value) -> &str {
    meta::str_at(pod, &["metadata", "labels", REVISION_LABEL])
}

/// The PersistentVolumeClaims the Pod of `ordinal` mounts, one per volumeClaimTemplate.
fn claims(sts: &Value, ordinal: i64) -> Vec<Value> {
    let sts_name = meta::name(sts);
    let selector_labels = meta::at(sts, &["spec", "selector", "matchLabels"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    meta::array_at(sts, &["spec", "volumeClaimTemplates"])
        .iter()
        .map(|t| {
            let mut labels = meta::at(t, &["metadata", "labels"])
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for (k, v) in &selector_labels {
                labels.insert(k.clone(), v.clone());
            }
            let mut claim = json!({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": format!("{}-{sts_name}-{ordinal}", meta::name(t)),
                    "namespace": meta::namespace(sts),
                    "labels": labels,
                },
                "spec": meta::at(t, &["spec"]).cloned().unwrap_or_else(|| json!({})),
            });
            if let Some(ann) = meta::at(t, &["metadata", "annotations"]).filter(|a| a.is_object()) {
                claim["metadata"]["annotations"] = ann.clone();
            }
            claim
        })
        .collect()
}

fn new_pod(sts: &Value, template: &Value, ordinal: i64, revision: &str) -> Value {
    let sts_name = meta::name(sts);
    let pod_name = format!("{sts_name}-{ordinal}");
    let mut pod = meta::pod_from_template(
        template,
        &pod_name,
        meta::namespace(sts),
        meta::controller_ref(sts),
        &[
            ("apps.kubernetes.io/pod-index", ordinal.to_string()),
            (REVISION_LABEL, revision.to_string()),
            ("statefulset.kubernetes.io/pod-name", pod_name.clone()),
        ],
    );
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return pod;
    };
    spec.insert("hostname".into(), json!(pod_name));
    if let Some(svc) = meta::at(sts, &["spec", "serviceName"]).and_then(Value::as_str)
        && !svc.is_empty()
    {
        spec.insert("subdomain".into(), json!(svc));
    }
    let volumes = spec.entry("volumes").or_insert_with(|| json!([]));
    if let Some(list) = volumes.as_array_mut() {
        for t in meta::array_at(sts, &["spec", "volumeClaimTemplates"]) {
            let vname = meta::name(t);
            list.retain(|v| meta::str_at(v, &["name"]) != vname);
            list.push(json!({"name": vname, "persistentVolumeClaim":
                {"claimName": format!("{vname}-{sts_name}-{ordinal}")}}));
        }
        if list.is_empty() {
            spec.remove("volumes");
        }
    }
    pod
}

#[cfg(test)]
mod tests {
    use super::super::test_world::*;
    use super::*;
    use crate::clock::SimTime;

    fn sts(replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "shop", "uid": "sts-uid", "generation": 1},
            "spec": {"replicas": replicas, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}},
                    "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}})
    }

    fn member(ord: i64, ready: bool, rev: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("db-{ord}"), "namespace": "shop",
                "labels": {"app": "db", REVISION_LABEL: rev},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db",
                    "uid": "sts-uid", "controller": true}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready",
                "status": if ready {"True"} else {"False"}}]}})
    }

    fn rev(s: &Value) -> String {
        format!("db-{}", pod_template_hash(&s["spec"]["template"], Some(0)))
    }

    #[test]
    fn creates_ordinal_zero_with_its_claim_first() {
        let out = step(&sts(3), &FakeWorld::default(), SimTime::from_unix_secs(0));
        let made = created(&out);
        assert_eq!(made.len(), 2);
        assert_eq!(made[0]["kind"], "PersistentVolumeClaim");
        assert_eq!(meta::name(made[0]), "data-db-0");
        assert_eq!(made[0]["metadata"]["labels"]["app"], "db");
        assert_eq!(meta::name(made[1]), "db-0");
        let pod = made[1];
        assert_eq!(pod["spec"]["hostname"], "db-0");
        assert_eq!(pod["spec"]["subdomain"], "db");
        assert_eq!(
            pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "data-db-0"
        );
        assert_eq!(
            pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"],
            "0"
        );
        let st = status(&out).unwrap();
        assert_eq!(st["replicas"], 0);
        assert_eq!(st["updateRevision"], st["currentRevision"]);
        assert_eq!(st["collisionCount"], 0);
    }

    #[test]
    fn waits_for_the_previous_ordinal_to_be_ready() {
        let s = sts(3);
        let world = FakeWorld::with([member(0, false, &rev(&s))]);
        let out = step(&s, &world, SimTime::from_unix_secs(0));
        assert!(created(&out).is_empty());
        let world = FakeWorld::with([member(0, true, &rev(&s))]);
        let out = step(&s, &world, SimTime::from_unix_secs(0));
        let names: Vec<&str> = created(&out).iter().map(|o| meta::name(o)).collect();
        assert_eq!(names, vec!["data-db-1", "db-1"]);
    }

    #[test]
    fn scale_down_removes_the_highest_ordinal_and_keeps_claims() {
        let s = sts(1);
        let world = FakeWorld::with([member(0, true, &rev(&s)), member(1, true, &rev(&s))]);
        let out = step(&s, &world, SimTime::from_unix_secs(0));
        let gone = deleted(&out);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].name, "db-1");
        assert_eq!(gone[0].kind, "Pod");
    }

    #[test]
    fn rolling_update_replaces_from_the_top_and_completes_revisions() {
        let s = sts(2);
        let world = FakeWorld::with([member(0, true, "db-old"), member(1, true, "db-old")]);
        let mut s_old = s.clone();
        s_old["status"] = json!({"currentRevision": "db-old"});
        let out = step(&s_old, &world, SimTime::from_unix_secs(0));
        assert_eq!(deleted(&out)[0].name, "db-1");
        let st = status(&out).unwrap();
        assert_eq!(st["currentRevision"], "db-old");
        assert_eq!(st["currentReplicas"], 2);
        assert!(st.get("updatedReplicas").is_none());
        let world = FakeWorld::with([member(0, true, &rev(&s)), member(1, true, &rev(&s))]);
        let out = step(&s_old, &world, SimTime::from_unix_secs(0));
        let st = status(&out).unwrap();
        assert_eq!(st["currentRevision"], json!(rev(&s)));
        assert_eq!(st["updatedReplicas"], 2);
        assert_eq!(st["readyReplicas"], 2);
        assert_eq!(st["availableReplicas"], 2);
    }

    #[test]
    fn its_own_status_does_not_change_the_revision() {
        let mut s = sts(2);
        let world = FakeWorld::with([member(0, true, &rev(&s)), member(1, true, &rev(&s))]);
        let first = step(&s, &world, SimTime::from_unix_secs(0));
        assert!(deleted(&first).is_empty());
        s["status"] = status(&first).unwrap().clone();
        let second = step(&s, &world, SimTime::from_unix_secs(1));
        assert!(second.effects.is_empty(), "{:?}", second.effects);
    }
}
