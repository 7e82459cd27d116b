//! The actor's inbox: what spawned tasks (renders, discoveries, watches, comparisons,
//! syncs, patches of observed objects) send back to the actor loop in `actor.rs`. Results
//! of work that can be outdated carry the generation or id that asked for them; the
//! actor drops stale ones.

use std::collections::HashMap;
use std::sync::Arc;

use crate::cluster::{ApiCatalog, WatchMsg};
use crate::engine::compare::ResourceOutcome;
use crate::engine::desired::DesiredObject;
use crate::model::{Operation, ResourceDiff, SyncOptions, SyncPlan};
use crate::source::{Rendered, SourceError};
use crate::sync::history;

use super::Reply;
use super::observed::ObservedId;

/// A message to the actor loop.
pub(super) enum Msg {
    Rendered {
        app: usize,
        generation: u64,
        result: Result<Rendered, SourceError>,
    },
    Catalog {
        cluster: usize,
        result: Result<ApiCatalog, String>,
    },
    Watch {
        cluster: usize,
        msg: WatchMsg,
    },
    Compared {
        app: usize,
        generation: u64,
        outcomes: Vec<ResourceOutcome>,
    },
    /// A comparison's turn came (see [`Actor::compare`]): build its job now.
    CompareTurn(Box<CompareTurn>),
    RevisionRendered {
        app: usize,
        result: Result<Rendered, SourceError>,
        reply: Reply<Vec<ResourceDiff>>,
    },
    /// Actions on observed apps (see observed_actions.rs).
    Observed(ObsMsg),
    /// Sync operations' messages (see syncs.rs).
    Op(OpMsg),
}

/// A comparison waiting for its turn: what [`Actor::compare`] checked, and the turn.
pub(super) struct CompareTurn {
    pub(super) app: usize,
    pub(super) cluster: usize,
    pub(super) generation: u64,
    pub(super) catalog: Arc<ApiCatalog>,
    pub(super) desired: Arc<Vec<DesiredObject>>,
    pub(super) unavailable: HashMap<(String, String), String>,
    pub(super) permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// Replies and results of sync operations (see syncs.rs).
pub(super) enum OpMsg {
    /// A revision other than the current one was rendered for a request.
    RevisionRendered {
        request: SyncRequest,
        result: Result<Rendered, SourceError>,
    },
    /// Progress of a running operation.
    Progress { app: usize, id: u64, op: Operation },
    /// The operation ended before or after executing.
    Finished {
        app: usize,
        id: u64,
        result: Result<Operation, String>,
        history: Option<Result<history::Stored, String>>,
    },
    /// The history was read from the cluster.
    History {
        app: usize,
        result: Result<history::Stored, String>,
    },
    /// A rollback found (or did not find) its history entry.
    RollbackResolved {
        app: usize,
        revision: Result<String, String>,
        initiated_by: String,
        options: SyncOptions,
        reply: Option<Reply<Operation>>,
    },
    /// A self-heal's delay is over.
    HealDue { app: usize },
    /// A running sync starts or ends a burst of writes.
    Writing { app: usize, id: u64, writing: bool },
}

/// A plan or sync request travelling through the steps that prepare it.
pub(super) struct SyncRequest {
    pub(super) app: usize,
    pub(super) options: SyncOptions,
    pub(super) purpose: SyncPurpose,
}

pub(super) enum SyncPurpose {
    /// Answer with the plan.
    Plan(Reply<SyncPlan>),
    /// Run the sync operation `id` (the app's running one).
    Sync { id: u64 },
}

/// Messages of observed actions (see observed_actions.rs and followers.rs).
#[derive(Debug)]
pub(super) enum ObsMsg {
    /// A patch was written (or refused).
    Patched {
        follower: u64,
        result: Result<(), String>,
    },
    /// A follower waited too long.
    Expired { follower: u64 },
    /// A diff was computed; kept for the app's detail.
    Diffed {
        app: ObservedId,
        diffs: Vec<ResourceDiff>,
    },
}
