//! Health and sync words, as Argo CD uses them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Health of an object or an app, ordered from best to worst (Argo CD's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Health {
    /// Running as intended.
    Healthy,
    /// Paused or suspended on purpose.
    Suspended,
    /// Not yet healthy, still converging.
    Progressing,
    /// Expected but absent from the cluster.
    Missing,
    /// Failed or cannot converge.
    Degraded,
    /// Health could not be assessed.
    Unknown,
}

impl Health {
    /// Every health value, best first.
    pub const ALL: [Health; 6] = [
        Health::Healthy,
        Health::Suspended,
        Health::Progressing,
        Health::Missing,
        Health::Degraded,
        Health::Unknown,
    ];

    /// The word Argo CD prints for this health.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Suspended => "Suspended",
            Health::Progressing => "Progressing",
            Health::Missing => "Missing",
            Health::Degraded => "Degraded",
            Health::Unknown => "Unknown",
        }
    }

    /// Argo CD's "is worse" relation (declaration order), used to aggregate app health.
    pub fn is_worse_than(self, other: Health) -> bool {
        self > other
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A health verdict with the reason behind it, as shown next to an object or an app.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HealthStatus {
    /// The health word.
    pub status: Health,
    /// Why, in a short sentence (may be empty when there is nothing to add).
    pub message: String,
}

impl HealthStatus {
    /// Builds a verdict from a health word and a message.
    pub fn new(status: Health, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

/// Whether the cluster matches Git.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SyncStatus {
    /// Live state equals desired state.
    Synced,
    /// Something differs, is missing, or must be pruned.
    OutOfSync,
    /// Could not be compared.
    Unknown,
}

impl SyncStatus {
    /// Every sync value.
    pub const ALL: [SyncStatus; 3] = [
        SyncStatus::Synced,
        SyncStatus::OutOfSync,
        SyncStatus::Unknown,
    ];

    /// The word Argo CD prints for this status.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Synced => "Synced",
            SyncStatus::OutOfSync => "OutOfSync",
            SyncStatus::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for SyncStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_is_worst() {
        assert!(Health::Unknown.is_worse_than(Health::Degraded));
        assert!(Health::Missing.is_worse_than(Health::Progressing));
        assert!(!Health::Healthy.is_worse_than(Health::Suspended));
    }
}
