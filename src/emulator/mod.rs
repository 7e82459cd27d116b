//! The embedded Kubernetes API server (`rekon emulate`, the demo and every integration test).

pub mod clock;
pub mod controllers;
