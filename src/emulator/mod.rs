//! The embedded Kubernetes API server (`rekon emulate`, the demo and every integration test).

pub mod defaults;
pub mod fields_schema;
pub mod fieldset;
pub mod patch;
pub mod ssa;
pub mod ssa_managed;
pub mod ssa_walk;
