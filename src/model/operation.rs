//! Syncs as data: the request, the plan shown before confirming, the running operation with
//! its steps (the `sync -o json` contract in the README) and the history entries.

use serde::{Deserialize, Serialize};

use super::ResourceKey;

/// Sync phases in the order they run (SyncFail only after a failure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SyncPhase {
    /// Hooks before anything is applied.
    PreSync,
    /// The app's objects (and Sync hooks).
    Sync,
    /// Hooks after every wave is healthy.
    PostSync,
    /// Hooks run when any phase failed.
    SyncFail,
}

/// What a step does (or did) to its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepAction {
    /// The object did not exist and is created.
    Created,
    /// The object exists and is changed.
    Configured,
    /// The object already matches.
    Unchanged,
    /// The object is deleted (tracked, gone from Git).
    Pruned,
    /// A hook object is created and waited for.
    Hook,
    /// Not touched (`ApplyOutOfSyncOnly`, `Prune=false`, pruning not asked for …).
    Skipped,
}

/// How a step ended (or stands).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StepStatus {
    /// Not started yet.
    Pending,
    /// Applied, waiting for health or completion.
    Running,
    /// Done.
    Succeeded,
    /// Failed; the message says why.
    Failed,
    /// Not run.
    Skipped,
}

/// One step of a sync, planned or done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStep {
    /// Phase it belongs to.
    pub phase: SyncPhase,
    /// Sync wave (`argocd.argoproj.io/sync-wave`, default 0).
    pub wave: i32,
    /// API group.
    pub group: String,
    /// API version used to write it.
    #[serde(default)]
    pub version: String,
    /// Kind.
    pub kind: String,
    /// Namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// What it does.
    pub action: StepAction,
    /// Where it stands.
    pub status: StepStatus,
    /// Why it failed or was skipped, or what it waits for.
    pub message: String,
    /// Fields Git sets that other field managers own: the apply takes them over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub takes: Vec<FieldTakeover>,
    /// The server refuses the change (an immutable field) and `--force` deletes and creates
    /// the object again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replace: bool,
}

/// Fields one other field manager owns that a sync's apply takes from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldTakeover {
    /// The other manager, e.g. `kubectl-edit`.
    pub manager: String,
    /// Fields in Kubernetes' notation, e.g. `.spec.replicas`.
    pub fields: Vec<String>,
}

impl FieldTakeover {
    /// `.spec.replicas from kubectl`, `.a, .b from helm`.
    pub fn describe(&self) -> String {
        format!("{} from {}", self.fields.join(", "), self.manager)
    }

    /// Groups (manager, field) pairs by manager, keeping the first order of each.
    pub fn group(pairs: impl IntoIterator<Item = (String, String)>) -> Vec<FieldTakeover> {
        let mut out: Vec<FieldTakeover> = Vec::new();
        for (manager, field) in pairs {
            match out.iter_mut().find(|t| t.manager == manager) {
                Some(t) if !t.fields.contains(&field) => t.fields.push(field),
                Some(_) => {}
                None => out.push(FieldTakeover {
                    manager,
                    fields: vec![field],
                }),
            }
        }
        out
    }
}

/// `takes .spec.replicas from kubectl; takes .data.key from helm`, empty when nothing.
pub fn describe_takeovers(takes: &[FieldTakeover]) -> String {
    takes
        .iter()
        .map(|t| format!("takes {}", t.describe()))
        .collect::<Vec<_>>()
        .join("; ")
}

impl SyncStep {
    /// The object this step is about.
    pub fn key(&self) -> ResourceKey {
        ResourceKey::new(&self.group, &self.kind, &self.namespace, &self.name)
    }
}

/// What the user asks a sync to do.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncOptions {
    /// Delete tracked objects that left Git.
    pub prune: bool,
    /// Server dry run of every step; nothing changes.
    pub dry_run: bool,
    /// Delete and create again the objects whose apply the server refuses because an
    /// immutable field changed (`argocd app sync --force`).
    pub force: bool,
    /// Fail before any change when another field manager owns a field Git sets, instead of
    /// taking it over.
    #[serde(default)]
    pub refuse_conflicts: bool,
    /// Only apply resources that are OutOfSync.
    pub apply_out_of_sync_only: bool,
    /// Selective sync: only these resources, no hooks, not recorded in history.
    pub resources: Vec<ResourceKey>,
    /// Sync this revision instead of the app's targetRevision (rollback uses it).
    pub revision: Option<String>,
    /// Give up waiting for health after this many seconds (default 300).
    pub timeout_secs: Option<u64>,
}

/// A sync's plan: every step in the order it will run, shown before the user confirms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncPlan {
    /// `namespace/name` of the app.
    pub app: String,
    /// Full SHA being synced.
    pub revision: String,
    /// Steps, phase by phase, wave by wave.
    pub steps: Vec<SyncStep>,
    /// The options it was planned with.
    pub options: SyncOptions,
}

/// How a whole operation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OperationPhase {
    /// Still running.
    Running,
    /// Every step succeeded.
    Succeeded,
    /// A step failed (SyncFail hooks ran).
    Failed,
    /// Stopped by the user.
    Terminated,
}

/// A sync operation, running or finished (`sync -o json` prints this).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    /// `namespace/name` of the app.
    pub app: String,
    /// Where it stands.
    pub phase: OperationPhase,
    /// Full SHA synced.
    pub revision: String,
    /// Steps in the order they ran (pending ones last).
    pub steps: Vec<SyncStep>,
    /// Summary, or what failed.
    pub message: String,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end, when finished.
    pub finished_at: Option<String>,
    /// Who started it (`user@host`, `auto-sync`, `self-heal`, `rollback`).
    pub initiated_by: String,
    /// It was a dry run.
    pub dry_run: bool,
}

/// One recorded sync (`rekon history`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    /// Increasing id, for `rekon rollback APP ID`.
    pub id: u64,
    /// Full SHA synced.
    pub revision: String,
    /// Commit author, when known.
    #[serde(default)]
    pub author: String,
    /// Commit summary line, when known.
    #[serde(default)]
    pub commit_message: String,
    /// RFC 3339 start.
    pub started_at: String,
    /// RFC 3339 end.
    pub finished_at: String,
    /// How it ended.
    pub phase: OperationPhase,
    /// Who started it.
    pub initiated_by: String,
    /// e.g. `3 created, 2 configured, 1 pruned`.
    pub summary: String,
    /// Fields the sync took from other field managers, per object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taken: Vec<TakenFields>,
}

/// What one sync took from other field managers on one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TakenFields {
    /// The object, `group/Kind namespace/name`.
    pub resource: String,
    /// From whom, which fields.
    pub takes: Vec<FieldTakeover>,
}

/// Who starts an operation from this machine, as the history records it: `user@host`, the
/// same from every front end (TUI, CLI, `rekon run`).
pub fn initiator() -> String {
    let hostname_file = || std::fs::read_to_string("/etc/hostname").ok();
    initiator_from(|name| std::env::var(name).ok(), hostname_file)
}

/// `user@host` from `USER`, `USERNAME` or `LOGNAME` (else `unknown`) and `HOSTNAME` or the
/// hostname file (else `localhost`); empty values count as unset.
fn initiator_from(
    env: impl Fn(&str) -> Option<String>,
    hostname_file: impl FnOnce() -> Option<String>,
) -> String {
    let set = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let user = ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|name| set(env(name)))
        .unwrap_or_else(|| "unknown".into());
    let host = set(env("HOSTNAME"))
        .or_else(|| set(hostname_file()))
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host}")
}

#[cfg(test)]
mod initiator_tests {
    use super::initiator_from;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn user_and_host_come_from_the_environment_with_one_fallback_each() {
        let both = [("USER", "ana"), ("HOSTNAME", "laptop")];
        assert_eq!(initiator_from(env(&both), || None), "ana@laptop");
        // Empty counts as unset; LOGNAME is the last resort for the user, the hostname
        // file for the host.
        let sparse = [("USER", ""), ("LOGNAME", "bo"), ("HOSTNAME", "")];
        let file = || Some("box\n".to_string());
        assert_eq!(initiator_from(env(&sparse), file), "bo@box");
        assert_eq!(initiator_from(env(&[]), || None), "unknown@localhost");
    }
}
