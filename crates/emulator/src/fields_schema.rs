//! The small built-in schema both server-side apply and strategic merge patch consult:
//! which lists are keyed (and by what), which are sets, which maps and structs are atomic,
//! and which objects are maps rather than structs.
//!
//! A real API server reads this from the OpenAPI schema (`x-kubernetes-list-type`,
//! `x-kubernetes-list-map-keys`, `x-kubernetes-patch-merge-key`, `x-kubernetes-map-type`).
//! We carry the part that the common core kinds need; every list not named here is atomic.
//! Custom resources get only the rules that hold for every object (metadata and
//! `status.conditions`).

/// API groups whose kinds are compiled into a real API server (not custom resources).
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "networking.k8s.io",
    "policy",
    "autoscaling",
    "rbac.authorization.k8s.io",
    "discovery.k8s.io",
    "apiextensions.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "admissionregistration.k8s.io",
    "certificates.k8s.io",
    "events.k8s.io",
];

/// One key field of a keyed list, with the schema default used when an item omits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListKeyField {
    /// Field name inside each item.
    pub name: &'static str,
    /// Default value (a JSON string) when the item omits the field, e.g. `TCP` for `protocol`.
    pub default: Option<&'static str>,
}

/// A keyed list (`x-kubernetes-list-type: map`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyedList {
    /// Key fields for server-side apply (`x-kubernetes-list-map-keys`), in schema order.
    pub keys: &'static [ListKeyField],
    /// The single merge key strategic merge patch uses (`x-kubernetes-patch-merge-key`).
    pub patch_merge_key: &'static str,
}

/// How a list merges and how its items are owned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListType {
    /// Replaced and owned as a whole.
    Atomic,
    /// A set of scalars (`x-kubernetes-list-type: set`), items owned one by one (`v:`).
    Set,
    /// A list of objects identified by key fields (`k:`).
    Keyed(KeyedList),
}

const fn key(name: &'static str) -> ListKeyField {
    ListKeyField {
        name,
        default: None,
    }
}

const fn key_default(name: &'static str, default: &'static str) -> ListKeyField {
    ListKeyField {
        name,
        default: Some(default),
    }
}

const BY_NAME: KeyedList = KeyedList {
    keys: &[key("name")],
    patch_merge_key: "name",
};
const BY_TYPE: KeyedList = KeyedList {
    keys: &[key("type")],
    patch_merge_key: "type",
};
const BY_UID: KeyedList = KeyedList {
    keys: &[key("uid")],
    patch_merge_key: "uid",
};
const BY_IP: KeyedList = KeyedList {
    keys: &[key("ip")],
    patch_merge_key: "ip",
};
const CONTAINER_PORTS: KeyedList = KeyedList {
    keys: &[key("containerPort"), key_default("protocol", "TCP")],
    patch_merge_key: "containerPort",
};
const SERVICE_PORTS: KeyedList = KeyedList {
    keys: &[key("port"), key_default("protocol", "TCP")],
    patch_merge_key: "port",
};
const VOLUME_MOUNTS: KeyedList = KeyedList {
    keys: &[key("mountPath")],
    patch_merge_key: "mountPath",
};
const VOLUME_DEVICES: KeyedList = KeyedList {
    keys: &[key("devicePath")],
    patch_merge_key: "devicePath",
};
const TOPOLOGY_SPREAD: KeyedList = KeyedList {
    keys: &[key("topologyKey"), key("whenUnsatisfiable")],
    patch_merge_key: "topologyKey",
};

/// What the walkers need to know about the object being handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectSchema<'a> {
    /// API group (empty for core).
    pub group: &'a str,
    /// Kind, e.g. `Deployment`.
    pub kind: &'a str,
    builtin: bool,
}

impl<'a> ObjectSchema<'a> {
    /// The schema for an object of this group and kind.
    pub fn new(group: &'a str, kind: &'a str) -> Self {
        Self {
            group,
            kind,
            builtin: BUILTIN_GROUPS.contains(&group),
        }
    }

    /// The schema for an object, read from its `apiVersion` and `kind`.
    pub fn of(obj: &'a serde_json::Value) -> Self {
        let api_version = obj
            .get("apiVersion")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        let kind = obj
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        let group = crate::key::split_api_version(api_version).0;
        Self::new(group, kind)
    }

    /// Whether the kind is built into the API server (so the core table applies).
    pub fn is_builtin(&self) -> bool {
        self.builtin
    }

    /// The list type of the list at `path` (field names from the root; list items skipped).
    pub fn list_type(&self, path: &[&str]) -> ListType {
        let Some((&last, parent)) = path.split_last() else {
            return ListType::Atomic;
        };
        let parent_last = parent.last().copied();
        match last {
            "ownerReferences" if parent_last == Some("metadata") => {
                return ListType::Keyed(BY_UID);
            }
            "finalizers" if parent_last == Some("metadata") => return ListType::Set,
            "conditions" if path.first() == Some(&"status") => return ListType::Keyed(BY_TYPE),
            _ => {}
        }
        if !self.builtin {
            return ListType::Atomic;
        }
        if is_pod_spec(self.kind, parent) {
            return match last {
                "containers"
                | "initContainers"
                | "ephemeralContainers"
                | "volumes"
                | "imagePullSecrets"
                | "resourceClaims"
                | "schedulingGates" => ListType::Keyed(BY_NAME),
                "hostAliases" => ListType::Keyed(BY_IP),
                "topologySpreadConstraints" => ListType::Keyed(TOPOLOGY_SPREAD),
                _ => ListType::Atomic,
            };
        }
        if is_container(self.kind, parent) {
            return match last {
                "env" => ListType::Keyed(BY_NAME),
                "ports" => ListType::Keyed(CONTAINER_PORTS),
                "volumeMounts" => ListType::Keyed(VOLUME_MOUNTS),
                "volumeDevices" => ListType::Keyed(VOLUME_DEVICES),
                _ => ListType::Atomic,
            };
        }
        match (self.group, self.kind, path) {
            ("", "Service", ["spec", "ports"]) => ListType::Keyed(SERVICE_PORTS),
            ("", "Node", ["status", "addresses"]) => ListType::Keyed(BY_TYPE),
            ("", "Pod", ["status", "podIPs" | "hostIPs"]) => ListType::Keyed(BY_IP),
            ("", "ServiceAccount", ["secrets"]) => ListType::Keyed(BY_NAME),
            _ if last == "claims"
                && parent.last() == Some(&"resources")
                && is_container(self.kind, &parent[..parent.len() - 1]) =>
            {
                ListType::Keyed(BY_NAME)
            }
            _ => ListType::Atomic,
        }
    }

    /// Whether the object at `path` is replaced and owned as a whole
    /// (`x-kubernetes-map-type: atomic` maps, `+structType=atomic` structs).
    pub fn is_atomic_object(&self, path: &[&str]) -> bool {
        // An OwnerReference is `+structType=atomic`, in every kind (list items walk with the
        // list's path).
        if path == ["metadata", "ownerReferences"] {
            return true;
        }
        if !self.builtin {
            return false;
        }
        let Some((&last, parent)) = path.split_last() else {
            return false;
        };
        match last {
            // metav1.LabelSelector and the selector-like structs are atomic.
            "labelSelector" | "namespaceSelector" | "podSelector" => true,
            "selector" => {
                // Service's selector is an atomic map; the workloads' a LabelSelector.
                parent == ["spec"] || parent.ends_with(&["spec"])
            }
            "nodeSelector" => is_pod_spec(self.kind, parent),
            // Env sources and object references inside pods.
            "configMapKeyRef" | "secretKeyRef" | "fieldRef" | "resourceFieldRef" => {
                parent.last() == Some(&"valueFrom")
            }
            "requiredDuringSchedulingIgnoredDuringExecution" => {
                parent.last() == Some(&"nodeAffinity")
            }
            "dataSource" | "dataSourceRef" => true,
            "involvedObject" | "related" => self.kind == "Event",
            _ => false,
        }
    }

    /// Whether the object at `path` is a map (keys are data) rather than a struct (keys are
    /// named fields). This changes how ownership is recorded for its entries.
    pub fn is_map(&self, path: &[&str]) -> bool {
        let Some((&last, parent)) = path.split_last() else {
            return false;
        };
        if parent.last() == Some(&"metadata") && matches!(last, "labels" | "annotations") {
            return true;
        }
        if !self.builtin {
            return false;
        }
        match last {
            "data" | "binaryData" | "stringData" => parent.is_empty(),
            "limits" | "requests" => parent.last() == Some(&"resources"),
            "matchLabels" | "nodeSelector" | "volumeAttributes" | "parameters" => true,
            "capacity" | "allocatable" => path.first() == Some(&"status"),
            "selector" => self.kind == "Service",
            _ => false,
        }
    }
}

/// Whether `path` (field names) leads to a PodSpec in an object of `kind`.
pub fn is_pod_spec(kind: &str, path: &[&str]) -> bool {
    match path {
        ["spec"] => kind == "Pod",
        // Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, PodTemplate; CronJob's
        // jobTemplate ends the same way.
        [.., "template", "spec"] => true,
        _ => false,
    }
}

/// Whether `path` (field names) leads to a container of a PodSpec.
pub fn is_container(kind: &str, path: &[&str]) -> bool {
    match path.split_last() {
        Some((&("containers" | "initContainers" | "ephemeralContainers"), parent)) => {
            is_pod_spec(kind, parent)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_lists_of_core_kinds() {
        let deploy = ObjectSchema::new("apps", "Deployment");
        let containers = ["spec", "template", "spec", "containers"];
        assert_eq!(deploy.list_type(&containers), ListType::Keyed(BY_NAME));
        let ports = ["spec", "template", "spec", "containers", "ports"];
        assert_eq!(deploy.list_type(&ports), ListType::Keyed(CONTAINER_PORTS));
        let args = ["spec", "template", "spec", "containers", "args"];
        assert_eq!(deploy.list_type(&args), ListType::Atomic);
        let svc = ObjectSchema::new("", "Service");
        assert_eq!(
            svc.list_type(&["spec", "ports"]),
            ListType::Keyed(SERVICE_PORTS)
        );
        let cron = ObjectSchema::new("batch", "CronJob");
        let env = [
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "spec",
            "containers",
            "env",
        ];
        assert_eq!(cron.list_type(&env), ListType::Keyed(BY_NAME));
        assert_eq!(deploy.list_type(&["metadata", "finalizers"]), ListType::Set);
    }

    #[test]
    fn custom_resources_get_only_universal_rules() {
        let app = ObjectSchema::new("argoproj.io", "Application");
        assert_eq!(
            app.list_type(&["spec", "template", "spec", "containers"]),
            ListType::Atomic
        );
        assert_eq!(
            app.list_type(&["metadata", "ownerReferences"]),
            ListType::Keyed(BY_UID)
        );
        assert_eq!(
            app.list_type(&["status", "conditions"]),
            ListType::Keyed(BY_TYPE)
        );
        assert!(app.is_map(&["metadata", "labels"]));
        assert!(!app.is_map(&["spec", "source"]));
    }

    #[test]
    fn atomic_objects_and_maps() {
        let deploy = ObjectSchema::new("apps", "Deployment");
        assert!(deploy.is_atomic_object(&["spec", "selector"]));
        assert!(!deploy.is_atomic_object(&["spec", "strategy"]));
        let svc = ObjectSchema::new("", "Service");
        assert!(svc.is_atomic_object(&["spec", "selector"]));
        let cm = ObjectSchema::new("", "ConfigMap");
        assert!(cm.is_map(&["data"]));
    }
}
