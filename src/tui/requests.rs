//! Questions the views put to the engine and the answers coming back.
//!
//! A view asks through `ViewCx::request` with a [`Request`] of the runtime's vocabulary
//! and gets a [`RequestId`] at once; the app sends the request's [`EngineCommand`] and
//! keeps its pending [`Answer`] here. Answers are handed back to the view that asked, which
//! takes only the one it is waiting for (results of an action the user moved
//! away from are dropped). A new request of the same kind from the same view drops the
//! older one, so repeated requests collapse to the latest and the engine sees the closed
//! channel of the abandoned one.

use std::task::{Context, Poll};

use tokio::sync::mpsc;

use crate::runtime::{Answer, EngineCommand, PendingAnswer, Request};

/// Names one request; answers carry it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// Names one view on the stack, for as long as it lives; answers go to their asker only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ViewId(pub u64);

/// Which requests replace each other: the same kind asked by the same view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Plan,
    Yaml,
    Diffs,
    Graph,
    Images,
}

/// The slot of a request, for the kinds where a newer request replaces the older.
fn slot(request: &Request) -> Option<Slot> {
    match request {
        Request::Plan { .. } => Some(Slot::Plan),
        Request::LiveYaml { .. } => Some(Slot::Yaml),
        Request::DiffRevision { .. } => Some(Slot::Diffs),
        Request::FluxGraph => Some(Slot::Graph),
        Request::Images => Some(Slot::Images),
        _ => None,
    }
}

/// Requests made while handling one input, waiting to be sent.
#[derive(Debug, Default)]
pub struct Outbox {
    next: u64,
    queued: Vec<(RequestId, ViewId, Request)>,
}

impl Outbox {
    /// Queues a request from `owner` and names it.
    pub fn push(&mut self, owner: ViewId, request: Request) -> RequestId {
        self.next += 1;
        let id = RequestId(self.next);
        self.queued.push((id, owner, request));
        id
    }

    /// Takes every queued request, oldest first.
    pub fn drain(&mut self) -> Vec<(RequestId, ViewId, Request)> {
        std::mem::take(&mut self.queued)
    }
}

struct Entry {
    id: RequestId,
    owner: ViewId,
    slot: Option<Slot>,
    answer: PendingAnswer,
}

/// An answer ready to be handed to its view.
#[derive(Debug)]
pub struct Ready {
    /// The request it answers.
    pub id: RequestId,
    /// The view that asked.
    pub owner: ViewId,
    /// The answer.
    pub reply: Answer,
}

/// Requests sent and not answered yet, plus answers not yet handed out.
#[derive(Default)]
pub struct Pending {
    entries: Vec<Entry>,
    ready: Vec<Ready>,
}

impl Pending {
    /// Whether any request still waits for its answer.
    pub fn is_waiting(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Whether answers wait to be handed out.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Sends a request to the engine. A request that cannot be sent is answered at once
    /// with the reason; one without an answer that cannot be sent returns the reason.
    pub fn send(
        &mut self,
        engine: Option<&mpsc::Sender<EngineCommand>>,
        initiated_by: &str,
        id: RequestId,
        owner: ViewId,
        request: Request,
    ) -> Result<(), String> {
        let slot = slot(&request);
        let (command, answer) = request.clone().into_command(initiated_by);
        // Collapse: the older request of the same kind from the same view is abandoned.
        if let Some(slot) = slot {
            self.entries
                .retain(|e| !(e.owner == owner && e.slot == Some(slot)));
            self.ready
                .retain(|r| !(r.owner == owner && same_slot(&r.reply, slot)));
        }
        // Input never waits for the engine: a full queue is reported, not waited on.
        let sent = match engine {
            None => Err("no engine is connected".to_string()),
            Some(tx) => tx.try_send(command).map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    "the engine is busy; try again in a moment".to_string()
                }
                mpsc::error::TrySendError::Closed(_) => "the engine has stopped".to_string(),
            }),
        };
        match (sent, answer) {
            (Ok(()), Some(answer)) => {
                self.entries.push(Entry {
                    id,
                    owner,
                    slot,
                    answer,
                });
                Ok(())
            }
            (Ok(()), None) => Ok(()),
            (Err(message), _) => match request.failed(message.clone()) {
                Some(reply) => {
                    self.ready.push(Ready { id, owner, reply });
                    Ok(())
                }
                None => Err(message),
            },
        }
    }

    /// Moves every answer that has arrived to the ready list; true when any did. Wakes
    /// `cx` when a further answer arrives.
    pub fn poll(&mut self, cx: &mut Context<'_>) -> bool {
        let before = self.ready.len();
        let mut i = 0;
        while i < self.entries.len() {
            match self.entries[i].answer.as_mut().poll(cx) {
                Poll::Ready(reply) => {
                    let e = self.entries.swap_remove(i);
                    self.ready.push(Ready {
                        id: e.id,
                        owner: e.owner,
                        reply,
                    });
                }
                Poll::Pending => i += 1,
            }
        }
        self.ready.len() > before
    }

    /// Collects what has arrived without waiting.
    pub fn poll_now(&mut self) -> bool {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        self.poll(&mut cx)
    }

    /// Waits until at least one answer is ready (forever when none is pending).
    pub async fn wait(&mut self) {
        if self.has_ready() {
            return;
        }
        std::future::poll_fn(|cx| {
            if self.poll(cx) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }

    /// Takes the answers ready, in the order they arrived.
    pub fn take_ready(&mut self) -> Vec<Ready> {
        std::mem::take(&mut self.ready)
    }

    /// Forgets every request `owner` made (its view left the stack).
    pub fn forget(&mut self, owner: ViewId) {
        self.entries.retain(|e| e.owner != owner);
        self.ready.retain(|r| r.owner != owner);
    }
}

fn same_slot(reply: &Answer, slot: Slot) -> bool {
    matches!(
        (reply, slot),
        (Answer::Plan(_), Slot::Plan)
            | (Answer::Yaml(_), Slot::Yaml)
            | (Answer::Diffs(_), Slot::Diffs)
            | (Answer::Graph(_), Slot::Graph)
            | (Answer::Images(_), Slot::Images)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ResourceKey;

    fn yaml(app: &str, name: &str) -> Request {
        Request::LiveYaml {
            app: app.into(),
            key: ResourceKey::new("", "ConfigMap", "ns", name),
        }
    }

    #[test]
    fn a_newer_request_of_the_same_kind_replaces_the_older() {
        let (tx, mut rx) = mpsc::channel(8);
        let mut p = Pending::default();
        let owner = ViewId(1);
        p.send(Some(&tx), "me", RequestId(1), owner, yaml("a/b", "one"))
            .unwrap();
        p.send(Some(&tx), "me", RequestId(2), owner, yaml("a/b", "two"))
            .unwrap();
        let Some(EngineCommand::LiveYaml { reply: first, .. }) = rx.try_recv().ok() else {
            panic!("expected a LiveYaml command");
        };
        let Some(EngineCommand::LiveYaml { reply: second, .. }) = rx.try_recv().ok() else {
            panic!("expected a second LiveYaml command");
        };
        // The first asker is gone: its channel is closed.
        assert!(first.is_closed());
        second.send(Ok("kind: ConfigMap".into())).unwrap();
        assert!(p.poll_now());
        let ready = p.take_ready();
        assert_eq!(ready.len(), 1);
        assert_eq!(ready[0].id, RequestId(2));
        assert_eq!(ready[0].reply, Answer::Yaml(Ok("kind: ConfigMap".into())));
        assert!(!p.is_waiting());
    }

    #[test]
    fn unsendable_requests_are_answered_with_the_reason() {
        let mut p = Pending::default();
        p.send(None, "me", RequestId(1), ViewId(1), yaml("a/b", "x"))
            .unwrap();
        let ready = p.take_ready();
        assert_eq!(
            ready[0].reply,
            Answer::Yaml(Err("no engine is connected".into()))
        );
        let (tx, rx) = mpsc::channel(1);
        drop(rx);
        let err = p
            .send(
                Some(&tx),
                "me",
                RequestId(2),
                ViewId(1),
                Request::Refresh {
                    app: "a/b".into(),
                    hard: false,
                },
            )
            .unwrap_err();
        assert_eq!(err, "the engine has stopped");
    }

    #[test]
    fn a_dropped_reply_channel_becomes_an_error() {
        let (tx, mut rx) = mpsc::channel(8);
        let mut p = Pending::default();
        p.send(Some(&tx), "me", RequestId(7), ViewId(3), yaml("a/b", "x"))
            .unwrap();
        drop(rx.try_recv());
        assert!(p.poll_now());
        let ready = p.take_ready();
        assert!(matches!(&ready[0].reply, Answer::Yaml(Err(m)) if m.contains("dropped")));
    }
}
