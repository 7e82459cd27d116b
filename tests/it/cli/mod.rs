//! The headless commands as a user runs them: the `rekon` binary against clusters and Git.

mod emulate;
mod fresh_git;
mod headless;
mod observed;
mod observed_sync;
