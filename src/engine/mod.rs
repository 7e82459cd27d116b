//! The reconcile engine, pure logic: normalize, diff, health, tree, desired objects,
//! comparison outcomes, sync planning, timeline, tracking, masking, ignore rules. Imports
//! `model` and `yaml` only: no I/O, no tokio tasks, no kube client (`cluster`, `sync` and
//! the runtime run it against clusters).

pub mod compare;
pub mod desired;
pub mod diff;
pub mod health;
pub mod ignore;
pub mod json;
pub mod mask;
pub mod normalize;
pub mod plan;
pub mod timeline;
pub mod tracking;
pub mod tree;
