//! An app's life on one time axis: Kubernetes events of its objects, its syncs, and its own
//! health and sync transitions, so a deployment can be tied to what followed it.

use serde_json::Value;

use crate::model::{
    AppSnapshot, HistoryEntry, Operation, OperationPhase, ResourceKey, TimelineEntry, TimelineKind,
    TreeNode, short_sha, split_api_version,
};

/// Entries kept per app; older ones fall off.
pub const MAX_ENTRIES: usize = 200;

/// A core/v1 Event as a timeline entry; `None` for objects that are not events.
pub fn event_entry(event: &Value) -> Option<TimelineEntry> {
    if event["kind"] != "Event" {
        return None;
    }
    let time = ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .filter_map(|k| event[*k].as_str())
        .find(|t| !t.is_empty())
        .or_else(|| event["metadata"]["creationTimestamp"].as_str())?
        .to_string();
    let involved = &event["involvedObject"];
    let object = involved["kind"].as_str().map(|kind| {
        let api_version = involved["apiVersion"].as_str().unwrap_or("v1");
        ResourceKey::new(
            split_api_version(api_version).0,
            kind,
            involved["namespace"].as_str().unwrap_or(""),
            involved["name"].as_str().unwrap_or(""),
        )
    });
    let count = event["count"].as_u64().unwrap_or(1);
    let mut message = event["message"].as_str().unwrap_or("").trim().to_string();
    if count > 1 {
        message.push_str(&format!(" (×{count})"));
    }
    Some(TimelineEntry {
        time,
        kind: TimelineKind::Event,
        object,
        reason: event["reason"].as_str().unwrap_or("").to_string(),
        message,
        warning: event["type"] == "Warning",
    })
}

/// The app's own changes between two summaries: health and sync transitions.
pub fn transitions(before: &AppSnapshot, after: &AppSnapshot, now: &str) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    if before.health != after.health {
        out.push(TimelineEntry {
            time: now.to_string(),
            kind: TimelineKind::Health,
            object: None,
            reason: after.health.to_string(),
            message: format!("health {} → {}", before.health, after.health),
            warning: matches!(
                after.health,
                crate::model::Health::Degraded | crate::model::Health::Missing
            ),
        });
    }
    if before.sync != after.sync {
        out.push(TimelineEntry {
            time: now.to_string(),
            kind: TimelineKind::SyncStatus,
            object: None,
            reason: after.sync.to_string(),
            message: format!("sync {} → {}", before.sync, after.sync),
            warning: after.sync == crate::model::SyncStatus::OutOfSync,
        });
    }
    out
}

/// A sync's start and (when finished) its end.
pub fn operation_entries(op: &Operation) -> Vec<TimelineEntry> {
    let short = short_sha(&op.revision);
    let what = if op.dry_run { "dry-run sync" } else { "sync" };
    let mut out = vec![TimelineEntry {
        time: op.started_at.clone(),
        kind: TimelineKind::Sync,
        object: None,
        reason: "SyncStarted".into(),
        message: format!("{what} to {short} started by {}", op.initiated_by),
        warning: false,
    }];
    if let Some(end) = &op.finished_at {
        let (reason, warning) = match op.phase {
            OperationPhase::Succeeded => ("SyncSucceeded", false),
            OperationPhase::Failed => ("SyncFailed", true),
            OperationPhase::Terminated => ("SyncTerminated", true),
            OperationPhase::Running => ("SyncRunning", false),
        };
        out.push(TimelineEntry {
            time: end.clone(),
            kind: TimelineKind::Sync,
            object: None,
            reason: reason.into(),
            message: if op.message.is_empty() {
                format!("{what} to {short} ended")
            } else {
                op.message.clone()
            },
            warning,
        });
    }
    out
}

/// A recorded sync as its start and end.
pub fn history_entries(h: &HistoryEntry) -> Vec<TimelineEntry> {
    let short = short_sha(&h.revision);
    let (reason, warning) = match h.phase {
        OperationPhase::Succeeded => ("SyncSucceeded", false),
        OperationPhase::Failed => ("SyncFailed", true),
        OperationPhase::Terminated => ("SyncTerminated", true),
        OperationPhase::Running => ("SyncRunning", false),
    };
    vec![
        TimelineEntry {
            time: h.started_at.clone(),
            kind: TimelineKind::Sync,
            object: None,
            reason: "SyncStarted".into(),
            message: format!("sync {} to {short} started by {}", h.id, h.initiated_by),
            warning: false,
        },
        TimelineEntry {
            time: h.finished_at.clone(),
            kind: TimelineKind::Sync,
            object: None,
            reason: reason.into(),
            message: format!("sync {} to {short}: {}", h.id, h.summary),
            warning,
        },
    ]
}

/// The UIDs of every live object in a tree, for finding their events.
pub fn tree_uids(tree: &TreeNode) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![tree];
    while let Some(node) = stack.pop() {
        if let Some(uid) = &node.uid {
            out.push(uid.clone());
        }
        stack.extend(node.children.iter());
    }
    out
}

/// Oldest first, duplicates removed, at most [`MAX_ENTRIES`] (the newest kept).
pub fn arrange(mut entries: Vec<TimelineEntry>) -> Vec<TimelineEntry> {
    entries.sort_by(|a, b| {
        timestamp(&a.time)
            .cmp(&timestamp(&b.time))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    entries.dedup();
    if entries.len() > MAX_ENTRIES {
        entries.drain(..entries.len() - MAX_ENTRIES);
    }
    entries
}

/// Timestamps compare as instants, whatever their precision (`…Z` against `….123456Z`).
fn timestamp(text: &str) -> i128 {
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_nanosecond())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Health, ManagedBy, SyncStatus};
    use serde_json::json;

    fn snap(health: Health, sync: SyncStatus) -> AppSnapshot {
        AppSnapshot {
            name: "web".into(),
            namespace: "argocd".into(),
            managed_by: ManagedBy::Rekon,
            kind: "Application".into(),
            cluster: "c".into(),
            destination_namespace: "web".into(),
            repo_url: "r".into(),
            path: ".".into(),
            target_revision: "HEAD".into(),
            revision: None,
            sync,
            health,
            message: String::new(),
            auto_sync: false,
            last_sync: None,
            resources: Default::default(),
            operation: None,
            origin: Default::default(),
            detail: None,
        }
    }

    #[test]
    fn events_become_entries_with_their_object_and_count() {
        let e = json!({"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "x", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "involvedObject": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "web", "name": "web"},
            "reason": "ScalingReplicaSet", "message": "Scaled up", "type": "Normal",
            "count": 3, "lastTimestamp": "2026-01-01T00:01:00Z"});
        let entry = event_entry(&e).unwrap();
        assert_eq!(entry.time, "2026-01-01T00:01:00Z");
        assert_eq!(
            entry.object,
            Some(ResourceKey::new("apps", "Deployment", "web", "web"))
        );
        assert_eq!(entry.message, "Scaled up (×3)");
        assert!(!entry.warning);
        assert!(event_entry(&json!({"kind": "Pod"})).is_none());
    }

    #[test]
    fn transitions_name_the_change_and_warn_on_the_bad_ones() {
        let before = snap(Health::Healthy, SyncStatus::Synced);
        let after = snap(Health::Degraded, SyncStatus::OutOfSync);
        let t = transitions(&before, &after, "2026-01-01T00:00:00Z");
        assert_eq!(t.len(), 2);
        assert!(t.iter().all(|e| e.warning));
        assert_eq!(t[0].message, "health Healthy → Degraded");
        assert!(transitions(&before, &before, "now").is_empty());
    }

    #[test]
    fn arrange_sorts_by_instant_and_keeps_the_newest() {
        let entry = |t: &str| TimelineEntry {
            time: t.into(),
            kind: TimelineKind::Event,
            object: None,
            reason: "r".into(),
            message: t.into(),
            warning: false,
        };
        let out = arrange(vec![
            entry("2026-01-01T00:00:02Z"),
            entry("2026-01-01T00:00:01.500000Z"),
            entry("2026-01-01T00:00:02Z"),
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].time, "2026-01-01T00:00:01.500000Z");
        let many: Vec<_> = (0..MAX_ENTRIES + 5)
            .map(|i| entry(&format!("2026-01-01T00:{:02}:{:02}Z", i / 60, i % 60)))
            .collect();
        let kept = arrange(many);
        assert_eq!(kept.len(), MAX_ENTRIES);
        assert_eq!(kept[0].time, "2026-01-01T00:00:05Z");
    }
}
