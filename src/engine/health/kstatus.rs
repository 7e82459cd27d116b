//! kstatus' generic rules, for custom resources Argo CD has no rule for (Flux objects,
//! Crossplane, cert-manager, operators …).

use crate::engine::json::JsonPath;
use serde_json::Value;

use super::{cond_message, cond_str, condition, int_at};
use crate::model::{Health, HealthStatus};

/// In order: a Flux object with `spec.suspend: true` → Suspended; `status.observedGeneration`
/// behind `metadata.generation` → Progressing; Stalled=True → Degraded; Reconciling=True →
/// Progressing; Ready=True → Healthy (unless the condition's own observedGeneration is behind),
/// Ready False/Unknown → Progressing; other conditions only → Healthy (kstatus' "Current").
/// `None` when the object has neither conditions nor an observed generation.
pub(super) fn assess(group: &str, obj: &Value) -> Option<HealthStatus> {
    if group.ends_with(".toolkit.fluxcd.io")
        && obj.at("/spec/suspend").and_then(Value::as_bool) == Some(true)
    {
        return Some(HealthStatus::new(
            Health::Suspended,
            "Reconciliation is suspended",
        ));
    }
    let has_conditions = obj
        .at("/status/conditions")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    let observed = int_at(obj, "/status/observedGeneration");
    if !has_conditions && observed.is_none() {
        return None;
    }
    let generation = int_at(obj, "/metadata/generation");
    if let (Some(observed), Some(generation)) = (observed, generation)
        && observed < generation
    {
        return Some(HealthStatus::new(
            Health::Progressing,
            format!("Waiting for generation {generation} to be observed (observed {observed})"),
        ));
    }
    let is_true = |kind: &str| condition(obj, kind).filter(|c| cond_str(c, "status") == "True");
    if let Some(c) = is_true("Stalled") {
        return Some(HealthStatus::new(Health::Degraded, cond_message(c)));
    }
    if let Some(c) = is_true("Reconciling") {
        return Some(HealthStatus::new(Health::Progressing, cond_message(c)));
    }
    if let Some(c) = condition(obj, "Ready") {
        let message = cond_message(c);
        let ready_observed = c.get("observedGeneration").and_then(Value::as_i64);
        if let (Some(seen), Some(generation)) = (ready_observed, generation)
            && seen < generation
        {
            return Some(HealthStatus::new(
                Health::Progressing,
                format!("Ready condition is for generation {seen}, not {generation}"),
            ));
        }
        let status = if cond_str(c, "status") == "True" {
            Health::Healthy
        } else {
            Health::Progressing
        };
        return Some(HealthStatus::new(status, message));
    }
    Some(HealthStatus::new(Health::Healthy, ""))
}
