//! Verdicts on a sync step from its live object: is an applied resource done, has a hook
//! finished. Argo CD's mapping of health to step status.

use serde_json::Value;

use crate::engine::health;
use crate::model::{Health, StepStatus};

/// How an applied resource stands, from its live health: done, failed, or still going.
pub fn resource_verdict(obj: Option<&Value>) -> (StepStatus, String) {
    let Some(obj) = obj else {
        return (StepStatus::Running, "waiting for it to appear".into());
    };
    match health::assess(obj) {
        None => (StepStatus::Succeeded, String::new()),
        Some(h) => match h.status {
            Health::Healthy | Health::Suspended => (StepStatus::Succeeded, h.message),
            Health::Degraded => (StepStatus::Failed, degraded(&h.message)),
            Health::Unknown => (
                StepStatus::Succeeded,
                format!("health unknown: {}", h.message),
            ),
            Health::Progressing | Health::Missing => (StepStatus::Running, h.message),
        },
    }
}

fn degraded(message: &str) -> String {
    if message.is_empty() {
        "Degraded".into()
    } else {
        format!("Degraded: {message}")
    }
}

/// How a hook stands, as Argo CD maps its health: Healthy → Succeeded, Degraded or Unknown
/// → Failed, Progressing or Suspended → Running; a kind without health succeeds once
/// created.
pub fn hook_verdict(obj: Option<&Value>) -> (StepStatus, String) {
    let Some(obj) = obj else {
        return (StepStatus::Running, "waiting for it to appear".into());
    };
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match health::assess(obj) {
        None => (StepStatus::Succeeded, format!("{name} created")),
        Some(h) => match h.status {
            Health::Healthy => (StepStatus::Succeeded, h.message),
            Health::Degraded | Health::Unknown => (StepStatus::Failed, degraded(&h.message)),
            Health::Progressing | Health::Suspended | Health::Missing => {
                (StepStatus::Running, h.message)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(conditions: Value) -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "shop", "resourceVersion": "5", "uid": "u"},
            "spec": {"completions": 1}, "status": {"conditions": conditions}})
    }

    #[test]
    fn hook_verdicts_follow_argo_cd() {
        let done = job(json!([{"type": "Complete", "status": "True"}]));
        assert_eq!(hook_verdict(Some(&done)).0, StepStatus::Succeeded);
        let failed =
            job(json!([{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}]));
        let (status, message) = hook_verdict(Some(&failed));
        assert_eq!(status, StepStatus::Failed);
        assert!(message.contains("BackoffLimitExceeded"), "{message}");
        let running = job(json!([]));
        assert_eq!(hook_verdict(Some(&running)).0, StepStatus::Running);
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        assert_eq!(
            hook_verdict(Some(&cm)),
            (StepStatus::Succeeded, "x created".into())
        );
        assert_eq!(hook_verdict(None).0, StepStatus::Running);
    }

    #[test]
    fn resource_verdicts() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
        assert_eq!(resource_verdict(Some(&cm)).0, StepStatus::Succeeded);
        let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 1}, "status": {"observedGeneration": 1}});
        assert_eq!(resource_verdict(Some(&dep)).0, StepStatus::Running);
        let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"}, "status": {"phase": "Lost"}});
        assert_eq!(resource_verdict(Some(&pvc)).0, StepStatus::Failed);
    }
}
