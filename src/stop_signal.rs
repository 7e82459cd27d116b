//! The signals that ask a front end to stop, so it can leave in order (the TUI restores the
//! terminal, `rekon run` terminates its running syncs) instead of dying mid-way.

/// What SIGHUP does to the front end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hangup {
    /// SIGHUP stops it too: the TUI's terminal went away.
    Stops,
    /// SIGHUP keeps its default (or `nohup`'s ignore), so a headless loop run under `nohup`
    /// outlives its terminal.
    Untouched,
}

/// Resolves with the name of the first signal that asks us to stop: SIGTERM, SIGINT (Ctrl-C
/// outside raw mode, `kill -INT`), and SIGHUP when `hangup` says so. A signal whose handler
/// cannot be installed never fires.
pub async fn stop_signal(hangup: Hangup) -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Installing a handler replaces the default action, so an unwanted signal gets none.
        let wait = |kind: SignalKind, wanted: bool| async move {
            if wanted && let Ok(mut s) = signal(kind) {
                s.recv().await;
                return;
            }
            std::future::pending::<()>().await
        };
        tokio::select! {
            _ = wait(SignalKind::terminate(), true) => "SIGTERM",
            _ = wait(SignalKind::interrupt(), true) => "SIGINT",
            _ = wait(SignalKind::hangup(), hangup == Hangup::Stops) => "SIGHUP",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = hangup;
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
