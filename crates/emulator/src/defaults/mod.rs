//! The defaults a real API server (v1.33) fills into objects, so that a diff against the
//! embedded cluster meets the same noise it meets on a real one.
//!
//! Each rule mirrors a `SetDefaults_*` function of Kubernetes' API types (or the way the Go
//! types serialise, e.g. `resources: {}` on every container). Fields set by admission
//! plugins (service account token volumes, priority, tolerations) and by allocators
//! (clusterIP, nodePort) are the caller's business.

use base64::Engine as _;
use serde_json::{Map, Value, json};

mod workloads;

use workloads::{cron_job, daemon_set, deployment, job, pod, pod_template, pvc_spec, stateful_set};

/// Fills the defaults a real API server sets, so diffs meet the same noise as on a real cluster.
pub fn apply_defaults(group: &str, kind: &str, obj: &mut Value) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    match (group, kind) {
        ("apps", "Deployment") => deployment(root),
        ("apps", "ReplicaSet") => {
            if let Some(spec) = child(root, "spec") {
                fill(spec, "replicas", json!(1));
                pod_template(spec);
            }
        }
        ("apps", "StatefulSet") => stateful_set(root),
        ("apps", "DaemonSet") => daemon_set(root),
        ("batch", "Job") => job(root),
        ("batch", "CronJob") => cron_job(root),
        ("", "Pod") => pod(root),
        ("", "PodTemplate") => pod_template(root),
        ("", "Service") => service(root),
        ("", "Secret") => secret(root),
        ("", "PersistentVolumeClaim") => {
            if let Some(spec) = child(root, "spec") {
                pvc_spec(spec);
            }
            if let Some(status) = child(root, "status") {
                fill(status, "phase", json!("Pending"));
            }
        }
        ("", "Namespace") => namespace(root),
        ("", "Endpoints") => {
            for subset in list_objects(root, "subsets") {
                for port in list_objects(subset, "ports") {
                    fill(port, "protocol", json!("TCP"));
                }
            }
        }
        ("discovery.k8s.io", "EndpointSlice") => {
            for port in list_objects(root, "ports") {
                fill(port, "name", json!(""));
                fill(port, "protocol", json!("TCP"));
            }
        }
        ("networking.k8s.io", "Ingress") => {
            // IngressStatus is a plain struct, so it always serialises.
            if let Some(status) = child(root, "status") {
                fill(status, "loadBalancer", json!({}));
            }
        }
        ("networking.k8s.io", "NetworkPolicy") => network_policy(root),
        ("autoscaling", "HorizontalPodAutoscaler") => hpa(root),
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => role_binding(root),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(root),
        _ => {}
    }
}

/// The object at `key`, created empty when absent or null; `None` when it holds another type.
fn child<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    let slot = map.entry(key).or_insert_with(|| json!({}));
    if slot.is_null() {
        *slot = json!({});
    }
    slot.as_object_mut()
}

/// The object at `key` when it exists (never created).
fn existing<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    map.get_mut(key).and_then(Value::as_object_mut)
}

/// The object items of the list at `key`.
fn list_objects<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> {
    map.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flat_map(|items| items.iter_mut().filter_map(Value::as_object_mut))
}

/// Sets `key` when it is absent, null, or (for string defaults) empty, as Go's zero checks do.
fn fill(map: &mut Map<String, Value>, key: &str, default: Value) {
    let unset = match map.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty() && default.is_string(),
        _ => false,
    };
    if unset {
        map.insert(key.to_string(), default);
    }
}

fn service(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    fill(spec, "sessionAffinity", json!("None"));
    if spec.get("sessionAffinity") == Some(&json!("None")) {
        spec.shift_remove("sessionAffinityConfig");
    }
    fill(spec, "type", json!("ClusterIP"));
    let service_type = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    for port in list_objects(spec, "ports") {
        fill(port, "protocol", json!("TCP"));
        let target_unset = match port.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        if target_unset && let Some(p) = port.get("port").cloned() {
            port.insert("targetPort".into(), p);
        }
    }
    let has_external_ips = spec
        .get("externalIPs")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let externally_accessible = matches!(service_type.as_str(), "LoadBalancer" | "NodePort")
        || (service_type == "ClusterIP" && has_external_ips);
    if externally_accessible {
        fill(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if matches!(
        service_type.as_str(),
        "ClusterIP" | "NodePort" | "LoadBalancer"
    ) {
        fill(spec, "internalTrafficPolicy", json!("Cluster"));
        // ipFamilyPolicy and ipFamilies come with the cluster IP's allocation (as the
        // registry sets them after the managed fields are recorded), not from defaulting.
        if let Some(ip) = spec
            .get("clusterIP")
            .filter(|ip| ip.as_str().is_some_and(|s| !s.is_empty()))
            .cloned()
        {
            fill(spec, "clusterIPs", json!([ip]));
        }
    }
    if service_type == "LoadBalancer" {
        fill(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    if let Some(status) = child(root, "status") {
        fill(status, "loadBalancer", json!({}));
    }
}

fn secret(root: &mut Map<String, Value>) {
    fill(root, "type", json!("Opaque"));
    let Some(Value::Object(string_data)) = root.shift_remove("stringData") else {
        return;
    };
    if let Some(data) = child(root, "data") {
        for (key, value) in string_data {
            let text = match value {
                Value::String(s) => s,
                Value::Null => continue,
                other => other.to_string(),
            };
            data.insert(key, json!(base64_encode(text.as_bytes())));
        }
    }
}

/// Standard base64 with padding, as Secret `data` and protobuf `[]byte` fields hold it in JSON.
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn namespace(root: &mut Map<String, Value>) {
    let name = root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(name) = name
        && let Some(meta) = child(root, "metadata")
        && let Some(labels) = child(meta, "labels")
    {
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    // The `kubernetes` finalizer and the Active phase come with creation (`stamp_new`),
    // after the managed fields are recorded, as kube-apiserver's strategy sets them.
}

fn network_policy(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    for direction in ["ingress", "egress"] {
        for rule in list_objects(spec, direction) {
            for port in list_objects(rule, "ports") {
                fill(port, "protocol", json!("TCP"));
            }
        }
    }
    let no_types = spec
        .get("policyTypes")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if no_types {
        let has_egress = spec
            .get("egress")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        let types = if has_egress {
            json!(["Ingress", "Egress"])
        } else {
            json!(["Ingress"])
        };
        spec.insert("policyTypes".into(), types);
    }
}

fn hpa(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    fill(spec, "minReplicas", json!(1));
    let no_metrics = spec
        .get("metrics")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    if no_metrics {
        spec.insert(
            "metrics".into(),
            json!([{"type": "Resource", "resource": {"name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 80}}}]),
        );
    }
    if let Some(behavior) = existing(spec, "behavior") {
        if let Some(up) = child(behavior, "scaleUp") {
            fill(up, "stabilizationWindowSeconds", json!(0));
            fill(up, "selectPolicy", json!("Max"));
            fill(
                up,
                "policies",
                json!([{"type": "Pods", "value": 4, "periodSeconds": 15},
                       {"type": "Percent", "value": 100, "periodSeconds": 15}]),
            );
        }
        if let Some(down) = child(behavior, "scaleDown") {
            fill(down, "stabilizationWindowSeconds", json!(300));
            fill(down, "selectPolicy", json!("Max"));
            fill(
                down,
                "policies",
                json!([{"type": "Percent", "value": 100, "periodSeconds": 15}]),
            );
        }
    }
}

fn role_binding(root: &mut Map<String, Value>) {
    if let Some(role_ref) = existing(root, "roleRef") {
        fill(role_ref, "apiGroup", json!("rbac.authorization.k8s.io"));
    }
    for subject in list_objects(root, "subjects") {
        let kind = subject.get("kind").and_then(Value::as_str).unwrap_or("");
        if matches!(kind, "User" | "Group") {
            fill(subject, "apiGroup", json!("rbac.authorization.k8s.io"));
        }
    }
}

fn crd(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    if let Some(names) = existing(spec, "names") {
        let kind = names
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if !kind.is_empty() {
            fill(names, "singular", json!(kind.to_lowercase()));
            fill(names, "listKind", json!(format!("{kind}List")));
        }
    }
    if let Some(conversion) = child(spec, "conversion") {
        fill(conversion, "strategy", json!("None"));
        if conversion.get("strategy") == Some(&json!("Webhook"))
            && let Some(service) = conversion
                .get_mut("webhook")
                .and_then(|w| w.get_mut("clientConfig"))
                .and_then(|c| c.get_mut("service"))
                .and_then(Value::as_object_mut)
        {
            fill(service, "port", json!(443));
        }
    }
}

#[cfg(test)]
mod tests;
