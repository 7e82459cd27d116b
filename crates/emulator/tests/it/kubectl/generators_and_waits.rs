//! kubectl create generators (sent as protobuf), delete --wait, get -w, rollout status.

use super::*;

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
