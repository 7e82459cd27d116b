//! kubectl apply (server-side and client-side), diff, field-manager conflicts, CRDs, the corpus.

use super::*;

fn header(table: &str) -> Vec<&str> {
    table
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_side_apply_of_mixed_kinds_then_tables_and_yaml() {
    require_kubectl!();
    let e = env().await;
    let mixed = fixture("mixed.yaml");
    let out = e.ok(&["apply", "--server-side", "-f", &mixed]).await;
    assert_eq!(
        out.lines()
            .filter(|l| l.ends_with(" serverside-applied"))
            .count(),
        16,
        "{out}"
    );

    let version = e.ok(&["version"]).await;
    assert!(version.contains("Server Version: v1.33"), "{version}");
    let deploy = e.ok(&["get", "deploy", "-n", "shop"]).await;
    assert_eq!(
        header(&deploy),
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    assert!(
        deploy.lines().nth(1).unwrap().starts_with("web "),
        "{deploy}"
    );
    let svc = e.ok(&["get", "svc", "web", "-n", "shop"]).await;
    assert_eq!(
        header(&svc),
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    assert!(
        svc.contains("ClusterIP") && svc.contains("10.96.") && svc.contains("80/TCP"),
        "{svc}"
    );
    let cm = e.ok(&["get", "cm", "-n", "shop", "web-config"]).await;
    assert_eq!(header(&cm), ["NAME", "DATA", "AGE"]);
    assert!(cm.contains("web-config   2"), "{cm}");
    let wide = e.ok(&["get", "deploy", "-n", "shop", "-o", "wide"]).await;
    assert!(
        wide.contains("nginx:1.27") && wide.contains("app=web"),
        "{wide}"
    );
    let all = e.ok(&["get", "all", "-n", "shop"]).await;
    for kind in [
        "service/web",
        "deployment.apps/web",
        "statefulset.apps/db",
        "daemonset.apps/agent",
        "cronjob.batch/report",
        "horizontalpodautoscaler.autoscaling/web",
    ] {
        assert!(all.contains(kind), "get all lacks {kind}: {all}");
    }
    let short = e
        .ok(&["get", "sa,pvc,ing,pdb,role,rolebinding", "-n", "shop"])
        .await;
    for name in [
        "serviceaccount/web",
        "persistentvolumeclaim/data",
        "ingress.networking.k8s.io/web",
        "poddisruptionbudget.policy/web",
        "role.rbac.authorization.k8s.io/reader",
    ] {
        assert!(short.contains(name), "{short}");
    }

    let yaml = e
        .ok(&["get", "cm", "web-config", "-n", "shop", "-o", "yaml"])
        .await;
    assert!(
        yaml.contains("color: blue") && yaml.contains("resourceVersion:"),
        "{yaml}"
    );
    assert!(!yaml.contains("managedFields"), "hidden unless asked");
    let managed = e
        .ok(&[
            "get",
            "cm",
            "web-config",
            "-n",
            "shop",
            "-o",
            "yaml",
            "--show-managed-fields",
        ])
        .await;
    assert!(
        managed.contains("manager: kubectl") && managed.contains("operation: Apply"),
        "{managed}"
    );
    let nodes = e.ok(&["get", "nodes"]).await;
    assert_eq!(
        nodes.lines().filter(|l| l.contains(" Ready ")).count(),
        3,
        "{nodes}"
    );
    let ns = e.ok(&["get", "ns"]).await;
    for n in ["default", "kube-system", "kube-public", "shop"] {
        assert!(
            ns.lines()
                .any(|l| l.starts_with(&format!("{n} ")) && l.contains("Active")),
            "{ns}"
        );
    }
    let jsonpath = e
        .ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "shop",
            "-o",
            "jsonpath={.metadata.generation}",
        ])
        .await;
    assert_eq!(jsonpath, "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_server_side_is_clean_after_apply_and_shows_changes() {
    require_kubectl!();
    let e = env().await;
    let mixed = fixture("mixed.yaml");
    e.ok(&["apply", "--server-side", "-f", &mixed]).await;
    let generation_before = e
        .ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "shop",
            "-o",
            "jsonpath={.metadata.generation}",
        ])
        .await;
    let clean = e.kubectl(&["diff", "--server-side", "-f", &mixed]).await;
    assert_eq!(clean.code, 0, "{clean:?}");
    let changed_text = std::fs::read_to_string(&mixed)
        .unwrap()
        .replace("replicas: 2", "replicas: 4");
    let changed = e.dir.path().join("changed.yaml");
    std::fs::write(&changed, changed_text).unwrap();
    let dirty = e
        .kubectl(&["diff", "--server-side", "-f", changed.to_str().unwrap()])
        .await;
    assert_eq!(dirty.code, 1, "{dirty:?}");
    assert!(
        dirty.stdout.contains("-  replicas: 2") && dirty.stdout.contains("+  replicas: 4"),
        "{dirty:?}"
    );
    let changed_lines: Vec<&str> = dirty
        .stdout
        .lines()
        .filter(|l| l.starts_with("-  ") || l.starts_with("+  "))
        .collect();
    assert!(
        !changed_lines
            .iter()
            .any(|l| l.contains("resourceVersion") || l.contains("Timestamp")),
        "{dirty:?}"
    );
    let generation_after = e
        .ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "shop",
            "-o",
            "jsonpath={.metadata.generation}",
        ])
        .await;
    // The generation, not the resourceVersion: the simulated controllers keep writing the
    // Deployment's status meanwhile. The audit below shows every write was a dry run.
    assert_eq!(generation_before, generation_after, "diff wrote nothing");
    assert!(
        e.cluster
            .audit()
            .iter()
            .filter(|a| a.verb == "patch" && a.name == "web" && a.resource == "deployments")
            .all(|a| a.dry_run || a.field_manager == "kubectl")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_apply_creates_configures_and_leaves_unchanged() {
    require_kubectl!();
    let e = env().await;
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: csa\n  namespace: default\ndata:\n  a: \"1\"\n";
    let o = e.kubectl_with(&["apply", "-f", "-"], Some(cm)).await;
    assert_eq!(
        (o.code, o.stdout.trim()),
        (0, "configmap/csa created"),
        "{o:?}"
    );
    let o = e.kubectl_with(&["apply", "-f", "-"], Some(cm)).await;
    assert_eq!(
        (o.code, o.stdout.trim()),
        (0, "configmap/csa unchanged"),
        "{o:?}"
    );
    let o = e.kubectl_with(&["diff", "-f", "-"], Some(cm)).await;
    assert_eq!(o.code, 0, "{o:?}");
    let changed = cm.replace("\"1\"", "\"2\"");
    let o = e.kubectl_with(&["apply", "-f", "-"], Some(&changed)).await;
    assert_eq!(
        (o.code, o.stdout.trim()),
        (0, "configmap/csa configured"),
        "{o:?}"
    );
    let a = e
        .ok(&["get", "cm", "csa", "-o", "jsonpath={.data.a}"])
        .await;
    assert_eq!(a, "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_field_managers_and_force_conflicts() {
    require_kubectl!();
    let e = env().await;
    let cm = |v: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: default\ndata:\n  key: \"{v}\"\n"
        )
    };
    let o = e
        .kubectl_with(
            &["apply", "--server-side", "--field-manager=alice", "-f", "-"],
            Some(&cm("a")),
        )
        .await;
    assert_eq!(o.code, 0, "{o:?}");
    let o = e
        .kubectl_with(
            &["apply", "--server-side", "--field-manager=bob", "-f", "-"],
            Some(&cm("b")),
        )
        .await;
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr.contains("conflict")
            && o.stderr.contains("alice")
            && o.stderr.contains(".data.key"),
        "{o:?}"
    );
    assert!(o.stderr.contains("--force-conflicts"), "{o:?}");
    let o = e
        .kubectl_with(
            &[
                "apply",
                "--server-side",
                "--field-manager=bob",
                "--force-conflicts",
                "-f",
                "-",
            ],
            Some(&cm("b")),
        )
        .await;
    assert_eq!(o.code, 0, "{o:?}");
    let v = e
        .ok(&["get", "cm", "shared", "-o", "jsonpath={.data.key}"])
        .await;
    assert_eq!(v, "b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crds_serve_their_objects_at_once() {
    require_kubectl!();
    let e = env().await;
    let out = e
        .ok(&["apply", "--server-side", "-f", &fixture("gadget-crd.yaml")])
        .await;
    assert!(
        out.contains("gadgets.demo.rekon.dev serverside-applied"),
        "{out}"
    );
    e.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/gadgets.demo.rekon.dev",
        "--timeout=30s",
    ])
    .await;
    let out = e
        .ok(&["apply", "--server-side", "-f", &fixture("gadgets.yaml")])
        .await;
    assert!(
        out.contains("gadget.demo.rekon.dev/blue-one serverside-applied"),
        "{out}"
    );
    let table = e.ok(&["get", "gdg"]).await;
    assert_eq!(header(&table), ["NAME", "COLOR", "READY", "AGE"]);
    assert!(
        table.lines().nth(1).unwrap().starts_with("blue-one"),
        "{table}"
    );
    assert!(table.contains("blue"), "{table}");
    let all = e.ok(&["get", "all"]).await;
    assert!(
        all.contains("gadget.demo.rekon.dev/blue-one"),
        "category all: {all}"
    );
    let beta = e
        .ok(&[
            "get",
            "gadgets.v1beta1.demo.rekon.dev",
            "blue-one",
            "-o",
            "jsonpath={.apiVersion}",
        ])
        .await;
    assert_eq!(beta, "demo.rekon.dev/v1beta1");
    let sprockets = e.ok(&["get", "sprockets"]).await;
    assert!(sprockets.contains("big"), "{sprockets}");
    let resources = e.ok(&["api-resources", "--api-group=demo.rekon.dev"]).await;
    assert!(
        resources.contains("gadgets")
            && resources.contains("gdg")
            && resources.contains("sprockets"),
        "{resources}"
    );
    let status = e
        .ok(&[
            "patch",
            "gadget",
            "blue-one",
            "--subresource=status",
            "--type=merge",
            "-p",
            "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
        ])
        .await;
    assert!(status.contains("patched"), "{status}");
    let table = e.ok(&["get", "gadget", "blue-one"]).await;
    assert!(
        table.lines().nth(1).unwrap().split_whitespace().nth(2) == Some("True"),
        "{table}"
    );
    e.ok(&["delete", "-f", &fixture("gadget-crd.yaml"), "--wait"])
        .await;
    let gone = e.kubectl(&["get", "gadgets.demo.rekon.dev"]).await;
    assert_ne!(gone.code, 0, "{gone:?}");
}

/// Opt-in: the real Argo CD and Flux CRDs and the corpus manifests (`REKON_CORPUS=dir`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "opt-in: REKON_CORPUS=../shared/corpus cargo test corpus -- --ignored"]
async fn corpus_crds_and_manifests_apply() {
    let corpus = std::env::var_os("REKON_CORPUS")
        .map(PathBuf::from)
        .expect("set REKON_CORPUS to the shared corpus to run this test");
    require_kubectl!();
    let e = env().await;
    for dir in ["crds/argocd", "crds/flux"] {
        let p = corpus.join(dir);
        let out = e
            .ok(&["apply", "--server-side", "-f", p.to_str().unwrap()])
            .await;
        assert!(
            out.lines().all(|l| l.ends_with("serverside-applied")),
            "{out}"
        );
    }
    let crds = e.ok(&["get", "crd", "-o", "name"]).await;
    assert_eq!(crds.lines().count(), 12, "{crds}");
    for k in [
        "podinfo/deploy/overlays/production",
        "argocd-example-apps/sock-shop",
        "flux2-kustomize-helm-example/apps/production",
    ] {
        let p = corpus.join(k);
        let out = e
            .ok(&["apply", "--server-side", "-k", p.to_str().unwrap()])
            .await;
        assert!(!out.is_empty());
        let diff = e
            .kubectl(&["diff", "--server-side", "-k", p.to_str().unwrap()])
            .await;
        assert_eq!(diff.code, 0, "{k}: {diff:?}");
    }
    let hr = e.ok(&["get", "helmreleases", "-A"]).await;
    assert!(hr.contains("podinfo"), "{hr}");
}
