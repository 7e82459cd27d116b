//! Rules for PVCs, Services, Ingresses, HPAs, APIServices, Argo CD Applications, Argo
//! Workflows and CRDs.

use crate::engine::json::{JsonPath, str_at};
use serde_json::Value;

use super::{cond_message, cond_str, condition, parse_health};
use crate::model::{Health, HealthStatus};

/// Bound → Healthy, Pending → Progressing, Lost → Degraded, anything else → Unknown.
pub(super) fn pvc(obj: &Value) -> HealthStatus {
    match str_at(obj, "/status/phase").unwrap_or("") {
        "Bound" => HealthStatus::new(Health::Healthy, ""),
        "Pending" => HealthStatus::new(Health::Progressing, "Waiting for the claim to be bound"),
        "Lost" => HealthStatus::new(Health::Degraded, "The claim lost its volume"),
        other => HealthStatus::new(Health::Unknown, format!("Unknown claim phase {other:?}")),
    }
}

fn has_lb_ingress(obj: &Value) -> bool {
    obj.at("/status/loadBalancer/ingress")
        .and_then(Value::as_array)
        .is_some_and(|i| !i.is_empty())
}

/// A LoadBalancer needs an address in `status.loadBalancer.ingress`; other types are Healthy.
pub(super) fn service(obj: &Value) -> HealthStatus {
    if str_at(obj, "/spec/type") != Some("LoadBalancer") || has_lb_ingress(obj) {
        HealthStatus::new(Health::Healthy, "")
    } else {
        HealthStatus::new(
            Health::Progressing,
            "Waiting for the load balancer to get an address",
        )
    }
}

/// Healthy once `status.loadBalancer.ingress` holds an address, Progressing before.
pub(super) fn ingress(obj: &Value) -> HealthStatus {
    if has_lb_ingress(obj) {
        HealthStatus::new(Health::Healthy, "")
    } else {
        HealthStatus::new(
            Health::Progressing,
            "Waiting for the ingress controller to publish an address",
        )
    }
}

/// Degraded when a condition reports a failure to read or update the scale, to get metrics, to
/// compute replicas, or an invalid selector; else Healthy when AbleToScale or ScalingLimited is
/// True; else Progressing ("Waiting to Autoscale"). autoscaling/v1 keeps its conditions in an
/// annotation. Every condition is checked for a failure before any counts as healthy.
pub(super) fn hpa(obj: &Value) -> HealthStatus {
    let from_annotation = str_at(
        obj,
        "/metadata/annotations/autoscaling.alpha.kubernetes.io~1conditions",
    )
    .and_then(|text| serde_json::from_str::<Vec<Value>>(text).ok());
    let conditions = from_annotation.unwrap_or_else(|| {
        obj.at("/status/conditions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    });
    let degraded = |c: &Value| {
        let reason = cond_str(c, "reason");
        match cond_str(c, "type") {
            "AbleToScale" => matches!(reason, "FailedGetScale" | "FailedUpdateScale"),
            "ScalingActive" => {
                (reason.starts_with("FailedGet") && reason.ends_with("Metric"))
                    || matches!(reason, "FailedComputeMetricsReplicas" | "InvalidSelector")
            }
            _ => false,
        }
    };
    if let Some(c) = conditions.iter().find(|c| degraded(c)) {
        return HealthStatus::new(Health::Degraded, cond_message(c));
    }
    let healthy = |c: &Value| {
        matches!(cond_str(c, "type"), "AbleToScale" | "ScalingLimited")
            && cond_str(c, "status") == "True"
    };
    if let Some(c) = conditions.iter().find(|c| healthy(c)) {
        return HealthStatus::new(Health::Healthy, cond_str(c, "message"));
    }
    HealthStatus::new(Health::Progressing, "Waiting to Autoscale")
}

/// The Available condition: True → Healthy, otherwise Progressing; none yet → Progressing.
pub(super) fn api_service(obj: &Value) -> HealthStatus {
    match condition(obj, "Available") {
        Some(c) => {
            let message = format!("{}: {}", cond_str(c, "reason"), cond_str(c, "message"));
            let status = if cond_str(c, "status") == "True" {
                Health::Healthy
            } else {
                Health::Progressing
            };
            HealthStatus::new(status, message)
        }
        None => HealthStatus::new(Health::Progressing, "Waiting to be processed"),
    }
}

/// An app-of-apps child: its own `status.health`, Progressing until it has one.
pub(super) fn argo_application(obj: &Value) -> HealthStatus {
    match str_at(obj, "/status/health/status") {
        Some(word) => HealthStatus::new(
            parse_health(word),
            str_at(obj, "/status/health/message").unwrap_or(""),
        ),
        None => HealthStatus::new(Health::Progressing, ""),
    }
}

/// `status.phase`: empty, Pending or Running → Progressing; Succeeded → Healthy; Failed or
/// Error → Degraded.
pub(super) fn argo_workflow(obj: &Value) -> HealthStatus {
    let message = str_at(obj, "/status/message").unwrap_or("");
    let status = match str_at(obj, "/status/phase").unwrap_or("") {
        "" | "Pending" | "Running" => Health::Progressing,
        "Succeeded" => Health::Healthy,
        "Failed" | "Error" => Health::Degraded,
        _ => Health::Unknown,
    };
    HealthStatus::new(status, message)
}

/// kstatus' CRD rule: NamesAccepted=False → Degraded; Established=True → Healthy; otherwise
/// Progressing.
pub(super) fn crd(obj: &Value) -> HealthStatus {
    if let Some(c) = condition(obj, "NamesAccepted")
        && cond_str(c, "status") == "False"
    {
        return HealthStatus::new(Health::Degraded, cond_message(c));
    }
    match condition(obj, "Established") {
        Some(c) if cond_str(c, "status") == "True" => HealthStatus::new(Health::Healthy, ""),
        _ => HealthStatus::new(
            Health::Progressing,
            "Waiting for the CustomResourceDefinition to be established",
        ),
    }
}
