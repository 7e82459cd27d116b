//! Health and topology from the states a cluster's controllers reach: Deployments rolled out
//! to Pods, failed image pulls and Jobs, bound PVCs (the emulator's simulated controllers, or
//! a real controller-manager with kwok's Pods); the engine must read each state as Argo CD
//! would and hang the objects in the right tree.

use crate::support::engine::{World, app, wait_for};
use rekon::model::{Health, SyncStatus, TreeNode};

/// The emulator's simulated time runs this much faster, so deadlines of seconds pass in a
/// blink (a real cluster's run in real time).
const SPEED: f64 = 20.0;

fn find<'a>(node: &'a TreeNode, kind: &str) -> Vec<&'a TreeNode> {
    let mut out = Vec::new();
    if node.key.kind == kind {
        out.push(node);
    }
    for c in &node.children {
        out.extend(find(c, kind));
    }
    out
}

fn deployment(name: &str, image: &str, extra_spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 2\n{extra_spec}  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n        - name: main\n          image: {image}\n"
    )
}

#[tokio::test]
async fn a_healthy_rollout_and_its_tree_down_to_pods_and_endpoint_slices() {
    let Some(w) = World::with_speed(SPEED).await else {
        return;
    };
    w.fixture
        .write("web/deploy.yaml", deployment("web", "nginx:1.27", ""));
    w.fixture.write(
        "web/svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
    );
    w.fixture.commit("web");
    let def = w.app("web", "web", "");
    w.apply_app(&def).await;
    let engine = w.engine(vec![def]);
    let s = wait_for(&engine, "Healthy", |s| {
        app(s, "web").health == Health::Healthy
    })
    .await;
    let a = app(&s, "web");
    assert_eq!(a.sync, SyncStatus::Synced, "{a:#?}");
    // The tree fills in as the controllers create objects; wait for the whole of it.
    let s = wait_for(&engine, "pods and slices in the tree", |s| {
        let tree = &app(s, "web").detail.as_ref().unwrap().tree;
        find(tree, "Pod").len() == 2 && find(tree, "EndpointSlice").len() == 1
    })
    .await;
    let tree = &app(&s, "web").detail.as_ref().unwrap().tree;
    let deploy = find(tree, "Deployment")[0];
    let rs = &deploy.children[0];
    assert_eq!(rs.key.kind, "ReplicaSet");
    assert_eq!(rs.children.len(), 2);
    assert!(rs.children.iter().all(|p| p.key.kind == "Pod"));
    assert!(
        rs.children
            .iter()
            .all(|p| p.health.as_ref().unwrap().status == Health::Healthy)
    );
    let svc = find(tree, "Service")[0];
    assert_eq!(svc.children[0].key.kind, "EndpointSlice");
    let text = rekon::engine::tree::render_text(tree);
    assert!(text.contains("Pod/"), "{text}");
    // The controllers' events reach the app's timeline, tied to their objects.
    let s = wait_for(&engine, "rollout events in the timeline", |s| {
        app(s, "web")
            .detail
            .as_ref()
            .unwrap()
            .timeline
            .iter()
            .any(|e| e.reason == "ScalingReplicaSet")
    })
    .await;
    let timeline = &app(&s, "web").detail.as_ref().unwrap().timeline;
    let scaling = timeline
        .iter()
        .find(|e| e.reason == "ScalingReplicaSet")
        .unwrap();
    assert_eq!(scaling.object.as_ref().unwrap().kind, "Deployment");
}

#[tokio::test]
async fn a_rollout_that_never_pulls_its_image_is_degraded() {
    let Some(w) = World::with_speed(SPEED).await else {
        return;
    };
    w.fixture.write(
        "bad/deploy.yaml",
        deployment(
            "bad",
            "ghcr.io/acme/app:1.0-does-not-exist",
            "  progressDeadlineSeconds: 20\n",
        ),
    );
    w.fixture.commit("bad");
    let def = w.app("bad", "bad", "");
    w.apply_app(&def).await;
    let engine = w.engine(vec![def]);
    let s = wait_for(&engine, "Degraded", |s| {
        app(s, "bad").health == Health::Degraded
    })
    .await;
    let a = app(&s, "bad");
    assert!(a.message.contains("bad"), "{}", a.message);
    let tree = &a.detail.as_ref().unwrap().tree;
    let pods = find(tree, "Pod");
    assert!(!pods.is_empty());
    assert!(
        pods.iter()
            .all(|p| p.health.as_ref().unwrap().status == Health::Degraded),
        "pods: {pods:#?}"
    );
}

#[tokio::test]
async fn a_failing_job_is_degraded_and_a_statefulset_holds_its_claims() {
    let Some(w) = World::with_speed(SPEED).await else {
        return;
    };
    w.fixture.write(
        "batch/job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  backoffLimit: 1\n  template:\n    metadata:\n      annotations: {rekon.dev/simulate: fail}\n    spec:\n      restartPolicy: Never\n      containers: [{name: m, image: busybox:1.36}]\n",
    );
    w.fixture.write(
        "db/sts.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  replicas: 2\n  selector:\n    matchLabels: {app: db}\n  template:\n    metadata:\n      labels: {app: db}\n    spec:\n      containers: [{name: db, image: redis:7.4}]\n  volumeClaimTemplates:\n    - metadata: {name: data}\n      spec:\n        accessModes: [ReadWriteOnce]\n        resources: {requests: {storage: 1Gi}}\n",
    );
    w.fixture.commit("batch and db");
    let job = w.app("batch", "batch", "");
    let db = w.app("db", "db", "");
    w.apply_app(&job).await;
    w.apply_app(&db).await;
    let engine = w.engine(vec![job, db]);
    wait_for(&engine, "job Degraded, db Healthy", |s| {
        app(s, "batch").health == Health::Degraded && app(s, "db").health == Health::Healthy
    })
    .await;
    let s = wait_for(&engine, "claims in the tree", |s| {
        find(
            &app(s, "db").detail.as_ref().unwrap().tree,
            "PersistentVolumeClaim",
        )
        .len()
            == 2
    })
    .await;
    let tree = &app(&s, "db").detail.as_ref().unwrap().tree;
    let sts = find(tree, "StatefulSet")[0];
    let claims: Vec<&str> = sts
        .children
        .iter()
        .filter(|c| c.key.kind == "PersistentVolumeClaim")
        .map(|c| c.key.name.as_str())
        .collect();
    assert_eq!(claims, ["data-db-0", "data-db-1"]);
}
