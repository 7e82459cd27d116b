//! Flux actions of the session: reconcile (with its source first, if asked), suspend and
//! resume, as the flux CLI does them. They belong to the session rather than to a view:
//! while Flux works the status line shows a spinner, and the outcome is reported wherever
//! the user has gone meanwhile (a reconcile is not a view's result to drop; it changes
//! the cluster either way).

use super::action::Action;
use super::requests::{Outbox, RequestId, ViewId};
use super::views::text::one_line;
use super::views::{AppId, Message, MessageKind, READ_ONLY_REFUSAL};
use crate::model::{AppSnapshot, Health, ManagedBy};
use crate::runtime::{Answer, Request};

/// What was asked of Flux.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FluxVerb {
    /// `flux reconcile` (`--with-source`).
    Reconcile {
        /// The source first.
        with_source: bool,
    },
    /// `flux suspend`.
    Suspend,
    /// `flux resume`.
    Resume,
}

impl FluxVerb {
    /// The verb an action asks for, if it is a Flux action.
    pub fn of(action: &Action) -> Option<Self> {
        match action {
            Action::Reconcile { with_source } => Some(FluxVerb::Reconcile {
                with_source: *with_source,
            }),
            Action::Suspend => Some(FluxVerb::Suspend),
            Action::Resume => Some(FluxVerb::Resume),
            _ => None,
        }
    }

    fn infinitive(self) -> &'static str {
        match self {
            FluxVerb::Reconcile { .. } => "reconcile",
            FluxVerb::Suspend => "suspend",
            FluxVerb::Resume => "resume",
        }
    }

    fn progressive(self) -> &'static str {
        match self {
            FluxVerb::Reconcile { .. } => "reconciling",
            FluxVerb::Suspend => "suspending",
            FluxVerb::Resume => "resuming",
        }
    }

    fn past(self) -> &'static str {
        match self {
            FluxVerb::Reconcile { .. } => "reconciled",
            FluxVerb::Suspend => "suspended",
            FluxVerb::Resume => "resumed",
        }
    }

    fn with_source(self) -> &'static str {
        match self {
            FluxVerb::Reconcile { with_source: true } => " with its source",
            _ => "",
        }
    }
}

/// A Flux action sent to the engine and not answered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningAction {
    /// The request that carries it.
    pub id: RequestId,
    /// The app it acts on.
    pub app: AppId,
    /// What was asked.
    pub verb: FluxVerb,
}

/// The session's Flux actions waiting for Flux.
#[derive(Debug, Default)]
pub struct FluxActions {
    running: Vec<RunningAction>,
}

impl FluxActions {
    /// The actions sent and not answered yet, oldest first.
    pub fn running(&self) -> &[RunningAction] {
        &self.running
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Sends `verb` for `app` through `outbox` on behalf of `owner`, or says why it is not
    /// sent (see [`prepare`]).
    pub fn start(
        &mut self,
        verb: FluxVerb,
        app: &AppSnapshot,
        read_only: bool,
        outbox: &mut Outbox,
        owner: ViewId,
    ) -> Result<(), Message> {
        let request = prepare(verb, app, read_only, &self.running)?;
        let id = outbox.push(owner, request);
        self.running.push(RunningAction {
            id,
            app: AppId::of(app),
            verb,
        });
        Ok(())
    }

    /// The message for an answer to one of the actions (an error message when it failed);
    /// `None` for an answer that is not one of theirs.
    pub fn finish(&mut self, id: RequestId, reply: Answer) -> Option<Message> {
        let i = self.running.iter().position(|a| a.id == id)?;
        let action = self.running.remove(i);
        match reply {
            Answer::Done(result) => Some(outcome(&action, result)),
            _ => None,
        }
    }

    /// The status line while actions run.
    pub fn progress(&self, spinner: char) -> Option<String> {
        progress(&self.running, spinner)
    }
}

/// How the user knows the app: `namespace/name` (the kind shows in every view).
fn label(app: &AppId) -> String {
    format!("{}/{}", app.namespace, app.name)
}

fn error(text: String) -> Message {
    Message {
        kind: MessageKind::Error,
        text,
    }
}

fn info(text: String) -> Message {
    Message {
        kind: MessageKind::Info,
        text,
    }
}

/// The request for `verb` on `app` as the snapshot shows it, or the message saying why it
/// is not sent: not a Flux app, read-only, one already running on it, or refused the way
/// the flux CLI refuses (a suspended app is not reconciled).
pub fn prepare(
    verb: FluxVerb,
    app: &AppSnapshot,
    read_only: bool,
    running: &[RunningAction],
) -> Result<Request, Message> {
    let id = AppId::of(app);
    let name = label(&id);
    match app.managed_by {
        ManagedBy::Flux => {}
        ManagedBy::Rekon => {
            return Err(error(format!(
                "{name} is one of rekon's own apps: {} is for Flux apps (:refresh and :sync work here)",
                verb.infinitive()
            )));
        }
        ManagedBy::Argocd => {
            return Err(error(format!(
                "{name} is an Argo CD Application: {} is for Flux apps (:refresh and :sync ask Argo CD)",
                verb.infinitive()
            )));
        }
    }
    if read_only {
        return Err(error(format!(
            "{READ_ONLY_REFUSAL}: {name} was not {}",
            verb.past()
        )));
    }
    if let Some(r) = running.iter().find(|r| r.app == id) {
        return Err(info(format!(
            "{} {name} already: wait for Flux to answer",
            r.verb.progressive()
        )));
    }
    let suspended = app.health == Health::Suspended;
    let app = id.engine_name();
    match verb {
        FluxVerb::Reconcile { .. } if suspended => Err(error(format!(
            "{name} is suspended: resume it first (:resume)"
        ))),
        FluxVerb::Reconcile { with_source } => Ok(Request::Reconcile { app, with_source }),
        FluxVerb::Suspend if suspended => Err(info(format!("{name} is already suspended"))),
        FluxVerb::Suspend => Ok(Request::Suspend { app }),
        FluxVerb::Resume if !suspended => Err(info(format!(
            "{name} is not suspended (:reconcile asks Flux to reconcile it now)"
        ))),
        FluxVerb::Resume => Ok(Request::Resume { app }),
    }
}

/// The status line while actions run: a spinner and what each one waits for.
pub fn progress(running: &[RunningAction], spinner: char) -> Option<String> {
    if running.is_empty() {
        return None;
    }
    let parts: Vec<String> = running
        .iter()
        .map(|r| {
            format!(
                "{} {}{}…",
                r.verb.progressive(),
                label(&r.app),
                r.verb.with_source()
            )
        })
        .collect();
    Some(format!(
        "{spinner} {} (waiting for Flux)",
        parts.join(" · ")
    ))
}

/// The message for an answer: what Flux reported, or why it failed.
pub fn outcome(action: &RunningAction, result: Result<String, String>) -> Message {
    let name = label(&action.app);
    let verb = action.verb;
    match result {
        Ok(_) if verb == FluxVerb::Suspend => info(format!(
            "✓ suspended {name}: Flux leaves it alone until it is resumed"
        )),
        Ok(report) if report.is_empty() => {
            info(format!("✓ {} {name}{}", verb.past(), verb.with_source()))
        }
        Ok(report) => info(format!(
            "✓ {} {name}{}: {}",
            verb.past(),
            verb.with_source(),
            one_line(&report)
        )),
        Err(why) => error(format!(
            "✗ could not {} {name}: {}",
            verb.infinitive(),
            one_line(&why)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SyncStatus;

    fn flux_app(health: Health) -> AppSnapshot {
        AppSnapshot {
            name: "apps".into(),
            namespace: "flux-system".into(),
            managed_by: ManagedBy::Flux,
            kind: "Kustomization".into(),
            cluster: "staging".into(),
            destination_namespace: String::new(),
            repo_url: String::new(),
            path: "./apps".into(),
            target_revision: "main".into(),
            revision: None,
            sync: SyncStatus::Synced,
            health,
            message: String::new(),
            auto_sync: true,
            last_sync: None,
            resources: Default::default(),
            operation: None,
            origin: Default::default(),
            detail: None,
        }
    }

    #[test]
    fn a_suspended_app_is_resumed_not_reconciled() {
        let suspended = flux_app(Health::Suspended);
        let refused = prepare(
            FluxVerb::Reconcile { with_source: false },
            &suspended,
            false,
            &[],
        )
        .unwrap_err();
        assert_eq!(
            refused.text,
            "flux-system/apps is suspended: resume it first (:resume)"
        );
        assert_eq!(
            prepare(FluxVerb::Resume, &suspended, false, &[]),
            Ok(Request::Resume {
                app: "flux-ks:flux-system/apps@staging".into()
            })
        );
        let active = flux_app(Health::Healthy);
        assert_eq!(
            prepare(
                FluxVerb::Reconcile { with_source: true },
                &active,
                false,
                &[]
            ),
            Ok(Request::Reconcile {
                app: "flux-ks:flux-system/apps@staging".into(),
                with_source: true
            })
        );
        assert_eq!(
            prepare(FluxVerb::Suspend, &suspended, false, &[])
                .unwrap_err()
                .kind,
            MessageKind::Info
        );
    }

    #[test]
    fn refuses_in_read_only_mode_twice_running_and_for_other_apps() {
        let app = flux_app(Health::Healthy);
        let ro = prepare(FluxVerb::Suspend, &app, true, &[]).unwrap_err();
        assert_eq!(
            ro.text,
            format!("{READ_ONLY_REFUSAL}: flux-system/apps was not suspended")
        );
        let running = [RunningAction {
            id: RequestId(1),
            app: AppId::of(&app),
            verb: FluxVerb::Reconcile { with_source: false },
        }];
        let twice = prepare(FluxVerb::Suspend, &app, false, &running).unwrap_err();
        assert!(
            twice
                .text
                .starts_with("reconciling flux-system/apps already")
        );
        let mut argo = app.clone();
        argo.managed_by = ManagedBy::Argocd;
        let not_flux = prepare(FluxVerb::Resume, &argo, false, &[]).unwrap_err();
        assert!(not_flux.text.contains("is an Argo CD Application"));
    }

    #[test]
    fn outcomes_name_the_app_and_what_flux_said() {
        let app = AppId::of(&flux_app(Health::Healthy));
        let action = RunningAction {
            id: RequestId(1),
            app,
            verb: FluxVerb::Reconcile { with_source: true },
        };
        assert_eq!(
            outcome(&action, Ok("Applied revision: main@sha1:abc".into())).text,
            "✓ reconciled flux-system/apps with its source: Applied revision: main@sha1:abc"
        );
        let failed = outcome(&action, Err("gave up\nafter 300s".into()));
        assert_eq!(
            (failed.kind, failed.text.as_str()),
            (
                MessageKind::Error,
                "✗ could not reconcile flux-system/apps: gave up after 300s"
            )
        );
        assert_eq!(
            progress(std::slice::from_ref(&action), '⠋').unwrap(),
            "⠋ reconciling flux-system/apps with its source… (waiting for Flux)"
        );
    }
}
