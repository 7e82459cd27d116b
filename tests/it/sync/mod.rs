//! The sync engine: order, hooks, pruning, safety, takeover, history and the command line.

mod cli;
mod control;
mod controllers;
mod history;
mod order;
mod prune;
mod safety;
mod takeover;
