//! Plain data shared by every part of rekon: resource ids, health and sync words, manifests,
//! the Application spec. Imports nothing above it; no I/O here.

mod application;
mod diff;
mod duration;
mod manifest;
mod operation;
mod origin;
pub mod packed;
mod resource;
mod revision;
mod snapshot;
mod status;
mod tree;

pub use application::*;
pub use diff::*;
pub use duration::*;
pub use manifest::*;
pub use operation::*;
pub use origin::*;
pub use resource::*;
pub use revision::*;
pub use snapshot::*;
pub use status::*;
pub use tree::*;
