//! What a running sync knows about live objects: the answers to its own writes, and the
//! changes the engine's watches report (so waiting for health costs no polling for watched
//! kinds). Plus the verdicts: is an applied resource done, has a hook finished.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::engine::health;
use crate::model::{GroupKind, Health, ResourceKey, StepStatus};

/// A change to a live object, as the engine's watch saw it (`None`: deleted).
#[derive(Debug, Clone)]
pub struct LiveEvent {
    /// Which object.
    pub key: ResourceKey,
    /// The object now, `None` when it is gone.
    pub object: Option<Arc<Value>>,
}

/// Live objects as the sync last saw them.
pub struct LiveView {
    objects: HashMap<ResourceKey, Option<Arc<Value>>>,
    /// Kinds the engine watches.
    watched: HashSet<GroupKind>,
    /// Keys whose changes the engine forwards.
    forwarded: HashSet<ResourceKey>,
    events: mpsc::UnboundedReceiver<LiveEvent>,
    closed: bool,
}

fn resource_version(obj: &Value) -> Option<u64> {
    obj.pointer("/metadata/resourceVersion")?
        .as_str()?
        .parse()
        .ok()
}

impl LiveView {
    /// A view starting from the engine's copies.
    pub fn new(
        initial: HashMap<ResourceKey, Arc<Value>>,
        watched: HashSet<GroupKind>,
        forwarded: HashSet<ResourceKey>,
        events: mpsc::UnboundedReceiver<LiveEvent>,
    ) -> Self {
        LiveView {
            objects: initial.into_iter().map(|(k, v)| (k, Some(v))).collect(),
            watched,
            forwarded,
            events,
            closed: false,
        }
    }

    /// Records what the server answered to a write or a read (`None`: it does not exist).
    pub fn observe(&mut self, key: &ResourceKey, object: Option<Value>) {
        self.update(key.clone(), object.map(Arc::new));
    }

    fn update(&mut self, key: ResourceKey, object: Option<Arc<Value>>) {
        if let (Some(new), Some(Some(old))) = (&object, self.objects.get(&key)) {
            // An event may be older than the answer to our own write: keep the newer.
            if let (Some(n), Some(o)) = (resource_version(new), resource_version(old))
                && n < o
                && new["metadata"]["uid"] == old["metadata"]["uid"]
            {
                return;
            }
        }
        self.objects.insert(key, object);
    }

    /// Applies every event already queued; returns whether any arrived.
    pub fn drain(&mut self) -> bool {
        let mut any = false;
        while let Ok(ev) = self.events.try_recv() {
            self.update(ev.key, ev.object);
            any = true;
        }
        any
    }

    /// Waits for the next event and applies it; never returns when the engine is gone.
    pub async fn next_event(&mut self) {
        if self.closed {
            return std::future::pending().await;
        }
        match self.events.recv().await {
            Some(ev) => self.update(ev.key, ev.object),
            None => {
                self.closed = true;
                std::future::pending::<()>().await
            }
        }
    }

    /// The object as last seen: `None` when unknown or gone.
    pub fn get(&self, key: &ResourceKey) -> Option<&Arc<Value>> {
        self.objects.get(key).and_then(Option::as_ref)
    }

    /// Whether the object is known to be gone (or never existed).
    pub fn is_gone(&self, key: &ResourceKey) -> bool {
        matches!(self.objects.get(key), Some(None))
    }

    /// Whether the engine tells us about this object's changes (else we poll it).
    pub fn is_told(&self, key: &ResourceKey) -> bool {
        !self.closed && self.forwarded.contains(key) && self.watched.contains(&key.group_kind())
    }
}

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

    #[test]
    fn older_events_do_not_replace_newer_answers() {
        let (tx, rx) = mpsc::unbounded_channel();
        let key = ResourceKey::new("batch", "Job", "shop", "migrate");
        let mut view = LiveView::new(
            HashMap::new(),
            [GroupKind::new("batch", "Job")].into(),
            [key.clone()].into(),
            rx,
        );
        let mut newer = job(json!([]));
        newer["metadata"]["resourceVersion"] = json!("9");
        view.observe(&key, Some(newer));
        tx.send(LiveEvent {
            key: key.clone(),
            object: Some(Arc::new(job(json!([])))),
        })
        .unwrap();
        assert!(view.drain());
        assert_eq!(view.get(&key).unwrap()["metadata"]["resourceVersion"], "9");
        tx.send(LiveEvent {
            key: key.clone(),
            object: None,
        })
        .unwrap();
        view.drain();
        assert!(view.is_gone(&key));
        assert!(view.is_told(&key));
        assert!(!view.is_told(&ResourceKey::new("", "Pod", "shop", "p")));
    }
}
