//! The seeded world every scenario runs on: a Git repository of apps, the Application
//! YAML that names them, and an embedded emulator holding what those apps deployed, as if
//! rekon had synced them (same objects, applied as field manager `rekon`).
//!
//! Objects are written straight into the emulator's store (no HTTP): seeding 50,000
//! objects over the API would take longer than the scenarios themselves.

use std::path::{Path, PathBuf};
use std::process::Command;

use std::sync::Arc;

use rekon::engine::tracking::{instance_name, set_tracking_id};
use rekon_emulator::{
    Cluster, ClusterOptions, GroupResource, PatchBody, ResourceType, Store, WriteOptions,
};
use serde_json::{Value, json};

/// Shape of one estate.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Apps, each with [`MANAGED_PER_APP`] managed objects.
    pub apps: usize,
    /// Pods under each of an app's two Deployments (through one ReplicaSet).
    pub pods_per_deployment: usize,
}

/// Objects in Git per app: 2 Deployments, 3 Services, 14 ConfigMaps, 5 Secrets,
/// 2 ServiceAccounts, 2 Roles, 2 RoleBindings.
pub const MANAGED_PER_APP: usize = 30;

impl Shape {
    /// Live objects the apps own: managed ones, one ReplicaSet per Deployment and its Pods.
    pub fn live_objects(&self) -> usize {
        self.apps * (MANAGED_PER_APP + 2 + 2 * self.pods_per_deployment)
    }
}

/// App `i`'s name and destination namespace.
pub fn app_name(i: usize) -> String {
    format!("app-{i:04}")
}

/// The 30 objects app `i` keeps in Git (no namespace: the destination sets it).
pub fn app_objects(i: usize) -> Vec<Value> {
    let mut out = Vec::with_capacity(MANAGED_PER_APP);
    for d in 0..2 {
        let name = format!("web-{d}");
        out.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "labels": {"app": name, "bench/app": app_name(i)}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}},
                    "spec": {"containers": [{"name": "web", "image": format!("registry.example.com/web:1.{i}"),
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "env": [{"name": "MODE", "value": "production"}, {"name": "INDEX", "value": i.to_string()}],
                        "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}}}]}}}}));
    }
    for s in 0..3 {
        out.push(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": format!("svc-{s}"), "labels": {"bench/app": app_name(i)}},
            "spec": {"selector": {"app": format!("web-{}", s % 2)},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}));
    }
    for c in 0..14 {
        out.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{c}"), "labels": {"bench/app": app_name(i)}},
            "data": {"index": format!("{i}-{c}"), "mode": "production",
                "settings.yaml": format!("feature: {c}\nlevel: info\nendpoint: http://svc-0.{}.svc:80/api\n", app_name(i)),
                "payload": "x".repeat(120)}}));
    }
    for s in 0..5 {
        out.push(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": format!("secret-{s}"), "labels": {"bench/app": app_name(i)}},
            "type": "Opaque", "stringData": {"password": format!("pw-{i}-{s}"), "token": format!("tok-{s}")}}));
    }
    for a in 0..2 {
        out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": format!("sa-{a}"), "labels": {"bench/app": app_name(i)}}}));
    }
    for r in 0..2 {
        out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": format!("reader-{r}")},
            "rules": [{"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list", "watch"]}]}));
        out.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": format!("reader-{r}")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": format!("reader-{r}")},
            "subjects": [{"kind": "ServiceAccount", "name": format!("sa-{r}")}]}));
    }
    out
}

/// The 1,000 small objects of the sync and diff scenarios: ConfigMaps, Secrets and
/// Services in a 3:1:1 mix (as the sync engineer's first benchmark had them).
pub fn bulk_object(i: usize) -> Value {
    match i % 5 {
        0 => json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": format!("secret-{i}"), "labels": {"bench": "true"}},
            "stringData": {"password": format!("value-{i}")}}),
        1 => json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": format!("svc-{i}"), "labels": {"bench": "true"}},
            "spec": {"selector": {"app": format!("svc-{i}")}, "ports": [{"port": 80, "targetPort": 8080}]}}),
        _ => json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i}"), "labels": {"bench": "true"}},
            "data": {"index": i.to_string(), "payload": "x".repeat(200)}}),
    }
}

/// Runs git in `dir` with a fixed identity and no user config.
pub fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .map_err(|e| format!("git {args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

fn yaml_docs(objects: &[Value]) -> String {
    let mut text = String::new();
    for o in objects {
        text.push_str("---\n");
        text.push_str(&rekon::yaml::to_string(o));
    }
    text
}

/// Commits everything in `repo` and packs it: a repository a user has cloned or fetched
/// is packed, and reading thousands of loose objects would measure this script instead.
pub fn commit_packed(repo: &Path, message: &str) -> Result<(), String> {
    git(repo, &["add", "-A"])?;
    git(repo, &["commit", "-q", "-m", message])?;
    git(repo, &["repack", "-a", "-d", "-q"])?;
    git(repo, &["prune-packed"])
}

/// One Application document.
pub fn application(name: &str, repo: &Path, path: &str, namespace: &str) -> String {
    let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"project": "default",
            "source": {"repoURL": repo.display().to_string(), "targetRevision": "main", "path": path},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace}}});
    format!("---\n{}", rekon::yaml::to_string(&app))
}

/// Writes the Git repository of `shape` (apps/app-NNNN/*.yaml, four files per app) under
/// `root/repo`, and one Applications file per listed app count (`apps-N.yaml`, the first
/// N apps). Returns the repository path.
pub fn write_repo(root: &Path, apps: usize, app_files: &[usize]) -> Result<PathBuf, String> {
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).map_err(|e| e.to_string())?;
    git(&repo, &["init", "-q", "-b", "main"])?;
    for i in 0..apps {
        let dir = repo.join("apps").join(app_name(i));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let objects = app_objects(i);
        let parts: [(&str, std::ops::Range<usize>); 4] = [
            ("deployments.yaml", 0..2),
            ("services.yaml", 2..5),
            ("config.yaml", 5..24),
            ("rbac.yaml", 24..30),
        ];
        for (file, range) in parts {
            std::fs::write(dir.join(file), yaml_docs(&objects[range]))
                .map_err(|e| format!("{}: {e}", dir.display()))?;
        }
    }
    commit_packed(&repo, "estate")?;
    for &n in app_files {
        let mut text = String::new();
        for i in 0..n.min(apps) {
            let name = app_name(i);
            text.push_str(&application(&name, &repo, &format!("apps/{name}"), &name));
        }
        let file = root.join(format!("apps-{n}.yaml"));
        std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(repo)
}

/// An emulator on loopback with HTTP, its simulated controllers off so nothing changes
/// unless a scenario changes it.
pub async fn start_cluster() -> Result<Cluster, String> {
    Cluster::start(ClusterOptions {
        name: "bench".into(),
        listen: Some(([127, 0, 0, 1], 0).into()),
        controllers: false,
        nodes: 3,
        event_log_capacity: 200_000,
        ..ClusterOptions::default()
    })
    .await
    .map_err(|e| e.to_string())
}

fn rt(store: &Store, group: &str, resource: &str) -> Arc<ResourceType> {
    store
        .registry()
        .preferred(&GroupResource::new(group, resource))
        .cloned()
        .unwrap_or_else(|| panic!("the emulator serves no {group}/{resource}"))
}

/// Creates a namespace (in process).
pub fn create_namespace(store: &Store, name: &str) -> Result<(), String> {
    let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    store
        .create(
            &rt(store, "", "namespaces"),
            "",
            obj,
            &WriteOptions::by("bench"),
        )
        .map(|_| ())
        .map_err(|e| format!("namespace {name}: {e:?}"))
}

fn plural(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "Deployment" => ("apps", "deployments"),
        "ReplicaSet" => ("apps", "replicasets"),
        "Service" => ("", "services"),
        "ConfigMap" => ("", "configmaps"),
        "Secret" => ("", "secrets"),
        "ServiceAccount" => ("", "serviceaccounts"),
        "Pod" => ("", "pods"),
        "Role" => ("rbac.authorization.k8s.io", "roles"),
        "RoleBinding" => ("rbac.authorization.k8s.io", "rolebindings"),
        other => panic!("bench seeds no {other}"),
    }
}

/// Server-side applies `obj` into `ns` as field manager `rekon`, with app `instance`'s
/// tracking id: exactly what a sync by rekon leaves. Returns the stored object.
pub fn apply_as_rekon(
    store: &Store,
    ns: &str,
    instance: &str,
    mut obj: Value,
) -> Result<Value, String> {
    obj["metadata"]["namespace"] = json!(ns);
    set_tracking_id(&mut obj, instance);
    let kind = obj["kind"].as_str().unwrap_or_default().to_string();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (group, resource) = plural(&kind);
    let opts = WriteOptions {
        manager: "rekon".into(),
        force: true,
        dry_run: false,
    };
    store
        .patch(
            &rt(store, group, resource),
            ns,
            &name,
            PatchBody::Apply(obj),
            None,
            &opts,
        )
        .map(|w| w.object.object.clone())
        .map_err(|e| format!("{kind} {ns}/{name}: {e:?}"))
}

fn owner(obj: &Value) -> Value {
    json!([{"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true}])
}

const NOW: &str = "2026-01-01T00:00:00Z";

/// Seeds app `i` of `shape`: its namespace, its 30 objects as rekon applies them, each
/// Deployment rolled out (status) with one ReplicaSet and its running Pods.
pub fn seed_app(store: &Store, shape: &Shape, i: usize) -> Result<(), String> {
    let ns = app_name(i);
    create_namespace(store, &ns)?;
    let instance = instance_name("argocd", &ns);
    for obj in app_objects(i) {
        let stored = apply_as_rekon(store, &ns, &instance, obj)?;
        if stored["kind"] != "Deployment" {
            continue;
        }
        let name = stored["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let available = json!({"observedGeneration": stored["metadata"]["generation"],
            "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1,
            "conditions": [
                {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                 "message": "Deployment has minimum availability.", "lastUpdateTime": NOW, "lastTransitionTime": NOW},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                 "message": format!("ReplicaSet \"{name}-7d9f8c\" has successfully progressed."),
                 "lastUpdateTime": NOW, "lastTransitionTime": NOW}]});
        let deployments = rt(store, "apps", "deployments");
        store
            .update_status(
                &deployments,
                &ns,
                &name,
                available,
                None,
                "kube-controller-manager",
            )
            .map_err(|e| format!("status of {ns}/{name}: {e:?}"))?;
        let template = stored["spec"]["template"].clone();
        let rs_name = format!("{name}-7d9f8c");
        let mut labels = template["metadata"]["labels"].clone();
        labels["pod-template-hash"] = json!("7d9f8c");
        let rs = json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": rs_name, "namespace": ns, "labels": labels, "ownerReferences": owner(&stored),
                "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"replicas": 0, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": template["spec"]}}});
        let replicasets = rt(store, "apps", "replicasets");
        store
            .create(
                &replicasets,
                &ns,
                rs,
                &WriteOptions::by("kube-controller-manager"),
            )
            .map_err(|e| format!("replicaset {ns}/{rs_name}: {e:?}"))?;
    }
    add_pods(store, i, 0, shape.pods_per_deployment)
}

/// Gives each of app `i`'s ReplicaSets `to` running Pods (it has `from`), and says so in
/// their spec and status.
pub fn add_pods(store: &Store, i: usize, from: usize, to: usize) -> Result<(), String> {
    let ns = app_name(i);
    let replicasets = rt(store, "apps", "replicasets");
    let pods = rt(store, "", "pods");
    for d in 0..2 {
        let rs_name = format!("web-{d}-7d9f8c");
        let rs = store
            .modify(
                &replicasets,
                &ns,
                &rs_name,
                None,
                "kube-controller-manager",
                |o| {
                    o["spec"]["replicas"] = json!(to);
                },
            )
            .map_err(|e| format!("replicaset {ns}/{rs_name}: {e:?}"))?
            .object
            .object
            .clone();
        store
            .update_status(
                &replicasets,
                &ns,
                &rs_name,
                json!({"replicas": to, "fullyLabeledReplicas": to, "readyReplicas": to,
                    "availableReplicas": to, "observedGeneration": rs["metadata"]["generation"]}),
                None,
                "kube-controller-manager",
            )
            .map_err(|e| format!("status of {ns}/{rs_name}: {e:?}"))?;
        let template = &rs["spec"]["template"];
        let labels = &template["metadata"]["labels"];
        for p in from..to {
            let pod_name = format!("{rs_name}-{p:05}");
            let pod = json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": pod_name, "namespace": ns, "labels": labels, "ownerReferences": owner(&rs)},
                "spec": {"nodeName": format!("node-{}", 1 + p % 3), "containers": template["spec"]["containers"]}});
            store
                .create(
                    &pods,
                    &ns,
                    pod,
                    &WriteOptions::by("kube-controller-manager"),
                )
                .map_err(|e| format!("pod {ns}/{pod_name}: {e:?}"))?;
            let status = json!({"phase": "Running", "podIP": format!("10.244.{}.{}", p % 250, 1 + i % 250),
                "hostIP": "172.18.0.2", "startTime": NOW,
                "conditions": [{"type": "Initialized", "status": "True", "lastTransitionTime": NOW},
                    {"type": "Ready", "status": "True", "lastTransitionTime": NOW},
                    {"type": "ContainersReady", "status": "True", "lastTransitionTime": NOW},
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": NOW}],
                "containerStatuses": [{"name": "web", "ready": true, "started": true, "restartCount": 0,
                    "image": template["spec"]["containers"][0]["image"], "imageID": "sha256:0123",
                    "containerID": format!("containerd://{i:08x}{p:08x}"),
                    "state": {"running": {"startedAt": NOW}}}]});
            store
                .update_status(&pods, &ns, &pod_name, status, None, "kubelet")
                .map_err(|e| format!("status of pod {ns}/{pod_name}: {e:?}"))?;
        }
    }
    Ok(())
}

/// Seeds every app of `shape`.
pub fn seed(store: &Store, shape: &Shape) -> Result<(), String> {
    for i in 0..shape.apps {
        seed_app(store, shape, i)?;
    }
    Ok(())
}

/// Grows every app of `shape` to `pods` Pods per Deployment; returns the new shape.
pub fn grow(store: &Store, shape: &Shape, pods: usize) -> Result<Shape, String> {
    for i in 0..shape.apps {
        add_pods(store, i, shape.pods_per_deployment, pods)?;
    }
    Ok(Shape {
        apps: shape.apps,
        pods_per_deployment: pods,
    })
}

/// Changes `data.KEY` of ConfigMap `name` in `ns` by hand (manager `kubectl-edit`), as
/// drift; `key` must be one Git sets, or a server-side diff rightly sees no drift.
pub fn drift_configmap(
    store: &Store,
    ns: &str,
    name: &str,
    key: &str,
    value: &str,
) -> Result<(), String> {
    let cms = rt(store, "", "configmaps");
    store
        .modify(&cms, ns, name, None, "kubectl-edit", |o| {
            o["data"][key] = json!(value);
        })
        .map(|_| ())
        .map_err(|e| format!("drift {ns}/{name}: {e:?}"))
}

/// Installs the Flux CRDs and `count` Flux GitRepositories and Kustomizations, so a Flux
/// TUI has something to watch on the same cluster.
pub fn seed_flux(store: &Store, count: usize) -> Result<(), String> {
    let crds = rekon::integrations::crds::documents(rekon::integrations::crds::FLUX, "flux.yaml")
        .map_err(|e| e.to_string())?;
    let crd_rt = rt(store, "apiextensions.k8s.io", "customresourcedefinitions");
    for crd in crds {
        store
            .create(&crd_rt, "", crd, &WriteOptions::by("bench"))
            .map_err(|e| format!("flux CRD: {e:?}"))?;
    }
    let _ = create_namespace(store, "flux-system");
    for i in 0..count {
        let repo = json!({"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
            "metadata": {"name": format!("repo-{i}"), "namespace": "flux-system"},
            "spec": {"interval": "1m", "url": format!("https://git.example.com/team-{i}.git"), "ref": {"branch": "main"}}});
        let ks = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": format!("ks-{i}"), "namespace": "flux-system"},
            "spec": {"interval": "10m", "path": "./deploy", "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": format!("repo-{i}")}}});
        for (obj, group, resource) in [
            (repo, "source.toolkit.fluxcd.io", "gitrepositories"),
            (ks, "kustomize.toolkit.fluxcd.io", "kustomizations"),
        ] {
            let Some(t) = store
                .registry()
                .preferred(&GroupResource::new(group, resource))
                .cloned()
            else {
                return Err(format!(
                    "{group}/{resource} is not served after installing the CRDs"
                ));
            };
            store
                .create(&t, "flux-system", obj, &WriteOptions::by("bench"))
                .map_err(|e| format!("flux object: {e:?}"))?;
        }
    }
    Ok(())
}
