//! The TUI's state machine, independent of the terminal: keys and snapshots in, frames out.
//! Tests drive it directly and draw it on ratatui's `TestBackend`.

use std::sync::Arc;

use crossterm::event::{Event, KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};
use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::action::{Action, Context};
use super::commands::{self, CommandLine};
use super::keymap::Keymap;
use super::options::TuiOptions;
use super::views::{
    AppsView, DrawCx, HelpView, Message, MessageKind, Outcome, Prompt, View, ViewCx,
};
use super::widgets::{HeaderInfo, SPINNER, render_header, render_hint_bar, truncate, width};
use crate::config::Theme;
use crate::model::{AppSnapshot, ConnectionState, Snapshot};

/// The whole UI state: the view stack, the command line, the status line, the theme.
pub struct App {
    options: TuiOptions,
    snapshot: Arc<Snapshot>,
    /// The bottom view is always the apps table; popups sit above the view they cover.
    views: Vec<Box<dyn View>>,
    command: CommandLine,
    message: Option<Message>,
    /// Read-only switched on from the UI with `:readonly`.
    ui_read_only: bool,
    quit: bool,
    now: Option<Timestamp>,
    spinner: usize,
}

impl App {
    /// A UI showing the apps table, with an empty snapshot until the engine sends one.
    pub fn new(options: TuiOptions) -> Self {
        let mut apps = AppsView::new();
        let snapshot = Arc::new(Snapshot::default());
        apps.on_snapshot(&snapshot);
        Self {
            options,
            snapshot,
            views: vec![Box::new(apps)],
            command: CommandLine::default(),
            message: None,
            ui_read_only: false,
            quit: false,
            now: None,
            spinner: 0,
        }
    }

    /// Shows a new snapshot; rows update in place and selections stay on their objects.
    pub fn set_snapshot(&mut self, snapshot: Arc<Snapshot>) {
        for view in &mut self.views {
            view.on_snapshot(&snapshot);
        }
        self.snapshot = snapshot;
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
        self.views.iter().map(|v| v.title()).collect()
    }

    /// The apps table (always at the bottom of the stack).
    pub fn apps_view(&self) -> Option<&AppsView> {
        self.views.first().and_then(|v| v.as_apps())
    }

    /// The app under the cursor in the apps table.
    pub fn selected_app(&self) -> Option<&AppSnapshot> {
        let id = self.apps_view()?.selected()?;
        self.snapshot
            .apps
            .iter()
            .find(|a| super::views::AppId::of(a) == *id)
    }

    /// Which bindings apply now.
    pub fn context(&self) -> Context {
        if self.command.is_active() {
            return Context::Command;
        }
        self.views.last().map_or(Context::Apps, |v| v.context())
    }

    /// Whether something on screen animates, so the loop must tick.
    pub fn is_animating(&self) -> bool {
        self.views.iter().any(|v| v.is_animating(&self.snapshot))
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

    /// Advances the spinners.
    pub fn tick(&mut self) {
        self.spinner = (self.spinner + 1) % SPINNER.len();
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
        let Some(binding) = self.options.keymap.lookup(context, chord) else {
            self.type_text(context, &key);
            return None;
        };
        let action = binding.action.clone();
        self.perform(action.clone(), context);
        Some(action)
    }

    /// Handles the mouse: the wheel moves the selection of the view on top.
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
                let snapshot = Arc::clone(&self.snapshot);
                if let Some(top) = self.views.last_mut() {
                    top.handle_text(key, &mut ViewCx::new(&snapshot, &mut self.message));
                }
            }
            _ => {}
        }
    }

    /// Carries out an action as if its key had been pressed in `context`.
    pub fn perform(&mut self, action: Action, context: Context) {
        if context == Context::Command {
            match action {
                Action::Select => return self.run_command_line(),
                Action::Complete => return self.command.complete(&self.options.themes.names()),
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
                self.views.truncate(1);
            }
            Action::SetTheme(name) => self.set_theme(&name),
            Action::ToggleReadOnly => self.toggle_read_only(),
            other => self.view_action(&other),
        }
    }

    fn run_command_line(&mut self) {
        let line = self.command.submit();
        if line.is_empty() {
            return;
        }
        match commands::parse(&line, &self.options.themes.names()) {
            Ok(action) => self.perform(action, Context::Global),
            Err(e) => self.set_message(MessageKind::Error, e),
        }
    }

    fn view_action(&mut self, action: &Action) {
        let snapshot = Arc::clone(&self.snapshot);
        let Some(top) = self.views.last_mut() else {
            return;
        };
        let outcome = top.handle_action(action, &mut ViewCx::new(&snapshot, &mut self.message));
        let pop = match outcome {
            Outcome::Close => true,
            Outcome::Ignored => *action == Action::Back,
            Outcome::Consumed => false,
        };
        if pop && self.views.len() > 1 {
            self.views.pop();
        }
    }

    fn toggle_help(&mut self) {
        if self
            .views
            .last()
            .is_some_and(|v| v.context() == Context::Help)
        {
            self.views.pop();
        } else {
            self.views
                .push(Box::new(HelpView::new(&self.options.keymap)));
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

    /// Draws the whole screen: header, the view (and popups), prompt or status line, the
    /// first-run hint and the key hint bar.
    pub fn draw(&mut self, frame: &mut Frame<'_>) {
        let area = frame.area();
        let theme = self.options.theme.clone();
        frame.render_widget(Block::new().style(theme.base()), area);
        let hint_rows = u16::from(self.options.hint.is_some());
        let [header, body, hint, status, bar] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Min(0),
            Constraint::Length(hint_rows),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);

        let spinner = SPINNER[self.spinner % SPINNER.len()];
        let info = HeaderInfo {
            contexts: &self.options.contexts,
            read_only: self.read_only(),
            spinner,
        };
        render_header(frame, header, &self.snapshot, &info, &theme);

        let cx = DrawCx {
            snapshot: &self.snapshot,
            theme: &theme,
            keymap: &self.options.keymap,
            now: self.now,
            spinner,
        };
        let base = self.views.iter().rposition(|v| !v.is_popup()).unwrap_or(0);
        for view in self.views.iter_mut().skip(base) {
            view.draw(frame, body, &cx);
        }

        if let Some(text) = &self.options.hint {
            let line = Line::from(vec![
                Span::styled(" → ", theme.key()),
                Span::styled(text.clone(), theme.accent()),
            ]);
            frame.render_widget(Paragraph::new(line), hint);
        }
        self.draw_status(frame, status, &theme);
        render_hint_bar(
            frame,
            bar,
            &self.options.keymap.hints(self.context()),
            &theme,
        );
    }

    fn draw_status(&self, frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
        let prompt = if self.command.is_active() {
            let editor = self.command.editor();
            Some(Prompt {
                prefix: ':',
                text: editor.text().to_string(),
                cursor: editor.cursor_column(),
            })
        } else {
            self.views.last().and_then(|v| v.prompt())
        };
        if let Some(p) = prompt {
            let mut spans = vec![
                Span::styled(format!(" {}", p.prefix), theme.key()),
                Span::styled(p.text.clone(), theme.text()),
            ];
            if self.command.is_active() {
                let names = self.options.themes.names();
                let suggestions = self.command.suggestions(&names);
                // A lone suggestion already typed out adds nothing.
                let redundant = suggestions.len() == 1 && p.text.ends_with(&suggestions[0]);
                if !suggestions.is_empty() && !redundant {
                    let room = usize::from(area.width).saturating_sub(width(&p.text) + 6);
                    spans.push(Span::styled(
                        format!("   {}", truncate(&suggestions.join("  "), room)),
                        theme.muted(),
                    ));
                }
            }
            frame.render_widget(Paragraph::new(Line::from(spans)), area);
            let x = area.x.saturating_add(2).saturating_add(p.cursor);
            if x < area.right() {
                frame.set_cursor_position(Position::new(x, area.y));
            }
            return;
        }
        if let Some(m) = &self.message {
            let style = match m.kind {
                MessageKind::Info => theme.accent(),
                MessageKind::Error => theme.error(),
            };
            frame.render_widget(
                Paragraph::new(Line::styled(format!(" {}", m.text), style)),
                area,
            );
        }
    }
}
