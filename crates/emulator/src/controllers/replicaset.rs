//! ReplicaSet controller: keeps `spec.replicas` active Pods (`<rs>-<5 chars>`) and reports
//! replicas, fullyLabeledReplicas, readyReplicas, availableReplicas and observedGeneration.

use serde_json::{Map, Value, json};

use super::meta::{self, put_nonzero};
use super::{CONTROLLER_MANAGER, Ctx, Effect, EventSpec, EventType, Obj, Outcome};

const COMPONENT: &str = "replicaset-controller";

/// One reconcile step for a ReplicaSet.
pub fn reconcile(rs: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if meta::is_terminating(rs) {
        return out;
    }
    let ns = meta::namespace(rs);
    let want = meta::count_at(rs, &["spec", "replicas"], 1);
    let min_ready = meta::i64_at(rs, &["spec", "minReadySeconds"]).unwrap_or(0);
    let pods = ctx.world.list_owned("", "Pod", ns, meta::uid(rs));
    let active: Vec<&Obj> = pods.iter().filter(|p| meta::pod_is_active(p)).collect();
    let have = active.len() as i64;

    if have < want {
        let template = meta::at(rs, &["spec", "template"])
            .cloned()
            .unwrap_or_else(|| json!({}));
        for _ in have..want.min(have + meta::BURST as i64) {
            let pod_name = format!("{}-{}", meta::name(rs), ctx.suffix());
            let mut pod =
                meta::pod_from_template(&template, &pod_name, ns, meta::controller_ref(rs), &[]);
            pod["metadata"]["generateName"] = json!(format!("{}-", meta::name(rs)));
            out.push(Effect::Create(pod));
            out.event(EventSpec::new(
                rs,
                COMPONENT,
                EventType::Normal,
                "SuccessfulCreate",
                format!("Created pod: {pod_name}"),
            ));
        }
    } else if have > want {
        let mut victims = active.clone();
        victims.sort_by_key(|p| deletion_rank(p));
        for p in victims
            .into_iter()
            .take(((have - want) as usize).min(meta::BURST))
        {
            out.push(Effect::Delete(meta::key_of(p)));
            out.event(EventSpec::new(
                rs,
                COMPONENT,
                EventType::Normal,
                "SuccessfulDelete",
                format!("Deleted pod: {}", meta::name(p)),
            ));
        }
    }

    let template_labels = meta::at(rs, &["spec", "template", "metadata", "labels"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut ready = 0;
    let mut available = 0;
    let mut fully_labeled = 0;
    for p in &active {
        if meta::pod_is_ready(p) {
            ready += 1;
        }
        match meta::pod_availability(p, min_ready, ctx.now, ctx.calendar) {
            (true, _) => available += 1,
            (false, Some(at)) => out.requeue_at(ctx.now, at),
            (false, None) => {}
        }
        if meta::map_selects(&template_labels, &meta::labels(p)) {
            fully_labeled += 1;
        }
    }
    let mut status = Map::new();
    // `replicas` has no omitempty in the Go type; the others do.
    status.insert("replicas".into(), json!(have));
    put_nonzero(&mut status, "fullyLabeledReplicas", fully_labeled);
    put_nonzero(&mut status, "readyReplicas", ready);
    put_nonzero(&mut status, "availableReplicas", available);
    put_nonzero(&mut status, "observedGeneration", meta::generation(rs));
    if let Some(conds) = meta::at(rs, &["status", "conditions"]) {
        status.insert("conditions".into(), conds.clone());
    }
    let status = Value::Object(status);
    if !meta::status_is(rs, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(rs, status)));
    }
    out
}

/// Order in which surplus Pods go, as the ReplicaSet controller prefers: unscheduled before
/// scheduled, pending before running, not ready before ready, newer before older.
fn deletion_rank(pod: &Value) -> (u8, u8, u8, std::cmp::Reverse<String>, String) {
    let scheduled = u8::from(!meta::str_at(pod, &["spec", "nodeName"]).is_empty());
    let phase = match meta::pod_phase(pod) {
        "" | "Pending" => 0,
        "Unknown" => 1,
        _ => 2,
    };
    let ready = u8::from(meta::pod_is_ready(pod));
    let created = meta::str_at(pod, &["metadata", "creationTimestamp"]).to_string();
    (
        scheduled,
        phase,
        ready,
        std::cmp::Reverse(created),
        meta::name(pod).to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_world::*;
    use super::*;
    use crate::clock::SimTime;

    fn rs(replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-abc", "namespace": "shop", "uid": "rs-uid", "generation": 2},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    }

    fn pod(name: &str, ready: bool, node: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": "web", "pod-template-hash": "abc"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-abc",
                    "uid": "rs-uid", "controller": true}]},
            "spec": {"nodeName": node},
            "status": {"phase": if ready {"Running"} else {"Pending"},
                "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                    "lastTransitionTime": "2024-01-01T00:00:00Z"}]}})
    }

    #[test]
    fn creates_missing_pods_from_the_template() {
        let world = FakeWorld::default();
        let out = step(&rs(3), &world, SimTime::from_unix_secs(0));
        let pods = created(&out);
        assert_eq!(pods.len(), 3);
        let p = pods[0];
        assert!(meta::name(p).starts_with("web-abc-"));
        assert_eq!(meta::name(p).len(), "web-abc-".len() + 5);
        assert_eq!(p["metadata"]["labels"]["pod-template-hash"], "abc");
        assert_eq!(p["metadata"]["ownerReferences"][0]["uid"], "rs-uid");
        assert_eq!(p["spec"]["containers"][0]["image"], "nginx");
        assert_eq!(reasons(&out), vec!["SuccessfulCreate"; 3]);
        let st = status(&out).unwrap();
        assert_eq!(st["replicas"], 0);
        assert_eq!(st["observedGeneration"], 2);
    }

    #[test]
    fn scales_down_unready_pods_first_and_counts_status() {
        let world = FakeWorld::with([
            pod("web-abc-1", true, "node-1"),
            pod("web-abc-2", false, "node-2"),
            pod("web-abc-3", true, "node-3"),
        ]);
        let out = step(&rs(2), &world, SimTime::from_unix_secs(100));
        let gone = deleted(&out);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].name, "web-abc-2");
        let st = status(&out).unwrap();
        assert_eq!(st["replicas"], 3);
        assert_eq!(st["readyReplicas"], 2);
        assert_eq!(st["availableReplicas"], 2);
        assert_eq!(st["fullyLabeledReplicas"], 3);
    }

    #[test]
    fn steady_state_writes_nothing() {
        let world = FakeWorld::with([pod("web-abc-1", true, "node-1")]);
        let mut obj = rs(1);
        let first = step(&obj, &world, SimTime::from_unix_secs(100));
        obj["status"] = status(&first).unwrap().clone();
        let second = step(&obj, &world, SimTime::from_unix_secs(101));
        assert!(second.effects.is_empty(), "{:?}", second.effects);
    }

    #[test]
    fn min_ready_seconds_delays_availability() {
        let world = FakeWorld::with([pod("web-abc-1", true, "node-1")]);
        let mut obj = rs(1);
        obj["spec"]["minReadySeconds"] = json!(30);
        let ready_at = SimTime::parse_rfc3339("2024-01-01T00:00:00Z").unwrap();
        let out = step(
            &obj,
            &world,
            ready_at + crate::clock::SimDuration::from_secs(10),
        );
        assert!(status(&out).unwrap().get("availableReplicas").is_none());
        assert_eq!(
            requeue(&out),
            Some(crate::clock::SimDuration::from_secs(20))
        );
    }
}
