//! Unit tests of the defaults, each kind checked through `apply_defaults` and for idempotence.

use super::workloads::image_tag;
use super::*;

fn defaulted(group: &str, kind: &str, mut obj: Value) -> Value {
    apply_defaults(group, kind, &mut obj);
    let again = {
        let mut twice = obj.clone();
        apply_defaults(group, kind, &mut twice);
        twice
    };
    assert_eq!(again, obj, "defaults are idempotent");
    obj
}

#[test]
fn deployment_and_pod_template() {
    let d = defaulted(
        "apps",
        "Deployment",
        json!({"spec": {"template": {"spec": {"serviceAccountName": "sa", "containers": [
            {"name": "a", "image": "nginx", "ports": [{"containerPort": 80}],
             "readinessProbe": {"httpGet": {"port": 80}},
             "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]},
            {"name": "b", "image": "nginx:1.25", "imagePullPolicy": "Always"},
            {"name": "c", "image": "registry:5000/app:latest"},
            {"name": "d", "image": "app@sha256:abc"}],
            "volumes": [{"name": "cm", "configMap": {"name": "x"}}, {"name": "scratch"}]}}}}),
    );
    let spec = &d["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["schedulerName"], "default-scheduler");
    assert_eq!(pod["securityContext"], json!({}));
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod["serviceAccount"], "sa");
    assert!(pod.get("enableServiceLinks").is_none(), "Pods only");
    let c = &pod["containers"];
    assert_eq!(c[0]["imagePullPolicy"], "Always");
    assert_eq!(c[1]["imagePullPolicy"], "Always");
    assert_eq!(c[2]["imagePullPolicy"], "Always");
    assert_eq!(c[3]["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c[0]["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c[0]["terminationMessagePolicy"], "File");
    assert_eq!(c[0]["resources"], json!({}));
    assert_eq!(c[0]["ports"][0]["protocol"], "TCP");
    assert_eq!(
        c[0]["readinessProbe"],
        json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
            "failureThreshold": 3})
    );
    assert_eq!(c[0]["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
    assert_eq!(pod["volumes"][0]["configMap"]["defaultMode"], 420);
    assert_eq!(pod["volumes"][1]["emptyDir"], json!({}));
    let recreate = defaulted(
        "apps",
        "Deployment",
        json!({"spec": {"strategy": {"type": "Recreate"}}}),
    );
    assert_eq!(recreate["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn image_tags() {
    assert_eq!(image_tag("nginx"), Some("latest"));
    assert_eq!(image_tag("nginx:1.2"), Some("1.2"));
    assert_eq!(image_tag("host:5000/nginx"), Some("latest"));
    assert_eq!(image_tag("nginx@sha256:1"), None);
    assert_eq!(image_tag("nginx:1@sha256:1"), Some("1"));
}

#[test]
fn pods_get_service_links_and_requests_from_limits() {
    let p = defaulted(
        "",
        "Pod",
        json!({"spec": {"hostNetwork": true, "containers": [{"name": "a", "image": "x:1",
            "ports": [{"containerPort": 8080}],
            "resources": {"limits": {"cpu": "1"}, "requests": {"memory": "1Gi"}}}]}}),
    );
    assert_eq!(p["spec"]["enableServiceLinks"], true);
    let c = &p["spec"]["containers"][0];
    assert_eq!(
        c["resources"]["requests"],
        json!({"memory": "1Gi", "cpu": "1"})
    );
    assert_eq!(c["ports"][0]["hostPort"], 8080);
}

#[test]
fn statefulset_daemonset_replicaset() {
    let s = defaulted(
        "apps",
        "StatefulSet",
        json!({"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"]}}]}}),
    );
    assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        s["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(
        s["spec"]["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(s["spec"]["replicas"], 1);
    assert_eq!(s["spec"]["revisionHistoryLimit"], 10);
    let claim = &s["spec"]["volumeClaimTemplates"][0];
    assert_eq!(claim["apiVersion"], "v1");
    assert_eq!(claim["kind"], "PersistentVolumeClaim");
    assert_eq!(claim["spec"]["volumeMode"], "Filesystem");
    let on_delete = defaulted(
        "apps",
        "StatefulSet",
        json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}),
    );
    assert_eq!(
        on_delete["spec"]["updateStrategy"],
        json!({"type": "OnDelete"})
    );
    let d = defaulted("apps", "DaemonSet", json!({"spec": {}}));
    assert_eq!(
        d["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    let r = defaulted("apps", "ReplicaSet", json!({"spec": {}}));
    assert_eq!(r["spec"]["replicas"], 1);
}

#[test]
fn jobs_and_cronjobs() {
    let j = defaulted(
        "batch",
        "Job",
        json!({"metadata": {"name": "j"}, "spec": {"template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "x"}]}}}}),
    );
    let spec = &j["spec"];
    assert_eq!(spec["completions"], 1);
    assert_eq!(spec["parallelism"], 1);
    assert_eq!(spec["backoffLimit"], 6);
    assert_eq!(spec["completionMode"], "NonIndexed");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
    assert_eq!(j["metadata"]["labels"], json!({"a": "b"}));
    let parallel = defaulted("batch", "Job", json!({"spec": {"parallelism": 3}}));
    assert!(parallel["spec"].get("completions").is_none());
    let c = defaulted(
        "batch",
        "CronJob",
        json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "x"}]}}}}}}),
    );
    assert_eq!(c["spec"]["concurrencyPolicy"], "Allow");
    assert_eq!(c["spec"]["suspend"], false);
    assert_eq!(c["spec"]["successfulJobsHistoryLimit"], 3);
    assert_eq!(c["spec"]["failedJobsHistoryLimit"], 1);
    let job_spec = &c["spec"]["jobTemplate"]["spec"];
    assert!(
        job_spec.get("backoffLimit").is_none(),
        "only Jobs get Job defaults"
    );
    assert_eq!(job_spec["template"]["spec"]["dnsPolicy"], "ClusterFirst");
}

#[test]
fn services() {
    let s = defaulted(
        "",
        "Service",
        json!({"spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80}, {"port": 53, "protocol": "UDP", "targetPort": "dns"}]}}),
    );
    let spec = &s["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    assert!(spec.get("ipFamilyPolicy").is_none() && spec.get("ipFamilies").is_none());
    assert_eq!(spec["clusterIPs"], json!(["10.96.0.10"]));
    assert_eq!(
        spec["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(spec["ports"][1]["targetPort"], "dns");
    assert!(spec.get("externalTrafficPolicy").is_none());
    assert_eq!(s["status"], json!({"loadBalancer": {}}));
    let lb = defaulted("", "Service", json!({"spec": {"type": "LoadBalancer"}}));
    assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
    assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
    let ext = defaulted(
        "",
        "Service",
        json!({"spec": {"type": "ExternalName", "externalName": "example.com"}}),
    );
    assert!(ext["spec"].get("ipFamilies").is_none());
    assert!(ext["spec"].get("internalTrafficPolicy").is_none());
}

#[test]
fn secrets_configmaps_pvcs_namespaces() {
    let s = defaulted(
        "",
        "Secret",
        json!({"data": {"a": "eA=="}, "stringData": {"b": "hello", "a": "yz"}}),
    );
    assert_eq!(s["type"], "Opaque");
    assert!(s.get("stringData").is_none());
    assert_eq!(s["data"], json!({"a": "eXo=", "b": "aGVsbG8="}));
    assert_eq!(base64_encode(b""), "");
    assert_eq!(base64_encode(b"f"), "Zg==");
    assert_eq!(base64_encode(b"fo"), "Zm8=");
    assert_eq!(base64_encode(b"foo"), "Zm9v");
    let cm = defaulted("", "ConfigMap", json!({"data": {"a": "b"}}));
    assert_eq!(cm, json!({"data": {"a": "b"}}));
    let pvc = defaulted("", "PersistentVolumeClaim", json!({"spec": {}}));
    assert_eq!(pvc["spec"]["volumeMode"], "Filesystem");
    assert_eq!(pvc["status"]["phase"], "Pending");
    let ns = defaulted("", "Namespace", json!({"metadata": {"name": "shop"}}));
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "shop"
    );
    assert!(ns.get("spec").is_none() && ns.get("status").is_none());
}

#[test]
fn ingress_networkpolicy_hpa_rbac_crd() {
    let ing = defaulted("networking.k8s.io", "Ingress", json!({"spec": {}}));
    assert_eq!(ing["status"], json!({"loadBalancer": {}}));
    assert_eq!(ing["spec"], json!({}));
    let np = defaulted(
        "networking.k8s.io",
        "NetworkPolicy",
        json!({"spec": {"egress": [{"ports": [{"port": 53}]}]}}),
    );
    assert_eq!(np["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(np["spec"]["egress"][0]["ports"][0]["protocol"], "TCP");
    let hpa = defaulted(
        "autoscaling",
        "HorizontalPodAutoscaler",
        json!({"spec": {"maxReplicas": 5, "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}}}}),
    );
    assert_eq!(hpa["spec"]["minReplicas"], 1);
    assert_eq!(
        hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
        80
    );
    assert_eq!(
        hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"],
        60
    );
    assert_eq!(
        hpa["spec"]["behavior"]["scaleUp"]["policies"][0]["type"],
        "Pods"
    );
    let rb = defaulted(
        "rbac.authorization.k8s.io",
        "RoleBinding",
        json!({"roleRef": {"kind": "Role", "name": "r"},
            "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]}),
    );
    assert_eq!(rb["roleRef"]["apiGroup"], "rbac.authorization.k8s.io");
    assert_eq!(rb["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io");
    assert!(rb["subjects"][1].get("apiGroup").is_none());
    let crd = defaulted(
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        json!({"spec": {"names": {"kind": "Widget", "plural": "widgets"}}}),
    );
    assert_eq!(crd["spec"]["names"]["singular"], "widget");
    assert_eq!(crd["spec"]["names"]["listKind"], "WidgetList");
    assert_eq!(crd["spec"]["conversion"], json!({"strategy": "None"}));
    let unknown = defaulted("example.com", "Thing", json!({"spec": {}}));
    assert_eq!(unknown, json!({"spec": {}}));
}
