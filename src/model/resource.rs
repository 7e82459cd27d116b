//! Identifying Kubernetes objects.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// A kind within an API group (`""` is the core group).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupKind {
    /// API group, empty for the core group.
    pub group: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
}

impl GroupKind {
    /// Builds a group/kind pair.
    pub fn new(group: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            kind: kind.into(),
        }
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}", self.kind)
        } else {
            write!(f, "{}/{}", self.group, self.kind)
        }
    }
}

/// Identity of one object: group, kind, namespace and name (the version is not part of
/// identity, as in Argo CD). Cluster-scoped objects have an empty namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceKey {
    /// API group, empty for the core group.
    pub group: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Object name.
    pub name: String,
}

impl ResourceKey {
    /// Builds a key from its parts.
    pub fn new(
        group: impl Into<String>,
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// A 64-bit fingerprint of this key within `scope` (a cluster), for indexes with tens
    /// of thousands of entries that would otherwise each hold four strings. Only for
    /// indexes where a collision (about 1 in 10^10 among 50,000 keys) costs extra work and
    /// never a wrong answer.
    pub fn fingerprint_in(&self, scope: impl std::hash::Hash) -> u64 {
        use std::hash::{Hash, Hasher};
        // DefaultHasher::new() has fixed keys, but its algorithm may change between Rust
        // releases: fingerprints are for indexes in memory, never to be written anywhere.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        scope.hash(&mut h);
        self.hash(&mut h);
        h.finish()
    }

    /// Reads the key of a Kubernetes object; `None` when kind, apiVersion or name is missing.
    pub fn of(obj: &Value) -> Option<Self> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let kind = obj.get("kind")?.as_str()?;
        let meta = obj.get("metadata")?;
        let name = meta.get("name")?.as_str()?;
        let namespace = meta.get("namespace").and_then(Value::as_str).unwrap_or("");
        Some(Self::new(
            split_api_version(api_version).0,
            kind,
            namespace,
            name,
        ))
    }

    /// The group/kind pair of this key.
    pub fn group_kind(&self) -> GroupKind {
        GroupKind::new(self.group.clone(), self.kind.clone())
    }

    /// Parses Argo CD's `--resource` syntax: `GROUP:KIND:NAMESPACE/NAME` or `GROUP:KIND:NAME`.
    pub fn parse_selector(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, ':');
        let group = parts.next()?;
        let kind = parts.next()?;
        let rest = parts.next()?;
        let (namespace, name) = match rest.split_once('/') {
            Some((ns, n)) => (ns, n),
            None => ("", rest),
        };
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        Some(Self::new(group, kind, namespace, name))
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.group.is_empty() {
            write!(f, "{}/", self.group)?;
        }
        write!(f, "{}:", self.kind)?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        write!(f, "{}", self.name)
    }
}

/// Splits `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_of_object() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}});
        let key = ResourceKey::of(&obj).unwrap();
        assert_eq!(key, ResourceKey::new("apps", "Deployment", "shop", "web"));
        assert_eq!(key.to_string(), "apps/Deployment:shop/web");
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}});
        assert_eq!(ResourceKey::of(&ns).unwrap().to_string(), "Namespace:shop");
        assert!(ResourceKey::of(&json!({"kind": "X"})).is_none());
    }

    #[test]
    fn parses_resource_selectors() {
        assert_eq!(
            ResourceKey::parse_selector("apps:Deployment:shop/web"),
            Some(ResourceKey::new("apps", "Deployment", "shop", "web"))
        );
        assert_eq!(
            ResourceKey::parse_selector(":Namespace:shop"),
            Some(ResourceKey::new("", "Namespace", "", "shop"))
        );
        assert_eq!(ResourceKey::parse_selector("nonsense"), None);
    }
}
