//! Views: the screens on the view stack (apps, app, diff, history, timeline) and the
//! popups drawn above them (help, the sync dialog). A deliberately small take on
//! ratatui's component template: a view turns actions and typed keys into state changes,
//! asks the engine through its context, and draws itself from that state and the latest
//! snapshot.

mod app_view;
mod apps;
mod columns;
mod diff;
mod flux_graph;
mod help;
mod history;
mod images;
mod sync;
pub(in crate::tui) mod text;
mod timeline;

pub use app_view::{AppView, Focus};
pub use apps::{AppId, AppsView};
pub use diff::DiffView;
pub use flux_graph::{FluxGraphView, GraphLine, graph_lines};
pub use help::HelpView;
pub use history::HistoryView;
pub use images::ImagesView;
pub use sync::{SyncDialog, SyncStage};
pub use timeline::TimelineView;

use crossterm::event::KeyEvent;
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::{Action, Context};
use super::keymap::Keymap;
use super::requests::{Outbox, RequestId, ViewId};
use crate::config::Theme;
use crate::model::{AppSnapshot, ResourceKey, Snapshot};
use crate::runtime::{Answer, Request};

/// How urgent a status-line message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Something happened as asked.
    Info,
    /// Something could not be done.
    Error,
}

/// A message for the status line; it stays until the next key press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Info or error.
    pub kind: MessageKind,
    /// The words.
    pub text: String,
}

/// What a view gets while handling input: the data it shows, a way to speak, and a way
/// to ask the engine.
pub struct ViewCx<'a> {
    /// The latest snapshot.
    pub snapshot: &'a Snapshot,
    /// Changes are refused (`--read-only`, the engine's flag, or `:readonly`).
    pub read_only: bool,
    /// Syncs the user starts refuse conflicts by default (config `sync: refuseConflicts`).
    pub refuse_conflicts: bool,
    message: &'a mut Option<Message>,
    outbox: &'a mut Outbox,
    owner: ViewId,
}

impl<'a> ViewCx<'a> {
    /// A context for the view `owner` over a snapshot, the status line and the outbox.
    pub fn new(
        snapshot: &'a Snapshot,
        read_only: bool,
        message: &'a mut Option<Message>,
        outbox: &'a mut Outbox,
        owner: ViewId,
    ) -> Self {
        Self {
            snapshot,
            read_only,
            refuse_conflicts: false,
            message,
            outbox,
            owner,
        }
    }

    /// Puts an informational message in the status line.
    pub fn info(&mut self, text: impl Into<String>) {
        *self.message = Some(Message {
            kind: MessageKind::Info,
            text: text.into(),
        });
    }

    /// Puts an error in the status line.
    pub fn error(&mut self, text: impl Into<String>) {
        *self.message = Some(Message {
            kind: MessageKind::Error,
            text: text.into(),
        });
    }

    /// Asks the engine; the answer, if any, comes back to this view with the id returned.
    pub fn request(&mut self, request: Request) -> RequestId {
        self.outbox.push(self.owner, request)
    }
}

/// The words every refusal in read-only mode starts with.
pub const READ_ONLY_REFUSAL: &str = "read-only: rekon refuses changes to the cluster";

/// What a view reads while drawing.
pub struct DrawCx<'a> {
    /// The latest snapshot.
    pub snapshot: &'a Snapshot,
    /// Colours by role.
    pub theme: &'a Theme,
    /// The bindings (for help and empty-state hints).
    pub keymap: &'a Keymap,
    /// The wall clock, for ages; `None` shows absolute times (tests pass a fixed one).
    pub now: Option<Timestamp>,
    /// The spinner's current frame.
    pub spinner: char,
    /// Changes are refused.
    pub read_only: bool,
}

impl DrawCx<'_> {
    /// The key that triggers `action` in `context`, as text (`?` when unbound).
    pub fn key(&self, context: Context, action: &Action) -> String {
        self.keymap
            .key_for(context, action)
            .map_or_else(|| "?".to_string(), |k| k.to_string())
    }
}

/// The result of giving an action to a view.
pub enum Outcome {
    /// The view used it.
    Consumed,
    /// Not for this view; the app may handle it (e.g. `Back` pops the view).
    Ignored,
    /// The view is done: take it off the stack.
    Close,
    /// Put this view on top of the stack.
    Push(Box<dyn View>),
}

/// What the app-wide actions (`:diff`, `:sync`, `:history`, `:timeline`, `:refresh`) act
/// on: the app a view is about, and the resource under its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The app.
    pub app: AppId,
    /// The resource under the cursor, if the view has one (not the app's root).
    pub resource: Option<ResourceKey>,
    /// Resources marked for a selective sync.
    pub marked: Vec<ResourceKey>,
}

impl Target {
    /// A target naming only an app.
    pub fn app(app: AppId) -> Self {
        Self {
            app,
            resource: None,
            marked: Vec::new(),
        }
    }
}

/// A text field a view wants shown in the prompt line (the filter while typing it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The prompt character, e.g. `/`.
    pub prefix: char,
    /// The text typed so far.
    pub text: String,
    /// Display column of the cursor within `text`.
    pub cursor: u16,
}

/// One screen or popup on the view stack.
pub trait View {
    /// Which bindings apply while this view is on top.
    fn context(&self) -> Context;

    /// A short title (breadcrumbs).
    fn title(&self) -> String;

    /// Popups are drawn over the view beneath them instead of replacing it.
    fn is_popup(&self) -> bool {
        false
    }

    /// The view was put on the stack: a chance to ask the engine for what it shows.
    fn on_open(&mut self, _cx: &mut ViewCx<'_>) {}

    /// A new snapshot arrived: refresh what was derived from the old one.
    fn on_snapshot(&mut self, _cx: &mut ViewCx<'_>) {}

    /// An answer to a request this view made. A view takes only the answer it still
    /// waits for and drops the rest.
    fn on_reply(&mut self, _id: RequestId, _reply: Answer, _cx: &mut ViewCx<'_>) {}

    /// Handles a bound action.
    fn handle_action(&mut self, action: &Action, cx: &mut ViewCx<'_>) -> Outcome;

    /// Handles a key typed into the view's text field (only in text contexts).
    fn handle_text(&mut self, _key: &KeyEvent, _cx: &mut ViewCx<'_>) {}

    /// The text field to show in the prompt line, while the view has one open.
    fn prompt(&self) -> Option<Prompt> {
        None
    }

    /// What app-wide actions act on while this view is on top (`None`: look further
    /// down the stack).
    fn target(&self, _snapshot: &Snapshot) -> Option<Target> {
        None
    }

    /// Whether app-wide actions stop at this view when it names no app, instead of
    /// looking further down the stack (a list of many apps: the cursor's line decides).
    fn scopes_target(&self) -> bool {
        false
    }

    /// Whether something in the view animates (so the app keeps a tick running).
    fn is_animating(&self, _snapshot: &Snapshot) -> bool {
        false
    }

    /// Draws the view into `area`.
    fn draw(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>);

    /// Lets tests and the app reach the concrete apps view.
    fn as_apps(&self) -> Option<&AppsView> {
        None
    }

    /// The apps view, to change its cluster filter.
    fn as_apps_mut(&mut self) -> Option<&mut AppsView> {
        None
    }

    /// Lets tests reach the app view.
    fn as_app_view(&self) -> Option<&AppView> {
        None
    }

    /// Lets tests reach the diff view.
    fn as_diff(&self) -> Option<&DiffView> {
        None
    }

    /// Lets tests reach the sync dialog.
    fn as_sync(&self) -> Option<&SyncDialog> {
        None
    }

    /// Lets tests reach the Flux graph view.
    fn as_flux_graph(&self) -> Option<&FluxGraphView> {
        None
    }

    /// Lets tests reach the images view.
    fn as_images(&self) -> Option<&ImagesView> {
        None
    }
}

/// The app with this identity in a snapshot.
pub fn find_app<'a>(snapshot: &'a Snapshot, id: &AppId) -> Option<&'a AppSnapshot> {
    snapshot.apps.iter().find(|a| id.is(a))
}
