//! Events expire like kube-apiserver's `--event-ttl`: an Event goes a TTL after its last
//! write, so one that keeps being written (a repeat raising its count) stays.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::PostParams;
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::json;

fn event(name: &str) -> Event {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Pulled", "message": "pulled", "type": "Normal", "count": 1
    }))
    .unwrap()
}

#[tokio::test]
async fn events_expire_a_ttl_after_their_last_write() {
    let c = Cluster::start(ClusterOptions {
        controllers: false,
        event_ttl: Duration::from_secs(4),
        ..ClusterOptions::default()
    })
    .await
    .unwrap();
    let events: Api<Event> = Api::namespaced(c.client(), "default");
    let pp = PostParams::default();
    events.create(&pp, &event("once")).await.unwrap();
    events.create(&pp, &event("repeated")).await.unwrap();

    // "repeated" is written every half second; "once" never again.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut count = 1;
    loop {
        assert!(
            Instant::now() < deadline,
            "the Event written once was never deleted"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut e = events.get("repeated").await.unwrap();
        count += 1;
        e.count = Some(count);
        events.replace("repeated", &pp, &e).await.unwrap();
        if events.get_opt("once").await.unwrap().is_none() {
            break;
        }
    }
    assert!(
        events.get_opt("repeated").await.unwrap().is_some(),
        "an Event written half a second ago must not expire"
    );

    // Once nobody writes it, it goes too.
    let deadline = Instant::now() + Duration::from_secs(60);
    while events.get_opt("repeated").await.unwrap().is_some() {
        assert!(
            Instant::now() < deadline,
            "the Event stopped being written was never deleted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
