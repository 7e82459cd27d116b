//! The demo: a Git repository built from `assets/demo` and embedded clusters seeded from it.

pub mod repo;
