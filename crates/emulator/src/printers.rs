//! The columns and cells the real API server prints for the common built-in kinds (what
//! `kubectl get` shows), from the objects' fields.

use serde_json::{Map, Value, json};

use super::clock::seconds_since;
use super::kinds::ResourceType;

/// Kubernetes' short human durations: `45s`, `3m2s`, `5h`, `2d3h`, `3y`.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let s = seconds.max(0);
    if s < 120 {
        return format!("{s}s");
    }
    let minutes = s / 60;
    if minutes < 10 {
        return if s % 60 == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{}s", s % 60)
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = minutes / 60;
    if hours < 8 {
        return if minutes % 60 == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{}m", minutes % 60)
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return if hours % 24 == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{}h", hours / 24, hours % 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let years = hours / 24 / 365;
        let days = (hours / 24) % 365;
        return if days == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{days}d")
        };
    }
    format!("{}y", hours / 24 / 365)
}

pub(super) fn age(ts: Option<&Value>) -> Value {
    match ts.and_then(Value::as_str).and_then(seconds_since) {
        Some(s) => json!(human_duration(s)),
        None => json!("<unknown>"),
    }
}

fn s<'a>(o: &'a Value, ptr: &str) -> Option<&'a str> {
    o.pointer(ptr).and_then(Value::as_str)
}

fn n(o: &Value, ptr: &str) -> i64 {
    o.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn or_none(v: Option<&str>) -> Value {
    json!(v.filter(|x| !x.is_empty()).unwrap_or("<none>"))
}

fn arr<'a>(o: &'a Value, ptr: &str) -> &'a [Value] {
    o.pointer(ptr)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn joined(items: &[Value], ptr: &str) -> Value {
    let parts: Vec<&str> = items.iter().filter_map(|i| s(i, ptr)).collect();
    or_none(Some(&parts.join(",")))
}

fn selector_text(sel: Option<&Value>) -> Value {
    match sel.and_then(super::selectors::LabelSelector::from_object) {
        Some(s) if !s.is_empty() => json!(s.to_string()),
        _ => json!("<none>"),
    }
}

fn map_text(m: Option<&Value>) -> Value {
    let parts: Vec<String> = m
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    or_none(Some(&parts.join(",")))
}

/// (name, type, priority) of the columns after NAME, by kind.
type Col = (&'static str, &'static str, i64);

pub(super) fn builtin_columns(rt: &ResourceType) -> Option<&'static [Col]> {
    const AGE: Col = ("Age", "string", 0);
    Some(match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => &[
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            AGE,
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        ("", "Service") => &[
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            AGE,
            ("Selector", "string", 1),
        ],
        ("", "ConfigMap") => &[("Data", "string", 0), AGE],
        ("", "Secret") => &[("Type", "string", 0), ("Data", "string", 0), AGE],
        ("", "Namespace") => &[("Status", "string", 0), AGE],
        ("", "ServiceAccount") => &[("Secrets", "string", 0), AGE],
        ("", "Endpoints") => &[("Endpoints", "string", 0), AGE],
        ("", "Node") => &[
            ("Status", "string", 0),
            ("Roles", "string", 0),
            AGE,
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ],
        ("", "PersistentVolumeClaim") => &[
            ("Status", "string", 0),
            ("Volume", "string", 0),
            ("Capacity", "string", 0),
            ("Access Modes", "string", 0),
            ("StorageClass", "string", 0),
            ("VolumeAttributesClass", "string", 0),
            AGE,
            ("VolumeMode", "string", 1),
        ],
        ("", "Event") => &[
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Message", "string", 0),
        ],
        ("apps", "Deployment") => &[
            ("Ready", "string", 0),
            ("Up-to-date", "string", 0),
            ("Available", "string", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        ("apps", "ReplicaSet") => &[
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        ("apps", "StatefulSet") => &[
            ("Ready", "string", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
        ],
        ("apps", "DaemonSet") => &[
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Node Selector", "string", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        ("batch", "Job") => &[
            ("Status", "string", 0),
            ("Completions", "string", 0),
            ("Duration", "string", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        ("batch", "CronJob") => &[
            ("Schedule", "string", 0),
            ("Timezone", "string", 0),
            ("Suspend", "boolean", 0),
            ("Active", "integer", 0),
            ("Last Schedule", "string", 0),
            AGE,
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        ("networking.k8s.io", "Ingress") => &[
            ("Class", "string", 0),
            ("Hosts", "string", 0),
            ("Address", "string", 0),
            ("Ports", "string", 0),
            AGE,
        ],
        ("discovery.k8s.io", "EndpointSlice") => &[
            ("AddressType", "string", 0),
            ("Ports", "string", 0),
            ("Endpoints", "string", 0),
            AGE,
        ],
        ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => &[
            ("Role", "string", 0),
            AGE,
            ("Users", "string", 1),
            ("Groups", "string", 1),
            ("ServiceAccounts", "string", 1),
        ],
        ("autoscaling", "HorizontalPodAutoscaler") => &[
            ("Reference", "string", 0),
            ("Targets", "string", 0),
            ("MinPods", "string", 0),
            ("MaxPods", "integer", 0),
            ("Replicas", "integer", 0),
            AGE,
        ],
        ("policy", "PodDisruptionBudget") => &[
            ("Min Available", "string", 0),
            ("Max Unavailable", "string", 0),
            ("Allowed Disruptions", "integer", 0),
            AGE,
        ],
        _ => return None,
    })
}

fn containers_images(tpl: &Value) -> (Value, Value) {
    let cs = arr(tpl, "/spec/containers");
    (joined(cs, "/name"), joined(cs, "/image"))
}

fn pod_status(o: &Value) -> (String, i64, usize) {
    let mut reason = s(o, "/status/reason")
        .or(s(o, "/status/phase"))
        .unwrap_or("")
        .to_string();
    let mut ready = 0;
    let mut restarts = 0;
    let mut initializing = false;
    let inits = arr(o, "/status/initContainerStatuses");
    for (i, c) in inits.iter().enumerate() {
        restarts += n(c, "/restartCount");
        if c.pointer("/state/terminated").is_some() && n(c, "/state/terminated/exitCode") == 0 {
            continue;
        }
        initializing = true;
        reason = if let Some(r) = s(c, "/state/terminated/reason") {
            format!("Init:{r}")
        } else if let Some(r) = s(c, "/state/waiting/reason").filter(|r| *r != "PodInitializing") {
            format!("Init:{r}")
        } else {
            format!("Init:{i}/{}", arr(o, "/spec/initContainers").len())
        };
        break;
    }
    if !initializing {
        let mut running = false;
        for c in arr(o, "/status/containerStatuses").iter().rev() {
            restarts += n(c, "/restartCount");
            if let Some(r) = s(c, "/state/waiting/reason").filter(|r| !r.is_empty()) {
                reason = r.to_string();
            } else if let Some(r) = s(c, "/state/terminated/reason").filter(|r| !r.is_empty()) {
                reason = r.to_string();
            } else if c.pointer("/state/terminated").is_some() {
                reason = format!("ExitCode:{}", n(c, "/state/terminated/exitCode"));
            } else if c.get("ready") == Some(&json!(true)) && c.pointer("/state/running").is_some()
            {
                running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && running {
            let pod_ready = arr(o, "/status/conditions")
                .iter()
                .any(|c| s(c, "/type") == Some("Ready") && s(c, "/status") == Some("True"));
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if s(o, "/status/reason") == Some("NodeLost") {
            "Unknown"
        } else {
            "Terminating"
        }
        .into();
    }
    (reason, restarts, ready)
}

fn service_ports(o: &Value) -> Value {
    let parts: Vec<String> = arr(o, "/spec/ports")
        .iter()
        .map(|p| {
            let proto = s(p, "/protocol").unwrap_or("TCP");
            match p.get("nodePort").and_then(Value::as_i64) {
                Some(np) => format!("{}:{np}/{proto}", n(p, "/port")),
                None => format!("{}/{proto}", n(p, "/port")),
            }
        })
        .collect();
    or_none(Some(&parts.join(",")))
}

fn lb_addresses(o: &Value) -> Vec<String> {
    arr(o, "/status/loadBalancer/ingress")
        .iter()
        .filter_map(|i| s(i, "/ip").or(s(i, "/hostname")).map(String::from))
        .collect()
}

fn condition_true(o: &Value, ty: &str) -> bool {
    arr(o, "/status/conditions")
        .iter()
        .any(|c| s(c, "/type") == Some(ty) && s(c, "/status") == Some("True"))
}

pub(super) fn builtin_cells(rt: &ResourceType, o: &Value) -> Vec<Value> {
    let created = age(o.pointer("/metadata/creationTimestamp"));
    let tpl = o.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    match (rt.group.as_str(), rt.kind.as_str()) {
        ("", "Pod") => {
            let (status, restarts, ready) = pod_status(o);
            let total = arr(o, "/spec/containers").len();
            vec![
                json!(format!("{ready}/{total}")),
                json!(status),
                json!(restarts.to_string()),
                created,
                or_none(s(o, "/status/podIP")),
                or_none(s(o, "/spec/nodeName")),
                or_none(s(o, "/status/nominatedNodeName")),
                json!("<none>"),
            ]
        }
        ("", "Service") => {
            let ty = s(o, "/spec/type").unwrap_or("ClusterIP");
            let external = match ty {
                "ExternalName" => or_none(s(o, "/spec/externalName")),
                "LoadBalancer" => {
                    let a = lb_addresses(o);
                    json!(if a.is_empty() {
                        "<pending>".to_string()
                    } else {
                        a.join(",")
                    })
                }
                _ => or_none(Some(
                    &arr(o, "/spec/externalIPs")
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                )),
            };
            vec![
                json!(ty),
                or_none(s(o, "/spec/clusterIP")),
                external,
                service_ports(o),
                created,
                map_text(o.pointer("/spec/selector")),
            ]
        }
        ("", "ConfigMap") => {
            let count = |p: &str| o.pointer(p).and_then(Value::as_object).map_or(0, Map::len);
            vec![json!(count("/data") + count("/binaryData")), created]
        }
        ("", "Secret") => {
            let count = |p: &str| o.pointer(p).and_then(Value::as_object).map_or(0, Map::len);
            vec![
                json!(s(o, "/type").unwrap_or("Opaque")),
                json!(count("/data") + count("/stringData")),
                created,
            ]
        }
        ("", "Namespace") => vec![json!(s(o, "/status/phase").unwrap_or("Active")), created],
        ("", "ServiceAccount") => vec![json!(arr(o, "/secrets").len().to_string()), created],
        ("", "Endpoints") => {
            let mut eps = Vec::new();
            for sub in arr(o, "/subsets") {
                for a in arr(sub, "/addresses") {
                    for p in arr(sub, "/ports") {
                        eps.push(format!("{}:{}", s(a, "/ip").unwrap_or(""), n(p, "/port")));
                    }
                }
            }
            vec![or_none(Some(&eps.join(","))), created]
        }
        ("", "Node") => {
            let mut status = if condition_true(o, "Ready") {
                "Ready"
            } else {
                "NotReady"
            }
            .to_string();
            if o.pointer("/spec/unschedulable") == Some(&json!(true)) {
                status.push_str(",SchedulingDisabled");
            }
            let roles: Vec<&str> = o
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .map(|l| {
                    l.keys()
                        .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                        .collect()
                })
                .unwrap_or_default();
            let addr = |ty: &str| {
                or_none(
                    arr(o, "/status/addresses")
                        .iter()
                        .find(|a| s(a, "/type") == Some(ty))
                        .and_then(|a| s(a, "/address")),
                )
            };
            vec![
                json!(status),
                or_none(Some(&roles.join(","))),
                created,
                json!(s(o, "/status/nodeInfo/kubeletVersion").unwrap_or("")),
                addr("InternalIP"),
                addr("ExternalIP"),
                or_none(s(o, "/status/nodeInfo/osImage")),
                or_none(s(o, "/status/nodeInfo/kernelVersion")),
                or_none(s(o, "/status/nodeInfo/containerRuntimeVersion")),
            ]
        }
        ("", "PersistentVolumeClaim") => {
            let modes: Vec<&str> = arr(o, "/status/accessModes")
                .iter()
                .filter_map(Value::as_str)
                .map(|m| match m {
                    "ReadWriteOnce" => "RWO",
                    "ReadOnlyMany" => "ROX",
                    "ReadWriteMany" => "RWX",
                    "ReadWriteOncePod" => "RWOP",
                    other => other,
                })
                .collect();
            vec![
                json!(s(o, "/status/phase").unwrap_or("Pending")),
                json!(s(o, "/spec/volumeName").unwrap_or("")),
                json!(s(o, "/status/capacity/storage").unwrap_or("")),
                json!(modes.join(",")),
                json!(s(o, "/spec/storageClassName").unwrap_or("<unset>")),
                json!("<unset>"),
                created,
                json!(s(o, "/spec/volumeMode").unwrap_or("Filesystem")),
            ]
        }
        ("", "Event") => {
            let last = o
                .pointer("/lastTimestamp")
                .filter(|v| !v.is_null())
                .or(o.pointer("/eventTime").filter(|v| !v.is_null()))
                .or(o.pointer("/metadata/creationTimestamp"));
            let object = format!(
                "{}/{}",
                s(o, "/involvedObject/kind").unwrap_or("").to_lowercase(),
                s(o, "/involvedObject/name").unwrap_or("")
            );
            vec![
                age(last),
                json!(s(o, "/type").unwrap_or("")),
                json!(s(o, "/reason").unwrap_or("")),
                json!(object),
                json!(s(o, "/message").unwrap_or("")),
            ]
        }
        ("apps", "Deployment") => {
            let (c, i) = containers_images(&tpl);
            vec![
                json!(format!(
                    "{}/{}",
                    n(o, "/status/readyReplicas"),
                    o.pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                )),
                json!(n(o, "/status/updatedReplicas")),
                json!(n(o, "/status/availableReplicas")),
                created,
                c,
                i,
                selector_text(o.pointer("/spec/selector")),
            ]
        }
        ("apps", "ReplicaSet") => {
            let (c, i) = containers_images(&tpl);
            vec![
                json!(
                    o.pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                ),
                json!(n(o, "/status/replicas")),
                json!(n(o, "/status/readyReplicas")),
                created,
                c,
                i,
                selector_text(o.pointer("/spec/selector")),
            ]
        }
        ("apps", "StatefulSet") => {
            let (c, i) = containers_images(&tpl);
            vec![
                json!(format!(
                    "{}/{}",
                    n(o, "/status/readyReplicas"),
                    o.pointer("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1)
                )),
                created,
                c,
                i,
            ]
        }
        ("apps", "DaemonSet") => {
            let (c, i) = containers_images(&tpl);
            vec![
                json!(n(o, "/status/desiredNumberScheduled")),
                json!(n(o, "/status/currentNumberScheduled")),
                json!(n(o, "/status/numberReady")),
                json!(n(o, "/status/updatedNumberScheduled")),
                json!(n(o, "/status/numberAvailable")),
                map_text(tpl.pointer("/spec/nodeSelector")),
                created,
                c,
                i,
                selector_text(o.pointer("/spec/selector")),
            ]
        }
        ("batch", "Job") => {
            let (c, i) = containers_images(&tpl);
            let status = if condition_true(o, "Complete") {
                "Complete"
            } else if condition_true(o, "Failed") {
                "Failed"
            } else if condition_true(o, "Suspended") {
                "Suspended"
            } else if condition_true(o, "FailureTarget") {
                "FailureTarget"
            } else if condition_true(o, "SuccessCriteriaMet") {
                "SuccessCriteriaMet"
            } else {
                "Running"
            };
            let completions = match o.pointer("/spec/completions").and_then(Value::as_i64) {
                Some(c) => format!("{}/{c}", n(o, "/status/succeeded")),
                None => format!("{}/1", n(o, "/status/succeeded")),
            };
            let duration = match (s(o, "/status/startTime"), s(o, "/status/completionTime")) {
                (Some(st), Some(ct)) => seconds_since(st)
                    .zip(seconds_since(ct))
                    .map(|(a, b)| human_duration(a - b)),
                (Some(st), None) => seconds_since(st).map(human_duration),
                _ => None,
            };
            vec![
                json!(status),
                json!(completions),
                json!(duration.unwrap_or_default()),
                created,
                c,
                i,
                selector_text(o.pointer("/spec/selector")),
            ]
        }
        ("batch", "CronJob") => {
            let jt = o
                .pointer("/spec/jobTemplate/spec/template")
                .cloned()
                .unwrap_or(Value::Null);
            let (c, i) = containers_images(&jt);
            let last = o
                .pointer("/status/lastScheduleTime")
                .map(|t| age(Some(t)))
                .unwrap_or(json!("<none>"));
            let suspend = o.pointer("/spec/suspend") == Some(&json!(true));
            vec![
                json!(s(o, "/spec/schedule").unwrap_or("")),
                or_none(s(o, "/spec/timeZone")),
                json!(if suspend { "True" } else { "False" }),
                json!(arr(o, "/status/active").len()),
                last,
                created,
                c,
                i,
                selector_text(o.pointer("/spec/jobTemplate/spec/selector")),
            ]
        }
        ("networking.k8s.io", "Ingress") => {
            let hosts: Vec<&str> = arr(o, "/spec/rules")
                .iter()
                .filter_map(|r| s(r, "/host"))
                .collect();
            let hosts = if hosts.is_empty() {
                "*".to_string()
            } else {
                hosts.join(",")
            };
            let ports = if arr(o, "/spec/tls").is_empty() {
                "80"
            } else {
                "80, 443"
            };
            vec![
                or_none(s(o, "/spec/ingressClassName")),
                json!(hosts),
                json!(lb_addresses(o).join(",")),
                json!(ports),
                created,
            ]
        }
        ("discovery.k8s.io", "EndpointSlice") => {
            let ports: Vec<String> = arr(o, "/ports")
                .iter()
                .map(|p| n(p, "/port").to_string())
                .collect();
            let addrs: Vec<&str> = arr(o, "/endpoints")
                .iter()
                .flat_map(|e| arr(e, "/addresses"))
                .filter_map(Value::as_str)
                .collect();
            vec![
                json!(s(o, "/addressType").unwrap_or("")),
                or_none(Some(&ports.join(","))),
                or_none(Some(&addrs.join(","))),
                created,
            ]
        }
        ("rbac.authorization.k8s.io", _) => {
            let subjects = |kind: &str| {
                let names: Vec<String> = arr(o, "/subjects")
                    .iter()
                    .filter(|x| s(x, "/kind") == Some(kind))
                    .map(|x| match (kind, s(x, "/namespace")) {
                        ("ServiceAccount", Some(ns)) => {
                            format!("{ns}/{}", s(x, "/name").unwrap_or(""))
                        }
                        _ => s(x, "/name").unwrap_or("").to_string(),
                    })
                    .collect();
                json!(names.join(", "))
            };
            vec![
                json!(format!(
                    "{}/{}",
                    s(o, "/roleRef/kind").unwrap_or(""),
                    s(o, "/roleRef/name").unwrap_or("")
                )),
                created,
                subjects("User"),
                subjects("Group"),
                subjects("ServiceAccount"),
            ]
        }
        ("autoscaling", "HorizontalPodAutoscaler") => {
            let reference = format!(
                "{}/{}",
                s(o, "/spec/scaleTargetRef/kind").unwrap_or(""),
                s(o, "/spec/scaleTargetRef/name").unwrap_or("")
            );
            let targets: Vec<String> = arr(o, "/spec/metrics")
                .iter()
                .filter_map(|m| {
                    let name = s(m, "/resource/name")?;
                    let target = m
                        .pointer("/resource/target/averageUtilization")
                        .and_then(Value::as_i64)?;
                    Some(format!("{name}: <unknown>/{target}%"))
                })
                .collect();
            let min = o
                .pointer("/spec/minReplicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            vec![
                json!(reference),
                or_none(Some(&targets.join(", "))),
                json!(min.to_string()),
                json!(n(o, "/spec/maxReplicas")),
                json!(n(o, "/status/currentReplicas")),
                created,
            ]
        }
        ("policy", "PodDisruptionBudget") => {
            let text = |p: &str| match o.pointer(p) {
                Some(Value::String(v)) => json!(v),
                Some(Value::Number(v)) => json!(v.to_string()),
                _ => json!("N/A"),
            };
            vec![
                text("/spec/minAvailable"),
                text("/spec/maxUnavailable"),
                json!(n(o, "/status/disruptionsAllowed")),
                created,
            ]
        }
        _ => vec![created],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_kubectl() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(119), "119s");
        assert_eq!(human_duration(185), "3m5s");
        assert_eq!(human_duration(600), "10m");
        assert_eq!(human_duration(3 * 3600 + 120), "3h2m");
        assert_eq!(human_duration(30 * 3600), "30h");
        assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
        assert_eq!(human_duration(100 * 86400), "100d");
        assert_eq!(human_duration(-5), "<invalid>");
    }
}
