//! rekon-emulator: a Kubernetes API server in process, for rekon's `emulate` and `demo`
//! commands, its tests and its benchmarks. It needs no cluster, container runtime or network
//! beyond loopback, and does not depend on rekon.
//!
//! Start at [`Cluster::start`] with [`ClusterOptions`]: talk to the cluster through
//! [`Cluster::client`] (a `kube::Client` served in process) or over HTTP when
//! [`ClusterOptions::listen`] is set ([`Cluster::url`], [`Cluster::write_kubeconfig`] for
//! kubectl). [`run_emulate`] is `rekon emulate`; [`controllers`] simulates the workloads'
//! controllers, kubelet and scheduler, and the Argo CD and Flux controllers of the demo.
//!
//! [`Cluster::start`] builds a cluster: a [`Store`] of objects, the [`Router`] that answers
//! the Kubernetes API over it (in process through [`Cluster::client`], or over HTTP on
//! loopback), and the control-plane loops every cluster has (garbage collection, namespace
//! lifecycle, the `default` ServiceAccount).
//!
//! # Hooks for simulated controllers
//! A controller task takes [`Cluster::store`], follows changes with [`Store::subscribe`]
//! ([`Subscription::next`] yields committed [`Event`]s in resourceVersion order, or
//! [`Changes::Lost`] when it fell behind the event log), reads with [`Store::get_stored`] and
//! [`Store::list_stored`], and writes in process as a named manager with [`Store::create`],
//! [`Store::modify`], [`Store::update_status`], [`Store::delete`] and
//! [`Store::remove_finalizer`]. In-process writes skip the immutable-field checks (they stand
//! in for subresources such as a Pod's binding). Simulated delays go through
//! [`Store::clock`] ([`Clock::sleep`] scales by [`ClusterOptions::speed`]).
//!
//! # Fault switches
//! [`Cluster::faults`], [`Cluster::set_faults`] and `PUT /rekon/faults` make the server
//! misbehave on purpose (see [`faults`]): dropped and expired watches, 5xx and 429 answers,
//! latency, requests that never answer, a listener that goes away ([`Cluster::stop_listener`],
//! `down=5s`), rejected tokens (401) and RBAC refusals (403).
//!
//! # What is not emulated
//! - Authentication, authorization (RBAC objects are stored, not enforced), admission
//!   webhooks, TLS, API priority and fairness.
//! - Schemas: no validation or pruning against built-in types or a CRD's
//!   `openAPIV3Schema`; `fieldValidation=Strict` is accepted, not enforced. Checked: names,
//!   labels, the 256 KiB annotation limit, CRD definitions, common immutable fields.
//! - OpenAPI: `/openapi/v3` lists every group version but carries no schemas (enough for
//!   kubectl's server-side field validation; `kubectl explain` shows no fields);
//!   `/openapi/v2` is an empty document (kubectl's validation of a `List` falls back to it).
//! - The differences from a real kube-apiserver that `tests/it/differential` finds and
//!   accepts are listed, with their reasons, in `tests/realk8s/differential.md`.
//! - CRD conversion: objects are stored at the storage version and relabelled to the
//!   requested one (conversion strategy `None`); no conversion webhooks.
//! - JSON lists honour `limit`/`continue`, but later pages serve the current state, not a
//!   snapshot: each page reports the first page's resourceVersion, so a watch from it
//!   replays what changed meanwhile. Table and YAML lists come in one page. No
//!   `resourceVersionMatch=Exact` in the past; aggregated discovery has no ETags.
//! - Protobuf: only request bodies of the kinds kubectl's `create` generators and `run`
//!   send; responses are JSON; no CBOR.
//! - Subresources: only `status`, `scale` and `namespaces/finalize` (no `pods/log`, `exec`,
//!   `attach`, `portforward`, `proxy`, `eviction`, `binding`, `token`, `resize`).
//! - API groups other than the built-in kinds listed in `kinds.rs` and CRDs (no
//!   `events.k8s.io`, `coordination.k8s.io`, `admissionregistration.k8s.io`,
//!   `scheduling.k8s.io`, access reviews, so `kubectl auth can-i` fails).
//! - Deletion: `gracePeriodSeconds` is ignored (objects without finalizers go at once);
//!   foreground deletion waits for every dependent, whatever its `blockOwnerDeletion`.
//! - Services: IPv4 only, cluster IPs handed out in order from 10.96.0.0/12; no
//!   load-balancer status (that is the simulated controllers' job).
//! - The object size limit of etcd is not enforced; the audit log records API requests,
//!   not in-process controller writes.

mod audit;
pub mod clock;
pub mod controllers;
mod crd;
pub mod defaults;
mod delete;
mod discovery;
mod duration;
mod event_ttl;
pub mod faults;
mod fields;
pub mod fields_schema;
pub mod fieldset;
mod gc;
mod http;
mod immutable;
mod jsonpath;
mod key;
mod kinds;
mod kubeconfig;
mod openapi;
mod paging;
pub mod patch;
mod printers;
mod protobuf;
mod render;
mod request;
mod router;
mod scale;
mod seed;
mod selectors;
mod serve;
mod services;
mod sim_wiring;
pub mod ssa;
pub mod ssa_managed;
pub mod ssa_walk;
mod status;
mod store;
mod table;
mod value;
mod watch;
mod write;
mod yaml;

pub use audit::AuditEntry;
pub use clock::Clock;
pub use delete::{DeleteOptions, Deleted, Propagation};
pub use faults::{
    FaultAction, FaultSpec, FaultSpecError, FaultStats, Faults, ForbidRule, ListenerState,
};
pub use key::ResourceKey;
pub use kinds::{GroupResource, Registry, ResourceType};
pub use router::Router;
pub use selectors::{FieldSelector, LabelSelector, Selectors};
pub use serve::{ServeOptions, run_emulate};
pub use status::{ApiError, Cause};
pub use store::{Changes, Event, EventType, ObjRef, Store, Stored, Subscription};
pub use write::{PatchBody, WriteOptions, Written};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The Kubernetes version the emulator reports (the machine's kubectl dispatcher picks its
/// binary from the minor version).
pub const VERSION_GIT: &str = "v1.33.1";

/// The body of `/version`.
pub fn version_info() -> Value {
    json!({"major": "1", "minor": "33", "emulationMajor": "1", "emulationMinor": "33",
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "32", "gitVersion": VERSION_GIT,
        "gitCommit": "rekon-emulator", "gitTreeState": "clean", "buildDate": "2025-05-15T00:00:00Z",
        "goVersion": "go1.24.2", "compiler": "gc", "platform": "linux/amd64"})
}

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Cluster name (kubeconfig cluster entry).
    pub name: String,
    /// Also serve HTTP on this address (port 0 picks a free port).
    pub listen: Option<SocketAddr>,
    /// Simulated time runs this many times faster (for simulated controllers).
    pub speed: f64,
    /// Simulated Nodes to create.
    pub nodes: usize,
    /// Events kept for watches; older resourceVersions get 410 Expired.
    pub event_log_capacity: usize,
    /// Audit entries kept.
    pub audit_capacity: usize,
    /// How often watches that allow bookmarks get one.
    pub bookmark_interval: Duration,
    /// Run the simulated controllers (Deployments get ReplicaSets and Pods, Jobs complete …).
    pub controllers: bool,
    /// Events are deleted this long (simulated time) after their last write, as with
    /// kube-apiserver's `--event-ttl`.
    pub event_ttl: Duration,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            name: "rekon".into(),
            listen: None,
            speed: 1.0,
            nodes: 3,
            event_log_capacity: 20_000,
            audit_capacity: 100_000,
            bookmark_interval: Duration::from_secs(60),
            controllers: true,
            event_ttl: event_ttl::DEFAULT_EVENT_TTL,
        }
    }
}

/// Why a cluster could not start or do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The kubeconfig could not be written.
    #[error("cannot write kubeconfig {}: {source}", path.display())]
    Kubeconfig {
        /// The file at fault.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// HTTP was asked of a cluster started without a listener.
    #[error("cluster {0} has no HTTP listener (set ClusterOptions::listen)")]
    NotListening(String),
    /// The HTTP listener could not come back (`restart_listener`).
    #[error("cluster {name}: {message}")]
    Restart {
        /// The cluster.
        name: String,
        /// Why.
        message: String,
    },
    /// The initial objects could not be created.
    #[error("cannot create the initial objects of cluster {name}: {source}")]
    Seed {
        /// The cluster.
        name: String,
        /// What the store said.
        source: Box<ApiError>,
    },
}

/// A running emulated cluster. Stops when dropped (or with [`Cluster::stop`]).
pub struct Cluster {
    name: String,
    store: Store,
    audit: Arc<audit::Audit>,
    faults: Arc<Faults>,
    router: Router,
    addr: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .finish()
    }
}

impl Cluster {
    /// Starts a cluster (needs a Tokio runtime): seeds it, starts its control loops and, if
    /// asked, its HTTP listener.
    pub async fn start(options: ClusterOptions) -> Result<Cluster, ClusterError> {
        let store = Store::new(options.event_log_capacity, Clock::new(options.speed));
        seed::seed(&store, options.nodes).map_err(|source| ClusterError::Seed {
            name: options.name.clone(),
            source: Box::new(source),
        })?;
        let audit = Arc::new(audit::Audit::new(options.audit_capacity));
        let faults = Arc::new(Faults::new());
        let listener = match options.listen {
            Some(addr) => Some(
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| ClusterError::Listen { addr, source })?,
            ),
            None => None,
        };
        let addr = match &listener {
            Some(l) => Some(l.local_addr().map_err(|source| {
                ClusterError::Listen {
                    addr: options
                        .listen
                        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
                    source,
                }
            })?),
            None => None,
        };
        let server_address = addr.map_or_else(|| "127.0.0.1:6443".to_string(), |a| a.to_string());
        let router = Router::new(
            store.clone(),
            audit.clone(),
            faults.clone(),
            options.bookmark_interval,
            server_address,
        );
        let mut tasks = vec![
            tokio::spawn(gc::run(store.clone())),
            tokio::spawn(event_ttl::run(store.clone(), options.event_ttl)),
            tokio::spawn(faults::run_periodic(faults.clone(), store.clone())),
        ];
        if options.controllers {
            let access: Arc<dyn controllers::StoreAccess> = Arc::new(sim_wiring::StoreAdapter {
                store: store.clone(),
            });
            let sim = store.clock().sim();
            let mut shutdown = store.shutdown_signal();
            tasks.push(tokio::spawn(controllers::run(access, sim, async move {
                let _ = shutdown.wait_for(|stopped| *stopped).await;
            })));
        }
        if let Some(listener) = listener {
            tasks.push(tokio::spawn(http::serve(
                listener,
                router.clone(),
                store.shutdown_signal(),
                faults.clone(),
            )));
        }
        Ok(Cluster {
            name: options.name,
            store,
            audit,
            faults,
            router,
            addr,
            tasks,
        })
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A kube client talking to this cluster in process (no socket). Needs a Tokio runtime.
    pub fn client(&self) -> kube::Client {
        kube::Client::new(self.router.clone(), "default")
    }

    /// The router, to serve it elsewhere.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The store, for in-process controllers and tests.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The HTTP address, when listening.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, when listening.
    pub fn url(&self) -> Option<String> {
        self.addr.map(|a| format!("http://{a}"))
    }

    /// Writes a kubeconfig whose current context `context` reaches this cluster over HTTP.
    pub fn write_kubeconfig(&self, path: &Path, context: &str) -> Result<(), ClusterError> {
        let url = self
            .url()
            .ok_or_else(|| ClusterError::NotListening(self.name.clone()))?;
        kubeconfig::write(path, &url, &self.name, context).map_err(|source| {
            ClusterError::Kubeconfig {
                path: path.to_path_buf(),
                source,
            }
        })
    }

    /// Every request that reached the store so far, in order.
    pub fn audit(&self) -> Vec<AuditEntry> {
        self.audit.entries()
    }

    /// Ends every open watch cleanly (clients re-watch from where they were).
    pub fn close_watches(&self) {
        self.store.close_watches();
    }

    /// Ends every open watch with an in-stream 410 Expired and forgets the event log, so
    /// clients must list again.
    pub fn expire_watches(&self) {
        self.store.expire_watches();
    }

    /// The fault switches (see [`faults`]): errors, throttling, latency, hangs, dropped and
    /// expired watches, rejected tokens, RBAC refusals.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// Sets the fault switches from a SPEC (`error-rate=0.2,latency=50ms`, see [`faults`])
    /// and runs the one-off actions it names.
    pub fn set_faults(&self, spec: &str) -> Result<(), FaultSpecError> {
        let (spec, actions) = FaultSpec::parse(spec)?;
        self.faults.set(spec)?;
        self.faults
            .act(&self.store, &actions)
            .map_err(|message| FaultSpecError {
                item: "down".into(),
                message,
            })
    }

    /// Takes the HTTP listener away, keeping the store: every connection is cut and new
    /// ones are refused until [`Cluster::restart_listener`]. Returns once the port is closed.
    pub async fn stop_listener(&self) -> Result<(), ClusterError> {
        if self.addr.is_none() {
            return Err(ClusterError::NotListening(self.name.clone()));
        }
        self.faults.want_listener(false);
        self.faults
            .listener_settled(false)
            .await
            .map_err(|message| ClusterError::Restart {
                name: self.name.clone(),
                message,
            })
    }

    /// Brings the HTTP listener back on the same address after [`Cluster::stop_listener`].
    pub async fn restart_listener(&self) -> Result<(), ClusterError> {
        if self.addr.is_none() {
            return Err(ClusterError::NotListening(self.name.clone()));
        }
        self.faults.want_listener(true);
        self.faults
            .listener_settled(true)
            .await
            .map_err(|message| ClusterError::Restart {
                name: self.name.clone(),
                message,
            })
    }

    /// Stops the cluster: ends watches and background loops, closes the listener.
    pub async fn stop(mut self) {
        self.store.shut_down();
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.store.shut_down();
        for t in &self.tasks {
            t.abort();
        }
    }
}
