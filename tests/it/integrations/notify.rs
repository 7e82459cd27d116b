//! Notifications: a JSON message received by a local HTTP receiver when an observed app
//! changes health, with a failing first delivery retried; no Secret value in any message.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::integrations::*;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rekon::integrations::notify::{self, NotifyOptions};
use serde_json::{Value, json};

/// A receiver that answers 500 to the first request and 200 after, keeping every body.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(Mutex::new(0usize));
    let (b, r) = (bodies.clone(), requests.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (b, r) = (b.clone(), r.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (b, r) = (b.clone(), r.clone());
                    async move {
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let first = {
                            let mut n = r.lock().unwrap();
                            *n += 1;
                            *n == 1
                        };
                        let status = if first {
                            StatusCode::INTERNAL_SERVER_ERROR
                        } else {
                            b.lock()
                                .unwrap()
                                .push(serde_json::from_slice(&body).unwrap());
                            StatusCode::OK
                        };
                        let mut resp = Response::new(Full::new(Bytes::new()));
                        *resp.status_mut() = status;
                        Ok::<_, Infallible>(resp)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (url, bodies, requests)
}

fn app(health: &str) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "edge", "namespace": "argocd"},
        "spec": {"source": {"repoURL": "https://x/r.git"}, "destination": {"namespace": "edge"}},
        "status": {"sync": {"status": "Synced", "revision": "abc1234"}, "health": {"status": health},
            "resources": [{"version": "v1", "kind": "Secret", "namespace": "edge", "name": "token", "status": "Synced"}]}})
}

#[tokio::test]
async fn a_health_change_is_posted_and_retried() {
    let (url, bodies, requests) = receiver().await;
    let c = cluster("prod", false).await;
    put(&c, json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "token", "namespace": "edge"}, "stringData": {"token": "s3cr3t-value"}}), "argocd").await;
    put(&c, app("Healthy"), "argocd").await;
    let (engine, _cache) = engine(vec![handle(&c)], false);
    wait_for(&engine, "the app", |s| {
        find(s, "argocd:argocd/edge").is_some()
    })
    .await;
    let notifier = notify::spawn(
        vec![url],
        engine.subscribe(),
        NotifyOptions {
            backoff: Duration::from_millis(50),
            ..NotifyOptions::default()
        },
    );
    // Let the notifier take its baseline before the change.
    tokio::time::sleep(Duration::from_millis(200)).await;
    put(&c, app("Degraded"), "argocd").await;
    let stats = notifier.stats();
    for _ in 0..200 {
        if !bodies.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = bodies.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let n = &got[0];
    assert_eq!(
        n["text"],
        "argocd:argocd/edge on prod is now Degraded (was Healthy)"
    );
    assert_eq!(n["app"], "argocd:argocd/edge");
    assert_eq!(n["cluster"], "prod");
    assert_eq!(n["event"], "health");
    assert_eq!(
        (n["old"].as_str(), n["new"].as_str()),
        (Some("Healthy"), Some("Degraded"))
    );
    assert_eq!(n["revision"], "abc1234");
    assert_eq!(
        *requests.lock().unwrap(),
        2,
        "the first delivery failed and was retried"
    );
    assert_eq!(
        stats.delivered.load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert!(!serde_json::to_string(&got).unwrap().contains("s3cr3t"));
}
