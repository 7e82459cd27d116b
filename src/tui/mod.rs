//! The terminal UI: app loop, actions, keymap, views and widgets.
//!
//! The UI only reads immutable snapshots published by the engine and sends it commands;
//! nothing here talks to the cluster or to Git. [`App`] is the state machine (tests drive
//! it on ratatui's `TestBackend`); [`run`] wires it to a real terminal.

mod action;
mod app;
mod commands;
mod input;
mod keymap;
mod options;
pub mod terminal;
mod views;
mod widgets;

pub use action::{Action, Context, SortColumn};
pub use app::App;
pub use commands::{COMMANDS, CommandSpec};
pub use keymap::{Binding, GROUPS, Hint, Keymap};
pub use options::{OptionsError, TuiOptions, no_color_requested};
pub use views::{AppId, AppsView, HelpView, Message, MessageKind};

use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::WrapErr;
use crossterm::event::EventStream;
use futures::StreamExt;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::model::Snapshot;

/// How often spinners advance while something animates.
const SPINNER_INTERVAL: Duration = Duration::from_millis(100);
/// How often ages ("5m ago") are refreshed while any are shown.
const CLOCK_INTERVAL: Duration = Duration::from_secs(30);
/// The least time between two frames caused by snapshots, so a busy engine cannot make
/// the UI redraw hundreds of times a second. Keys are never held back.
const MIN_SNAPSHOT_FRAME: Duration = Duration::from_millis(50);

/// Runs the TUI until the user quits. Draws only when something changed: a key, a mouse
/// wheel, a resize, a new snapshot, or a tick, which runs only while something animates.
pub async fn run(
    options: TuiOptions,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
) -> color_eyre::Result<()> {
    let mut guard = terminal::enter().wrap_err("cannot set up the terminal")?;
    let mut app = App::new(options);
    app.set_snapshot(Arc::clone(&snapshots.borrow_and_update()));
    let mut events = EventStream::new();
    let mut engine_open = true;
    // `dirty`: draw now. `stale`: a snapshot arrived; draw when the frame budget allows.
    let mut dirty = true;
    let mut stale = false;
    let mut last_draw = Instant::now();
    loop {
        if dirty || (stale && last_draw.elapsed() >= MIN_SNAPSHOT_FRAME) {
            app.set_now(Some(jiff::Timestamp::now()));
            guard
                .terminal()
                .draw(|frame| app.draw(frame))
                .wrap_err("cannot draw on the terminal")?;
            dirty = false;
            stale = false;
            last_draw = Instant::now();
        }
        if app.should_quit() {
            break;
        }
        let animating = app.is_animating();
        let wake = [
            stale.then_some(last_draw + MIN_SNAPSHOT_FRAME),
            animating.then_some(last_draw + SPINNER_INTERVAL),
            app.shows_ages().then_some(last_draw + CLOCK_INTERVAL),
        ]
        .into_iter()
        .flatten()
        .min();
        tokio::select! {
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
            () = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)), if wake.is_some() => {
                if animating && last_draw.elapsed() >= SPINNER_INTERVAL {
                    app.tick();
                }
                if !stale {
                    dirty = true;
                }
            }
        }
    }
    drop(guard);
    Ok(())
}
