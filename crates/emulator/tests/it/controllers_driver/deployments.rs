//! Deployments end to end: availability, rollouts to a new ReplicaSet, pull failures, crash loops.

use super::*;

#[tokio::test]
async fn nodes_exist_and_a_deployment_becomes_available() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(deployment("web", 3, "nginx:1.25", json!({})));
    let dkey = key("apps", "Deployment", "default", "web");

    let d = wait_for("web to roll out", || {
        store.get_key(&dkey).filter(|d| rolled_out(d))
    })
    .await;
    assert_eq!(store.all("", "Node").len(), 3);
    assert_eq!(cond(&d, "Available").unwrap()["status"], "True");
    assert_eq!(
        cond(&d, "Progressing").unwrap()["reason"],
        "NewReplicaSetAvailable"
    );
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );

    let rss = store.all("apps", "ReplicaSet");
    assert_eq!(rss.len(), 1);
    let rs = &rss[0];
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(rs["metadata"]["name"], json!(format!("web-{hash}")));
    assert_eq!(rs["status"]["readyReplicas"], 3);

    let pods = store.all("", "Pod");
    let mine = owned_by(&pods, rs);
    assert_eq!(mine.len(), 3);
    let mut nodes: Vec<&str> = mine.iter().map(|p| s(p, &["spec", "nodeName"])).collect();
    nodes.sort();
    assert_eq!(
        nodes,
        vec!["node-1", "node-2", "node-3"],
        "spread over the nodes"
    );
    for p in &mine {
        assert_eq!(p["status"]["phase"], "Running");
        assert_eq!(cond(p, "Ready").unwrap()["status"], "True");
        assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
        assert!(!s(p, &["status", "podIP"]).is_empty());
    }

    // Events from the deployment controller, the ReplicaSet controller, scheduler and kubelet.
    let reasons = |name: &str| -> Vec<String> {
        events_about(store, name)
            .iter()
            .map(|e| s(e, &["reason"]).to_string())
            .collect()
    };
    assert!(reasons("web").contains(&"ScalingReplicaSet".to_string()));
    assert!(reasons(s(rs, &["metadata", "name"])).contains(&"SuccessfulCreate".to_string()));
    let pod_reasons = reasons(s(mine[0], &["metadata", "name"]));
    for r in ["Scheduled", "Pulling", "Pulled", "Created", "Started"] {
        assert!(
            pod_reasons.contains(&r.to_string()),
            "{r} in {pod_reasons:?}"
        );
    }
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn changing_the_image_rolls_to_a_new_replica_set() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(deployment("web", 3, "nginx:1.25", json!({})));
    let dkey = key("apps", "Deployment", "default", "web");
    wait_for("first rollout", || {
        store.get_key(&dkey).filter(|d| rolled_out(d))
    })
    .await;

    store.edit(&dkey, |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26")
    });
    let d = wait_for("second rollout", || {
        store
            .get_key(&dkey)
            .filter(|d| d["metadata"]["generation"] == 2 && rolled_out(d))
            .filter(|_| {
                store
                    .all("apps", "ReplicaSet")
                    .iter()
                    .all(|rs| rs["status"]["replicas"] != 0 || rs["spec"]["replicas"] == 0)
            })
    })
    .await;
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    let rss = store.all("apps", "ReplicaSet");
    assert_eq!(rss.len(), 2);
    let new = rss
        .iter()
        .find(|rs| rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2")
        .unwrap();
    let old = rss
        .iter()
        .find(|rs| rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1")
        .unwrap();
    assert_eq!(new["spec"]["replicas"], 3);
    assert_eq!(
        new["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.26"
    );
    assert_eq!(old["spec"]["replicas"], 0);
    let downs: Vec<String> = events_about(store, "web")
        .iter()
        .map(|e| s(e, &["message"]).to_string())
        .filter(|m| m.starts_with("Scaled down"))
        .collect();
    assert!(!downs.is_empty(), "old replica set scaled down with events");
    wait_for("old pods gone", || {
        let pods = store.all("", "Pod");
        (owned_by(&pods, old).is_empty()).then_some(())
    })
    .await;
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn an_image_that_never_pulls_ends_in_progress_deadline_exceeded() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(deployment("broken", 2, "nginx:does-not-exist", json!({})));
    let dkey = key("apps", "Deployment", "default", "broken");
    let d = wait_for("deadline exceeded", || {
        store.get_key(&dkey).filter(|d| {
            cond(d, "Progressing").is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded")
        })
    })
    .await;
    assert_eq!(cond(&d, "Progressing").unwrap()["status"], "False");
    assert_eq!(cond(&d, "Available").unwrap()["status"], "False");
    assert!(d["status"].get("availableReplicas").is_none());
    let pod = wait_for("image pull back-off", || {
        store.all("", "Pod").into_iter().find(|p| {
            p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ImagePullBackOff"
        })
    })
    .await;
    assert_eq!(
        pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"],
        "Back-off pulling image \"nginx:does-not-exist\""
    );
    assert_eq!(pod["status"]["phase"], "Pending");
    cluster.shutdown().await;
}

#[tokio::test]
async fn crashloop_restarts_and_events_are_folded() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(deployment(
        "crashy",
        1,
        "busybox",
        json!({"rekon.dev/simulate": "crashloop"}),
    ));
    let pod = wait_for("two restarts in back-off", || {
        store.all("", "Pod").into_iter().find(|p| {
            let c = &p["status"]["containerStatuses"][0];
            c["restartCount"].as_i64() >= Some(2)
                && c["state"]["waiting"]["reason"] == "CrashLoopBackOff"
        })
    })
    .await;
    let c = &pod["status"]["containerStatuses"][0];
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(c["ready"], false);
    assert_eq!(pod["status"]["phase"], "Running");
    let name = s(&pod, &["metadata", "name"]).to_string();
    let backoffs = events_about(store, &name)
        .into_iter()
        .filter(|e| e["reason"] == "BackOff")
        .collect::<Vec<_>>();
    assert_eq!(backoffs.len(), 1, "repeats fold into one Event");
    assert!(backoffs[0]["count"].as_i64() >= Some(2));
    assert_eq!(backoffs[0]["type"], "Warning");
    cluster.shutdown().await;
}
