//! DaemonSet controller: one Pod on every node that fits the template's nodeSelector (pinned
//! with node affinity on `metadata.name`, as the real controller does), rolling updates
//! within maxUnavailable, and the status Argo CD's health check reads.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::hash::pod_template_hash;
use super::meta::{self, put_nonzero};
use super::{CONTROLLER_MANAGER, Ctx, Effect, EventSpec, EventType, Obj, Outcome};

const COMPONENT: &str = "daemonset-controller";
const REVISION_LABEL: &str = "controller-revision-hash";

/// One reconcile step for a DaemonSet.
pub fn reconcile(ds: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if meta::is_terminating(ds) {
        return out;
    }
    let ns = meta::namespace(ds);
    let template = meta::at(ds, &["spec", "template"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let hash = pod_template_hash(&template, meta::i64_at(ds, &["status", "collisionCount"]));
    let min_ready = meta::i64_at(ds, &["spec", "minReadySeconds"]).unwrap_or(0);
    let node_selector = meta::at(&template, &["spec", "nodeSelector"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut nodes = ctx.world.list("", "Node", None);
    nodes.sort_by(|a, b| meta::name(a).cmp(meta::name(b)));
    let wanted: Vec<&Obj> = nodes
        .iter()
        .filter(|n| meta::map_selects(&node_selector, &meta::labels(n)))
        .collect();

    let mut by_node: BTreeMap<String, Vec<Obj>> = BTreeMap::new();
    for p in ctx.world.list_owned("", "Pod", ns, meta::uid(ds)) {
        if meta::pod_is_terminal(&p) && !meta::is_terminating(&p) {
            // A finished daemon pod is replaced.
            out.push(Effect::Delete(meta::key_of(&p)));
            continue;
        }
        by_node
            .entry(target_node(&p).to_string())
            .or_default()
            .push(p);
    }

    let mut misscheduled = 0;
    for (node, pods) in &by_node {
        if !wanted.iter().any(|n| meta::name(n) == node) {
            misscheduled += 1;
            for p in pods.iter().filter(|p| !meta::is_terminating(p)) {
                out.push(Effect::Delete(meta::key_of(p)));
                out.event(delete_event(ds, p));
            }
        }
    }

    let max_unavailable = meta::int_or_percent(
        meta::at(
            ds,
            &["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"],
        ),
        "1",
        wanted.len() as i64,
        true,
    )
    .max(1);
    let on_delete = meta::str_at(ds, &["spec", "updateStrategy", "type"]) == "OnDelete";
    let (mut current, mut ready, mut available, mut updated, mut unavailable) = (0, 0, 0, 0, 0);
    let mut outdated: Vec<&Obj> = Vec::new();
    for node in &wanted {
        let node_name = meta::name(node);
        let live: Vec<&Obj> = by_node
            .get(node_name)
            .map(|ps| ps.iter().filter(|p| !meta::is_terminating(p)).collect())
            .unwrap_or_default();
        let Some(p) = live.first() else {
            if !by_node.contains_key(node_name) {
                let pod = new_pod(ds, &template, node_name, &hash, ctx);
                out.event(EventSpec::new(
                    ds,
                    COMPONENT,
                    EventType::Normal,
                    "SuccessfulCreate",
                    format!("Created pod: {}", meta::name(&pod)),
                ));
                out.push(Effect::Create(pod));
            }
            unavailable += 1;
            continue;
        };
        current += 1;
        if meta::pod_is_ready(p) {
            ready += 1;
        }
        match meta::pod_availability(p, min_ready, ctx.now, ctx.calendar) {
            (true, _) => available += 1,
            (false, at) => {
                unavailable += 1;
                if let Some(at) = at {
                    out.requeue_at(ctx.now, at);
                }
            }
        }
        if meta::str_at(p, &["metadata", "labels", REVISION_LABEL]) == hash {
            updated += 1;
        } else {
            outdated.push(p);
        }
    }
    if !on_delete {
        // Old pods go one batch at a time, never more unavailable than allowed.
        let budget = (max_unavailable - unavailable).max(0) as usize;
        for p in outdated.into_iter().take(budget) {
            out.push(Effect::Delete(meta::key_of(p)));
            out.event(delete_event(ds, p));
        }
    }

    let mut st = Map::new();
    st.insert("currentNumberScheduled".into(), json!(current));
    st.insert("desiredNumberScheduled".into(), json!(wanted.len()));
    put_nonzero(&mut st, "numberAvailable", available);
    st.insert("numberMisscheduled".into(), json!(misscheduled));
    st.insert("numberReady".into(), json!(ready));
    put_nonzero(&mut st, "numberUnavailable", unavailable);
    put_nonzero(&mut st, "observedGeneration", meta::generation(ds));
    put_nonzero(&mut st, "updatedNumberScheduled", updated);
    let status = Value::Object(st);
    if !meta::status_is(ds, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(ds, status)));
    }
    out
}

fn delete_event(ds: &Value, pod: &Value) -> EventSpec {
    EventSpec::new(
        ds,
        COMPONENT,
        EventType::Normal,
        "SuccessfulDelete",
        format!("Deleted pod: {}", meta::name(pod)),
    )
}

/// The node a daemon pod is meant for: its bound node, or the node its affinity pins.
fn target_node(pod: &Value) -> &str {
    let bound = meta::str_at(pod, &["spec", "nodeName"]);
    if !bound.is_empty() {
        return bound;
    }
    meta::array_at(
        pod,
        &[
            "spec",
            "affinity",
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        ],
    )
    .iter()
    .flat_map(|t| meta::array_at(t, &["matchFields"]))
    .find(|f| meta::str_at(f, &["key"]) == "metadata.name")
    .and_then(|f| meta::array_at(f, &["values"]).first())
    .and_then(Value::as_str)
    .unwrap_or("")
}

fn new_pod(ds: &Value, template: &Value, node: &str, hash: &str, ctx: &mut Ctx<'_>) -> Value {
    let name = format!("{}-{}", meta::name(ds), ctx.suffix());
    let mut pod = meta::pod_from_template(
        template,
        &name,
        meta::namespace(ds),
        meta::controller_ref(ds),
        &[
            (REVISION_LABEL, hash.to_string()),
            (
                "pod-template-generation",
                meta::generation(ds).max(1).to_string(),
            ),
        ],
    );
    pod["metadata"]["generateName"] = json!(format!("{}-", meta::name(ds)));
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else {
        return pod;
    };
    spec.insert(
        "affinity".into(),
        json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms":
            [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}),
    );
    // The tolerations the DaemonSet controller adds to every daemon pod.
    let tolerations = spec.entry("tolerations").or_insert_with(|| json!([]));
    if let Some(list) = tolerations.as_array_mut() {
        for (key, effect) in [
            ("node.kubernetes.io/not-ready", "NoExecute"),
            ("node.kubernetes.io/unreachable", "NoExecute"),
            ("node.kubernetes.io/disk-pressure", "NoSchedule"),
            ("node.kubernetes.io/memory-pressure", "NoSchedule"),
            ("node.kubernetes.io/pid-pressure", "NoSchedule"),
            ("node.kubernetes.io/unschedulable", "NoSchedule"),
        ] {
            if !list.iter().any(|t| meta::str_at(t, &["key"]) == key) {
                list.push(json!({"key": key, "operator": "Exists", "effect": effect}));
            }
        }
    }
    pod
}

#[cfg(test)]
mod tests {
    use super::super::nodes::initial_nodes;
    use super::super::test_world::*;
    use super::*;
    use crate::clock::SimTime;

    fn ds() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "agent", "namespace": "kube-system", "uid": "ds-uid", "generation": 1},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}})
    }

    #[test]
    fn one_pod_per_node_pinned_by_affinity() {
        let world = FakeWorld::with(initial_nodes(SimTime::from_unix_secs(0)));
        let out = step(&ds(), &world, SimTime::from_unix_secs(0));
        let pods = created(&out);
        assert_eq!(pods.len(), 3);
        let targets: Vec<&str> = pods.iter().map(|p| target_node(p)).collect();
        assert_eq!(targets, vec!["node-1", "node-2", "node-3"]);
        assert!(pods[0]["spec"]["tolerations"].as_array().unwrap().len() >= 6);
        let st = status(&out).unwrap();
        assert_eq!(st["desiredNumberScheduled"], 3);
        assert_eq!(st["currentNumberScheduled"], 0);
        assert_eq!(st["numberUnavailable"], 3);
        // Once created (even unbound), no duplicates are made.
        let mut world = world;
        for (i, p) in pods.iter().enumerate() {
            let mut p = (*p).clone();
            p["metadata"]["ownerReferences"][0]["uid"] = json!("ds-uid");
            p["metadata"]["name"] = json!(format!("agent-{i}"));
            world.put(p);
        }
        let again = step(&ds(), &world, SimTime::from_unix_secs(1));
        assert!(created(&again).is_empty());
        assert_eq!(status(&again).unwrap()["currentNumberScheduled"], 3);
    }

    #[test]
    fn node_selector_limits_the_nodes() {
        let world = FakeWorld::with(initial_nodes(SimTime::from_unix_secs(0)));
        let mut d = ds();
        d["spec"]["template"]["spec"]["nodeSelector"] = json!({"kubernetes.io/hostname": "node-2"});
        let out = step(&d, &world, SimTime::from_unix_secs(0));
        assert_eq!(created(&out).len(), 1);
        assert_eq!(status(&out).unwrap()["desiredNumberScheduled"], 1);
    }
}
