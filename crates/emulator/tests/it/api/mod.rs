//! The emulator's HTTP surface, request by request through the router: content types,
//! Status errors, tables, watches (selectors, bookmarks, 410), no-ops, dry runs, audit.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::{Value, json};
use tower::ServiceExt;

mod responses;
mod writes_and_watches;

async fn cluster() -> Cluster {
    Cluster::start(ClusterOptions {
        bookmark_interval: Duration::from_millis(50),
        ..ClusterOptions::default()
    })
    .await
    .unwrap()
}

struct Reply {
    code: u16,
    content_type: String,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

fn request(
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Request<Full<Bytes>> {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(Full::new(Bytes::from(body.to_string()))).unwrap()
}

async fn call(
    c: &Cluster,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let r = c
        .router()
        .oneshot(request(method, uri, headers, body))
        .await
        .unwrap();
    let code = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.into_body().collect().await.unwrap().to_bytes();
    Reply {
        code,
        content_type,
        body,
    }
}

const JSON: (&str, &str) = ("content-type", "application/json");

async fn create_cm(c: &Cluster, name: &str, labels: Value) -> Value {
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels}, "data": {"a": "1"}});
    let r = call(
        c,
        Method::POST,
        "/api/v1/namespaces/default/configmaps",
        &[JSON],
        &body.to_string(),
    )
    .await;
    assert_eq!(r.code, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// Reads watch lines from a streaming body until `n` lines arrived or the wait ends.
struct Lines {
    body: http_body_util::combinators::UnsyncBoxBody<Bytes, std::convert::Infallible>,
    buf: Vec<u8>,
}

impl Lines {
    async fn open(c: &Cluster, uri: &str, headers: &[(&str, &str)]) -> Lines {
        let r = c
            .router()
            .oneshot(request(Method::GET, uri, headers, ""))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        Lines {
            body: r.into_body(),
            buf: Vec::new(),
        }
    }

    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(serde_json::from_slice(&line).unwrap());
            }
            match tokio::time::timeout(Duration::from_secs(10), self.body.frame()).await {
                Ok(Some(Ok(f))) => {
                    if let Ok(d) = f.into_data() {
                        self.buf.extend_from_slice(&d);
                    }
                }
                _ => return None,
            }
        }
    }

    /// The next line that is not a bookmark.
    async fn next_event(&mut self) -> Option<Value> {
        loop {
            let l = self.next().await?;
            if l["type"] != "BOOKMARK" {
                return Some(l);
            }
        }
    }
}
