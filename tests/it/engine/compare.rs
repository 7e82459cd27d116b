//! The compare engine against the test's cluster: sync status, drift of one field, masked
//! Secret changes, ignoreDifferences, missing and extra objects, CRDs, bad sources.

use crate::support::cluster::wait_served;
use crate::support::engine::{World, app, wait_for};
use crate::support::source::Fixture;
use crate::support::sync::obj;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use rekon::cluster::ApiCatalog;
use rekon::cluster::apply::{ApplyOptions, apply};
use rekon::engine::tracking;
use rekon::model::{Health, SyncStatus};
use serde_json::json;

const SECRET_VALUE: &str = "s3cr3t-planted-value";

fn web_files(f: &Fixture) {
    f.write(
        "apps/web/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n          ports: [{containerPort: 80}]\n",
    );
    f.write(
        "apps/web/svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n",
    );
    f.write(
        "apps/web/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  greeting: hello\n  color: blue\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\nstringData:\n  token: first-token-value\n",
    );
    f.commit("web app");
}

#[tokio::test]
async fn missing_then_synced_then_one_field_of_drift() {
    let Some(w) = World::new().await else { return };
    web_files(&w.fixture);
    let app_def = w.app("web", "apps/web", "");
    let engine = w.engine(vec![app_def.clone()]);

    let s = wait_for(&engine, "first compare", |_| true).await;
    let a = app(&s, "web");
    assert_eq!(a.sync, SyncStatus::OutOfSync, "{a:#?}");
    assert_eq!(a.health, Health::Missing, "{a:#?}");
    assert_eq!(a.resources.len(), 4);
    assert_eq!(a.revision.as_deref().map(str::len), Some(40));

    w.apply_app(&app_def).await;
    let s = wait_for(&engine, "Synced after apply", |s| {
        app(s, "web").sync == SyncStatus::Synced
    })
    .await;
    let a = app(&s, "web");
    assert!(
        a.resources.iter().all(|r| r.sync == SyncStatus::Synced),
        "{a:#?}"
    );
    let detail = a.detail.as_ref().unwrap();
    assert_eq!(detail.compare_method, "server-side dry run");
    assert!(detail.diffs.is_empty());

    // Someone edits one field by hand: exactly that field shows.
    let cms: Api<DynamicObject> = Api::namespaced_with(
        w.cluster.client(),
        "web",
        &kube::discovery::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
    );
    cms.patch(
        "web-config",
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &Patch::Merge(json!({"data": {"color": "red"}})),
    )
    .await
    .unwrap();
    let s = wait_for(&engine, "OutOfSync after edit", |s| {
        app(s, "web").sync == SyncStatus::OutOfSync
    })
    .await;
    let a = app(&s, "web");
    let out: Vec<_> = a
        .resources
        .iter()
        .filter(|r| r.sync == SyncStatus::OutOfSync)
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(out, ["web-config"]);
    let diffs = &a.detail.as_ref().unwrap().diffs;
    assert_eq!(diffs.len(), 1);
    let unified = rekon::engine::diff::render_unified(diffs, 3);
    let changed: Vec<&str> = unified
        .lines()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .collect();
    assert_eq!(changed, ["-  color: red", "+  color: blue"], "{unified}");
}

/// `rekon run` never shows a tree: its engine keeps only the root, and
/// everything else (rows, resources, the timeline of the objects below) stays the same.
#[tokio::test]
async fn an_engine_without_trees_keeps_the_root_and_the_same_rows_and_timeline() {
    let Some(w) = World::new().await else { return };
    web_files(&w.fixture);
    let app_def = w.app("web", "apps/web", "");
    w.apply_app(&app_def).await;
    let full = w.engine(vec![app_def.clone()]);
    let slim = w.engine_with(vec![app_def], true);
    let has_pod_events = |s: &rekon::model::Snapshot| {
        app(s, "web").detail.as_ref().is_some_and(|d| {
            d.timeline.iter().any(|e| {
                e.kind == rekon::model::TimelineKind::Event
                    && e.object.as_ref().is_some_and(|o| o.kind == "Pod")
            })
        })
    };
    let settled = |s: &rekon::model::Snapshot| {
        let a = app(s, "web");
        a.sync == SyncStatus::Synced && a.health == Health::Healthy && has_pod_events(s)
    };
    let f = wait_for(&full, "Synced, Healthy, Pod events", settled).await;
    let s = wait_for(&slim, "Synced, Healthy, Pod events", settled).await;
    let (fa, sa) = (app(&f, "web"), app(&s, "web"));
    assert_eq!(fa.resources, sa.resources);
    assert_eq!(fa.message, sa.message);
    let (fd, sd) = (fa.detail.as_ref().unwrap(), sa.detail.as_ref().unwrap());
    assert!(fd.tree.len() > 5, "{:#?}", fd.tree);
    assert_eq!(sd.tree.len(), 1, "{:#?}", sd.tree);
    assert_eq!(sd.tree.key, fd.tree.key);
    assert_eq!(sd.tree.health, fd.tree.health);
    assert_eq!(sd.conditions, fd.conditions);
}

#[tokio::test]
async fn a_changed_secret_shows_masked_and_never_its_value() {
    let Some(w) = World::new().await else { return };
    web_files(&w.fixture);
    let app_def = w.app("web", "apps/web", "");
    w.apply_app(&app_def).await;
    // Git rotates the token to the planted value.
    w.fixture.write(
        "apps/web/config.yaml",
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  greeting: hello\n  color: blue\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: web-secret\nstringData:\n  token: {SECRET_VALUE}\n"),
    );
    w.fixture.commit("rotate token");
    let engine = w.engine(vec![app_def]);
    let s = wait_for(&engine, "compare", |_| true).await;
    let a = app(&s, "web");
    let secret = a.resources.iter().find(|r| r.kind == "Secret").unwrap();
    assert_eq!(secret.sync, SyncStatus::OutOfSync, "{a:#?}");
    let diffs = &a.detail.as_ref().unwrap().diffs;
    let unified = rekon::engine::diff::render_unified(diffs, 3);
    assert!(unified.contains("++++++++"), "{unified}");
    let encoded = rekon::engine::normalize::base64_encode(SECRET_VALUE.as_bytes());
    let everything = format!(
        "{unified}{}{}{:?}",
        serde_json::to_string(&s.apps).unwrap(),
        serde_json::to_string(&rekon::engine::diff::to_json(diffs, 3)).unwrap(),
        a.detail
    );
    for needle in [SECRET_VALUE, encoded.as_str(), "first-token-value"] {
        assert!(!everything.contains(needle), "{needle} leaked");
    }
}

#[tokio::test]
async fn ignore_differences_hide_a_field_and_extra_tracked_objects_need_pruning() {
    let Some(w) = World::new().await else { return };
    web_files(&w.fixture);
    let app_def = w.app(
        "web",
        "apps/web",
        "  ignoreDifferences:\n    - group: apps\n      kind: Deployment\n      jsonPointers: [/spec/replicas]\n",
    );
    w.apply_app(&app_def).await;
    let deploys: Api<DynamicObject> = Api::namespaced_with(
        w.cluster.client(),
        "web",
        &kube::discovery::ApiResource::erase::<k8s_openapi::api::apps::v1::Deployment>(&()),
    );
    deploys
        .patch(
            "web",
            &PatchParams {
                field_manager: Some("hpa".into()),
                ..Default::default()
            },
            &Patch::Merge(json!({"spec": {"replicas": 5}})),
        )
        .await
        .unwrap();
    // The Service leaves Git: the live one is tracked by this app, so it must be pruned.
    w.fixture.remove("apps/web/svc.yaml");
    w.fixture.commit("drop service");
    let engine = w.engine(vec![app_def]);
    let s = wait_for(&engine, "compare", |_| true).await;
    let a = app(&s, "web");
    let deploy = a.resources.iter().find(|r| r.kind == "Deployment").unwrap();
    assert_eq!(deploy.sync, SyncStatus::Synced, "replicas ignored: {a:#?}");
    let svc = a.resources.iter().find(|r| r.kind == "Service").unwrap();
    assert!(svc.requires_pruning);
    assert_eq!(svc.sync, SyncStatus::OutOfSync);
    assert_eq!(a.sync, SyncStatus::OutOfSync);
}

#[tokio::test]
async fn a_crd_and_its_objects_in_one_app() {
    let Some(w) = World::new().await else { return };
    w.fixture.write(
        "apps/widgets/crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets, singular: widget}\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}\n",
    );
    w.fixture.write(
        "apps/widgets/widget.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: blue\nspec:\n  size: 3\n",
    );
    w.fixture.commit("widgets");
    let app_def = w.app("widgets", "apps/widgets", "");
    // Before the CRD exists, the Widget is simply missing (the app defines its CRD).
    let engine = w.engine(vec![app_def.clone()]);
    let s = wait_for(&engine, "compare", |_| true).await;
    let a = app(&s, "widgets");
    assert_eq!(a.sync, SyncStatus::OutOfSync, "{a:#?}");
    assert!(a.resources.iter().all(|r| r.sync == SyncStatus::OutOfSync));
    drop(engine);
    // After applying the CRD, then the Widget, both are in sync.
    let client = w.cluster.client();
    let catalog = ApiCatalog::discover(&client).await.unwrap();
    let crd: serde_json::Value = rekon::yaml::parse_documents(
        &std::fs::read_to_string(w.fixture.path.join("apps/widgets/crd.yaml")).unwrap(),
        "crd",
    )
    .unwrap()
    .remove(0)
    .value;
    let mut crd = crd;
    tracking::set_tracking_id(&mut crd, "widgets");
    apply(
        &client,
        &catalog,
        &crd,
        ApplyOptions {
            manager: "rekon",
            force: true,
            dry_run: false,
        },
    )
    .await
    .unwrap();
    wait_served(&w.cluster, &obj("example.com/v1", "Widget", "web", "")).await;
    w.apply_app(&app_def).await;
    let engine = w.engine(vec![app_def]);
    let s = wait_for(&engine, "Synced", |s| {
        app(s, "widgets").sync == SyncStatus::Synced
    })
    .await;
    assert_eq!(app(&s, "widgets").resources.len(), 2);
}

#[tokio::test]
async fn a_broken_source_is_one_app_s_comparison_error_and_others_are_unaffected() {
    let Some(w) = World::new().await else { return };
    web_files(&w.fixture);
    w.fixture.write(
        "apps/broken/bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n",
    );
    w.fixture.commit("broken");
    let good = w.app("web", "apps/web", "");
    let bad = w.app("broken", "apps/broken", "");
    let missing_rev = {
        let mut a = w.app("norev", "apps/web", "");
        a.spec.source.target_revision = Some("no-such-branch".into());
        a
    };
    let engine = w.engine(vec![good, bad, missing_rev]);
    let s = wait_for(&engine, "compare", |_| true).await;
    let broken = app(&s, "broken");
    assert_eq!(broken.sync, SyncStatus::Unknown);
    assert!(
        broken.message.contains("apps/broken/bad.yaml:"),
        "{}",
        broken.message
    );
    let norev = app(&s, "norev");
    assert!(
        norev.message.contains("no-such-branch"),
        "{}",
        norev.message
    );
    let web = app(&s, "web");
    assert_eq!(web.sync, SyncStatus::OutOfSync);
    assert_eq!(web.resources.len(), 4);
}
