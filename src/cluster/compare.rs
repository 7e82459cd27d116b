//! Comparing one app against its cluster: predict each desired object with a server-side
//! apply dry run (field manager `rekon`), fall back to Git's fields where the server
//! refuses, and diff against live with the engine's rules. Runs off the runtime's task: it
//! only touches the network and its own inputs.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::{ApiCatalog, LiveObject};
use crate::engine::compare::{FIELD_MANAGER, ResourceOutcome};
use crate::engine::desired::DesiredObject;
use crate::engine::diff::{CompareOptions, compare_resource};
use crate::engine::normalize::CompareMethod;
use crate::model::{IgnoreDifference, ResourceDiff, ResourceKey, SyncStatus, split_api_version};

/// Dry runs in flight per app; enough to hide latency without flooding the server.
const DRY_RUN_CONCURRENCY: usize = 16;

/// Everything one app's comparison needs, gathered by the runtime's task.
pub struct CompareJob {
    /// Client of the app's cluster.
    pub client: kube::Client,
    /// The cluster's name, for messages and the cache.
    pub cluster: String,
    /// What the cluster serves.
    pub catalog: Arc<ApiCatalog>,
    /// The app's desired objects (hooks included; they are skipped here).
    pub desired: Arc<Vec<DesiredObject>>,
    /// Live copies of the desired objects that exist, as held by the live cache (text):
    /// each is parsed when its comparison runs. Jobs of every app wait for their turn at
    /// once, and holding parsed copies made them the largest part of the heap (profiled).
    pub live: HashMap<ResourceKey, LiveObject>,
    /// Live objects tracked by this app that Git no longer holds; when one is `partial`,
    /// only its metadata is known (the whole object is fetched for the diff).
    pub extra: Vec<LiveObject>,
    /// Kinds whose watch is refused or failing, with why: their resources are Unknown.
    pub unavailable: HashMap<(String, String), String>,
    /// The app's `spec.ignoreDifferences`.
    pub app_ignore: Vec<IgnoreDifference>,
    /// Ignore rules from config.
    pub config_ignore: Arc<Vec<IgnoreDifference>>,
}

/// Resources compared at once across every app of an engine. Each app also keeps
/// [`DRY_RUN_CONCURRENCY`] in flight, but 1,000 apps starting together held 16,000
/// comparisons (requests, responses, parsed predictions) at once: a third of the peak
/// memory of a cold start (heap profile), with no gain in speed on a 2-core machine.
const ENGINE_COMPARE_CONCURRENCY: usize = 32;

/// Predictions from earlier dry runs, valid while neither the desired object nor the
/// live object's non-status content changed. Status churn (rollouts) costs no dry run.
/// Also bounds how many comparisons run at once engine-wide.
pub struct DryRunCache {
    /// By [`ResourceKey::fingerprint_in`] of the cluster: a prediction holds only while
    /// the desired and live fingerprints match, and those include the object's identity,
    /// so two keys sharing a slot only cost a dry run. Owned keys were half the cache's
    /// memory with 30,000 predictions (heaptrack).
    entries: Mutex<HashMap<u64, CachedPrediction>>,
    permits: tokio::sync::Semaphore,
}

impl Default for DryRunCache {
    fn default() -> Self {
        DryRunCache {
            entries: Mutex::default(),
            permits: tokio::sync::Semaphore::new(ENGINE_COMPARE_CONCURRENCY),
        }
    }
}

/// A prediction is kept as JSON text: a parsed object costs several times its text in
/// memory, and with one prediction per desired object (30,000 for 1,000 apps) the cache
/// held hundreds of MB (profiled). A hit parses it again, microseconds per object.
struct CachedPrediction {
    desired: u64,
    live: u64,
    kept: Kept,
}

/// What a cached dry run left behind.
enum Kept {
    /// The prediction differed from the live object: its JSON text.
    Text(Box<str>),
    /// The prediction agreed with the live object under ignore rules with this
    /// fingerprint. Most resources of a settled estate are Synced, and their predictions
    /// were a fifth of the heap with 50,000 live objects (profiled); while neither input
    /// changes, comparing again would find them equal again.
    SameAsLive { rules: u64 },
}

/// A usable cache entry.
enum Hit {
    /// The cached prediction, parsed.
    Predicted(Value),
    /// Nothing changed since the dry run found the resource Synced.
    SameAsLive,
}

impl DryRunCache {
    fn get(
        &self,
        cluster: &str,
        key: &ResourceKey,
        (desired, live): (u64, u64),
        rules: u64,
    ) -> Option<Hit> {
        let text = {
            let entries = self.entries.lock().ok()?;
            let hit = entries.get(&key.fingerprint_in(cluster))?;
            if hit.desired != desired || hit.live != live {
                return None;
            }
            match &hit.kept {
                Kept::Text(text) => text.clone(),
                Kept::SameAsLive { rules: r } if *r == rules => return Some(Hit::SameAsLive),
                Kept::SameAsLive { .. } => return None,
            }
        };
        serde_json::from_str(&text).ok().map(Hit::Predicted)
    }

    fn put(&self, cluster: &str, key: &ResourceKey, (desired, live): (u64, u64), kept: Kept) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(
                key.fingerprint_in(cluster),
                CachedPrediction {
                    desired,
                    live,
                    kept,
                },
            );
        }
    }

    /// Forgets the prediction for one resource.
    fn forget(&self, cluster: &str, key: &ResourceKey) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(&key.fingerprint_in(cluster));
        }
    }

    /// Forgets every prediction (a hard refresh).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// A fingerprint of the ignore rules a comparison applies: a Synced verdict holds only
/// under the rules it was reached with.
fn rules_fingerprint(job: &CompareJob) -> u64 {
    fingerprint_text(&format!("{:?}{:?}", job.app_ignore, job.config_ignore))
}

fn fingerprint(v: &Value) -> u64 {
    fingerprint_text(&v.to_string())
}

fn fingerprint_text(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// A fingerprint of what can change a dry run's outcome: everything but status, the
/// resourceVersion and the managedFields timestamps.
fn live_fingerprint(live: &Value) -> u64 {
    let mut v = live.clone();
    if let Some(map) = v.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
        if let Some(fields) = meta.get_mut("managedFields").and_then(Value::as_array_mut) {
            for entry in fields {
                if let Some(e) = entry.as_object_mut() {
                    e.remove("time");
                }
            }
        }
    }
    fingerprint(&v)
}

/// Runs the comparison. Never fails as a whole: each resource carries its own outcome.
pub async fn run(job: CompareJob, cache: Arc<DryRunCache>) -> Vec<ResourceOutcome> {
    let job = Arc::new(job);
    let rules = rules_fingerprint(&job);
    // Indexes, not copies: the desired objects stay in the job's shared list.
    let wanted: Vec<usize> = (0..job.desired.len())
        .filter(|i| !job.desired[*i].hook)
        .collect();
    // Futures are made as `buffered` asks for them: made up front, the waiting comparisons
    // of 1,000 apps held 30,000 of them at once (a tenth of the heap, profiled).
    let compared = futures::stream::iter(wanted)
        .map(|i| {
            let job = job.clone();
            let cache = cache.clone();
            async move {
                // The semaphore is never closed; without a permit the comparison still runs.
                let _permit = cache.permits.acquire().await.ok();
                // Boxed once it may run: the dry run's future is large, and every app's
                // resources wait for a permit at once (only this small future waits).
                let mut outcome = Box::pin(compare_one(&job, &cache, &job.desired[i], rules)).await;
                outcome.drop_texts_if_unchanged();
                outcome
            }
        })
        .buffered(DRY_RUN_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;
    let mut out = compared;
    for held in &job.extra {
        let live = held.value();
        let Some(key) = ResourceKey::of(&live) else {
            continue;
        };
        // Git no longer holds it, so no dry run of it will be asked for again: without this
        // an app whose object names change with each commit would leave a prediction behind
        // for every name it ever rendered, for as long as `rekon run` lives.
        cache.forget(&job.cluster, &key);
        let full;
        let live = if held.partial {
            // Boxed: inline, kube's request future made every app's waiting comparison
            // task that much larger (heaptrack: ~40 KB a task, 1,000 apps at once).
            match Box::pin(fetch(&job.client, &job.catalog, &live)).await {
                Some(obj) => {
                    full = obj;
                    &full
                }
                // Gone in the meantime: nothing left to prune.
                None => continue,
            }
        } else {
            live.as_ref()
        };
        let options = options(&job, CompareMethod::GitFieldsOnly);
        let diff = compare_resource(key.clone(), None, Some(live), &options);
        let version = live["apiVersion"].as_str().unwrap_or_default();
        out.push(ResourceOutcome {
            key,
            version: split_api_version(version).1.to_string(),
            diff,
            sync: SyncStatus::OutOfSync,
            message: "tracked by this app but no longer in Git".into(),
            requires_pruning: true,
            method: None,
        });
    }
    out
}

fn options(job: &CompareJob, method: CompareMethod) -> CompareOptions<'_> {
    CompareOptions {
        method,
        app_ignore: &job.app_ignore,
        config_ignore: &job.config_ignore,
        sensitive_annotations: &[],
    }
}

async fn compare_one(
    job: &CompareJob,
    cache: &DryRunCache,
    d: &DesiredObject,
    rules: u64,
) -> ResourceOutcome {
    let version = split_api_version(&d.api_version).1.to_string();
    let unknown = |message: String| ResourceOutcome {
        key: d.key.clone(),
        version: version.clone(),
        diff: ResourceDiff {
            key: d.key.clone(),
            desired: None,
            live: None,
            changed: false,
        },
        sync: SyncStatus::Unknown,
        message,
        requires_pruning: false,
        method: None,
    };
    if let Some(why) = job
        .unavailable
        .get(&(d.key.group.clone(), d.key.kind.clone()))
    {
        return unknown(format!(
            "cannot read {} from the cluster: {why}",
            d.key.kind
        ));
    }
    let Some(live) = job.live.get(&d.key).map(LiveObject::value) else {
        // Missing: nothing to predict against; a sync would create it as written.
        let options = options(job, CompareMethod::GitFieldsOnly);
        let diff = compare_resource(d.key.clone(), Some(&d.object()), None, &options);
        let message = d
            .problem
            .clone()
            .unwrap_or_else(|| "missing from the cluster".into());
        return ResourceOutcome {
            key: d.key.clone(),
            version,
            diff,
            sync: SyncStatus::OutOfSync,
            message,
            requires_pruning: false,
            method: None,
        };
    };
    // Desired as it would be after applying: from the server when it agrees to a dry run,
    // else the desired object itself compared on Git's fields only (with the reason).
    // The same text `fingerprint` would hash: desired objects are held as serde_json wrote them.
    let inputs = (fingerprint_text(&d.json.text()), live_fingerprint(&live));
    let predicted = match cache.get(&job.cluster, &d.key, inputs, rules) {
        Some(Hit::SameAsLive) => {
            let unchanged = ResourceDiff {
                key: d.key.clone(),
                desired: None,
                live: None,
                changed: false,
            };
            return ResourceOutcome::compared(
                d,
                version,
                unchanged,
                CompareMethod::ServerSideDryRun,
                String::new(),
            );
        }
        Some(Hit::Predicted(hit)) => Ok((hit, false)),
        None => dry_run(&job.client, &job.catalog, d)
            .await
            .map(|predicted| (predicted, true)),
    };
    match predicted {
        Ok((predicted, fresh)) => {
            let options = options(job, CompareMethod::ServerSideDryRun);
            let diff = compare_resource(d.key.clone(), Some(&predicted), Some(&live), &options);
            if fresh {
                let kept = if diff.changed {
                    Kept::Text(predicted.to_string().into_boxed_str())
                } else {
                    Kept::SameAsLive { rules }
                };
                cache.put(&job.cluster, &d.key, inputs, kept);
            }
            ResourceOutcome::compared(
                d,
                version,
                diff,
                CompareMethod::ServerSideDryRun,
                String::new(),
            )
        }
        Err(why) => {
            let options = options(job, CompareMethod::GitFieldsOnly);
            let diff = compare_resource(d.key.clone(), Some(&d.object()), Some(&live), &options);
            let message = format!("dry run refused ({why}); compared the fields Git sets");
            ResourceOutcome::compared(d, version, diff, CompareMethod::GitFieldsOnly, message)
        }
    }
}

/// The whole object behind a metadata-only copy; `None` when it is gone or unreadable.
async fn fetch(client: &kube::Client, catalog: &ApiCatalog, meta: &Value) -> Option<Value> {
    let key = ResourceKey::of(meta)?;
    let api_version = meta["apiVersion"].as_str()?;
    let kind = catalog.resolve(api_version, &key.kind)?;
    let api: Api<DynamicObject> = if kind.namespaced {
        Api::namespaced_with(client.clone(), &key.namespace, &kind.resource)
    } else {
        Api::all_with(client.clone(), &kind.resource)
    };
    let obj = api.get_opt(&key.name).await.ok()??;
    let mut v = serde_json::to_value(obj).ok()?;
    if let Some(map) = v.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(api_version.to_string()));
        map.insert("kind".into(), Value::String(key.kind.clone()));
    }
    Some(v)
}

/// Server-side apply dry run as `rekon`, forcing conflicts: the comparison asks what the
/// object would be after a sync, whoever owns its fields today.
pub async fn dry_run(
    client: &kube::Client,
    catalog: &ApiCatalog,
    d: &DesiredObject,
) -> Result<Value, String> {
    let kind = catalog
        .resolve(&d.api_version, &d.key.kind)
        .ok_or_else(|| format!("{} {} is not served", d.api_version, d.key.kind))?;
    let api: Api<DynamicObject> = if kind.namespaced {
        Api::namespaced_with(client.clone(), &d.key.namespace, &kind.resource)
    } else {
        Api::all_with(client.clone(), &kind.resource)
    };
    let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
    let obj = api
        .patch(&d.key.name, &params, &Patch::Apply(&d.object()))
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) => format!("{} {}", s.code, s.message),
            other => other.to_string(),
        })?;
    serde_json::to_value(obj).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn predictions_of_objects_git_no_longer_holds_are_forgotten() {
        let config = kube::Config::new("http://127.0.0.1:9".parse().expect("a valid URL"));
        let client = kube::Client::try_from(config).expect("a client needs no connection");
        let gone = ResourceKey::new("", "ConfigMap", "shop", "old-name");
        let kept = ResourceKey::new("", "ConfigMap", "shop", "other");
        let cache = Arc::new(DryRunCache::default());
        for key in [&gone, &kept] {
            cache.put("c", key, (1, 2), Kept::SameAsLive { rules: 7 });
        }
        let live = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "old-name", "namespace": "shop", "uid": "u1"}, "data": {"a": "1"}});
        let job = CompareJob {
            client,
            cluster: "c".into(),
            catalog: Arc::default(),
            desired: Arc::default(),
            live: HashMap::new(),
            extra: vec![LiveObject::new(&gone, &live)],
            unavailable: HashMap::new(),
            app_ignore: Vec::new(),
            config_ignore: Arc::default(),
        };
        let out = run(job, cache.clone()).await;
        assert!(out.iter().any(|o| o.key == gone && o.requires_pruning));
        assert!(cache.get("c", &gone, (1, 2), 7).is_none());
        assert!(cache.get("c", &kept, (1, 2), 7).is_some());
    }

    #[test]
    fn a_synced_verdict_holds_only_for_the_same_inputs_and_rules() {
        let cache = DryRunCache::default();
        let key = ResourceKey::new("", "ConfigMap", "shop", "settings");
        cache.put("c", &key, (1, 2), Kept::SameAsLive { rules: 7 });
        assert!(matches!(
            cache.get("c", &key, (1, 2), 7),
            Some(Hit::SameAsLive)
        ));
        assert!(cache.get("c", &key, (1, 2), 8).is_none());
        assert!(cache.get("c", &key, (1, 3), 7).is_none());
        assert!(cache.get("other", &key, (1, 2), 7).is_none());
        cache.put("c", &key, (1, 2), Kept::Text(r#"{"a":1}"#.into()));
        match cache.get("c", &key, (1, 2), 8) {
            Some(Hit::Predicted(v)) => assert_eq!(v["a"], 1),
            _ => panic!("a kept prediction serves any rules"),
        }
    }
}
