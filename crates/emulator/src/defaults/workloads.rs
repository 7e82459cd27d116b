//! Defaults of workloads and the pods they run: controllers, pod specs, containers, volumes.

use serde_json::{Map, Value, json};

use super::{child, existing, fill, list_objects};

pub(super) fn deployment(root: &mut Map<String, Value>) {
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

pub(super) fn stateful_set(root: &mut Map<String, Value>) {
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

pub(super) fn daemon_set(root: &mut Map<String, Value>) {
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

pub(super) fn job(root: &mut Map<String, Value>) {
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

pub(super) fn cron_job(root: &mut Map<String, Value>) {
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
pub(super) fn pod_template(spec: &mut Map<String, Value>) {
    if let Some(template) = child(spec, "template")
        && let Some(pod_spec) = child(template, "spec")
    {
        pod_spec_defaults(pod_spec);
    }
}

pub(super) fn pod(root: &mut Map<String, Value>) {
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
pub(super) fn image_tag(image: &str) -> Option<&str> {
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

pub(super) fn pvc_spec(spec: &mut Map<String, Value>) {
    fill(spec, "volumeMode", json!("Filesystem"));
}
