//! No panic from odd input: objects of every kind rekon reads (workloads, Argo CD, Flux,
//! Events …) with any JSON where a string, number, list or mapping is expected — annotations
//! that are a list, replicas that are a string, conditions that are a mapping — go through
//! health, sync annotations, tracking, masking, comparison, ignore rules, timelines and the
//! Flux and Argo CD readers. Each must answer something, never panic.

use proptest::prelude::*;
use rekon::engine::diff::{CompareOptions, compare_resource};
use rekon::engine::health;
use rekon::engine::mask::mask_object;
use rekon::engine::normalize::CompareMethod;
use rekon::engine::plan::annotations;
use rekon::engine::{ignore, timeline, tracking};
use rekon::integrations::flux;
use rekon::model::ResourceKey;
use serde_json::{Map, Value, json};

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "True",
            "False",
            "Unknown",
            "-1",
            "99999999999999999999",
            "1e400",
            "PreSync",
            "Sync",
            "PostSync",
            "SyncFail",
            "Skip",
            "BeforeHookCreation",
            "HookSucceeded",
            "Prune=false,Replace=true",
            "a:b/c:d/e",
            "shop:/ConfigMap:shop/x",
            "main@sha1:abc",
            "ConfigMap_shop_x__v1",
            "_",
            "",
            "0",
            "3",
            "Healthy",
            "Progressing",
        ])
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(3, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "type",
                    "status",
                    "reason",
                    "message",
                    "conditions",
                    "replicas",
                    "readyReplicas",
                    "updatedReplicas",
                    "availableReplicas",
                    "phase",
                    "name",
                    "namespace",
                    "kind",
                    "apiVersion",
                    "observedGeneration",
                    "generation",
                    "containerStatuses",
                    "state",
                    "waiting",
                    "health",
                    "sync",
                    "entries",
                    "id",
                    "v",
                    "sourceRef",
                    "dependsOn",
                    "involvedObject",
                    "uid",
                    "lastTimestamp",
                    "count",
                    "x",
                ]),
                inner,
                0..5
            )
            .prop_map(|m| {
                Value::Object(
                    m.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<String, Value>>(),
                )
            }),
        ]
    })
}

/// An object of a kind rekon looks into, with any JSON in its metadata, spec and status.
fn odd_object() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            ("apps/v1", "Deployment"),
            ("apps/v1", "StatefulSet"),
            ("apps/v1", "DaemonSet"),
            ("apps/v1", "ReplicaSet"),
            ("v1", "Pod"),
            ("v1", "Service"),
            ("v1", "PersistentVolumeClaim"),
            ("v1", "Secret"),
            ("v1", "ConfigMap"),
            ("v1", "Event"),
            ("batch/v1", "Job"),
            ("batch/v1", "CronJob"),
            ("networking.k8s.io/v1", "Ingress"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ("argoproj.io/v1alpha1", "Application"),
            ("argoproj.io/v1alpha1", "Rollout"),
            ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"),
            ("helm.toolkit.fluxcd.io/v2", "HelmRelease"),
            ("source.toolkit.fluxcd.io/v1", "GitRepository"),
            ("example.com/v1", "Widget"),
        ]),
        any_json(),
        any_json(),
        any_json(),
        any_json(),
        any_json(),
    )
        .prop_map(|((api, kind), annotations, labels, spec, status, extra)| {
            json!({"apiVersion": api, "kind": kind,
                "metadata": {"name": "odd", "namespace": "shop", "annotations": annotations,
                    "labels": labels, "generation": extra.clone(), "ownerReferences": extra.clone()},
                "spec": spec, "status": status, "data": extra.clone(),
                "stringData": extra.clone(), "involvedObject": extra})
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn health_annotations_tracking_and_flux_readers_never_panic(obj in odd_object()) {
        let _ = health::assess(&obj);
        let _ = health::is_hook(&obj);
        let _ = health::excluded_from_app_health(&obj);
        let _ = annotations::hook_role(&obj);
        let _ = annotations::wave(&obj);
        let _ = annotations::object_options(&obj);
        let _ = tracking::tracking_id(&obj);
        let _ = tracking::owning_app(&obj);
        let _ = tracking::is_tracked_by(&obj, "shop");
        let _ = timeline::event_entry(&obj);
        let _ = flux::status(&obj);
        let _ = flux::source_of(&obj);
        let _ = flux::depends_on(&obj);
        let _ = flux::inventory(&obj);
        let mut copy = obj.clone();
        tracking::set_tracking_id(&mut copy, "shop");
        let mut masked = obj.clone();
        mask_object(&mut masked);
    }

    #[test]
    fn comparing_odd_objects_never_panics(desired in odd_object(), live in odd_object(), pointer in "(/[a-z~01]{0,6}){0,4}") {
        let key = ResourceKey::of(&desired).unwrap_or_else(|| ResourceKey::new("", "ConfigMap", "shop", "odd"));
        for method in [CompareMethod::ServerSideDryRun, CompareMethod::GitFieldsOnly] {
            let _ = compare_resource(key.clone(), Some(&desired), Some(&live), &CompareOptions::new(method));
            let _ = compare_resource(key.clone(), Some(&desired), None, &CompareOptions::new(method));
            let _ = compare_resource(key.clone(), None, Some(&live), &CompareOptions::new(method));
        }
        let mut copy = live.clone();
        let _ = ignore::remove_pointer(&mut copy, &pointer);
    }

    #[test]
    fn any_value_at_all_is_survived(v in any_json()) {
        let _ = health::assess(&v);
        let _ = annotations::wave(&v);
        let _ = tracking::tracking_id(&v);
        let _ = timeline::event_entry(&v);
        let _ = flux::status(&v);
        let _ = flux::inventory(&v);
        let mut m = v.clone();
        mask_object(&mut m);
        let mut t = v.clone();
        tracking::set_tracking_id(&mut t, "shop");
    }
}
