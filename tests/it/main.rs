//! rekon's integration tests in one binary (one link of kube, gix and ratatui instead of one
//! per file): a module per area, each holding the former test files, and `support` with the
//! helpers they share. Fixtures are data under `tests/fixtures`; insta snapshots sit in
//! `snapshots/` beside the module that asserts them.
//!
//! Tests that must own their process stay separate binaries beside this folder:
//! `config_env.rs` sets environment variables of the process, `reliability_credentials.rs` and
//! `reliability_secrets.rs` install the global tracing subscriber.

mod architecture;
mod cli;
mod config;
mod demo;
mod differential;
mod engine;
mod integrations;
mod reliability;
mod run;
mod source;
mod support;
mod sync;
mod tui;
