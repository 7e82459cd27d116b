//! The emulator's HTTP surface, request by request through the router: content types,
//! Status errors, tables, watches (selectors, bookmarks, 410), no-ops, dry runs, audit.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::{Value, json};
use tower::ServiceExt;

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

#[tokio::test]
async fn version_and_discovery_content_types() {
    let c = cluster().await;
    let v = call(&c, Method::GET, "/version?timeout=5s", &[], "").await;
    assert_eq!(v.json()["minor"], "33");
    let agg =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
    let r = call(&c, Method::GET, "/apis", &[("accept", agg)], "").await;
    assert_eq!(
        r.content_type,
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    );
    assert_eq!(r.json()["kind"], "APIGroupDiscoveryList");
    let r = call(&c, Method::GET, "/api", &[], "").await;
    assert_eq!(r.json()["kind"], "APIVersions");
    let r = call(&c, Method::GET, "/apis/apps", &[], "").await;
    assert_eq!(r.json()["preferredVersion"]["version"], "v1");
    let r = call(&c, Method::GET, "/openapi/v3", &[], "").await;
    let url = r.json()["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = call(&c, Method::GET, &url, &[], "").await;
    assert_eq!(doc.json()["openapi"], "3.0.0");
    assert_eq!(
        call(&c, Method::GET, "/openapi/v2", &[], "").await.code,
        404
    );
    assert_eq!(call(&c, Method::GET, "/healthz", &[], "").await.body, "ok");
}

#[tokio::test]
async fn status_errors_are_shaped_like_kubernetes() {
    let c = cluster().await;
    let check = |r: &Reply, code: u16, reason: &str| {
        let s = r.json();
        assert_eq!(
            (r.code, s["kind"].as_str(), s["reason"].as_str()),
            (code, Some("Status"), Some(reason)),
            "{s}"
        );
        assert_eq!(s["code"], code);
        assert_eq!(s["status"], "Failure");
    };
    check(
        &call(&c, Method::GET, "/nothing", &[], "").await,
        404,
        "NotFound",
    );
    check(
        &call(&c, Method::GET, "/apis/nope.io/v1/things", &[], "").await,
        404,
        "NotFound",
    );
    check(
        &call(&c, Method::POST, "/version", &[], "").await,
        405,
        "MethodNotAllowed",
    );
    check(
        &call(
            &c,
            Method::PUT,
            "/api/v1/namespaces/default/configmaps",
            &[JSON],
            "{}",
        )
        .await,
        405,
        "MethodNotAllowed",
    );
    check(
        &call(
            &c,
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            &[("content-type", "application/cbor")],
            "x",
        )
        .await,
        415,
        "UnsupportedMediaType",
    );
    check(
        &call(
            &c,
            Method::PATCH,
            "/api/v1/namespaces/default/configmaps/x",
            &[("content-type", "text/plain")],
            "{}",
        )
        .await,
        415,
        "UnsupportedMediaType",
    );
    check(
        &call(
            &c,
            Method::GET,
            "/api/v1/namespaces/default/configmaps",
            &[("accept", "text/html")],
            "",
        )
        .await,
        406,
        "NotAcceptable",
    );
    check(
        &call(
            &c,
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            &[JSON],
            "{not json",
        )
        .await,
        400,
        "BadRequest",
    );
    check(
        &call(
            &c,
            Method::GET,
            "/api/v1/namespaces/default/configmaps?labelSelector=a%3D%28",
            &[],
            "",
        )
        .await,
        400,
        "BadRequest",
    );
    check(
        &call(
            &c,
            Method::GET,
            "/api/v1/namespaces/default/configmaps?dryRun=Some",
            &[],
            "",
        )
        .await,
        400,
        "BadRequest",
    );
    let missing = call(
        &c,
        Method::GET,
        "/apis/apps/v1/namespaces/default/deployments/web",
        &[],
        "",
    )
    .await;
    check(&missing, 404, "NotFound");
    assert_eq!(
        missing.json()["message"],
        "deployments.apps \"web\" not found"
    );
    assert_eq!(
        missing.json()["details"],
        json!({"name": "web", "group": "apps", "kind": "deployments"})
    );
    create_cm(&c, "dup", json!({})).await;
    let dup = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup"}});
    check(
        &call(
            &c,
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            &[JSON],
            &dup.to_string(),
        )
        .await,
        409,
        "AlreadyExists",
    );
    let invalid = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "UPPER"}});
    let r = call(
        &c,
        Method::POST,
        "/api/v1/namespaces/default/configmaps",
        &[JSON],
        &invalid.to_string(),
    )
    .await;
    check(&r, 422, "Invalid");
    assert_eq!(r.json()["details"]["causes"][0]["field"], "metadata.name");
    let stale = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup", "resourceVersion": "1"}});
    let r = call(
        &c,
        Method::PUT,
        "/api/v1/namespaces/default/configmaps/dup",
        &[JSON],
        &stale.to_string(),
    )
    .await;
    check(&r, 409, "Conflict");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified")
    );
    let ssa = [("content-type", "application/apply-patch+yaml")];
    let r = call(
        &c,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/y",
        &ssa,
        "apiVersion: v1\nkind: ConfigMap\n",
    )
    .await;
    check(&r, 400, "BadRequest");
    // Watching a resourceVersion older than the event log: an in-stream 410, not an HTTP one.
    c.store().compact();
    create_cm(&c, "later", json!({})).await;
    let mut w = Lines::open(
        &c,
        "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=2",
        &[],
    )
    .await;
    let first = w.next().await.unwrap();
    assert_eq!(first["type"], "ERROR");
    assert_eq!(
        (
            first["object"]["code"].as_i64(),
            first["object"]["reason"].as_str()
        ),
        (Some(410), Some("Expired"))
    );
    assert!(w.next().await.is_none(), "the stream ends after the error");
}

#[tokio::test]
async fn tables_and_partial_metadata() {
    let c = cluster().await;
    create_cm(&c, "t1", json!({"app": "x"})).await;
    let table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    let r = call(
        &c,
        Method::GET,
        "/api/v1/namespaces/default/configmaps",
        &[("accept", table)],
        "",
    )
    .await;
    assert_eq!(
        r.content_type,
        "application/json;as=Table;v=v1;g=meta.k8s.io"
    );
    let t = r.json();
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(cols, ["Name", "Data", "Age"]);
    assert_eq!(t["rows"][0]["cells"][0], "t1");
    assert_eq!(t["rows"][0]["cells"][1], 1);
    assert_eq!(t["rows"][0]["object"]["metadata"]["labels"]["app"], "x");
    let r = call(
        &c,
        Method::GET,
        "/api/v1/namespaces/default/configmaps/t1?includeObject=Object",
        &[("accept", table)],
        "",
    )
    .await;
    assert_eq!(r.json()["rows"][0]["object"]["data"]["a"], "1");
    let r = call(&c, Method::GET, "/api/v1/nodes", &[("accept", table)], "").await;
    assert_eq!(r.json()["rows"].as_array().unwrap().len(), 3);
    assert_eq!(r.json()["rows"][0]["cells"][1], "Ready");
    let meta = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
    let r = call(
        &c,
        Method::GET,
        "/api/v1/namespaces",
        &[("accept", meta)],
        "",
    )
    .await;
    let l = r.json();
    assert_eq!(l["kind"], "PartialObjectMetadataList");
    assert!(l["items"][0].get("spec").is_none() && l["items"][0]["metadata"]["name"].is_string());
    let yaml = call(
        &c,
        Method::GET,
        "/api/v1/namespaces/default/configmaps/t1",
        &[("accept", "application/yaml")],
        "",
    )
    .await;
    assert!(String::from_utf8_lossy(&yaml.body).contains("name: t1"));
}

#[tokio::test]
async fn watches_follow_selectors_and_send_bookmarks() {
    let c = cluster().await;
    let rv = c.store().resource_version();
    let uri = format!(
        "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&labelSelector=app%3Dweb&allowWatchBookmarks=true"
    );
    let mut w = Lines::open(&c, &uri, &[]).await;
    create_cm(&c, "other", json!({"app": "db"})).await;
    create_cm(&c, "w", json!({"app": "web"})).await;
    let added = w.next_event().await.unwrap();
    assert_eq!(
        (
            added["type"].as_str(),
            added["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("w"))
    );
    let merge = [("content-type", "application/merge-patch+json")];
    let r = call(
        &c,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/w",
        &merge,
        r#"{"data":{"b":"2"}}"#,
    )
    .await;
    assert_eq!(r.code, 200);
    assert_eq!(w.next_event().await.unwrap()["type"], "MODIFIED");
    // Leaving the selection reads as a deletion; coming back as an addition.
    call(
        &c,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/w",
        &merge,
        r#"{"metadata":{"labels":{"app":"gone"}}}"#,
    )
    .await;
    let left = w.next_event().await.unwrap();
    assert_eq!(left["type"], "DELETED");
    let left_rv: u64 = left["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        left_rv,
        c.store().resource_version(),
        "carries the version of the change"
    );
    call(
        &c,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/other",
        &merge,
        r#"{"metadata":{"labels":{"app":"web"}}}"#,
    )
    .await;
    assert_eq!(w.next_event().await.unwrap()["type"], "ADDED");
    // Bookmarks name their kind and version.
    let bookmark = loop {
        let l = w.next().await.expect("a bookmark arrives");
        if l["type"] == "BOOKMARK" {
            break l;
        }
    };
    assert_eq!(
        (
            bookmark["object"]["kind"].as_str(),
            bookmark["object"]["apiVersion"].as_str()
        ),
        (Some("ConfigMap"), Some("v1"))
    );
    assert!(
        bookmark["object"]["metadata"]["resourceVersion"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    // Watching without a version starts with the current objects.
    let mut all = Lines::open(&c, "/api/v1/namespaces/default/configmaps?watch=true", &[]).await;
    let names: Vec<String> = [
        all.next_event().await.unwrap(),
        all.next_event().await.unwrap(),
    ]
    .iter()
    .map(|e| {
        e["object"]["metadata"]["name"]
            .as_str()
            .unwrap()
            .to_string()
    })
    .collect();
    assert_eq!(names, ["other", "w"]);
    // sendInitialEvents ends the initial state with the annotated bookmark.
    let mut s = Lines::open(
        &c,
        "/api/v1/namespaces/default/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true",
        &[],
    )
    .await;
    assert_eq!(s.next().await.unwrap()["type"], "ADDED");
    assert_eq!(s.next().await.unwrap()["type"], "ADDED");
    let end = s.next().await.unwrap();
    assert_eq!(end["type"], "BOOKMARK");
    assert_eq!(
        end["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    // timeoutSeconds ends the stream.
    let mut t = Lines::open(
        &c,
        &format!(
            "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&resourceVersion={}",
            c.store().resource_version()
        ),
        &[],
    )
    .await;
    assert!(t.next_event().await.is_none());
}

#[tokio::test]
async fn no_op_writes_and_dry_runs_commit_nothing() {
    let c = cluster().await;
    let made = create_cm(&c, "same", json!({})).await;
    let rv = c.store().resource_version();
    let r = call(
        &c,
        Method::PUT,
        "/api/v1/namespaces/default/configmaps/same",
        &[JSON],
        &made.to_string(),
    )
    .await;
    assert_eq!(r.code, 200);
    assert_eq!(
        r.json()["metadata"]["resourceVersion"],
        made["metadata"]["resourceVersion"]
    );
    let merge = [("content-type", "application/merge-patch+json")];
    call(
        &c,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/same",
        &merge,
        r#"{"data":{"a":"1"}}"#,
    )
    .await;
    let r = call(
        &c,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/same?dryRun=All",
        &merge,
        r#"{"data":{"a":"9"}}"#,
    )
    .await;
    assert_eq!(r.json()["data"]["a"], "9");
    let r = call(
        &c,
        Method::DELETE,
        "/api/v1/namespaces/default/configmaps/same?dryRun=All",
        &[],
        "",
    )
    .await;
    assert_eq!(r.code, 200);
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}, "spec": {"ports": [{"port": 80}]}});
    let r = call(
        &c,
        Method::POST,
        "/api/v1/namespaces/default/services?dryRun=All",
        &[JSON],
        &svc.to_string(),
    )
    .await;
    assert!(
        r.json()["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("10.96.")),
        "a dry run shows the IP"
    );
    assert_eq!(c.store().resource_version(), rv, "nothing was committed");
    assert!(c.store().events_since(rv).unwrap().is_empty());
    let got = call(
        &c,
        Method::GET,
        "/api/v1/namespaces/default/configmaps/same",
        &[],
        "",
    )
    .await
    .json();
    assert_eq!(got["data"]["a"], "1");
    let lines = call(&c, Method::GET, "/rekon/audit", &[], "").await;
    let entries: Vec<Value> = String::from_utf8_lossy(&lines.body)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = entries.last().unwrap();
    assert_eq!(
        (
            last["verb"].as_str(),
            last["dryRun"].as_bool(),
            last["code"].as_i64()
        ),
        (Some("get"), Some(false), Some(200))
    );
    let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1));
    assert!(
        entries
            .iter()
            .any(|e| e["verb"] == "delete" && e["dryRun"] == true)
    );
    // A create is logged with the name from its body.
    assert!(
        entries
            .iter()
            .any(|e| e["verb"] == "create" && e["resource"] == "services" && e["name"] == "s"),
        "{entries:?}"
    );
    for key in [
        "seq",
        "verb",
        "group",
        "version",
        "resource",
        "namespace",
        "name",
        "fieldManager",
        "dryRun",
        "code",
    ] {
        assert!(last.get(key).is_some(), "audit entries carry {key}");
    }
}

#[tokio::test]
async fn patches_names_and_services() {
    let c = cluster().await;
    create_cm(&c, "p", json!({})).await;
    let jp = [("content-type", "application/json-patch+json")];
    let r = call(
        &c,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/p",
        &jp,
        r#"[{"op":"add","path":"/data/b","value":"2"}]"#,
    )
    .await;
    assert_eq!(r.json()["data"]["b"], "2");
    let bad = call(
        &c,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/p",
        &jp,
        r#"[{"op":"remove","path":"/data/zzz"}]"#,
    )
    .await;
    assert_eq!(bad.code, 400);
    let smp = [("content-type", "application/strategic-merge-patch+json")];
    let stale = call(
        &c,
        Method::PATCH,
        "/api/v1/namespaces/default/configmaps/p",
        &smp,
        r#"{"metadata":{"resourceVersion":"3"},"data":{"c":"3"}}"#,
    )
    .await;
    assert_eq!(
        stale.code, 409,
        "a resourceVersion in a patch is a precondition"
    );
    let generated =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "job-"}});
    let r = call(
        &c,
        Method::POST,
        "/api/v1/namespaces/default/configmaps",
        &[JSON],
        &generated.to_string(),
    )
    .await;
    let name = r.json()["metadata"]["name"].as_str().unwrap().to_string();
    assert!(name.starts_with("job-") && name.len() == 9, "{name}");
    let np = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}});
    let r = call(
        &c,
        Method::POST,
        "/api/v1/namespaces/default/services",
        &[JSON],
        &np.to_string(),
    )
    .await;
    let port = r.json()["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&port));
    let scale = call(
        &c,
        Method::GET,
        "/apis/apps/v1/namespaces/default/deployments/none/scale",
        &[],
        "",
    )
    .await;
    assert_eq!(scale.code, 404);
    let cluster_scoped_in_ns =
        call(&c, Method::GET, "/api/v1/namespaces/default/nodes", &[], "").await;
    assert_eq!(cluster_scoped_in_ns.code, 404);
    let all_ns = call(&c, Method::GET, "/api/v1/configmaps", &[], "").await;
    assert_eq!(all_ns.json()["kind"], "ConfigMapList");
    let collection = call(
        &c,
        Method::DELETE,
        "/api/v1/namespaces/default/configmaps?labelSelector=x",
        &[],
        "",
    )
    .await;
    assert_eq!(collection.json()["items"], json!([]));
}

#[tokio::test]
async fn malformed_requests_get_statuses_not_panics() {
    let c = cluster().await;
    let ns = "/api/v1/namespaces/default";
    let cases: Vec<(Method, String, &str, &str)> = vec![
        (
            Method::POST,
            format!("{ns}/configmaps"),
            "application/json",
            r#"{"metadata": "x"}"#,
        ),
        (
            Method::POST,
            format!("{ns}/configmaps"),
            "application/json",
            r#"[1, 2]"#,
        ),
        (
            Method::POST,
            format!("{ns}/configmaps"),
            "application/json",
            r#"{"kind": 5, "metadata": {"name": "k"}}"#,
        ),
        (
            Method::POST,
            format!("{ns}/services"),
            "application/json",
            r#"{"metadata": {"name": "s1"}, "spec": "x"}"#,
        ),
        (
            Method::POST,
            format!("{ns}/services"),
            "application/json",
            r#"{"metadata": {"name": "s2"}, "spec": {"type": "NodePort", "ports": ["a", 5, {"port": "x"}]}}"#,
        ),
        (
            Method::POST,
            format!("{ns}/services"),
            "application/json",
            r#"{"metadata": {"name": "s3"}, "spec": {"clusterIP": "nope"}}"#,
        ),
        (
            Method::POST,
            "/api/v1/namespaces".into(),
            "application/json",
            r#"{"metadata": {"name": "odd"}, "spec": "x"}"#,
        ),
        (
            Method::POST,
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions".into(),
            "application/json",
            r#"{"metadata": {"name": "a.b"}, "spec": {"names": "x", "versions": 3}}"#,
        ),
        (
            Method::POST,
            format!("{ns}/configmaps"),
            "application/json",
            r#"{"metadata": {"name": "weird", "ownerReferences": "x", "finalizers": 7, "labels": {"a": 1}}}"#,
        ),
        (
            Method::PATCH,
            format!("{ns}/configmaps/dup"),
            "application/json-patch+json",
            r#"[{"op": "replace", "path": "", "value": 5}]"#,
        ),
        (
            Method::PATCH,
            format!("{ns}/configmaps/dup"),
            "application/merge-patch+json",
            "5",
        ),
        (
            Method::PATCH,
            format!("{ns}/configmaps/dup"),
            "application/strategic-merge-patch+json",
            r#"{"metadata": 5}"#,
        ),
        (
            Method::PATCH,
            format!("{ns}/configmaps/dup?fieldManager=m"),
            "application/apply-patch+yaml",
            "- a\n- b\n",
        ),
        (
            Method::PATCH,
            format!("{ns}/configmaps/dup?fieldManager=m"),
            "application/apply-patch+yaml",
            "a: [unclosed",
        ),
        (
            Method::PATCH,
            format!("{ns}/configmaps/dup?fieldManager=m"),
            "application/apply-patch+yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dup}\ndata: 5\n",
        ),
        (
            Method::PUT,
            format!("{ns}/configmaps/dup/status"),
            "application/json",
            "{}",
        ),
        (
            Method::PUT,
            "/api/v1/namespaces/default/finalize".into(),
            "application/json",
            r#"{"spec": {"finalizers": "x"}}"#,
        ),
        (
            Method::DELETE,
            format!("{ns}/configmaps/dup"),
            "application/json",
            "garbage",
        ),
        (
            Method::DELETE,
            format!("{ns}/configmaps/dup?propagationPolicy=Sideways"),
            "application/json",
            "",
        ),
        (
            Method::GET,
            format!("{ns}/configmaps?watch=true&resourceVersion=abc"),
            "",
            "",
        ),
        (
            Method::GET,
            format!("{ns}/configmaps?fieldSelector=metadata.name%3D%3D%3D"),
            "",
            "",
        ),
        (
            Method::POST,
            format!("{ns}/configmaps"),
            "application/vnd.kubernetes.protobuf",
            "k8s\0\u{a}\u{2}\u{a}",
        ),
        (
            Method::GET,
            "/api/v1/namespaces/default/configmaps/a/b/c/d".into(),
            "",
            "",
        ),
        (
            Method::GET,
            "/apis/apps/v1/namespaces/default/deployments/x/scale".into(),
            "",
            "",
        ),
        (
            Method::PUT,
            "/apis/apps/v1/namespaces/default/deployments/x/scale".into(),
            "application/json",
            r#"{"spec": "x"}"#,
        ),
    ];
    create_cm(&c, "dup", json!({})).await;
    for (method, uri, ct, body) in cases {
        let headers: Vec<(&str, &str)> = if ct.is_empty() {
            vec![]
        } else {
            vec![("content-type", ct)]
        };
        let r = call(&c, method.clone(), &uri, &headers, body).await;
        if r.code >= 400 {
            let s = r.json();
            assert_eq!(s["kind"], "Status", "{method} {uri}: {s}");
            assert!(
                s["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{method} {uri}: {s}"
            );
        }
        assert!(
            r.code < 500,
            "{method} {uri} {body}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    // The cluster still answers.
    assert_eq!(
        call(&c, Method::GET, "/api/v1/namespaces", &[], "")
            .await
            .code,
        200
    );
}
