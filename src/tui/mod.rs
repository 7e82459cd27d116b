//! The terminal UI: app loop, actions, keymap, views and widgets.
//!
//! The UI only reads immutable snapshots published by the engine and sends it commands;
//! nothing here talks to the cluster or to Git. [`App`] is the state machine (tests drive
//! it on ratatui's `TestBackend` and answer its engine commands themselves); [`run`] wires
//! it to a real terminal and the engine.

mod action;
mod app;
mod commands;
mod drift;
mod flux;
mod input;
mod keymap;
mod options;
mod requests;
pub mod terminal;
mod views;
mod widgets;

pub use action::{Action, Context, SortColumn};
pub use app::App;
pub use commands::{COMMANDS, CommandSpec, Vocabulary};
pub use flux::{FluxVerb, RunningAction};
pub use keymap::{Applies, Binding, GROUPS, Hint, Keymap, Subject};
pub use options::{OptionsError, TuiOptions, no_color_requested};
pub use requests::RequestId;
pub use views::{
    AppId, AppView, AppsView, DiffView, FluxGraphView, Focus, GraphLine, HelpView, HistoryView,
    ImagesView, Message, MessageKind, SyncDialog, SyncStage, TimelineView, graph_lines,
};
pub use widgets::Toast;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::WrapErr;
use crossterm::event::EventStream;
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::model::Snapshot;
use crate::runtime::EngineCommand;
use crate::stop_signal::{Hangup, stop_signal};

/// How often spinners advance while something animates.
const SPINNER_INTERVAL: Duration = Duration::from_millis(100);
/// How often ages ("5m ago") are refreshed while any are shown.
const CLOCK_INTERVAL: Duration = Duration::from_secs(30);
/// The least time between two frames caused by snapshots, so a busy engine cannot make
/// the UI redraw hundreds of times a second. Keys are never held back.
const MIN_SNAPSHOT_FRAME: Duration = Duration::from_millis(50);

/// Runs the TUI until the user quits: snapshots come from the engine's watch channel and
/// commands go to it. Draws only when something changed: a key, a mouse wheel, a resize,
/// a new snapshot, an engine answer, or a timer (spinners while something animates, ages,
/// toasts expiring). Input never waits for the engine.
pub async fn run(
    options: TuiOptions,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    commands: mpsc::Sender<EngineCommand>,
) -> color_eyre::Result<()> {
    let mut guard = terminal::enter().wrap_err("cannot set up the terminal")?;
    let mut app = App::new(options);
    app.connect(commands);
    app.set_snapshot(Arc::clone(&snapshots.borrow_and_update()));
    let mut events = EventStream::new();
    let mut engine_open = true;
    // `dirty`: draw now. `stale`: a snapshot arrived; draw when the frame budget allows.
    let mut dirty = true;
    let mut stale = false;
    let mut last_draw = Instant::now();
    // SIGHUP too: the terminal went away; raw mode turns Ctrl-C into a key.
    let stop = stop_signal(Hangup::Stops);
    tokio::pin!(stop);
    loop {
        if dirty || (stale && last_draw.elapsed() >= MIN_SNAPSHOT_FRAME) {
            app.set_now(Some(jiff::Timestamp::now()));
            guard
                .terminal()
                .draw(|frame| app.draw(frame))
                .wrap_err("cannot draw on the terminal")?;
            if app.take_bell() {
                // A failed bell is not worth stopping for.
                let backend = guard.terminal().backend_mut();
                let _ = backend.write_all(b"\x07").and_then(|()| backend.flush());
            }
            dirty = false;
            stale = false;
            last_draw = Instant::now();
        }
        if app.should_quit() {
            break;
        }
        let animating = app.is_animating();
        let toast_deadline = app.next_deadline().map(Instant::from_std);
        let wake = [
            stale.then_some(last_draw + MIN_SNAPSHOT_FRAME),
            animating.then_some(last_draw + SPINNER_INTERVAL),
            app.shows_ages().then_some(last_draw + CLOCK_INTERVAL),
            toast_deadline,
        ]
        .into_iter()
        .flatten()
        .min();
        let waiting = app.has_pending();
        tokio::select! {
            // Asked to stop from outside: leave through the guard, restoring the terminal.
            _ = &mut stop => break,
            event = events.next() => match event {
                Some(Ok(event)) => dirty |= app.handle_event(&event),
                Some(Err(e)) => return Err(e).wrap_err("cannot read from the terminal"),
                None => break,
            },
            changed = snapshots.changed(), if engine_open => match changed {
                Ok(()) => {
                    app.set_snapshot(Arc::clone(&snapshots.borrow_and_update()));
                    stale = true;
                }
                Err(_) => {
                    engine_open = false;
                    app.engine_stopped();
                    dirty = true;
                }
            },
            () = app.wait_replies(), if waiting => {
                dirty |= app.poll_replies();
            },
            () = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                if animating && last_draw.elapsed() >= SPINNER_INTERVAL {
                    app.tick();
                }
                app.expire_toasts(std::time::Instant::now());
                if !stale {
                    dirty = true;
                }
            }
        }
    }
    drop(guard);
    Ok(())
}
