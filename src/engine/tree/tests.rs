use super::*;
use serde_json::json;

const CREATED: &str = "2026-03-01T12:00:00Z";

fn now() -> Timestamp {
    "2026-03-01T12:05:30Z".parse().unwrap()
}

fn meta(name: &str, uid: &str, owner: Option<(&str, &str, &str)>) -> Value {
    let mut m =
        json!({"name": name, "namespace": "shop", "uid": uid, "creationTimestamp": CREATED});
    if let Some((kind, owner_name, owner_uid)) = owner {
        m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": kind, "name": owner_name,
            "uid": owner_uid, "controller": true}]);
    }
    m
}

fn pod(name: &str, uid: &str, rs: (&str, &str), ready: bool, restarts: i64) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta(name, uid, Some(("ReplicaSet", rs.0, rs.1))),
        "spec": {"restartPolicy": "Always", "containers": [{"name": "app", "image": "nginx:1.25"}]},
        "status": {"phase": "Running",
            "conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}],
            "containerStatuses": [{"name": "app", "ready": ready, "restartCount": restarts,
                "state": {"running": {}}}]}})
}

fn cluster() -> MemoryIndex {
    MemoryIndex::from_objects([
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("web", "d-1", None),
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}},
            "status": {"observedGeneration": 0, "replicas": 2, "updatedReplicas": 2,
                "availableReplicas": 2, "readyReplicas": 2}}),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": "web-new", "namespace": "shop", "uid": "rs-2",
                "annotations": {"deployment.kubernetes.io/revision": "2"},
                "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": "d-1"},
                                    {"kind": "Pod", "name": "web-new-a", "uid": "p-1"}]},
            "spec": {"replicas": 2}, "status": {"observedGeneration": 0, "availableReplicas": 2, "readyReplicas": 2}}),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": meta("web-old", "rs-1", Some(("Deployment", "web", "d-1"))),
            "spec": {"replicas": 0}, "status": {}}),
        pod("web-new-b", "p-2", ("web-new", "rs-2"), true, 0),
        pod("web-new-a", "p-1", ("web-new", "rs-2"), true, 3),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": meta("web", "s-1", None),
            "spec": {"type": "ClusterIP"}}),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "web-x7k2p", "namespace": "shop", "uid": "es-1",
                "labels": {"kubernetes.io/service-name": "web"}}}),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "other-abcde", "namespace": "shop", "uid": "es-2",
                "labels": {"kubernetes.io/service-name": "other"}}}),
        json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": meta("web", "ep-1", None)}),
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("db", "sts-1", None),
            "spec": {"replicas": 2, "volumeClaimTemplates": [{"metadata": {"name": "data"}}]},
            "status": {"observedGeneration": 1, "readyReplicas": 2}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("data-db-1", "pvc-2", None),
            "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("data-db-0", "pvc-1", None),
            "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}}}),
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("data-dbx-0", "pvc-3", None),
            "status": {"phase": "Pending"}}),
    ])
}

fn app() -> AppRoot {
    AppRoot {
        key: ResourceKey::new("argoproj.io", "Application", "argocd", "shop"),
        version: "v1alpha1".into(),
        health: Some(HealthStatus::new(Health::Healthy, "")),
        sync: Some(SyncStatus::OutOfSync),
    }
}

fn managed() -> Vec<ManagedResource> {
    let m = |group: &str, version: &str, kind: &str, name: &str| ManagedResource {
        key: ResourceKey::new(group, kind, "shop", name),
        version: version.into(),
        sync: Some(SyncStatus::Synced),
    };
    let mut missing = m("", "v1", "ConfigMap", "settings");
    missing.sync = Some(SyncStatus::OutOfSync);
    vec![
        m("apps", "v1", "Deployment", "web"),
        m("", "v1", "Service", "web"),
        m("apps", "v1", "StatefulSet", "db"),
        missing,
    ]
}

fn names(nodes: &[TreeNode]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| format!("{}/{}", n.key.kind, n.key.name))
        .collect()
}

#[test]
fn deployment_down_to_pods_with_inferred_edges() {
    let tree = build_tree(&app(), &managed(), &cluster(), now());
    assert_eq!(tree.key.kind, "Application");
    assert_eq!(tree.sync, Some(SyncStatus::OutOfSync));
    assert_eq!(
        names(&tree.children),
        [
            "ConfigMap/settings",
            "Service/web",
            "Deployment/web",
            "StatefulSet/db"
        ]
    );

    let missing = &tree.children[0];
    assert_eq!(missing.health.as_ref().unwrap().status, Health::Missing);
    assert_eq!(missing.uid, None);
    assert_eq!(missing.version, "v1");
    assert_eq!(missing.sync, Some(SyncStatus::OutOfSync));

    let service = &tree.children[1];
    assert_eq!(service.sync, Some(SyncStatus::Synced));
    assert_eq!(
        names(&service.children),
        ["EndpointSlice/web-x7k2p", "Endpoints/web"]
    );

    let deployment = &tree.children[2];
    assert_eq!(deployment.health.as_ref().unwrap().status, Health::Healthy);
    assert_eq!(
        names(&deployment.children),
        ["ReplicaSet/web-new", "ReplicaSet/web-old"]
    );
    let rs = &deployment.children[0];
    assert_eq!(rs.sync, None);
    assert_eq!(rs.info_value("revision"), Some("2"));
    assert_eq!(names(&rs.children), ["Pod/web-new-a", "Pod/web-new-b"]);
    // The pod that claims to own its ReplicaSet does not bring it back: no cycle.
    assert!(rs.children[0].children.is_empty());
    let p = &rs.children[0];
    assert_eq!(p.info_value("phase"), Some("Running"));
    assert_eq!(p.info_value("ready"), Some("1/1"));
    assert_eq!(p.info_value("restarts"), Some("3"));
    assert_eq!(p.info_value("images"), Some("nginx:1.25"));
    assert_eq!(p.info_value("age"), Some("5m30s"));
    assert_eq!(p.version, "v1");
    assert_eq!(p.uid.as_deref(), Some("p-1"));

    let sts = &tree.children[3];
    assert_eq!(
        names(&sts.children),
        [
            "PersistentVolumeClaim/data-db-0",
            "PersistentVolumeClaim/data-db-1"
        ]
    );
    assert_eq!(tree.len(), 1 + 4 + 2 + 2 + 2 + 2);
}

#[test]
fn every_live_object_appears_once() {
    // The Deployment is both managed and (bogusly) owned by the StatefulSet.
    let mut index = cluster();
    let mut dep = index
        .get(&ResourceKey::new("apps", "Deployment", "shop", "web"))
        .map(std::sync::Arc::unwrap_or_clone)
        .unwrap();
    dep["metadata"]["ownerReferences"] =
        json!([{"kind": "StatefulSet", "name": "db", "uid": "sts-1"}]);
    index.insert(dep);
    let tree = build_tree(&app(), &managed(), &index, now());
    let mut uids = Vec::new();
    fn collect(n: &TreeNode, out: &mut Vec<String>) {
        out.extend(n.uid.clone());
        n.children.iter().for_each(|c| collect(c, out));
    }
    collect(&tree, &mut uids);
    let unique: HashSet<&String> = uids.iter().collect();
    assert_eq!(unique.len(), uids.len(), "{uids:?}");
    assert_eq!(names(&tree.children[3].children).len(), 2);
}

#[test]
fn text_rendering_draws_branches_badges_and_info() {
    let tree = build_tree(&app(), &managed(), &cluster(), now());
    let text = render_text(&tree);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Application/argocd/shop (Healthy, OutOfSync)");
    assert_eq!(
        lines[1],
        "├── ConfigMap/shop/settings (Missing, OutOfSync) — Not in the cluster"
    );
    assert_eq!(
        lines[2],
        "├── Service/shop/web (Healthy, Synced) type=ClusterIP age=5m30s"
    );
    assert_eq!(lines[3], "│   ├── EndpointSlice/shop/web-x7k2p");
    assert!(lines.iter().any(|l| l.starts_with("│   │   ├── Pod/shop/web-new-a (Healthy) phase=Running ready=1/1 restarts=3 images=nginx:1.25 age=5m30s")), "{text}");
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("    └── PersistentVolumeClaim/shop/data-db-1 (Healthy)"),
        "{text}"
    );
}

#[test]
fn json_form_names_every_field() {
    let tree = build_tree(&app(), &managed(), &cluster(), now());
    let v = serde_json::to_value(&tree).unwrap();
    assert_eq!(v["kind"], "Application");
    let pod = &v["children"][2]["children"][0]["children"][0];
    assert_eq!(pod["name"], "web-new-a");
    assert_eq!(pod["health"]["status"], "Healthy");
    assert_eq!(pod["sync"], Value::Null);
    assert_eq!(pod["info"][0], json!({"name": "phase", "value": "Running"}));
    let back: TreeNode = serde_json::from_value(v).unwrap();
    assert_eq!(back, tree);
}

#[test]
fn ages_read_like_kubectl() {
    assert_eq!(human_age(-5), "0s");
    assert_eq!(human_age(59), "59s");
    assert_eq!(human_age(330), "5m30s");
    assert_eq!(human_age(600), "10m");
    assert_eq!(human_age(4 * 3600 + 60), "4h1m");
    assert_eq!(human_age(30 * 3600), "30h");
    assert_eq!(human_age(3 * 86400 + 7200), "3d2h");
    assert_eq!(human_age(40 * 86400), "40d");
    assert_eq!(human_age(3 * 365 * 86400 + 86400), "3y1d");
}

#[test]
fn a_ten_thousand_node_tree_builds() {
    let mut objects = Vec::new();
    let mut managed = Vec::new();
    for d in 0..100 {
        let dep = format!("web-{d}");
        let duid = format!("d-{d}");
        objects.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta(&dep, &duid, None), "spec": {"replicas": 98}}));
        managed.push(ManagedResource {
            key: ResourceKey::new("apps", "Deployment", "shop", &dep),
            version: "v1".into(),
            sync: Some(SyncStatus::Synced),
        });
        let rs = format!("{dep}-rs");
        let rsuid = format!("rs-{d}");
        objects.push(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": meta(&rs, &rsuid, Some(("Deployment", &dep, &duid))), "spec": {"replicas": 98}}));
        for p in 0..98 {
            objects.push(pod(
                &format!("{rs}-{p}"),
                &format!("p-{d}-{p}"),
                (&rs, &rsuid),
                true,
                0,
            ));
        }
    }
    let index = MemoryIndex::from_objects(objects);
    let tree = build_tree(&app(), &managed, &index, now());
    assert_eq!(tree.len(), 1 + 100 * 100);
}
