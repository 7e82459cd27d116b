//! Speed shortens waits, it does not move the calendar: at `--speed 20` no timestamp the
//! emulator writes (objects, conditions, container states, Events) is later than the
//! machine's clock, while deadlines still fire after the simulated time they name.

use std::time::Duration;

use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::{Value, json};

const SPEED: f64 = 20.0;

async fn get(client: &kube::Client, path: &str) -> Value {
    let req = http::Request::get(path).body(Vec::new()).unwrap();
    client
        .request::<Value>(req)
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

async fn post(client: &kube::Client, path: &str, body: Value) {
    let req = http::Request::post(path)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap();
    client
        .request::<Value>(req)
        .await
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
}

/// Polls `check` until it holds; fails after a generous bound (liveness, not speed).
async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn deployment(name: &str, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
            "progressDeadlineSeconds": 60,
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]}}}})
}

fn condition<'a>(obj: &'a Value, ctype: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == ctype)
}

/// Every timestamp in `v` (any string that is an RFC 3339 instant), with where it is.
fn timestamps(v: &Value, at: &str, out: &mut Vec<(String, jiff::Timestamp)>) {
    match v {
        Value::String(s) => {
            if let Ok(t) = s.parse::<jiff::Timestamp>() {
                out.push((at.to_string(), t));
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                timestamps(x, &format!("{at}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                timestamps(x, &format!("{at}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_speed_20_no_timestamp_is_ahead_of_the_wall_clock_and_deadlines_still_scale() {
    let cluster = Cluster::start(ClusterOptions {
        speed: SPEED,
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    let client = cluster.client();
    let deployments = "/apis/apps/v1/namespaces/default/deployments";
    post(&client, deployments, deployment("web", "nginx:1.25")).await;
    post(
        &client,
        deployments,
        deployment("stuck", "nginx:does-not-exist"),
    )
    .await;
    post(
        &client,
        "/apis/batch/v1/namespaces/default/jobs",
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "once", "namespace": "default"},
            "spec": {"template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "t", "image": "busybox"}]}}}}),
    )
    .await;

    // A 60 s progress deadline at speed 20 is three real seconds: the stuck rollout
    // fails, the good one completes, the Job finishes.
    wait_for("the stuck rollout to exceed its deadline", async || {
        let d = get(&client, &format!("{deployments}/stuck")).await;
        condition(&d, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded")
    })
    .await;
    wait_for("web to roll out and the Job to complete", async || {
        let d = get(&client, &format!("{deployments}/web")).await;
        let j = get(&client, "/apis/batch/v1/namespaces/default/jobs/once").await;
        d["status"]["availableReplicas"] == 2 && condition(&j, "Complete").is_some()
    })
    .await;
    let d = get(&client, &format!("{deployments}/web")).await;
    assert_eq!(
        condition(&d, "Progressing").unwrap()["reason"],
        "NewReplicaSetAvailable",
        "a rollout that progresses is not failed by the scaled deadline: {d:#}"
    );

    // By now simulated time is well over a minute ahead of the real time elapsed.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut seen = Vec::new();
    for path in [
        "/api/v1/pods",
        "/apis/apps/v1/replicasets",
        "/apis/apps/v1/deployments",
        "/apis/batch/v1/jobs",
        "/api/v1/events",
        "/api/v1/nodes",
        "/api/v1/namespaces",
    ] {
        let list = get(&client, path).await;
        timestamps(&list["items"], path, &mut seen);
    }
    let wall = jiff::Timestamp::now();
    for field in [
        "creationTimestamp",
        "lastTransitionTime",
        "lastUpdateTime",
        "startTime",
        "startedAt",
        "finishedAt",
        "completionTime",
        "firstTimestamp",
        "lastTimestamp",
        ".time",
    ] {
        assert!(
            seen.iter().any(|(at, _)| at.ends_with(field)),
            "no {field} was written at all"
        );
    }
    let ahead: Vec<String> = seen
        .iter()
        .filter(|(_, t)| *t > wall)
        .map(|(at, t)| format!("{at} = {t}"))
        .collect();
    assert!(
        ahead.is_empty(),
        "timestamps ahead of the wall clock ({wall}):\n{}",
        ahead.join("\n")
    );
    cluster.stop().await;
}
