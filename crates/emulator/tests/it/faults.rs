//! The emulator's fault switches, each seen from a client: injected 5xx, 429 with
//! Retry-After, latency, hung requests, dropped and expired watches, a listener that goes
//! away and comes back with its store, rejected tokens and RBAC refusals; set in process and
//! over `PUT /rekon/faults` (`rekon emulate --faults` is tested in rekon's tests/it/cli/emulate.rs).

use std::time::Duration;

use futures::StreamExt;
use http::Method;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::json;

use crate::support::{eventually, raw_http_client, send};

async fn listening() -> Cluster {
    Cluster::start(ClusterOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        controllers: false,
        ..ClusterOptions::default()
    })
    .await
    .unwrap()
}

async fn in_process() -> Cluster {
    Cluster::start(ClusterOptions {
        controllers: false,
        ..ClusterOptions::default()
    })
    .await
    .unwrap()
}

async fn create_cm(c: &Cluster, name: &str) {
    let api: Api<ConfigMap> = Api::namespaced(c.client(), "default");
    let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    api.create(&PostParams::default(), &cm).await.unwrap();
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn switches_are_set_and_shown_over_http() {
    let c = listening().await;
    let client = raw_http_client(&c.url().unwrap());
    let put = send(
        &client,
        Method::PUT,
        "/rekon/faults",
        &[],
        "error-rate=1:503",
    )
    .await
    .unwrap();
    assert_eq!(put.code, 200, "{}", put.text());
    let view = send(&client, Method::GET, "/rekon/faults", &[], "")
        .await
        .unwrap()
        .json();
    assert_eq!(view["spec"], "error-rate=1:503");
    assert_eq!(view["switches"]["errorRate"], 1.0);
    let r = send(&client, Method::GET, CMS, &[], "").await.unwrap();
    assert_eq!(r.code, 503);
    assert_eq!(r.json()["reason"], "ServiceUnavailable");
    assert!(r.json()["message"].as_str().unwrap().contains("injected"));
    // The control endpoint itself is never broken by a switch.
    let json_put = send(
        &client,
        Method::PUT,
        "/rekon/faults",
        &[("content-type", "application/json")],
        r#"{"latency": "1ms"}"#,
    )
    .await
    .unwrap();
    assert_eq!(json_put.code, 200, "{}", json_put.text());
    assert_eq!(json_put.json()["spec"], "latency=1ms");
    assert_eq!(
        send(&client, Method::GET, CMS, &[], "").await.unwrap().code,
        200
    );
    assert!(c.faults().stats().errors >= 1);
    assert!(c.faults().stats().delayed >= 1);
    let bad = send(
        &client,
        Method::PUT,
        "/rekon/faults",
        &[],
        "error-rate=lots",
    )
    .await
    .unwrap();
    assert_eq!(bad.code, 400);
    assert!(
        bad.text().contains(r#"fault \"error-rate=lots\""#),
        "{}",
        bad.text()
    );
    // Injected errors never reached the store: the audit log has no 503.
    assert!(c.audit().iter().all(|e| e.code != 503));
}

#[tokio::test]
async fn throttled_answers_say_when_to_come_back() {
    let c = in_process().await;
    c.set_faults("throttle-rate=1:2s").unwrap();
    let r = send(&c.client(), Method::GET, CMS, &[], "").await.unwrap();
    assert_eq!(r.code, 429);
    assert_eq!(r.headers.get("retry-after").unwrap(), "2");
    assert_eq!(r.json()["details"]["retryAfterSeconds"], 2);
    assert_eq!(c.faults().stats().throttled, 1);
    c.faults().clear();
    assert_eq!(
        send(&c.client(), Method::GET, CMS, &[], "")
            .await
            .unwrap()
            .code,
        200
    );
}

#[tokio::test]
async fn a_share_of_requests_fails() {
    let c = in_process().await;
    c.set_faults("error-rate=0.5,seed=3").unwrap();
    let mut codes = Vec::new();
    for _ in 0..40 {
        codes.push(
            send(&c.client(), Method::GET, CMS, &[], "")
                .await
                .unwrap()
                .code,
        );
    }
    let failed = codes.iter().filter(|c| **c == 500).count();
    assert!(failed > 5 && failed < 35, "{codes:?}");
    assert!(codes.iter().all(|c| *c == 500 || *c == 200), "{codes:?}");
}

#[tokio::test]
async fn a_rejected_token_gets_401_and_others_pass() {
    let c = in_process().await;
    c.set_faults("reject-token=expired-token").unwrap();
    let old = send(
        &c.client(),
        Method::GET,
        "/api",
        &[("authorization", "Bearer expired-token")],
        "",
    )
    .await
    .unwrap();
    assert_eq!(old.code, 401);
    assert_eq!(old.json()["reason"], "Unauthorized");
    let fresh = send(
        &c.client(),
        Method::GET,
        "/api",
        &[("authorization", "Bearer fresh")],
        "",
    )
    .await
    .unwrap();
    assert_eq!(fresh.code, 200);
    assert_eq!(c.faults().stats().rejected, 1);
}

#[tokio::test]
async fn forbid_answers_403_for_the_named_verbs_only() {
    let c = in_process().await;
    create_cm(&c, "web").await;
    c.set_faults("forbid=configmaps:list+watch,forbid=Secret")
        .unwrap();
    let list = send(&c.client(), Method::GET, CMS, &[], "").await.unwrap();
    assert_eq!(list.code, 403);
    let msg = list.json()["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains(r#"cannot list resource "configmaps""#),
        "{msg}"
    );
    let watch = send(
        &c.client(),
        Method::GET,
        &format!("{CMS}?watch=true&timeoutSeconds=1"),
        &[],
        "",
    )
    .await
    .unwrap();
    assert_eq!(watch.code, 403);
    let get = send(&c.client(), Method::GET, &format!("{CMS}/web"), &[], "")
        .await
        .unwrap();
    assert_eq!(get.code, 200, "get is not forbidden");
    let secret = send(
        &c.client(),
        Method::GET,
        "/api/v1/namespaces/default/secrets/x",
        &[],
        "",
    )
    .await
    .unwrap();
    assert_eq!(secret.code, 403, "a kind name forbids every verb");
    // RBAC refusals are answers of the API: they are audited with their code.
    assert!(c.audit().iter().any(|e| e.verb == "list" && e.code == 403));
}

#[tokio::test]
async fn a_hung_request_answers_only_once_the_switch_is_cleared() {
    let c = in_process().await;
    c.set_faults(&format!("hang={CMS}")).unwrap();
    let client = c.client();
    let call = tokio::spawn(async move { send(&client, Method::GET, CMS, &[], "").await });
    // Other paths still answer.
    let other = send(&c.client(), Method::GET, "/api/v1/namespaces", &[], "")
        .await
        .unwrap();
    assert_eq!(other.code, 200);
    eventually(
        "the request to be held",
        Duration::from_secs(10),
        || async { c.faults().stats().hung == 1 },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!call.is_finished(), "a hung request must not answer");
    c.faults().clear();
    let r = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("answers once cleared")
        .unwrap()
        .unwrap();
    assert_eq!(r.code, 200);
}

#[tokio::test]
async fn dropped_watches_end_and_expired_ones_get_410() {
    let c = in_process().await;
    let api: Api<ConfigMap> = Api::namespaced(c.client(), "default");
    let mut w = api
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    c.set_faults("drop-watches").unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(e) = w.next().await {
            e.unwrap();
        }
    })
    .await;
    assert!(ended.is_ok(), "a dropped watch ends");
    let rv = c.store().resource_version().to_string();
    let mut w = api
        .watch(&WatchParams::default(), &rv)
        .await
        .unwrap()
        .boxed();
    c.set_faults("expire-watches").unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match event {
        WatchEvent::Error(e) => assert_eq!(e.code, 410),
        other => panic!("expected 410, got {other:?}"),
    }
    // Periodic drops keep happening.
    c.set_faults("drop-watches=100ms").unwrap();
    eventually("periodic drops", Duration::from_secs(10), || async {
        c.faults().stats().watch_drops >= 3
    })
    .await;
}

#[tokio::test]
async fn the_listener_goes_away_and_comes_back_with_its_store() {
    let c = listening().await;
    create_cm(&c, "kept").await;
    let addr = c.addr().unwrap();
    let client = raw_http_client(&c.url().unwrap());
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut w = api
        .watch(&WatchParams::default(), "0")
        .await
        .unwrap()
        .boxed();
    assert!(matches!(w.next().await, Some(Ok(WatchEvent::Added(_)))));
    c.stop_listener().await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port refuses connections"
    );
    // The open watch was cut, not closed politely.
    let cut = tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .unwrap();
    assert!(matches!(cut, None | Some(Err(_))), "{cut:?}");
    c.restart_listener().await.unwrap();
    assert!(api.get("kept").await.is_ok(), "the store survived");
    // The same over HTTP: down=…, and back on its own.
    let r = send(&client, Method::PUT, "/rekon/faults", &[], "down=1s")
        .await
        .unwrap();
    assert_eq!(r.code, 200);
    eventually("the port to close", Duration::from_secs(10), || async {
        tokio::net::TcpStream::connect(addr).await.is_err()
    })
    .await;
    eventually(
        "the port to open again",
        Duration::from_secs(15),
        || async { tokio::net::TcpStream::connect(addr).await.is_ok() },
    )
    .await;
    assert!(api.get("kept").await.is_ok());
    assert_eq!(c.faults().stats().downs, 1);
}

#[tokio::test]
async fn down_needs_a_listener() {
    let c = in_process().await;
    let e = c.set_faults("down=1s").unwrap_err().to_string();
    assert!(e.contains("HTTP listener"), "{e}");
}
