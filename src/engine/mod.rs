//! The reconcile engine: normalize, diff, health, compare, tree, plan, sync.

pub mod diff;
pub mod health;
pub mod ignore;
pub mod mask;
pub mod normalize;
pub mod tracking;
pub mod tree;
