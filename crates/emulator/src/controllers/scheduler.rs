//! The scheduler: binds an unscheduled Pod to a Ready node that fits its nodeSelector,
//! required node affinity and taints, spreading a controller's Pods across nodes.

use serde_json::{Map, Value, json};

use super::meta;
use super::{Ctx, Effect, EventSpec, EventType, Outcome, SCHEDULER};
use crate::clock::SimDuration;

const COMPONENT: &str = "default-scheduler";

/// One scheduling attempt for a Pod without `spec.nodeName`.
pub fn reconcile(pod: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(SCHEDULER);
    if meta::pod_is_terminal(pod) {
        return out;
    }
    let mut nodes = ctx.world.list("", "Node", None);
    nodes.sort_by(|a, b| meta::name(a).cmp(meta::name(b)));
    let total = nodes.len();
    let fitting: Vec<&Value> = nodes
        .iter()
        .map(|n| n.as_ref())
        .filter(|n| node_fits(pod, n))
        .collect();
    let now = ctx.now_str();

    let Some(node) = pick(pod, &fitting, ctx) else {
        let message = format!(
            "0/{total} nodes are available: {total} node(s) didn't match Pod's node affinity/selector."
        );
        let mut conditions = meta::array_at(pod, &["status", "conditions"]).to_vec();
        meta::upsert_condition(
            &mut conditions,
            cond("PodScheduled", "False", Some(("Unschedulable", &message))),
            &now,
        );
        let mut status = pod.get("status").cloned().unwrap_or_else(|| json!({}));
        meta::set_path(&mut status, &["phase"], json!("Pending"));
        meta::set_path(&mut status, &["conditions"], Value::Array(conditions));
        if !meta::status_is(pod, &status) {
            out.push(Effect::UpdateStatus(meta::with_status(pod, status)));
            out.event(EventSpec::new(
                pod,
                COMPONENT,
                EventType::Warning,
                "FailedScheduling",
                message,
            ));
        }
        // Nodes may change; look again later.
        out.requeue(SimDuration::from_secs(10));
        return out;
    };

    let node_name = meta::name(node).to_string();
    let mut bound = pod.clone();
    meta::set_path(&mut bound, &["spec", "nodeName"], json!(node_name));
    out.push(Effect::Update(bound));
    let mut conditions = Vec::new();
    meta::upsert_condition(&mut conditions, cond("PodScheduled", "True", None), &now);
    out.push(Effect::UpdateStatus(meta::with_status(
        pod,
        json!({"phase": "Pending", "conditions": conditions, "qosClass": qos_class(pod)}),
    )));
    out.event(EventSpec::new(
        pod,
        COMPONENT,
        EventType::Normal,
        "Scheduled",
        format!(
            "Successfully assigned {}/{} to {node_name}",
            meta::namespace(pod),
            meta::name(pod)
        ),
    ));
    out
}

/// A pod condition with `lastProbeTime: null`, as the kubelet and scheduler write them.
pub fn cond(ctype: &str, status: &str, reason: Option<(&str, &str)>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!(ctype));
    m.insert("status".into(), json!(status));
    m.insert("lastProbeTime".into(), Value::Null);
    if let Some((r, msg)) = reason {
        m.insert("reason".into(), json!(r));
        if !msg.is_empty() {
            m.insert("message".into(), json!(msg));
        }
    }
    m
}

/// The Pod's QoS class from its containers' requests and limits.
pub fn qos_class(pod: &Value) -> &'static str {
    let containers = meta::array_at(pod, &["spec", "containers"]);
    let mut any = false;
    let mut guaranteed = true;
    for c in containers {
        let requests = meta::at(c, &["resources", "requests"]).and_then(Value::as_object);
        let limits = meta::at(c, &["resources", "limits"]).and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for res in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(res));
            let request = requests.and_then(|r| r.get(res)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    match (any, guaranteed && !containers.is_empty()) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

fn node_fits(pod: &Value, node: &Value) -> bool {
    if meta::bool_at(node, &["spec", "unschedulable"]) || !meta::condition_true(node, "Ready") {
        return false;
    }
    let labels = meta::labels(node);
    if let Some(sel) = meta::at(pod, &["spec", "nodeSelector"]).and_then(Value::as_object)
        && !meta::map_selects(sel, &labels)
    {
        return false;
    }
    let terms = meta::array_at(
        pod,
        &[
            "spec",
            "affinity",
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        ],
    );
    // Terms are ORed; the requirements inside one term are ANDed.
    if !terms.is_empty() && !terms.iter().any(|t| term_matches(t, node, &labels)) {
        return false;
    }
    let tolerations = meta::array_at(pod, &["spec", "tolerations"]);
    meta::array_at(node, &["spec", "taints"])
        .iter()
        .all(|taint| {
            let effect = meta::str_at(taint, &["effect"]);
            effect == "PreferNoSchedule" || tolerations.iter().any(|t| tolerates(t, taint))
        })
}

fn term_matches(term: &Value, node: &Value, labels: &Map<String, Value>) -> bool {
    let exprs_ok = meta::array_at(term, &["matchExpressions"]).iter().all(|e| {
        meta::selector_matches(&json!({"matchExpressions": [e]}), labels)
            || matches!(meta::str_at(e, &["operator"]), "Gt" | "Lt")
    });
    let fields_ok = meta::array_at(term, &["matchFields"]).iter().all(|f| {
        let value = if meta::str_at(f, &["key"]) == "metadata.name" {
            meta::name(node)
        } else {
            ""
        };
        let values: Vec<&str> = meta::array_at(f, &["values"])
            .iter()
            .filter_map(Value::as_str)
            .collect();
        match meta::str_at(f, &["operator"]) {
            "In" => values.contains(&value),
            "NotIn" => !values.contains(&value),
            _ => false,
        }
    });
    exprs_ok && fields_ok
}

fn tolerates(toleration: &Value, taint: &Value) -> bool {
    let key = meta::str_at(toleration, &["key"]);
    let effect = meta::str_at(toleration, &["effect"]);
    let op = meta::str_at(toleration, &["operator"]);
    let key_ok = (key.is_empty() && op == "Exists") || key == meta::str_at(taint, &["key"]);
    let effect_ok = effect.is_empty() || effect == meta::str_at(taint, &["effect"]);
    let value_ok =
        op == "Exists" || meta::str_at(toleration, &["value"]) == meta::str_at(taint, &["value"]);
    key_ok && effect_ok && value_ok
}

/// The fitting node with the fewest of this Pod's siblings (Pods of the same controller),
/// ties broken by a hash of the Pod's name so equal Pods do not all land on node-1.
fn pick<'n>(pod: &Value, fitting: &[&'n Value], ctx: &Ctx<'_>) -> Option<&'n Value> {
    if fitting.is_empty() {
        return None;
    }
    let ns = meta::namespace(pod);
    let siblings = match meta::controller_key(pod) {
        Some((_, uid)) if !uid.is_empty() => ctx.world.list_owned("", "Pod", ns, &uid),
        _ => Vec::new(),
    };
    let offset = meta::splitmix(
        meta::name(pod)
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))),
    ) as usize;
    let n = fitting.len();
    (0..n)
        .min_by_key(|&i| {
            let node = meta::name(fitting[i]);
            let load = siblings
                .iter()
                .filter(|p| {
                    meta::pod_is_active(p) && meta::str_at(p, &["spec", "nodeName"]) == node
                })
                .count();
            (load, (i + n - offset % n) % n)
        })
        .map(|i| fitting[i])
}

#[cfg(test)]
mod tests {
    use super::super::nodes::initial_nodes;
    use super::super::test_world::*;
    use super::*;
    use crate::clock::SimTime;

    fn pod(name: &str, node: Option<&str>) -> Value {
        let mut p = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "rs-uid", "controller": true}]},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
        if let Some(n) = node {
            p["spec"]["nodeName"] = json!(n);
        }
        p
    }

    #[test]
    fn binds_to_the_least_loaded_node() {
        let mut world = FakeWorld::with(initial_nodes(SimTime::from_unix_secs(0)));
        world.put(pod("a", Some("node-1")));
        world.put(pod("b", Some("node-2")));
        let out = step(&pod("c", None), &world, SimTime::from_unix_secs(5));
        let bound = updated(&out)[0];
        assert_eq!(bound["spec"]["nodeName"], "node-3");
        let st = status(&out).unwrap();
        assert_eq!(st["phase"], "Pending");
        assert_eq!(st["conditions"][0]["type"], "PodScheduled");
        assert_eq!(st["conditions"][0]["status"], "True");
        assert_eq!(st["qosClass"], "BestEffort");
        assert_eq!(reasons(&out), vec!["Scheduled"]);
    }

    #[test]
    fn honours_node_affinity_by_name_and_reports_unschedulable() {
        let world = FakeWorld::with(initial_nodes(SimTime::from_unix_secs(0)));
        let mut p = pod("ds", None);
        p["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-2"]}]}]}}});
        let out = step(&p, &world, SimTime::from_unix_secs(5));
        assert_eq!(updated(&out)[0]["spec"]["nodeName"], "node-2");

        p["spec"]["nodeSelector"] = json!({"disk": "ssd"});
        let out = step(&p, &world, SimTime::from_unix_secs(5));
        assert!(updated(&out).is_empty());
        let st = status(&out).unwrap();
        assert_eq!(st["conditions"][0]["reason"], "Unschedulable");
        assert_eq!(reasons(&out), vec!["FailedScheduling"]);
        assert!(requeue(&out).is_some());
    }

    #[test]
    fn qos_classes() {
        let mut p = pod("q", None);
        assert_eq!(qos_class(&p), "BestEffort");
        p["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "1", "memory": "1Gi"}});
        assert_eq!(qos_class(&p), "Guaranteed");
        p["spec"]["containers"][0]["resources"] = json!({"requests": {"cpu": "100m"}});
        assert_eq!(qos_class(&p), "Burstable");
    }
}
