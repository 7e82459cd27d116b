//! An in-memory [`World`] for the controllers' unit tests, plus helpers to run one step.

use serde_json::Value;
use std::collections::BTreeMap;

use super::{Effect, Obj, Outcome, World};
use crate::clock::{Calendar, SimTime};
use crate::key::ResourceKey;

/// Objects by key; tests put in what a step should see.
#[derive(Default)]
pub struct FakeWorld {
    pub objects: BTreeMap<ResourceKey, Obj>,
}

impl FakeWorld {
    pub fn with(objs: impl IntoIterator<Item = Value>) -> Self {
        let mut w = FakeWorld::default();
        for o in objs {
            w.put(o);
        }
        w
    }

    pub fn put(&mut self, obj: Value) {
        let key = ResourceKey::of(&obj).expect("test object has a key");
        self.objects.insert(key, Obj::new(obj));
    }
}

impl World for FakeWorld {
    fn get(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<Obj> {
        self.objects
            .get(&ResourceKey::new(group, kind, namespace, name))
            .cloned()
    }

    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Obj> {
        self.objects
            .iter()
            .filter(|(k, _)| {
                k.group == group && k.kind == kind && namespace.is_none_or(|ns| k.namespace == ns)
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn namespace_contents(&self, namespace: &str) -> Vec<Obj> {
        self.objects
            .iter()
            .filter(|(k, _)| k.namespace == namespace)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// Runs one reconcile of `obj` at `now` with ids counting from 1, at speed 1.
pub fn step(obj: &Value, world: &FakeWorld, now: SimTime) -> Outcome {
    step_on(obj, world, now, Calendar::IDENTITY)
}

/// Runs one reconcile of `obj` at `now` on `calendar` with ids counting from 1.
pub fn step_on(obj: &Value, world: &FakeWorld, now: SimTime, calendar: Calendar) -> Outcome {
    let mut n = 0u64;
    super::reconcile(obj, world, now, calendar, &mut || {
        n += 1;
        n
    })
}

/// The objects the outcome creates.
pub fn created(o: &Outcome) -> Vec<&Value> {
    o.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Create(v) => Some(v),
            _ => None,
        })
        .collect()
}

/// The objects the outcome updates (metadata/spec).
pub fn updated(o: &Outcome) -> Vec<&Value> {
    o.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Update(v) => Some(v),
            _ => None,
        })
        .collect()
}

/// The status the outcome writes, if any.
pub fn status(o: &Outcome) -> Option<&Value> {
    o.effects.iter().find_map(|e| match e {
        Effect::UpdateStatus(v) => v.get("status"),
        _ => None,
    })
}

/// The keys the outcome deletes.
pub fn deleted(o: &Outcome) -> Vec<&ResourceKey> {
    o.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Delete(k) => Some(k),
            _ => None,
        })
        .collect()
}

/// The reasons of the events the outcome records.
pub fn reasons(o: &Outcome) -> Vec<&str> {
    o.effects
        .iter()
        .filter_map(|e| match e {
            Effect::Event(ev) => Some(ev.reason.as_str()),
            _ => None,
        })
        .collect()
}

/// The requeue delay the outcome asks for.
pub fn requeue(o: &Outcome) -> Option<super::SimDuration> {
    o.effects.iter().find_map(|e| match e {
        Effect::Requeue(d) => Some(*d),
        _ => None,
    })
}
