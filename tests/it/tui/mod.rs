//! The terminal UI: views rendered on a test backend (insta snapshots) and the real binary in tmux.

mod app_view;
mod apps;
mod diff;
mod e2e;
mod flux;
mod help;
mod history;
mod observed_sync;
mod small;
mod sync;
