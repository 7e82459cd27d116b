//! Bad input, many kinds at once in one engine: each broken app gets one clear message
//! naming the culprit (file, line, path, revision, URL, kind), the good app beside them is
//! compared as usual, and a broken commit never costs the cluster anything (a sync with
//! prune is refused, nothing is deleted). The single-source cases have their own tests in
//! tests/source_*.rs; this file checks them together, through the engine.

use std::sync::Arc;

use crate::support::cluster::{TestCluster, wait_served};
use crate::support::reliability::{handle, quick};
use crate::support::sync::{Fixture, cm_yaml, create_namespace, obj, sync, wait_app};
use rekon::model::{AppSnapshot, Application, OperationPhase, SyncOptions, SyncStatus};
use rekon::runtime::{self, EngineCommand, EngineHandle, EngineOptions};
use rekon::source::Sources;
use rekon_emulator::ClusterOptions;
use serde_json::json;
use std::time::Duration;
use tempfile::TempDir;

fn app_at(name: &str, repo_url: &str, path: &str, revision: &str) -> Application {
    serde_json::from_value(json!({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "source": {"repoURL": repo_url, "path": path, "targetRevision": revision,
                "directory": {"recurse": true}},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
        }
    }))
    .unwrap()
}

fn start(cluster: &TestCluster, cache: &TempDir, apps: Vec<Application>) -> EngineHandle {
    runtime::start(EngineOptions {
        apps,
        clusters: vec![handle(cluster, quick(Duration::from_secs(5)))],
        sources: Arc::new(Sources::new(cache.path().join("repos"))),
        read_only: false,
        config_ignore: Vec::new(),
        refresh_every: None,
        projects: Vec::new(),
        auto_sync: false,
        skip_trees: false,
    })
}

async fn cluster() -> TestCluster {
    let c = TestCluster::start(ClusterOptions {
        controllers: false,
        ..ClusterOptions::default()
    })
    .await;
    create_namespace(&c, "shop").await;
    c
}

/// The app once every app was compared (or failed to be).
async fn settled(engine: &EngineHandle, name: &str) -> AppSnapshot {
    let snap = tokio::time::timeout(Duration::from_secs(120), engine.settled())
        .await
        .expect("the engine settles");
    snap.apps
        .iter()
        .find(|a| a.name == name)
        .cloned()
        .unwrap_or_else(|| panic!("no app {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_source_is_one_apps_clear_error_and_the_others_are_unaffected() {
    let Some(repo) = Fixture::new() else {
        return;
    };
    repo.write("good/cm.yaml", cm_yaml("good", "v1", ""));
    repo.write(
        "yaml/bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
    );
    repo.write(
        "nokind/cm.yaml",
        "apiVersion: v1\nmetadata:\n  name: nokind\ndata: {a: b}\n",
    );
    repo.write("dup/one.yaml", cm_yaml("same", "v1", ""));
    repo.write("dup/two.yaml", cm_yaml("same", "v2", ""));
    repo.write(
        "nocrd/widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec: {size: 3}\n",
    );
    // 50 MB of valid-looking YAML: refused by size, never read whole.
    let mut big = String::with_capacity(50 * 1024 * 1024 + 64);
    big.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    while big.len() < 50 * 1024 * 1024 {
        big.push_str(
            "  k: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        );
    }
    repo.write("big/huge.yaml", &big);
    drop(big);
    repo.write(
        "binary/blob.yaml",
        [0x7f, b'E', b'L', b'F', 0, 0, 1, 2, 0xff, 0xfe],
    );
    repo.symlink("loop/a.yaml", "b.yaml");
    repo.symlink("loop/b.yaml", "a.yaml");
    repo.commit("every kind of trouble");

    let url = repo.local_url();
    let apps = vec![
        app_at("good", &url, "good", "main"),
        app_at("yaml", &url, "yaml", "main"),
        app_at("nokind", &url, "nokind", "main"),
        app_at("dup", &url, "dup", "main"),
        app_at("nocrd", &url, "nocrd", "main"),
        app_at("big", &url, "big", "main"),
        app_at("binary", &url, "binary", "main"),
        app_at("loop", &url, "loop", "main"),
        app_at("climb", &url, "../..", "main"),
        app_at("absolute", &url, "/etc", "main"),
        app_at("badrev", &url, "good", "no-such-branch"),
        app_at("gone", "/no/such/repo", "x", "main"),
        app_at("scheme", "ftp://example.com/repo.git", "x", "main"),
    ];
    let c = cluster().await;
    let cache = TempDir::new().unwrap();
    let engine = start(&c, &cache, apps);

    let good = settled(&engine, "good").await;
    assert_eq!(good.sync, SyncStatus::OutOfSync, "{good:#?}");
    assert_eq!(good.resources.len(), 1);
    assert!(good.resources[0].message.contains("missing"), "{good:#?}");

    for (name, needles) in [
        ("yaml", vec!["yaml/bad.yaml:5:"]),
        ("nokind", vec!["nokind/cm.yaml:1", "no kind"]),
        ("dup", vec!["dup/one.yaml", "dup/two.yaml", "same"]),
        ("big", vec!["big/huge.yaml", "10 MB limit"]),
        ("binary", vec!["binary/blob.yaml", "binary"]),
        ("loop", vec!["loop/a.yaml", "symbolic link loop"]),
        ("climb", vec!["'../..'", "escapes the repository"]),
        ("absolute", vec!["'/etc'", "escapes the repository"]),
        ("badrev", vec!["unknown revision 'no-such-branch'"]),
        ("gone", vec!["cannot reach repository /no/such/repo"]),
        (
            "scheme",
            vec!["ftp://example.com/repo.git", "not supported"],
        ),
    ] {
        let app = settled(&engine, name).await;
        assert_eq!(app.sync, SyncStatus::Unknown, "{name}: {app:#?}");
        assert!(
            app.resources.is_empty(),
            "{name}: nothing rendered: {app:#?}"
        );
        let one_line = !app.message.contains('\n');
        assert!(one_line, "{name}: {}", app.message);
        for n in needles {
            assert!(
                app.message.contains(n),
                "{name}: {n:?} not in {:?}",
                app.message
            );
        }
    }

    // A kind whose CRD is absent renders, but is named as not served, never as applied.
    let nocrd = settled(&engine, "nocrd").await;
    let w = nocrd
        .resources
        .iter()
        .find(|r| r.kind == "Widget")
        .unwrap_or_else(|| panic!("{nocrd:#?}"));
    assert!(w.message.contains("CRD"), "{w:?}");
    let op = sync(&engine, "argocd/nocrd", SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(op.phase, OperationPhase::Failed, "{op:#?}");
    assert!(op.message.contains("Widget"), "{}", op.message);
    assert!(op.message.contains("CRD"), "{}", op.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_commit_costs_the_cluster_nothing() {
    let Some(repo) = Fixture::new() else {
        return;
    };
    repo.write("web/a.yaml", cm_yaml("a", "v1", ""));
    repo.write("web/b.yaml", cm_yaml("b", "v1", ""));
    repo.commit("two");
    let c = cluster().await;
    let cache = TempDir::new().unwrap();
    let engine = start(
        &c,
        &cache,
        vec![app_at("web", &repo.local_url(), "web", "main")],
    );
    wait_app(&engine, "argocd/web", "compared", |a| {
        a.resources.len() == 2
    })
    .await;
    let op = sync(&engine, "argocd/web", SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");

    // Someone commits a broken file: the app turns Unknown with the reason …
    repo.remove("web/b.yaml");
    repo.write(
        "web/a.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\n",
    );
    let head = repo.commit("oops");
    engine
        .commands()
        .send(EngineCommand::Refresh {
            app: None,
            hard: false,
        })
        .await
        .unwrap();
    let broken = wait_app(&engine, "argocd/web", "the broken commit", |a| {
        a.message.contains("web/a.yaml")
    })
    .await;
    assert_eq!(broken.sync, SyncStatus::Unknown);
    // … and a sync with prune is refused: nothing is deleted for a file that did not parse.
    let result = sync(
        &engine,
        "argocd/web",
        SyncOptions {
            prune: true,
            ..SyncOptions::default()
        },
    )
    .await;
    let refused = match result {
        Err(e) => e,
        Ok(op) => {
            assert_ne!(op.phase, OperationPhase::Succeeded, "{op:#?}");
            op.message
        }
    };
    assert!(refused.contains("web/a.yaml"), "{refused}");
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(c.client(), "shop");
    assert!(api.get("a").await.is_ok(), "a survived");
    assert!(api.get("b").await.is_ok(), "b survived");
    let deletes: Vec<_> = c
        .audit()
        .into_iter()
        .filter(|e| e.verb == "delete")
        .collect();
    assert!(deletes.is_empty(), "{deletes:?}");
    let _ = head;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crd_installed_by_hand_is_found_by_a_hard_refresh() {
    let Some(repo) = Fixture::new() else {
        return;
    };
    repo.write(
        "widgets/widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec: {size: 3}\n",
    );
    repo.commit("a widget");
    let c = cluster().await;
    let cache = TempDir::new().unwrap();
    let engine = start(
        &c,
        &cache,
        vec![app_at("widgets", &repo.local_url(), "widgets", "main")],
    );
    let before = settled(&engine, "widgets").await;
    let w = before.resources.iter().find(|r| r.kind == "Widget");
    assert!(w.is_some_and(|w| w.message.contains("CRD")), "{before:#?}");

    // Someone installs the CRD with kubectl while rekon runs …
    crate::support::sync::apply_as(
        &c,
        "kubectl",
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}}),
    )
    .await;
    wait_served(&c, &obj("example.com/v1", "Widget", "shop", "")).await;
    // … and a hard refresh finds the kind: the Widget is simply missing from the cluster.
    engine
        .commands()
        .send(EngineCommand::Refresh {
            app: Some("argocd/widgets".into()),
            hard: true,
        })
        .await
        .unwrap();
    let after = wait_app(&engine, "argocd/widgets", "the Widget compared", |a| {
        a.resources
            .iter()
            .any(|r| r.kind == "Widget" && !r.message.contains("CRD"))
    })
    .await;
    let w = after.resources.iter().find(|r| r.kind == "Widget").unwrap();
    assert_eq!(w.sync, SyncStatus::OutOfSync, "{w:?}");
    let op = sync(&engine, "argocd/widgets", SyncOptions::default())
        .await
        .unwrap();
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:#?}");
}
