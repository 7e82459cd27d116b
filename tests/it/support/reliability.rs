//! Helpers for the reliability tests: the `rekon`
//! binary, raw HTTP requests that see every status and header, and engine handles that go
//! through rekon's timeouts and retries.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::BodyExt;
use kube::client::Body;
use rekon::cluster::{ClusterHandle, Resilience};
use serde_json::Value;

use super::cluster::ClusterAccess;

/// Runs the `rekon` binary with a private cache and home, no `$KUBECONFIG`.
pub fn rekon(args: &[&str], home: &Path) -> Output {
    super::rekon_command(home).args(args).output().unwrap()
}

/// A kube client over HTTP with no retries of its own, so tests see every answer.
pub fn raw_http_client(url: &str) -> kube::Client {
    let mut config = kube::Config::new(url.parse().unwrap());
    config.default_retry = false;
    kube::Client::try_from(config).unwrap()
}

/// An answer: status, headers, body.
pub struct Reply {
    pub code: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one request through `client` and reads the whole answer.
pub async fn send(
    client: &kube::Client,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Reply, kube::Error> {
    let mut b = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b.body(Body::from(body.as_bytes().to_vec())).unwrap();
    let resp = client.send(req).await?;
    let code = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok(Reply {
        code,
        headers,
        body,
    })
}

/// The engine's handle on a test's cluster (a [`super::cluster::TestCluster`] or the
/// emulator taken directly), through rekon's timeouts and retries.
pub fn handle(cluster: &impl ClusterAccess, limits: Resilience) -> ClusterHandle {
    rekon::cluster::in_process("test", "embedded://test", cluster.admin(), limits)
}

/// Short limits for tests: a request that does not answer fails after `timeout`.
pub fn quick(timeout: Duration) -> Resilience {
    Resilience {
        request_timeout: timeout,
        retries: 4,
        backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(2),
    }
}

/// Polls `check` every 50 ms until it holds or `limit` passes.
pub async fn eventually<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = tokio::time::Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        if tokio::time::Instant::now() > end {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
