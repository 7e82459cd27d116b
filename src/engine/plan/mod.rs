//! Sync planning, as pure data: the plan (phases, waves, kind order, hooks, prune), the
//! sync annotations it reads, the verdicts on a step from its live object, the retry policy,
//! the auto-sync and self-heal rules, and the sync history's format. Running a plan against
//! a cluster is the top-level `sync` module's. Semantics follow Argo CD (`gitops-engine`)
//! unless said otherwise.

pub mod annotations;
pub mod autosync;
pub mod history;
pub mod retry;
pub mod tasks;
pub mod verdict;

pub use retry::{Backoff, RetryPolicy};
pub use tasks::{Plan, PlanError, PlanInput, Task, TaskKind, build, step_title};
