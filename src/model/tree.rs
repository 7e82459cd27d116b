//! An app's topology as the tree view and `rekon tree` show it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{HealthStatus, ResourceKey, SyncStatus};

/// One object in an app's topology: the app itself, a managed resource, or a child found
/// through ownerReferences or an inferred edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TreeNode {
    /// Group, kind, namespace and name.
    #[serde(flatten)]
    pub key: ResourceKey,
    /// API version (`v1`, `v1beta1` …) of the live object, or of the desired one when missing.
    pub version: String,
    /// metadata.uid of the live object; `None` when it is not in the cluster.
    pub uid: Option<String>,
    /// Health, `None` for kinds without a health rule.
    pub health: Option<HealthStatus>,
    /// Sync state; only the app and its managed resources have one.
    pub sync: Option<SyncStatus>,
    /// Short facts in display order: pod phase, ready containers, restarts, images, age.
    #[serde(serialize_with = "info_out", deserialize_with = "info_in")]
    pub info: Vec<(String, String)>,
    /// Children, sorted by kind order then name.
    pub children: Vec<TreeNode>,
}

impl TreeNode {
    /// Number of nodes in this subtree, itself included.
    pub fn len(&self) -> usize {
        1 + self.children.iter().map(TreeNode::len).sum::<usize>()
    }

    /// Always false: a tree holds at least its root.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The value of an info entry, if present.
    pub fn info_value(&self, name: &str) -> Option<&str> {
        self.info
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Info pairs travel as `[{name, value}]`, the shape Argo CD's API uses.
#[derive(Serialize, Deserialize)]
struct InfoItem {
    name: String,
    value: String,
}

fn info_out<S: Serializer>(info: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(info.iter().map(|(name, value)| InfoItem {
        name: name.clone(),
        value: value.clone(),
    }))
}

fn info_in<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    let items = Vec::<InfoItem>::deserialize(d)?;
    Ok(items.into_iter().map(|i| (i.name, i.value)).collect())
}
