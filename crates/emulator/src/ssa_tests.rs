use super::*;
use serde_json::json;

const T1: &str = "2024-05-01T10:00:00Z";
const T2: &str = "2024-05-01T11:00:00Z";

fn params<'a>(
    live: Option<&'a Value>,
    intent: &'a Value,
    manager: &'a str,
    force: bool,
    now: &'a str,
) -> ApplyParams<'a> {
    ApplyParams {
        live,
        intent,
        manager,
        force,
        api_version: intent["apiVersion"].as_str().unwrap_or("v1"),
        now,
        subresource: None,
        status_is_field: false,
    }
}

fn apply_ok(live: Option<&Value>, intent: &Value, manager: &str, now: &str) -> Value {
    apply(params(live, intent, manager, false, now)).expect("apply succeeds")
}

fn entry<'a>(obj: &'a Value, manager: &str) -> &'a Value {
    obj["metadata"]["managedFields"]
        .as_array()
        .and_then(|list| list.iter().find(|e| e["manager"] == manager))
        .unwrap_or_else(|| panic!("no managedFields entry for {manager} in {obj:#}"))
}

fn owns(obj: &Value, manager: &str, path: &str) -> bool {
    let Some(list) = obj["metadata"]["managedFields"].as_array() else {
        return false;
    };
    list.iter().filter(|e| e["manager"] == manager).any(|e| {
        FieldSet::from_fields_v1(&e["fieldsV1"])
            .unwrap()
            .iter()
            .any(|p| path_string(p) == path)
    })
}

fn deployment(image: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "web",
                    "image": image,
                    "env": [{"name": "MODE", "value": "prod"}],
                    "ports": [{"containerPort": 80}]
                }]}
            }
        }
    })
}

fn config_map(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg", "namespace": "default"}, "data": data})
}

#[test]
fn apply_create_records_fields_v1_as_kubernetes_does() {
    let intent = deployment("nginx:1.25", 2);
    let created = apply_ok(None, &intent, "kubectl", T1);
    let e = entry(&created, "kubectl");
    assert_eq!(e["operation"], "Apply");
    assert_eq!(e["apiVersion"], "apps/v1");
    assert_eq!(e["time"], T1);
    assert_eq!(e["fieldsType"], "FieldsV1");
    // What kube-apiserver 1.33 records for this applied configuration.
    let expected = r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:env":{"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}"#;
    assert_eq!(serde_json::to_string(&e["fieldsV1"]).unwrap(), expected);
    // Server defaults are filled in, but not owned by the applier.
    let container = &created["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
    assert_eq!(container["ports"][0]["protocol"], "TCP");
    assert_eq!(created["spec"]["strategy"]["type"], "RollingUpdate");
    assert!(!owns(&created, "kubectl", ".spec.strategy.type"));
    assert_eq!(created["metadata"]["name"], "web");
}

#[test]
fn fields_v1_decodes_back_to_the_same_set() {
    let intent = deployment("nginx:1.25", 2);
    let created = apply_ok(None, &intent, "kubectl", T1);
    let fields = &entry(&created, "kubectl")["fieldsV1"];
    let set = FieldSet::from_fields_v1(fields).unwrap();
    assert_eq!(&set.to_fields_v1(), fields);
    let paths: Vec<String> = set.iter().map(|p| path_string(p)).collect();
    assert!(paths.contains(&r#".spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort"#.to_string()));
    assert!(paths.contains(&r#".spec.template.spec.containers[name="web"]"#.to_string()));
}

#[test]
fn applying_twice_returns_live_unchanged() {
    let intent = deployment("nginx:1.25", 2);
    let live = apply_ok(None, &intent, "kubectl", T1);
    let again = apply_ok(Some(&live), &intent, "kubectl", T2);
    assert_eq!(
        serde_json::to_string(&again).unwrap(),
        serde_json::to_string(&live).unwrap()
    );
    assert_eq!(entry(&again, "kubectl")["time"], T1);
}

#[test]
fn a_changed_value_updates_the_object_and_the_time() {
    let live = apply_ok(None, &deployment("nginx:1.25", 2), "kubectl", T1);
    let next = apply_ok(Some(&live), &deployment("nginx:1.26", 2), "kubectl", T2);
    assert_eq!(
        next["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.26"
    );
    assert_eq!(entry(&next, "kubectl")["time"], T2);
}

#[test]
fn a_dropped_field_is_removed() {
    let live = apply_ok(None, &config_map(json!({"a": "1", "b": "2"})), "rekon", T1);
    let next = apply_ok(Some(&live), &config_map(json!({"a": "1"})), "rekon", T2);
    assert_eq!(next["data"], json!({"a": "1"}));
    assert!(!owns(&next, "rekon", ".data.b"));
    assert!(owns(&next, "rekon", ".data.a"));
}

#[test]
fn a_dropped_label_map_goes_when_nobody_else_owns_it() {
    let mut with_label = config_map(json!({"a": "1"}));
    with_label["metadata"]["labels"] = json!({"team": "x"});
    let live = apply_ok(None, &with_label, "rekon", T1);
    let next = apply_ok(Some(&live), &config_map(json!({"a": "1"})), "rekon", T2);
    assert!(next["metadata"].get("labels").is_none(), "{next:#}");
    assert_eq!(next["metadata"]["name"], "cfg");
}

#[test]
fn a_dropped_container_is_removed() {
    let mut two = deployment("nginx:1.25", 2);
    two["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "sidecar", "image": "envoy:1"}));
    let live = apply_ok(None, &two, "rekon", T1);
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let next = apply_ok(Some(&live), &deployment("nginx:1.25", 2), "rekon", T2);
    let containers = next["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1);
    assert_eq!(containers[0]["name"], "web");
    assert!(!owns(
        &next,
        "rekon",
        r#".spec.template.spec.containers[name="sidecar"]"#
    ));
}

#[test]
fn a_dropped_env_var_goes_but_defaults_stay() {
    let live = apply_ok(None, &deployment("nginx:1.25", 2), "rekon", T1);
    let mut no_env = deployment("nginx:1.25", 2);
    no_env["spec"]["template"]["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .shift_remove("env");
    let next = apply_ok(Some(&live), &no_env, "rekon", T2);
    let container = &next["spec"]["template"]["spec"]["containers"][0];
    assert!(container.get("env").is_none(), "{container:#}");
    assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(next["spec"]["revisionHistoryLimit"], 10);
}

#[test]
fn a_field_another_manager_also_owns_is_kept() {
    let live = apply_ok(None, &config_map(json!({"a": "1", "b": "2"})), "rekon", T1);
    let shared = apply_ok(Some(&live), &config_map(json!({"b": "2"})), "other", T1);
    assert!(owns(&shared, "rekon", ".data.b"));
    assert!(owns(&shared, "other", ".data.b"));
    let next = apply_ok(Some(&shared), &config_map(json!({"a": "1"})), "rekon", T2);
    assert_eq!(next["data"], json!({"a": "1", "b": "2"}));
    assert!(owns(&next, "other", ".data.b"));
    assert!(!owns(&next, "rekon", ".data.b"));
}

#[test]
fn equal_values_are_shared_without_conflict() {
    let live = apply_ok(None, &deployment("nginx:1.25", 2), "rekon", T1);
    let shared = apply_ok(Some(&live), &deployment("nginx:1.25", 2), "argocd", T2);
    assert!(owns(&shared, "rekon", ".spec.replicas"));
    assert!(owns(&shared, "argocd", ".spec.replicas"));
    // The object did not change; only ownership did.
    let mut stripped = shared.clone();
    let mut live_stripped = live.clone();
    stripped["metadata"]
        .as_object_mut()
        .unwrap()
        .shift_remove("managedFields");
    live_stripped["metadata"]
        .as_object_mut()
        .unwrap()
        .shift_remove("managedFields");
    assert_eq!(stripped, live_stripped);
}

#[test]
fn conflict_with_an_update_manager_names_the_field() {
    let mut created = deployment("nginx:1.25", 2);
    apply_defaults("apps", "Deployment", &mut created);
    record_update(
        None,
        &mut created,
        "kubectl-client-side-apply",
        "apps/v1",
        T1,
        None,
    );
    let err = apply(params(
        Some(&created),
        &deployment("nginx:1.25", 3),
        "rekon",
        false,
        T2,
    ))
    .unwrap_err();
    let SsaError::Conflicts(conflicts) = &err else {
        panic!("expected conflicts, got {err}");
    };
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].manager, "kubectl-client-side-apply");
    assert_eq!(conflicts[0].field, ".spec.replicas");
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    let status = conflict_status(conflicts);
    assert_eq!(status["code"], 409);
    assert_eq!(status["reason"], "Conflict");
    assert_eq!(
        status["details"]["causes"][0],
        json!({"reason": "FieldManagerConflict",
            "message": "conflict with \"kubectl-client-side-apply\" using apps/v1",
            "field": ".spec.replicas"})
    );
}

#[test]
fn conflict_with_another_applier_lists_every_field() {
    let live = apply_ok(None, &deployment("nginx:1.25", 2), "team-a", T1);
    let err = apply(params(
        Some(&live),
        &deployment("nginx:1.26", 3),
        "team-b",
        false,
        T2,
    ))
    .unwrap_err();
    let SsaError::Conflicts(conflicts) = &err else {
        panic!("expected conflicts, got {err}");
    };
    let fields: Vec<&str> = conflicts.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        vec![
            ".spec.replicas",
            r#".spec.template.spec.containers[name="web"].image"#
        ]
    );
    assert!(conflicts.iter().all(|c| c.manager == "team-a"));
    assert_eq!(
        err.to_string(),
        "Apply failed with 2 conflicts: conflicts with \"team-a\":\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image"
    );
}

#[test]
fn a_manager_never_conflicts_with_itself() {
    let live = apply_ok(None, &deployment("nginx:1.25", 2), "rekon", T1);
    let next = apply_ok(Some(&live), &deployment("nginx:1.26", 5), "rekon", T2);
    assert_eq!(next["spec"]["replicas"], 5);
}

#[test]
fn force_moves_ownership() {
    let live = apply_ok(None, &deployment("nginx:1.25", 2), "team-a", T1);
    let forced = apply(params(
        Some(&live),
        &deployment("nginx:1.25", 3),
        "team-b",
        true,
        T2,
    ))
    .unwrap();
    assert_eq!(forced["spec"]["replicas"], 3);
    assert!(owns(&forced, "team-b", ".spec.replicas"));
    assert!(!owns(&forced, "team-a", ".spec.replicas"));
    // Unchanged fields stay shared.
    assert!(owns(
        &forced,
        "team-a",
        r#".spec.template.spec.containers[name="web"].image"#
    ));
    assert!(owns(
        &forced,
        "team-b",
        r#".spec.template.spec.containers[name="web"].image"#
    ));
    // team-a dropping replicas now removes nothing: team-b owns it.
    let mut no_replicas = deployment("nginx:1.25", 2);
    no_replicas["spec"]
        .as_object_mut()
        .unwrap()
        .shift_remove("replicas");
    let next = apply_ok(Some(&forced), &no_replicas, "team-a", T2);
    assert_eq!(next["spec"]["replicas"], 3);
}

#[test]
fn a_different_subresource_is_a_different_manager() {
    let live = apply_ok(None, &deployment("nginx:1.25", 2), "ctl", T1);
    let status_intent = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 9},
        "status": {"replicas": 2, "conditions": [{"type": "Available", "status": "True"}]}});
    let with_status = apply(ApplyParams {
        subresource: Some("status"),
        ..params(Some(&live), &status_intent, "ctl", false, T2)
    })
    .unwrap();
    assert_eq!(with_status["status"]["replicas"], 2);
    assert_eq!(
        with_status["spec"]["replicas"], 2,
        "spec ignored on /status"
    );
    let entries = with_status["metadata"]["managedFields"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let status_entry = entries
        .iter()
        .find(|e| e["subresource"] == "status")
        .unwrap();
    assert_eq!(
        serde_json::to_string(&status_entry["fieldsV1"]).unwrap(),
        r#"{"f:status":{"f:conditions":{"k:{\"type\":\"Available\"}":{".":{},"f:status":{},"f:type":{}}},"f:replicas":{}}}"#
    );
    // Applying the main resource again leaves status alone and does not prune it.
    let again = apply_ok(Some(&with_status), &deployment("nginx:1.25", 2), "ctl", T2);
    assert_eq!(again["status"]["replicas"], 2);
}

#[test]
fn status_in_a_main_resource_apply_is_ignored() {
    let mut intent = config_map(json!({"a": "1"}));
    intent["status"] = json!({"phase": "x"});
    let created = apply_ok(None, &intent, "rekon", T1);
    assert!(created.get("status").is_none());
    assert!(!owns(&created, "rekon", ".status.phase"));
}

#[test]
fn objects_without_managed_fields_meet_before_first_apply() {
    let live = config_map(json!({"a": "1"}));
    let err = apply(params(
        Some(&live),
        &config_map(json!({"a": "2"})),
        "rekon",
        false,
        T1,
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("conflict with \"before-first-apply\" using v1: .data.a"),
        "{err}"
    );
    let same = apply_ok(Some(&live), &config_map(json!({"a": "1"})), "rekon", T1);
    assert!(owns(&same, "before-first-apply", ".data.a"));
    assert!(owns(&same, "rekon", ".data.a"));
}

#[test]
fn kubectl_takes_over_fields_of_its_client_side_apply() {
    let mut live = config_map(json!({"a": "1"}));
    live["metadata"]["annotations"] = json!({LAST_APPLIED: "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"1\"},\"kind\":\"ConfigMap\",\"metadata\":{\"annotations\":{},\"name\":\"cfg\",\"namespace\":\"default\"}}\n"});
    record_update(None, &mut live, "kubectl-client-side-apply", "v1", T1, None);
    let next = apply_ok(Some(&live), &config_map(json!({"a": "2"})), "kubectl", T2);
    assert_eq!(next["data"]["a"], "2");
    assert!(owns(&next, "kubectl", ".data.a"));
    assert!(!owns(&next, "kubectl-client-side-apply", ".data.a"));
    let annotation = next["metadata"]["annotations"][LAST_APPLIED]
        .as_str()
        .unwrap();
    assert_eq!(
        annotation,
        "{\"apiVersion\":\"v1\",\"data\":{\"a\":\"2\"},\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cfg\",\"namespace\":\"default\"}}\n"
    );
    // Another manager gets no such pass.
    let err = apply(params(
        Some(&live),
        &config_map(json!({"a": "2"})),
        "rekon",
        false,
        T2,
    ));
    assert!(matches!(err, Err(SsaError::Conflicts(_))));
}

#[test]
fn invalid_configurations_are_refused() {
    let mut dup = deployment("nginx:1.25", 1);
    dup["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]);
    let err = apply(params(None, &dup, "rekon", false, T1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        ".spec.template.spec.containers[name=\"web\"].env: duplicate entries for key [name=\"A\"]"
    );
    let mut keyless = deployment("nginx:1.25", 1);
    keyless["spec"]["template"]["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .shift_remove("name");
    assert!(matches!(
        apply(params(None, &keyless, "rekon", false, T1)),
        Err(SsaError::Invalid(_))
    ));
    let mut with_fields = config_map(json!({}));
    with_fields["metadata"]["managedFields"] = json!([]);
    assert!(matches!(
        apply(params(None, &with_fields, "rekon", false, T1)),
        Err(SsaError::Invalid(_))
    ));
    assert!(matches!(
        apply(params(None, &json!([1]), "rekon", false, T1)),
        Err(SsaError::Invalid(_))
    ));
}

#[test]
fn server_metadata_is_not_taken_from_the_intent() {
    let mut live = apply_ok(None, &config_map(json!({"a": "1"})), "rekon", T1);
    live["metadata"]["uid"] = json!("u-1");
    live["metadata"]["resourceVersion"] = json!("7");
    live["metadata"]["creationTimestamp"] = json!(T1);
    let mut intent = config_map(json!({"a": "1"}));
    intent["metadata"]["creationTimestamp"] = Value::Null;
    intent["metadata"]["resourceVersion"] = json!("7");
    let again = apply_ok(Some(&live), &intent, "rekon", T2);
    assert_eq!(again, live);
}

#[test]
fn keyed_list_merge_keeps_other_items_and_follows_applied_order() {
    let mut first = deployment("nginx:1.25", 1);
    first["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]);
    let live = apply_ok(None, &first, "team-a", T1);
    let mut second = deployment("nginx:1.25", 1);
    second["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "C", "value": "3"}]);
    second["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.25");
    let merged = apply_ok(Some(&live), &second, "team-b", T2);
    let env = &merged["spec"]["template"]["spec"]["containers"][0]["env"];
    let names: Vec<&str> = env
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["A", "B", "C"]);
}

#[test]
fn record_update_marks_new_containers_like_kubernetes() {
    let mut obj = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "labels": {"app": "p"}},
        "spec": {"containers": [{"name": "c", "image": "nginx",
            "ports": [{"containerPort": 80, "protocol": "TCP"}], "resources": {}}],
            "dnsPolicy": "ClusterFirst"}});
    record_update(None, &mut obj, "kubectl-create", "v1", T1, None);
    let e = entry(&obj, "kubectl-create");
    assert_eq!(e["operation"], "Update");
    assert_eq!(e["time"], T1);
    assert_eq!(
        serde_json::to_string(&e["fieldsV1"]).unwrap(),
        r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},"f:resources":{}}},"f:dnsPolicy":{}}}"#
    );
}

#[test]
fn record_update_moves_changed_fields_and_keeps_the_rest() {
    let live = apply_ok(None, &deployment("nginx:1.25", 2), "rekon", T1);
    let mut scaled = live.clone();
    scaled["spec"]["replicas"] = json!(5);
    record_update(
        Some(&live),
        &mut scaled,
        "kubectl-scale",
        "apps/v1",
        T2,
        None,
    );
    assert!(owns(&scaled, "kubectl-scale", ".spec.replicas"));
    assert!(!owns(&scaled, "rekon", ".spec.replicas"));
    assert!(owns(&scaled, "rekon", ".spec.selector"));
    assert_eq!(entry(&scaled, "kubectl-scale")["time"], T2);
    assert_eq!(entry(&scaled, "rekon")["time"], T1);
    // Now rekon applying replicas conflicts with the scaler.
    let err = apply(params(
        Some(&scaled),
        &deployment("nginx:1.25", 2),
        "rekon",
        false,
        T2,
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Apply failed with 1 conflict: conflict with \"kubectl-scale\" using apps/v1: .spec.replicas"
    );
}

#[test]
fn record_update_without_changes_keeps_entries_verbatim() {
    let live = apply_ok(None, &deployment("nginx:1.25", 2), "rekon", T1);
    let mut same = live.clone();
    record_update(Some(&live), &mut same, "someone", "apps/v1", T2, None);
    assert_eq!(same, live);
}

#[test]
fn record_update_honours_a_reset_and_removed_fields() {
    let live = apply_ok(None, &config_map(json!({"a": "1", "b": "2"})), "rekon", T1);
    let mut removed = live.clone();
    removed["data"].as_object_mut().unwrap().shift_remove("b");
    record_update(Some(&live), &mut removed, "editor", "v1", T2, None);
    assert!(!owns(&removed, "rekon", ".data.b"));
    assert!(owns(&removed, "rekon", ".data.a"));
    // Removing a field alone gives the editor nothing to own.
    assert!(
        removed["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["manager"] != "editor")
    );
    let mut reset = removed.clone();
    reset["metadata"]["managedFields"] = json!([{}]);
    record_update(Some(&removed), &mut reset, "editor", "v1", T2, None);
    assert!(reset["metadata"].get("managedFields").is_none());
}

/// Rough throughput check, run by hand with `--ignored --nocapture` (never a timed assertion).
#[test]
#[ignore = "manual throughput probe"]
fn apply_throughput_probe() {
    let mut live = apply_ok(None, &deployment("nginx:1.25", 2), "rekon", T1);
    let n = 2000;
    let start = std::time::Instant::now();
    for i in 0..n {
        let intent = deployment(
            if i % 2 == 0 {
                "nginx:1.26"
            } else {
                "nginx:1.25"
            },
            2,
        );
        live = apply_ok(Some(&live), &intent, "rekon", T2);
    }
    let changing = start.elapsed();
    let start = std::time::Instant::now();
    let intent = deployment("nginx:1.25", 2);
    for _ in 0..n {
        let _ = apply_ok(Some(&live), &intent, "rekon", T2);
    }
    println!(
        "{n} changing applies: {changing:?}; {n} no-op applies: {:?}",
        start.elapsed()
    );
}

/// Opt-in trial over the shared real-world corpus (`REKON_CORPUS=../shared/corpus`): every
/// object applies and re-applies as a no-op.
#[test]
fn corpus_objects_apply_cleanly() {
    let Ok(root) = std::env::var("REKON_CORPUS") else {
        println!("skipped: REKON_CORPUS is not set");
        return;
    };
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                files.push(path);
            }
        }
    }
    let mut applied = 0;
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(docs) = crate::yaml::documents(&text, &file.display().to_string()) else {
            continue;
        };
        for obj in docs {
            let kind_ok = obj.get("kind").and_then(Value::as_str).is_some();
            let named = obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .is_some();
            if !kind_ok || !named || obj.get("apiVersion").is_none() {
                continue;
            }
            let api_version = obj["apiVersion"].as_str().unwrap_or("v1");
            let created = apply(ApplyParams {
                api_version,
                ..params(None, &obj, "rekon", false, T1)
            })
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let again = apply(ApplyParams {
                api_version,
                ..params(Some(&created), &obj, "rekon", false, T2)
            })
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            // An apply that owns nothing leaves no managedFields, so (as on a real server)
            // the next apply hands the server-set fields to "before-first-apply" once.
            let settled = apply(ApplyParams {
                api_version,
                ..params(Some(&again), &obj, "rekon", false, T2)
            })
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!(
                settled,
                again,
                "{}: re-apply is not a no-op",
                file.display()
            );
            if created.pointer("/metadata/managedFields").is_some() {
                assert_eq!(
                    again,
                    created,
                    "{}: second apply changed it",
                    file.display()
                );
            }
            applied += 1;
        }
    }
    println!("applied {applied} corpus objects twice");
    assert!(applied > 0);
}

#[test]
fn record_update_on_create_matches_a_client_side_apply_of_a_deployment() {
    let mut created = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]}}}});
    apply_defaults("apps", "Deployment", &mut created);
    record_update(
        None,
        &mut created,
        "kubectl-client-side-apply",
        "apps/v1",
        T1,
        None,
    );
    let fields = &entry(&created, "kubectl-client-side-apply")["fieldsV1"];
    // kube-apiserver's record of the same create: struct fields that exist in the Go zero
    // value (spec, strategy, template) carry no ".", new maps and items do.
    let expected = json!({
        "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
        "f:spec": {
            "f:progressDeadlineSeconds": {}, "f:replicas": {}, "f:revisionHistoryLimit": {},
            "f:selector": {},
            "f:strategy": {"f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                "f:type": {}},
            "f:template": {
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {},
                        "f:imagePullPolicy": {}, "f:name": {}, "f:resources": {},
                        "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
                    "f:dnsPolicy": {}, "f:restartPolicy": {}, "f:schedulerName": {},
                    "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}}});
    assert_eq!(
        serde_json::to_string(fields).unwrap(),
        serde_json::to_string(&expected).unwrap()
    );
}
