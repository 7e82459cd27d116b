//! Service controllers: the EndpointSlice controller (`<svc>-<suffix>`, endpoints from the
//! selected Pods with ready/serving/terminating conditions), the legacy Endpoints controller,
//! and a load-balancer provider that gives LoadBalancer Services and Ingresses an address
//! from 172.18.255.0/24 shortly after they appear.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::meta;
use super::{CONTROLLER_MANAGER, Ctx, Effect, EventSpec, EventType, Obj, Outcome, World};
use crate::clock::SimDuration;

const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
const MANAGED_BY: &str = "endpointslice-controller.k8s.io";
const ENDPOINTS_MANAGED_BY_LABEL: &str = "endpoints.kubernetes.io/managed-by";
const ENDPOINTS_MANAGED_BY: &str = "endpoint-controller";
/// How long a load balancer takes to be provisioned.
const LB_DELAY: SimDuration = SimDuration::from_secs(2);
/// The address every Ingress gets: the ingress controller's load balancer.
const INGRESS_IP: &str = "172.18.255.200";

/// One reconcile step for a Service.
pub fn reconcile(svc: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if meta::is_terminating(svc) {
        return out;
    }
    if let Some(selector) = meta::at(svc, &["spec", "selector"]).and_then(Value::as_object)
        && !selector.is_empty()
        && meta::str_at(svc, &["spec", "type"]) != "ExternalName"
    {
        let pods = selected_pods(svc, selector, ctx.world);
        sync_slice(svc, &pods, ctx, &mut out);
        sync_endpoints(svc, &pods, ctx.world, &mut out);
    }
    if meta::str_at(svc, &["spec", "type"]) == "LoadBalancer" {
        ensure_load_balancer(svc, ctx, &mut out, None);
    }
    out
}

/// One reconcile step for an Ingress: it gets the ingress controller's address.
pub fn reconcile_ingress(ing: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if !meta::is_terminating(ing) {
        ensure_load_balancer(ing, ctx, &mut out, Some(INGRESS_IP));
    }
    out
}

/// A deleted Service takes its legacy Endpoints with it.
pub fn reconcile_deleted(svc: &Value, world: &dyn World) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if let Some(ep) = world.get("", "Endpoints", meta::namespace(svc), meta::name(svc))
        && meta::str_at(&ep, &["metadata", "labels", ENDPOINTS_MANAGED_BY_LABEL])
            == ENDPOINTS_MANAGED_BY
    {
        out.push(Effect::Delete(meta::key_of(&ep)));
    }
    out
}

fn selected_pods(svc: &Value, selector: &Map<String, Value>, world: &dyn World) -> Vec<Obj> {
    let mut pods: Vec<Obj> = world
        .list("", "Pod", Some(meta::namespace(svc)))
        .into_iter()
        .filter(|p| {
            meta::map_selects(selector, &meta::labels(p))
                && !meta::pod_is_terminal(p)
                && !meta::str_at(p, &["status", "podIP"]).is_empty()
        })
        .collect();
    pods.sort_by(|a, b| meta::name(a).cmp(meta::name(b)));
    pods
}

/// The port number a Service port's targetPort means on `pod` (named ports are looked up in
/// the Pod's containers).
fn target_port(port: &Value, pod: Option<&Value>) -> Option<i64> {
    match port.get("targetPort") {
        None | Some(Value::Null) => meta::i64_at(port, &["port"]),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => {
            if let Ok(n) = s.parse::<i64>() {
                return Some(n);
            }
            pod.and_then(|p| {
                meta::array_at(p, &["spec", "containers"])
                    .iter()
                    .flat_map(|c| meta::array_at(c, &["ports"]))
                    .find(|cp| meta::str_at(cp, &["name"]) == s)
                    .and_then(|cp| meta::i64_at(cp, &["containerPort"]))
            })
        }
        _ => None,
    }
}

fn endpoint_ports(svc: &Value, pods: &[Obj]) -> Vec<Value> {
    meta::array_at(svc, &["spec", "ports"])
        .iter()
        .filter_map(|p| {
            let port = target_port(p, pods.first().map(|p| p.as_ref()))?;
            let mut m = Map::new();
            if let Some(ap) = p.get("appProtocol") {
                m.insert("appProtocol".into(), ap.clone());
            }
            m.insert("name".into(), json!(meta::str_at(p, &["name"])));
            m.insert("port".into(), json!(port));
            let proto = meta::str_at(p, &["protocol"]);
            m.insert(
                "protocol".into(),
                json!(if proto.is_empty() { "TCP" } else { proto }),
            );
            Some(Value::Object(m))
        })
        .collect()
}

fn target_ref(pod: &Value) -> Value {
    json!({"kind": "Pod", "name": meta::name(pod), "namespace": meta::namespace(pod), "uid": meta::uid(pod)})
}

fn sync_slice(svc: &Value, pods: &[Obj], ctx: &mut Ctx<'_>, out: &mut Outcome) {
    let ns = meta::namespace(svc);
    let svc_name = meta::name(svc);
    let publish_not_ready = meta::bool_at(svc, &["spec", "publishNotReadyAddresses"]);
    let endpoints: Vec<Value> = pods
        .iter()
        .map(|p| {
            let terminating = meta::is_terminating(p);
            let serving = meta::pod_is_ready(p) || publish_not_ready;
            let mut e = json!({
                "addresses": [meta::str_at(p, &["status", "podIP"])],
                "conditions": {"ready": serving && !terminating, "serving": serving, "terminating": terminating},
                "nodeName": meta::str_at(p, &["spec", "nodeName"]),
                "targetRef": target_ref(p),
            });
            if let Some(zone) = zone_of(p, ctx.world) {
                e["zone"] = json!(zone);
            }
            e
        })
        .collect();
    let ports = endpoint_ports(svc, pods);

    let mut existing: Vec<Obj> = ctx
        .world
        .list("discovery.k8s.io", "EndpointSlice", Some(ns))
        .into_iter()
        .filter(|s| {
            meta::str_at(s, &["metadata", "labels", SERVICE_NAME_LABEL]) == svc_name
                && meta::str_at(s, &["metadata", "labels", MANAGED_BY_LABEL]) == MANAGED_BY
        })
        .collect();
    existing.sort_by(|a, b| meta::name(a).cmp(meta::name(b)));

    let mut labels = meta::labels(svc);
    labels.insert(SERVICE_NAME_LABEL.into(), json!(svc_name));
    labels.insert(MANAGED_BY_LABEL.into(), json!(MANAGED_BY));
    match existing.split_first() {
        None => {
            let name = format!("{svc_name}-{}", ctx.suffix());
            out.push(Effect::Create(json!({
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": {
                    "name": name,
                    "generateName": format!("{svc_name}-"),
                    "namespace": ns,
                    "labels": labels,
                    "ownerReferences": [meta::controller_ref(svc)],
                },
                "addressType": "IPv4",
                "endpoints": endpoints,
                "ports": ports,
            })));
        }
        Some((first, rest)) => {
            let mut slice = (**first).clone();
            slice["endpoints"] = json!(endpoints);
            slice["ports"] = json!(ports);
            slice["metadata"]["labels"] = Value::Object(labels);
            if !meta::same_json(&slice, first) {
                out.push(Effect::Update(slice));
            }
            // Everything fits in one slice here; extra ones are leftovers.
            for extra in rest {
                out.push(Effect::Delete(meta::key_of(extra)));
            }
        }
    }
}

fn zone_of(pod: &Value, world: &dyn World) -> Option<String> {
    let node = world.get("", "Node", "", meta::str_at(pod, &["spec", "nodeName"]))?;
    let zone = meta::str_at(
        &node,
        &["metadata", "labels", "topology.kubernetes.io/zone"],
    );
    (!zone.is_empty()).then(|| zone.to_string())
}

fn sync_endpoints(svc: &Value, pods: &[Obj], world: &dyn World, out: &mut Outcome) {
    let ns = meta::namespace(svc);
    let name = meta::name(svc);
    let publish_not_ready = meta::bool_at(svc, &["spec", "publishNotReadyAddresses"]);
    let address = |p: &Value| {
        json!({"ip": meta::str_at(p, &["status", "podIP"]), "nodeName": meta::str_at(p, &["spec", "nodeName"]),
            "targetRef": target_ref(p)})
    };
    let live: Vec<&Obj> = pods.iter().filter(|p| !meta::is_terminating(p)).collect();
    let ready: Vec<Value> = live
        .iter()
        .filter(|p| meta::pod_is_ready(p) || publish_not_ready)
        .map(|p| address(p))
        .collect();
    let not_ready: Vec<Value> = live
        .iter()
        .filter(|p| !(meta::pod_is_ready(p) || publish_not_ready))
        .map(|p| address(p))
        .collect();
    let mut subset = Map::new();
    if !ready.is_empty() {
        subset.insert("addresses".into(), Value::Array(ready));
    }
    if !not_ready.is_empty() {
        subset.insert("notReadyAddresses".into(), Value::Array(not_ready));
    }
    let mut labels = meta::labels(svc);
    labels.insert(
        ENDPOINTS_MANAGED_BY_LABEL.into(),
        json!(ENDPOINTS_MANAGED_BY),
    );
    let mut desired = json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
    });
    if !subset.is_empty() {
        subset.insert(
            "ports".into(),
            json!(
                endpoint_ports(svc, pods)
                    .into_iter()
                    .map(|mut p| {
                        if let Some(m) = p.as_object_mut() {
                            m.remove("appProtocol");
                        }
                        p
                    })
                    .collect::<Vec<_>>()
            ),
        );
        desired["subsets"] = json!([subset]);
    }
    match world.get("", "Endpoints", ns, name) {
        None => out.push(Effect::Create(desired)),
        Some(current) => {
            let mut updated = (*current).clone();
            updated["metadata"]["labels"] = desired["metadata"]["labels"].clone();
            match desired.get("subsets") {
                Some(s) => updated["subsets"] = s.clone(),
                None => {
                    if let Some(m) = updated.as_object_mut() {
                        m.remove("subsets");
                    }
                }
            }
            if !meta::same_json(&updated, &current) {
                out.push(Effect::Update(updated));
            }
        }
    }
}

/// Gives a LoadBalancer Service or an Ingress an address `LB_DELAY` after it was created.
fn ensure_load_balancer(obj: &Value, ctx: &mut Ctx<'_>, out: &mut Outcome, fixed_ip: Option<&str>) {
    if !meta::array_at(obj, &["status", "loadBalancer", "ingress"]).is_empty() {
        return;
    }
    if let Some(created) = meta::creation_time(obj, ctx.calendar)
        && ctx.now < created + LB_DELAY
    {
        out.requeue_at(ctx.now, created + LB_DELAY);
        return;
    }
    let ip = match fixed_ip {
        Some(ip) => ip.to_string(),
        None => free_lb_ip(ctx.world),
    };
    let is_service = meta::str_at(obj, &["kind"]) == "Service";
    let entry = if is_service {
        json!({"ip": ip, "ipMode": "VIP"})
    } else {
        json!({"ip": ip})
    };
    let mut status = obj.get("status").cloned().unwrap_or_else(|| json!({}));
    meta::set_path(&mut status, &["loadBalancer"], json!({"ingress": [entry]}));
    out.push(Effect::UpdateStatus(meta::with_status(obj, status)));
    if is_service {
        out.event(EventSpec::new(
            obj,
            "service-controller",
            EventType::Normal,
            "EnsuringLoadBalancer",
            "Ensuring load balancer",
        ));
        out.event(EventSpec::new(
            obj,
            "service-controller",
            EventType::Normal,
            "EnsuredLoadBalancer",
            "Ensured load balancer",
        ));
    }
}

/// The lowest address of 172.18.255.201–254 no LoadBalancer Service holds yet.
fn free_lb_ip(world: &dyn World) -> String {
    let used: BTreeSet<String> = world
        .list("", "Service", None)
        .iter()
        .flat_map(|s| {
            meta::array_at(s, &["status", "loadBalancer", "ingress"])
                .iter()
                .map(|i| meta::str_at(i, &["ip"]).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    (201..=254)
        .chain(1..200)
        .map(|n| format!("172.18.255.{n}"))
        .find(|ip| !used.contains(ip))
        .unwrap_or_else(|| "172.18.255.254".to_string())
}

#[cfg(test)]
mod tests {
    use super::super::nodes::initial_nodes;
    use super::super::test_world::*;
    use super::*;
    use crate::clock::SimTime;

    fn svc() -> Value {
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop", "uid": "svc-uid", "labels": {"app": "web"},
                "creationTimestamp": "2024-05-01T10:00:00Z"},
            "spec": {"selector": {"app": "web"}, "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}})
    }

    fn pod(name: &str, ip: &str, ready: bool, terminating: bool) -> Value {
        let mut p = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("{name}-uid"), "labels": {"app": "web"}},
            "spec": {"nodeName": "node-1", "containers": [{"name": "web", "image": "nginx",
                "ports": [{"name": "http", "containerPort": 8080}]}]},
            "status": {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready",
                "status": if ready {"True"} else {"False"}}]}});
        if terminating {
            p["metadata"]["deletionTimestamp"] = json!("2024-05-01T10:05:00Z");
        }
        p
    }

    fn world() -> FakeWorld {
        let mut w = FakeWorld::with(initial_nodes(SimTime::from_unix_secs(0)));
        w.put(pod("web-a", "10.244.0.5", true, false));
        w.put(pod("web-b", "10.244.0.6", false, false));
        w.put(pod("web-c", "10.244.0.7", true, true));
        let mut other = pod("db", "10.244.0.9", true, false);
        other["metadata"]["labels"] = json!({"app": "db"});
        w.put(other);
        w
    }

    #[test]
    fn endpoint_slice_lists_selected_pods_with_conditions() {
        let out = step(&svc(), &world(), SimTime::from_unix_secs(1_714_557_600));
        let made = created(&out);
        let slice = made.iter().find(|o| o["kind"] == "EndpointSlice").unwrap();
        assert!(meta::name(slice).starts_with("web-"));
        assert_eq!(slice["metadata"]["labels"][SERVICE_NAME_LABEL], "web");
        assert_eq!(slice["metadata"]["labels"][MANAGED_BY_LABEL], MANAGED_BY);
        assert_eq!(slice["metadata"]["ownerReferences"][0]["uid"], "svc-uid");
        assert_eq!(slice["addressType"], "IPv4");
        let eps = slice["endpoints"].as_array().unwrap();
        assert_eq!(eps.len(), 3);
        assert_eq!(
            eps[0]["conditions"],
            json!({"ready": true, "serving": true, "terminating": false})
        );
        assert_eq!(
            eps[1]["conditions"],
            json!({"ready": false, "serving": false, "terminating": false})
        );
        assert_eq!(
            eps[2]["conditions"],
            json!({"ready": false, "serving": true, "terminating": true})
        );
        assert_eq!(eps[0]["zone"], "zone-a");
        assert_eq!(
            slice["ports"][0],
            json!({"name": "http", "port": 8080, "protocol": "TCP"})
        );

        let ep = made.iter().find(|o| o["kind"] == "Endpoints").unwrap();
        assert_eq!(ep["subsets"][0]["addresses"][0]["ip"], "10.244.0.5");
        assert_eq!(ep["subsets"][0]["notReadyAddresses"][0]["ip"], "10.244.0.6");
        assert_eq!(ep["subsets"][0]["addresses"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn existing_slice_is_updated_only_on_change() {
        let mut w = world();
        let first = step(&svc(), &w, SimTime::from_unix_secs(0));
        for o in created(&first) {
            let mut o = o.clone();
            o["metadata"]["uid"] = json!("x");
            w.put(o);
        }
        let again = step(&svc(), &w, SimTime::from_unix_secs(1));
        assert!(again.effects.is_empty(), "{:?}", again.effects);
        w.put(pod("web-b", "10.244.0.6", true, false));
        let changed = step(&svc(), &w, SimTime::from_unix_secs(2));
        assert_eq!(updated(&changed).len(), 2);
    }

    #[test]
    fn load_balancer_gets_an_address_after_a_delay() {
        let mut s = svc();
        s["spec"]["type"] = json!("LoadBalancer");
        let created_at = SimTime::parse_rfc3339("2024-05-01T10:00:00Z").unwrap();
        let out = step(&s, &world(), created_at + SimDuration::from_secs(1));
        assert!(status(&out).is_none());
        assert_eq!(requeue(&out), Some(SimDuration::from_secs(1)));
        let out = step(&s, &world(), created_at + SimDuration::from_secs(2));
        assert_eq!(
            status(&out).unwrap()["loadBalancer"]["ingress"][0]["ip"],
            "172.18.255.201"
        );
        assert!(reasons(&out).contains(&"EnsuredLoadBalancer"));

        let ing = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": "web", "namespace": "shop"}, "spec": {}});
        let out = step(&ing, &FakeWorld::default(), created_at);
        assert_eq!(
            status(&out).unwrap()["loadBalancer"]["ingress"][0]["ip"],
            INGRESS_IP
        );
    }

    #[test]
    fn deleted_service_removes_its_endpoints() {
        let mut w = FakeWorld::default();
        w.put(json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "shop",
            "labels": {ENDPOINTS_MANAGED_BY_LABEL: ENDPOINTS_MANAGED_BY}}}));
        let out = super::super::reconcile_deleted(&svc(), &w);
        assert_eq!(deleted(&out)[0].kind, "Endpoints");
    }
}
