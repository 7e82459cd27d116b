//! Plain data shared by every part of rekon: resource ids, health and sync words, the
//! Application spec. No I/O here.

mod application;
mod diff;
mod duration;
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
pub use operation::*;
pub use origin::*;
pub use resource::*;
pub use revision::*;
pub use snapshot::*;
pub use status::*;
pub use tree::*;
