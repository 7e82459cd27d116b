//! Watches (selectors, bookmarks, 410), no-op writes and dry runs, patches, names, Services.

use super::*;

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
    // A patch that does not apply is a bare 422, as kube-apiserver answers it.
    assert_eq!(bad.code, 422);
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
