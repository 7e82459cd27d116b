//! The emulator's integration tests, one binary: a module per area and one `support` module;
//! data fixtures live in `tests/fixtures`. Tests that need kubectl fail when `CI=true` and it
//! is missing, and otherwise skip with a reason.

mod api;
mod clock;
mod controllers_driver;
mod events;
mod faults;
mod kube_client;
mod kubectl;
mod support;
