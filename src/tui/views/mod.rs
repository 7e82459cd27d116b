//! Views: the screens on the view stack (apps now; app, diff, history later) and the
//! popups drawn above them (help). A deliberately small take on ratatui's component
//! template: a view turns actions and typed keys into state changes and draws itself from
//! that state and the latest snapshot.

mod apps;
mod columns;
mod help;

pub use apps::{AppId, AppsView};
pub use help::HelpView;

use crossterm::event::KeyEvent;
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::{Action, Context};
use super::keymap::Keymap;
use crate::config::Theme;
use crate::model::Snapshot;

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

/// What a view gets while handling input: the data it shows and a way to speak.
pub struct ViewCx<'a> {
    /// The latest snapshot.
    pub snapshot: &'a Snapshot,
    message: &'a mut Option<Message>,
}

impl<'a> ViewCx<'a> {
    /// A context over a snapshot and the status line.
    pub fn new(snapshot: &'a Snapshot, message: &'a mut Option<Message>) -> Self {
        Self { snapshot, message }
    }

    /// Puts an informational message in the status line.
    pub fn info(&mut self, text: impl Into<String>) {
        *self.message = Some(Message {
            kind: MessageKind::Info,
            text: text.into(),
        });
    }
}

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
}

/// The result of giving an action to a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The view used it.
    Consumed,
    /// Not for this view; the app may handle it (e.g. `Back` pops the view).
    Ignored,
    /// The view is done: take it off the stack.
    Close,
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

    /// A new snapshot arrived: refresh what was derived from the old one.
    fn on_snapshot(&mut self, _snapshot: &Snapshot) {}

    /// Handles a bound action.
    fn handle_action(&mut self, action: &Action, cx: &mut ViewCx<'_>) -> Outcome;

    /// Handles a key typed into the view's text field (only in text contexts).
    fn handle_text(&mut self, _key: &KeyEvent, _cx: &mut ViewCx<'_>) {}

    /// The text field to show in the prompt line, while the view has one open.
    fn prompt(&self) -> Option<Prompt> {
        None
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
}
