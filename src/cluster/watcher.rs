//! The watch stream of one kind: a kube watcher task that lists, watches, restarts with
//! backoff after errors and sends what it sees to the store's owner as [`WatchMsg`]s.

use std::sync::Arc;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::discovery::ApiResource;
use kube::runtime::watcher;
use serde_json::Value;
use tokio::task::JoinHandle;

use super::store::{KindState, LiveObject, WatchMsg};
use crate::model::packed::Dictionary;
use crate::model::{GroupKind, ResourceKey};

/// Objects per page of a watch's list. kube asks for 500; at a start every kind lists at
/// once, each holding its page as raw bytes and as parsed objects until the last of them is
/// stored. Half that lowered the peak with 50,000 live objects by about 15 MiB for twice
/// the requests (BENCHMARKS.md note 23).
const LIST_PAGE: u32 = 250;

/// Starts watching one kind cluster-wide; messages go to `sink` until the task is aborted or
/// the sink says it is closed (returns false). Errors are reported as [`KindState`]s.
/// With `metadata_only`, only names, labels, annotations and owners are fetched: enough to
/// find objects an app tracks, at a fraction of the memory.
///
/// After an error the watch starts over with a full list (after a backoff): the list's end
/// is the signal that the kind is [`KindState::Ready`] again, and it removes objects that
/// went away while the connection was broken, whatever the server's event log still holds.
pub fn spawn_watch(
    client: kube::Client,
    resource: ApiResource,
    metadata_only: bool,
    sink: impl Fn(WatchMsg) -> bool + Send + 'static,
) -> JoinHandle<()> {
    let gk = GroupKind::new(resource.group.clone(), resource.kind.clone());
    let api_version = resource.api_version.clone();
    let kind = resource.kind.clone();
    let fix = Arc::new(move |mut v: Value| -> Value {
        // List items often omit apiVersion/kind; the key needs them.
        if let Some(map) = v.as_object_mut() {
            map.insert("apiVersion".into(), Value::String(api_version.clone()));
            map.insert("kind".into(), Value::String(kind.clone()));
        }
        drop_unused_managed_fields(&mut v);
        v
    });
    let make = move || -> WatchStream {
        let fix = fix.clone();
        if metadata_only {
            let api: Api<PartialObjectMeta<DynamicObject>> =
                Api::all_with(client.clone(), &resource);
            watcher(api, watcher::Config::default().page_size(LIST_PAGE))
                .map(move |e| e.map(|ev| to_values(ev, &*fix)))
                .boxed()
        } else {
            let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
            watcher(api, watcher::Config::default().page_size(LIST_PAGE))
                .map(move |e| e.map(|ev| to_values(ev, &*fix)))
                .boxed()
        }
    };
    tokio::spawn(pump(gk, make, sink))
}

/// Drops `metadata.managedFields` from objects no app can hold in Git: those a controller
/// owns (Pods, ReplicaSets, EndpointSlices, Jobs of CronJobs) and Events. Only the
/// comparison of an app's own objects reads managed fields (ignoreDifferences by manager,
/// the dry-run cache); on Pods they are half the object (profiled: 50,000 live objects
/// held 1.9 GB).
fn drop_unused_managed_fields(v: &mut Value) {
    let controlled = v["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|refs| refs.iter().any(|r| r["controller"] == Value::Bool(true)));
    let event = v["kind"] == "Event" && v["apiVersion"] == "v1";
    if (controlled || event)
        && let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
    {
        meta.remove("managedFields");
    }
}

type WatchStream =
    futures::stream::BoxStream<'static, Result<watcher::Event<Value>, watcher::Error>>;

fn to_values<K: serde::Serialize>(
    ev: watcher::Event<K>,
    fix: &impl Fn(Value) -> Value,
) -> watcher::Event<Value> {
    let v = |o: K| fix(serde_json::to_value(o).unwrap_or(Value::Null));
    match ev {
        watcher::Event::Apply(o) => watcher::Event::Apply(v(o)),
        watcher::Event::Delete(o) => watcher::Event::Delete(v(o)),
        watcher::Event::Init => watcher::Event::Init,
        watcher::Event::InitApply(o) => watcher::Event::InitApply(v(o)),
        watcher::Event::InitDone => watcher::Event::InitDone,
    }
}

/// Delay before starting over after the `failures`-th failure in a row: 500 ms doubling,
/// at most 30 s, with a little spread so watches of many kinds do not retry in step.
fn restart_delay(failures: u32) -> std::time::Duration {
    let base = 0.5 * 2f64.powi(failures.min(16) as i32);
    let spread = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| f64::from(t.subsec_millis() % 250) / 1000.0)
        .unwrap_or(0.0);
    std::time::Duration::from_secs_f64(base.min(30.0) + spread)
}

/// A 410 Gone in the stream: the watcher lists again by itself; nothing is wrong.
fn is_gone(e: &watcher::Error) -> bool {
    matches!(e, watcher::Error::WatchError(s) if s.code == 410)
}

async fn pump(
    gk: GroupKind,
    make: impl Fn() -> WatchStream,
    sink: impl Fn(WatchMsg) -> bool + Send + 'static,
) {
    if !sink(WatchMsg::State(gk.clone(), KindState::Syncing)) {
        return;
    }
    let mut failures = 0u32;
    // The kind's first object is the sample the others are compressed against; it lasts
    // as long as the watch (relists included), so equal texts stay equal blocks.
    let mut dictionary: Option<Dictionary> = None;
    loop {
        let mut stream = make();
        let mut failed = None;
        while let Some(item) = stream.next().await {
            let msg = match item {
                Ok(watcher::Event::Init) => WatchMsg::RelistStarted(gk.clone()),
                Ok(watcher::Event::InitApply(o)) | Ok(watcher::Event::Apply(o)) => {
                    // An object without a key is never stored: nothing to send.
                    let Some(key) = ResourceKey::of(&o) else {
                        continue;
                    };
                    let text = o.to_string();
                    let dictionary =
                        dictionary.get_or_insert_with(|| Dictionary::from_sample(&text));
                    let held = Box::new(LiveObject::packed(&key, &o, &text, Some(dictionary)));
                    drop(text);
                    drop(o);
                    WatchMsg::Held(gk.clone(), key, held)
                }
                Ok(watcher::Event::Delete(o)) => WatchMsg::Deleted(gk.clone(), o),
                Ok(watcher::Event::InitDone) => {
                    failures = 0;
                    WatchMsg::Relisted(gk.clone())
                }
                Err(e) if is_gone(&e) => continue,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            };
            if !sink(msg) {
                return;
            }
        }
        if let Some(e) = &failed
            && !sink(WatchMsg::State(gk.clone(), classify(e)))
        {
            return;
        }
        drop(stream);
        tokio::time::sleep(restart_delay(failures)).await;
        failures = failures.saturating_add(1);
    }
}

/// Turns a watcher error into a state a person can read: forbidden is not the same as failing.
fn classify(e: &watcher::Error) -> KindState {
    let kube_err = match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => Some(k),
        _ => None,
    };
    let status = match (e, kube_err) {
        (_, Some(kube::Error::Api(s))) => Some(s.as_ref()),
        (watcher::Error::WatchError(s), _) => Some(s.as_ref()),
        _ => None,
    };
    match (status, kube_err) {
        (Some(s), _) if s.code == 403 => KindState::Forbidden(s.message.clone()),
        (_, Some(k)) => KindState::Failing(super::describe::describe_kube(k)),
        (Some(s), None) => KindState::Failing(format!("{} ({})", s.message, s.code)),
        (None, None) => KindState::Failing(super::describe::chain(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, uid: &str, owner: Option<&str>) -> Value {
        let mut p = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "uid": uid}});
        if let Some(o) = owner {
            p["metadata"]["ownerReferences"] =
                json!([{"uid": o, "kind": "ReplicaSet", "name": "rs"}]);
        }
        p
    }

    #[test]
    fn controlled_objects_and_events_lose_managed_fields() {
        let fields = json!([{"manager": "kubelet", "operation": "Update"}]);
        let mut owned = pod("a", "u1", Some("rs1"));
        owned["metadata"]["ownerReferences"][0]["controller"] = json!(true);
        owned["metadata"]["managedFields"] = fields.clone();
        drop_unused_managed_fields(&mut owned);
        assert!(owned["metadata"].get("managedFields").is_none());
        // An object Git may hold keeps them: ignoreDifferences can name managers.
        let mut free = pod("b", "u2", None);
        free["metadata"]["managedFields"] = fields.clone();
        drop_unused_managed_fields(&mut free);
        assert_eq!(free["metadata"]["managedFields"], fields);
        let mut event = json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "e", "namespace": "shop", "managedFields": fields}});
        drop_unused_managed_fields(&mut event);
        assert!(event["metadata"].get("managedFields").is_none());
    }
}
