//! Runs a sync plan against a cluster: server-side apply as `rekon` (taking fields Git sets
//! from other managers as Argo CD does), health waits, SyncFail hooks, retries, and the sync
//! history kept in the cluster. Imports `engine` (the plan) and `cluster` (the client);
//! nothing below imports it.

pub mod execute;
mod groups;
pub mod history;
pub mod live_view;
pub mod probe;
pub mod writes;

pub use execute::{ExecEvent, ExecJob, Reporter, run};
pub use live_view::{LiveEvent, LiveView};

/// How long a sync waits for one group's health, hooks or deletions when not told otherwise.
pub const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
