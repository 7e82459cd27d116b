//! The engine against a misbehaving API server (the emulator's fault switches, so those
//! tests are emulator-only): it ends with exactly the live state after dropped watches, 410s,
//! 500s and a restart; it shows the connection degraded or unreachable meanwhile; a request
//! that never answers cannot hang a comparison or a sync; server-side applies are retried
//! through 429s and 500s; RBAC refusals show as forbidden, never as missing objects. And on
//! either cluster: an auto-sync takes a hand-edited field back when the app self-heals.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::support::cluster::{ClusterAccess, TestCluster};
use crate::support::reliability::{eventually, handle, quick};
use crate::support::sync::{
    Fixture, application, apply_as, cm_yaml, create_namespace, sync, wait_app,
};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams};
use rekon::cluster::ClusterHandle;
use rekon::model::{
    AppSnapshot, Application, ConnectionState, OperationPhase, SyncOptions, SyncStatus,
};
use rekon::runtime::{self, EngineHandle, EngineOptions};
use rekon::source::Sources;
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::{Value, json};
use tempfile::TempDir;

const APP: &str = "argocd/web";

async fn cluster(listen: bool) -> Cluster {
    let c = Cluster::start(ClusterOptions {
        listen: listen.then(|| "127.0.0.1:0".parse().unwrap()),
        controllers: false,
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    create_namespace(&c, "shop").await;
    c
}

fn engine(cluster: ClusterHandle, cache: &TempDir, apps: Vec<Application>) -> EngineHandle {
    runtime::start(EngineOptions {
        apps,
        clusters: vec![cluster],
        sources: Arc::new(Sources::new(cache.path().join("repos"))),
        read_only: false,
        config_ignore: Vec::new(),
        refresh_every: None,
        projects: Vec::new(),
        auto_sync: false,
        skip_trees: false,
    })
}

/// Git with ConfigMaps `names` (data `key: v1`) under `web/`.
fn repo_with(names: &[&str]) -> Option<Fixture> {
    let repo = Fixture::new()?;
    for n in names {
        repo.write(&format!("web/{n}.yaml"), cm_yaml(n, "v1", ""));
    }
    repo.commit("web");
    Some(repo)
}

/// The engine's view of the app: name → (sync, requires pruning).
fn view(app: &AppSnapshot) -> BTreeMap<String, (SyncStatus, bool)> {
    app.resources
        .iter()
        .map(|r| (r.name.clone(), (r.sync, r.requires_pruning)))
        .collect()
}

fn cms(c: &impl ClusterAccess) -> Api<ConfigMap> {
    Api::namespaced(c.admin(), "shop")
}

/// A tracked object of app `web` that Git does not have.
fn extra(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop",
            "annotations": {"rekon.dev/tracking-id": format!("web:/ConfigMap:shop/{name}")}},
        "data": {"key": "extra"}})
}

/// Retries a change made by the test itself while the server fails requests on purpose.
async fn until_ok<T, E: std::fmt::Debug, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut last = None;
    for _ in 0..200 {
        match f().await {
            Ok(v) => return v,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} kept failing: {last:?}");
}

async fn delete_cm(c: &Cluster, name: &str) {
    let api = cms(c);
    until_ok(&format!("delete {name}"), || async {
        match api.delete(name, &DeleteParams::default()).await {
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            other => other.map(|_| ()),
        }
    })
    .await;
}

async fn put_cm(c: &Cluster, obj: Value) {
    let api = cms(c);
    let name = obj["metadata"]["name"].as_str().unwrap().to_string();
    until_ok(&format!("apply {name}"), || async {
        api.patch(
            &name,
            &kube::api::PatchParams::apply("kubectl").force(),
            &kube::api::Patch::Apply(&obj),
        )
        .await
    })
    .await;
}

fn cm_with(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop"}, "data": {"key": value}})
}

/// Waits until the engine shows `want` for the app.
async fn converge(
    engine: &EngineHandle,
    what: &str,
    want: &[(&str, SyncStatus, bool)],
) -> AppSnapshot {
    let want: BTreeMap<String, (SyncStatus, bool)> = want
        .iter()
        .map(|(n, s, p)| (n.to_string(), (*s, *p)))
        .collect();
    wait_app(engine, APP, what, |a| view(a) == want).await
}

/// The engine's view against the emulator's store: every desired object it calls missing is
/// absent, every other one present; every extra it shows is live and tracked.
async fn agrees_with_store(c: &Cluster, app: &AppSnapshot) {
    let live: BTreeMap<String, ConfigMap> = cms(c)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|cm| (cm.metadata.name.clone().unwrap_or_default(), cm))
        .collect();
    for r in app.resources.iter() {
        let present = live.contains_key(&r.name);
        if r.requires_pruning {
            assert!(
                present,
                "{} shown as an extra but not live (a ghost)",
                r.name
            );
        } else {
            let missing = r.message.contains("missing");
            assert_eq!(present, !missing, "{} in the engine: {r:?}", r.name);
        }
    }
    for (name, cm) in &live {
        let tracked = cm
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("rekon.dev/tracking-id"))
            .is_some_and(|id| id.starts_with("web:"));
        if tracked {
            assert!(
                app.resources.iter().any(|r| &r.name == name),
                "live tracked {name} is missing from the engine's view"
            );
        }
    }
}

async fn wait_connection(
    engine: &EngineHandle,
    what: &str,
    check: impl Fn(&ConnectionState) -> bool,
) -> ConnectionState {
    let mut rx = engine.subscribe();
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if let Some(c) = rx
                .borrow_and_update()
                .clusters
                .first()
                .map(|c| c.connection.clone())
                .filter(|c| check(c))
            {
                return c;
            }
            if rx.changed().await.is_err() {
                panic!("engine stopped");
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| {
        panic!(
            "timed out waiting for {what}; clusters: {:?}",
            engine.current().clusters
        )
    })
}

use SyncStatus::{OutOfSync, Synced};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_drops_expiries_errors_and_a_restart_the_engine_sees_exactly_the_live_state() {
    let Some(repo) = repo_with(&["a", "b", "c", "d"]) else {
        return;
    };
    // Emulator-only: dropped and expired watches, injected 500s and a stopped listener.
    let c = cluster(true).await;
    let cache = TempDir::new().unwrap();
    let handle =
        rekon::cluster::connect_server_with(&c.url().unwrap(), quick(Duration::from_secs(2)))
            .unwrap();
    let app = application("web", &repo, "web", json!({}));
    let engine = engine(handle, &cache, vec![app]);
    converge(
        &engine,
        "all missing",
        &[
            ("a", OutOfSync, false),
            ("b", OutOfSync, false),
            ("c", OutOfSync, false),
            ("d", OutOfSync, false),
        ],
    )
    .await;
    let op = sync(&engine, APP, SyncOptions::default()).await.unwrap();
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    converge(
        &engine,
        "all synced",
        &[
            ("a", Synced, false),
            ("b", Synced, false),
            ("c", Synced, false),
            ("d", Synced, false),
        ],
    )
    .await;

    // Watch streams dropped every 200 ms while things change.
    c.set_faults("drop-watches=200ms").unwrap();
    eventually("watches dropped", Duration::from_secs(10), || async {
        c.faults().stats().watch_drops >= 2
    })
    .await;
    delete_cm(&c, "a").await;
    put_cm(&c, cm_with("b", "edited")).await;
    put_cm(&c, extra("x")).await;
    let seen = converge(
        &engine,
        "changes seen through dropped watches",
        &[
            ("a", OutOfSync, false),
            ("b", OutOfSync, false),
            ("c", Synced, false),
            ("d", Synced, false),
            ("x", OutOfSync, true),
        ],
    )
    .await;
    agrees_with_store(&c, &seen).await;

    // Watches expired (in-stream 410) every 300 ms: the engine lists again.
    c.set_faults("expire-watches=300ms").unwrap();
    eventually("watches expired", Duration::from_secs(10), || async {
        c.faults().stats().watch_expiries >= 2
    })
    .await;
    delete_cm(&c, "c").await;
    put_cm(&c, extra("y")).await;
    let seen = converge(
        &engine,
        "changes seen through 410s",
        &[
            ("a", OutOfSync, false),
            ("b", OutOfSync, false),
            ("c", OutOfSync, false),
            ("d", Synced, false),
            ("x", OutOfSync, true),
            ("y", OutOfSync, true),
        ],
    )
    .await;
    agrees_with_store(&c, &seen).await;

    // Half of all requests fail with a 500 while watches keep being cut: the connection
    // shows degraded (or unreachable), and the changes are seen once it recovers.
    c.set_faults("error-rate=0.5:500,drop-watches=200ms,seed=11")
        .unwrap();
    wait_connection(&engine, "a degraded connection", |s| {
        matches!(
            s,
            ConnectionState::Degraded(_) | ConnectionState::Unreachable(_)
        )
    })
    .await;
    delete_cm(&c, "x").await;
    put_cm(&c, cm_with("d", "edited")).await;
    c.faults().clear();
    wait_connection(&engine, "connected again", |s| {
        *s == ConnectionState::Connected
    })
    .await;
    let seen = converge(
        &engine,
        "changes seen through 500s",
        &[
            ("a", OutOfSync, false),
            ("b", OutOfSync, false),
            ("c", OutOfSync, false),
            ("d", OutOfSync, false),
            ("y", OutOfSync, true),
        ],
    )
    .await;
    agrees_with_store(&c, &seen).await;

    // The server goes away. Meanwhile objects change and the event log is forgotten, so
    // only a full list can tell what is gone: no ghost may survive the restart.
    c.stop_listener().await.unwrap();
    let down = wait_connection(&engine, "the cluster unreachable", |s| {
        matches!(s, ConnectionState::Unreachable(_))
    })
    .await;
    let ConnectionState::Unreachable(why) = &down else {
        unreachable!()
    };
    assert!(why.to_lowercase().contains("connect"), "{why}");
    delete_cm(&c, "y").await;
    delete_cm(&c, "b").await;
    put_cm(&c, cm_with("a", "v1")).await;
    put_cm(&c, extra("z")).await;
    c.expire_watches();
    c.restart_listener().await.unwrap();
    wait_connection(&engine, "connected after the restart", |s| {
        *s == ConnectionState::Connected
    })
    .await;
    let seen = converge(
        &engine,
        "the live state after the restart",
        &[
            ("a", Synced, false),
            ("b", OutOfSync, false),
            ("c", OutOfSync, false),
            ("d", OutOfSync, false),
            ("z", OutOfSync, true),
        ],
    )
    .await;
    agrees_with_store(&c, &seen).await;
    let b = seen.resources.iter().find(|r| r.name == "b").unwrap();
    assert!(
        b.message.contains("missing"),
        "b was deleted while down: {b:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_never_answers_cannot_hang_a_comparison_or_a_sync() {
    let Some(repo) = repo_with(&["a", "b"]) else {
        return;
    };
    // Emulator-only: a request that hangs is an injected fault.
    let c = cluster(false).await;
    // Both exist, so comparing needs a dry run of each.
    apply_as(&c, "kubectl", cm_with("a", "v1")).await;
    apply_as(&c, "kubectl", cm_with("b", "v1")).await;
    c.set_faults("hang=/api/v1/namespaces/shop/configmaps/b")
        .unwrap();
    let cache = TempDir::new().unwrap();
    let limits = rekon::cluster::Resilience {
        retries: 1,
        ..quick(Duration::from_millis(500))
    };
    let app = application("web", &repo, "web", json!({}));
    let engine = engine(handle(&c, limits), &cache, vec![app]);
    let compared = wait_app(&engine, APP, "compared despite the hang", |a| {
        a.resources.len() == 2 && a.resources.iter().all(|r| r.sync != SyncStatus::Unknown)
    })
    .await;
    let b = compared.resources.iter().find(|r| r.name == "b").unwrap();
    assert!(
        b.message
            .contains("no answer from the API server within 500ms"),
        "{b:?}"
    );
    let op = sync(
        &engine,
        APP,
        SyncOptions {
            timeout_secs: Some(3),
            ..SyncOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    assert!(op.message.contains("ConfigMap shop/b"), "{}", op.message);
    assert!(
        op.message.contains("no answer from the API server"),
        "{}",
        op.message
    );
    assert!(c.faults().stats().hung >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_step_gives_up_after_the_sync_timeout_even_while_retrying() {
    let Some(repo) = repo_with(&["a"]) else {
        return;
    };
    // Emulator-only: a write that hangs is an injected fault.
    let c = cluster(false).await;
    let cache = TempDir::new().unwrap();
    // A generous request limit and many retries: the step's own timeout ends it first.
    let limits = rekon::cluster::Resilience {
        retries: 50,
        ..quick(Duration::from_secs(30))
    };
    let app = application("web", &repo, "web", json!({}));
    let engine = engine(handle(&c, limits), &cache, vec![app]);
    wait_app(&engine, APP, "compared", |a| a.resources.len() == 1).await;
    c.set_faults("hang=/api/v1/namespaces/shop/configmaps")
        .unwrap();
    let op = sync(
        &engine,
        APP,
        SyncOptions {
            timeout_secs: Some(2),
            ..SyncOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    assert!(op.message.contains("gave up after 2s"), "{}", op.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_applies_are_retried_through_throttling_and_errors() {
    let names = ["a", "b", "c", "d", "e", "f"];
    let Some(repo) = repo_with(&names) else {
        return;
    };
    // Emulator-only: 429s and 503s are injected faults.
    let c = cluster(false).await;
    let cache = TempDir::new().unwrap();
    let app = application("web", &repo, "web", json!({}));
    // About 44 % of requests fail here; with quick()'s 4 retries one request in 60 still
    // ran out of them now and then. 12 make that one in 20,000; none would fail the sync.
    let resilience = rekon::cluster::Resilience {
        retries: 12,
        ..quick(Duration::from_secs(5))
    };
    let engine = engine(handle(&c, resilience), &cache, vec![app]);
    wait_app(&engine, APP, "compared", |a| {
        a.resources.len() == names.len()
    })
    .await;
    c.set_faults("throttle-rate=0.3:0s,error-rate=0.2:503,seed=5")
        .unwrap();
    let op = sync(&engine, APP, SyncOptions::default()).await.unwrap();
    let stats = c.faults().stats();
    c.faults().clear();
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert!(stats.throttled > 0 && stats.errors > 0, "{stats:?}");
    for n in names {
        let cm = cms(&c).get(n).await.unwrap();
        assert_eq!(cm.data.unwrap()["key"], "v1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_refusals_show_as_forbidden_not_as_missing() {
    let Some(repo) = repo_with(&["a"]) else {
        return;
    };
    repo.write(
        "web/s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: v\n",
    );
    repo.commit("secret");
    // Emulator-only: the refusals are injected faults (realk8s authorizes everything).
    let c = cluster(false).await;
    apply_as(&c, "kubectl", cm_with("a", "v1")).await;
    // RBAC lets us read ConfigMaps but not list or watch Secrets.
    c.set_faults("forbid=secrets:list+watch").unwrap();
    let cache = TempDir::new().unwrap();
    let app = application("web", &repo, "web", json!({}));
    let engine = engine(handle(&c, quick(Duration::from_secs(5))), &cache, vec![app]);
    let seen = wait_app(&engine, APP, "compared", |a| a.resources.len() == 2).await;
    let s = seen.resources.iter().find(|r| r.kind == "Secret").unwrap();
    assert_eq!(s.sync, SyncStatus::Unknown, "{s:?}");
    assert!(s.message.contains("forbidden"), "{s:?}");
    assert!(!s.message.contains("missing"), "{s:?}");
    let state = wait_connection(&engine, "degraded by RBAC", |s| {
        matches!(s, ConnectionState::Degraded(_))
    })
    .await;
    assert!(format!("{state:?}").contains("Secret"), "{state:?}");

    // Writes refused by RBAC fail the sync naming the object, before anything changes.
    c.set_faults("forbid=configmaps:patch").unwrap();
    let op = sync(&engine, APP, SyncOptions::default()).await.unwrap();
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    assert!(op.message.contains("forbidden"), "{}", op.message);
    assert!(op.message.contains("ConfigMap shop/a"), "{}", op.message);
    assert!(op.message.contains("nothing was changed"), "{}", op.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auto_sync_after_a_hand_edit_takes_the_field_back_when_the_app_self_heals() {
    let Some(repo) = repo_with(&["a"]) else {
        return;
    };
    let c = TestCluster::start(ClusterOptions {
        controllers: false,
        ..ClusterOptions::default()
    })
    .await;
    create_namespace(&c, "shop").await;
    let policy = json!({"automated": {"selfHeal": true}});
    let app = application("web", &repo, "web", policy);
    // First a plain engine syncs revision 1.
    let cache = TempDir::new().unwrap();
    {
        let first = engine(
            handle(&c, quick(Duration::from_secs(5))),
            &cache,
            vec![app.clone()],
        );
        wait_app(&first, APP, "compared", |a| a.resources.len() == 1).await;
        let op = sync(&first, APP, SyncOptions::default()).await.unwrap();
        assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    }
    // Someone edits the field by hand (their merge patch owns it now) …
    let api = cms(&c);
    api.patch(
        "a",
        &kube::api::PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &kube::api::Patch::Merge(json!({"data": {"key": "by-hand"}})),
    )
    .await
    .unwrap();
    // … and Git moves on, changing that very field.
    repo.write("web/a.yaml", cm_yaml("a", "v2", ""));
    let head = repo.commit("v2");
    // An engine with auto-sync sees revision 2 for the first time: its auto-sync must not
    // fail on the hand edit's ownership (it would never be retried at this revision).
    let auto = runtime::start(EngineOptions {
        apps: vec![app],
        clusters: vec![handle(&c, quick(Duration::from_secs(5)))],
        sources: Arc::new(Sources::new(cache.path().join("repos"))),
        read_only: false,
        config_ignore: Vec::new(),
        refresh_every: None,
        projects: Vec::new(),
        auto_sync: true,
        skip_trees: false,
    });
    let synced = wait_app(&auto, APP, "auto-synced at revision 2", |a| {
        a.revision.as_deref() == Some(head.as_str()) && a.sync == SyncStatus::Synced
    })
    .await;
    let op = synced.operation.unwrap();
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
    assert_eq!(op.initiated_by, "auto-sync");
    assert_eq!(api.get("a").await.unwrap().data.unwrap()["key"], "v2");
}
