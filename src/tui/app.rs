//! The TUI's state machine, independent of the terminal: keys, snapshots and engine
//! answers in, frames and engine commands out. Tests drive it directly, draw it on
//! ratatui's `TestBackend`, and answer its engine commands themselves.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};
use jiff::Timestamp;
use tokio::sync::mpsc;

mod draw;
mod observed;

use super::action::{Action, Context};
use super::commands::{self, CommandLine, Vocabulary};
use super::drift::drift_toasts;
use super::flux::{FluxActions, FluxVerb};
use super::keymap::Keymap;
use super::options::TuiOptions;
use super::requests::{Outbox, Pending, ViewId};
use super::views::{
    AppView, AppsView, DiffView, FluxGraphView, HelpView, HistoryView, ImagesView, Message,
    MessageKind, Outcome, SyncDialog, Target, TimelineView, View, ViewCx,
};
use super::widgets::{SPINNER, Toast};
use crate::config::Theme;
use crate::model::{AppSnapshot, ConnectionState, Snapshot};
use crate::runtime::EngineCommand;
use crate::runtime::Request;

/// How long a toast stays on screen.
const TOAST_TIME: Duration = Duration::from_secs(8);

/// The owner of requests the session makes itself (Flux actions): never a view, so their
/// answers are never dropped with one.
const SESSION: ViewId = ViewId(0);

/// A view on the stack with the name its requests are answered to.
struct Layer {
    id: ViewId,
    view: Box<dyn View>,
}

struct ShownToast {
    toast: Toast,
    until: Instant,
}

/// The whole UI state: the view stack, the command line, the status line, the theme,
/// the requests in flight and the toasts.
pub struct App {
    options: TuiOptions,
    snapshot: Arc<Snapshot>,
    /// The bottom view is always the apps table; popups sit above the view they cover.
    layers: Vec<Layer>,
    next_view: u64,
    command: CommandLine,
    message: Option<Message>,
    /// Read-only switched on from the UI with `:readonly`.
    ui_read_only: bool,
    quit: bool,
    now: Option<Timestamp>,
    spinner: usize,
    engine: Option<mpsc::Sender<EngineCommand>>,
    outbox: Outbox,
    pending: Pending,
    toasts: Vec<ShownToast>,
    bell: bool,
    /// Flux actions waiting for their outcome.
    flux: FluxActions,
}

impl App {
    /// A UI showing the apps table, with an empty snapshot until the engine sends one.
    /// Until [`App::connect`], requests to the engine fail with a message.
    pub fn new(options: TuiOptions) -> Self {
        let mut app = Self {
            options,
            snapshot: Arc::new(Snapshot::default()),
            layers: Vec::new(),
            next_view: 0,
            command: CommandLine::default(),
            message: None,
            ui_read_only: false,
            quit: false,
            now: None,
            spinner: 0,
            engine: None,
            outbox: Outbox::default(),
            pending: Pending::default(),
            toasts: Vec::new(),
            bell: false,
            flux: FluxActions::default(),
        };
        app.push_view(Box::new(AppsView::new()));
        app
    }

    /// Where commands for the engine go.
    pub fn connect(&mut self, commands: mpsc::Sender<EngineCommand>) {
        self.engine = Some(commands);
    }

    /// Shows a new snapshot; rows update in place and selections stay on their objects.
    /// Apps that turned OutOfSync or Degraded raise a toast (and the bell, if configured).
    pub fn set_snapshot(&mut self, snapshot: Arc<Snapshot>) {
        let drift = drift_toasts(&self.snapshot, &snapshot);
        if !drift.is_empty() && self.options.bell {
            self.bell = true;
        }
        let until = Instant::now() + TOAST_TIME;
        self.toasts
            .extend(drift.into_iter().map(|toast| ShownToast { toast, until }));
        self.snapshot = snapshot;
        for i in 0..self.layers.len() {
            self.with_view(i, |view, cx| view.on_snapshot(cx));
        }
        self.flush_requests();
    }

    /// The snapshot on screen.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Sets the clock used for ages (`None` shows absolute times).
    pub fn set_now(&mut self, now: Option<Timestamp>) {
        self.now = now;
    }

    /// Tells the user that no more snapshots will come.
    pub fn engine_stopped(&mut self) {
        self.set_message(
            MessageKind::Error,
            "the engine stopped: what you see is the last state it reported".into(),
        );
    }

    /// Whether the user asked to leave.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The theme in use.
    pub fn theme(&self) -> &Theme {
        &self.options.theme
    }

    /// The key bindings in use.
    pub fn keymap(&self) -> &Keymap {
        &self.options.keymap
    }

    /// The status-line message, if any.
    pub fn message(&self) -> Option<&Message> {
        self.message.as_ref()
    }

    /// Toasts on screen, oldest first.
    pub fn toasts(&self) -> Vec<&Toast> {
        self.toasts.iter().map(|t| &t.toast).collect()
    }

    /// Whether the terminal bell should ring now (a drift alert with `bell: true`); asking
    /// clears it.
    pub fn take_bell(&mut self) -> bool {
        std::mem::take(&mut self.bell)
    }

    /// Whether changes are refused: by `--read-only`, by the engine, or by `:readonly`.
    pub fn read_only(&self) -> bool {
        self.options.read_only || self.snapshot.read_only || self.ui_read_only
    }

    /// Commands run from the command line, oldest first.
    pub fn command_history(&self) -> &[String] {
        self.command.history()
    }

    /// Titles of the views on the stack, bottom first.
    pub fn breadcrumbs(&self) -> Vec<String> {
        self.layers.iter().map(|l| l.view.title()).collect()
    }

    /// The apps table (always at the bottom of the stack).
    pub fn apps_view(&self) -> Option<&AppsView> {
        self.layers.first().and_then(|l| l.view.as_apps())
    }

    /// The topmost app view, if one is open.
    pub fn app_view(&self) -> Option<&AppView> {
        self.layers.iter().rev().find_map(|l| l.view.as_app_view())
    }

    /// The topmost diff view, if one is open.
    pub fn diff_view(&self) -> Option<&DiffView> {
        self.layers.iter().rev().find_map(|l| l.view.as_diff())
    }

    /// The sync dialog, if one is open.
    pub fn sync_dialog(&self) -> Option<&SyncDialog> {
        self.layers.iter().rev().find_map(|l| l.view.as_sync())
    }

    /// The app under the cursor in the apps table.
    pub fn selected_app(&self) -> Option<&AppSnapshot> {
        let id = self.apps_view()?.selected()?;
        super::views::find_app(&self.snapshot, id)
    }

    /// Which bindings apply now.
    pub fn context(&self) -> Context {
        if self.command.is_active() {
            return Context::Command;
        }
        self.layers
            .last()
            .map_or(Context::Apps, |l| l.view.context())
    }

    /// Whether something on screen animates, so the loop must tick.
    pub fn is_animating(&self) -> bool {
        !self.flux.is_empty()
            || self
                .layers
                .iter()
                .any(|l| l.view.is_animating(&self.snapshot))
            || self
                .snapshot
                .clusters
                .iter()
                .any(|c| c.connection == ConnectionState::Connecting)
    }

    /// Whether the screen shows ages that go stale as time passes.
    pub fn shows_ages(&self) -> bool {
        self.snapshot.apps.iter().any(|a| a.last_sync.is_some())
    }

    /// When the screen next changes by itself (a toast expires), if ever.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.toasts.iter().map(|t| t.until).min()
    }

    /// Removes toasts whose time is up; true when any went.
    pub fn expire_toasts(&mut self, now: Instant) -> bool {
        let before = self.toasts.len();
        self.toasts.retain(|t| t.until > now);
        self.toasts.len() != before
    }

    /// Advances the spinners.
    pub fn tick(&mut self) {
        self.spinner = (self.spinner + 1) % SPINNER.len();
    }

    /// Whether requests to the engine wait for answers.
    pub fn has_pending(&self) -> bool {
        self.pending.is_waiting() || self.pending.has_ready()
    }

    /// Waits until an answer from the engine arrives (forever when none is pending);
    /// then [`App::poll_replies`] hands it out.
    pub async fn wait_replies(&mut self) {
        self.pending.wait().await;
    }

    /// Hands the engine's answers that have arrived to the views that asked; answers for
    /// views that left, or for requests their view no longer waits for, are dropped.
    /// Returns whether any arrived (the screen may change).
    pub fn poll_replies(&mut self) -> bool {
        self.pending.poll_now();
        let any = self.pending.has_ready();
        self.flush_requests();
        any
    }

    /// Handles any terminal event; returns whether the screen must be redrawn.
    pub fn handle_event(&mut self, event: &Event) -> bool {
        match event {
            Event::Key(key) => {
                self.handle_key(*key);
                true
            }
            Event::Mouse(mouse) => self.handle_mouse(mouse),
            Event::Resize(..) => true,
            _ => false,
        }
    }

    /// Handles a key press; returns the action it triggered, if any (typed text and
    /// unbound keys trigger none).
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Action> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        // A message stays until the next key, so it is seen but never lingers.
        self.message = None;
        let context = self.context();
        let chord = crate::config::KeyChord::from_event(&key);
        let subject = self.subject();
        let Some(binding) = self.options.keymap.lookup_for(context, subject, chord) else {
            self.type_text(context, &key);
            return None;
        };
        let action = binding.action.clone();
        self.perform(action.clone(), context);
        Some(action)
    }

    /// Handles the mouse: the wheel scrolls the focused pane of the view on top.
    pub fn handle_mouse(&mut self, mouse: &MouseEvent) -> bool {
        let action = match mouse.kind {
            MouseEventKind::ScrollUp => Action::Up,
            MouseEventKind::ScrollDown => Action::Down,
            _ => return false,
        };
        self.view_action(&action);
        true
    }

    fn type_text(&mut self, context: Context, key: &KeyEvent) {
        match context {
            Context::Command => self.command.edit(key),
            c if c.takes_text() => {
                if let Some(i) = self.layers.len().checked_sub(1) {
                    self.with_view(i, |view, cx| view.handle_text(key, cx));
                }
            }
            _ => {}
        }
    }

    fn vocabulary(&self) -> Vocabulary {
        Vocabulary {
            themes: self.options.themes.names(),
            contexts: self.known_contexts(),
        }
    }

    fn known_contexts(&self) -> Vec<String> {
        let mut names: Vec<String> = self.options.contexts.clone();
        for c in &self.snapshot.clusters {
            if !names.contains(&c.name) {
                names.push(c.name.clone());
            }
        }
        for a in &self.snapshot.apps {
            if !names.contains(&a.cluster) {
                names.push(a.cluster.clone());
            }
        }
        names
    }

    /// Carries out an action as if its key had been pressed in `context`.
    pub fn perform(&mut self, action: Action, context: Context) {
        if context == Context::Command {
            match action {
                Action::Select => return self.run_command_line(),
                Action::Complete => return self.command.complete(&self.vocabulary()),
                Action::Up => return self.command.history_up(),
                Action::Down => return self.command.history_down(),
                Action::Back => return self.command.close(),
                _ => {}
            }
        }
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.toggle_help(),
            Action::CommandLine => self.command.open(),
            Action::ShowApps => {
                self.command.close();
                self.pop_to(1);
            }
            Action::SetTheme(name) => self.set_theme(&name),
            Action::ToggleReadOnly => self.toggle_read_only(),
            Action::ShowDiff | Action::ShowSync | Action::ShowHistory | Action::ShowTimeline => {
                self.open(&action);
            }
            Action::Refresh { hard } => self.refresh(hard),
            Action::Reconcile { .. } | Action::Suspend | Action::Resume => {
                if let Some(verb) = FluxVerb::of(&action) {
                    self.flux_action(verb);
                }
            }
            Action::ShowFluxGraph => self.open_overview(Box::new(FluxGraphView::new())),
            Action::ShowImages => self.open_overview(Box::new(ImagesView::new())),
            Action::SetContext(context) => self.set_context(context),
            Action::ListContexts => self.list_contexts(),
            other => self.view_action(&other),
        }
        self.flush_requests();
    }

    fn run_command_line(&mut self) {
        let line = self.command.submit();
        if line.is_empty() {
            return;
        }
        match commands::parse(&line, &self.vocabulary()) {
            Ok(action) => self.perform(action, Context::Global),
            Err(e) => self.set_message(MessageKind::Error, e),
        }
    }

    /// Runs `f` on view `i` with a context that speaks for it.
    fn with_view<R>(&mut self, i: usize, f: impl FnOnce(&mut dyn View, &mut ViewCx<'_>) -> R) -> R {
        let read_only = self.read_only();
        let layer = &mut self.layers[i];
        let mut cx = ViewCx::new(
            &self.snapshot,
            read_only,
            &mut self.message,
            &mut self.outbox,
            layer.id,
        );
        cx.refuse_conflicts = self.options.refuse_conflicts;
        f(layer.view.as_mut(), &mut cx)
    }

    fn view_action(&mut self, action: &Action) {
        let Some(i) = self.layers.len().checked_sub(1) else {
            return;
        };
        let outcome = self.with_view(i, |view, cx| view.handle_action(action, cx));
        match outcome {
            Outcome::Consumed => {}
            Outcome::Close => self.pop_view(),
            Outcome::Ignored => {
                if *action == Action::Back {
                    self.pop_view();
                }
            }
            Outcome::Push(view) => self.push_view(view),
        }
        self.flush_requests();
    }

    fn push_view(&mut self, view: Box<dyn View>) {
        // The first-run hint says which key to press first; once the newcomer has opened
        // something, the hint bar below says the rest.
        if !self.layers.is_empty() && !view.is_popup() {
            self.options.hint = None;
        }
        self.next_view += 1;
        self.layers.push(Layer {
            id: ViewId(self.next_view),
            view,
        });
        let i = self.layers.len() - 1;
        self.with_view(i, |view, cx| view.on_open(cx));
        self.flush_requests();
    }

    /// Takes the top view off (never the apps table); its unanswered requests are dropped.
    fn pop_view(&mut self) {
        if self.layers.len() > 1
            && let Some(layer) = self.layers.pop()
        {
            self.pending.forget(layer.id);
        }
    }

    fn pop_to(&mut self, len: usize) {
        while self.layers.len() > len.max(1) {
            self.pop_view();
        }
    }

    /// What app-wide actions act on: the first view from the top that names an app.
    fn target(&self) -> Option<Target> {
        for layer in self.layers.iter().rev() {
            if let Some(t) = layer.view.target(&self.snapshot) {
                return Some(t);
            }
            if layer.view.scopes_target() {
                return None;
            }
        }
        None
    }

    /// Opens the diff, sync dialog, history or timeline of the app in view.
    fn open(&mut self, action: &Action) {
        let Some(target) = self.target() else {
            self.set_message(MessageKind::Error, "no app selected".into());
            return;
        };
        if super::views::find_app(&self.snapshot, &target.app).is_none() {
            self.set_message(
                MessageKind::Error,
                format!("{} is no longer in the snapshot", target.app.name),
            );
            return;
        }
        let view: Box<dyn View> = match action {
            Action::ShowDiff => Box::new(DiffView::new(target.app, target.resource)),
            Action::ShowSync => Box::new(SyncDialog::new(target.app, target.marked)),
            Action::ShowHistory => Box::new(HistoryView::new(target.app)),
            Action::ShowTimeline => Box::new(TimelineView::new(target.app)),
            _ => return,
        };
        // The same kind of view again replaces the one on top instead of piling up.
        let same = |c: Context| match c {
            Context::SyncProgress => Context::Sync,
            other => other,
        };
        if self.layers.len() > 1 && same(self.context()) == same(view.context()) {
            self.pop_view();
        }
        self.push_view(view);
    }

    fn refresh(&mut self, hard: bool) {
        let Some(target) = self.target() else {
            self.set_message(MessageKind::Error, "no app selected".into());
            return;
        };
        let owner = self.layers.last().map_or(ViewId(0), |l| l.id);
        self.outbox.push(
            owner,
            Request::Refresh {
                app: target.app.engine_name(),
                hard,
            },
        );
        let how = if hard { "hard refresh" } else { "refresh" };
        self.set_message(
            MessageKind::Info,
            format!(
                "{how} of {} asked; the table updates when it is done",
                target.app.name
            ),
        );
    }

    fn set_context(&mut self, context: Option<String>) {
        if let Some(name) = &context {
            let known = self.known_contexts();
            if !known.contains(name) {
                self.set_message(
                    MessageKind::Error,
                    format!(
                        "unknown context `{name}`; known contexts: {}",
                        known.join(", ")
                    ),
                );
                return;
            }
        }
        self.pop_to(1);
        let snapshot = Arc::clone(&self.snapshot);
        if let Some(apps) = self.layers.first_mut().and_then(|l| l.view.as_apps_mut()) {
            apps.set_cluster_filter(context.clone(), &snapshot);
        }
        let text = match context {
            Some(name) => {
                format!("showing only the apps of context {name} (:ctx all shows every one)")
            }
            None => "showing the apps of every context".to_string(),
        };
        self.set_message(MessageKind::Info, text);
    }

    fn list_contexts(&mut self) {
        let known = self.known_contexts();
        if known.is_empty() {
            self.set_message(MessageKind::Info, "no cluster context yet".into());
            return;
        }
        let listed: Vec<String> = known
            .iter()
            .map(|name| {
                let state = self
                    .snapshot
                    .clusters
                    .iter()
                    .find(|c| &c.name == name)
                    .map(|c| match &c.connection {
                        ConnectionState::Connected => " (connected)",
                        ConnectionState::Connecting => " (connecting)",
                        ConnectionState::Degraded(_) => " (degraded)",
                        ConnectionState::Unreachable(_) => " (unreachable)",
                    })
                    .unwrap_or("");
                format!("{name}{state}")
            })
            .collect();
        let showing = self
            .apps_view()
            .and_then(|a| a.cluster_filter())
            .map_or_else(|| "all".to_string(), str::to_string);
        self.set_message(
            MessageKind::Info,
            format!("contexts: {}; showing {showing}", listed.join(", ")),
        );
    }

    /// Sends the requests views made (those that cannot be sent say why) and hands out
    /// the answers that are ready; answering may make views ask again, so this repeats a
    /// few rounds.
    fn flush_requests(&mut self) {
        for _ in 0..8 {
            for (id, owner, request) in self.outbox.drain() {
                if let Err(e) = self.pending.send(
                    self.engine.as_ref(),
                    &self.options.initiated_by,
                    id,
                    owner,
                    request,
                ) {
                    self.set_message(MessageKind::Error, e);
                }
            }
            let ready = self.pending.take_ready();
            if ready.is_empty() {
                break;
            }
            for r in ready {
                if r.owner == SESSION {
                    self.on_session_reply(r.id, r.reply);
                } else if let Some(i) = self.layers.iter().position(|l| l.id == r.owner) {
                    self.with_view(i, |view, cx| view.on_reply(r.id, r.reply, cx));
                }
            }
        }
    }

    fn toggle_help(&mut self) {
        if self.context() == Context::Help {
            self.pop_view();
        } else {
            self.push_view(Box::new(HelpView::new(&self.options.keymap)));
        }
    }

    fn set_theme(&mut self, name: &str) {
        match self.options.themes.theme(name) {
            Ok(theme) => {
                self.options.theme = if self.options.no_color {
                    theme.without_color()
                } else {
                    theme
                };
                self.set_message(MessageKind::Info, format!("theme {name}"));
            }
            Err(e) => self.set_message(MessageKind::Error, e.to_string()),
        }
    }

    fn toggle_read_only(&mut self) {
        if self.options.read_only || self.snapshot.read_only {
            self.set_message(
                MessageKind::Error,
                "rekon was started with --read-only; restart it without the flag to make changes"
                    .into(),
            );
            return;
        }
        self.ui_read_only = !self.ui_read_only;
        let text = if self.ui_read_only {
            "read-only on: this session refuses changes until :readonly again"
        } else {
            "read-only off"
        };
        self.set_message(MessageKind::Info, text.into());
    }

    fn set_message(&mut self, kind: MessageKind, text: String) {
        self.message = Some(Message { kind, text });
    }
}
