//! The registry of served resources: the built-in kinds plus those that CRDs add. Everything
//! that discovery, routing, tables and the store need to know about a resource lives here.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

/// A group and a plural resource name: what objects are stored under, whatever the version.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupResource {
    /// API group, empty for core.
    pub group: String,
    /// Plural resource name, e.g. `deployments`.
    pub resource: String,
}

impl GroupResource {
    /// Builds a group/resource pair.
    pub fn new(group: &str, resource: &str) -> Self {
        Self {
            group: group.to_string(),
            resource: resource.to_string(),
        }
    }
}

/// Where the `/scale` subresource reads and writes replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalePaths {
    /// Dotted path of the desired replicas, e.g. `.spec.replicas`.
    pub spec_replicas: String,
    /// Dotted path of the observed replicas.
    pub status_replicas: String,
    /// Dotted path of the serialized label selector, if any.
    pub label_selector: Option<String>,
}

/// One column of a CRD's `additionalPrinterColumns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    /// Column title.
    pub name: String,
    /// OpenAPI type: string, integer, number, boolean, date.
    pub type_: String,
    /// OpenAPI format, often empty.
    pub format: String,
    /// Description shown by `kubectl explain`-like tools.
    pub description: String,
    /// 0 is shown by default, higher only with `-o wide`.
    pub priority: i64,
    /// Simple JSONPath into the object, e.g. `.status.phase`.
    pub json_path: String,
}

/// A resource at one version, as discovery describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    /// API group, empty for core.
    pub group: String,
    /// Version served at this entry.
    pub version: String,
    /// Plural name used in URLs.
    pub resource: String,
    /// Singular name.
    pub singular: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Kind of lists, e.g. `DeploymentList`.
    pub list_kind: String,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Short names, e.g. `deploy`.
    pub short_names: Vec<String>,
    /// Categories, e.g. `all`.
    pub categories: Vec<String>,
    /// Has a `/status` subresource (main writes keep status; status writes keep the rest).
    pub status: bool,
    /// Has a `/scale` subresource.
    pub scale: Option<ScalePaths>,
    /// Sets and bumps `metadata.generation`.
    pub generation: bool,
    /// Defined by a CustomResourceDefinition.
    pub custom: bool,
    /// Version objects are stored at (apiVersion is relabelled on read, as with conversion `None`).
    pub storage_version: String,
    /// The CRD's printer columns at this version.
    pub printer_columns: Vec<PrinterColumn>,
    /// Extra field-selector paths the CRD declares (`selectableFields`).
    pub selectable_fields: Vec<String>,
}

/// The order kube-apiserver lists its built-in groups in (`/apis`, aggregated discovery);
/// the core group first.
const GROUP_ORDER: [&str; 22] = [
    "",
    "apiregistration.k8s.io",
    "apps",
    "events.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "networking.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "resource.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "storagemigration.k8s.io",
];

/// The verbs every served resource accepts.
pub const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl ResourceType {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The storage key of this resource.
    pub fn group_resource(&self) -> GroupResource {
        GroupResource::new(&self.group, &self.resource)
    }

    /// apiVersion of stored objects.
    pub fn storage_api_version(&self) -> String {
        if self.group.is_empty() {
            self.storage_version.clone()
        } else {
            format!("{}/{}", self.group, self.storage_version)
        }
    }
}

/// Built-in resources: (group, version, plural, singular, kind, namespaced, short names,
/// categories, status, scale, generation).
type Builtin = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
    &'static [&'static str],
    bool,
    bool,
    bool,
);

#[rustfmt::skip]
const BUILTINS: &[Builtin] = &[
    ("", "v1", "namespaces", "namespace", "Namespace", false, &["ns"], &[], true, false, false),
    ("", "v1", "nodes", "node", "Node", false, &["no"], &[], true, false, false),
    ("", "v1", "pods", "pod", "Pod", true, &["po"], &["all"], true, false, false),
    ("", "v1", "services", "service", "Service", true, &["svc"], &["all"], true, false, false),
    ("", "v1", "endpoints", "endpoints", "Endpoints", true, &["ep"], &[], false, false, false),
    ("", "v1", "configmaps", "configmap", "ConfigMap", true, &["cm"], &[], false, false, false),
    ("", "v1", "secrets", "secret", "Secret", true, &[], &[], false, false, false),
    ("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", true, &["sa"], &[], false, false, false),
    ("", "v1", "events", "event", "Event", true, &["ev"], &[], false, false, false),
    ("", "v1", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, &["pvc"], &[], true, false, false),
    ("", "v1", "persistentvolumes", "persistentvolume", "PersistentVolume", false, &["pv"], &[], true, false, false),
    ("", "v1", "resourcequotas", "resourcequota", "ResourceQuota", true, &["quota"], &[], true, false, false),
    ("", "v1", "limitranges", "limitrange", "LimitRange", true, &["limits"], &[], false, false, false),
    ("apps", "v1", "deployments", "deployment", "Deployment", true, &["deploy"], &["all"], true, true, true),
    ("apps", "v1", "replicasets", "replicaset", "ReplicaSet", true, &["rs"], &["all"], true, true, true),
    ("apps", "v1", "statefulsets", "statefulset", "StatefulSet", true, &["sts"], &["all"], true, true, true),
    ("apps", "v1", "daemonsets", "daemonset", "DaemonSet", true, &["ds"], &["all"], true, false, true),
    ("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", true, &[], &[], false, false, false),
    ("batch", "v1", "jobs", "job", "Job", true, &[], &["all"], true, false, true),
    ("batch", "v1", "cronjobs", "cronjob", "CronJob", true, &["cj"], &["all"], true, false, true),
    ("networking.k8s.io", "v1", "ingresses", "ingress", "Ingress", true, &["ing"], &[], true, false, true),
    ("networking.k8s.io", "v1", "ingressclasses", "ingressclass", "IngressClass", false, &[], &[], false, false, true),
    ("networking.k8s.io", "v1", "networkpolicies", "networkpolicy", "NetworkPolicy", true, &["netpol"], &[], false, false, true),
    ("discovery.k8s.io", "v1", "endpointslices", "endpointslice", "EndpointSlice", true, &[], &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", true, &[], &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", true, &[], &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", false, &[], &[], false, false, false),
    ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding", false, &[], &[], false, false, false),
    ("autoscaling", "v2", "horizontalpodautoscalers", "horizontalpodautoscaler", "HorizontalPodAutoscaler", true, &["hpa"], &["all"], true, false, true),
    ("policy", "v1", "poddisruptionbudgets", "poddisruptionbudget", "PodDisruptionBudget", true, &["pdb"], &[], true, false, true),
    ("storage.k8s.io", "v1", "storageclasses", "storageclass", "StorageClass", false, &["sc"], &[], false, false, false),
    ("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition", false, &["crd", "crds"], &["api-extensions"], true, false, true),
];

fn builtin_types() -> Vec<Arc<ResourceType>> {
    BUILTINS
        .iter()
        .map(
            |&(
                group,
                version,
                resource,
                singular,
                kind,
                namespaced,
                short,
                cats,
                status,
                scale,
                generation,
            )| {
                Arc::new(ResourceType {
                    group: group.into(),
                    version: version.into(),
                    resource: resource.into(),
                    singular: singular.into(),
                    kind: kind.into(),
                    list_kind: format!("{kind}List"),
                    namespaced,
                    short_names: short.iter().map(|s| s.to_string()).collect(),
                    categories: cats.iter().map(|s| s.to_string()).collect(),
                    status,
                    scale: scale.then(|| ScalePaths {
                        spec_replicas: ".spec.replicas".into(),
                        status_replicas: ".status.replicas".into(),
                        label_selector: Some(".status.selector".into()),
                    }),
                    generation,
                    custom: false,
                    storage_version: version.into(),
                    printer_columns: Vec::new(),
                    selectable_fields: Vec::new(),
                })
            },
        )
        .collect()
}

/// Orders versions as Kubernetes does: GA before beta before alpha, higher numbers first,
/// anything else last in alphabetical order.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn rank(v: &str) -> Option<(u8, u64, u64)> {
        let rest = v.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let major: u64 = digits.parse().ok()?;
        let tail = &rest[digits.len()..];
        if tail.is_empty() {
            return Some((3, major, 0));
        }
        let (level, num) = if let Some(n) = tail.strip_prefix("beta") {
            (2, n)
        } else if let Some(n) = tail.strip_prefix("alpha") {
            (1, n)
        } else {
            return None;
        };
        Some((level, major, num.parse().ok()?))
    }
    match (rank(a), rank(b)) {
        (Some(x), Some(y)) => y.cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// One API group with its served versions, best first.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    /// Group name, empty for core.
    pub name: String,
    /// Versions, preferred first; each with its resources in registry order.
    pub versions: Vec<(String, Vec<Arc<ResourceType>>)>,
}

/// All served resources. Immutable: a CRD change builds a new registry.
#[derive(Debug, Clone)]
pub struct Registry {
    types: Vec<Arc<ResourceType>>,
    by_gvr: HashMap<(String, String, String), usize>,
}

impl Default for Registry {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Registry {
    /// The built-in resources only.
    pub fn builtin() -> Self {
        Self::from_types(builtin_types())
    }

    fn from_types(types: Vec<Arc<ResourceType>>) -> Self {
        let by_gvr = types
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.group.clone(), t.version.clone(), t.resource.clone()), i))
            .collect();
        Self { types, by_gvr }
    }

    /// The registry with `custom` types replacing every earlier custom type of the same
    /// group and resource (the types of one CRD).
    pub fn with_custom(&self, gr: &GroupResource, custom: Vec<ResourceType>) -> Self {
        let mut types: Vec<Arc<ResourceType>> = self
            .types
            .iter()
            .filter(|t| !(t.custom && t.group == gr.group && t.resource == gr.resource))
            .cloned()
            .collect();
        types.extend(custom.into_iter().map(Arc::new));
        Self::from_types(types)
    }

    /// Looks a resource up as routed: group, version, plural.
    pub fn get(&self, group: &str, version: &str, resource: &str) -> Option<&Arc<ResourceType>> {
        self.by_gvr
            .get(&(group.to_string(), version.to_string(), resource.to_string()))
            .map(|&i| &self.types[i])
    }

    /// Whether a built-in resource has this group and plural.
    pub fn is_builtin(&self, gr: &GroupResource) -> bool {
        self.types
            .iter()
            .any(|t| !t.custom && t.group == gr.group && t.resource == gr.resource)
    }

    /// The preferred served version of a group/resource.
    pub fn preferred(&self, gr: &GroupResource) -> Option<&Arc<ResourceType>> {
        self.types
            .iter()
            .filter(|t| t.group == gr.group && t.resource == gr.resource)
            .min_by(|a, b| compare_versions(&a.version, &b.version))
    }

    /// Finds the resource for an apiVersion and kind (`apps/v1`, `Deployment`).
    pub fn for_kind(&self, api_version: &str, kind: &str) -> Option<&Arc<ResourceType>> {
        let (group, version) = crate::key::split_api_version(api_version);
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.kind == kind)
    }

    /// Every served resource, in registry order.
    pub fn types(&self) -> &[Arc<ResourceType>] {
        &self.types
    }

    /// Every distinct group/resource (any version), for namespace cleanup and such.
    pub fn group_resources(&self) -> Vec<Arc<ResourceType>> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for t in &self.types {
            if seen.insert((t.group.clone(), t.resource.clone()))
                && let Some(p) = self.preferred(&t.group_resource())
            {
                out.push(p.clone());
            }
        }
        out
    }

    /// Groups in discovery order: core, then the built-in groups, then custom groups by name.
    pub fn groups(&self) -> Vec<GroupInfo> {
        let mut names: Vec<(bool, usize, String)> = Vec::new();
        for (i, t) in self.types.iter().enumerate() {
            if !names.iter().any(|(_, _, n)| *n == t.group) {
                names.push((t.custom, i, t.group.clone()));
            }
        }
        // Built-in groups in kube-apiserver's order, custom ones after by name.
        let rank = |name: &str| {
            GROUP_ORDER
                .iter()
                .position(|g| *g == name)
                .unwrap_or(usize::MAX)
        };
        names.sort_by(|a, b| match (a.0, b.0) {
            (false, false) => rank(&a.2).cmp(&rank(&b.2)).then(a.1.cmp(&b.1)),
            (true, true) => a.2.cmp(&b.2),
            (false, true) => Ordering::Less,
            (true, false) => Ordering::Greater,
        });
        names
            .into_iter()
            .map(|(_, _, name)| {
                let mut versions: Vec<String> = Vec::new();
                for t in self.types.iter().filter(|t| t.group == name) {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                versions.sort_by(|a, b| compare_versions(a, b));
                let versions = versions
                    .into_iter()
                    .map(|v| {
                        let types = self
                            .types
                            .iter()
                            .filter(|t| t.group == name && t.version == v)
                            .cloned()
                            .collect();
                        (v, types)
                    })
                    .collect();
                GroupInfo { name, versions }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_like_kubernetes() {
        let mut v = vec![
            "v1alpha1", "v1", "v2beta1", "foo", "v1beta2", "v2", "v1beta1",
        ];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            v,
            [
                "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "foo"
            ]
        );
    }

    #[test]
    fn builtin_lookup_and_groups() {
        let r = Registry::builtin();
        let d = r.get("apps", "v1", "deployments").unwrap();
        assert_eq!(d.kind, "Deployment");
        assert!(d.scale.is_some() && d.generation && d.namespaced);
        assert!(r.get("", "v1", "deployments").is_none());
        assert_eq!(
            r.for_kind("v1", "ConfigMap").unwrap().resource,
            "configmaps"
        );
        let groups = r.groups();
        assert_eq!(groups[0].name, "");
        assert_eq!(groups[1].name, "apps");
        assert!(groups.iter().any(|g| g.name == "autoscaling"));
    }

    #[test]
    fn custom_types_replace_their_previous_definition() {
        let r = Registry::builtin();
        let mut t = (**r.get("", "v1", "configmaps").unwrap()).clone();
        t.group = "example.com".into();
        t.resource = "widgets".into();
        t.kind = "Widget".into();
        t.custom = true;
        let gr = GroupResource::new("example.com", "widgets");
        let r2 = r.with_custom(&gr, vec![t.clone()]);
        assert!(r2.get("example.com", "v1", "widgets").is_some());
        let mut t2 = t.clone();
        t2.version = "v2".into();
        let r3 = r2.with_custom(&gr, vec![t2]);
        assert!(r3.get("example.com", "v1", "widgets").is_none());
        assert!(r3.get("example.com", "v2", "widgets").is_some());
        assert_eq!(r3.groups().last().unwrap().name, "example.com");
        let r4 = r3.with_custom(&gr, vec![]);
        assert!(r4.get("example.com", "v2", "widgets").is_none());
    }
}
