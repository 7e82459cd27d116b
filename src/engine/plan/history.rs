//! The sync history's format: a ConfigMap `rekon-history.<app>` in the app's destination
//! namespace, labelled as rekon's and carrying no tracking id (so no prune ever touches it),
//! holding at most `revisionHistoryLimit` entries as JSON. Reading and writing it in the
//! cluster is the top-level `sync::history`'s.

use serde_json::{Value, json};

use crate::model::{
    Application, GroupKind, HistoryEntry, StepAction, StepStatus, SyncStep, TakenFields,
};

/// The data key holding the entries (a JSON array, oldest first).
pub const DATA_KEY: &str = "history.json";
/// The data key holding the kinds rekon ever applied for the app (a JSON array of
/// `{group, kind}`), so a restarted engine watches them and can prune what left Git.
pub const KINDS_KEY: &str = "kinds.json";

/// What the history ConfigMap holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// Recorded syncs, oldest first.
    pub entries: Vec<HistoryEntry>,
    /// Kinds the app's syncs applied.
    pub kinds: Vec<GroupKind>,
}
/// Label naming the app whose history a ConfigMap holds (its instance name).
pub const HISTORY_OF_LABEL: &str = "rekon.dev/history-of";
/// The standard label saying rekon manages the ConfigMap.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Entries kept when the app sets no `revisionHistoryLimit` (Argo CD's default).
pub const DEFAULT_LIMIT: usize = 10;

/// The ConfigMap's name: `rekon-history.<name>`, with the app's namespace in front of the
/// name when the Application is not in `argocd` (as its instance name does), so two apps of
/// the same name never share a history.
pub fn config_map_name(app: &Application) -> String {
    let ns = app.namespace();
    if ns == crate::engine::tracking::DEFAULT_APP_NAMESPACE {
        format!("rekon-history.{}", app.metadata.name)
    } else {
        format!("rekon-history.{ns}.{}", app.metadata.name)
    }
}

/// The namespace the history lives in: the app's destination namespace (`default` when unset).
pub fn namespace(app: &Application) -> String {
    match app.spec.destination.namespace.as_deref() {
        Some(ns) if !ns.is_empty() => ns.to_string(),
        _ => "default".to_string(),
    }
}

/// How many entries the app keeps.
pub fn limit(app: &Application) -> usize {
    app.spec
        .revision_history_limit
        .map(|l| l as usize)
        .unwrap_or(DEFAULT_LIMIT)
        .max(1)
}

/// Reads the entries (oldest first) and kinds from the ConfigMap.
pub fn decode(config_map: &Value) -> Result<Stored, String> {
    let text = |key: &str| {
        config_map
            .pointer(&format!("/data/{key}"))
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
    };
    let entries = match text(DATA_KEY) {
        Some(t) => serde_json::from_str(t)
            .map_err(|e| format!("data.{DATA_KEY} is not a history list: {e}"))?,
        None => Vec::new(),
    };
    let kinds = match text(KINDS_KEY) {
        Some(t) => serde_json::from_str(t)
            .map_err(|e| format!("data.{KINDS_KEY} is not a list of kinds: {e}"))?,
        None => Vec::new(),
    };
    Ok(Stored { entries, kinds })
}

/// The kinds a finished sync applied (hooks and prunes aside).
pub fn applied_kinds(steps: &[SyncStep]) -> Vec<GroupKind> {
    let mut kinds: Vec<GroupKind> = steps
        .iter()
        .filter(|s| s.status == StepStatus::Succeeded)
        .filter(|s| {
            matches!(
                s.action,
                StepAction::Created | StepAction::Configured | StepAction::Unchanged
            )
        })
        .map(|s| GroupKind::new(&s.group, &s.kind))
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Adds `entry` with the next id, keeping the newest `limit`; returns the id given.
pub fn append(entries: &mut Vec<HistoryEntry>, mut entry: HistoryEntry, limit: usize) -> u64 {
    let id = entries.iter().map(|e| e.id).max().unwrap_or(0) + 1;
    entry.id = id;
    entries.push(entry);
    if entries.len() > limit {
        let drop = entries.len() - limit;
        entries.drain(..drop);
    }
    id
}

/// The ConfigMap holding `stored` for `app` (`instance` is its tracking instance name).
pub fn config_map(app: &Application, instance: &str, stored: &Stored) -> Value {
    let data = serde_json::to_string(&stored.entries).unwrap_or_else(|_| "[]".into());
    let kinds = serde_json::to_string(&stored.kinds).unwrap_or_else(|_| "[]".into());
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": config_map_name(app),
            "namespace": namespace(app),
            "labels": {MANAGED_BY_LABEL: "rekon", HISTORY_OF_LABEL: label_value(instance)},
            "annotations": {"rekon.dev/app": app.qualified_name()},
        },
        "data": {DATA_KEY: data, KINDS_KEY: kinds},
    })
}

/// Label values hold at most 63 characters of `[-A-Za-z0-9_.]`.
fn label_value(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(63)
        .collect();
    clean
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// Counts of what the steps did: `2 created, 1 configured, 1 pruned, 1 hook, 1 failed`.
pub fn summary(steps: &[SyncStep]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    let mut bump = |word: &'static str| match counts.iter_mut().find(|(w, _)| *w == word) {
        Some((_, n)) => *n += 1,
        None => counts.push((word, 1)),
    };
    for s in steps {
        if s.status == StepStatus::Failed {
            bump("failed");
            continue;
        }
        if s.status != StepStatus::Succeeded {
            continue;
        }
        bump(match s.action {
            _ if s.replace => "replaced",
            StepAction::Created => "created",
            StepAction::Configured => "configured",
            StepAction::Unchanged => "unchanged",
            StepAction::Pruned => "pruned",
            StepAction::Hook => "hook",
            StepAction::Skipped => continue,
        });
    }
    if counts.is_empty() {
        return "nothing to do".into();
    }
    let order = [
        "created",
        "configured",
        "replaced",
        "unchanged",
        "pruned",
        "hook",
        "failed",
    ];
    counts.sort_by_key(|(w, _)| order.iter().position(|o| o == w));
    counts
        .iter()
        .map(|(w, n)| format!("{n} {w}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the applied steps took from other field managers, per object, so the history shows
/// that a sync reverted a hand edit.
pub fn taken(steps: &[SyncStep]) -> Vec<TakenFields> {
    steps
        .iter()
        .filter(|s| s.status == StepStatus::Succeeded && !s.takes.is_empty())
        .map(|s| TakenFields {
            resource: super::step_title(s),
            takes: s.takes.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{OperationPhase, SyncPhase};

    fn app(ns: &str, dest: Option<&str>) -> Application {
        serde_json::from_value(json!({
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {"source": {"repoURL": "/git"}, "destination": {"namespace": dest}}
        }))
        .unwrap()
    }

    fn entry(rev: &str) -> HistoryEntry {
        HistoryEntry {
            id: 0,
            revision: rev.into(),
            author: "A <a@x>".into(),
            commit_message: "msg".into(),
            started_at: "2025-01-01T00:00:00Z".into(),
            finished_at: "2025-01-01T00:00:05Z".into(),
            phase: OperationPhase::Succeeded,
            initiated_by: "me@host".into(),
            summary: "1 created".into(),
            taken: Vec::new(),
        }
    }

    #[test]
    fn names_and_namespace() {
        assert_eq!(config_map_name(&app("argocd", None)), "rekon-history.web");
        assert_eq!(
            config_map_name(&app("team", None)),
            "rekon-history.team.web"
        );
        assert_eq!(namespace(&app("argocd", Some("shop"))), "shop");
        assert_eq!(namespace(&app("argocd", None)), "default");
    }

    #[test]
    fn append_gives_increasing_ids_and_keeps_the_limit() {
        let mut entries = Vec::new();
        for i in 0..12 {
            let id = append(&mut entries, entry(&format!("r{i}")), 10);
            assert_eq!(id, i + 1);
        }
        assert_eq!(entries.len(), 10);
        assert_eq!(entries[0].id, 3);
        assert_eq!(entries[9].revision, "r11");
    }

    #[test]
    fn config_map_round_trips_and_carries_no_tracking_id() {
        let a = app("argocd", Some("shop"));
        let mut stored = Stored {
            entries: Vec::new(),
            kinds: vec![
                GroupKind::new("apps", "Deployment"),
                GroupKind::new("", "ConfigMap"),
            ],
        };
        append(&mut stored.entries, entry("abc"), 10);
        let cm = config_map(&a, "web", &stored);
        assert_eq!(cm["metadata"]["labels"][HISTORY_OF_LABEL], "web");
        assert_eq!(cm["metadata"]["labels"][MANAGED_BY_LABEL], "rekon");
        assert!(crate::engine::tracking::tracking_id(&cm).is_none());
        assert_eq!(decode(&cm).unwrap(), stored);
        assert_eq!(decode(&json!({"data": {}})).unwrap(), Stored::default());
        assert!(
            decode(&json!({"data": {DATA_KEY: "nope"}}))
                .unwrap_err()
                .contains("history.json")
        );
        assert_eq!(label_value("team_web"), "team_web");
    }

    #[test]
    fn summary_counts_what_happened() {
        let step = |action, status| SyncStep {
            phase: SyncPhase::Sync,
            wave: 0,
            group: String::new(),
            version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: "shop".into(),
            name: "a".into(),
            action,
            status,
            message: String::new(),
            takes: Vec::new(),
            replace: false,
        };
        let steps = vec![
            step(StepAction::Configured, StepStatus::Succeeded),
            step(StepAction::Created, StepStatus::Succeeded),
            step(StepAction::Created, StepStatus::Succeeded),
            step(StepAction::Pruned, StepStatus::Succeeded),
            step(StepAction::Hook, StepStatus::Failed),
            step(StepAction::Skipped, StepStatus::Skipped),
        ];
        assert_eq!(
            summary(&steps),
            "2 created, 1 configured, 1 pruned, 1 failed"
        );
        assert_eq!(applied_kinds(&steps), [GroupKind::new("", "ConfigMap")]);
        assert_eq!(summary(&[]), "nothing to do");
    }
}
