//! The app's side of Argo CD and Flux: Flux actions of the session (reconcile, suspend,
//! resume) and their answers, what the keys act on (the subject the hint bar is chosen
//! for), and the cluster-wide Flux views.

use std::time::Instant;

use super::{App, SESSION, ShownToast, TOAST_TIME};
use crate::runtime::Answer;
use crate::tui::flux::{FluxVerb, RunningAction};
use crate::tui::keymap::Subject;
use crate::tui::requests::RequestId;
use crate::tui::views::{FluxGraphView, ImagesView, MessageKind, View, find_app};
use crate::tui::widgets::Toast;

impl App {
    /// The Flux graph view, if one is open.
    pub fn flux_graph(&self) -> Option<&FluxGraphView> {
        self.layers
            .iter()
            .rev()
            .find_map(|l| l.view.as_flux_graph())
    }

    /// The images view, if one is open.
    pub fn images_view(&self) -> Option<&ImagesView> {
        self.layers.iter().rev().find_map(|l| l.view.as_images())
    }

    /// Flux actions sent and not answered yet, oldest first.
    pub fn running_actions(&self) -> &[RunningAction] {
        self.flux.running()
    }

    /// What the keys act on now: the app in view, if any.
    pub fn subject(&self) -> Subject {
        self.target()
            .and_then(|t| find_app(&self.snapshot, &t.app))
            .map_or(Subject::Nothing, Subject::of)
    }

    /// Opens a cluster-wide view (the Flux graph, the images), replacing one of the same
    /// kind on top.
    pub(super) fn open_overview(&mut self, view: Box<dyn View>) {
        self.command.close();
        if self.layers.len() > 1 && self.context() == view.context() {
            self.pop_view();
        }
        self.push_view(view);
    }

    /// Sends a Flux action for the app in view, unless it does not fit (not a Flux app,
    /// read-only, suspended, one already running): then the status line says why.
    pub(super) fn flux_action(&mut self, verb: FluxVerb) {
        let Some(target) = self.target() else {
            self.set_message(MessageKind::Error, "no app selected".into());
            return;
        };
        let read_only = self.read_only();
        let Some(app) = find_app(&self.snapshot, &target.app) else {
            self.set_message(
                MessageKind::Error,
                format!("{} is no longer in the snapshot", target.app.name),
            );
            return;
        };
        if let Err(refusal) = self
            .flux
            .start(verb, app, read_only, &mut self.outbox, SESSION)
        {
            self.message = Some(refusal);
        }
    }

    /// An answer to a request the session made: the outcome goes to the status line, and
    /// a failure also to a toast, so it does not vanish with the next key press.
    pub(super) fn on_session_reply(&mut self, id: RequestId, reply: Answer) {
        let Some(message) = self.flux.finish(id, reply) else {
            return;
        };
        if message.kind == MessageKind::Error {
            self.toasts.push(ShownToast {
                toast: Toast {
                    text: message.text.clone(),
                    warning: true,
                },
                until: Instant::now() + TOAST_TIME,
            });
        }
        self.message = Some(message);
    }
}
