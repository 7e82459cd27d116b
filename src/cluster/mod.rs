//! Connecting to clusters: kubeconfig contexts, `--server`, discovery and the live watch cache.

pub mod apply;
pub mod compare;
pub mod connect;
pub mod describe;
pub mod discovery;
pub mod live;
pub mod resilience;

pub use apply::{ApplyOptions, WriteError};
pub use connect::{
    ClusterHandle, ConnectError, connect_contexts, connect_contexts_with, connect_server,
    connect_server_with, in_process,
};
pub use describe::describe_kube;
pub use discovery::{ApiCatalog, ApiKind};
pub use live::{KindState, LiveObject, LiveStore, WatchMsg, spawn_watch};
pub use resilience::{Resilience, resilient};
