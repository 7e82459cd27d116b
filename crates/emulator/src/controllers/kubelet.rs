//! The kubelets of the simulated nodes: pod status as a function of simulated time.
//!
//! The kubelet writes `status.startTime` on its first look at a Pod; from then on every
//! container's state is worked out from the time elapsed since then, the Pod's restart policy,
//! its images and its `rekon.dev/simulate` annotation. Events are recorded for the transitions
//! between what the Pod's status said and what it says now. This keeps the kubelet a pure
//! function and makes a late reconcile land on the same state an early one would have.
//!
//! Failure modes chosen by the workload:
//! - an image whose name or tag contains `does-not-exist`: ErrImagePull, then
//!   ImagePullBackOff with growing back-off; the Pod never becomes Ready;
//! - `rekon.dev/simulate: crashloop` (or `fail` with restartPolicy Always): the container
//!   exits 1 shortly after each start and restarts after 10s, 20s, 40s … 300s
//!   (CrashLoopBackOff); it is never Ready;
//! - `rekon.dev/simulate: fail` with restartPolicy Never/OnFailure: the container exits 1 and
//!   the Pod ends Failed;
//! - `rekon.dev/simulate: slow-start=30s`: Ready only that long after the container started.

use serde_json::{Map, Value, json};

use super::containers::{PodSim, START_DELAY, View, container_status};
use super::meta;
use super::nodes;
use super::scheduler::{cond, qos_class};
use super::{Ctx, Effect, EventSpec, EventType, InvolvedObject, KUBELET, Outcome};
use crate::clock::SimDuration;

const COMPONENT: &str = "kubelet";
const STOP_GRACE: SimDuration = SimDuration::from_secs(1);
const CONDITION_ORDER: [&str; 5] = [
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
];

/// One kubelet pass over a Pod bound to a node.
pub fn reconcile(pod: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(KUBELET);
    if meta::is_terminating(pod) {
        return finish_deletion(pod, ctx, out);
    }
    if meta::pod_is_terminal(pod) {
        return out;
    }
    let node = meta::str_at(pod, &["spec", "nodeName"]).to_string();
    let now = ctx.now;
    // Later passes read the start back from the written startTime; above speed 1 that is up
    // to a real second earlier than the first pass took it, so the timeline may jump ahead
    // once (the first pass still shows the Pod being created).
    let t0 = ctx
        .time(meta::str_at(pod, &["status", "startTime"]))
        .unwrap_or_else(|| now.truncate_to_secs());
    let init_containers = meta::array_at(pod, &["spec", "initContainers"]);
    let containers = meta::array_at(pod, &["spec", "containers"]);
    let sim = PodSim::new(pod, now, t0, ctx.calendar);

    let init_views: Vec<View> = init_containers
        .iter()
        .zip(0u32..)
        .map(|(c, i)| sim.init_view(c, i))
        .collect();
    let views: Vec<View> = containers
        .iter()
        .map(|c| sim.main_view(c, !init_containers.is_empty()))
        .collect();

    let terminal_phase =
        if sim.to_completion && !views.is_empty() && views.iter().all(|v| v.exit.is_some()) {
            Some(if views.iter().any(|v| v.exit != Some(0)) {
                "Failed"
            } else {
                "Succeeded"
            })
        } else {
            None
        };
    let phase = terminal_phase.unwrap_or(if views.iter().any(|v| v.has_run) {
        "Running"
    } else {
        "Pending"
    });

    let now_str = ctx.now_str();
    let sandbox_ready = now >= t0 + START_DELAY && terminal_phase.is_none();
    let initialized = now >= sim.main_start;
    let unready: Vec<&str> = containers
        .iter()
        .zip(&views)
        .filter(|(_, v)| !v.ready)
        .map(|(c, _)| meta::str_at(c, &["name"]))
        .collect();
    let all_ready = !views.is_empty() && unready.is_empty();
    let mut conditions = meta::array_at(pod, &["status", "conditions"]).to_vec();
    let tf = |b: bool| if b { "True" } else { "False" };
    meta::upsert_condition(
        &mut conditions,
        cond("PodReadyToStartContainers", tf(sandbox_ready), None),
        &now_str,
    );
    let init_reason = if terminal_phase.is_some() {
        Some(("PodCompleted".to_string(), String::new()))
    } else if !initialized {
        let pending: Vec<&str> = init_containers
            .iter()
            .zip(&init_views)
            .filter(|(_, v)| v.exit.is_none())
            .map(|(c, _)| meta::str_at(c, &["name"]))
            .collect();
        Some((
            "ContainersNotInitialized".to_string(),
            format!("containers with incomplete status: [{}]", pending.join(" ")),
        ))
    } else {
        None
    };
    meta::upsert_condition(
        &mut conditions,
        cond(
            "Initialized",
            tf(initialized),
            init_reason.as_ref().map(|(r, m)| (r.as_str(), m.as_str())),
        ),
        &now_str,
    );
    let ready_reason = if terminal_phase.is_some() {
        Some(("PodCompleted".to_string(), String::new()))
    } else if !all_ready {
        Some((
            "ContainersNotReady".to_string(),
            format!("containers with unready status: [{}]", unready.join(" ")),
        ))
    } else {
        None
    };
    let rr = ready_reason.as_ref().map(|(r, m)| (r.as_str(), m.as_str()));
    meta::upsert_condition(&mut conditions, cond("Ready", tf(all_ready), rr), &now_str);
    meta::upsert_condition(
        &mut conditions,
        cond("ContainersReady", tf(all_ready), rr),
        &now_str,
    );
    if meta::condition(pod, "PodScheduled").is_none() {
        meta::upsert_condition(
            &mut conditions,
            cond("PodScheduled", "True", None),
            &now_str,
        );
    }
    conditions.sort_by_key(|c| {
        CONDITION_ORDER
            .iter()
            .position(|t| *t == meta::str_at(c, &["type"]))
            .unwrap_or(CONDITION_ORDER.len())
    });

    let host_ip = ctx
        .world
        .get("", "Node", "", &node)
        .and_then(|n| {
            meta::array_at(&n, &["status", "addresses"])
                .iter()
                .find(|a| meta::str_at(a, &["type"]) == "InternalIP")
                .map(|a| meta::str_at(a, &["address"]).to_string())
        })
        .unwrap_or_else(|| nodes::node_ip(&node));
    let mut pod_ip = meta::str_at(pod, &["status", "podIP"]).to_string();
    if pod_ip.is_empty() && sandbox_ready {
        pod_ip = if meta::bool_at(pod, &["spec", "hostNetwork"]) {
            host_ip.clone()
        } else {
            nodes::pod_ip(&node, ctx.next_id())
        };
    }

    let mut st = Map::new();
    st.insert("conditions".into(), Value::Array(conditions));
    st.insert(
        "containerStatuses".into(),
        Value::Array(
            containers
                .iter()
                .zip(&views)
                .map(|(c, v)| container_status(c, v, &sim))
                .collect(),
        ),
    );
    st.insert("hostIP".into(), json!(host_ip));
    st.insert("hostIPs".into(), json!([{"ip": host_ip}]));
    if !init_containers.is_empty() {
        st.insert(
            "initContainerStatuses".into(),
            Value::Array(
                init_containers
                    .iter()
                    .zip(&init_views)
                    .map(|(c, v)| container_status(c, v, &sim))
                    .collect(),
            ),
        );
    }
    st.insert("phase".into(), json!(phase));
    if !pod_ip.is_empty() {
        st.insert("podIP".into(), json!(pod_ip));
        st.insert("podIPs".into(), json!([{"ip": pod_ip}]));
    }
    st.insert("qosClass".into(), json!(qos_class(pod)));
    st.insert("startTime".into(), json!(ctx.stamp(t0)));
    let status = Value::Object(st);

    record_transitions(pod, containers, &views, &node, &mut out);
    if !meta::status_is(pod, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(pod, status)));
    }
    if terminal_phase.is_none()
        && let Some(next) = views
            .iter()
            .chain(init_views.iter())
            .filter_map(|v| v.next)
            .chain((!sandbox_ready).then_some(t0 + START_DELAY))
            .min()
    {
        out.requeue_at(now, next);
    }
    out
}

fn container_event(
    pod: &Value,
    container: &str,
    node: &str,
    event_type: EventType,
    reason: &str,
    message: String,
) -> EventSpec {
    EventSpec {
        involved: InvolvedObject::of(pod)
            .with_field_path(format!("spec.containers{{{container}}}")),
        event_type,
        reason: reason.to_string(),
        message,
        component: COMPONENT,
        host: Some(node.to_string()),
    }
}

/// Events for what changed between the Pod's recorded container states and the new ones.
fn record_transitions(
    pod: &Value,
    containers: &[Value],
    views: &[View],
    node: &str,
    out: &mut Outcome,
) {
    let old_statuses = meta::array_at(pod, &["status", "containerStatuses"]);
    for (c, v) in containers.iter().zip(views) {
        let name = meta::str_at(c, &["name"]);
        let image = meta::str_at(c, &["image"]);
        let old = old_statuses
            .iter()
            .find(|s| meta::str_at(s, &["name"]) == name);
        let old_reason = old.map_or("", |s| meta::str_at(s, &["state", "waiting", "reason"]));
        let old_running = old.is_some_and(|s| meta::at(s, &["state", "running"]).is_some());
        let old_restarts = old
            .and_then(|s| meta::i64_at(s, &["restartCount"]))
            .unwrap_or(0);
        let new_restarts = i64::from(v.restart_count);
        let ev = |t: EventType, reason: &str, msg: String| {
            container_event(pod, name, node, t, reason, msg)
        };
        let reason = v.waiting_reason();
        if old.is_none() && reason == "ContainerCreating" {
            out.event(ev(
                EventType::Normal,
                "Pulling",
                format!("Pulling image \"{image}\""),
            ));
        }
        if reason == "ErrImagePull" && old_reason != "ErrImagePull" {
            if old_reason == "ImagePullBackOff" {
                out.event(ev(
                    EventType::Normal,
                    "Pulling",
                    format!("Pulling image \"{image}\""),
                ));
            }
            let msg = meta::str_at(&v.state, &["waiting", "message"]);
            out.event(ev(
                EventType::Warning,
                "Failed",
                format!("Failed to pull image \"{image}\": {msg}"),
            ));
            out.event(ev(
                EventType::Warning,
                "Failed",
                "Error: ErrImagePull".into(),
            ));
        }
        if reason == "ImagePullBackOff" && old_reason != "ImagePullBackOff" {
            out.event(ev(
                EventType::Normal,
                "BackOff",
                format!("Back-off pulling image \"{image}\""),
            ));
            out.event(ev(
                EventType::Warning,
                "Failed",
                "Error: ImagePullBackOff".into(),
            ));
        }
        let is_running = v.state.get("running").is_some();
        if is_running && (!old_running || new_restarts != old_restarts) {
            let pulled = if new_restarts == 0 {
                format!("Successfully pulled image \"{image}\" in 1.2s (1.2s including waiting)")
            } else {
                format!("Container image \"{image}\" already present on machine")
            };
            out.event(ev(EventType::Normal, "Pulled", pulled));
            out.event(ev(
                EventType::Normal,
                "Created",
                format!("Created container: {name}"),
            ));
            out.event(ev(
                EventType::Normal,
                "Started",
                format!("Started container {name}"),
            ));
        }
        if reason == "CrashLoopBackOff"
            && (old_reason != "CrashLoopBackOff" || new_restarts != old_restarts)
        {
            out.event(ev(
                EventType::Warning,
                "BackOff",
                format!(
                    "Back-off restarting failed container {name} in pod {}_{}({})",
                    meta::name(pod),
                    meta::namespace(pod),
                    meta::uid(pod)
                ),
            ));
        }
    }
}

/// A Pod with `deletionTimestamp`: stop its running containers, give them a moment, then
/// make the final delete.
fn finish_deletion(pod: &Value, ctx: &mut Ctx<'_>, mut out: Outcome) -> Outcome {
    let node = meta::str_at(pod, &["spec", "nodeName"]).to_string();
    let grace_zero = meta::i64_at(pod, &["metadata", "deletionGracePeriodSeconds"]) == Some(0);
    let statuses = meta::array_at(pod, &["status", "containerStatuses"]);
    let running: Vec<&Value> = statuses
        .iter()
        .filter(|s| meta::at(s, &["state", "running"]).is_some())
        .collect();
    if node.is_empty() || grace_zero || meta::pod_is_terminal(pod) {
        out.push(Effect::Delete(meta::key_of(pod)));
        return out;
    }
    if running.is_empty() {
        let last_finish = statuses
            .iter()
            .filter_map(|s| ctx.time(meta::str_at(s, &["state", "terminated", "finishedAt"])))
            .max();
        match last_finish {
            Some(t) if ctx.now < t + STOP_GRACE => out.requeue_at(ctx.now, t + STOP_GRACE),
            _ => out.push(Effect::Delete(meta::key_of(pod))),
        }
        return out;
    }
    let now_str = ctx.now_str();
    let mut status = pod.get("status").cloned().unwrap_or_else(|| json!({}));
    if let Some(list) = status
        .get_mut("containerStatuses")
        .and_then(Value::as_array_mut)
    {
        for s in list.iter_mut() {
            if let Some(started) = meta::at(s, &["state", "running", "startedAt"]).cloned() {
                let id = meta::str_at(s, &["containerID"]).to_string();
                s["state"] = json!({"terminated": {"containerID": id, "exitCode": 0,
                    "finishedAt": now_str, "reason": "Completed", "startedAt": started}});
                s["ready"] = json!(false);
                s["started"] = json!(false);
                let name = meta::str_at(s, &["name"]).to_string();
                out.event(container_event(
                    pod,
                    &name,
                    &node,
                    EventType::Normal,
                    "Killing",
                    format!("Stopping container {name}"),
                ));
            }
        }
    }
    let mut conditions = meta::array_at(pod, &["status", "conditions"]).to_vec();
    for t in ["Ready", "ContainersReady"] {
        meta::upsert_condition(
            &mut conditions,
            cond(
                t,
                "False",
                Some((
                    "ContainersNotReady",
                    "containers with unready status: [terminating]",
                )),
            ),
            &now_str,
        );
    }
    conditions.sort_by_key(|c| {
        CONDITION_ORDER
            .iter()
            .position(|t| *t == meta::str_at(c, &["type"]))
            .unwrap_or(CONDITION_ORDER.len())
    });
    meta::set_path(&mut status, &["conditions"], Value::Array(conditions));
    out.push(Effect::UpdateStatus(meta::with_status(pod, status)));
    out.requeue(STOP_GRACE);
    out
}

#[cfg(test)]
mod tests {
    use super::super::containers::SIMULATE_ANNOTATION;
    use super::super::test_world::*;
    use super::*;
    use crate::clock::SimTime;

    const T0: i64 = 1_700_000_000;

    fn at(secs: u64) -> SimTime {
        SimTime::from_unix_secs(T0) + SimDuration::from_secs(secs)
    }

    fn pod(image: &str, simulate: Option<&str>, restart: &str) -> Value {
        let mut p = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop", "uid": "pod-uid", "annotations": {}},
            "spec": {"nodeName": "node-2", "restartPolicy": restart,
                "containers": [{"name": "web", "image": image}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True",
                "lastProbeTime": null, "lastTransitionTime": at(0).rfc3339()}]}});
        if let Some(s) = simulate {
            p["metadata"]["annotations"][SIMULATE_ANNOTATION] = json!(s);
        }
        p
    }

    /// Runs the kubelet at each instant in turn, feeding back the status it writes.
    fn run_until(mut p: Value, instants: &[u64]) -> (Value, Vec<String>) {
        let world = FakeWorld::with(super::super::nodes::initial_nodes(at(0)));
        let mut reasons_seen = Vec::new();
        for t in instants {
            let out = step(&p, &world, at(*t));
            reasons_seen.extend(reasons(&out).into_iter().map(String::from));
            if let Some(s) = status(&out) {
                p["status"] = s.clone();
            }
        }
        (p, reasons_seen)
    }

    fn container(p: &Value) -> &Value {
        &p["status"]["containerStatuses"][0]
    }

    #[test]
    fn normal_pod_goes_pending_then_running_and_ready() {
        let (p, _) = run_until(pod("nginx:1.25", None, "Always"), &[0]);
        assert_eq!(p["status"]["phase"], "Pending");
        assert_eq!(
            container(&p)["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
        assert_eq!(p["status"]["hostIP"], "172.18.0.3");
        assert_eq!(p["status"]["startTime"], at(0).rfc3339());
        let out = step(&p, &FakeWorld::default(), at(0));
        assert_eq!(requeue(&out), Some(SimDuration::from_secs(2)));

        let (p, events) = run_until(pod("nginx:1.25", None, "Always"), &[0, 2]);
        assert_eq!(p["status"]["phase"], "Running");
        assert!(meta::pod_is_ready(&p));
        assert!(meta::condition_true(&p, "ContainersReady"));
        assert!(meta::condition_true(&p, "Initialized"));
        let c = container(&p);
        assert_eq!(c["ready"], true);
        assert_eq!(c["started"], true);
        assert_eq!(c["restartCount"], 0);
        assert_eq!(c["image"], "docker.io/library/nginx:1.25");
        assert!(
            c["imageID"]
                .as_str()
                .unwrap()
                .starts_with("docker.io/library/nginx@sha256:")
        );
        assert!(
            c["containerID"]
                .as_str()
                .unwrap()
                .starts_with("containerd://")
        );
        assert!(
            p["status"]["podIP"]
                .as_str()
                .unwrap()
                .starts_with("10.244.1.")
        );
        assert_eq!(events, vec!["Pulling", "Pulled", "Created", "Started"]);
        let types: Vec<&str> = p["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, CONDITION_ORDER);
        // Nothing more to do once running and ready.
        let again = step(
            &p,
            &FakeWorld::with(super::super::nodes::initial_nodes(at(0))),
            at(50),
        );
        assert!(again.effects.is_empty(), "{:?}", again.effects);
    }

    #[test]
    fn missing_image_backs_off_and_never_gets_ready() {
        let (p, events) = run_until(pod("nginx:does-not-exist", None, "Always"), &[0, 2]);
        assert_eq!(container(&p)["state"]["waiting"]["reason"], "ErrImagePull");
        assert!(events.contains(&"Failed".to_string()));
        let (p, _) = run_until(pod("nginx:does-not-exist", None, "Always"), &[0, 2, 5]);
        let waiting = &container(&p)["state"]["waiting"];
        assert_eq!(waiting["reason"], "ImagePullBackOff");
        assert_eq!(
            waiting["message"],
            "Back-off pulling image \"nginx:does-not-exist\""
        );
        assert_eq!(p["status"]["phase"], "Pending");
        assert!(!meta::pod_is_ready(&p));
        let (p, _) = run_until(
            pod("registry.example/does-not-exist/app:v1", None, "Always"),
            &[0, 2, 5, 600],
        );
        assert!(!meta::pod_is_ready(&p));
        assert!(container(&p)["state"]["waiting"].is_object());
    }

    #[test]
    fn crashloop_restarts_with_growing_back_off() {
        let (p, _) = run_until(pod("busybox", Some("crashloop"), "Always"), &[0, 2, 3]);
        assert_eq!(p["status"]["phase"], "Running");
        assert!(container(&p)["state"]["running"].is_object());
        assert_eq!(container(&p)["ready"], false);
        // Crashes at 4s, back-off 10s: waiting until 14s.
        let (p, events) = run_until(pod("busybox", Some("crashloop"), "Always"), &[0, 2, 5]);
        let c = container(&p);
        assert_eq!(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(c["lastState"]["terminated"]["exitCode"], 1);
        assert_eq!(c["restartCount"], 0);
        assert!(events.contains(&"BackOff".to_string()));
        // Restarts at 14s, crashes at 16s, back-off 20s until 36s, restarts, crashes at 38s…
        let (p, _) = run_until(
            pod("busybox", Some("crashloop"), "Always"),
            &[0, 2, 5, 15, 17, 37],
        );
        assert_eq!(container(&p)["restartCount"], 2);
        let (p, _) = run_until(
            pod("busybox", Some("crashloop"), "Always"),
            &[0, 2, 5, 15, 17, 37, 39],
        );
        let c = container(&p);
        assert_eq!(c["restartCount"], 2);
        assert_eq!(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert!(
            c["state"]["waiting"]["message"]
                .as_str()
                .unwrap()
                .starts_with("back-off 40s")
        );
    }

    #[test]
    fn job_pods_succeed_or_fail() {
        let (p, _) = run_until(pod("busybox", None, "Never"), &[0, 2, 5]);
        assert_eq!(p["status"]["phase"], "Succeeded");
        assert_eq!(container(&p)["state"]["terminated"]["reason"], "Completed");
        let ready = meta::condition(&p, "Ready").unwrap();
        assert_eq!(ready["reason"], "PodCompleted");
        let (p, _) = run_until(pod("busybox", Some("fail"), "OnFailure"), &[0, 2, 5]);
        assert_eq!(p["status"]["phase"], "Failed");
        assert_eq!(container(&p)["state"]["terminated"]["exitCode"], 1);
        let out = step(&p, &FakeWorld::default(), at(100));
        assert!(out.effects.is_empty());
    }

    #[test]
    fn slow_start_delays_readiness() {
        let (p, _) = run_until(pod("nginx", Some("slow-start=30s"), "Always"), &[0, 2, 20]);
        assert_eq!(p["status"]["phase"], "Running");
        assert!(!meta::pod_is_ready(&p));
        let out = step(&p, &FakeWorld::default(), at(20));
        assert_eq!(requeue(&out), Some(SimDuration::from_secs(12)));
        let (p, _) = run_until(
            pod("nginx", Some("slow-start=30s"), "Always"),
            &[0, 2, 20, 32],
        );
        assert!(meta::pod_is_ready(&p));
    }

    #[test]
    fn init_containers_run_first() {
        let mut p0 = pod("nginx", None, "Always");
        p0["spec"]["initContainers"] = json!([{"name": "setup", "image": "busybox"}]);
        let (p, _) = run_until(p0.clone(), &[0, 2]);
        assert!(p["status"]["initContainerStatuses"][0]["state"]["running"].is_object());
        assert_eq!(
            meta::condition(&p, "Initialized").unwrap()["status"],
            "False"
        );
        assert_eq!(
            container(&p)["state"]["waiting"]["reason"],
            "PodInitializing"
        );
        let (p, _) = run_until(p0, &[0, 2, 3]);
        assert_eq!(
            p["status"]["initContainerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        assert!(meta::pod_is_ready(&p));
    }

    #[test]
    fn deletion_stops_containers_then_deletes() {
        let (mut p, _) = run_until(pod("nginx", None, "Always"), &[0, 2]);
        p["metadata"]["deletionTimestamp"] = json!(at(10).rfc3339());
        let world = FakeWorld::default();
        let out = step(&p, &world, at(10));
        assert_eq!(reasons(&out), vec!["Killing"]);
        let st = status(&out).unwrap().clone();
        assert_eq!(
            st["containerStatuses"][0]["state"]["terminated"]["reason"],
            "Completed"
        );
        p["status"] = st;
        let soon = step(&p, &world, at(10));
        assert!(deleted(&soon).is_empty());
        let later = step(&p, &world, at(11));
        assert_eq!(deleted(&later).len(), 1);
    }
}
