//! `rekon run`: the headless reconciler.

mod auto;
mod cli;
