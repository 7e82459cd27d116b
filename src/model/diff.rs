//! One resource's desired and live texts, as the compare step leaves them.

use serde::Serialize;

use super::ResourceKey;

/// One resource's comparison, ready to show. Both texts are normalized and masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceDiff {
    /// Which object.
    #[serde(flatten)]
    pub key: ResourceKey,
    /// Desired (or dry-run predicted) YAML; `None` when Git does not hold the object.
    pub desired: Option<String>,
    /// Live YAML; `None` when the cluster does not hold the object.
    pub live: Option<String>,
    /// Whether the two differ (including one side missing).
    pub changed: bool,
}
