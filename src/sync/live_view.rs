//! What a running sync knows about live objects: the answers to its own writes, and the
//! changes the runtime's watches report (so waiting for health costs no polling for watched
//! kinds). The verdicts on what it sees are the engine's ([`crate::engine::plan::verdict`]).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::mpsc;

use crate::model::{GroupKind, ResourceKey};

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job() -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "shop", "resourceVersion": "5", "uid": "u"},
            "spec": {"completions": 1}, "status": {"conditions": []}})
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
        let mut newer = job();
        newer["metadata"]["resourceVersion"] = json!("9");
        view.observe(&key, Some(newer));
        tx.send(LiveEvent {
            key: key.clone(),
            object: Some(Arc::new(job())),
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
