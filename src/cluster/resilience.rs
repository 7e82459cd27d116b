//! What keeps rekon's requests from hanging or failing on a flaky API server: a time limit
//! on every request, and retries of the requests that are safe to repeat.
//!
//! - Every request must get its response head within [`Resilience::request_timeout`]; the
//!   body of a request that is not a watch must arrive within the same time. Watches are
//!   long-lived: only their head is timed (kube's watcher has its own idle timeout).
//! - Retried with backoff: reads (`GET`, not watches) and server-side applies on 429,
//!   5xx, timeouts and connection errors; any request on 429, which the server answers
//!   before doing anything. `Retry-After` is honoured. Creates, deletes, updates and other
//!   patches are never repeated after an answer that leaves it unclear whether they
//!   happened (a 5xx or a timeout): the caller sees the error. Watches are never retried
//!   here: the watcher's own backoff does that and reports the connection state.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Frame;
use kube::client::Body;

/// The limits rekon puts on requests to a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resilience {
    /// Longest wait for a response head, and for the whole body of a request that is not
    /// a watch.
    pub request_timeout: Duration,
    /// Repeats of a request that may be repeated (0: none).
    pub retries: u32,
    /// First delay between attempts (doubled each time).
    pub backoff: Duration,
    /// Longest delay between attempts; a `Retry-After` above it ends the retries.
    pub max_backoff: Duration,
}

impl Default for Resilience {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            retries: 4,
            backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// A request that got no (complete) answer in time.
#[derive(Debug, thiserror::Error)]
#[error("no answer from the API server within {} ({method} {path})", crate::model::format_duration(*.limit))]
pub struct RequestTimeout {
    /// The limit that passed.
    pub limit: Duration,
    /// The request's method.
    pub method: Method,
    /// The request's path (no query: it may carry names of objects, never credentials,
    /// but kept short).
    pub path: String,
}

/// Wraps `inner` so every request through the returned client is timed and retried as
/// [`Resilience`] says.
pub fn resilient(inner: kube::Client, options: Resilience) -> kube::Client {
    let default_ns = inner.default_namespace().to_string();
    let valid_until = *inner.valid_until();
    kube::Client::new(Resilient { inner, options }, default_ns).with_valid_until(valid_until)
}

/// The tower service behind [`resilient`].
#[derive(Clone)]
struct Resilient {
    inner: kube::Client,
    options: Resilience,
}

impl tower::Service<Request<Body>> for Resilient {
    type Response = Response<TimedBody>;
    type Error = kube::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, kube::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.send(req).await })
    }
}

/// How a request may be repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// After any failure that is not the client's fault.
    Safe,
    /// Only after a 429 (the server did nothing).
    OnlyThrottled,
    /// Never (watches).
    Never,
}

fn is_watch(req: &Request<Body>) -> bool {
    req.uri().query().is_some_and(|q| {
        q.split('&')
            .any(|kv| kv == "watch=true" || kv == "watch=1" || kv == "watch")
    }) || req.uri().path().contains("/watch/")
}

fn repeat_of(req: &Request<Body>) -> Repeat {
    if is_watch(req) {
        return Repeat::Never;
    }
    let apply = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/apply-patch"));
    match *req.method() {
        Method::GET | Method::HEAD => Repeat::Safe,
        Method::PATCH if apply => Repeat::Safe,
        _ => Repeat::OnlyThrottled,
    }
}

fn copy_of(req: &Request<Body>) -> Option<Request<Body>> {
    let body = req.body().try_clone()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    Some(copy)
}

/// Seconds of a `Retry-After` header (the date form is not used by Kubernetes).
fn retry_after(resp: &Response<Body>) -> Option<Duration> {
    resp.headers()
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// A little spread so many clients do not retry in step (no randomness crate needed).
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    d + d.mul_f64(f64::from(nanos % 1000) / 4000.0)
}

impl Resilient {
    async fn send(&self, req: Request<Body>) -> Result<Response<TimedBody>, kube::Error> {
        let limit = self.options.request_timeout;
        let repeat = repeat_of(&req);
        let watch = repeat == Repeat::Never;
        let (method, path) = (req.method().clone(), req.uri().path().to_string());
        let timeout = || {
            kube::Error::Service(Box::new(RequestTimeout {
                limit,
                method: method.clone(),
                path: path.clone(),
            }))
        };
        let mut next = Some(req);
        let mut attempt = 0u32;
        loop {
            let Some(req) = next.take() else {
                return Err(timeout());
            };
            let spare = if attempt < self.options.retries && repeat != Repeat::Never {
                copy_of(&req)
            } else {
                None
            };
            let started = tokio::time::Instant::now();
            let outcome = tokio::time::timeout(limit, self.inner.send(req)).await;
            let wait = match (&outcome, repeat) {
                (Ok(Ok(resp)), _) if resp.status() == StatusCode::TOO_MANY_REQUESTS => {
                    Some(retry_after(resp).unwrap_or_else(|| self.delay(attempt)))
                }
                (Ok(Ok(resp)), Repeat::Safe) if transient(resp.status()) => Some(
                    retry_after(resp)
                        .unwrap_or_else(|| self.delay(attempt))
                        .max(self.delay(attempt)),
                ),
                (Ok(Err(e)), Repeat::Safe) if connection_error(e) => Some(self.delay(attempt)),
                (Err(_), Repeat::Safe) => Some(self.delay(attempt)),
                _ => None,
            };
            match (wait, spare) {
                (Some(wait), Some(spare)) if wait <= self.options.max_backoff => {
                    tracing::debug!(
                        "retrying {} {} in {wait:?} (attempt {})",
                        spare.method(),
                        spare.uri().path(),
                        attempt + 2
                    );
                    tokio::time::sleep(wait).await;
                    next = Some(spare);
                    attempt += 1;
                }
                _ => {
                    return match outcome {
                        Err(_) => Err(timeout()),
                        Ok(Err(e)) => Err(e),
                        Ok(Ok(resp)) => {
                            let deadline = (!watch).then(|| started + limit);
                            Ok(resp.map(|b| TimedBody::new(b, deadline, timeout())))
                        }
                    };
                }
            }
        }
    }

    fn delay(&self, attempt: u32) -> Duration {
        let base = self.options.backoff.as_secs_f64() * 2f64.powi(attempt.min(30) as i32);
        jitter(Duration::from_secs_f64(
            base.min(self.options.max_backoff.as_secs_f64()),
        ))
        .min(self.options.max_backoff)
    }
}

/// Whether the request never reached the server or its connection broke: safe to repeat
/// only for requests that are safe to repeat anyway.
fn connection_error(e: &kube::Error) -> bool {
    matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_))
}

/// A response body that fails once its deadline passes (`None`: never, for watches).
pub struct TimedBody {
    inner: Body,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    expired: Option<kube::Error>,
}

impl TimedBody {
    fn new(inner: Body, deadline: Option<tokio::time::Instant>, expired: kube::Error) -> Self {
        Self {
            inner,
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
            expired: Some(expired),
        }
    }
}

impl http_body::Body for TimedBody {
    type Data = Bytes;
    type Error = kube::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, kube::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if let Some(deadline) = this.deadline.as_mut()
            && deadline.as_mut().poll(cx).is_ready()
        {
            this.deadline = None;
            if let Some(e) = this.expired.take() {
                return Poll::Ready(Some(Err(e)));
            }
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(method: Method, uri: &str, ct: Option<&str>) -> Request<Body> {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(ct) = ct {
            b = b.header(http::header::CONTENT_TYPE, ct);
        }
        b.body(Body::from(b"{}".to_vec())).unwrap()
    }

    #[test]
    fn only_reads_and_applies_are_repeated_after_unclear_failures() {
        assert_eq!(
            repeat_of(&req(Method::GET, "/api/v1/pods", None)),
            Repeat::Safe
        );
        assert_eq!(
            repeat_of(&req(
                Method::GET,
                "/api/v1/pods?watch=true&resourceVersion=5",
                None
            )),
            Repeat::Never
        );
        assert_eq!(
            repeat_of(&req(Method::GET, "/api/v1/watch/pods", None)),
            Repeat::Never
        );
        assert_eq!(
            repeat_of(&req(
                Method::PATCH,
                "/api/v1/namespaces/a/configmaps/b?fieldManager=rekon",
                Some("application/apply-patch+yaml")
            )),
            Repeat::Safe
        );
        for (m, ct) in [
            (Method::POST, Some("application/json")),
            (Method::DELETE, None),
            (Method::PUT, Some("application/json")),
            (Method::PATCH, Some("application/merge-patch+json")),
            (Method::PATCH, Some("application/json-patch+json")),
        ] {
            assert_eq!(
                repeat_of(&req(m.clone(), "/api/v1/namespaces/a/configmaps/b", ct)),
                Repeat::OnlyThrottled,
                "{m}"
            );
        }
    }

    /// A client whose server answers `codes` in turn (then 200), counting the calls.
    fn scripted(
        codes: &[(u16, Option<&str>)],
    ) -> (kube::Client, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let calls = std::sync::Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let codes: Vec<(u16, Option<String>)> = codes
            .iter()
            .map(|(c, h)| (*c, h.map(str::to_string)))
            .collect();
        let svc = tower::service_fn(move |_req: Request<Body>| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let (code, after) = codes.get(n).cloned().unwrap_or((200, None));
            async move {
                let mut resp = Response::new(Body::from(b"{}".to_vec()));
                *resp.status_mut() = StatusCode::from_u16(code).unwrap();
                if let Some(a) = after {
                    resp.headers_mut()
                        .insert(http::header::RETRY_AFTER, a.parse().unwrap());
                }
                Ok::<_, std::convert::Infallible>(resp)
            }
        });
        let options = Resilience {
            backoff: Duration::from_millis(10),
            ..Resilience::default()
        };
        (resilient(kube::Client::new(svc, "default"), options), calls)
    }

    async fn status_of(client: &kube::Client, req: Request<Body>) -> u16 {
        client.send(req).await.unwrap().status().as_u16()
    }

    #[tokio::test(start_paused = true)]
    async fn reads_and_applies_are_retried_creates_are_not() {
        use std::sync::atomic::Ordering;
        let (c, calls) = scripted(&[(500, None), (503, None)]);
        assert_eq!(
            status_of(&c, req(Method::GET, "/api/v1/pods", None)).await,
            200
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let (c, calls) = scripted(&[(500, None)]);
        let apply = req(
            Method::PATCH,
            "/api/v1/namespaces/a/configmaps/b",
            Some("application/apply-patch+yaml"),
        );
        assert_eq!(status_of(&c, apply).await, 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // A 500 on a create leaves it unclear whether it happened: never repeated.
        let (c, calls) = scripted(&[(500, None)]);
        let create = req(
            Method::POST,
            "/api/v1/namespaces/a/configmaps",
            Some("application/json"),
        );
        assert_eq!(status_of(&c, create).await, 500);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A 429 means the server did nothing: even a create is sent again.
        let (c, calls) = scripted(&[(429, Some("0"))]);
        let create = req(
            Method::POST,
            "/api/v1/namespaces/a/configmaps",
            Some("application/json"),
        );
        assert_eq!(status_of(&c, create).await, 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Watches are the watcher's business.
        let (c, calls) = scripted(&[(500, None)]);
        let watch = req(Method::GET, "/api/v1/pods?watch=true", None);
        assert_eq!(status_of(&c, watch).await, 500);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Retries end: the last answer is the caller's.
        let (c, calls) = scripted(&[(503, None); 10]);
        assert_eq!(
            status_of(&c, req(Method::GET, "/api/v1/pods", None)).await,
            503
        );
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_and_too_long_a_wait_ends_the_retries() {
        use std::sync::atomic::Ordering;
        let (c, calls) = scripted(&[(429, Some("3"))]);
        let start = tokio::time::Instant::now();
        assert_eq!(
            status_of(&c, req(Method::GET, "/api/v1/pods", None)).await,
            200
        );
        // Paused time: exactly the virtual time slept, not a wall-clock measurement.
        assert!(start.elapsed() >= Duration::from_secs(3));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let (c, calls) = scripted(&[(429, Some("3600"))]);
        assert_eq!(
            status_of(&c, req(Method::GET, "/api/v1/pods", None)).await,
            429
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_without_an_answer_times_out_naming_it() {
        let svc = tower::service_fn(|_req: Request<Body>| async {
            std::future::pending::<()>().await;
            Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
        });
        let options = Resilience {
            request_timeout: Duration::from_secs(2),
            retries: 1,
            ..Resilience::default()
        };
        let c = resilient(kube::Client::new(svc, "default"), options);
        let e = c
            .send(req(Method::GET, "/api/v1/namespaces/shop/pods", None))
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "no answer from the API server within 2s (GET /api/v1/namespaces/shop/pods)"
            ),
            "{e}"
        );
    }

    #[tokio::test]
    async fn delays_double_and_stay_capped() {
        let r = Resilient {
            inner: kube::Client::new(
                tower::service_fn(|_req: Request<Body>| async {
                    Ok::<_, std::convert::Infallible>(Response::new(Body::empty()))
                }),
                "default",
            ),
            options: Resilience::default(),
        };
        let d0 = r.delay(0);
        assert!(d0 >= Duration::from_millis(250) && d0 <= Duration::from_millis(320));
        assert!(r.delay(2) >= Duration::from_secs(1));
        assert_eq!(r.delay(20), Duration::from_secs(10));
    }
}
