//! Which app an object belongs to.
//!
//! rekon marks every object it applies with `rekon.dev/tracking-id:
//! <app>:<group>/<kind>:<namespace>/<name>`, Argo CD's format. The id names the object itself,
//! so a copy of an object (`kubectl get -o yaml | sed | kubectl apply`) carries an id that points
//! elsewhere and is not taken for ours: it gets no sync status and is never pruned.
//!
//! The `<app>` part is the app's *instance name*: the Application's `name` when it lives in
//! `argocd` (Argo CD's default control namespace, and the namespace rekon assumes for
//! Applications that set none), and `<namespace>_<name>` otherwise, as Argo CD writes it for
//! apps outside its control namespace. Kubernetes names cannot hold `_`, so the two forms never
//! collide, and an app managed by Argo CD and later by rekon keeps the same instance name.

use serde_json::Value;
use std::fmt;
use thiserror::Error;

use crate::engine::json::annotation;
use crate::model::ResourceKey;

/// rekon's tracking annotation.
pub const TRACKING_ANNOTATION: &str = "rekon.dev/tracking-id";
/// Argo CD's tracking annotation, recognised when reading objects Argo CD manages.
pub const ARGOCD_TRACKING_ANNOTATION: &str = "argocd.argoproj.io/tracking-id";
/// The label Argo CD's label tracking (and Helm charts, by convention) use.
pub const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";
/// The namespace in which an app's instance name is its bare name.
pub const DEFAULT_APP_NAMESPACE: &str = "argocd";

/// A parsed tracking id: which app, and which object the id was written for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrackingId {
    /// The app's instance name (see [`instance_name`]).
    pub app: String,
    /// The object the id was written for.
    pub key: ResourceKey,
}

/// Why a tracking id could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("tracking id {value:?} is not <app>:<group>/<kind>:<namespace>/<name>")]
pub struct TrackingIdError {
    /// The text that failed to parse.
    pub value: String,
}

impl TrackingId {
    /// The id of `key` as managed by the app with this instance name.
    pub fn new(app: impl Into<String>, key: &ResourceKey) -> Self {
        Self {
            app: app.into(),
            key: key.clone(),
        }
    }

    /// Parses `<app>:<group>/<kind>:<namespace>/<name>`. Unlike Argo CD this accepts names
    /// that contain `:` (RBAC objects such as `system:auth-delegator`): app, group and kind
    /// cannot hold `:`, and the namespace cannot hold `/`, so the split stays unambiguous.
    pub fn parse(value: &str) -> Result<Self, TrackingIdError> {
        let err = || TrackingIdError {
            value: value.to_string(),
        };
        let (app, rest) = value.split_once(':').ok_or_else(err)?;
        let (group_kind, namespaced_name) = rest.split_once(':').ok_or_else(err)?;
        let (group, kind) = group_kind.split_once('/').ok_or_else(err)?;
        let (namespace, name) = namespaced_name.split_once('/').ok_or_else(err)?;
        if app.is_empty() || kind.is_empty() || name.is_empty() || kind.contains('/') {
            return Err(err());
        }
        Ok(Self {
            app: app.to_string(),
            key: ResourceKey::new(group, kind, namespace, name),
        })
    }
}

impl fmt::Display for TrackingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}/{}:{}/{}",
            self.app, self.key.group, self.key.kind, self.key.namespace, self.key.name
        )
    }
}

/// The instance name of an Application: `name` in [`DEFAULT_APP_NAMESPACE`] (or with no
/// namespace), `<namespace>_<name>` elsewhere.
pub fn instance_name(app_namespace: &str, app_name: &str) -> String {
    if app_namespace.is_empty() || app_namespace == DEFAULT_APP_NAMESPACE {
        app_name.to_string()
    } else {
        format!("{app_namespace}_{app_name}")
    }
}

/// Writes rekon's tracking annotation for `app` (an instance name) onto `obj`, naming the
/// object itself. Call it after the destination namespace has been set on namespaced objects,
/// or the id will name the wrong object. Does nothing to a value that is not a Kubernetes
/// object.
pub fn set_tracking_id(obj: &mut Value, app: &str) {
    let Some(key) = ResourceKey::of(obj) else {
        return;
    };
    let id = TrackingId::new(app, &key).to_string();
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Default::default()));
    if !annotations.is_object() {
        *annotations = Value::Object(Default::default());
    }
    if let Some(map) = annotations.as_object_mut() {
        map.insert(TRACKING_ANNOTATION.to_string(), Value::String(id));
    }
}

/// The tracking id rekon wrote on `obj`, if it has one that parses.
pub fn tracking_id(obj: &Value) -> Option<TrackingId> {
    annotation(obj, TRACKING_ANNOTATION).and_then(|v| TrackingId::parse(v).ok())
}

/// Whether `obj` is managed by the app with instance name `app`: its rekon tracking id names
/// this app AND this very object. A copied object whose id points at another object is not.
pub fn is_tracked_by(obj: &Value, app: &str) -> bool {
    match (tracking_id(obj), ResourceKey::of(obj)) {
        (Some(id), Some(key)) => id.app == app && id.key == key,
        _ => false,
    }
}

/// How an object names the app that manages it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackingSource {
    /// rekon's `rekon.dev/tracking-id` annotation.
    Rekon,
    /// Argo CD's `argocd.argoproj.io/tracking-id` annotation.
    ArgoCd,
    /// The `app.kubernetes.io/instance` label.
    InstanceLabel,
}

/// The app that manages `obj` according to whoever marked it, for reading objects that rekon,
/// Argo CD or label-tracking tools manage. The annotations count only when they name the
/// object itself (the copied-object rule); rekon's annotation wins over Argo CD's, which wins
/// over the label.
pub fn owning_app(obj: &Value) -> Option<(TrackingSource, String)> {
    let key = ResourceKey::of(obj);
    let own_id = |annotation_key: &str| {
        let id = TrackingId::parse(annotation(obj, annotation_key)?).ok()?;
        (Some(&id.key) == key.as_ref()).then_some(id.app)
    };
    if let Some(app) = own_id(TRACKING_ANNOTATION) {
        return Some((TrackingSource::Rekon, app));
    }
    if let Some(app) = own_id(ARGOCD_TRACKING_ANNOTATION) {
        return Some((TrackingSource::ArgoCd, app));
    }
    obj.pointer("/metadata/labels")
        .and_then(|labels| labels.get(INSTANCE_LABEL))
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .map(|v| (TrackingSource::InstanceLabel, v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(annotations: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "annotations": annotations}})
    }

    #[test]
    fn formats_and_parses_like_argo_cd() {
        let key = ResourceKey::new("apps", "Deployment", "shop", "web");
        let id = TrackingId::new("guestbook", &key);
        assert_eq!(id.to_string(), "guestbook:apps/Deployment:shop/web");
        assert_eq!(TrackingId::parse(&id.to_string()), Ok(id));

        let core = TrackingId::parse("argocd_gb:/ConfigMap:shop/settings").unwrap();
        assert_eq!(core.app, "argocd_gb");
        assert_eq!(
            core.key,
            ResourceKey::new("", "ConfigMap", "shop", "settings")
        );

        let cluster =
            TrackingId::parse("gb:rbac.authorization.k8s.io/ClusterRole:/system:view").unwrap();
        assert_eq!(cluster.key.namespace, "");
        assert_eq!(cluster.key.name, "system:view");
        assert_eq!(
            cluster.to_string(),
            "gb:rbac.authorization.k8s.io/ClusterRole:/system:view"
        );
    }

    #[test]
    fn refuses_malformed_ids() {
        for bad in [
            "",
            "gb",
            "gb:apps/Deployment",
            "gb:Deployment:shop/web",
            "gb:apps/Deployment:web",
            ":apps/Deployment:shop/web",
            "gb:apps/:shop/web",
            "gb:apps/Deployment:shop/",
        ] {
            let err = TrackingId::parse(bad).unwrap_err();
            assert!(err.to_string().contains("tracking id"), "{bad}");
        }
    }

    #[test]
    fn instance_names_follow_argo_cd() {
        assert_eq!(instance_name("argocd", "gb"), "gb");
        assert_eq!(instance_name("", "gb"), "gb");
        assert_eq!(instance_name("team-a", "gb"), "team-a_gb");
    }

    #[test]
    fn tracked_only_when_the_id_names_this_app_and_this_object() {
        let ours = deployment(json!({TRACKING_ANNOTATION: "gb:apps/Deployment:shop/web"}));
        assert!(is_tracked_by(&ours, "gb"));
        assert!(!is_tracked_by(&ours, "other"));

        // A copy renamed to web-copy still carries the original's id: not ours.
        let mut copy = ours.clone();
        copy["metadata"]["name"] = json!("web-copy");
        assert!(!is_tracked_by(&copy, "gb"));
        // Same for a copy into another namespace.
        let mut moved = ours.clone();
        moved["metadata"]["namespace"] = json!("staging");
        assert!(!is_tracked_by(&moved, "gb"));

        assert!(!is_tracked_by(&deployment(json!({})), "gb"));
        let garbage = deployment(json!({TRACKING_ANNOTATION: "nonsense"}));
        assert!(!is_tracked_by(&garbage, "gb"));
    }

    #[test]
    fn set_tracking_id_marks_the_object_itself() {
        let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "shop"}});
        set_tracking_id(&mut obj, "gb");
        assert_eq!(
            obj["metadata"]["annotations"][TRACKING_ANNOTATION],
            "gb:/ConfigMap:shop/settings"
        );
        assert!(is_tracked_by(&obj, "gb"));
        let mut not_an_object = json!("text");
        set_tracking_id(&mut not_an_object, "gb");
        assert_eq!(not_an_object, json!("text"));
    }

    #[test]
    fn owning_app_reads_rekon_argo_cd_and_the_instance_label() {
        let rekon = deployment(json!({
            TRACKING_ANNOTATION: "gb:apps/Deployment:shop/web",
            ARGOCD_TRACKING_ANNOTATION: "argo-app:apps/Deployment:shop/web"}));
        assert_eq!(
            owning_app(&rekon),
            Some((TrackingSource::Rekon, "gb".into()))
        );

        let argo =
            deployment(json!({ARGOCD_TRACKING_ANNOTATION: "argo-app:apps/Deployment:shop/web"}));
        assert_eq!(
            owning_app(&argo),
            Some((TrackingSource::ArgoCd, "argo-app".into()))
        );

        // A copied Argo CD object is not Argo CD's; the label still says something.
        let mut copied =
            deployment(json!({ARGOCD_TRACKING_ANNOTATION: "argo-app:apps/Deployment:shop/other"}));
        assert_eq!(owning_app(&copied), None);
        copied["metadata"]["labels"] = json!({INSTANCE_LABEL: "legacy"});
        assert_eq!(
            owning_app(&copied),
            Some((TrackingSource::InstanceLabel, "legacy".into()))
        );
    }
}
