//! Argo CD's rules for Deployments, StatefulSets, DaemonSets and ReplicaSets.

use crate::engine::json::{JsonPath, str_at};
use serde_json::Value;

use super::{cond_str, condition, count, int_at, name};
use crate::model::{Health, HealthStatus};

fn generation_observed(obj: &Value) -> bool {
    count(obj, "/metadata/generation") <= count(obj, "/status/observedGeneration")
}

/// Paused → Suspended; generation not observed → Progressing; ProgressDeadlineExceeded →
/// Degraded; replicas not yet updated, old ones terminating, or updated ones unavailable →
/// Progressing; otherwise Healthy.
pub(super) fn deployment(obj: &Value) -> HealthStatus {
    if obj.at("/spec/paused").and_then(Value::as_bool) == Some(true) {
        return HealthStatus::new(Health::Suspended, "Deployment is paused");
    }
    if !generation_observed(obj) {
        return HealthStatus::new(
            Health::Progressing,
            "Waiting for rollout to finish: observed deployment generation less than desired generation",
        );
    }
    let progressing = condition(obj, "Progressing");
    if progressing.is_some_and(|c| cond_str(c, "reason") == "ProgressDeadlineExceeded") {
        return HealthStatus::new(
            Health::Degraded,
            format!("Deployment {:?} exceeded its progress deadline", name(obj)),
        );
    }
    let replicas = count(obj, "/status/replicas");
    let updated = count(obj, "/status/updatedReplicas");
    let available = count(obj, "/status/availableReplicas");
    if let Some(wanted) = int_at(obj, "/spec/replicas")
        && updated < wanted
    {
        return HealthStatus::new(
            Health::Progressing,
            format!(
                "Waiting for rollout to finish: {updated} out of {wanted} new replicas have been updated..."
            ),
        );
    }
    if replicas > updated {
        return HealthStatus::new(
            Health::Progressing,
            format!(
                "Waiting for rollout to finish: {} old replicas are pending termination...",
                replicas - updated
            ),
        );
    }
    if available < updated {
        return HealthStatus::new(
            Health::Progressing,
            format!(
                "Waiting for rollout to finish: {available} of {updated} updated replicas are available..."
            ),
        );
    }
    HealthStatus::new(Health::Healthy, format!("{available}/{updated} ready"))
}

/// Generation not observed → Progressing; too few ready → Progressing; a partitioned rolling
/// update is judged against its partition; OnDelete → Healthy; update revision not yet current
/// → Progressing; otherwise Healthy.
pub(super) fn stateful_set(obj: &Value) -> HealthStatus {
    let observed = count(obj, "/status/observedGeneration");
    if observed == 0 || count(obj, "/metadata/generation") > observed {
        return HealthStatus::new(
            Health::Progressing,
            "Waiting for statefulset spec update to be observed...",
        );
    }
    let wanted = int_at(obj, "/spec/replicas");
    let ready = count(obj, "/status/readyReplicas");
    let updated = count(obj, "/status/updatedReplicas");
    if let Some(wanted) = wanted
        && ready < wanted
    {
        return HealthStatus::new(
            Health::Progressing,
            format!(
                "Waiting for {} pods to be ready... ({ready}/{wanted} ready)",
                wanted - ready
            ),
        );
    }
    let strategy = str_at(obj, "/spec/updateStrategy/type").unwrap_or("RollingUpdate");
    if strategy == "RollingUpdate"
        && let (Some(wanted), Some(partition)) = (
            wanted,
            int_at(obj, "/spec/updateStrategy/rollingUpdate/partition"),
        )
    {
        if updated < wanted - partition {
            return HealthStatus::new(
                Health::Progressing,
                format!(
                    "Waiting for partitioned roll out to finish: {updated} out of {} new pods have been updated...",
                    wanted - partition
                ),
            );
        }
        return HealthStatus::new(
            Health::Healthy,
            format!("partitioned roll out complete: {updated} new pods have been updated..."),
        );
    }
    if strategy == "OnDelete" {
        return HealthStatus::new(
            Health::Healthy,
            format!("statefulset has {ready} ready pods"),
        );
    }
    let update_revision = str_at(obj, "/status/updateRevision").unwrap_or("");
    let current_revision = str_at(obj, "/status/currentRevision").unwrap_or("");
    if update_revision != current_revision {
        return HealthStatus::new(
            Health::Progressing,
            format!(
                "waiting for statefulset rolling update to complete {updated} pods at revision {update_revision}..."
            ),
        );
    }
    HealthStatus::new(
        Health::Healthy,
        format!(
            "statefulset rolling update complete {} pods at revision {current_revision}...",
            count(obj, "/status/currentReplicas")
        ),
    )
}

/// Generation not observed → Progressing; OnDelete → Healthy; pods not yet updated or not
/// available → Progressing; otherwise Healthy.
pub(super) fn daemon_set(obj: &Value) -> HealthStatus {
    if !generation_observed(obj) {
        return HealthStatus::new(
            Health::Progressing,
            "Waiting for rollout to finish: observed daemon set generation less than desired generation",
        );
    }
    let desired = count(obj, "/status/desiredNumberScheduled");
    let updated = count(obj, "/status/updatedNumberScheduled");
    let available = count(obj, "/status/numberAvailable");
    if str_at(obj, "/spec/updateStrategy/type") == Some("OnDelete") {
        return HealthStatus::new(
            Health::Healthy,
            format!("daemon set {updated} out of {desired} new pods have been updated"),
        );
    }
    if updated < desired {
        return HealthStatus::new(
            Health::Progressing,
            format!(
                "Waiting for daemon set {:?} rollout to finish: {updated} out of {desired} new pods have been updated...",
                name(obj)
            ),
        );
    }
    if available < desired {
        return HealthStatus::new(
            Health::Progressing,
            format!(
                "Waiting for daemon set {:?} rollout to finish: {available} of {desired} updated pods are available...",
                name(obj)
            ),
        );
    }
    HealthStatus::new(Health::Healthy, format!("{available}/{desired} ready"))
}

/// Generation not observed → Progressing; ReplicaFailure=True → Degraded; fewer available than
/// wanted → Progressing; otherwise Healthy.
pub(super) fn replica_set(obj: &Value) -> HealthStatus {
    if !generation_observed(obj) {
        return HealthStatus::new(
            Health::Progressing,
            "Waiting for rollout to finish: observed replica set generation less than desired generation",
        );
    }
    if let Some(c) = condition(obj, "ReplicaFailure")
        && cond_str(c, "status") == "True"
    {
        return HealthStatus::new(Health::Degraded, cond_str(c, "message"));
    }
    let available = count(obj, "/status/availableReplicas");
    if let Some(wanted) = int_at(obj, "/spec/replicas")
        && available < wanted
    {
        return HealthStatus::new(
            Health::Progressing,
            format!(
                "Waiting for rollout to finish: {available} out of {wanted} new replicas are available..."
            ),
        );
    }
    HealthStatus::new(Health::Healthy, format!("{available} available"))
}
