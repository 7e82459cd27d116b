//! Fault switches: the emulator misbehaves on purpose so tests (and people trying rekon) can
//! see how a client copes with a flaky API server.
//!
//! Switches are set with `rekon emulate --faults SPEC`, `PUT /rekon/faults` (the same SPEC
//! as text, or the JSON that `GET /rekon/faults` shows) or in process with
//! [`Cluster::faults`](super::Cluster::faults). SPEC is a comma-separated list of items:
//!
//! | item                     | effect                                                          |
//! |--------------------------|-----------------------------------------------------------------|
//! | `drop-watches[=10s]`     | end every open watch now, or every 10 s                          |
//! | `expire-watches[=30s]`   | end every watch with an in-stream 410 and forget the event log, now or every 30 s |
//! | `error-rate=0.2[:503]`   | answer this share of API requests with a 500 (or the code given) |
//! | `throttle-rate=0.1[:2s]` | answer this share with 429 and `Retry-After` (1 s unless given)  |
//! | `latency=200ms`          | delay every API request                                          |
//! | `hang=GLOB`              | requests whose path matches never answer (until the switch is cleared) |
//! | `down=5s`                | the HTTP listener goes away (connections cut, new ones refused) for 5 s |
//! | `reject-token=TOKEN`     | `Authorization: Bearer TOKEN` is answered 401 (expired credentials) |
//! | `forbid=RESOURCE[:VERBS]`| 403 for that resource (plural, kind or `plural.group`), all verbs or `list+watch+patch` … |
//! | `seed=N`                 | seed of the random choices (runs repeat)                        |
//! | `none`                   | every switch off                                                 |
//!
//! `hang`, `reject-token` and `forbid` may repeat. A `hang` GLOB without `*` matches the
//! path and every path below it. Switches never touch `/rekon/…` (so they can always be
//! turned off again). Injected errors are not in the audit log (they never reach the
//! store); 403s from `forbid` are, with their code.

mod spec;

pub use spec::{FaultAction, FaultSpec, FaultSpecError, ForbidRule, parse_put};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use globset::GlobMatcher;
use http::{HeaderMap, header};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::kinds::ResourceType;
use super::status::ApiError;
use super::store::Store;
use spec::matcher;

/// How often each switch fired, for tests and `GET /rekon/faults`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultStats {
    /// Requests answered with an injected error.
    pub errors: u64,
    /// Requests answered 429.
    pub throttled: u64,
    /// Requests delayed by `latency`.
    pub delayed: u64,
    /// Requests held by `hang`.
    pub hung: u64,
    /// Requests answered 401 by `reject-token`.
    pub rejected: u64,
    /// Requests answered 403 by `forbid`.
    pub forbidden: u64,
    /// Times every watch was dropped.
    pub watch_drops: u64,
    /// Times every watch was expired.
    pub watch_expiries: u64,
    /// Times the listener went down.
    pub downs: u64,
}

#[derive(Default)]
struct Counters {
    errors: AtomicU64,
    throttled: AtomicU64,
    delayed: AtomicU64,
    hung: AtomicU64,
    rejected: AtomicU64,
    forbidden: AtomicU64,
    watch_drops: AtomicU64,
    watch_expiries: AtomicU64,
    downs: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Whether the HTTP listener should be up, and whether it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerState {
    /// Accepting connections.
    Up,
    /// Gone: connections cut, new ones refused.
    Down,
    /// Could not bind again.
    Failed(String),
}

struct Active {
    spec: FaultSpec,
    hang: Vec<GlobMatcher>,
}

/// The fault switches of one cluster. Cheap to share.
pub struct Faults {
    active: Mutex<Arc<Active>>,
    /// Bumped on every change, so hung requests and the periodic loop look again.
    changed: watch::Sender<u64>,
    /// Whether the listener should be up (sent by switches, read by the HTTP loop).
    want_up: watch::Sender<bool>,
    /// Whether the listener is up (sent by the HTTP loop).
    listener: watch::Sender<ListenerState>,
    rng: AtomicU64,
    counters: Counters,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Faults")
            .field("spec", &self.spec())
            .finish_non_exhaustive()
    }
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

/// The default seed: runs repeat unless a test asks otherwise.
const DEFAULT_SEED: u64 = 0x5eed_f417;

impl Faults {
    /// Every switch off.
    pub fn new() -> Self {
        Self {
            active: Mutex::new(Arc::new(Active {
                spec: FaultSpec::default(),
                hang: Vec::new(),
            })),
            changed: watch::channel(0).0,
            want_up: watch::channel(true).0,
            listener: watch::channel(ListenerState::Up).0,
            rng: AtomicU64::new(DEFAULT_SEED),
            counters: Counters::default(),
        }
    }

    fn active(&self) -> Arc<Active> {
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The switches in force.
    pub fn spec(&self) -> FaultSpec {
        self.active().spec.clone()
    }

    /// Replaces every switch.
    pub fn set(&self, spec: FaultSpec) -> Result<(), FaultSpecError> {
        spec.validate()?;
        let hang = spec
            .hang
            .iter()
            .filter_map(|g| matcher(g).ok())
            .collect::<Vec<_>>();
        if let Some(seed) = spec.seed {
            self.rng.store(seed, Ordering::Relaxed);
        }
        *self.active.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(Active { spec, hang });
        self.changed.send_modify(|n| *n += 1);
        Ok(())
    }

    /// Every switch off (a listener taken down comes back).
    pub fn clear(&self) {
        let _ = self.set(FaultSpec::default());
        self.want_up.send_replace(true);
    }

    /// How often each switch fired so far.
    pub fn stats(&self) -> FaultStats {
        let c = &self.counters;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FaultStats {
            errors: n(&c.errors),
            throttled: n(&c.throttled),
            delayed: n(&c.delayed),
            hung: n(&c.hung),
            rejected: n(&c.rejected),
            forbidden: n(&c.forbidden),
            watch_drops: n(&c.watch_drops),
            watch_expiries: n(&c.watch_expiries),
            downs: n(&c.downs),
        }
    }

    /// The body of `GET /rekon/faults`.
    pub fn view(&self) -> Value {
        let spec = self.spec();
        json!({
            "spec": spec.to_spec_string(),
            "switches": spec,
            "listener": match &*self.listener.borrow() {
                ListenerState::Up => "up".to_string(),
                ListenerState::Down => "down".to_string(),
                ListenerState::Failed(e) => format!("failed: {e}"),
            },
            "stats": self.stats(),
        })
    }

    /// A number in [0, 1) from the switches' generator (splitmix64).
    fn roll(&self) -> f64 {
        let mut z = self
            .rng
            .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// What happens to an API request before the router looks at it: a delay, a 401, a
    /// hang, a 429 or an injected error. `None` lets it through.
    pub(super) async fn before(&self, path: &str, headers: &HeaderMap) -> Option<ApiError> {
        let active = self.active();
        if let Some(d) = active.spec.latency.filter(|d| !d.is_zero()) {
            bump(&self.counters.delayed);
            tokio::time::sleep(d).await;
        }
        if !active.spec.reject_tokens.is_empty() {
            let token = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            if token.is_some_and(|t| active.spec.reject_tokens.iter().any(|r| r == t)) {
                bump(&self.counters.rejected);
                return Some(ApiError::unauthorized());
            }
        }
        if active.hang.iter().any(|m| m.is_match(path)) {
            bump(&self.counters.hung);
            self.hold(path).await;
        }
        let active = self.active();
        if active.spec.throttle_rate > 0.0 && self.roll() < active.spec.throttle_rate {
            bump(&self.counters.throttled);
            return Some(ApiError::too_many_requests(active.spec.retry_after()));
        }
        if active.spec.error_rate > 0.0 && self.roll() < active.spec.error_rate {
            bump(&self.counters.errors);
            return Some(ApiError::injected(active.spec.code()));
        }
        None
    }

    /// Holds a hung request until no `hang` switch matches its path any more.
    async fn hold(&self, path: &str) {
        let mut changed = self.changed.subscribe();
        loop {
            if !self.active().hang.iter().any(|m| m.is_match(path)) {
                return;
            }
            if changed.changed().await.is_err() {
                // The cluster is gone: never answer.
                std::future::pending::<()>().await;
            }
        }
    }

    /// A 403 when a `forbid` switch covers this verb on this resource.
    pub(super) fn check_forbidden(
        &self,
        rt: &ResourceType,
        verb: &str,
        namespace: &str,
        name: &str,
    ) -> Result<(), ApiError> {
        let active = self.active();
        if !active.spec.forbid.iter().any(|r| r.matches(rt, verb)) {
            return Ok(());
        }
        bump(&self.counters.forbidden);
        Err(ApiError::rbac_forbidden(
            &rt.group,
            &rt.resource,
            verb,
            namespace,
            name,
        ))
    }

    /// Runs one-off actions.
    pub(super) fn act(&self, store: &Store, actions: &[FaultAction]) -> Result<(), String> {
        for a in actions {
            match *a {
                FaultAction::DropWatches => {
                    bump(&self.counters.watch_drops);
                    store.close_watches();
                }
                FaultAction::ExpireWatches => {
                    bump(&self.counters.watch_expiries);
                    store.expire_watches();
                }
                FaultAction::Down(d) => {
                    if !self.has_listener() {
                        return Err("down needs an HTTP listener (rekon emulate, or ClusterOptions::listen)".into());
                    }
                    bump(&self.counters.downs);
                    let want_up = self.want_up.clone();
                    // Give the answer to this very request time to leave first.
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        want_up.send_replace(false);
                        tokio::time::sleep(d).await;
                        want_up.send_replace(true);
                    });
                }
            }
        }
        Ok(())
    }

    fn has_listener(&self) -> bool {
        self.want_up.receiver_count() > 0
    }

    /// Asks the HTTP listener to go down (`false`) or up (`true`).
    pub(super) fn want_listener(&self, up: bool) {
        self.want_up.send_replace(up);
    }

    /// What the HTTP loop reads to know whether to listen.
    pub(super) fn wanted_listener(&self) -> watch::Receiver<bool> {
        self.want_up.subscribe()
    }

    /// Where the HTTP loop reports whether it listens.
    pub(super) fn report_listener(&self, state: ListenerState) {
        self.listener.send_replace(state);
    }

    /// Waits until the listener reports `up` (true) or down (false); the error says why
    /// it could not come up.
    pub(super) async fn listener_settled(&self, up: bool) -> Result<(), String> {
        let mut rx = self.listener.subscribe();
        let state = rx
            .wait_for(|s| match s {
                ListenerState::Up => up,
                ListenerState::Down => !up,
                ListenerState::Failed(_) => true,
            })
            .await
            .map(|s| s.clone())
            .map_err(|_| "the HTTP listener stopped".to_string())?;
        match state {
            ListenerState::Failed(e) => Err(e),
            _ => Ok(()),
        }
    }
}

/// Drops or expires every watch periodically while `drop-watches=N` / `expire-watches=N`
/// are set. Ends when the store shuts down.
pub(super) async fn run_periodic(faults: Arc<Faults>, store: Store) {
    let mut changed = faults.changed.subscribe();
    let mut shutdown = store.shutdown_signal();
    loop {
        let spec = faults.spec();
        let next = |d: Option<Duration>| async move {
            match d {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = changed.changed() => {
                if r.is_err() {
                    return;
                }
            }
            _ = shutdown.wait_for(|s| *s) => return,
            _ = next(spec.drop_watches) => {
                let _ = faults.act(&store, &[FaultAction::DropWatches]);
            }
            _ = next(spec.expire_watches) => {
                let _ = faults.act(&store, &[FaultAction::ExpireWatches]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_hit_about_their_share() {
        let f = Faults::new();
        let hits = (0..10_000).filter(|_| f.roll() < 0.2).count();
        assert!((1_500..2_500).contains(&hits), "{hits}");
    }
}
