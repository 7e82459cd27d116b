//! Argo CD Applications observed and driven by rekon, against the emulator loaded with the
//! Argo CD CRD fixtures: listing across namespaces, status mapping, the tree, the exact
//! patches of sync, refresh and terminate (read from the audit log), a sync followed live
//! with the simulated controller, the diff rendered by rekon's engine, projects and
//! ApplicationSets listed.

use crate::support::integrations::*;
use rekon::model::{Health, ManagedBy, OperationPhase, ResourceKey, SyncOptions, SyncStatus};
use rekon::runtime::{EngineCommand, ObservedCommand};
use serde_json::{Value, json};

fn deployment(image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "edge", "namespace": "edge",
            "annotations": {"argocd.argoproj.io/tracking-id": "edge:apps/Deployment:edge/edge"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "edge"}},
            "template": {"metadata": {"labels": {"app": "edge"}},
                "spec": {"containers": [{"name": "edge", "image": image}]}}}})
}

fn service() -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "edge", "namespace": "edge"},
        "spec": {"selector": {"app": "edge"}, "ports": [{"port": 80}]}})
}

fn application(name: &str, ns: &str, repo: &str, revision: &str) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
    "metadata": {"name": name, "namespace": ns},
    "spec": {"project": "default",
        "source": {"repoURL": repo, "targetRevision": "main", "path": "edge"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "edge"}},
    "status": {
        "sync": {"status": "OutOfSync", "revision": revision},
        "health": {"status": "Progressing", "message": "Deployment edge is rolling out"},
        "resources": [
            {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "edge", "name": "edge",
             "status": "OutOfSync", "health": {"status": "Progressing", "message": "rolling out"}},
            {"version": "v1", "kind": "Service", "namespace": "edge", "name": "edge", "status": "Synced",
             "health": {"status": "Healthy"}}],
        "conditions": [{"type": "SyncError", "message": "one or more objects failed"}],
        "operationState": {"phase": "Failed", "message": "one or more objects failed to apply",
            "startedAt": "2025-03-01T10:00:00Z", "finishedAt": "2025-03-01T10:00:05Z",
            "operation": {"initiatedBy": {"username": "alice"}, "sync": {"revision": revision}},
            "syncResult": {"revision": revision, "resources": [
                {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "edge", "name": "edge",
                 "status": "SyncFailed", "message": "admission webhook denied", "syncPhase": "Sync"}]}},
        "history": [{"id": 0, "revision": "0000000", "deployedAt": "2025-02-01T00:00:00Z"}]
    }})
}

#[tokio::test]
async fn lists_applications_of_all_namespaces_with_their_status() {
    let c = cluster("prod", false).await;
    put(
        &c,
        application(
            "edge",
            "argocd",
            "https://github.com/acme/edge.git",
            "abc123",
        ),
        "argocd-controller",
    )
    .await;
    let mut other = application("web", "team-a", "https://github.com/acme/web.git", "def456");
    other["status"]["sync"]["status"] = json!("Synced");
    other["status"]["health"] = json!({"status": "Healthy"});
    put(&c, other, "argocd-controller").await;
    put(&c, json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
        "metadata": {"name": "team-a", "namespace": "argocd"},
        "spec": {"sourceRepos": ["https://github.com/acme/*"],
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "team-a-*"}]}}), "argocd").await;
    put(
        &c,
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
        "metadata": {"name": "envs", "namespace": "argocd"},
        "spec": {"generators": [{"list": {"elements": []}}], "template": {}},
        "status": {"resources": [{"name": "envs-a"}, {"name": "envs-b"}]}}),
        "argocd",
    )
    .await;
    let (engine, _cache) = engine(vec![handle(&c)], false);
    let snap = wait_for(&engine, "both Applications", |s| {
        find(s, "argocd:argocd/edge").is_some() && find(s, "argocd:team-a/web").is_some()
    })
    .await;
    let edge = find(&snap, "argocd:argocd/edge").unwrap();
    assert_eq!(edge.managed_by, ManagedBy::Argocd);
    assert_eq!(edge.cluster, "prod");
    assert_eq!(
        (edge.sync, edge.health),
        (SyncStatus::OutOfSync, Health::Progressing)
    );
    assert_eq!(edge.revision.as_deref(), Some("abc123"));
    assert_eq!(edge.resources.len(), 2);
    assert_eq!(edge.resources[0].health, Some(Health::Progressing));
    assert_eq!(edge.resources[0].message, "rolling out");
    let op = edge.operation.as_ref().unwrap();
    assert_eq!(op.phase, OperationPhase::Failed);
    assert_eq!(op.steps[0].message, "admission webhook denied");
    assert_eq!(edge.message, "one or more objects failed to apply");
    let detail = edge.detail.as_ref().unwrap();
    assert_eq!(detail.conditions[0].kind, "SyncError");
    assert_eq!(detail.history[0].revision, "0000000");
    // Neither object exists: the tree shows them Missing under the app.
    assert_eq!(detail.tree.children.len(), 2);
    let web = find(&snap, "argocd:team-a/web").unwrap();
    assert_eq!(
        (web.sync, web.health),
        (SyncStatus::Synced, Health::Healthy)
    );

    let listed = ask(&engine, |reply| {
        EngineCommand::Observed(ObservedCommand::ArgoObjects { reply })
    })
    .await
    .unwrap();
    let names: Vec<(&str, &str)> = listed
        .iter()
        .map(|o| (o.kind.as_str(), o.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [("AppProject", "team-a"), ("ApplicationSet", "envs")]
    );
    assert!(
        listed[0].summary.contains("https://github.com/acme/*"),
        "{}",
        listed[0].summary
    );
    assert!(
        listed[1]
            .summary
            .contains("generators: list; 2 applications"),
        "{}",
        listed[1].summary
    );
}

#[tokio::test]
async fn sync_refresh_and_terminate_write_argo_cds_own_fields() {
    let c = cluster("prod", false).await;
    put(
        &c,
        application(
            "edge",
            "argocd",
            "https://github.com/acme/edge.git",
            "abc123",
        ),
        "argocd-controller",
    )
    .await;
    let (engine, _cache) = engine(vec![handle(&c)], false);
    wait_for(&engine, "the Application", |s| {
        find(s, "argocd:argocd/edge").is_some()
    })
    .await;

    let before = last_seq(&c);
    let options = SyncOptions {
        prune: true,
        dry_run: true,
        resources: vec![ResourceKey::new("apps", "Deployment", "edge", "edge")],
        revision: Some("v2".into()),
        ..SyncOptions::default()
    };
    engine
        .commands()
        .send(EngineCommand::Sync {
            app: "argocd:argocd/edge".into(),
            options,
            initiated_by: "tester@host".into(),
            reply: None,
        })
        .await
        .unwrap();
    let writes = wait_writes(&c, before, 1).await;
    assert_eq!(
        (
            writes[0].verb.as_str(),
            writes[0].resource.as_str(),
            writes[0].name.as_str()
        ),
        ("patch", "applications", "edge")
    );
    assert_eq!(writes[0].field_manager, "rekon");
    assert_eq!(writes[0].subresource, None);
    let after = get(&c, "argoproj.io/v1alpha1", "Application", "argocd", "edge").await;
    assert_eq!(
        after["operation"],
        json!({"initiatedBy": {"username": "tester@host"}, "sync": {
            "prune": true, "dryRun": true, "syncStrategy": {"hook": {}}, "revision": "v2",
            "resources": [{"group": "apps", "kind": "Deployment", "name": "edge", "namespace": "edge"}]}})
    );
    // The requested operation shows at once as running.
    wait_for(&engine, "the requested operation", |s| {
        find(s, "argocd:argocd/edge")
            .and_then(|a| a.operation.as_ref())
            .is_some_and(|o| o.phase == OperationPhase::Running)
    })
    .await;

    let before = last_seq(&c);
    engine
        .commands()
        .send(EngineCommand::Refresh {
            app: Some("argocd:argocd/edge@prod".into()),
            hard: true,
        })
        .await
        .unwrap();
    let writes = wait_writes(&c, before, 1).await;
    assert_eq!(
        (writes[0].verb.as_str(), writes[0].field_manager.as_str()),
        ("patch", "rekon")
    );
    let after = get(&c, "argoproj.io/v1alpha1", "Application", "argocd", "edge").await;
    assert_eq!(
        after["metadata"]["annotations"]["argocd.argoproj.io/refresh"],
        "hard"
    );

    let before = last_seq(&c);
    engine
        .commands()
        .send(EngineCommand::Terminate {
            app: "argocd:argocd/edge".into(),
        })
        .await
        .unwrap();
    let writes = wait_writes(&c, before, 1).await;
    assert_eq!(writes[0].verb, "patch");
    let after = get(&c, "argoproj.io/v1alpha1", "Application", "argocd", "edge").await;
    assert_eq!(after["status"]["operationState"]["phase"], "Terminating");

    // A second sync while one runs is refused, and nothing is written.
    let before = last_seq(&c);
    let refused = ask(&engine, |reply| EngineCommand::Sync {
        app: "argocd:argocd/edge".into(),
        options: SyncOptions::default(),
        initiated_by: "tester".into(),
        reply: Some(reply),
    })
    .await
    .unwrap_err();
    assert!(refused.contains("already in progress"), "{refused}");
    assert!(writes_after(&c, before).is_empty());
}

async fn wait_writes(
    c: &rekon_emulator::Cluster,
    after: u64,
    n: usize,
) -> Vec<rekon_emulator::AuditEntry> {
    for _ in 0..200 {
        let w = writes_after(c, after);
        if w.len() >= n {
            return w;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "expected {n} writes after audit entry {after}: {:?}",
        writes_after(c, after)
    );
}

#[tokio::test]
async fn a_sync_is_followed_until_argo_cd_reports_its_end() {
    let c = cluster("prod", true).await;
    put(
        &c,
        deployment("traefik/whoami:v1.10.3"),
        "argocd-controller",
    )
    .await;
    put(&c, service(), "argocd-controller").await;
    put(
        &c,
        application(
            "edge",
            "argocd",
            "https://github.com/acme/edge.git",
            "abc123",
        ),
        "argocd-controller",
    )
    .await;
    let (engine, _cache) = engine(vec![handle(&c)], false);
    wait_for(&engine, "the Application", |s| {
        find(s, "argocd:argocd/edge").is_some()
    })
    .await;
    let op = ask(&engine, |reply| EngineCommand::Sync {
        app: "argocd:argocd/edge".into(),
        options: SyncOptions {
            revision: Some("f00dfeed".into()),
            ..SyncOptions::default()
        },
        initiated_by: "tester".into(),
        reply: Some(reply),
    })
    .await
    .unwrap();
    assert_eq!(op.phase, OperationPhase::Succeeded, "{op:?}");
    assert_eq!(op.revision, "f00dfeed");
    assert_eq!(op.initiated_by, "tester");
    assert_eq!(op.steps.len(), 2);
    let snap = wait_for(&engine, "Synced and Healthy with pods in the tree", |s| {
        find(s, "argocd:argocd/edge").is_some_and(|a| {
            a.sync == SyncStatus::Synced
                && a.health == Health::Healthy
                && a.detail.as_ref().is_some_and(|d| {
                    d.tree.children.iter().any(|n| {
                        n.key.kind == "Deployment"
                            && n.children.iter().any(|rs| !rs.children.is_empty())
                    })
                })
        })
    })
    .await;
    let edge = find(&snap, "argocd:argocd/edge").unwrap();
    assert_eq!(edge.revision.as_deref(), Some("f00dfeed"));
    let detail = edge.detail.as_ref().unwrap();
    let deploy = detail
        .tree
        .children
        .iter()
        .find(|n| n.key.kind == "Deployment")
        .unwrap();
    assert_eq!(deploy.children[0].key.kind, "ReplicaSet");
    assert_eq!(deploy.children[0].children[0].key.kind, "Pod");
    assert_eq!(
        detail.history.last().map(|h| h.revision.as_str()),
        Some("0000000")
    );
    assert_eq!(detail.history[0].revision, "f00dfeed");
}

#[tokio::test]
async fn diff_renders_the_synced_revision_with_rekons_engine() {
    let Some(repo) = crate::support::source::Fixture::new() else {
        return;
    };
    let mut desired = deployment("traefik/whoami:v1.10.4");
    desired["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    repo.write("edge/deployment.yaml", rekon::yaml::to_string(&desired));
    let mut svc = service();
    svc["metadata"].as_object_mut().unwrap().remove("namespace");
    repo.write("edge/service.yaml", rekon::yaml::to_string(&svc));
    let sha = repo.commit("edge 1.10.4");
    let c = cluster("prod", false).await;
    put(
        &c,
        deployment("traefik/whoami:v1.10.3"),
        "argocd-controller",
    )
    .await;
    put(&c, service(), "argocd-controller").await;
    put(
        &c,
        application("edge", "argocd", &repo.path.display().to_string(), &sha),
        "argocd-controller",
    )
    .await;
    let (engine, _cache) = engine(vec![handle(&c)], false);
    wait_for(&engine, "the Application", |s| {
        find(s, "argocd:argocd/edge").is_some()
    })
    .await;
    let before = last_seq(&c);
    let diffs = ask(&engine, |reply| {
        EngineCommand::Observed(ObservedCommand::Diff {
            app: "argocd:argocd/edge".into(),
            reply,
        })
    })
    .await
    .unwrap();
    let kinds: Vec<&str> = diffs.iter().map(|d| d.key.kind.as_str()).collect();
    assert_eq!(kinds, ["Deployment"], "{diffs:#?}");
    let d = &diffs[0];
    assert!(d.desired.as_deref().unwrap().contains("whoami:v1.10.4"));
    assert!(d.live.as_deref().unwrap().contains("whoami:v1.10.3"));
    // Read only: dry runs at most.
    assert!(
        writes_after(&c, before).iter().all(|e| e.dry_run),
        "{:?}",
        writes_after(&c, before)
    );
    // The diff stays with the app for the diff view.
    wait_for(&engine, "the diff in the detail", |s| {
        find(s, "argocd:argocd/edge")
            .is_some_and(|a| a.detail.as_ref().is_some_and(|d| d.diffs.len() == 1))
    })
    .await;
}
