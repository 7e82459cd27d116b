//! rekon: a keyboard-driven terminal cockpit for GitOps on Kubernetes.
//!
//! The library holds everything; the `rekon` binary (`main.rs`) only parses the command
//! line and dispatches, so tests and benchmarks drive the same code the user runs. The
//! Kubernetes API that the demo and the tests run against is a crate of its own,
//! `rekon_emulator` (`crates/emulator`), which knows nothing of rekon.
//!
//! # How data flows
//!
//! One way: **sources and cluster → engine → snapshots → views**; commands go back.
//!
//! 1. [`source`] resolves each app's revision in Git and renders its desired objects
//!    (plain YAML, Kustomize, Helm). [`cluster`] connects to clusters, discovers the kinds
//!    they serve, and keeps a live store per cluster fed by watch streams.
//! 2. [`engine`] is the pure logic in between: normalize, diff, health, the resource tree,
//!    comparison outcomes and sync plans. Give it data, get data back.
//! 3. [`runtime`] is the one owner of app state: an actor task that renders, compares,
//!    follows Argo CD and Flux objects ([`integrations`]), runs syncs ([`sync`]) and
//!    publishes immutable [`model::Snapshot`]s on a watch channel.
//! 4. The front ends only read snapshots and send commands back: the terminal UI
//!    ([`tui`]), the headless commands ([`cli`]) and the demo ([`demo`]). Nothing in `tui`
//!    talks to a cluster or to Git.
//!
//! # Where to start reading
//!
//! - [`model`]: the words everything else speaks (resource keys, health and sync status,
//!   the Application spec, snapshots).
//! - [`runtime::start`]: how a running rekon is wired, and the commands it takes.
//! - [`engine::compare`] and [`engine::plan`]: what "OutOfSync" means and what a sync does,
//!   with Argo CD's semantics.
//! - [`tui::App`]: the state machine of the terminal UI, driven by keys and snapshots.
//!
//! # Layers
//!
//! The first row is the bottom layer. A module imports only modules of its own or earlier
//! rows, and never one that imports it back:
//!
//! | Layer | Modules | May import |
//! |---|---|---|
//! | data | [`model`], [`yaml`] | nothing of rekon (`model` reads YAML through `yaml`) |
//! | Git | [`source`] | data |
//! | logic | [`engine`] | data only: no I/O, no tasks, no client |
//! | clusters | [`cluster`] | engine, data |
//! | Argo CD and Flux | [`integrations`] | engine, source, data |
//! | sync execution | [`sync`] | cluster, engine, data |
//! | state | [`runtime`] | every earlier row |
//! | settings | [`config`] | data |
//! | front ends | [`tui`], [`cli`], [`demo`] | every earlier row; `cli` and `demo` also `rekon_emulator` |
//!
//! [`malloc`] tunes the allocator at start and [`stop_signal`] turns Ctrl-C, SIGTERM (and for
//! the TUI SIGHUP) into a clean stop; neither imports anything of rekon.

pub mod cli;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod engine;
pub mod integrations;
pub mod malloc;
pub mod model;
pub mod runtime;
pub mod source;
pub mod stop_signal;
pub mod sync;
pub mod tui;
pub mod yaml;
