use super::*;
use crate::model::ResourceKey;
use serde_json::json;

fn status_of(obj: &Value) -> Health {
    assess(obj).expect("a health").status
}

fn deployment(status: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "generation": 2},
        "spec": {"replicas": 3, "progressDeadlineSeconds": 600}, "status": status})
}

#[test]
fn deployment_whose_pods_never_pull_progresses_then_degrades() {
    let rolling = deployment(json!({
        "observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
        "readyReplicas": 0, "availableReplicas": 0, "unavailableReplicas": 3,
        "conditions": [
            {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
            {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
             "message": "ReplicaSet \"web-5d8f\" is progressing."}]}));
    let h = assess(&rolling).unwrap();
    assert_eq!(h.status, Health::Progressing);
    assert_eq!(
        h.message,
        "Waiting for rollout to finish: 0 of 3 updated replicas are available..."
    );

    let stuck = deployment(json!({
        "observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 0,
        "conditions": [
            {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": "ReplicaSet \"web-5d8f\" has timed out progressing."}]}));
    let h = assess(&stuck).unwrap();
    assert_eq!(h.status, Health::Degraded);
    assert_eq!(
        h.message,
        "Deployment \"web\" exceeded its progress deadline"
    );
}

#[test]
fn deployment_rules() {
    let healthy = deployment(json!({"observedGeneration": 2, "replicas": 3,
        "updatedReplicas": 3, "availableReplicas": 3, "readyReplicas": 3}));
    assert_eq!(
        assess(&healthy).unwrap(),
        HealthStatus::new(Health::Healthy, "3/3 ready")
    );

    let mut paused = healthy.clone();
    paused["spec"]["paused"] = json!(true);
    assert_eq!(status_of(&paused), Health::Suspended);

    let unobserved = deployment(json!({"observedGeneration": 1}));
    assert_eq!(status_of(&unobserved), Health::Progressing);

    let updating = deployment(json!({"observedGeneration": 2, "replicas": 4,
        "updatedReplicas": 1, "availableReplicas": 3}));
    assert!(
        assess(&updating)
            .unwrap()
            .message
            .contains("1 out of 3 new replicas")
    );

    let terminating = deployment(json!({"observedGeneration": 2, "replicas": 5,
        "updatedReplicas": 3, "availableReplicas": 3}));
    assert!(
        assess(&terminating)
            .unwrap()
            .message
            .contains("2 old replicas")
    );
}

#[test]
fn stateful_set_rules() {
    let sts = |spec: Value, status: Value| {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "generation": 1}, "spec": spec, "status": status})
    };
    let never_observed = sts(json!({"replicas": 3}), json!({"observedGeneration": 0}));
    assert_eq!(status_of(&never_observed), Health::Progressing);

    let not_ready = sts(
        json!({"replicas": 3}),
        json!({"observedGeneration": 1, "readyReplicas": 1}),
    );
    assert_eq!(status_of(&not_ready), Health::Progressing);

    let partition_pending = sts(
        json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}),
        json!({"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1}),
    );
    assert_eq!(status_of(&partition_pending), Health::Progressing);
    let partition_done = sts(
        json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}}),
        json!({"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 2}),
    );
    assert_eq!(status_of(&partition_done), Health::Healthy);

    let on_delete = sts(
        json!({"replicas": 3, "updateStrategy": {"type": "OnDelete"}}),
        json!({"observedGeneration": 1, "readyReplicas": 3, "updateRevision": "b", "currentRevision": "a"}),
    );
    assert_eq!(status_of(&on_delete), Health::Healthy);

    let rolling = sts(
        json!({"replicas": 3}),
        json!({"observedGeneration": 1, "readyReplicas": 3,
        "updateRevision": "db-2", "currentRevision": "db-1"}),
    );
    assert_eq!(status_of(&rolling), Health::Progressing);
    let done = sts(
        json!({"replicas": 3}),
        json!({"observedGeneration": 1, "readyReplicas": 3,
        "currentReplicas": 3, "updateRevision": "db-2", "currentRevision": "db-2"}),
    );
    assert_eq!(status_of(&done), Health::Healthy);
}

#[test]
fn daemon_set_and_replica_set_rules() {
    let ds = |status: Value| {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "generation": 1}, "spec": {}, "status": status})
    };
    assert_eq!(
        status_of(&ds(json!({"observedGeneration": 0}))),
        Health::Progressing
    );
    assert_eq!(
        status_of(&ds(
            json!({"observedGeneration": 1, "desiredNumberScheduled": 3,
        "updatedNumberScheduled": 2, "numberAvailable": 3})
        )),
        Health::Progressing
    );
    assert_eq!(
        status_of(&ds(
            json!({"observedGeneration": 1, "desiredNumberScheduled": 3,
        "updatedNumberScheduled": 3, "numberAvailable": 2})
        )),
        Health::Progressing
    );
    assert_eq!(
        status_of(&ds(
            json!({"observedGeneration": 1, "desiredNumberScheduled": 3,
        "updatedNumberScheduled": 3, "numberAvailable": 3})
        )),
        Health::Healthy
    );

    let rs = |status: Value| {
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-1", "generation": 1}, "spec": {"replicas": 2}, "status": status})
    };
    let failed = rs(
        json!({"observedGeneration": 1, "conditions": [{"type": "ReplicaFailure",
        "status": "True", "message": "pods \"web-1-x\" is forbidden: exceeded quota"}]}),
    );
    let h = assess(&failed).unwrap();
    assert_eq!(h.status, Health::Degraded);
    assert!(h.message.contains("exceeded quota"));
    assert_eq!(
        status_of(&rs(
            json!({"observedGeneration": 1, "availableReplicas": 1})
        )),
        Health::Progressing
    );
    assert_eq!(
        status_of(&rs(
            json!({"observedGeneration": 1, "availableReplicas": 2})
        )),
        Health::Healthy
    );
}

fn pod(restart: &str, status: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1-abc", "namespace": "shop"},
        "spec": {"restartPolicy": restart, "containers": [{"name": "app", "image": "x"}]},
        "status": status})
}

#[test]
fn pod_pulling_a_missing_image_is_degraded_with_the_kubelet_message() {
    let p = pod(
        "Always",
        json!({"phase": "Pending", "containerStatuses": [{"name": "app",
        "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ImagePullBackOff",
        "message": "Back-off pulling image \"x\""}}}]}),
    );
    assert_eq!(
        assess(&p).unwrap(),
        HealthStatus::new(Health::Degraded, "Back-off pulling image \"x\"")
    );
}

#[test]
fn crash_looping_pod_is_degraded() {
    let p = pod(
        "Always",
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [{"name": "app", "ready": false, "restartCount": 7,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}),
    );
    assert_eq!(
        assess(&p).unwrap(),
        HealthStatus::new(Health::Degraded, "container \"app\": CrashLoopBackOff")
    );
}

#[test]
fn pod_phases() {
    let unschedulable = pod(
        "Always",
        json!({"phase": "Pending", "conditions": [{"type": "PodScheduled",
        "status": "False", "reason": "Unschedulable",
        "message": "0/3 nodes are available: 3 Insufficient cpu."}]}),
    );
    assert_eq!(
        assess(&unschedulable).unwrap(),
        HealthStatus::new(
            Health::Progressing,
            "0/3 nodes are available: 3 Insufficient cpu."
        )
    );
    let ready = pod(
        "Always",
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}),
    );
    assert_eq!(status_of(&ready), Health::Healthy);
    let starting = pod(
        "Always",
        json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [{"name": "app", "ready": false, "state": {"running": {}}}]}),
    );
    assert_eq!(
        assess(&starting).unwrap(),
        HealthStatus::new(Health::Progressing, "0/1 containers ready")
    );
    let restarted = pod(
        "Always",
        json!({"phase": "Running",
        "containerStatuses": [{"name": "app", "ready": false, "state": {"running": {}},
            "lastState": {"terminated": {"exitCode": 137}}}]}),
    );
    assert_eq!(status_of(&restarted), Health::Degraded);
    let oom = pod(
        "Never",
        json!({"phase": "Failed", "containerStatuses": [{"name": "app",
        "state": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}]}),
    );
    assert_eq!(
        assess(&oom).unwrap(),
        HealthStatus::new(Health::Degraded, "OOMKilled")
    );
    let exit = pod(
        "Never",
        json!({"phase": "Failed", "containerStatuses": [{"name": "app",
        "state": {"terminated": {"exitCode": 3}}}]}),
    );
    assert_eq!(
        assess(&exit).unwrap().message,
        "container \"app\" failed with exit code 3"
    );
    // Never/OnFailure pods run to completion: a waiting error does not make them Degraded.
    let job_pod = pod(
        "Never",
        json!({"phase": "Running", "containerStatuses": [{"name": "app",
        "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
    );
    assert_eq!(status_of(&job_pod), Health::Progressing);
    assert_eq!(
        status_of(&pod("Never", json!({"phase": "Succeeded"}))),
        Health::Healthy
    );
    assert_eq!(
        status_of(&pod("Always", json!({"phase": "Weird"}))),
        Health::Unknown
    );
}

#[test]
fn ignore_restart_policy_annotation_applies_to_non_hooks() {
    let mut p = pod(
        "Never",
        json!({"phase": "Running", "containerStatuses": [{"name": "app",
        "state": {"waiting": {"reason": "ErrImagePull", "message": "pull failed"}}}]}),
    );
    p["metadata"]["annotations"] = json!({"argocd.argoproj.io/ignore-restart-policy": "true"});
    assert_eq!(status_of(&p), Health::Degraded);
    p["metadata"]["annotations"]["argocd.argoproj.io/hook"] = json!("PreSync");
    assert_eq!(status_of(&p), Health::Progressing);
}

#[test]
fn pvc_service_and_ingress_rules() {
    let pvc = |phase: &str| {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"}, "status": {"phase": phase}})
    };
    assert_eq!(status_of(&pvc("Pending")), Health::Progressing);
    assert_eq!(status_of(&pvc("Bound")), Health::Healthy);
    assert_eq!(status_of(&pvc("Lost")), Health::Degraded);
    assert_eq!(status_of(&pvc("")), Health::Unknown);

    let lb = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}});
    assert_eq!(status_of(&lb), Health::Progressing);
    let mut lb_ready = lb.clone();
    lb_ready["status"]["loadBalancer"]["ingress"] = json!([{"ip": "203.0.113.7"}]);
    assert_eq!(status_of(&lb_ready), Health::Healthy);
    let cluster_ip = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"type": "ClusterIP"}});
    assert_eq!(status_of(&cluster_ip), Health::Healthy);

    let ing = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web"}, "status": {"loadBalancer": {}}});
    assert_eq!(status_of(&ing), Health::Progressing);
}

fn job(conditions: Value) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
        "status": {"active": 1, "conditions": conditions}})
}

#[test]
fn job_rules() {
    assert_eq!(status_of(&job(json!([]))), Health::Progressing);
    let failed = job(
        json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
        "message": "Job has reached the specified backoff limit"}]),
    );
    assert_eq!(
        assess(&failed).unwrap(),
        HealthStatus::new(
            Health::Degraded,
            "Job has reached the specified backoff limit"
        )
    );
    assert_eq!(
        status_of(&job(json!([{"type": "Complete", "status": "True"}]))),
        Health::Healthy
    );
    assert_eq!(
        status_of(&job(json!([{"type": "Suspended", "status": "True"}]))),
        Health::Suspended
    );
    assert_eq!(
        status_of(&job(json!([{"type": "Suspended", "status": "False"}]))),
        Health::Progressing
    );
}

#[test]
fn cron_job_follows_argo_cds_lua_rule() {
    let cron = |spec: Value, status: Value| {
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "backup"}, "spec": spec, "status": status})
    };
    let suspended = cron(json!({"suspend": true}), json!({}));
    assert_eq!(status_of(&suspended), Health::Healthy);
    assert_eq!(status_of(&cron(json!({}), json!({}))), Health::Healthy);
    let failed = cron(
        json!({}),
        json!({"lastScheduleTime": "2026-01-02T00:00:00Z",
        "lastSuccessfulTime": "2026-01-01T00:00:05Z"}),
    );
    assert_eq!(status_of(&failed), Health::Degraded);
    let running = cron(
        json!({}),
        json!({"lastScheduleTime": "2026-01-02T00:00:00Z",
        "lastSuccessfulTime": "2026-01-01T00:00:05Z", "active": [{"name": "backup-1"}]}),
    );
    assert_eq!(status_of(&running), Health::Healthy);
    let ok = cron(
        json!({}),
        json!({"lastScheduleTime": "2026-01-02T00:00:00Z",
        "lastSuccessfulTime": "2026-01-02T00:00:09Z"}),
    );
    assert_eq!(status_of(&ok), Health::Healthy);
}

#[test]
fn hpa_rules() {
    let hpa = |conditions: Value| {
        json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web"}, "status": {"conditions": conditions}})
    };
    let partly = hpa(json!([
        {"type": "AbleToScale", "status": "True", "reason": "SucceededGetScale"},
        {"type": "ScalingActive", "status": "False", "reason": "FailedGetResourceMetric",
         "message": "unable to get metrics for resource memory"}]));
    assert_eq!(
        assess(&partly).unwrap(),
        HealthStatus::new(
            Health::Degraded,
            "unable to get metrics for resource memory"
        )
    );
    let fine = hpa(
        json!([{"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale"},
        {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound"}]),
    );
    assert_eq!(status_of(&fine), Health::Healthy);
    assert_eq!(
        assess(&hpa(json!([]))).unwrap(),
        HealthStatus::new(Health::Progressing, "Waiting to Autoscale")
    );
    let v1 = json!({"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "annotations": {"autoscaling.alpha.kubernetes.io/conditions":
            "[{\"type\":\"AbleToScale\",\"status\":\"False\",\"reason\":\"FailedGetScale\",\"message\":\"no scale\"}]"}}});
    assert_eq!(status_of(&v1), Health::Degraded);
}

#[test]
fn api_service_application_and_workflow_rules() {
    let api = |conditions: Value| {
        json!({"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
        "metadata": {"name": "v1beta1.metrics.k8s.io"}, "status": {"conditions": conditions}})
    };
    assert_eq!(
        status_of(&api(
            json!([{"type": "Available", "status": "True", "reason": "Passed"}])
        )),
        Health::Healthy
    );
    assert_eq!(
        status_of(&api(
            json!([{"type": "Available", "status": "False", "reason": "MissingEndpoints"}])
        )),
        Health::Progressing
    );
    assert_eq!(
        assess(&api(json!([]))).unwrap().message,
        "Waiting to be processed"
    );

    let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "child"}, "status": {"health": {"status": "Degraded", "message": "boom"}}});
    assert_eq!(
        assess(&app).unwrap(),
        HealthStatus::new(Health::Degraded, "boom")
    );

    let wf = |phase: &str| {
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow",
        "metadata": {"name": "w"}, "status": {"phase": phase}})
    };
    assert_eq!(status_of(&wf("Running")), Health::Progressing);
    assert_eq!(status_of(&wf("Succeeded")), Health::Healthy);
    assert_eq!(status_of(&wf("Error")), Health::Degraded);
}

fn custom(conditions: Value) -> Value {
    json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "tls", "generation": 3},
        "status": {"observedGeneration": 3, "conditions": conditions}})
}

#[test]
fn custom_resources_follow_kstatus() {
    let not_ready = custom(
        json!([{"type": "Ready", "status": "False", "reason": "Issuing",
        "message": "Issuing certificate as Secret does not exist"}]),
    );
    assert_eq!(
        assess(&not_ready).unwrap(),
        HealthStatus::new(
            Health::Progressing,
            "Issuing certificate as Secret does not exist"
        )
    );
    let ready = custom(json!([{"type": "Ready", "status": "True", "message": "up to date"}]));
    assert_eq!(status_of(&ready), Health::Healthy);
    let stalled = custom(json!([
        {"type": "Ready", "status": "False", "reason": "BuildFailed"},
        {"type": "Stalled", "status": "True", "reason": "BuildFailed",
         "message": "kustomization path not found"}]));
    assert_eq!(
        assess(&stalled).unwrap(),
        HealthStatus::new(Health::Degraded, "kustomization path not found")
    );
    let reconciling =
        custom(json!([{"type": "Reconciling", "status": "True", "reason": "Progressing"}]));
    assert_eq!(status_of(&reconciling), Health::Progressing);
    let mut behind = ready.clone();
    behind["metadata"]["generation"] = json!(4);
    assert_eq!(status_of(&behind), Health::Progressing);
    let other_only = custom(json!([{"type": "Synced", "status": "True"}]));
    assert_eq!(status_of(&other_only), Health::Healthy);
}

#[test]
fn suspended_flux_objects_are_suspended() {
    let ks = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "apps", "generation": 1}, "spec": {"suspend": true},
        "status": {"observedGeneration": 1, "conditions": [{"type": "Ready", "status": "True"}]}});
    assert_eq!(status_of(&ks), Health::Suspended);
}

#[test]
fn kinds_without_rule_or_conditions_have_no_health() {
    for kind in ["ConfigMap", "Secret", "ServiceAccount"] {
        let obj = json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}, "data": {}});
        assert_eq!(assess(&obj), None, "{kind}");
    }
}

#[test]
fn crds_are_healthy_once_established() {
    let crd = |conditions: Value| {
        json!({"apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition", "metadata": {"name": "widgets.acme.io"},
        "status": {"conditions": conditions}})
    };
    assert_eq!(
        status_of(&crd(json!([{"type": "Established", "status": "True"}]))),
        Health::Healthy
    );
    assert_eq!(status_of(&crd(json!([]))), Health::Progressing);
    assert_eq!(
        status_of(&crd(json!([{"type": "NamesAccepted", "status": "False",
        "message": "plural conflicts"}]))),
        Health::Degraded
    );
}

#[test]
fn deletion_comes_first() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}});
    assert_eq!(
        assess(&cm).unwrap(),
        HealthStatus::new(Health::Progressing, "Pending deletion")
    );
    let mut hook = cm.clone();
    hook["metadata"]["finalizers"] = json!([HOOK_FINALIZER]);
    assert_eq!(assess(&hook), None);
}

fn entry<'a>(key: &'a ResourceKey, health: &'a HealthStatus) -> ManagedHealth<'a> {
    ManagedHealth {
        key,
        health: Some(health),
        live: true,
        excluded: false,
    }
}

#[test]
fn app_health_is_the_worst_managed_resource_with_up_to_three_causes() {
    let k: Vec<ResourceKey> = (0..6)
        .map(|i| ResourceKey::new("apps", "Deployment", "shop", format!("web-{i}")))
        .collect();
    let degraded = HealthStatus::new(Health::Degraded, "exceeded its progress deadline");
    let healthy = HealthStatus::new(Health::Healthy, "");
    let progressing = HealthStatus::new(Health::Progressing, "rolling");
    let h = app_health([
        entry(&k[0], &healthy),
        entry(&k[5], &degraded),
        entry(&k[1], &degraded),
        entry(&k[2], &progressing),
        entry(&k[3], &degraded),
        entry(&k[4], &degraded),
    ]);
    assert_eq!(h.status, Health::Degraded);
    assert_eq!(
        h.message,
        "apps/Deployment shop/web-1: exceeded its progress deadline; \
         apps/Deployment shop/web-3: exceeded its progress deadline; \
         apps/Deployment shop/web-4: exceeded its progress deadline and 1 more"
    );

    // Hooks and resources missing from the cluster do not count; no health counts as nothing.
    let h = app_health([
        ManagedHealth {
            excluded: true,
            ..entry(&k[1], &degraded)
        },
        ManagedHealth {
            live: false,
            health: None,
            ..entry(&k[2], &progressing)
        },
        ManagedHealth {
            health: None,
            ..entry(&k[0], &healthy)
        },
    ]);
    assert_eq!(h, HealthStatus::new(Health::Healthy, ""));

    // Nothing exists: Missing.
    let h = app_health([ManagedHealth {
        live: false,
        health: None,
        ..entry(&k[0], &healthy)
    }]);
    assert_eq!(h.status, Health::Missing);
    assert_eq!(app_health([]).status, Health::Healthy);

    // A child Application that is Missing does not drag its parent down.
    let child = ResourceKey::new("argoproj.io", "Application", "argocd", "child");
    let missing = HealthStatus::new(Health::Missing, "");
    let h = app_health([entry(&child, &missing), entry(&k[0], &healthy)]);
    assert_eq!(h.status, Health::Healthy);
}

#[test]
fn hooks_and_ignored_objects_are_recognised() {
    let hook = json!({"metadata": {"annotations": {"helm.sh/hook": "pre-install"}}});
    assert!(is_hook(&hook) && excluded_from_app_health(&hook));
    let ignored =
        json!({"metadata": {"annotations": {"argocd.argoproj.io/ignore-healthcheck": "true"}}});
    assert!(!is_hook(&ignored) && excluded_from_app_health(&ignored));
    assert!(!excluded_from_app_health(&json!({"metadata": {}})));
}
