//! Helpers shared by the emulator's tests: fixtures, kubectl's presence, raw HTTP requests
//! that see every status and header, and polling for a condition.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::Value;

/// The path of a file in `tests/fixtures`.
pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `Some(reason)` when kubectl cannot run here.
pub fn kubectl_missing() -> Option<String> {
    match std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
    {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(format!(
            "kubectl version --client failed: {}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Some(format!("kubectl not found: {e}")),
    }
}

/// Returns from the test when kubectl cannot run here, saying why; under `CI=true` the test
/// fails instead, so CI never passes by skipping.
macro_rules! require_kubectl {
    () => {
        if let Some(why) = $crate::support::kubectl_missing() {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("kubectl is required when CI=true: {why}");
            }
            eprintln!("skipping: {why}");
            return;
        }
    };
}
pub(crate) use require_kubectl;

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
    /// The body as JSON; fails the test when it is not.
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
