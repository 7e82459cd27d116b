//! Health of live objects: Argo CD's per-kind rules, then kstatus' generic rules for any other
//! object with conditions or an observed generation, and the worst-of aggregation for an app.
//!
//! Order of evaluation for one object:
//! 1. `metadata.deletionTimestamp` set (and no Argo CD hook finalizer) → Progressing,
//!    "Pending deletion".
//! 2. A built-in rule for its group/kind (workloads, Pod, PVC, Service, Ingress, Job, CronJob,
//!    HPA, APIService, Argo CD Application, Argo Workflow, CRD).
//! 3. kstatus' generic rules (`kstatus.rs`), which Argo CD lacks: Flux `spec.suspend`,
//!    observedGeneration, Stalled, Reconciling, Ready.
//! 4. Otherwise no health (`None`): ConfigMap, Secret, most plain objects.

mod aggregate;
mod batch;
mod kstatus;
mod misc;
mod pod;
mod workloads;

use crate::engine::json::{JsonPath, str_at};
use serde_json::Value;

use crate::model::{Health, HealthStatus, split_api_version};

pub use aggregate::{ManagedHealth, app_health, excluded_from_app_health, is_hook};
pub(crate) use pod::ready_counts as pod_ready_counts;

/// The finalizer Argo CD puts on running hooks; such objects are not "pending deletion".
const HOOK_FINALIZER: &str = "argocd.argoproj.io/hook-finalizer";

/// The health of one live object, `None` for kinds without a rule and without conditions.
pub fn assess(obj: &Value) -> Option<HealthStatus> {
    if obj
        .at("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
        && !has_finalizer(obj, HOOK_FINALIZER)
    {
        return Some(HealthStatus::new(Health::Progressing, "Pending deletion"));
    }
    let api_version = str_at(obj, "/apiVersion").unwrap_or("");
    let group = split_api_version(api_version).0;
    let kind = str_at(obj, "/kind").unwrap_or("");
    builtin(group, kind, obj).or_else(|| kstatus::assess(group, obj))
}

fn builtin(group: &str, kind: &str, obj: &Value) -> Option<HealthStatus> {
    Some(match (group, kind) {
        ("apps" | "extensions", "Deployment") => workloads::deployment(obj),
        ("apps", "StatefulSet") => workloads::stateful_set(obj),
        ("apps" | "extensions", "DaemonSet") => workloads::daemon_set(obj),
        ("apps" | "extensions", "ReplicaSet") => workloads::replica_set(obj),
        ("", "Pod") => pod::pod(obj),
        ("", "PersistentVolumeClaim") => misc::pvc(obj),
        ("", "Service") => misc::service(obj),
        ("networking.k8s.io" | "extensions", "Ingress") => misc::ingress(obj),
        ("batch", "Job") => batch::job(obj),
        ("batch", "CronJob") => batch::cron_job(obj),
        ("autoscaling", "HorizontalPodAutoscaler") => misc::hpa(obj),
        ("apiregistration.k8s.io", "APIService") => misc::api_service(obj),
        ("argoproj.io", "Application") => misc::argo_application(obj),
        ("argoproj.io", "Workflow") => misc::argo_workflow(obj),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => misc::crd(obj),
        _ => return None,
    })
}

/// Parses a health word as Argo CD writes it; anything else is Unknown.
pub fn parse_health(word: &str) -> Health {
    Health::ALL
        .into_iter()
        .find(|h| h.as_str() == word)
        .unwrap_or(Health::Unknown)
}

fn has_finalizer(obj: &Value, name: &str) -> bool {
    obj.at("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|v| v.as_str() == Some(name)))
}

pub(super) fn int_at(obj: &Value, pointer: &str) -> Option<i64> {
    obj.at(pointer).and_then(Value::as_i64)
}

/// An integer status counter; absent counters are 0, as in the typed Go structs.
pub(super) fn count(obj: &Value, pointer: &str) -> i64 {
    int_at(obj, pointer).unwrap_or(0)
}

pub(super) fn name(obj: &Value) -> &str {
    str_at(obj, "/metadata/name").unwrap_or("")
}

/// The condition of this type under `status.conditions`.
pub fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj.at("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

pub(super) fn cond_str<'a>(cond: &'a Value, field: &str) -> &'a str {
    cond.get(field).and_then(Value::as_str).unwrap_or("")
}

/// The condition's message, or its reason when it has no message.
pub(super) fn cond_message(cond: &Value) -> String {
    let message = cond_str(cond, "message").trim();
    if message.is_empty() {
        cond_str(cond, "reason").to_string()
    } else {
        message.to_string()
    }
}

#[cfg(test)]
mod tests;
