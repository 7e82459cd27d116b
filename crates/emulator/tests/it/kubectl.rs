//! The real kubectl against the emulator over HTTP: server-side apply with default
//! validation, tables, YAML, diff, client-side apply, delete --wait, get -w, CRDs. Each test
//! writes its own kubeconfig and discovery cache.
//!
//! kubectl missing: the tests fail when `CI=true`, otherwise they skip with a reason.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rekon_emulator::{Cluster, ClusterOptions};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::support::{fixture, require_kubectl};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "rc={}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

struct Env {
    cluster: Cluster,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

async fn env() -> Env {
    let cluster = Cluster::start(ClusterOptions {
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..ClusterOptions::default()
    })
    .await
    .expect("cluster starts");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    cluster.write_kubeconfig(&kubeconfig, "emu").unwrap();
    Env {
        cluster,
        dir,
        kubeconfig,
    }
}

fn kubectl_command(kubeconfig: &Path, cache: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("kubectl");
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .args(args)
        .env_remove("KUBECONFIG")
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

impl Env {
    async fn kubectl_with(&self, args: &[&str], input: Option<&str>) -> Out {
        let mut child = kubectl_command(&self.kubeconfig, &self.dir.path().join("cache"), args)
            .spawn()
            .expect("kubectl starts");
        let mut stdin = child.stdin.take().unwrap();
        if let Some(text) = input {
            stdin.write_all(text.as_bytes()).await.unwrap();
        }
        drop(stdin);
        let o = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
            .await
            .expect("kubectl finishes")
            .unwrap();
        Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    async fn kubectl(&self, args: &[&str]) -> Out {
        self.kubectl_with(args, None).await
    }

    async fn ok(&self, args: &[&str]) -> String {
        let o = self.kubectl(args).await;
        assert_eq!(o.code, 0, "kubectl {args:?}: {o:?}");
        o.stdout
    }
}

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
async fn delete_wait_returns_once_objects_are_gone() {
    require_kubectl!();
    let e = env().await;
    let mixed = fixture("mixed.yaml");
    e.ok(&["apply", "--server-side", "-f", &mixed]).await;
    let out = e
        .ok(&["delete", "deploy", "web", "-n", "shop", "--wait"])
        .await;
    // kubectl 1.33 and later add " from shop namespace".
    assert!(
        out.trim().starts_with("deployment.apps \"web\" deleted"),
        "{out}"
    );
    let gone = e.kubectl(&["get", "deploy", "web", "-n", "shop"]).await;
    assert_eq!(gone.code, 1);
    assert!(
        gone.stderr.contains("NotFound") && gone.stderr.contains("\"web\" not found"),
        "{gone:?}"
    );
    // A finalizer holds the object; delete --wait waits until it is lifted.
    let held = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: shop\n  finalizers: [example.com/hold]\n";
    e.kubectl_with(&["apply", "--server-side", "-f", "-"], Some(held))
        .await;
    let mut child = kubectl_command(
        &e.kubeconfig,
        &e.dir.path().join("cache"),
        &[
            "delete",
            "cm",
            "held",
            "-n",
            "shop",
            "--wait",
            "--timeout=60s",
        ],
    )
    .spawn()
    .unwrap();
    let store = e.cluster.store().clone();
    let marked = async {
        let gr = rekon_emulator::GroupResource::new("", "configmaps");
        loop {
            if store
                .get_stored(&gr, "shop", "held")
                .is_some_and(|s| s.object.pointer("/metadata/deletionTimestamp").is_some())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), marked)
        .await
        .expect("marked for deletion");
    assert!(
        child.try_wait().unwrap().is_none(),
        "kubectl waits while the finalizer holds"
    );
    e.ok(&[
        "patch",
        "cm",
        "held",
        "-n",
        "shop",
        "--type=merge",
        "-p",
        "{\"metadata\":{\"finalizers\":null}}",
    ])
    .await;
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    // Whole namespaces go too.
    let out = e.ok(&["delete", "ns", "shop", "--wait"]).await;
    assert_eq!(out.trim(), "namespace \"shop\" deleted");
    assert_eq!(e.kubectl(&["get", "ns", "shop"]).await.code, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_sees_a_change() {
    require_kubectl!();
    let e = env().await;
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\n  namespace: default\ndata:\n  a: \"1\"\n";
    e.kubectl_with(&["apply", "--server-side", "-f", "-"], Some(cm))
        .await;
    let mut child = kubectl_command(
        &e.kubeconfig,
        &e.dir.path().join("cache"),
        &["get", "cm", "watched", "-w", "--output-watch-events"],
    )
    .spawn()
    .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    };
    let head = next().await;
    assert_eq!(
        head.split_whitespace().collect::<Vec<_>>(),
        ["EVENT", "NAME", "DATA", "AGE"]
    );
    assert!(next().await.starts_with("ADDED "));
    e.ok(&[
        "patch",
        "cm",
        "watched",
        "--type=merge",
        "-p",
        "{\"data\":{\"b\":\"2\"}}",
    ])
    .await;
    let change = next().await;
    let cells: Vec<&str> = change.split_whitespace().collect();
    assert_eq!(cells[..3], ["MODIFIED", "watched", "2"], "{change}");
    child.kill().await.unwrap();
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

/// Drops what the server adds (or the client leaves out) so that a stored object compares
/// with `--dry-run=client` output.
fn comparable(mut v: serde_json::Value) -> serde_json::Value {
    fn clean(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                m.retain(|k, x| !(k == "creationTimestamp" && x.is_null()));
                m.values_mut().for_each(clean);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(clean),
            _ => {}
        }
    }
    if let Some(m) = v.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        for k in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "managedFields",
            "generation",
            "namespace",
        ] {
            m.remove(k);
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    if v["kind"] == "Service"
        && let Some(spec) = v.get_mut("spec").and_then(|s| s.as_object_mut())
    {
        for k in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
            spec.remove(k);
        }
        for p in spec
            .get_mut("ports")
            .and_then(|p| p.as_array_mut())
            .into_iter()
            .flatten()
        {
            if let Some(p) = p.as_object_mut() {
                p.remove("nodePort");
            }
        }
    }
    clean(&mut v);
    v
}

/// Whether `outer` holds everything in `inner` (objects key by key, lists item by item).
fn contains(outer: &serde_json::Value, inner: &serde_json::Value) -> bool {
    use serde_json::Value::{Array, Object};
    match (outer, inner) {
        (Object(o), Object(i)) => i
            .iter()
            .all(|(k, v)| o.get(k).is_some_and(|ov| contains(ov, v))),
        (Array(o), Array(i)) => o.len() == i.len() && o.iter().zip(i).all(|(a, b)| contains(a, b)),
        (a, b) => a == b,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_create_generators_send_protobuf_that_is_decoded_faithfully() {
    require_kubectl!();
    let e = env().await;
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &["create", "configmap", "g-cm", "--from-literal=a=1"],
            &[],
            &["cm", "g-cm"],
        ),
        (
            &[
                "create",
                "secret",
                "generic",
                "g-sec",
                "--from-literal=pw=hunter2",
            ],
            &[],
            &["secret", "g-sec"],
        ),
        (&["create", "serviceaccount", "g-sa"], &[], &["sa", "g-sa"]),
        (
            &[
                "create",
                "deployment",
                "g-dep",
                "--image=nginx:1.27",
                "--replicas=3",
                "--port=80",
            ],
            &[],
            &["deploy", "g-dep"],
        ),
        (
            &["create", "service", "nodeport", "g-np", "--tcp=80:8080"],
            &[],
            &["svc", "g-np"],
        ),
        (
            &["create", "job", "g-job", "--image=busybox"],
            &["--", "echo", "hi"],
            &["job", "g-job"],
        ),
        (
            &[
                "create",
                "cronjob",
                "g-cj",
                "--image=busybox",
                "--schedule=*/5 * * * *",
            ],
            &["--", "date"],
            &["cj", "g-cj"],
        ),
        (
            &[
                "create",
                "role",
                "g-role",
                "--verb=get,list",
                "--resource=pods",
            ],
            &[],
            &["role", "g-role"],
        ),
        (
            &[
                "create",
                "rolebinding",
                "g-rb",
                "--role=g-role",
                "--serviceaccount=default:g-sa",
            ],
            &[],
            &["rolebinding", "g-rb"],
        ),
        (
            &[
                "create",
                "ingress",
                "g-ing",
                "--rule=shop.example.com/*=g-np:80,tls=cert",
            ],
            &[],
            &["ing", "g-ing"],
        ),
        (
            &[
                "create",
                "poddisruptionbudget",
                "g-pdb",
                "--selector=app=web",
                "--min-available=1",
            ],
            &[],
            &["pdb", "g-pdb"],
        ),
        (
            &[
                "run",
                "g-pod",
                "--image=nginx",
                "--port=80",
                "--env=A=b",
                "--restart=Never",
            ],
            &[],
            &["pod", "g-pod"],
        ),
    ];
    for (args, tail, get) in cases {
        let dry_args: Vec<&str> = args
            .iter()
            .chain(["--dry-run=client", "-o", "json"].iter())
            .chain(tail.iter())
            .copied()
            .collect();
        let dry: serde_json::Value = serde_json::from_str(&e.ok(&dry_args).await).unwrap();
        let real_args: Vec<&str> = args.iter().chain(tail.iter()).copied().collect();
        e.ok(&real_args).await;
        let get_args: Vec<&str> = ["get"]
            .iter()
            .chain(get.iter())
            .chain(["-o", "json"].iter())
            .copied()
            .collect();
        let stored: serde_json::Value = serde_json::from_str(&e.ok(&get_args).await).unwrap();
        let (stored, dry) = (comparable(stored), comparable(dry));
        // The server adds its defaults; everything kubectl sent must be there as sent.
        assert!(
            contains(&stored, &dry),
            "kubectl {args:?}\nstored: {stored}\nsent:   {dry}"
        );
    }
    let out = e.ok(&["create", "namespace", "made-by-create"]).await;
    assert_eq!(out.trim(), "namespace/made-by-create created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_status_completes_and_delete_wait_collects_replicasets_and_pods() {
    require_kubectl!();
    let e = env().await;
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: default\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n";
    let o = e
        .kubectl_with(&["apply", "--server-side", "-f", "-"], Some(deployment))
        .await;
    assert_eq!(o.code, 0, "{o:?}");
    // The simulated controllers roll it out: kubectl's own rollout check must be satisfied.
    let out = e
        .ok(&["rollout", "status", "deployment/web", "--timeout=90s"])
        .await;
    assert!(out.contains("successfully rolled out"), "{out}");
    let pods = e.ok(&["get", "pods", "-l", "app=web"]).await;
    assert_eq!(
        pods.lines().filter(|l| l.contains("Running")).count(),
        2,
        "{pods}"
    );
    assert!(e.ok(&["get", "replicasets"]).await.contains("web-"));

    // Deleting it garbage-collects its ReplicaSet and Pods.
    e.ok(&[
        "delete",
        "deployment",
        "web",
        "--wait",
        "--cascade=foreground",
    ])
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let rs = e.kubectl(&["get", "replicasets,pods", "-o", "name"]).await;
        if rs.stdout.trim().is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not collected: {}",
            rs.stdout
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
