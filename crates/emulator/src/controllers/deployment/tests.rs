//! Unit tests of the Deployment controller: first sync, rollouts, deadlines, pause, rollback.

use super::super::test_world::*;
use super::*;
use crate::clock::{Calendar, SimDuration, SimTime};

const T0: i64 = 1_700_000_000;

fn deploy(image: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "d-uid", "generation": 1,
            "annotations": {"rekon.dev/tracking-id": "app:apps/Deployment:shop/web"}},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
            "progressDeadlineSeconds": 60,
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]}}}})
}

/// A ReplicaSet as the Deployment controller made it, with the given spec and status.
fn rs_for(d: &Value, revision: i64, replicas: i64, ready: i64) -> Value {
    let template = d["spec"]["template"].clone();
    let hash = pod_template_hash(&template, None);
    let s = Strategy::of(d, 3);
    let mut rs = new_replica_set(
        d,
        &template,
        &hash,
        &format!("web-{hash}"),
        replicas,
        revision,
        &s,
    );
    rs["metadata"]["uid"] = json!(format!("rs-{revision}"));
    rs["status"] =
        json!({"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready});
    rs
}

fn at(secs: i64) -> SimTime {
    SimTime::from_unix_secs(T0 + secs)
}

#[test]
fn first_sync_creates_the_replica_set() {
    let d = deploy("nginx:1.25", 3);
    let out = step(&d, &FakeWorld::default(), at(0));
    let rs = created(&out)[0];
    let hash = pod_template_hash(&d["spec"]["template"], None);
    assert_eq!(meta::name(rs), format!("web-{hash}"));
    assert_eq!(rs["spec"]["replicas"], 3);
    assert_eq!(rs["metadata"]["labels"]["pod-template-hash"], json!(hash));
    assert_eq!(
        rs["spec"]["selector"]["matchLabels"]["pod-template-hash"],
        json!(hash)
    );
    assert_eq!(
        rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"],
        json!(hash)
    );
    assert_eq!(rs["metadata"]["annotations"][REVISION], "1");
    assert_eq!(
        rs["metadata"]["annotations"]["rekon.dev/tracking-id"],
        "app:apps/Deployment:shop/web"
    );
    assert_eq!(rs["metadata"]["ownerReferences"][0]["controller"], true);
    assert_eq!(reasons(&out), vec!["ScalingReplicaSet"]);
    let st = status(&out).unwrap();
    assert_eq!(st["observedGeneration"], 1);
    let types: Vec<&str> = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["Progressing", "Available"]);
    assert_eq!(st["conditions"][0]["reason"], "NewReplicaSetCreated");
    assert_eq!(updated(&out)[0]["metadata"]["annotations"][REVISION], "1");
}

#[test]
fn complete_rollout_reports_rollout_status_fields() {
    let mut d = deploy("nginx:1.25", 3);
    d["metadata"]["annotations"][REVISION] = json!("1");
    let world = FakeWorld::with([rs_for(&d, 1, 3, 3)]);
    let out = step(&d, &world, at(10));
    let st = status(&out).unwrap();
    for f in [
        "replicas",
        "updatedReplicas",
        "readyReplicas",
        "availableReplicas",
    ] {
        assert_eq!(st[f], 3, "{f}");
    }
    assert!(st.get("unavailableReplicas").is_none());
    let types: Vec<&str> = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, vec!["Available", "Progressing"]);
    assert_eq!(st["conditions"][1]["reason"], "NewReplicaSetAvailable");
    assert!(created(&out).is_empty());
    // And the next pass over the same world changes nothing.
    d["status"] = st.clone();
    let again = step(&d, &world, at(20));
    assert!(again.effects.is_empty(), "{:?}", again.effects);
}

#[test]
fn rolling_update_surges_then_scales_old_down_as_new_pods_become_available() {
    let v1 = deploy("nginx:1.25", 4);
    let mut v2 = deploy("nginx:1.26", 4);
    v2["metadata"]["generation"] = json!(2);
    let old = rs_for(&v1, 1, 4, 4);
    // Step 1: the new ReplicaSet starts at maxSurge (25% of 4 = 1).
    let out = step(&v2, &FakeWorld::with([old.clone()]), at(0));
    let new = created(&out)[0].clone();
    assert_eq!(new["spec"]["replicas"], 1);
    assert_eq!(new["metadata"]["annotations"][REVISION], "2");
    // Step 2: with the new pod unavailable, old may lose only maxUnavailable (1).
    let mut new_rs = new.clone();
    new_rs["metadata"]["uid"] = json!("rs-2");
    new_rs["status"] = json!({"replicas": 1});
    let out = step(&v2, &FakeWorld::with([old.clone(), new_rs.clone()]), at(5));
    let ups = updated(&out);
    let old_up = ups
        .iter()
        .find(|u| meta::name(u) == meta::name(&old))
        .unwrap();
    assert_eq!(old_up["spec"]["replicas"], 3);
    // Step 3: new pod available → new grows, old shrinks further.
    let mut old3 = old.clone();
    old3["spec"]["replicas"] = json!(3);
    old3["status"] = json!({"replicas": 3, "readyReplicas": 3, "availableReplicas": 3});
    new_rs["status"] = json!({"replicas": 1, "readyReplicas": 1, "availableReplicas": 1});
    let out = step(&v2, &FakeWorld::with([old3, new_rs.clone()]), at(10));
    let ups = updated(&out);
    let new_up = ups
        .iter()
        .find(|u| meta::name(u) == meta::name(&new_rs))
        .unwrap();
    assert_eq!(new_up["spec"]["replicas"], 2);
    let st = status(&out).unwrap();
    assert_eq!(st["updatedReplicas"], 1);
    assert_eq!(st["replicas"], 4);
}

#[test]
fn stuck_rollout_exceeds_its_progress_deadline() {
    let mut d = deploy("nginx:does-not-exist", 2);
    d["metadata"]["annotations"][REVISION] = json!("1");
    let world = FakeWorld::with([rs_for(&d, 1, 2, 0)]);
    d["status"] = json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
        "unavailableReplicas": 2, "conditions": [
        {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
         "message": "x", "lastUpdateTime": at(0).rfc3339(), "lastTransitionTime": at(0).rfc3339()}]});
    let before = step(&d, &world, at(30));
    assert_eq!(requeue(&before), Some(SimDuration::from_secs(31)));
    let after = step(&d, &world, at(61));
    let st = status(&after).unwrap();
    let prog = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert_eq!(prog["status"], "False");
    assert_eq!(prog["reason"], "ProgressDeadlineExceeded");
    let avail = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Available")
        .unwrap();
    assert_eq!(avail["status"], "False");
}

#[test]
fn at_speed_20_the_deadline_counts_simulated_seconds_and_timestamps_are_calendar_time() {
    // The clock started at at(-100) and runs 20 times as fast as the calendar.
    let cal = Calendar::new(at(-100), 20.0);
    let mut d = deploy("nginx:does-not-exist", 2);
    d["metadata"]["annotations"][REVISION] = json!("1");
    let world = FakeWorld::with([rs_for(&d, 1, 2, 0)]);
    d["status"] = json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
        "unavailableReplicas": 2, "conditions": [
        {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
         "message": "x", "lastUpdateTime": cal.stamp(at(0)),
         "lastTransitionTime": cal.stamp(at(0))}]});
    // at(0) was written as at(-95): five real seconds after the clock started.
    assert_eq!(cal.stamp(at(0)), at(-95).rfc3339());
    let before = step_on(&d, &world, at(30), cal);
    assert_eq!(requeue(&before), Some(SimDuration::from_secs(31)));
    let after = step_on(&d, &world, at(61), cal);
    let st = status(&after).unwrap();
    let prog = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert_eq!(prog["reason"], "ProgressDeadlineExceeded");
    // 161 simulated seconds after the start are 8.05 calendar seconds.
    assert_eq!(prog["lastTransitionTime"], at(-92).rfc3339());
    assert_eq!(prog["lastUpdateTime"], at(-92).rfc3339());
}

#[test]
fn paused_deployment_creates_nothing() {
    let mut d = deploy("nginx:1.25", 2);
    d["spec"]["paused"] = json!(true);
    let out = step(&d, &FakeWorld::default(), at(0));
    assert!(created(&out).is_empty());
    let st = status(&out).unwrap();
    let prog = st["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap();
    assert_eq!(prog["reason"], "DeploymentPaused");
}

#[test]
fn recreate_scales_old_to_zero_before_new() {
    let v1 = deploy("nginx:1.25", 2);
    let mut v2 = deploy("nginx:1.26", 2);
    v2["spec"]["strategy"] = json!({"type": "Recreate"});
    let old = rs_for(&v1, 1, 2, 2);
    let out = step(&v2, &FakeWorld::with([old]), at(0));
    assert_eq!(created(&out)[0]["spec"]["replicas"], 0);
    assert_eq!(updated(&out)[0]["spec"]["replicas"], 0);
}

#[test]
fn rollback_reuses_the_old_replica_set_with_a_new_revision() {
    let v1 = deploy("nginx:1.25", 2);
    let v2 = deploy("nginx:1.26", 2);
    let mut rs1 = rs_for(&v1, 1, 0, 0);
    rs1["status"] = json!({"replicas": 0});
    let rs2 = rs_for(&v2, 2, 2, 2);
    let out = step(&v1, &FakeWorld::with([rs1.clone(), rs2]), at(0));
    assert!(created(&out).is_empty());
    let up = updated(&out);
    let back = up
        .iter()
        .find(|u| meta::name(u) == meta::name(&rs1))
        .unwrap();
    assert_eq!(back["metadata"]["annotations"][REVISION], "3");
    assert!(back["spec"]["replicas"].as_i64().unwrap() > 0);
}
