//! Jobs, StatefulSets, DaemonSets, CronJobs, Services, Namespaces, and the driver's own end.

use super::*;

fn job(name: &str, simulate: Option<&str>, backoff_limit: i64) -> Value {
    let mut annotations = json!({});
    if let Some(sim) = simulate {
        annotations["rekon.dev/simulate"] = json!(sim);
    }
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"},
        "spec": {"backoffLimit": backoff_limit, "completions": 2, "parallelism": 1,
            "template": {"metadata": {"annotations": annotations},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "run", "image": "busybox"}]}}}})
}

#[tokio::test]
async fn jobs_complete_or_fail_with_backoff_limit_exceeded() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(job("ok", None, 2));
    store.apply(job("bad", Some("fail"), 1));
    let ok = wait_for("job ok complete", || {
        store
            .get_key(&key("batch", "Job", "default", "ok"))
            .filter(|j| cond(j, "Complete").is_some())
    })
    .await;
    assert_eq!(ok["status"]["succeeded"], 2);
    assert!(cond(&ok, "SuccessCriteriaMet").is_some());
    assert!(ok["status"]["completionTime"].is_string());
    let bad = wait_for("job bad failed", || {
        store
            .get_key(&key("batch", "Job", "default", "bad"))
            .filter(|j| cond(j, "Failed").is_some())
    })
    .await;
    assert_eq!(
        cond(&bad, "Failed").unwrap()["reason"],
        "BackoffLimitExceeded"
    );
    assert_eq!(bad["status"]["failed"], 2);
    let failed_pods = store
        .all("", "Pod")
        .into_iter()
        .filter(|p| p["status"]["phase"] == "Failed")
        .count();
    assert_eq!(failed_pods, 2);
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn statefulset_pods_come_up_in_order_with_their_claims() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]}}));
    let skey = key("apps", "StatefulSet", "default", "db");
    let sts = wait_for("statefulset ready", || {
        store
            .get_key(&skey)
            .filter(|s| s["status"]["readyReplicas"] == 3)
    })
    .await;
    assert_eq!(
        sts["status"]["currentRevision"],
        sts["status"]["updateRevision"]
    );
    assert_eq!(sts["status"]["updatedReplicas"], 3);
    for ord in 0..3 {
        let claim = store
            .get_key(&key(
                "",
                "PersistentVolumeClaim",
                "default",
                &format!("data-db-{ord}"),
            ))
            .unwrap();
        assert_eq!(claim["status"]["phase"], "Bound");
    }
    // Each member was created no earlier than the previous one became Ready.
    for ord in 1..3 {
        let prev = store
            .get_key(&key("", "Pod", "default", &format!("db-{}", ord - 1)))
            .unwrap();
        let this = store
            .get_key(&key("", "Pod", "default", &format!("db-{ord}")))
            .unwrap();
        let ready_at =
            SimTime::parse_rfc3339(s(cond(&prev, "Ready").unwrap(), &["lastTransitionTime"]))
                .unwrap();
        let created = SimTime::parse_rfc3339(s(&this, &["metadata", "creationTimestamp"])).unwrap();
        assert!(
            created >= ready_at,
            "db-{ord} created before db-{} was ready",
            ord - 1
        );
    }

    store.edit(&skey, |s| s["spec"]["replicas"] = json!(1));
    wait_for("scaled down to one", || {
        let pods = store.all("", "Pod");
        (pods.len() == 1 && pods[0]["metadata"]["name"] == "db-0").then_some(())
    })
    .await;
    assert_eq!(
        store.all("", "PersistentVolumeClaim").len(),
        3,
        "claims are kept"
    );
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn daemonset_runs_one_pod_per_node() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "kube-system"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}}));
    let ds = wait_for("daemonset available", || {
        store
            .get_key(&key("apps", "DaemonSet", "kube-system", "agent"))
            .filter(|d| d["status"]["numberAvailable"] == 3)
    })
    .await;
    assert_eq!(ds["status"]["desiredNumberScheduled"], 3);
    assert_eq!(ds["status"]["numberReady"], 3);
    assert_eq!(ds["status"]["updatedNumberScheduled"], 3);
    let mut nodes: Vec<String> = store
        .all("", "Pod")
        .iter()
        .map(|p| s(p, &["spec", "nodeName"]).to_string())
        .collect();
    nodes.sort();
    assert_eq!(nodes, vec!["node-1", "node-2", "node-3"]);
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn cronjob_creates_a_job_on_schedule() {
    let cluster = Cluster::start(600.0);
    let store = &cluster.store;
    store.apply(json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "tick", "namespace": "default"},
        "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "t", "image": "busybox"}]}}}}}}));
    let cj = wait_for("a successful scheduled run", || {
        store
            .get_key(&key("batch", "CronJob", "default", "tick"))
            .filter(|c| c["status"]["lastSuccessfulTime"].is_string())
    })
    .await;
    // Scheduled on simulated minutes, written in calendar time: never after the wall clock.
    let scheduled = SimTime::parse_rfc3339(s(&cj, &["status", "lastScheduleTime"])).unwrap();
    assert!(scheduled.to_jiff() <= jiff::Timestamp::now());
    let jobs = store.all("batch", "Job");
    assert!(!jobs.is_empty());
    assert!(
        jobs.iter()
            .all(|j| s(j, &["metadata", "name"]).starts_with("tick-"))
    );
    assert!(
        jobs.len() <= 4,
        "history limit keeps at most 3 finished jobs plus a running one"
    );
    cluster.shutdown().await;
}

#[tokio::test]
async fn service_endpoint_slice_tracks_ready_pods_and_load_balancer_gets_an_address() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "default"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}}));
    store.apply(deployment("web", 2, "nginx:1.25", json!({})));
    let ready_endpoints = |n: usize| {
        let store = store.clone();
        move || {
            let slices = store.all("discovery.k8s.io", "EndpointSlice");
            let slice = slices.first()?;
            let eps = slice["endpoints"].as_array()?;
            let ready = eps
                .iter()
                .filter(|e| e["conditions"]["ready"] == true)
                .count();
            (slices.len() == 1 && eps.len() == n && ready == n).then(|| slice.clone())
        }
    };
    let slice = wait_for("two ready endpoints", ready_endpoints(2)).await;
    assert_eq!(
        slice["metadata"]["labels"]["kubernetes.io/service-name"],
        "web"
    );
    assert_eq!(
        slice["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"],
        "endpointslice-controller.k8s.io"
    );
    assert_eq!(slice["ports"][0]["port"], 8080);
    let endpoints = store
        .get_key(&key("", "Endpoints", "default", "web"))
        .unwrap();
    assert_eq!(
        endpoints["subsets"][0]["addresses"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let svc = wait_for("load balancer address", || {
        store
            .get_key(&key("", "Service", "default", "web"))
            .filter(|s| s["status"]["loadBalancer"]["ingress"][0]["ip"].is_string())
    })
    .await;
    assert!(
        svc["status"]["loadBalancer"]["ingress"][0]["ip"]
            .as_str()
            .unwrap()
            .starts_with("172.18.255.")
    );

    store.edit(&key("apps", "Deployment", "default", "web"), |d| {
        d["spec"]["replicas"] = json!(1)
    });
    wait_for("one endpoint left", ready_endpoints(1)).await;
    quiescent(store).await;
    cluster.shutdown().await;
}

#[tokio::test]
async fn deleting_a_namespace_empties_it_then_removes_it() {
    let cluster = Cluster::start(100.0);
    let store = &cluster.store;
    store.apply(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"},
        "spec": {"finalizers": ["kubernetes"]}}),
    );
    store.apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}}));
    let mut d = deployment("web", 2, "nginx:1.25", json!({}));
    d["metadata"]["namespace"] = json!("shop");
    store.apply(d);
    let ns_key = key("", "Namespace", "", "shop");
    wait_for("shop active and running", || {
        let ns = store.get_key(&ns_key)?;
        let running = store
            .list("", "Pod", Some("shop"))
            .iter()
            .filter(|p| p["status"]["phase"] == "Running")
            .count();
        (ns["status"]["phase"] == "Active" && running == 2).then_some(())
    })
    .await;
    store.delete(&ns_key, "test").unwrap();
    wait_for("namespace gone", || {
        store.get_key(&ns_key).is_none().then_some(())
    })
    .await;
    assert!(store.namespace_contents("shop").is_empty());
    cluster.shutdown().await;
}

#[tokio::test]
async fn the_driver_stops_when_the_feed_ends() {
    let clock = SimClock::new(100.0).unwrap();
    let store = FakeStore::new(clock.clone());
    let handle = tokio::spawn(run(store.clone(), clock, std::future::pending::<()>()));
    wait_for("nodes created", || {
        (store.all("", "Node").len() == 3).then_some(())
    })
    .await;
    // The store shuts down: its feed ends.
    store.tx.lock().unwrap().take();
    tokio::time::timeout(Duration::from_secs(30), handle)
        .await
        .expect("driver ends when the feed ends")
        .expect("no panic");
}
