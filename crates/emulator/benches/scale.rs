//! Benchmark (issue 3, "Scale it must hold"): the embedded Kubernetes API in process, through
//! the real kube client — 50,000 objects held, server-side applies per second, a list of
//! 10,000 pods, one watch event fanned out to 20 watchers. Prints one row per figure with its
//! target; asserts nothing (tests assert behaviour, this measures).
//!
//! Run: `cargo bench -p rekon-emulator --bench scale` (`-- --quick` for a smaller run).

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::json;

fn row(metric: &str, value: f64, unit: &str, target: &str, ok: bool) {
    println!(
        "{metric:<40} {value:>12.2} {unit:<10} target {target:<12} {}",
        if ok { "ok" } else { "MISSED" }
    );
}

fn rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

async fn namespace(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    let _ = api.create(&PostParams::default(), &ns).await;
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let held: usize = if quick { 10_000 } else { 50_000 };
    let cluster = Cluster::start(ClusterOptions {
        name: "bench".into(),
        controllers: false,
        event_log_capacity: 100_000,
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    let client = cluster.client();
    println!("emulator scale (in process, kube client, {held} objects)");

    // Server-side applies per second: ConfigMaps created by apply, 16 in flight.
    namespace(&client, "apply").await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "apply");
    let n = 2_000;
    let start = Instant::now();
    futures::stream::iter(0..n)
        .map(|i| {
            let cms = cms.clone();
            async move {
                let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("cm-{i}")}, "data": {"k": format!("v{i}")}});
                cms.patch(
                    &format!("cm-{i}"),
                    &PatchParams::apply("bench"),
                    &Patch::Apply(&cm),
                )
                .await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let rate = f64::from(n) / start.elapsed().as_secs_f64();
    row(
        "server-side applies",
        rate,
        "per second",
        ">= 2000",
        rate >= 2000.0,
    );

    // A list of 10,000 pods.
    namespace(&client, "pods").await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), "pods");
    futures::stream::iter(0..10_000)
        .map(|i| {
            let pods = pods.clone();
            async move {
                let pod: Pod =
                    serde_json::from_value(json!({"metadata": {"name": format!("pod-{i}"),
                    "labels": {"app": "bench"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}))
                    .unwrap();
                pods.create(&PostParams::default(), &pod).await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    // The server's side of the list: the request and the whole JSON body, unparsed (the
    // client's own decoding into typed Pods is not the emulator's cost).
    let mut lists = Vec::new();
    for _ in 0..5 {
        let request = http::Request::get("/api/v1/namespaces/pods/pods")
            .body(Vec::new())
            .unwrap();
        let start = Instant::now();
        let body = client.request_text(request).await.unwrap();
        lists.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(body.contains("pod-9999"));
    }
    let list_ms = median(lists);
    row(
        "list of 10,000 pods (median of 5)",
        list_ms,
        "ms",
        "<= 100 ms",
        list_ms <= 100.0,
    );
    let start = Instant::now();
    let typed = pods.list(&ListParams::default()).await.unwrap();
    assert_eq!(typed.items.len(), 10_000);
    row(
        "  same, decoded into typed Pods",
        start.elapsed().as_secs_f64() * 1000.0,
        "ms",
        "-",
        true,
    );

    // One change delivered to 20 watchers.
    let watched: Api<ConfigMap> = Api::namespaced(client.clone(), "apply");
    let mut latencies = Vec::new();
    for round in 0..5 {
        let rv = watched
            .get("cm-0")
            .await
            .unwrap()
            .metadata
            .resource_version
            .unwrap();
        let mut streams = Vec::new();
        for _ in 0..20 {
            let s = watched
                .watch(&WatchParams::default().fields("metadata.name=cm-0"), &rv)
                .await
                .unwrap()
                .boxed();
            streams.push(s);
        }
        let start = Instant::now();
        watched
            .patch(
                "cm-0",
                &PatchParams::default(),
                &Patch::Merge(json!({"data": {"round": round.to_string()}})),
            )
            .await
            .unwrap();
        for mut s in streams {
            loop {
                match tokio::time::timeout(Duration::from_secs(10), s.next()).await {
                    Ok(Some(Ok(WatchEvent::Modified(_)))) => break,
                    Ok(Some(Ok(_))) => continue,
                    other => panic!("watch ended early: {other:?}"),
                }
            }
        }
        latencies.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let fan = median(latencies);
    row(
        "one change to 20 watchers (median of 5)",
        fan,
        "ms",
        "<= 5 ms",
        fan <= 5.0,
    );

    // Objects held: fill up to `held` ConfigMaps and report the process's memory.
    namespace(&client, "held").await;
    let held_api: Api<ConfigMap> = Api::namespaced(client.clone(), "held");
    let already = 2_000 + 10_000;
    let start = Instant::now();
    futures::stream::iter(0..held.saturating_sub(already))
        .map(|i| {
            let api = held_api.clone();
            async move {
                let cm: ConfigMap =
                    serde_json::from_value(json!({"metadata": {"name": format!("held-{i}"),
                    "labels": {"tier": "bench"}}, "data": {"key": format!("value-{i}")}}))
                    .unwrap();
                api.create(&PostParams::default(), &cm).await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    let all_cms: Api<ConfigMap> = Api::all(client.clone());
    let all_pods: Api<Pod> = Api::all(client.clone());
    let total = all_cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len()
        + all_pods
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len();
    row(
        "objects held",
        total as f64,
        "objects",
        &format!(">= {held}"),
        total >= held,
    );
    row(
        "time to create them",
        start.elapsed().as_secs_f64(),
        "s",
        "-",
        true,
    );
    if let Some(mb) = rss_mb() {
        row("process RSS with them held", mb, "MB", "-", true);
    }
}
