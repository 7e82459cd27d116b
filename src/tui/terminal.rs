//! Entering and leaving the terminal: raw mode, alternate screen, mouse capture. A guard
//! restores the terminal on drop (normal exit and `?` errors) and a panic hook restores it
//! before the previous hook (color-eyre's, installed first by main) prints.

use std::io::{self, Stdout, stdout};
use std::sync::Once;

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal in TUI mode; dropping it puts the terminal back as it was.
pub struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// The ratatui terminal to draw on.
    pub fn terminal(&mut self) -> &mut Terminal<CrosstermBackend<Stdout>> {
        &mut self.terminal
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // Nothing useful can be done if restoring fails while unwinding or exiting.
        let _ = restore();
    }
}

/// Puts the terminal back: raw mode off, alternate screen left, mouse released, cursor
/// shown. Safe to call more than once.
pub fn restore() -> io::Result<()> {
    let raw = disable_raw_mode();
    let screen = execute!(stdout(), DisableMouseCapture, LeaveAlternateScreen, Show);
    raw.and(screen)
}

static PANIC_HOOK: Once = Once::new();

/// Chains a panic hook that restores the terminal before the hook already installed (so
/// color-eyre's report lands on a normal screen). Installed once per process.
pub fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = restore();
            previous(info);
        }));
    });
}

/// Enters TUI mode. If any step fails, what was already done is undone before returning.
pub fn enter() -> io::Result<TerminalGuard> {
    install_panic_hook();
    enable_raw_mode()?;
    let setup = execute!(stdout(), EnterAlternateScreen, EnableMouseCapture)
        .and_then(|()| Terminal::new(CrosstermBackend::new(stdout())));
    match setup {
        Ok(mut terminal) => {
            if let Err(e) = terminal.clear() {
                let _ = restore();
                return Err(e);
            }
            Ok(TerminalGuard { terminal })
        }
        Err(e) => {
            let _ = restore();
            Err(e)
        }
    }
}
