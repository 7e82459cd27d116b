//! The vocabulary of the front ends: what they may ask the runtime ([`Request`], plain
//! data) and what comes back ([`Answer`]). [`Request::into_command`] is the one table from a
//! request to the [`EngineCommand`] that carries it with its reply channel.

use std::future::Future;
use std::pin::Pin;

use tokio::sync::oneshot;

use super::{EngineCommand, ObservedCommand};
use crate::integrations::flux_graph::FluxGraph;
use crate::integrations::images::PolicyImages;
use crate::model::{Operation, ResourceDiff, ResourceKey, SyncOptions, SyncPlan};

/// What a front end asks the runtime, as plain data. Apps are named `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Fetch Git and compare again (no answer).
    Refresh {
        /// The app.
        app: String,
        /// Drop cached dry runs too.
        hard: bool,
    },
    /// The plan of a sync with these options.
    Plan {
        /// The app.
        app: String,
        /// Sync options.
        options: SyncOptions,
    },
    /// Start a sync; the answer is the finished operation.
    Sync {
        /// The app.
        app: String,
        /// Sync options.
        options: SyncOptions,
    },
    /// Stop the running operation (no answer).
    Terminate {
        /// The app.
        app: String,
    },
    /// Sync the revision of a history entry; the answer is the finished operation.
    Rollback {
        /// The app.
        app: String,
        /// History entry id.
        id: u64,
        /// How to sync it (`force`, `refuse_conflicts`).
        options: SyncOptions,
    },
    /// The live object as YAML, secrets masked.
    LiveYaml {
        /// The app.
        app: String,
        /// The object.
        key: ResourceKey,
    },
    /// Desired at a revision against live.
    DiffRevision {
        /// The app.
        app: String,
        /// Commit, branch or tag.
        revision: String,
    },
    /// Flux: reconcile now; the answer comes once Ready (or failed).
    Reconcile {
        /// The Flux app.
        app: String,
        /// Reconcile its source first.
        with_source: bool,
    },
    /// Flux: suspend; the answer comes once the patch is written.
    Suspend {
        /// The Flux app.
        app: String,
    },
    /// Flux: resume and reconcile; the answer comes once Ready (or failed).
    Resume {
        /// The Flux app.
        app: String,
    },
    /// The Flux graph of every cluster.
    FluxGraph,
    /// Every ImagePolicy against the images workloads run.
    Images,
}

/// The runtime's answer to a [`Request`] (or the error that stood in for one).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// To [`Request::Plan`].
    Plan(Result<SyncPlan, String>),
    /// To [`Request::Sync`] and [`Request::Rollback`].
    Operation(Result<Operation, String>),
    /// To [`Request::LiveYaml`].
    Yaml(Result<String, String>),
    /// To [`Request::DiffRevision`].
    Diffs(Result<Vec<ResourceDiff>, String>),
    /// To [`Request::Reconcile`], [`Request::Suspend`] and [`Request::Resume`]: what Flux
    /// reported (the Ready message), or why it failed.
    Done(Result<String, String>),
    /// To [`Request::FluxGraph`].
    Graph(Result<Vec<FluxGraph>, String>),
    /// To [`Request::Images`].
    Images(Result<Vec<PolicyImages>, String>),
}

/// An answer on its way from the runtime.
pub type PendingAnswer = Pin<Box<dyn Future<Output = Answer> + Send>>;

/// A reply channel whose answer arrives wrapped as an [`Answer`].
fn ask<T: Send + 'static>(
    wrap: fn(Result<T, String>) -> Answer,
    command: impl FnOnce(oneshot::Sender<Result<T, String>>) -> EngineCommand,
) -> (EngineCommand, Option<PendingAnswer>) {
    let (reply, rx) = oneshot::channel();
    let answer = Box::pin(async move {
        wrap(
            rx.await
                .unwrap_or_else(|_| Err("the engine dropped the request without answering".into())),
        )
    });
    (command(reply), Some(answer))
}

impl Request {
    /// The command carrying this request, and its answer to wait for (none for a refresh
    /// or a terminate). `initiated_by` is recorded with syncs and rollbacks.
    pub fn into_command(self, initiated_by: &str) -> (EngineCommand, Option<PendingAnswer>) {
        use EngineCommand as C;
        use ObservedCommand as O;
        let by = initiated_by.to_string();
        match self {
            Request::Refresh { app, hard } => (
                C::Refresh {
                    app: Some(app),
                    hard,
                },
                None,
            ),
            Request::Terminate { app } => (C::Terminate { app }, None),
            Request::Plan { app, options } => ask(Answer::Plan, |reply| C::Plan {
                app,
                options,
                reply,
            }),
            Request::Sync { app, options } => ask(Answer::Operation, |r| C::Sync {
                app,
                options,
                initiated_by: by,
                reply: Some(r),
            }),
            Request::Rollback { app, id, options } => ask(Answer::Operation, |r| C::Rollback {
                app,
                id,
                options,
                initiated_by: by,
                reply: Some(r),
            }),
            Request::LiveYaml { app, key } => {
                ask(Answer::Yaml, |reply| C::LiveYaml { app, key, reply })
            }
            Request::DiffRevision { app, revision } => {
                ask(Answer::Diffs, |reply| C::DiffRevision {
                    app,
                    revision,
                    reply,
                })
            }
            Request::Reconcile { app, with_source } => ask(Answer::Done, |r| {
                C::Observed(O::Reconcile {
                    app,
                    with_source,
                    reply: Some(r),
                })
            }),
            Request::Suspend { app } => ask(Answer::Done, |r| {
                C::Observed(O::Suspend {
                    app,
                    reply: Some(r),
                })
            }),
            Request::Resume { app } => ask(Answer::Done, |r| {
                C::Observed(O::Resume {
                    app,
                    reply: Some(r),
                })
            }),
            Request::FluxGraph => ask(Answer::Graph, |reply| C::Observed(O::FluxGraph { reply })),
            Request::Images => ask(Answer::Images, |reply| C::Observed(O::Images { reply })),
        }
    }

    /// The answer to give when the request could not even be sent.
    pub fn failed(&self, message: String) -> Option<Answer> {
        match self {
            Request::Refresh { .. } | Request::Terminate { .. } => None,
            Request::Plan { .. } => Some(Answer::Plan(Err(message))),
            Request::Sync { .. } | Request::Rollback { .. } => {
                Some(Answer::Operation(Err(message)))
            }
            Request::LiveYaml { .. } => Some(Answer::Yaml(Err(message))),
            Request::DiffRevision { .. } => Some(Answer::Diffs(Err(message))),
            Request::Reconcile { .. } | Request::Suspend { .. } | Request::Resume { .. } => {
                Some(Answer::Done(Err(message)))
            }
            Request::FluxGraph => Some(Answer::Graph(Err(message))),
            Request::Images => Some(Answer::Images(Err(message))),
        }
    }
}
