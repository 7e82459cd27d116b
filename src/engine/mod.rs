//! The reconcile engine: normalize, diff, health, compare, tree, plan, sync.

pub mod compare;
pub mod desired;
pub mod diff;
pub mod health;
pub mod ignore;
pub mod json;
pub mod mask;
pub mod normalize;
pub mod summary;
pub mod sync;
pub mod timeline;
pub mod tracking;
pub mod tree;
