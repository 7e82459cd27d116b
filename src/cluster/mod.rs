//! Connecting to clusters: kubeconfig contexts, `--server`, discovery and the live watch cache.

pub mod apply;
pub mod connect;
pub mod discovery;
pub mod live;

pub use apply::{ApplyOptions, WriteError};
pub use connect::{ClusterHandle, ConnectError, connect_contexts, connect_server};
pub use discovery::{ApiCatalog, ApiKind};
pub use live::{KindState, LiveObject, LiveStore, WatchMsg, spawn_watch};
