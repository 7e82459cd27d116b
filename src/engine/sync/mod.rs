//! Syncs: the plan (phases, waves, kind order, hooks, prune), its execution against a
//! cluster (server-side apply as `rekon`, taking fields Git sets from other managers as
//! Argo CD does, health waits, SyncFail hooks, retries), the sync
//! history kept in the cluster, and the auto-sync and self-heal rules. Semantics follow
//! Argo CD (`gitops-engine`) unless said otherwise.

pub mod annotations;
pub mod autosync;
pub mod execute;
mod groups;
pub mod history;
pub mod live_view;
pub mod plan;
pub mod probe;
pub mod retry;
pub mod writes;

pub use crate::model::{format_duration, parse_duration};
pub use execute::{ExecEvent, ExecJob, Reporter, run, step_title};
pub use live_view::{LiveEvent, LiveView};
pub use plan::{Plan, PlanError, PlanInput, Task, TaskKind, build};
pub use retry::{Backoff, RetryPolicy};

/// How long a sync waits for one group's health, hooks or deletions when not told otherwise.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
