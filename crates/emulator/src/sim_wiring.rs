//! The simulated controllers' view of the store: [`World`] reads and [`StoreAccess`] writes
//! over the emulator's [`Store`], so controller writes go through the same machinery
//! (resourceVersions, watches, managedFields) as API requests.
use std::sync::Arc;

use serde_json::Value;

use super::controllers::{ChangeFeed, Changed, Feed, Obj, StoreAccess, StoreError, World};
use super::delete::DeleteOptions;
use super::kinds::ResourceType;
use super::status::ApiError;
use super::store::{Changes, EventType, Store, Stored};
use super::write::WriteOptions;
use crate::key::ResourceKey;

struct StoredObj(Arc<Stored>);
impl AsRef<Value> for StoredObj {
    fn as_ref(&self) -> &Value {
        &self.0.object
    }
}
fn obj(s: &Arc<Stored>) -> Obj {
    Obj::shared(Arc::new(StoredObj(s.clone())))
}

/// Adapts the emulator's store to the controllers' traits.
pub struct StoreAdapter {
    /// The store controllers read and write.
    pub store: Store,
}

impl StoreAdapter {
    /// The preferred resource type serving a group/kind.
    fn rt(&self, group: &str, kind: &str) -> Result<Arc<ResourceType>, StoreError> {
        let reg = self.store.registry();
        let t = reg
            .types()
            .iter()
            .find(|t| t.group == group && t.kind == kind)
            .ok_or_else(|| StoreError::Rejected(format!("{group}/{kind} is not served")))?;
        reg.preferred(&t.group_resource())
            .cloned()
            .ok_or_else(|| StoreError::Rejected(format!("{group}/{kind} is not served")))
    }
}

fn err(e: ApiError) -> StoreError {
    match (e.code, e.reason) {
        (404, _) => StoreError::NotFound(e.message),
        (409, "AlreadyExists") => StoreError::AlreadyExists(e.message),
        (409, _) => StoreError::Conflict(e.message, String::new()),
        _ => StoreError::Rejected(e.message),
    }
}

fn key(o: &Value) -> Result<ResourceKey, StoreError> {
    ResourceKey::of(o).ok_or_else(|| StoreError::Rejected("object without kind or name".into()))
}

impl World for StoreAdapter {
    fn get(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Option<Obj> {
        let rt = self.rt(group, kind).ok()?;
        self.store
            .get_stored(&rt.group_resource(), namespace, name)
            .map(|s| obj(&s))
    }
    fn list(&self, group: &str, kind: &str, namespace: Option<&str>) -> Vec<Obj> {
        let Ok(rt) = self.rt(group, kind) else {
            return Vec::new();
        };
        self.store
            .list_stored(&rt.group_resource(), namespace)
            .1
            .iter()
            .map(obj)
            .collect()
    }
    fn list_owned(&self, group: &str, kind: &str, namespace: &str, owner_uid: &str) -> Vec<Obj> {
        let Ok(rt) = self.rt(group, kind) else {
            return Vec::new();
        };
        let gr = rt.group_resource();
        self.store
            .dependents_of(owner_uid)
            .into_iter()
            .filter(|r| r.gr == gr && r.namespace == namespace)
            .filter_map(|r| self.store.get_stored(&r.gr, &r.namespace, &r.name))
            .filter(|s| {
                s.object["metadata"]["ownerReferences"]
                    .as_array()
                    .is_some_and(|refs| {
                        refs.iter()
                            .any(|o| o["uid"] == owner_uid && o["controller"] == true)
                    })
            })
            .map(|s| obj(&s))
            .collect()
    }
    fn namespace_contents(&self, namespace: &str) -> Vec<Obj> {
        let reg = self.store.registry();
        reg.group_resources()
            .iter()
            .filter(|t| t.namespaced)
            .flat_map(|t| {
                self.store
                    .list_stored(&t.group_resource(), Some(namespace))
                    .1
            })
            .map(|s| obj(&s))
            .collect()
    }
}

impl StoreAccess for StoreAdapter {
    fn subscribe(&self) -> ChangeFeed {
        let sub = self.store.subscribe();
        Box::pin(futures::stream::unfold(sub, |mut sub| async move {
            let item = match sub.next().await? {
                Changes::Lost => Feed::Lost,
                Changes::Events(events) => Feed::Changes(
                    events
                        .iter()
                        .filter_map(|e| {
                            let o = obj(&e.object);
                            Some(Changed {
                                key: ResourceKey::of(&o)?,
                                object: o,
                                deleted: e.kind == EventType::Deleted,
                            })
                        })
                        .collect(),
                ),
            };
            Some((item, sub))
        }))
    }
    fn create(&self, o: Value, manager: &str) -> Result<Obj, StoreError> {
        let k = key(&o)?;
        let rt = self.rt(&k.group, &k.kind)?;
        self.store
            .create(&rt, &k.namespace, o, &WriteOptions::by(manager))
            .map(|w| obj(&w.object))
            .map_err(err)
    }
    fn update(&self, o: Value, manager: &str) -> Result<Obj, StoreError> {
        let k = key(&o)?;
        let rt = self.rt(&k.group, &k.kind)?;
        let sub = (k.group.is_empty() && k.kind == "Namespace").then_some("finalize");
        self.store
            .update(
                &rt,
                &k.namespace,
                &k.name,
                o,
                sub,
                &WriteOptions::by(manager),
            )
            .map(|w| obj(&w.object))
            .map_err(err)
    }
    fn update_status(
        &self,
        k: &ResourceKey,
        status: Value,
        expected_rv: Option<&str>,
        manager: &str,
    ) -> Result<Obj, StoreError> {
        let rt = self.rt(&k.group, &k.kind)?;
        self.store
            .update_status(&rt, &k.namespace, &k.name, status, expected_rv, manager)
            .map(|w| obj(&w.object))
            .map_err(err)
    }
    fn delete(&self, k: &ResourceKey, _manager: &str) -> Result<(), StoreError> {
        let rt = self.rt(&k.group, &k.kind)?;
        self.store
            .delete(&rt, &k.namespace, &k.name, &DeleteOptions::default())
            .map(drop)
            .map_err(err)
    }
}
