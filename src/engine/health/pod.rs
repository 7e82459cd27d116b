//! Argo CD's Pod rule, with fuller messages where Argo CD leaves them empty.

use crate::engine::json::{JsonPath, str_at};
use serde_json::Value;

use super::{aggregate::is_hook, cond_message, cond_str, condition};
use crate::model::{Health, HealthStatus};

const IGNORE_RESTART_POLICY: &str = "argocd.argoproj.io/ignore-restart-policy";

fn statuses<'a>(obj: &'a Value, field: &str) -> impl Iterator<Item = &'a Value> {
    obj.at(&format!("/status/{field}"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn container_name(status: &Value) -> &str {
    status.get("name").and_then(Value::as_str).unwrap_or("")
}

/// Restart policy Always (or the ignore annotation on a non-hook): a container waiting with a
/// reason `Err*`, `*Error` or `*BackOff` → Degraded. Then by phase: Pending → Progressing,
/// Succeeded → Healthy, Failed → Degraded, Running → Healthy when ready (Always), Degraded
/// when a container has terminated before, else Progressing; Running with Never/OnFailure →
/// Progressing (it runs to completion like a Job); anything else → Unknown.
pub(super) fn pod(obj: &Value) -> HealthStatus {
    let restart_policy = str_at(obj, "/spec/restartPolicy").unwrap_or("Always");
    let ignore_policy = str_at(
        obj,
        &format!("/metadata/annotations/{}", escape(IGNORE_RESTART_POLICY)),
    ) == Some("true")
        && !is_hook(obj);
    let pod_message = str_at(obj, "/status/message").unwrap_or("").to_string();

    if restart_policy == "Always" || ignore_policy {
        let failing: Vec<String> = statuses(obj, "containerStatuses")
            .filter_map(|cs| {
                let waiting = cs.at("/state/waiting")?;
                let reason = waiting.get("reason").and_then(Value::as_str).unwrap_or("");
                let bad = reason.starts_with("Err")
                    || reason.ends_with("Error")
                    || reason.ends_with("BackOff");
                if !bad {
                    return None;
                }
                let message = waiting.get("message").and_then(Value::as_str).unwrap_or("");
                Some(if message.is_empty() {
                    format!("container {:?}: {reason}", container_name(cs))
                } else {
                    message.to_string()
                })
            })
            .collect();
        if !failing.is_empty() {
            return HealthStatus::new(Health::Degraded, failing.join(", "));
        }
    }

    match str_at(obj, "/status/phase").unwrap_or("") {
        "Pending" => {
            HealthStatus::new(Health::Progressing, or(pod_message, || pending_reason(obj)))
        }
        "Succeeded" => HealthStatus::new(Health::Healthy, pod_message),
        "Failed" => {
            if !pod_message.is_empty() {
                return HealthStatus::new(Health::Degraded, pod_message);
            }
            let message = statuses(obj, "initContainerStatuses")
                .chain(statuses(obj, "containerStatuses"))
                .find_map(fail_message)
                .unwrap_or_default();
            HealthStatus::new(Health::Degraded, message)
        }
        "Running" => match restart_policy {
            "Always" => {
                if is_ready(obj) {
                    return HealthStatus::new(Health::Healthy, pod_message);
                }
                let restarted = statuses(obj, "containerStatuses")
                    .any(|cs| cs.at("/lastState/terminated").is_some_and(|t| !t.is_null()));
                let status = if restarted {
                    Health::Degraded
                } else {
                    Health::Progressing
                };
                HealthStatus::new(status, or(pod_message, || ready_summary(obj)))
            }
            "OnFailure" | "Never" => HealthStatus::new(Health::Progressing, pod_message),
            _ => HealthStatus::new(Health::Unknown, pod_message),
        },
        _ => HealthStatus::new(Health::Unknown, pod_message),
    }
}

/// A JSON pointer token for a key holding `/` or `~`.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn or(message: String, fallback: impl FnOnce() -> String) -> String {
    if message.is_empty() {
        fallback()
    } else {
        message
    }
}

fn is_ready(obj: &Value) -> bool {
    condition(obj, "Ready").is_some_and(|c| cond_str(c, "status") == "True")
}

/// Why a pod is still pending: unschedulable, or its containers' waiting reasons.
fn pending_reason(obj: &Value) -> String {
    if let Some(c) = condition(obj, "PodScheduled")
        && cond_str(c, "status") == "False"
    {
        return cond_message(c);
    }
    let waiting: Vec<String> = statuses(obj, "initContainerStatuses")
        .chain(statuses(obj, "containerStatuses"))
        .filter_map(|cs| {
            let w = cs.at("/state/waiting")?;
            let reason = w.get("reason").and_then(Value::as_str).unwrap_or("waiting");
            let message = w.get("message").and_then(Value::as_str).unwrap_or("");
            Some(if message.is_empty() {
                format!("container {:?}: {reason}", container_name(cs))
            } else {
                message.to_string()
            })
        })
        .collect();
    if waiting.is_empty() {
        "Pod is pending".to_string()
    } else {
        waiting.join(", ")
    }
}

fn ready_summary(obj: &Value) -> String {
    let (ready, total) = ready_counts(obj);
    format!("{ready}/{total} containers ready")
}

/// Ready and total containers of a pod, from its container statuses (spec when none yet).
pub(crate) fn ready_counts(obj: &Value) -> (usize, usize) {
    let statuses: Vec<&Value> = statuses(obj, "containerStatuses").collect();
    let total = if statuses.is_empty() {
        obj.at("/spec/containers")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    } else {
        statuses.len()
    };
    let ready = statuses
        .iter()
        .filter(|s| s.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    (ready, total)
}

fn fail_message(cs: &Value) -> Option<String> {
    let terminated = cs.at("/state/terminated")?;
    let message = terminated
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !message.is_empty() {
        return Some(message.to_string());
    }
    if terminated.get("reason").and_then(Value::as_str) == Some("OOMKilled") {
        return Some("OOMKilled".to_string());
    }
    match terminated.get("exitCode").and_then(Value::as_i64) {
        Some(code) if code != 0 => Some(format!(
            "container {:?} failed with exit code {code}",
            container_name(cs)
        )),
        _ => None,
    }
}
