//! The control-plane loops that are part of every cluster, independent of workloads: the
//! garbage collector (ownerReferences: background, foreground and orphan deletion), the
//! namespace lifecycle (a deleted Namespace empties, then goes) and the `default`
//! ServiceAccount of every namespace. They follow the store's event log in process.

use serde_json::{Value, json};

use super::delete::{DeleteOptions, FOREGROUND, ORPHAN, Propagation};
use super::kinds::{GroupResource, ResourceType};
use super::store::{Changes, Event, EventType, ObjRef, Store, Stored};
use super::write::WriteOptions;

/// The field manager of the controllers' writes.
pub const MANAGER: &str = "kube-controller-manager";

/// Runs until the cluster stops.
pub async fn run(store: Store) {
    let mut sub = store.subscribe();
    let initial = store.clone();
    // Objects seeded before the loop started (or restored) get one full look.
    let _ = tokio::task::spawn_blocking(move || full_scan(&initial)).await;
    while let Some(changes) = sub.next().await {
        let s = store.clone();
        let work = move || match changes {
            Changes::Lost => full_scan(&s),
            Changes::Events(events) => events.iter().for_each(|e| handle(&s, e)),
        };
        // Store operations are CPU work that can cascade through thousands of objects.
        if tokio::task::spawn_blocking(work).await.is_err() {
            tracing::warn!("emulator: a garbage collection pass panicked");
        }
    }
}

fn resource_type(store: &Store, gr: &GroupResource) -> Option<std::sync::Arc<ResourceType>> {
    store.registry().preferred(gr).cloned()
}

fn is_namespace(gr: &GroupResource) -> bool {
    gr.group.is_empty() && gr.resource == "namespaces"
}

fn has_finalizer(obj: &Value, f: &str) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x == f))
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn handle(store: &Store, e: &Event) {
    let obj = &e.object.object;
    match e.kind {
        EventType::Deleted => {
            for dep in store.dependents_of(e.object.uid()) {
                check_dependent(store, &dep);
            }
            for owner in owner_uids(obj) {
                if let Some(at) = store.locate_uid(&owner) {
                    check_owner(store, &at);
                }
            }
            let ns = e.object.namespace();
            if !ns.is_empty() {
                check_namespace(store, ns);
            }
        }
        EventType::Added | EventType::Modified => {
            let here = ObjRef {
                gr: e.gr.clone(),
                namespace: e.object.namespace().to_string(),
                name: e.object.name().to_string(),
            };
            if obj.pointer("/metadata/deletionTimestamp").is_some() {
                check_owner(store, &here);
                if is_namespace(&e.gr) {
                    check_namespace(store, e.object.name());
                }
            } else if e.kind == EventType::Added && is_namespace(&e.gr) {
                ensure_default_service_account(store, e.object.name());
            }
            let refs_changed = e.previous.as_ref().is_none_or(|p| {
                p.object.pointer("/metadata/ownerReferences")
                    != obj.pointer("/metadata/ownerReferences")
            });
            if refs_changed && !owner_uids(obj).is_empty() {
                check_dependent(store, &here);
            }
        }
    }
}

fn full_scan(store: &Store) {
    for rt in store.registry().group_resources() {
        let (_, items) = store.list_stored(&rt.group_resource(), None);
        for item in items {
            let here = ObjRef {
                gr: rt.group_resource(),
                namespace: item.namespace().to_string(),
                name: item.name().to_string(),
            };
            if item.object.pointer("/metadata/deletionTimestamp").is_some() {
                check_owner(store, &here);
                if is_namespace(&here.gr) {
                    check_namespace(store, item.name());
                }
            }
            if !owner_uids(&item.object).is_empty() {
                check_dependent(store, &here);
            }
        }
    }
}

/// What an owner reference points at, from the dependent's point of view.
enum Owner {
    Present,
    /// Present and deleting its dependents first.
    Waiting,
    Absent,
}

fn classify(store: &Store, dependent: &Stored, uid: &str) -> Owner {
    let Some(at) = store.locate_uid(uid) else {
        return Owner::Absent;
    };
    // A namespaced owner only counts in the dependent's own namespace.
    if !at.namespace.is_empty() && at.namespace != dependent.namespace() {
        return Owner::Absent;
    }
    match store.get_stored(&at.gr, &at.namespace, &at.name) {
        None => Owner::Absent,
        Some(o)
            if o.object.pointer("/metadata/deletionTimestamp").is_some()
                && has_finalizer(&o.object, FOREGROUND) =>
        {
            Owner::Waiting
        }
        Some(_) => Owner::Present,
    }
}

/// Deletes a dependent whose owners are all gone (or being deleted in the foreground), and
/// drops references to vanished owners when others remain.
fn check_dependent(store: &Store, at: &ObjRef) {
    let Some(dep) = store.get_stored(&at.gr, &at.namespace, &at.name) else {
        return;
    };
    let Some(rt) = resource_type(store, &at.gr) else {
        return;
    };
    let uids = owner_uids(&dep.object);
    if uids.is_empty() {
        return;
    }
    let states: Vec<(String, Owner)> = uids
        .iter()
        .map(|u| (u.clone(), classify(store, &dep, u)))
        .collect();
    let present = states.iter().any(|(_, s)| matches!(s, Owner::Present));
    let waiting = states.iter().any(|(_, s)| matches!(s, Owner::Waiting));
    let absent: Vec<&String> = states
        .iter()
        .filter(|(_, s)| matches!(s, Owner::Absent))
        .map(|(u, _)| u)
        .collect();
    if present {
        if !absent.is_empty() {
            let _ = store.modify(&rt, &at.namespace, &at.name, None, MANAGER, |o| {
                if let Some(refs) = o
                    .pointer_mut("/metadata/ownerReferences")
                    .and_then(Value::as_array_mut)
                {
                    refs.retain(|r| {
                        !r.get("uid")
                            .and_then(Value::as_str)
                            .is_some_and(|u| absent.iter().any(|a| *a == u))
                    });
                }
            });
        }
        return;
    }
    if dep.object.pointer("/metadata/deletionTimestamp").is_some() {
        return;
    }
    let propagation = if waiting {
        Propagation::Foreground
    } else {
        Propagation::Background
    };
    let opts = DeleteOptions {
        propagation: Some(propagation),
        ..DeleteOptions::default()
    };
    let _ = store.delete(&rt, &at.namespace, &at.name, &opts);
}

/// Progresses an owner marked for deletion: orphans or deletes its dependents, then lifts
/// the garbage collector's finalizer.
fn check_owner(store: &Store, at: &ObjRef) {
    let Some(owner) = store.get_stored(&at.gr, &at.namespace, &at.name) else {
        return;
    };
    if owner
        .object
        .pointer("/metadata/deletionTimestamp")
        .is_none()
    {
        return;
    }
    let Some(rt) = resource_type(store, &at.gr) else {
        return;
    };
    let uid = owner.uid().to_string();
    if has_finalizer(&owner.object, ORPHAN) {
        for dep in store.dependents_of(&uid) {
            if let Some(drt) = resource_type(store, &dep.gr) {
                let _ = store.modify(&drt, &dep.namespace, &dep.name, None, MANAGER, |o| {
                    if let Some(refs) = o
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    {
                        refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
                    }
                });
            }
        }
        let _ = store.remove_finalizer(&rt, &at.namespace, &at.name, ORPHAN, MANAGER);
    }
    if has_finalizer(&owner.object, FOREGROUND) {
        let deps = store.dependents_of(&uid);
        for dep in &deps {
            check_dependent(store, dep);
        }
        if store.dependents_of(&uid).is_empty() {
            let _ = store.remove_finalizer(&rt, &at.namespace, &at.name, FOREGROUND, MANAGER);
        }
    }
}

/// Empties a terminating namespace; once nothing is left, lifts its `kubernetes` finalizer
/// so it goes.
fn check_namespace(store: &Store, name: &str) {
    let gr = GroupResource::new("", "namespaces");
    let Some(ns) = store.get_stored(&gr, "", name) else {
        return;
    };
    if ns.object.pointer("/metadata/deletionTimestamp").is_none() {
        return;
    }
    let registry = store.registry();
    for rt in registry.group_resources().iter().filter(|t| t.namespaced) {
        let (_, items) = store.list_stored(&rt.group_resource(), Some(name));
        for item in items
            .iter()
            .filter(|i| i.object.pointer("/metadata/deletionTimestamp").is_none())
        {
            let _ = store.delete(rt, name, item.name(), &DeleteOptions::default());
        }
    }
    if store.count_in_namespace(name) == 0
        && let Some(rt) = registry.preferred(&gr)
    {
        let _ = store.modify(rt, "", name, Some("finalize"), MANAGER, |o| {
            if let Some(f) = o
                .pointer_mut("/spec/finalizers")
                .and_then(Value::as_array_mut)
            {
                f.retain(|x| x != "kubernetes");
            }
        });
    }
}

/// Creates the `default` ServiceAccount of a namespace, as the serviceaccount controller does.
pub fn ensure_default_service_account(store: &Store, namespace: &str) {
    let gr = GroupResource::new("", "serviceaccounts");
    if store.get_stored(&gr, namespace, "default").is_some() {
        return;
    }
    if let Some(rt) = store.registry().preferred(&gr).cloned() {
        let sa =
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}});
        let _ = store.create(&rt, namespace, sa, &WriteOptions::by(MANAGER));
    }
}
