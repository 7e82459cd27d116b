//! The sync dialog: options (prune, dry run, force, refuse conflicts,
//! apply-out-of-sync-only, the resources marked in the tree), the engine's plan for them
//! (naming the fields it takes from other field managers, and what `force` replaces), a
//! confirmation, then live progress
//! from the app's `operation` in each snapshot, and the result until dismissed. A rollback
//! goes through the same dialog, starting at the confirmation.
//!
//! Argo CD and Flux apps plan their own syncs: where the engine answers the plan with that,
//! the dialog shows what the sync asks of their controller instead (the `operation` field
//! for Argo CD, `flux reconcile --with-source` for Flux), then follows the outcome.

mod observed;
mod render;

use ratatui::Frame;
use ratatui::layout::Rect;

use super::{AppId, DrawCx, Outcome, READ_ONLY_REFUSAL, Target, View, ViewCx, find_app};
use crate::model::{
    ManagedBy, Operation, OperationPhase, ResourceKey, Snapshot, SyncOptions, SyncPlan,
};
use crate::runtime::{Answer, Request};
use crate::tui::action::{Action, Context};
use crate::tui::requests::RequestId;

/// Where the dialog stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncStage {
    /// Choosing options; the plan follows them.
    Options,
    /// Asking for confirmation.
    Confirm,
    /// Sent; showing progress.
    Running,
    /// Finished (or refused); the result stays until dismissed.
    Done,
}

/// A sync of the app's target revision, or a rollback to a history entry.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Sync,
    Rollback {
        id: u64,
        revision: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Plan {
    Waiting(RequestId),
    Ready(SyncPlan),
    Failed(String),
    /// Argo CD or Flux plans the sync itself (the engine's words).
    Observed(String),
}

/// The dialog's state.
#[derive(Debug)]
pub struct SyncDialog {
    app: AppId,
    kind: Kind,
    prune: bool,
    dry_run: bool,
    force: bool,
    /// Fail instead of taking fields other managers own; starts as the config says.
    refuse_conflicts: bool,
    out_of_sync_only: bool,
    /// Resources marked in the tree; synced alone while `selective` is on.
    marked: Vec<ResourceKey>,
    selective: bool,
    plan: Option<Plan>,
    stage: SyncStage,
    /// The sync or rollback sent, while its answer is awaited.
    sent: Option<RequestId>,
    /// When the app's operation shown at send time started: an operation with another
    /// start is ours.
    before: Option<String>,
    /// Our operation, as last seen (from a snapshot, or the engine's final answer).
    operation: Option<Operation>,
    /// Why the sync could not run.
    error: Option<String>,
    scroll: usize,
    page: usize,
    len: usize,
}

impl SyncDialog {
    /// A sync of the app; `marked` resources can be synced alone.
    pub fn new(app: AppId, marked: Vec<ResourceKey>) -> Self {
        let selective = !marked.is_empty();
        Self {
            app,
            kind: Kind::Sync,
            prune: false,
            dry_run: false,
            force: false,
            refuse_conflicts: false,
            out_of_sync_only: false,
            marked,
            selective,
            plan: None,
            stage: SyncStage::Options,
            sent: None,
            before: None,
            operation: None,
            error: None,
            scroll: 0,
            page: 1,
            len: 0,
        }
    }

    /// A rollback to history entry `id` (revision `revision`, commit `message`).
    pub fn rollback(app: AppId, id: u64, revision: String, message: String) -> Self {
        Self {
            kind: Kind::Rollback {
                id,
                revision,
                message,
            },
            stage: SyncStage::Confirm,
            ..Self::new(app, Vec::new())
        }
    }

    /// Where the dialog stands.
    pub fn stage(&self) -> SyncStage {
        self.stage
    }

    /// The options a sync would run with now.
    pub fn options(&self) -> SyncOptions {
        SyncOptions {
            prune: self.prune,
            dry_run: self.dry_run,
            force: self.force,
            refuse_conflicts: self.refuse_conflicts,
            apply_out_of_sync_only: self.out_of_sync_only,
            resources: if self.selective {
                self.marked.clone()
            } else {
                Vec::new()
            },
            revision: match &self.kind {
                Kind::Rollback { revision, .. } => Some(revision.clone()),
                Kind::Sync => None,
            },
            timeout_secs: None,
        }
    }

    /// The plan on screen, once the engine sent it.
    pub fn plan(&self) -> Option<&SyncPlan> {
        match &self.plan {
            Some(Plan::Ready(p)) => Some(p),
            _ => None,
        }
    }

    /// The operation shown in the progress panel.
    pub fn operation(&self) -> Option<&Operation> {
        self.operation.as_ref()
    }

    /// Why the sync could not run, if it could not.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    fn qualified(&self) -> String {
        self.app.engine_name()
    }

    fn ask_plan(&mut self, cx: &mut ViewCx<'_>) {
        let id = cx.request(Request::Plan {
            app: self.qualified(),
            options: self.options(),
        });
        self.plan = Some(Plan::Waiting(id));
    }

    fn is_flux(&self) -> bool {
        self.app.managed_by == ManagedBy::Flux
    }

    fn toggle(&mut self, action: &Action, cx: &mut ViewCx<'_>) {
        if self.is_flux() {
            cx.info(format!(
                "Flux has no sync options: prune, force and the rest are the {}'s own spec",
                self.app.kind
            ));
            return;
        }
        if *action == Action::ToggleRefuseConflicts && self.app.managed_by != ManagedBy::Rekon {
            cx.info("Argo CD's sync has no refuse-conflicts option: its own sync options apply");
            return;
        }
        match action {
            Action::TogglePrune => self.prune = !self.prune,
            Action::ToggleDryRun => self.dry_run = !self.dry_run,
            Action::ToggleForce => self.force = !self.force,
            Action::ToggleRefuseConflicts => self.refuse_conflicts = !self.refuse_conflicts,
            Action::ToggleOutOfSyncOnly => self.out_of_sync_only = !self.out_of_sync_only,
            Action::ToggleSelective => {
                if self.marked.is_empty() {
                    cx.info("no resource is marked: mark the ones to sync in the app's tree");
                    return;
                }
                self.selective = !self.selective;
            }
            _ => return,
        }
        self.ask_plan(cx);
    }

    /// Sends the sync (or rollback), unless changes are refused.
    fn start(&mut self, cx: &mut ViewCx<'_>) {
        if cx.read_only {
            let what = match self.kind {
                Kind::Sync => "this sync was not started",
                Kind::Rollback { .. } => "this rollback was not started",
            };
            cx.error(format!("{READ_ONLY_REFUSAL}: {what}"));
            return;
        }
        self.before = find_app(cx.snapshot, &self.app)
            .and_then(|a| a.operation.as_ref())
            .map(|o| o.started_at.clone());
        let request = match &self.kind {
            Kind::Sync => Request::Sync {
                app: self.qualified(),
                options: self.options(),
            },
            Kind::Rollback { id, .. } => Request::Rollback {
                app: self.qualified(),
                id: *id,
                options: self.options(),
            },
        };
        self.sent = Some(cx.request(request));
        self.stage = SyncStage::Running;
        self.operation = None;
        self.error = None;
        self.scroll = 0;
    }

    fn terminate(&mut self, cx: &mut ViewCx<'_>) {
        if self.stage != SyncStage::Running {
            return;
        }
        if self.is_flux() {
            cx.info("a Flux reconcile cannot be stopped; suspending the app (:suspend) stops the next ones");
            return;
        }
        if cx.read_only {
            cx.error(format!("{READ_ONLY_REFUSAL}: the sync was not terminated"));
            return;
        }
        cx.request(Request::Terminate {
            app: self.qualified(),
        });
        cx.info("asked the engine to terminate the sync");
    }

    /// Takes our operation from a snapshot, and finishes when it has.
    fn follow(&mut self, snapshot: &Snapshot) {
        if self.stage != SyncStage::Running {
            return;
        }
        let Some(op) = find_app(snapshot, &self.app).and_then(|a| a.operation.as_ref()) else {
            return;
        };
        if self.before.as_deref() == Some(op.started_at.as_str()) {
            return;
        }
        self.operation = Some(op.clone());
        if op.phase != OperationPhase::Running {
            self.stage = SyncStage::Done;
            self.sent = None;
        }
    }
}

impl View for SyncDialog {
    fn context(&self) -> Context {
        match self.stage {
            SyncStage::Options | SyncStage::Confirm => Context::Sync,
            SyncStage::Running | SyncStage::Done => Context::SyncProgress,
        }
    }

    fn title(&self) -> String {
        match self.kind {
            Kind::Sync => "Sync".into(),
            Kind::Rollback { .. } => "Rollback".into(),
        }
    }

    fn is_popup(&self) -> bool {
        true
    }

    fn on_open(&mut self, cx: &mut ViewCx<'_>) {
        // A sync already running (closed earlier, or started by auto-sync): show its
        // progress instead of offering a second one the engine would refuse.
        let running = find_app(cx.snapshot, &self.app)
            .and_then(|a| a.operation.as_ref())
            .is_some_and(|o| o.phase == OperationPhase::Running);
        if running && self.kind == Kind::Sync {
            self.stage = SyncStage::Running;
            self.follow(cx.snapshot);
            return;
        }
        self.refuse_conflicts = cx.refuse_conflicts;
        self.ask_plan(cx);
    }

    fn on_snapshot(&mut self, cx: &mut ViewCx<'_>) {
        self.follow(cx.snapshot);
    }

    fn on_reply(&mut self, id: RequestId, reply: Answer, _cx: &mut ViewCx<'_>) {
        match reply {
            Answer::Plan(result) if self.plan == Some(Plan::Waiting(id)) => {
                let observed = self.app.managed_by != ManagedBy::Rekon;
                self.plan = Some(match result {
                    Ok(plan) => Plan::Ready(plan),
                    Err(e) if observed => Plan::Observed(e),
                    Err(e) => Plan::Failed(e),
                });
            }
            Answer::Operation(result) if self.sent == Some(id) => {
                self.sent = None;
                self.stage = SyncStage::Done;
                match result {
                    Ok(op) => self.operation = Some(op),
                    Err(e) => self.error = Some(e),
                }
            }
            _ => {}
        }
    }

    fn handle_action(&mut self, action: &Action, cx: &mut ViewCx<'_>) -> Outcome {
        let page = self.page.max(1);
        let max = self.len.saturating_sub(1);
        match action {
            Action::Up => self.scroll = self.scroll.saturating_sub(1),
            Action::Down => self.scroll = (self.scroll + 1).min(max),
            Action::PageUp => self.scroll = self.scroll.saturating_sub(page),
            Action::PageDown => self.scroll = (self.scroll + page).min(max),
            Action::Top => self.scroll = 0,
            Action::Bottom => self.scroll = max,
            Action::TogglePrune
            | Action::ToggleDryRun
            | Action::ToggleForce
            | Action::ToggleRefuseConflicts
            | Action::ToggleOutOfSyncOnly
            | Action::ToggleSelective => {
                if self.stage == SyncStage::Options && self.kind == Kind::Sync {
                    self.toggle(action, cx);
                }
            }
            Action::Open => match self.stage {
                SyncStage::Options => {
                    if cx.read_only {
                        cx.error(format!("{READ_ONLY_REFUSAL}: this sync cannot be started"));
                    } else {
                        self.stage = SyncStage::Confirm;
                    }
                }
                SyncStage::Confirm | SyncStage::Running => {}
                SyncStage::Done => return Outcome::Close,
            },
            // `y` in the options only moves on to the confirmation: it never skips it.
            Action::Confirm => match self.stage {
                SyncStage::Options => return self.handle_action(&Action::Open, cx),
                SyncStage::Confirm => self.start(cx),
                SyncStage::Running | SyncStage::Done => {}
            },
            Action::Terminate => self.terminate(cx),
            Action::Back => match (self.stage, &self.kind) {
                (SyncStage::Confirm, Kind::Sync) => self.stage = SyncStage::Options,
                (SyncStage::Running, _) => {
                    cx.info(format!(
                        "the sync of {} goes on; the app view shows its progress",
                        self.app.name
                    ));
                    return Outcome::Close;
                }
                _ => return Outcome::Close,
            },
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn target(&self, _snapshot: &Snapshot) -> Option<Target> {
        Some(Target {
            app: self.app.clone(),
            resource: None,
            marked: self.marked.clone(),
        })
    }

    fn is_animating(&self, _snapshot: &Snapshot) -> bool {
        matches!(self.plan, Some(Plan::Waiting(_))) || self.stage == SyncStage::Running
    }

    fn draw(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        render::draw(self, frame, area, cx);
    }

    fn as_sync(&self) -> Option<&SyncDialog> {
        Some(self)
    }
}
