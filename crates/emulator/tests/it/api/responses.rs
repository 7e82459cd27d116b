//! How responses are shaped: content types and discovery, Status errors, tables, bad requests.

use super::*;

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
    // An empty v2 document (kubectl's validation of a List falls back to it).
    let v2 = call(&c, Method::GET, "/openapi/v2", &[], "").await;
    assert_eq!(
        (v2.code, v2.json()["definitions"].clone()),
        (200, json!({}))
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
    // Outside every served group version, kube-apiserver's mux answers in plain text.
    for path in ["/nothing", "/apis/nope.io/v1/things"] {
        let r = call(&c, Method::GET, path, &[], "").await;
        assert_eq!((r.code, &r.body[..]), (404, &b"404 page not found"[..]));
    }
    check(
        &call(
            &c,
            Method::GET,
            "/api/v1/namespaces/default/things",
            &[],
            "",
        )
        .await,
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
            Method::POST,
            "/api/v1/namespaces/default/configmaps?dryRun=Some",
            &[JSON],
            r#"{"metadata": {"name": "dry"}}"#,
        )
        .await,
        422,
        "Invalid",
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
    // Without a field manager: invalid PatchOptions.
    check(&r, 422, "Invalid");
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
    // kube-apiserver labels Tables plain JSON.
    assert_eq!(r.content_type, "application/json");
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
        // A path no API serves gets kube-apiserver's plain-text 404.
        if r.code >= 400 && &r.body[..] != b"404 page not found" {
            let s = r.json();
            assert_eq!(s["kind"], "Status", "{method} {uri}: {s}");
            assert!(
                s["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{method} {uri}: {s}"
            );
        }
        // kube-apiserver answers a watch from a resourceVersion that is not a number with
        // 500, and so does the emulator; anything else malformed is the client's error.
        assert!(
            r.code < 500 || uri.contains("resourceVersion=abc"),
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
