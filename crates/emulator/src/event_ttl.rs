//! Events expire like kube-apiserver's `--event-ttl` (1 h by default): an Event is deleted
//! that long after its last write. Without it a cluster under churn gathers Events
//! forever, and every client that watches them (rekon, kubectl get -w) grows with it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use tokio::time::Instant;

use super::delete::DeleteOptions;
use super::kinds::GroupResource;
use super::store::{Changes, Event, EventType, Store};

/// kube-apiserver's default `--event-ttl`.
pub const DEFAULT_EVENT_TTL: Duration = Duration::from_secs(3600);

/// An Event due to go, as it was when written: a later write leaves this one stale.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    at: Instant,
    group: String,
    namespace: String,
    name: String,
    rv: u64,
}

/// The API groups that serve Events (core/v1 and events.k8s.io/v1 are stored apart).
const EVENT_GROUPS: [&str; 2] = ["", "events.k8s.io"];

fn is_event(gr: &GroupResource) -> bool {
    gr.resource == "events" && EVENT_GROUPS.contains(&gr.group.as_str())
}

fn events_of(group: &str) -> GroupResource {
    GroupResource {
        group: group.to_string(),
        resource: "events".to_string(),
    }
}

/// Runs until the cluster stops, deleting each Event `ttl` (simulated time) after its last
/// write.
pub async fn run(store: Store, ttl: Duration) {
    let mut sub = store.subscribe();
    let mut due: BinaryHeap<Reverse<Due>> = BinaryHeap::new();
    let real_ttl = store.clock().scaled(ttl);
    schedule_all(&store, real_ttl, &mut due);
    loop {
        let next = due.peek().map(|Reverse(d)| d.at);
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending::<()>().await,
            }
        };
        // The subscription ends when the cluster stops.
        tokio::select! {
            changes = sub.next() => match changes {
                None => return,
                Some(Changes::Lost) => schedule_all(&store, real_ttl, &mut due),
                Some(Changes::Events(events)) => {
                    let at = Instant::now() + real_ttl;
                    for e in events.iter().filter(|e| is_event(&e.gr)) {
                        schedule(e, at, &mut due);
                    }
                }
            },
            _ = sleep => {
                let now = Instant::now();
                let mut expired = Vec::new();
                while due.peek().is_some_and(|Reverse(d)| d.at <= now) {
                    if let Some(Reverse(d)) = due.pop() {
                        expired.push(d);
                    }
                }
                let s = store.clone();
                // Deletes are store work that may touch many objects at once: off the async threads.
                let _ = tokio::task::spawn_blocking(move || expire(&s, expired)).await;
            }
        }
    }
}

fn schedule(e: &Event, at: Instant, due: &mut BinaryHeap<Reverse<Due>>) {
    if e.kind == EventType::Deleted {
        return;
    }
    due.push(Reverse(Due {
        at,
        group: e.gr.group.clone(),
        namespace: e.object.namespace().to_string(),
        name: e.object.name().to_string(),
        rv: e.rv,
    }));
}

/// Every Event present gets a full TTL from now (at start, and after a lost feed).
fn schedule_all(store: &Store, real_ttl: Duration, due: &mut BinaryHeap<Reverse<Due>>) {
    due.clear();
    let at = Instant::now() + real_ttl;
    for group in EVENT_GROUPS {
        let (_, items) = store.list_stored(&events_of(group), None);
        for item in items {
            due.push(Reverse(Due {
                at,
                group: group.to_string(),
                namespace: item.namespace().to_string(),
                name: item.name().to_string(),
                rv: item.rv,
            }));
        }
    }
}

/// Deletes each expired Event unless it was written again since (the resourceVersion
/// precondition fails then, and the newer write is already scheduled).
fn expire(store: &Store, expired: Vec<Due>) {
    let registry = store.registry();
    for d in expired {
        let Some(rt) = registry.preferred(&events_of(&d.group)) else {
            continue;
        };
        let opts = DeleteOptions {
            resource_version: Some(d.rv.to_string()),
            ..DeleteOptions::default()
        };
        let _ = store.delete(rt, &d.namespace, &d.name, &opts);
    }
}
