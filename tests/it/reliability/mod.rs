//! Bad input, failures, properties, credentials, read-only mode, the terminal and a short soak.

mod bad_input;
mod cli;
mod engine;
mod no_panic;
mod properties;
mod prune;
mod read_only;
mod soak;
mod terminal;
