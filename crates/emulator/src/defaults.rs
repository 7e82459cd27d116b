//! The defaults a real API server (v1.33) fills into objects, so that a diff against the
//! embedded cluster meets the same noise it meets on a real one.
//!
//! Each rule mirrors a `SetDefaults_*` function of Kubernetes' API types (or the way the Go
//! types serialise, e.g. `resources: {}` on every container). Fields set by admission
//! plugins (service account token volumes, priority, tolerations) and by allocators
//! (clusterIP, nodePort) are the caller's business.

use base64::Engine as _;
use serde_json::{Map, Value, json};

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

fn deployment(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    fill(spec, "replicas", json!(1));
    if let Some(strategy) = child(spec, "strategy") {
        fill(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type") == Some(&json!("RollingUpdate"))
            && let Some(rolling) = child(strategy, "rollingUpdate")
        {
            fill(rolling, "maxUnavailable", json!("25%"));
            fill(rolling, "maxSurge", json!("25%"));
        }
    }
    fill(spec, "revisionHistoryLimit", json!(10));
    fill(spec, "progressDeadlineSeconds", json!(600));
    pod_template(spec);
}

fn stateful_set(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    fill(spec, "podManagementPolicy", json!("OrderedReady"));
    if let Some(strategy) = child(spec, "updateStrategy") {
        let untyped = matches!(strategy.get("type"), None | Some(Value::Null))
            || strategy.get("type") == Some(&json!(""));
        if untyped {
            strategy.insert("type".into(), json!("RollingUpdate"));
            fill(strategy, "rollingUpdate", json!({}));
        }
        if strategy.get("type") == Some(&json!("RollingUpdate"))
            && let Some(rolling) = existing(strategy, "rollingUpdate")
        {
            fill(rolling, "partition", json!(0));
        }
    }
    if let Some(policy) = child(spec, "persistentVolumeClaimRetentionPolicy") {
        fill(policy, "whenDeleted", json!("Retain"));
        fill(policy, "whenScaled", json!("Retain"));
    }
    fill(spec, "replicas", json!(1));
    fill(spec, "revisionHistoryLimit", json!(10));
    for claim in list_objects(spec, "volumeClaimTemplates") {
        // The v1 conversion writes the embedded claims' type meta.
        fill(claim, "apiVersion", json!("v1"));
        fill(claim, "kind", json!("PersistentVolumeClaim"));
        if let Some(claim_spec) = child(claim, "spec") {
            pvc_spec(claim_spec);
        }
    }
    pod_template(spec);
}

fn daemon_set(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    if let Some(strategy) = child(spec, "updateStrategy") {
        fill(strategy, "type", json!("RollingUpdate"));
        if strategy.get("type") == Some(&json!("RollingUpdate"))
            && let Some(rolling) = child(strategy, "rollingUpdate")
        {
            fill(rolling, "maxUnavailable", json!(1));
            fill(rolling, "maxSurge", json!(0));
        }
    }
    fill(spec, "revisionHistoryLimit", json!(10));
    pod_template(spec);
}

fn job(root: &mut Map<String, Value>) {
    let template_labels = root
        .get("spec")
        .and_then(|s| s.pointer("/template/metadata/labels"))
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .cloned();
    if let Some(labels) = template_labels
        && let Some(meta) = child(root, "metadata")
    {
        let empty = meta
            .get("labels")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty);
        if empty {
            meta.insert("labels".into(), labels);
        }
    }
    let Some(spec) = child(root, "spec") else {
        return;
    };
    let unset = |v: Option<&Value>| matches!(v, None | Some(Value::Null));
    if unset(spec.get("completions")) && unset(spec.get("parallelism")) {
        spec.insert("completions".into(), json!(1));
    }
    fill(spec, "parallelism", json!(1));
    let per_index = !unset(spec.get("backoffLimitPerIndex"));
    fill(
        spec,
        "backoffLimit",
        json!(if per_index { i32::MAX } else { 6 }),
    );
    fill(spec, "completionMode", json!("NonIndexed"));
    fill(spec, "suspend", json!(false));
    let has_failure_policy = !unset(spec.get("podFailurePolicy"));
    if let Some(policy) = existing(spec, "podFailurePolicy") {
        for rule in list_objects(policy, "rules") {
            for pattern in list_objects(rule, "onPodConditions") {
                fill(pattern, "status", json!("True"));
            }
        }
    }
    fill(
        spec,
        "podReplacementPolicy",
        json!(if has_failure_policy {
            "Failed"
        } else {
            "TerminatingOrFailed"
        }),
    );
    pod_template(spec);
}

fn cron_job(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    fill(spec, "concurrencyPolicy", json!("Allow"));
    fill(spec, "suspend", json!(false));
    fill(spec, "successfulJobsHistoryLimit", json!(3));
    fill(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(job_template) = child(spec, "jobTemplate")
        && let Some(job_spec) = child(job_template, "spec")
    {
        pod_template(job_spec);
    }
}

/// Defaults of `spec.template` (a PodTemplateSpec) inside `spec`.
fn pod_template(spec: &mut Map<String, Value>) {
    if let Some(template) = child(spec, "template")
        && let Some(pod_spec) = child(template, "spec")
    {
        pod_spec_defaults(pod_spec);
    }
}

fn pod(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    pod_spec_defaults(spec);
    fill(spec, "enableServiceLinks", json!(true));
    // Only Pods (not templates) get requests copied from limits.
    for key in ["containers", "initContainers"] {
        for container in list_objects(spec, key) {
            let Some(limits) = container
                .get("resources")
                .and_then(|r| r.get("limits"))
                .and_then(Value::as_object)
                .cloned()
            else {
                continue;
            };
            if let Some(resources) = child(container, "resources")
                && let Some(requests) = child(resources, "requests")
            {
                for (name, quantity) in limits {
                    requests.entry(name).or_insert(quantity);
                }
            }
        }
    }
}

fn pod_spec_defaults(spec: &mut Map<String, Value>) {
    fill(spec, "dnsPolicy", json!("ClusterFirst"));
    fill(spec, "restartPolicy", json!("Always"));
    fill(spec, "securityContext", json!({}));
    fill(spec, "terminationGracePeriodSeconds", json!(30));
    fill(spec, "schedulerName", json!("default-scheduler"));
    // The v1 conversion keeps the deprecated serviceAccount in step with serviceAccountName.
    let name = spec
        .get("serviceAccountName")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    let old = spec
        .get("serviceAccount")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    match (name.map(str::to_string), old.map(str::to_string)) {
        (Some(n), None) => {
            spec.insert("serviceAccount".into(), json!(n));
        }
        (None, Some(o)) => {
            spec.insert("serviceAccountName".into(), json!(o));
        }
        _ => {}
    }
    let host_network = spec.get("hostNetwork") == Some(&json!(true));
    for key in ["containers", "initContainers"] {
        for container in list_objects(spec, key) {
            container_defaults(container, host_network);
        }
    }
    for volume in list_objects(spec, "volumes") {
        volume_defaults(volume);
    }
}

fn container_defaults(container: &mut Map<String, Value>, host_network: bool) {
    if matches!(container.get("imagePullPolicy"), None | Some(Value::Null))
        || container.get("imagePullPolicy") == Some(&json!(""))
    {
        let image = container.get("image").and_then(Value::as_str).unwrap_or("");
        let policy = if image_tag(image) == Some("latest") {
            "Always"
        } else {
            "IfNotPresent"
        };
        container.insert("imagePullPolicy".into(), json!(policy));
    }
    fill(
        container,
        "terminationMessagePath",
        json!("/dev/termination-log"),
    );
    fill(container, "terminationMessagePolicy", json!("File"));
    // ResourceRequirements is a plain struct: it always serialises.
    fill(container, "resources", json!({}));
    for port in list_objects(container, "ports") {
        fill(port, "protocol", json!("TCP"));
        if host_network && let Some(p) = port.get("containerPort").cloned() {
            fill(port, "hostPort", p);
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(probe) = existing(container, probe) {
            fill(probe, "timeoutSeconds", json!(1));
            fill(probe, "periodSeconds", json!(10));
            fill(probe, "successThreshold", json!(1));
            fill(probe, "failureThreshold", json!(3));
            if let Some(get) = existing(probe, "httpGet") {
                http_get_defaults(get);
            }
        }
    }
    if let Some(lifecycle) = existing(container, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(handler) = existing(lifecycle, hook)
                && let Some(get) = existing(handler, "httpGet")
            {
                http_get_defaults(get);
            }
        }
    }
    for env in list_objects(container, "env") {
        if let Some(from) = existing(env, "valueFrom")
            && let Some(field_ref) = existing(from, "fieldRef")
        {
            fill(field_ref, "apiVersion", json!("v1"));
        }
    }
}

fn http_get_defaults(get: &mut Map<String, Value>) {
    fill(get, "path", json!("/"));
    fill(get, "scheme", json!("HTTP"));
}

/// The tag of an image reference as Kubernetes parses it: `latest` when there is neither a
/// tag nor a digest, `None` for a digest without a tag.
fn image_tag(image: &str) -> Option<&str> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    match last_segment.split_once(':') {
        Some((_, tag)) => Some(tag),
        None if digest.is_some() => None,
        None => Some("latest"),
    }
}

fn volume_defaults(volume: &mut Map<String, Value>) {
    const SOURCES: &[&str] = &[
        "hostPath",
        "emptyDir",
        "gcePersistentDisk",
        "awsElasticBlockStore",
        "gitRepo",
        "secret",
        "nfs",
        "iscsi",
        "glusterfs",
        "persistentVolumeClaim",
        "rbd",
        "flexVolume",
        "cinder",
        "cephfs",
        "flocker",
        "downwardAPI",
        "fc",
        "azureFile",
        "configMap",
        "vsphereVolume",
        "quobyte",
        "azureDisk",
        "photonPersistentDisk",
        "projected",
        "portworxVolume",
        "scaleIO",
        "storageos",
        "csi",
        "ephemeral",
        "image",
    ];
    if !SOURCES
        .iter()
        .any(|s| volume.get(*s).is_some_and(|v| !v.is_null()))
    {
        volume.insert("emptyDir".into(), json!({}));
    }
    for source in ["configMap", "secret", "projected", "downwardAPI"] {
        if let Some(src) = existing(volume, source) {
            fill(src, "defaultMode", json!(420));
        }
    }
    if let Some(host_path) = existing(volume, "hostPath") {
        fill(host_path, "type", json!(""));
    }
}

fn pvc_spec(spec: &mut Map<String, Value>) {
    fill(spec, "volumeMode", json!("Filesystem"));
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
        // What the registry sets on a single-stack IPv4 cluster.
        fill(spec, "ipFamilyPolicy", json!("SingleStack"));
        fill(spec, "ipFamilies", json!(["IPv4"]));
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
    if let Some(spec) = child(root, "spec") {
        fill(spec, "finalizers", json!(["kubernetes"]));
    }
    if let Some(status) = child(root, "status") {
        fill(status, "phase", json!("Active"));
    }
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
mod tests {
    use super::*;

    fn defaulted(group: &str, kind: &str, mut obj: Value) -> Value {
        apply_defaults(group, kind, &mut obj);
        let again = {
            let mut twice = obj.clone();
            apply_defaults(group, kind, &mut twice);
            twice
        };
        assert_eq!(again, obj, "defaults are idempotent");
        obj
    }

    #[test]
    fn deployment_and_pod_template() {
        let d = defaulted(
            "apps",
            "Deployment",
            json!({"spec": {"template": {"spec": {"serviceAccountName": "sa", "containers": [
                {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}],
                 "readinessProbe": {"httpGet": {"port": 80}},
                 "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]},
                {"name": "b", "image": "nginx:1.25", "imagePullPolicy": "Always"},
                {"name": "c", "image": "registry:5000/app:latest"},
                {"name": "d", "image": "app@sha256:abc"}],
                "volumes": [{"name": "cm", "configMap": {"name": "x"}}, {"name": "scratch"}]}}}}),
        );
        let spec = &d["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(
            spec["strategy"],
            json!({"type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Always");
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["schedulerName"], "default-scheduler");
        assert_eq!(pod["securityContext"], json!({}));
        assert_eq!(pod["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["serviceAccount"], "sa");
        assert!(pod.get("enableServiceLinks").is_none(), "Pods only");
        let c = &pod["containers"];
        assert_eq!(c[0]["imagePullPolicy"], "Always");
        assert_eq!(c[1]["imagePullPolicy"], "Always");
        assert_eq!(c[2]["imagePullPolicy"], "Always");
        assert_eq!(c[3]["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c[0]["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c[0]["terminationMessagePolicy"], "File");
        assert_eq!(c[0]["resources"], json!({}));
        assert_eq!(c[0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            c[0]["readinessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
                "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                "failureThreshold": 3})
        );
        assert_eq!(c[0]["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
        assert_eq!(pod["volumes"][0]["configMap"]["defaultMode"], 420);
        assert_eq!(pod["volumes"][1]["emptyDir"], json!({}));
        let recreate = defaulted(
            "apps",
            "Deployment",
            json!({"spec": {"strategy": {"type": "Recreate"}}}),
        );
        assert_eq!(recreate["spec"]["strategy"], json!({"type": "Recreate"}));
    }

    #[test]
    fn image_tags() {
        assert_eq!(image_tag("nginx"), Some("latest"));
        assert_eq!(image_tag("nginx:1.2"), Some("1.2"));
        assert_eq!(image_tag("host:5000/nginx"), Some("latest"));
        assert_eq!(image_tag("nginx@sha256:1"), None);
        assert_eq!(image_tag("nginx:1@sha256:1"), Some("1"));
    }

    #[test]
    fn pods_get_service_links_and_requests_from_limits() {
        let p = defaulted(
            "",
            "Pod",
            json!({"spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "x:1",
                "ports": [{"containerPort": 8080}],
                "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "1Gi"}}}]}}),
        );
        assert_eq!(p["spec"]["enableServiceLinks"], true);
        let c = &p["spec"]["containers"][0];
        assert_eq!(
            c["resources"]["requests"],
            json!({"memory": "1Gi", "cpu": "1"})
        );
        assert_eq!(c["ports"][0]["hostPort"], 8080);
    }

    #[test]
    fn statefulset_daemonset_replicaset() {
        let s = defaulted(
            "apps",
            "StatefulSet",
            json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"]}}]}}),
        );
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(
            s["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(s["spec"]["replicas"], 1);
        assert_eq!(s["spec"]["revisionHistoryLimit"], 10);
        let claim = &s["spec"]["volumeClaimTemplates"][0];
        assert_eq!(claim["apiVersion"], "v1");
        assert_eq!(claim["kind"], "PersistentVolumeClaim");
        assert_eq!(claim["spec"]["volumeMode"], "Filesystem");
        let on_delete = defaulted(
            "apps",
            "StatefulSet",
            json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
        );
        assert_eq!(
            on_delete["spec"]["updateStrategy"],
            json!({"type": "OnDelete"})
        );
        let d = defaulted("apps", "DaemonSet", json!({"spec": {}}));
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        let r = defaulted("apps", "ReplicaSet", json!({"spec": {}}));
        assert_eq!(r["spec"]["replicas"], 1);
    }

    #[test]
    fn jobs_and_cronjobs() {
        let j = defaulted(
            "batch",
            "Job",
            json!({"metadata": {"name": "j"}, "spec": {"template": {"metadata": {"labels": {"a": "b"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}),
        );
        let spec = &j["spec"];
        assert_eq!(spec["completions"], 1);
        assert_eq!(spec["parallelism"], 1);
        assert_eq!(spec["backoffLimit"], 6);
        assert_eq!(spec["completionMode"], "NonIndexed");
        assert_eq!(spec["suspend"], false);
        assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
        assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
        assert_eq!(j["metadata"]["labels"], json!({"a": "b"}));
        let parallel = defaulted("batch", "Job", json!({"spec": {"parallelism": 3}}));
        assert!(parallel["spec"].get("completions").is_none());
        let c = defaulted(
            "batch",
            "CronJob",
            json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "c", "image": "x"}]}}}}}}),
        );
        assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
        assert_eq!(c["spec"]["suspend"], false);
        assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
        assert_eq!(c["spec"]["failedJobsHistoryLimit"], 1);
        let job_spec = &c["spec"]["jobTemplate"]["spec"];
        assert!(
            job_spec.get("backoffLimit").is_none(),
            "only Jobs get Job defaults"
        );
        assert_eq!(job_spec["template"]["spec"]["dnsPolicy"], "ClusterFirst");
    }

    #[test]
    fn services() {
        let s = defaulted(
            "",
            "Service",
            json!({"spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}]}}),
        );
        let spec = &s["spec"];
        assert_eq!(spec["type"], "ClusterIP");
        assert_eq!(spec["sessionAffinity"], "None");
        assert_eq!(spec["internalTrafficPolicy"], "Cluster");
        assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
        assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
        assert_eq!(spec["clusterIPs"], json!(["10.96.0.10"]));
        assert_eq!(
            spec["ports"][0],
            json!({"port": 80, "protocol": "TCP", "targetPort": 80})
        );
        assert_eq!(spec["ports"][1]["targetPort"], "dns");
        assert!(spec.get("externalTrafficPolicy").is_none());
        assert_eq!(s["status"], json!({"loadBalancer": {}}));
        let lb = defaulted("", "Service", json!({"spec": {"type": "LoadBalancer"}}));
        assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
        let ext = defaulted(
            "",
            "Service",
            json!({"spec": {"type": "ExternalName", "externalName": "example.com"}}),
        );
        assert!(ext["spec"].get("ipFamilies").is_none());
        assert!(ext["spec"].get("internalTrafficPolicy").is_none());
    }

    #[test]
    fn secrets_configmaps_pvcs_namespaces() {
        let s = defaulted(
            "",
            "Secret",
            json!({"data": {"a": "eA=="}, "stringData": {"b": "hello", "a": "yz"}}),
        );
        assert_eq!(s["type"], "Opaque");
        assert!(s.get("stringData").is_none());
        assert_eq!(s["data"], json!({"a": "eXo=", "b": "aGVsbG8="}));
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
        let cm = defaulted("", "ConfigMap", json!({"data": {"a": "b"}}));
        assert_eq!(cm, json!({"data": {"a": "b"}}));
        let pvc = defaulted("", "PersistentVolumeClaim", json!({"spec": {}}));
        assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
        assert_eq!(pvc["status"]["phase"], "Pending");
        let ns = defaulted("", "Namespace", json!({"metadata": {"name": "shop"}}));
        assert_eq!(
            ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
            "shop"
        );
        assert_eq!(ns["spec"]["finalizers"], json!(["kubernetes"]));
        assert_eq!(ns["status"]["phase"], "Active");
    }

    #[test]
    fn ingress_networkpolicy_hpa_rbac_crd() {
        let ing = defaulted("networking.k8s.io", "Ingress", json!({"spec": {}}));
        assert_eq!(ing["status"], json!({"loadBalancer": {}}));
        assert_eq!(ing["spec"], json!({}));
        let np = defaulted(
            "networking.k8s.io",
            "NetworkPolicy",
            json!({"spec": {"egress": [{"ports": [{"port": 53}]}]}}),
        );
        assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
        assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
        let hpa = defaulted(
            "autoscaling",
            "HorizontalPodAutoscaler",
            json!({"spec": {"maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}),
        );
        assert_eq!(hpa["spec"]["minReplicas"], 1);
        assert_eq!(
            hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            80
        );
        assert_eq!(
            hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
            60
        );
        assert_eq!(
            hpa["spec"]["behavior"]["scaleUp"]["policies"][0]["type"],
            "Pods"
        );
        let rb = defaulted(
            "rbac.authorization.k8s.io",
            "RoleBinding",
            json!({"roleRef": {"kind": "Role", "name": "r"},
                "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]}),
        );
        assert_eq!(rb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
        assert_eq!(rb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
        assert!(rb["subjects"][1].get("apiGroup").is_none());
        let crd = defaulted(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            json!({"spec": {"names": {"kind": "Widget", "plural": "widgets"}}}),
        );
        assert_eq!(crd["spec"]["names"]["singular"], "widget");
        assert_eq!(crd["spec"]["names"]["listKind"], "WidgetList");
        assert_eq!(crd["spec"]["conversion"], json!({"strategy": "None"}));
        let unknown = defaulted("example.com", "Thing", json!({"spec": {}}));
        assert_eq!(unknown, json!({"spec": {}}));
    }
}
