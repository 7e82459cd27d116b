//! Jobs and CronJobs.

use crate::engine::json::{JsonPath, str_at};
use jiff::Timestamp;
use serde_json::Value;
use std::cmp::Ordering;

use super::{cond_str, count};
use crate::model::{Health, HealthStatus};

/// Argo CD's Job rule: no Complete, Failed or Suspended condition → Progressing; Failed →
/// Degraded; Suspended → Suspended; otherwise Healthy. Only conditions with status True count
/// (Argo CD also counts `Suspended=False`, which a resumed Job carries, as finished).
pub(super) fn job(obj: &Value) -> HealthStatus {
    let mut failed = None;
    let mut complete = None;
    let mut suspended = None;
    let conditions = obj
        .at("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for c in conditions.filter(|c| cond_str(c, "status") == "True") {
        let message = cond_str(c, "message").to_string();
        match cond_str(c, "type") {
            "Failed" => failed = Some(message),
            "Complete" => complete = Some(message),
            "Suspended" => suspended = Some(message),
            _ => {}
        }
    }
    if let Some(message) = failed {
        return HealthStatus::new(Health::Degraded, message);
    }
    if let Some(message) = suspended {
        return HealthStatus::new(Health::Suspended, message);
    }
    if let Some(message) = complete {
        return HealthStatus::new(Health::Healthy, message);
    }
    HealthStatus::new(
        Health::Progressing,
        format!(
            "Job is running: {} active, {} succeeded, {} failed",
            count(obj, "/status/active"),
            count(obj, "/status/succeeded"),
            count(obj, "/status/failed")
        ),
    )
}

/// Argo CD's CronJob rule (a Lua script there): suspended → Healthy (deliberately not
/// Suspended, argo-cd#24428); the last scheduled run has not succeeded and no job is active
/// → Degraded; otherwise Healthy.
pub(super) fn cron_job(obj: &Value) -> HealthStatus {
    if obj.at("/spec/suspend").and_then(Value::as_bool) == Some(true) {
        return HealthStatus::new(Health::Healthy, "CronJob is suspended");
    }
    let Some(last_schedule) = str_at(obj, "/status/lastScheduleTime") else {
        return HealthStatus::new(Health::Healthy, "CronJob has not been scheduled yet");
    };
    let Some(last_success) = str_at(obj, "/status/lastSuccessfulTime") else {
        return HealthStatus::new(
            Health::Healthy,
            "The CronJob never completed successfully. It may not be healthy",
        );
    };
    let active = obj
        .at("/status/active")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if active {
        return HealthStatus::new(
            Health::Healthy,
            "The job is running. Its last execution may not have been successful",
        );
    }
    if compare_times(last_success, last_schedule) == Ordering::Less {
        return HealthStatus::new(
            Health::Degraded,
            "CronJob has not completed its last execution successfully",
        );
    }
    HealthStatus::new(
        Health::Healthy,
        "CronJob has completed its last execution successfully",
    )
}

/// Orders two RFC 3339 times; text order when either does not parse.
fn compare_times(a: &str, b: &str) -> Ordering {
    match (a.parse::<Timestamp>(), b.parse::<Timestamp>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}
