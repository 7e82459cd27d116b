//! From rendered manifests to the objects an app wants in its cluster: namespaces defaulted
//! by scope (from discovery), tracking ids set, hooks told apart.

use serde_json::Value;

use super::health::is_hook;
use super::tracking;
use crate::model::packed::PackedText;
use crate::model::{GroupKind, Manifest, ResourceKey, split_api_version};

/// What a cluster serves, as far as preparing objects needs to know: the scope of each kind.
/// The cluster's discovery catalog answers it; the engine never asks the server itself.
pub trait ServedKinds {
    /// Whether the kind is namespaced at exactly this `apiVersion`; `None` when that
    /// version of the kind is not served.
    fn namespaced_at(&self, api_version: &str, kind: &str) -> Option<bool>;
    /// Whether the group/kind is namespaced at its preferred version; `None` when the
    /// cluster does not serve it at all.
    fn namespaced(&self, gk: &GroupKind) -> Option<bool>;
}

impl<T: ServedKinds + ?Sized> ServedKinds for std::sync::Arc<T> {
    fn namespaced_at(&self, api_version: &str, kind: &str) -> Option<bool> {
        (**self).namespaced_at(api_version, kind)
    }
    fn namespaced(&self, gk: &GroupKind) -> Option<bool> {
        (**self).namespaced(gk)
    }
}

/// One object the app wants, ready to dry-run or apply.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredObject {
    /// Identity after namespace defaulting.
    pub key: ResourceKey,
    /// `apiVersion` as written in Git.
    pub api_version: String,
    /// The object with its namespace and tracking id set, as compact JSON text (read it
    /// through [`DesiredObject::object`]). Held parsed, it was a second parsed copy of every
    /// rendered manifest, several KB per object (profiled: 1,000 apps). Compressed
    /// against a sample of its kind, as manifests are.
    pub json: PackedText,
    /// Where it came from (`path:line`).
    pub origin: String,
    /// A sync hook (PreSync, PostSync …): run during syncs, never compared.
    pub hook: bool,
    /// Why the cluster cannot take it as is, when it cannot (kind not served …).
    pub problem: Option<String>,
}

impl DesiredObject {
    /// The object, parsed from its text (a fresh copy on every call).
    pub fn object(&self) -> Value {
        // The text was written by serde_json from a Value, so it parses back; Null is
        // unreachable in practice and keeps callers free of panics.
        serde_json::from_str(&self.json.text()).unwrap_or(Value::Null)
    }

    /// Replaces the object's text with `object`.
    pub fn set_object(&mut self, object: &Value) {
        self.json = PackedText::pack_from_git(&self.key.kind, &object.to_string());
    }
}

/// Scope of kinds defined by CRDs inside the same app, for objects whose CRD is not yet
/// installed (the first sync creates it).
fn crd_scopes(manifests: &[Manifest]) -> Vec<(GroupKind, bool)> {
    manifests
        .iter()
        // The text test spares parsing every other object.
        .filter(|m| m.json().contains("CustomResourceDefinition"))
        .map(Manifest::object)
        .filter(|o| {
            o["kind"] == "CustomResourceDefinition"
                && o["apiVersion"]
                    .as_str()
                    .is_some_and(|v| v.starts_with("apiextensions.k8s.io/"))
        })
        .filter_map(|o| {
            let spec = &o["spec"];
            let group = spec["group"].as_str()?;
            let kind = spec["names"]["kind"].as_str()?;
            let namespaced = spec["scope"].as_str() != Some("Cluster");
            Some((GroupKind::new(group, kind), namespaced))
        })
        .collect()
}

/// Prepares an app's manifests for `cluster`: cluster-scoped objects lose any namespace,
/// namespaced ones without one get `destination_namespace`, and every object gets the
/// tracking id of `instance`. Kinds the cluster does not serve (and no CRD in the app
/// defines) keep their namespace as written and carry a problem.
pub fn prepare(
    manifests: &[Manifest],
    destination_namespace: &str,
    instance: &str,
    catalog: &(impl ServedKinds + ?Sized),
    cluster_name: &str,
) -> Vec<DesiredObject> {
    let local_crds = crd_scopes(manifests);
    let default_ns = if destination_namespace.is_empty() {
        "default"
    } else {
        destination_namespace
    };
    manifests
        .iter()
        .map(|m| {
            let mut object = m.object();
            let api_version = object["apiVersion"].as_str().unwrap_or_default().to_string();
            let kind = object["kind"].as_str().unwrap_or_default().to_string();
            let (group, _) = split_api_version(&api_version);
            let gk = GroupKind::new(group, kind.clone());
            let served = catalog.namespaced_at(&api_version, &kind);
            let scope = served.or_else(|| {
                local_crds
                    .iter()
                    .find(|(g, _)| *g == gk)
                    .map(|(_, namespaced)| *namespaced)
            });
            let problem = match (served, scope) {
                (Some(_), _) => None,
                (None, Some(_)) => None,
                (None, None) if catalog.namespaced(&gk).is_some() => Some(format!(
                    "{kind} is not served at {api_version} by cluster {cluster_name}"
                )),
                (None, None) => Some(format!(
                    "kind {kind} ({api_version}) is not served by cluster {cluster_name}: is its CRD installed?"
                )),
            };
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                match scope {
                    Some(true) => {
                        let missing = meta
                            .get("namespace")
                            .and_then(Value::as_str)
                            .is_none_or(str::is_empty);
                        if missing {
                            meta.insert("namespace".into(), Value::String(default_ns.into()));
                        }
                    }
                    Some(false) => {
                        meta.remove("namespace");
                    }
                    None => {}
                }
            }
            let key = ResourceKey::of(&object)
                .unwrap_or_else(|| ResourceKey::new(group, kind, "", ""));
            tracking::set_tracking_id(&mut object, instance);
            let hook = is_hook(&object);
            let json = PackedText::pack_from_git(&key.kind, &object.to_string());
            DesiredObject {
                key,
                api_version,
                json,
                origin: m.origin.clone(),
                hook,
                problem,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Served kinds as (apiVersion, kind, namespaced).
    struct Served(Vec<(&'static str, &'static str, bool)>);

    impl ServedKinds for Served {
        fn namespaced_at(&self, api_version: &str, kind: &str) -> Option<bool> {
            self.0
                .iter()
                .find(|(v, k, _)| *v == api_version && *k == kind)
                .map(|(_, _, n)| *n)
        }
        fn namespaced(&self, gk: &GroupKind) -> Option<bool> {
            self.0
                .iter()
                .find(|(v, k, _)| split_api_version(v).0 == gk.group && *k == gk.kind)
                .map(|(_, _, n)| *n)
        }
    }

    fn catalog() -> Served {
        Served(vec![
            ("apps/v1", "Deployment", true),
            ("v1", "Namespace", false),
        ])
    }

    fn manifest(obj: Value) -> Manifest {
        Manifest::new(&obj, "app.yaml:1")
    }

    #[test]
    fn defaults_namespaces_by_scope_and_sets_tracking() {
        let out = prepare(
            &[
                manifest(
                    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}),
                ),
                manifest(
                    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "namespace": "x"}}),
                ),
            ],
            "shop",
            "web-app",
            &catalog(),
            "prod",
        );
        assert_eq!(
            out[0].key,
            ResourceKey::new("apps", "Deployment", "shop", "web")
        );
        assert_eq!(out[0].object()["metadata"]["namespace"], "shop");
        assert!(tracking::is_tracked_by(&out[0].object(), "web-app"));
        assert_eq!(out[1].key, ResourceKey::new("", "Namespace", "", "shop"));
        assert!(out[1].object()["metadata"].get("namespace").is_none());
        assert!(out.iter().all(|d| d.problem.is_none()));
    }

    #[test]
    fn unknown_kinds_carry_a_problem_unless_the_app_defines_their_crd() {
        let cr =
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
        let out = prepare(&[manifest(cr.clone())], "shop", "a", &catalog(), "prod");
        assert!(
            out[0]
                .problem
                .as_deref()
                .unwrap()
                .contains("is its CRD installed")
        );
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"kind": "Widget", "plural": "widgets"}}});
        let out = prepare(
            &[manifest(crd), manifest(cr)],
            "shop",
            "a",
            &catalog(),
            "prod",
        );
        assert!(out[1].problem.is_none());
        assert_eq!(out[1].key.namespace, "shop");
    }
}
