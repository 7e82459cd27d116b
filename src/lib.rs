//! rekon: a keyboard-driven terminal cockpit for GitOps on Kubernetes.
//!
//! The library holds everything; the `rekon` binary only parses the command line and
//! dispatches, so tests and benchmarks drive the same code the user runs.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod emulator;
pub mod engine;
pub mod integrations;
pub mod malloc;
pub mod model;
pub mod source;
pub mod stop_signal;
pub mod tui;
pub mod yaml;
