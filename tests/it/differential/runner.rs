//! A scenario's requests against one server: raw HTTP through a `kube::Client` (which brings
//! the server's auth and TLS), watches read to their end, polls until a state is reached, and
//! kubectl commands. Every answer is normalised (see [`super::normalise`]) and kept as one
//! exchange, a JSON object with the step's name, the request, the status (HTTP code or
//! kubectl's exit code), the Content-Type and Warning headers and the body.

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{Method, Request, Response};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::{Value, json};

use super::normalise::Normaliser;

/// A scenario: a name (also its namespace, after `diff-`) and the script.
pub struct Scenario {
    /// Unique, lowercase with dashes; names the recording file.
    pub name: &'static str,
    /// The requests, sent through a [`Run`].
    pub script: for<'a> fn(&'a mut Run) -> BoxFuture<'a, ()>,
}

/// One server the scenarios run against.
#[derive(Clone)]
pub struct Target {
    /// `emulator` or `real`.
    pub name: &'static str,
    /// The cluster's admin.
    pub client: kube::Client,
    /// A kubeconfig whose current context reaches the server, for kubectl.
    pub kubeconfig: PathBuf,
    /// kubectl's discovery cache, one per target.
    pub cache_dir: PathBuf,
    /// The kubectl the kubectl scenarios run (see [`crate::support::release_kubectl`]);
    /// none for the HTTP scenarios.
    pub kubectl: Option<PathBuf>,
}

/// A request of a step.
#[derive(Debug, Clone)]
pub struct Req {
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    ignore: Vec<&'static str>,
}

/// The JSON media type of a patch.
pub enum Patch {
    /// RFC 6902 JSON patch.
    Json,
    /// RFC 7386 merge patch.
    Merge,
    /// Kubernetes' strategic merge patch.
    Strategic,
    /// Server-side apply.
    Apply,
}

impl Patch {
    fn content_type(&self) -> &'static str {
        match self {
            Patch::Json => "application/json-patch+json",
            Patch::Merge => "application/merge-patch+json",
            Patch::Strategic => "application/strategic-merge-patch+json",
            Patch::Apply => "application/apply-patch+yaml",
        }
    }
}

/// The Accept header of a Table request, as kubectl sends it.
pub const TABLE: &str = "application/json;as=Table;g=meta.k8s.io;v=v1";

impl Req {
    fn new(method: Method, path: impl Into<String>) -> Req {
        Req {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: None,
            ignore: Vec::new(),
        }
    }

    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Req {
        Req::new(Method::GET, path)
    }

    /// `POST path` with a JSON body.
    pub fn post(path: impl Into<String>, body: Value) -> Req {
        Req::new(Method::POST, path).json(body)
    }

    /// `PUT path` with a JSON body.
    pub fn put(path: impl Into<String>, body: Value) -> Req {
        Req::new(Method::PUT, path).json(body)
    }

    /// `PATCH path` of the given type; an apply patch is sent as JSON (a subset of YAML).
    pub fn patch(path: impl Into<String>, kind: Patch, body: Value) -> Req {
        Req::new(Method::PATCH, path)
            .raw(serde_json::to_vec(&body).unwrap())
            .header("Content-Type", kind.content_type())
    }

    /// `DELETE path`.
    pub fn delete(path: impl Into<String>) -> Req {
        Req::new(Method::DELETE, path)
    }

    /// Any method, for the odd ones.
    pub fn method(method: Method, path: impl Into<String>) -> Req {
        Req::new(method, path)
    }

    /// A JSON body.
    pub fn json(self, body: Value) -> Req {
        self.raw(serde_json::to_vec(&body).unwrap())
            .header("Content-Type", "application/json")
    }

    /// A body as it is (for malformed ones), without a Content-Type.
    pub fn raw(mut self, body: impl Into<Vec<u8>>) -> Req {
        self.body = Some(body.into());
        self
    }

    /// A header; a second Content-Type replaces the first.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Req {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name, value.into()));
        self
    }

    /// Leaves out of the comparison what depends on the servers' controllers' timing (the
    /// status of a Deployment, say), by path in the exchange: `/body/status`,
    /// `/body/items/*/status` (`*` is any key or index).
    pub fn ignore(mut self, path: &'static str) -> Req {
        self.ignore.push(path);
        self
    }

    fn describe(&self) -> String {
        let mut text = format!("{} {}", self.method, self.path);
        for (name, value) in &self.headers {
            if !(name.eq_ignore_ascii_case("Content-Type") && value == "application/json") {
                text.push_str(&format!(" [{name}: {value}]"));
            }
        }
        text
    }
}

/// An open watch, read later with [`Run::finish_watch`].
pub struct OpenWatch {
    req: Req,
    response: Response<Body>,
}

/// A scenario running against one target: what it sent and what came back, normalised.
pub struct Run {
    target: Target,
    /// The scenario's namespace (`diff-<scenario>`), created before the script runs.
    pub ns: String,
    norm: Normaliser,
    exchanges: Vec<Value>,
}

/// How long a poll or a watch may take before the step records what it has.
const PATIENCE: Duration = Duration::from_secs(90);

impl Run {
    /// A run of `scenario` on `target`; [`Run::setup`] creates its namespace.
    pub fn new(target: Target, scenario: &str) -> Run {
        Run {
            target,
            ns: format!("diff-{scenario}"),
            norm: Normaliser::default(),
            exchanges: Vec::new(),
        }
    }

    /// Creates the scenario's namespace; not compared. On the real server it then waits for
    /// the root CA publisher's `kube-root-ca.crt` (the emulator has none), so that a watch
    /// of the namespace's ConfigMaps never sees it arrive in the middle of a scenario.
    pub async fn setup(&mut self) {
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.ns}});
        let (status, _, body) = self.send(&Req::post("/api/v1/namespaces", ns)).await;
        assert_eq!(status, 201, "namespace {}: {body:?}", self.ns);
        if self.target.name == "real" {
            let ca = Req::get(format!(
                "/api/v1/namespaces/{}/configmaps/kube-root-ca.crt",
                self.ns
            ));
            let start = tokio::time::Instant::now();
            while self.send(&ca).await.0 != 200 {
                assert!(
                    start.elapsed() < PATIENCE,
                    "{}: no kube-root-ca.crt",
                    self.ns
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }

    /// The exchanges so far.
    pub fn into_exchanges(self) -> Vec<Value> {
        self.exchanges
    }

    async fn send(&self, req: &Req) -> (u16, http::HeaderMap, Bytes) {
        let response = self.open(req).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = tokio::time::timeout(PATIENCE, response.into_body().collect())
            .await
            .unwrap_or_else(|_| panic!("{}: {} takes too long", self.target.name, req.describe()))
            .unwrap_or_else(|e| panic!("{}: {}: {e}", self.target.name, req.describe()))
            .to_bytes();
        (status, headers, body)
    }

    async fn open(&self, req: &Req) -> Response<Body> {
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(req.path.as_str());
        for (name, value) in &req.headers {
            builder = builder.header(*name, value.as_str());
        }
        let body = req.body.clone().unwrap_or_default();
        let request = builder.body(Body::from(body)).unwrap();
        self.target
            .client
            .send(request)
            .await
            .unwrap_or_else(|e| panic!("{}: {}: {e}", self.target.name, req.describe()))
    }

    /// Sends `req`, records the exchange as `step`, and returns the body as the server sent
    /// it (JSON, or a string when it is not JSON), for the script's later requests.
    pub async fn step(&mut self, step: &str, req: Req) -> Value {
        let (status, headers, bytes) = self.send(&req).await;
        let body = parse_body(&bytes);
        self.record(step, &req, status, &headers, body.clone());
        body
    }

    /// Polls `req` (every 200 ms, for up to 90 s) until `done` holds of its body, then records
    /// that last answer as `step`.
    pub async fn wait(
        &mut self,
        step: &str,
        req: Req,
        done: impl Fn(u16, &Value) -> bool,
    ) -> Value {
        let start = tokio::time::Instant::now();
        loop {
            let (status, headers, bytes) = self.send(&req).await;
            let body = parse_body(&bytes);
            if done(status, &body) || start.elapsed() > PATIENCE {
                self.record(step, &req, status, &headers, body.clone());
                return body;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Opens a watch (its path carries `watch=1` and the rest of the query); the response
    /// headers are in when this returns.
    pub async fn open_watch(&self, path: impl Into<String>) -> OpenWatch {
        let req = Req::get(path);
        let response = self.open(&req).await;
        OpenWatch { req, response }
    }

    /// Reads an open watch until it ends (`timeoutSeconds`) or `events` events came, and
    /// records the events as `step`.
    pub async fn finish_watch(&mut self, step: &str, watch: OpenWatch, events: usize) -> Value {
        let OpenWatch { req, response } = watch;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = response.into_body();
        let mut buffer = Vec::new();
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while got.len() < events {
            let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
                Ok(Some(Ok(frame))) => frame,
                Ok(None) | Ok(Some(Err(_))) => break,
                Err(_) => {
                    got.push(json!("(no more events within 90 s)"));
                    break;
                }
            };
            if let Ok(data) = frame.into_data() {
                buffer.extend_from_slice(&data);
            }
            while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buffer.drain(..=end).collect();
                if line.iter().any(|b| !b.is_ascii_whitespace()) {
                    got.push(parse_body(&line));
                }
            }
        }
        if got.len() < events && buffer.iter().any(|b| !b.is_ascii_whitespace()) {
            got.push(parse_body(&buffer));
        }
        let body = Value::Array(got);
        self.record(step, &req, status, &headers, body.clone());
        body
    }

    /// A watch from open to end in one step: see [`Run::finish_watch`].
    pub async fn watch(&mut self, step: &str, path: impl Into<String>, events: usize) -> Value {
        let open = self.open_watch(path).await;
        self.finish_watch(step, open, events).await
    }

    /// Runs kubectl (of the real tier's release, built from k8s.io/kubectl) with `args` against the
    /// target, `stdin` on its standard input, and records its exit code and output as
    /// `step`. Output of `-o json` is compared as JSON; other output line by line, with
    /// runs of spaces folded (column widths follow the values) and ages masked.
    pub async fn kubectl(&mut self, step: &str, args: &[&str], stdin: Option<&str>) -> Value {
        let kubectl = self
            .target
            .kubectl
            .as_ref()
            .expect("a kubectl scenario has a kubectl");
        let mut command = tokio::process::Command::new(kubectl);
        command
            .arg("--kubeconfig")
            .arg(&self.target.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.target.cache_dir)
            .args(args)
            .env_remove("KUBECONFIG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = command.spawn().expect("kubectl starts");
        if let Some(mut input) = child.stdin.take() {
            use tokio::io::AsyncWriteExt;
            input
                .write_all(stdin.unwrap_or_default().as_bytes())
                .await
                .unwrap();
        }
        let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
            .await
            .expect("kubectl finishes")
            .expect("kubectl runs");
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let json_out = args.windows(2).any(|w| w == ["-o", "json"]);
        let out = match serde_json::from_str::<Value>(&stdout) {
            Ok(v) if json_out => v,
            _ => json!(table_lines(&stdout)),
        };
        let exchange = json!({
            "step": step,
            "request": format!("kubectl {}", args.join(" ")),
            "status": output.status.code().unwrap_or(-1),
            "body": {"stdout": out, "stderr": table_lines(&stderr)},
        });
        let exchange = self.norm.exchange(exchange, &[]);
        self.exchanges.push(exchange);
        json!({"stdout": stdout, "stderr": stderr})
    }

    fn record(
        &mut self,
        step: &str,
        req: &Req,
        status: u16,
        headers: &http::HeaderMap,
        body: Value,
    ) {
        let mut exchange = json!({"step": step, "request": req.describe(), "status": status});
        if let Some(ct) = headers.get("content-type").and_then(|v| v.to_str().ok()) {
            exchange["contentType"] = json!(ct.split(";charset").next().unwrap_or(ct).trim());
        }
        let warnings: Vec<_> = headers
            .get_all("warning")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if !warnings.is_empty() {
            exchange["warnings"] = json!(warnings);
        }
        exchange["body"] = body;
        let exchange = self.norm.exchange(exchange, &req.ignore);
        self.exchanges.push(exchange);
    }
}

fn parse_body(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).trim().to_string()))
}

/// Output lines with runs of whitespace folded to one space and ages (`5s`, `2m3s`) masked.
fn table_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| {
            line.split_whitespace()
                .map(|word| if is_age(word) { "<age>" } else { word })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|line| !line.is_empty())
        .collect()
}

fn is_age(word: &str) -> bool {
    let mut digits = false;
    let mut units = false;
    for c in word.chars() {
        match c {
            '0'..='9' => digits = true,
            's' | 'm' | 'h' | 'd' | 'y' if digits => units = true,
            _ => return false,
        }
    }
    digits && units && word.ends_with(['s', 'm', 'h', 'd', 'y'])
}
