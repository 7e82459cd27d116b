//! One resource's comparison outcome: its sync state, diff and how desired was predicted.
//! Running the comparison against a cluster (dry runs, fetches) lives in the cluster layer.

use super::desired::DesiredObject;
use super::normalize::CompareMethod;
use crate::model::{ResourceDiff, ResourceKey, SyncStatus};

/// The field manager rekon applies (and dry-runs) as.
pub const FIELD_MANAGER: &str = "rekon";

/// One resource's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceOutcome {
    /// Which object.
    pub key: ResourceKey,
    /// API version (from Git, or live for extras).
    pub version: String,
    /// Normalized, masked texts; both `None` when they do not differ (see
    /// [`ResourceOutcome::drop_texts_if_unchanged`]).
    pub diff: ResourceDiff,
    /// Sync state of this resource.
    pub sync: SyncStatus,
    /// Why it is Unknown or how it was compared, when worth saying.
    pub message: String,
    /// Live and tracked, but gone from Git.
    pub requires_pruning: bool,
    /// How desired was predicted; `None` when nothing was compared.
    pub method: Option<CompareMethod>,
}

impl ResourceOutcome {
    /// Forgets both texts when they do not differ. Every reader of a diff's texts shows
    /// changed resources only, and the two texts of every Synced resource of every app
    /// stayed in memory as long as the comparison (profiled: 1,000 apps).
    pub fn drop_texts_if_unchanged(&mut self) {
        if !self.diff.changed {
            self.diff.desired = None;
            self.diff.live = None;
        }
    }

    /// The outcome of a desired object compared against its live object: Synced unless the
    /// diff changed.
    pub fn compared(
        d: &DesiredObject,
        version: String,
        diff: ResourceDiff,
        method: CompareMethod,
        message: String,
    ) -> ResourceOutcome {
        let sync = if diff.changed {
            SyncStatus::OutOfSync
        } else {
            SyncStatus::Synced
        };
        ResourceOutcome {
            key: d.key.clone(),
            version,
            diff,
            sync,
            message,
            requires_pruning: false,
            method: Some(method),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(changed: bool) -> ResourceOutcome {
        let key = ResourceKey::new("", "ConfigMap", "shop", "settings");
        ResourceOutcome {
            key: key.clone(),
            version: "v1".into(),
            diff: ResourceDiff {
                key,
                desired: Some("data:\n  a: \"1\"\n".into()),
                live: Some("data:\n  a: \"2\"\n".into()),
                changed,
            },
            sync: if changed {
                SyncStatus::OutOfSync
            } else {
                SyncStatus::Synced
            },
            message: String::new(),
            requires_pruning: false,
            method: Some(CompareMethod::ServerSideDryRun),
        }
    }

    #[test]
    fn only_changed_outcomes_keep_their_texts() {
        let mut same = outcome(false);
        same.drop_texts_if_unchanged();
        assert_eq!((same.diff.desired, same.diff.live), (None, None));
        let mut drifted = outcome(true);
        drifted.drop_texts_if_unchanged();
        assert_eq!(drifted, outcome(true));
    }
}
