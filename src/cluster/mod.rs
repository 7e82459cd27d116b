//! Talking to clusters: kubeconfig contexts, `--server`, discovery, writes, comparing an app
//! by dry runs, the watch streams (`watcher`) and the live cache they feed (`store`).
//! Imports `engine` (tracking, tree, desired, diff) and `model`; never `integrations`, `sync`
//! or anything above.

pub mod apply;
pub mod compare;
pub mod connect;
pub mod describe;
pub mod discovery;
pub mod resilience;
pub mod store;
pub mod watcher;

pub use apply::{ApplyOptions, WriteError};
pub use connect::{
    ClusterHandle, ConnectError, connect_contexts, connect_contexts_with, connect_server,
    connect_server_with, in_process,
};
pub use describe::describe_kube;
pub use discovery::{ApiCatalog, ApiKind};
pub use resilience::{Resilience, resilient};
pub use store::{KindState, LiveObject, LiveStore, WatchMsg};
pub use watcher::spawn_watch;
