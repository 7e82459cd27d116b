//! Image automation at a glance: for each Flux ImagePolicy, the tag it selects against the
//! images the workloads actually run, flagging the workloads that run another tag.

use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

use crate::engine::json::str_at;
use crate::model::ResourceKey;

/// One container running an image a policy follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadImage {
    /// The workload (Deployment, StatefulSet, DaemonSet, CronJob, Job, Pod owner-less).
    pub workload: ResourceKey,
    /// The container's name.
    pub container: String,
    /// The image as the workload writes it.
    pub image: String,
    /// Its tag (`latest` when none is written).
    pub tag: String,
    /// It runs another tag than the policy selects.
    pub behind: bool,
}

/// One ImagePolicy and the workloads running its image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyImages {
    /// The cluster.
    pub cluster: String,
    /// The ImagePolicy.
    pub policy: ResourceKey,
    /// The image name it follows (no tag).
    pub image: String,
    /// The tag it selects, empty until the reflector has scanned.
    pub latest_tag: String,
    /// Containers running that image.
    pub workloads: Vec<WorkloadImage>,
}

impl PolicyImages {
    /// Containers that run another tag than the selected one.
    pub fn behind(&self) -> impl Iterator<Item = &WorkloadImage> {
        self.workloads.iter().filter(|w| w.behind)
    }
}

/// Splits an image reference into its name and tag (`latest` when none; a digest-only
/// reference gives the digest as tag). Registry ports are not tags.
pub fn split_image(image: &str) -> (String, String) {
    let (image, digest) = match image.split_once('@') {
        Some((i, d)) => (i, Some(d)),
        None => (image, None),
    };
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(colon) => {
            let at = last_slash + colon;
            (image[..at].to_string(), image[at + 1..].to_string())
        }
        None => (
            image.to_string(),
            digest.map_or_else(|| "latest".to_string(), str::to_string),
        ),
    }
}

/// The canonical form of an image name: Docker Hub's implicit registry and `library/`
/// spelled out, so `nginx` and `docker.io/library/nginx` compare equal.
pub fn canonical_name(name: &str) -> String {
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let (registry, path) = if has_registry {
        let (r, p) = name.split_once('/').unwrap_or((name, ""));
        (r.to_string(), p.to_string())
    } else {
        ("docker.io".to_string(), name.to_string())
    };
    let registry = if registry == "index.docker.io" {
        "docker.io".to_string()
    } else {
        registry
    };
    let path = if registry == "docker.io" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    format!("{registry}/{path}")
}

/// The image and tag an ImagePolicy selects: `status.latestRef` (v1), else the older
/// `status.latestImage`; the name falls back to its ImageRepository's `spec.image`.
pub fn policy_selection(policy: &Value, repository: Option<&Value>) -> (String, String) {
    let name = str_at(policy, "/status/latestRef/name").unwrap_or("");
    let tag = str_at(policy, "/status/latestRef/tag").unwrap_or("");
    if !name.is_empty() {
        return (name.to_string(), tag.to_string());
    }
    let latest = str_at(policy, "/status/latestImage").unwrap_or("");
    if !latest.is_empty() {
        return split_image(latest);
    }
    let image = repository
        .and_then(|r| str_at(r, "/spec/image"))
        .unwrap_or("");
    (image.to_string(), String::new())
}

/// The pod template of a workload kind (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
/// CronJob), or the spec of a bare Pod.
fn pod_spec(obj: &Value) -> Option<&Value> {
    match str_at(obj, "/kind").unwrap_or("") {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            obj.pointer("/spec/template/spec")
        }
        "CronJob" => obj.pointer("/spec/jobTemplate/spec/template/spec"),
        "Pod" => obj.get("spec"),
        _ => None,
    }
}

/// For each policy, the workloads running its image. `repository` finds a policy's
/// ImageRepository; `workloads` are the live workload objects to look through (owned
/// ReplicaSets and Pods are skipped, their owner speaks for them).
pub fn overview(
    cluster: &str,
    policies: &[&Value],
    repository: &dyn Fn(&ResourceKey) -> Option<Arc<Value>>,
    workloads: &[&Value],
) -> Vec<PolicyImages> {
    let mut out = Vec::new();
    for policy in policies {
        let Some(policy_key) = ResourceKey::of(policy) else {
            continue;
        };
        let repo = super::flux::source_of(policy).and_then(|k| repository(&k));
        let (image, latest_tag) = policy_selection(policy, repo.as_deref());
        if image.is_empty() {
            continue;
        }
        let wanted = canonical_name(&image);
        let mut found = Vec::new();
        for w in workloads {
            let owned = w
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .is_some_and(|o| !o.is_empty());
            if owned {
                continue;
            }
            let (Some(key), Some(spec)) = (ResourceKey::of(w), pod_spec(w)) else {
                continue;
            };
            for field in ["initContainers", "containers"] {
                for c in spec
                    .get(field)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let running = str_at(c, "/image").unwrap_or("");
                    let (name, tag) = split_image(running);
                    if canonical_name(&name) != wanted {
                        continue;
                    }
                    found.push(WorkloadImage {
                        workload: key.clone(),
                        container: str_at(c, "/name").unwrap_or("").to_string(),
                        image: running.to_string(),
                        behind: !latest_tag.is_empty() && tag != latest_tag,
                        tag,
                    });
                }
            }
        }
        found.sort_by(|a, b| {
            a.workload
                .cmp(&b.workload)
                .then(a.container.cmp(&b.container))
        });
        out.push(PolicyImages {
            cluster: cluster.to_string(),
            policy: policy_key,
            image,
            latest_tag,
            workloads: found,
        });
    }
    out.sort_by(|a, b| a.policy.cmp(&b.policy));
    out
}

/// A table for people: policy, selected tag, and each workload with `BEHIND` where it lags.
pub fn render_text(items: &[PolicyImages]) -> String {
    let mut out = String::new();
    for p in items {
        out.push_str(&format!(
            "{} ImagePolicy {}/{}: {}:{}\n",
            p.cluster,
            p.policy.namespace,
            p.policy.name,
            p.image,
            if p.latest_tag.is_empty() {
                "?"
            } else {
                &p.latest_tag
            }
        ));
        if p.workloads.is_empty() {
            out.push_str("  no workload runs this image\n");
        }
        for w in &p.workloads {
            out.push_str(&format!(
                "  {} {}/{} [{}] runs {}{}\n",
                w.workload.kind,
                w.workload.namespace,
                w.workload.name,
                w.container,
                w.tag,
                if w.behind { "  BEHIND" } else { "" }
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_images_and_canonicalizes_names() {
        assert_eq!(split_image("nginx:1.27"), ("nginx".into(), "1.27".into()));
        assert_eq!(
            split_image("localhost:5000/app"),
            ("localhost:5000/app".into(), "latest".into())
        );
        assert_eq!(
            split_image("ghcr.io/a/b:v1@sha256:x"),
            ("ghcr.io/a/b".into(), "v1".into())
        );
        assert_eq!(canonical_name("nginx"), "docker.io/library/nginx");
        assert_eq!(
            canonical_name("index.docker.io/library/nginx"),
            "docker.io/library/nginx"
        );
        assert_eq!(
            canonical_name("prom/node-exporter"),
            "docker.io/prom/node-exporter"
        );
        assert_eq!(
            canonical_name("quay.io/prometheus/x"),
            "quay.io/prometheus/x"
        );
    }

    #[test]
    fn flags_workloads_running_another_tag() {
        let policy = json!({"apiVersion": "image.toolkit.fluxcd.io/v1", "kind": "ImagePolicy",
            "metadata": {"name": "exporter", "namespace": "flux-system"},
            "spec": {"imageRepositoryRef": {"name": "exporter"}},
            "status": {"latestRef": {"name": "quay.io/prometheus/blackbox-exporter", "tag": "v0.25.0"}}});
        let behind = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "probe", "namespace": "monitoring"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "exporter", "image": "quay.io/prometheus/blackbox-exporter:v0.24.0"},
                {"name": "sidecar", "image": "busybox:1.36"}]}}}});
        let current = json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": {"name": "probe-node", "namespace": "monitoring"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "exporter", "image": "quay.io/prometheus/blackbox-exporter:v0.25.0"}]}}}});
        let owned_pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "probe-x", "namespace": "monitoring", "ownerReferences": [{"uid": "u"}]},
            "spec": {"containers": [{"name": "exporter", "image": "quay.io/prometheus/blackbox-exporter:v0.24.0"}]}});
        let none = |_: &ResourceKey| None;
        let out = overview("prod", &[&policy], &none, &[&behind, &current, &owned_pod]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].latest_tag, "v0.25.0");
        assert_eq!(out[0].workloads.len(), 2);
        let lagging: Vec<&str> = out[0].behind().map(|w| w.workload.name.as_str()).collect();
        assert_eq!(lagging, ["probe"]);
        let text = render_text(&out);
        assert!(
            text.contains("Deployment monitoring/probe [exporter] runs v0.24.0  BEHIND"),
            "{text}"
        );
    }
}
