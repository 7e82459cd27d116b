//! The embedded API server through the real `kube` client, in process: discovery (both
//! kinds), CRUD, server-side apply and dry runs, status, metadata, selectors, namespaces,
//! finalizers, garbage collection, CRDs, and watchers through dropped streams and 410s.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::Discovery;
use kube::runtime::watcher;
use rekon_emulator::{Cluster, ClusterOptions};
use serde_json::{Value, json};

use crate::support::eventually;

/// A generous bound for what must happen (liveness, not speed).
const LIVENESS: Duration = Duration::from_secs(20);

async fn cluster() -> Cluster {
    Cluster::start(ClusterOptions::default())
        .await
        .expect("cluster starts")
}

fn cm(name: &str, data: Value) -> ConfigMap {
    serde_json::from_value(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name}, "data": data}))
    .unwrap()
}

fn api_code(e: kube::Error) -> (u16, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason.clone()),
        other => panic!("not an API error: {other:?}"),
    }
}

fn rv_of(cm: &ConfigMap) -> String {
    cm.metadata.resource_version.clone().unwrap()
}

#[tokio::test]
async fn discovery_finds_builtins_and_new_crds_both_ways() {
    let c = cluster().await;
    let client = c.client();
    let d = Discovery::new(client.clone()).run().await.unwrap();
    assert!(d.has_group("apps"));
    let (ar, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .unwrap();
    assert_eq!(ar.plural, "deployments");
    assert!(
        caps.subresources
            .iter()
            .any(|(s, _)| s.plural == "deployments/status" || s.plural == "status")
    );
    let agg = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    assert!(
        agg.resolve_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
            .is_some()
    );
    assert!(
        agg.resolve_gvk(&GroupVersionKind::gvk("batch", "v1", "CronJob"))
            .is_some()
    );

    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.create(
        &PostParams::default(),
        &serde_json::from_value(widget_crd("Namespaced")).unwrap(),
    )
    .await
    .unwrap();
    let agg = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    let gvk = GroupVersionKind::gvk("example.com", "v1", "Widget");
    assert!(
        agg.resolve_gvk(&gvk).is_some(),
        "served at once after the CRD was created"
    );
    let legacy = Discovery::new(client.clone()).run().await.unwrap();
    assert!(
        legacy
            .resolve_gvk(&GroupVersionKind::gvk("example.com", "v1beta1", "Widget"))
            .is_some()
    );
    assert_eq!(client.apiserver_version().await.unwrap().minor, "33");
}

#[tokio::test]
async fn crud_preconditions_and_status_errors() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c.client());
    let created = cms
        .create(&PostParams::default(), &cm("a", json!({"k": "v"})))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some() && created.metadata.creation_timestamp.is_some());
    let (code, reason) = api_code(
        cms.create(&PostParams::default(), &cm("a", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));
    let (code, reason) = api_code(cms.get("missing").await.unwrap_err());
    assert_eq!((code, reason.as_str()), (404, "NotFound"));

    let list = cms.list(&ListParams::default()).await.unwrap();
    assert!(
        !list
            .metadata
            .resource_version
            .clone()
            .unwrap_or_default()
            .is_empty()
    );

    let mut changed = created.clone();
    changed.data = Some([("k".to_string(), "w".to_string())].into());
    let replaced = cms
        .replace("a", &PostParams::default(), &changed)
        .await
        .unwrap();
    assert_ne!(rv_of(&replaced), rv_of(&created));
    // The same stale resourceVersion again is a Conflict.
    let (code, reason) = api_code(
        cms.replace("a", &PostParams::default(), &changed)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (409, "Conflict"));

    let patched = cms
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"x": "y"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data.unwrap()["x"], "y");
    let bad: Api<ConfigMap> = Api::default_namespaced(c.client());
    let mut invalid = cm("Not_Valid", json!({}));
    invalid.metadata.name = Some("Not_Valid".into());
    let (code, reason) = api_code(
        bad.create(&PostParams::default(), &invalid)
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));

    let elsewhere: Api<ConfigMap> = Api::namespaced(c.client(), "nowhere");
    let (code, _) = api_code(
        elsewhere
            .create(&PostParams::default(), &cm("b", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!(code, 404, "creating in a missing namespace");

    cms.delete("a", &DeleteParams::default()).await.unwrap();
    assert_eq!(api_code(cms.get("a").await.unwrap_err()).0, 404);
}

#[tokio::test]
async fn server_side_apply_no_op_and_dry_run_change_nothing() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c.client());
    let intent = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "1"}});
    let pp = PatchParams::apply("rekon");
    let first = cms.patch("ssa", &pp, &Patch::Apply(&intent)).await.unwrap();
    let fields = first.metadata.managed_fields.clone().unwrap();
    assert!(
        fields
            .iter()
            .any(|f| f.manager.as_deref() == Some("rekon")
                && f.operation.as_deref() == Some("Apply"))
    );
    let again = cms.patch("ssa", &pp, &Patch::Apply(&intent)).await.unwrap();
    assert_eq!(rv_of(&again), rv_of(&first), "a no-op apply moves nothing");
    assert_eq!(again.metadata.managed_fields, first.metadata.managed_fields);

    let before = c.audit().len();
    let changed = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": {"a": "2"}});
    let dry = cms
        .patch("ssa", &pp.clone().dry_run(), &Patch::Apply(&changed))
        .await
        .unwrap();
    assert_eq!(
        dry.data.clone().unwrap()["a"],
        "2",
        "a dry run computes the result"
    );
    assert_eq!(
        rv_of(&dry),
        rv_of(&first),
        "and reports the live resourceVersion"
    );
    let live = cms.get("ssa").await.unwrap();
    assert_eq!(live.data.clone().unwrap()["a"], "1");
    assert_eq!(rv_of(&live), rv_of(&first));
    let writes: Vec<_> = c.audit()[before..]
        .iter()
        .filter(|e| !matches!(e.verb.as_str(), "get" | "list" | "watch"))
        .cloned()
        .collect();
    assert_eq!(writes.len(), 1);
    assert!(writes[0].dry_run && writes[0].verb == "patch" && writes[0].field_manager == "rekon");

    // Dry-run create persists nothing either.
    let fresh = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ghost"}});
    let made = cms
        .patch("ghost", &pp.clone().dry_run(), &Patch::Apply(&fresh))
        .await
        .unwrap();
    assert_eq!(made.metadata.name.as_deref(), Some("ghost"));
    assert_eq!(api_code(cms.get("ghost").await.unwrap_err()).0, 404);
    let rv_now = c.store().resource_version();
    cms.create(
        &PostParams {
            dry_run: true,
            field_manager: None,
        },
        &cm("ghost2", json!({})),
    )
    .await
    .unwrap();
    assert_eq!(c.store().resource_version(), rv_now);
}

#[tokio::test]
async fn status_subresource_and_generation() {
    let c = cluster().await;
    let deploys: Api<Deployment> = Api::default_namespaced(c.client());
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
        "status": {"replicas": 7}});
    let pp = PatchParams::apply("rekon");
    let made = deploys.patch("web", &pp, &Patch::Apply(&d)).await.unwrap();
    assert_eq!(made.metadata.generation, Some(1));
    assert!(
        made.status.is_none_or(|s| s.replicas.is_none()),
        "apply ignores .status"
    );
    let labelled = deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        labelled.metadata.generation,
        Some(1),
        "metadata changes keep the generation"
    );
    let scaled = deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));
    let status = deploys
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 3}, "spec": {"replicas": 9}})),
        )
        .await
        .unwrap();
    assert_eq!(status.status.unwrap().replicas, Some(3));
    assert_eq!(
        status.spec.unwrap().replicas,
        Some(3),
        "status writes leave spec alone"
    );
    assert_eq!(status.metadata.generation, Some(2));
    let scale = deploys.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.unwrap().replicas, Some(3));
}

#[tokio::test]
async fn metadata_and_selectors() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::default_namespaced(c.client());
    for (name, tier) in [("a", "front"), ("b", "back"), ("c", "front")] {
        let mut o = cm(name, json!({}));
        o.metadata.labels = Some([("tier".to_string(), tier.to_string())].into());
        cms.create(&PostParams::default(), &o).await.unwrap();
    }
    let names = |l: Vec<ConfigMap>| {
        l.into_iter()
            .map(|o| o.metadata.name.unwrap())
            .collect::<Vec<_>>()
    };
    let front = cms
        .list(&ListParams::default().labels("tier=front"))
        .await
        .unwrap();
    assert_eq!(names(front.items), ["a", "c"]);
    let not_front = cms
        .list(&ListParams::default().labels("tier notin (front)"))
        .await
        .unwrap();
    assert_eq!(names(not_front.items), ["b"]);
    let by_name = cms
        .list(&ListParams::default().fields("metadata.name=c"))
        .await
        .unwrap();
    assert_eq!(names(by_name.items), ["c"]);
    let all: Api<ConfigMap> = Api::all(c.client());
    let in_ns = all
        .list(&ListParams::default().fields("metadata.namespace=default,metadata.name!=a"))
        .await
        .unwrap();
    assert_eq!(names(in_ns.items), ["b", "c"]);
    let meta = cms
        .list_metadata(&ListParams::default().labels("tier"))
        .await
        .unwrap();
    assert_eq!(meta.items.len(), 3);
    let one = cms.get_metadata("b").await.unwrap();
    assert_eq!(one.metadata.labels.unwrap()["tier"], "back");
    let gone = cms
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("tier=front"),
        )
        .await
        .unwrap();
    assert!(gone.is_left());
    assert_eq!(
        names(cms.list(&ListParams::default()).await.unwrap().items),
        ["b"]
    );
}

#[tokio::test]
async fn finalizers_namespaces_and_garbage_collection() {
    let c = cluster().await;
    let client = c.client();
    let nss: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "shop"}})).unwrap();
    nss.create(&PostParams::default(), &ns).await.unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "shop");
    let mut held = cm("held", json!({}));
    held.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    cms.create(&PostParams::default(), &held).await.unwrap();
    let pending = cms.delete("held", &DeleteParams::default()).await.unwrap();
    let obj = pending
        .left()
        .expect("the object is returned while finalizers remain");
    assert!(obj.metadata.deletion_timestamp.is_some());
    cms.patch(
        "held",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert_eq!(api_code(cms.get("held").await.unwrap_err()).0, 404);

    // Owner and dependents: background deletion removes dependents afterwards.
    let owner = cms
        .create(&PostParams::default(), &cm("owner", json!({})))
        .await
        .unwrap();
    let mut kid = cm("kid", json!({}));
    kid.metadata.owner_references = Some(vec![
        serde_json::from_value(json!({"apiVersion": "v1",
        "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid.clone().unwrap()}))
        .unwrap(),
    ]);
    cms.create(&PostParams::default(), &kid).await.unwrap();
    cms.delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    eventually("the dependent is collected", LIVENESS, || async {
        cms.get_opt("kid").await.unwrap().is_none()
    })
    .await;

    // Foreground: the owner waits for its dependents.
    let owner = cms
        .create(&PostParams::default(), &cm("owner2", json!({})))
        .await
        .unwrap();
    kid.metadata.name = Some("kid2".into());
    kid.metadata.owner_references.as_mut().unwrap()[0].uid = owner.metadata.uid.clone().unwrap();
    kid.metadata.owner_references.as_mut().unwrap()[0].name = "owner2".into();
    cms.create(&PostParams::default(), &kid).await.unwrap();
    cms.delete("owner2", &DeleteParams::foreground())
        .await
        .unwrap();
    eventually("both go", LIVENESS, || async {
        cms.get_opt("owner2").await.unwrap().is_none()
            && cms.get_opt("kid2").await.unwrap().is_none()
    })
    .await;

    // Orphan: the dependent stays, without its ownerReference.
    let owner = cms
        .create(&PostParams::default(), &cm("owner3", json!({})))
        .await
        .unwrap();
    kid.metadata.name = Some("kid3".into());
    kid.metadata.owner_references.as_mut().unwrap()[0].uid = owner.metadata.uid.clone().unwrap();
    cms.create(&PostParams::default(), &kid).await.unwrap();
    cms.delete("owner3", &DeleteParams::orphan()).await.unwrap();
    eventually("the owner goes", LIVENESS, || async {
        cms.get_opt("owner3").await.unwrap().is_none()
    })
    .await;
    let kid3 = cms.get("kid3").await.unwrap();
    assert!(kid3.metadata.owner_references.is_none());

    // Namespace deletion: Terminating, content removed, then gone.
    let mut stuck = cm("stuck", json!({}));
    stuck.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    cms.create(&PostParams::default(), &stuck).await.unwrap();
    nss.delete("shop", &DeleteParams::default()).await.unwrap();
    let terminating = nss.get("shop").await.unwrap();
    assert_eq!(
        terminating.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    let (code, reason) = api_code(
        cms.create(&PostParams::default(), &cm("late", json!({})))
            .await
            .unwrap_err(),
    );
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    eventually("kid3 is removed", LIVENESS, || async {
        cms.get_opt("kid3").await.unwrap().is_none()
    })
    .await;
    assert!(
        nss.get_opt("shop").await.unwrap().is_some(),
        "waits for the finalizer"
    );
    cms.patch(
        "stuck",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": []}})),
    )
    .await
    .unwrap();
    eventually("the namespace goes", LIVENESS, || async {
        nss.get_opt("shop").await.unwrap().is_none()
    })
    .await;
}

fn widget_crd(scope: &str) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": scope,
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [
                {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}},
                {"name": "v1beta1", "served": true, "storage": false,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}})
}

/// The Widget kind of [`widget_crd`] at `version`.
fn widget_resource(version: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("example.com", version, "Widget"),
        "widgets",
    )
}

#[tokio::test]
async fn without_a_status_subresource_status_is_an_ordinary_field() {
    let c = cluster().await;
    let client = c.client();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut crd = widget_crd("Namespaced");
    crd["spec"]["versions"][0]
        .as_object_mut()
        .unwrap()
        .remove("subresources");
    crds.patch(
        "widgets.example.com",
        &PatchParams::apply("rekon"),
        &Patch::Apply(crd),
    )
    .await
    .unwrap();
    let ar = widget_resource("v1");
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
        "spec": {"size": 1}, "status": {"ready": true}});
    let w1 = widgets
        .patch("w1", &PatchParams::apply("rekon"), &Patch::Apply(&w))
        .await
        .unwrap();
    assert_eq!(w1.data["status"]["ready"], true, "{:?}", w1.data);
    // The applier owns it like any other field: dropping it from the intent removes it.
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
        "spec": {"size": 1}});
    let w1 = widgets
        .patch("w1", &PatchParams::apply("rekon"), &Patch::Apply(&w))
        .await
        .unwrap();
    assert!(w1.data.get("status").is_none(), "{:?}", w1.data);
}

#[tokio::test]
async fn custom_resources_follow_their_crd() {
    let c = cluster().await;
    let client = c.client();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    crds.patch(
        "widgets.example.com",
        &PatchParams::apply("rekon"),
        &Patch::Apply(widget_crd("Namespaced")),
    )
    .await
    .unwrap();
    // Established by the API server's own status write, right after the create.
    let made = crds.get("widgets.example.com").await.unwrap();
    let conds = made.status.unwrap().conditions.unwrap();
    assert!(
        conds
            .iter()
            .any(|c| c.type_ == "Established" && c.status == "True")
    );
    let ar = widget_resource("v1");
    let widgets: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar);
    let w = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
        "spec": {"size": 1}, "status": {"ready": true}});
    let w1 = widgets
        .patch("w1", &PatchParams::apply("rekon"), &Patch::Apply(&w))
        .await
        .unwrap();
    assert_eq!(w1.metadata.generation, Some(1));
    assert!(
        w1.data.get("status").is_none(),
        "status subresource: apply ignores status"
    );
    let st = widgets
        .patch_status(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"ready": true}})),
        )
        .await
        .unwrap();
    assert_eq!(st.data["status"]["ready"], true);
    // Another served version reads the same object.
    let ar_beta = widget_resource("v1beta1");
    let beta: Api<DynamicObject> = Api::namespaced_with(client.clone(), "default", &ar_beta);
    let w1b = beta.get("w1").await.unwrap();
    assert_eq!(w1b.types.unwrap().api_version, "example.com/v1beta1");
    // Strategic merge patches are not for custom resources.
    let e = widgets
        .patch(
            "w1",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"size": 2}})),
        )
        .await
        .unwrap_err();
    assert_eq!(api_code(e).0, 415);
    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(api_code(widgets.get("w1").await.unwrap_err()).0, 404);
    let d = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    assert!(
        d.resolve_gvk(&GroupVersionKind::gvk("example.com", "v1", "Widget"))
            .is_none()
    );

    // Cluster-scoped custom resources.
    crds.create(
        &PostParams::default(),
        &serde_json::from_value(widget_crd("Cluster")).unwrap(),
    )
    .await
    .unwrap();
    let global: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let g = json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "g1"}});
    let g1 = global
        .patch("g1", &PatchParams::apply("rekon"), &Patch::Apply(&g))
        .await
        .unwrap();
    assert!(g1.metadata.namespace.is_none());
}

#[tokio::test]
async fn services_get_cluster_ips_that_stay() {
    let c = cluster().await;
    let svcs: Api<Service> = Api::default_namespaced(c.client());
    let s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    let made = svcs
        .patch("web", &PatchParams::apply("rekon"), &Patch::Apply(&s))
        .await
        .unwrap();
    let ip = made.spec.unwrap().cluster_ip.unwrap();
    assert!(ip.starts_with("10.96.") && ip != "10.96.0.1", "{ip}");
    let again = svcs
        .patch("web", &PatchParams::apply("rekon"), &Patch::Apply(&s))
        .await
        .unwrap();
    assert_eq!(again.spec.unwrap().cluster_ip.unwrap(), ip);
    assert_eq!(
        again.metadata.resource_version,
        made.metadata.resource_version
    );
}

fn names_of(events: &[watcher::Event<ConfigMap>]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            watcher::Event::Apply(o) => format!("apply:{}", o.metadata.name.clone().unwrap()),
            watcher::Event::Delete(o) => format!("delete:{}", o.metadata.name.clone().unwrap()),
            watcher::Event::Init => "init".into(),
            watcher::Event::InitApply(o) => {
                format!("initapply:{}", o.metadata.name.clone().unwrap())
            }
            watcher::Event::InitDone => "initdone".into(),
        })
        .collect()
}

/// Collects what a watcher yields, from a background task.
struct Collector {
    rx: tokio::sync::mpsc::UnboundedReceiver<Result<watcher::Event<ConfigMap>, String>>,
    seen: Vec<watcher::Event<ConfigMap>>,
    errors: Vec<String>,
}

impl Collector {
    /// Reads events until one named `want` arrives after position `from`.
    async fn until(&mut self, from: usize, want: &str) {
        for _ in 0..1000 {
            if names_of(&self.seen[from.min(self.seen.len())..])
                .iter()
                .any(|n| n == want)
            {
                return;
            }
            match tokio::time::timeout(Duration::from_millis(20), self.rx.recv()).await {
                Ok(Some(Ok(e))) => self.seen.push(e),
                Ok(Some(Err(e))) => self.errors.push(e),
                _ => {}
            }
        }
        panic!("never saw {want}: {:?}", names_of(&self.seen));
    }
}

#[tokio::test]
async fn watcher_survives_dropped_streams_and_410() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client(), "kube-public");
    cms.create(&PostParams::default(), &cm("before", json!({})))
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let stream = watcher(cms.clone(), watcher::Config::default());
    let task = tokio::spawn(async move {
        let mut s = std::pin::pin!(stream);
        while let Some(item) = s.next().await {
            let _ = tx.send(item.map_err(|e| e.to_string()));
        }
    });
    let mut w = Collector {
        rx,
        seen: Vec::new(),
        errors: Vec::new(),
    };
    w.until(0, "initdone").await;
    assert_eq!(names_of(&w.seen), ["init", "initapply:before", "initdone"]);
    cms.create(&PostParams::default(), &cm("one", json!({})))
        .await
        .unwrap();
    w.until(0, "apply:one").await;

    // A dropped stream: the watcher re-watches from its resourceVersion, no relist.
    c.close_watches();
    cms.create(&PostParams::default(), &cm("two", json!({})))
        .await
        .unwrap();
    w.until(0, "apply:two").await;
    assert_eq!(names_of(&w.seen).iter().filter(|n| *n == "init").count(), 1);

    // A 410 in the stream: the watcher lists again, then follows changes as before.
    let n = w.seen.len();
    c.expire_watches();
    w.until(n, "initdone").await;
    let after = names_of(&w.seen[n..]);
    assert_eq!(
        after,
        [
            "init",
            "initapply:before",
            "initapply:one",
            "initapply:two",
            "initdone"
        ]
    );
    assert!(
        w.errors
            .iter()
            .any(|e| e.contains("410") || e.contains("too old")),
        "{:?}",
        w.errors
    );
    cms.delete("one", &DeleteParams::default()).await.unwrap();
    w.until(n, "delete:one").await;
    task.abort();
}

#[tokio::test]
async fn streaming_lists_end_with_the_initial_events_bookmark() {
    let c = cluster().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client(), "kube-system");
    cms.create(&PostParams::default(), &cm("x", json!({})))
        .await
        .unwrap();
    let events: Vec<_> = watcher(cms.clone(), watcher::Config::default().streaming_lists())
        .take(3)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names_of(&events), ["init", "initapply:x", "initdone"]);
}

#[tokio::test]
async fn immutable_fields_system_namespaces_and_annotation_limits() {
    let c = cluster().await;
    let deploys: Api<Deployment> = Api::default_namespaced(c.client());
    let d = |app: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"selector": {"matchLabels": {"app": app}},
                "template": {"metadata": {"labels": {"app": app}},
                    "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}})
    };
    let pp = PatchParams::apply("rekon");
    deploys
        .patch("web", &pp, &Patch::Apply(d("a")))
        .await
        .unwrap();
    let e = deploys
        .patch("web", &pp, &Patch::Apply(d("b")))
        .await
        .unwrap_err();
    let kube::Error::Api(s) = e else {
        panic!("{e:?}")
    };
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert!(
        s.message
            .starts_with("Deployment.apps \"web\" is invalid: spec.selector"),
        "{}",
        s.message
    );
    let nss: Api<Namespace> = Api::all(c.client());
    let e = nss
        .delete("kube-system", &DeleteParams::default())
        .await
        .unwrap_err();
    assert_eq!(api_code(e), (403, "Forbidden".to_string()));
    let cms: Api<ConfigMap> = Api::default_namespaced(c.client());
    let mut big = cm("big", json!({}));
    big.metadata.annotations = Some([("x".to_string(), "y".repeat(300_000))].into());
    let (code, _) = api_code(cms.create(&PostParams::default(), &big).await.unwrap_err());
    assert_eq!(code, 422);
}
