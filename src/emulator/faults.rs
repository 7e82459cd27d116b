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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use globset::{Glob, GlobMatcher};
use http::{HeaderMap, header};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::kinds::ResourceType;
use super::status::ApiError;
use super::store::Store;
use crate::engine::sync::{format_duration, parse_duration};

/// Every switch, as `GET /rekon/faults` shows it and `PUT /rekon/faults` takes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultSpec {
    /// End every open watch this often.
    #[serde(with = "opt_duration", skip_serializing_if = "Option::is_none")]
    pub drop_watches: Option<Duration>,
    /// End every watch with a 410 Expired and forget the event log this often.
    #[serde(with = "opt_duration", skip_serializing_if = "Option::is_none")]
    pub expire_watches: Option<Duration>,
    /// Share of API requests answered with `error_code` (0 to 1).
    #[serde(skip_serializing_if = "is_zero")]
    pub error_rate: f64,
    /// The code of injected errors (500 when 0).
    #[serde(skip_serializing_if = "is_zero_u16")]
    pub error_code: u16,
    /// Share of API requests answered with 429 Too Many Requests (0 to 1).
    #[serde(skip_serializing_if = "is_zero")]
    pub throttle_rate: f64,
    /// `Retry-After` of throttled answers (1 s when unset).
    #[serde(with = "opt_duration", skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<Duration>,
    /// Delay added to every API request.
    #[serde(with = "opt_duration", skip_serializing_if = "Option::is_none")]
    pub latency: Option<Duration>,
    /// Path globs of requests that never answer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hang: Vec<String>,
    /// Bearer tokens answered with 401 Unauthorized.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reject_tokens: Vec<String>,
    /// Resources (and verbs) answered with 403 Forbidden.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forbid: Vec<ForbidRule>,
    /// Seed of the random choices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_zero_u16(v: &u16) -> bool {
    *v == 0
}

/// A `forbid` switch: RBAC refuses these verbs on this resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForbidRule {
    /// Plural (`configmaps`), kind (`ConfigMap`) or `plural.group` (`deployments.apps`).
    pub resource: String,
    /// Verbs refused (get, list, watch, create, update, patch, delete, deletecollection);
    /// empty means all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verbs: Vec<String>,
}

impl ForbidRule {
    fn matches(&self, rt: &ResourceType, verb: &str) -> bool {
        let r = self.resource.as_str();
        let named = r == rt.resource
            || r.eq_ignore_ascii_case(&rt.kind)
            || (!rt.group.is_empty() && r == format!("{}.{}", rt.resource, rt.group));
        named && (self.verbs.is_empty() || self.verbs.iter().any(|v| v == verb))
    }
}

/// Something a switch does once, at the moment it is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// End every open watch now.
    DropWatches,
    /// End every watch with a 410 and forget the event log now.
    ExpireWatches,
    /// Take the HTTP listener away for this long.
    Down(Duration),
}

/// A SPEC that could not be read, naming the item at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault {item:?}: {message}")]
pub struct FaultSpecError {
    /// The item as written.
    pub item: String,
    /// What is wrong with it.
    pub message: String,
}

/// Known verbs, for checking `forbid` rules.
const VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

impl FaultSpec {
    /// Reads a SPEC (`error-rate=0.2:500,latency=200ms,…`): the switches it sets and the
    /// one-off actions it asks for. Items not named stay off.
    pub fn parse<'t>(text: &'t str) -> Result<(FaultSpec, Vec<FaultAction>), FaultSpecError> {
        let mut spec = FaultSpec::default();
        let mut actions = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let err = |message: String| FaultSpecError {
                item: item.to_string(),
                message,
            };
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (item, None),
            };
            let need = |v: Option<&'t str>| -> Result<&'t str, FaultSpecError> {
                v.filter(|v| !v.is_empty())
                    .ok_or_else(|| err(format!("{key} needs a value ({key}=…)")))
            };
            let duration = |v: &str| parse_duration(v, key).map_err(|e| err(e.to_string()));
            match key {
                "none" => spec = FaultSpec::default(),
                "drop-watches" => match value {
                    None => actions.push(FaultAction::DropWatches),
                    Some(v) => spec.drop_watches = Some(positive(duration(v)?, &err)?),
                },
                "expire-watches" => match value {
                    None => actions.push(FaultAction::ExpireWatches),
                    Some(v) => spec.expire_watches = Some(positive(duration(v)?, &err)?),
                },
                "error-rate" => {
                    let v = need(value)?;
                    let (rate, code) = match v.split_once(':') {
                        Some((r, c)) => (r, Some(c)),
                        None => (v, None),
                    };
                    spec.error_rate = rate_of(rate, &err)?;
                    if let Some(c) = code {
                        spec.error_code = c
                            .parse::<u16>()
                            .ok()
                            .filter(|c| (400..=599).contains(c))
                            .ok_or_else(|| err(format!("{c:?} is not an HTTP error code")))?;
                    }
                }
                "throttle-rate" => {
                    let v = need(value)?;
                    let (rate, after) = match v.split_once(':') {
                        Some((r, a)) => (r, Some(a)),
                        None => (v, None),
                    };
                    spec.throttle_rate = rate_of(rate, &err)?;
                    if let Some(a) = after {
                        spec.retry_after = Some(duration(a)?);
                    }
                }
                "latency" => spec.latency = Some(duration(need(value)?)?),
                "hang" => {
                    let g = need(value)?;
                    matcher(g).map_err(|e| err(e.to_string()))?;
                    spec.hang.push(g.to_string());
                }
                "down" => actions.push(FaultAction::Down(positive(duration(need(value)?)?, &err)?)),
                "reject-token" => spec.reject_tokens.push(need(value)?.to_string()),
                "forbid" => {
                    let v = need(value)?;
                    let (resource, verbs) = match v.split_once(':') {
                        Some((r, verbs)) => (r, verbs.split('+').map(str::trim).collect()),
                        None => (v, Vec::new()),
                    };
                    if resource.is_empty() {
                        return Err(err("forbid needs a resource".into()));
                    }
                    let rule = ForbidRule {
                        resource: resource.to_string(),
                        verbs: verbs.into_iter().map(str::to_string).collect(),
                    };
                    rule.check().map_err(err)?;
                    spec.forbid.push(rule);
                }
                "seed" => {
                    let v = need(value)?;
                    spec.seed = Some(
                        v.parse()
                            .map_err(|_| err(format!("{v:?} is not a whole number")))?,
                    );
                }
                other => {
                    return Err(err(format!(
                        "unknown switch {other:?} (known: drop-watches, expire-watches, error-rate, throttle-rate, latency, hang, down, reject-token, forbid, seed, none)"
                    )));
                }
            }
        }
        Ok((spec, actions))
    }

    /// Checks values that JSON could carry but SPEC parsing refuses.
    pub fn validate(&self) -> Result<(), FaultSpecError> {
        let err = |item: &str, message: String| FaultSpecError {
            item: item.to_string(),
            message,
        };
        for (name, rate) in [
            ("errorRate", self.error_rate),
            ("throttleRate", self.throttle_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(err(name, format!("{rate} is not between 0 and 1")));
            }
        }
        if self.error_code != 0 && !(400..=599).contains(&self.error_code) {
            return Err(err(
                "errorCode",
                format!("{} is not an HTTP error code", self.error_code),
            ));
        }
        for (name, d) in [
            ("dropWatches", self.drop_watches),
            ("expireWatches", self.expire_watches),
        ] {
            if d.is_some_and(|d| d.is_zero()) {
                return Err(err(name, "must be longer than zero".into()));
            }
        }
        for g in &self.hang {
            matcher(g).map_err(|e| err("hang", e.to_string()))?;
        }
        for rule in &self.forbid {
            rule.check().map_err(|m| err("forbid", m))?;
        }
        Ok(())
    }

    /// The SPEC that sets these switches (the inverse of [`FaultSpec::parse`]).
    pub fn to_spec_string(&self) -> String {
        let mut items = Vec::new();
        if let Some(d) = self.drop_watches {
            items.push(format!("drop-watches={}", format_duration(d)));
        }
        if let Some(d) = self.expire_watches {
            items.push(format!("expire-watches={}", format_duration(d)));
        }
        if self.error_rate > 0.0 {
            items.push(format!("error-rate={}:{}", self.error_rate, self.code()));
        }
        if self.throttle_rate > 0.0 {
            items.push(format!(
                "throttle-rate={}:{}",
                self.throttle_rate,
                format_duration(self.retry_after())
            ));
        }
        if let Some(d) = self.latency {
            items.push(format!("latency={}", format_duration(d)));
        }
        items.extend(self.hang.iter().map(|g| format!("hang={g}")));
        items.extend(
            self.reject_tokens
                .iter()
                .map(|t| format!("reject-token={t}")),
        );
        for r in &self.forbid {
            if r.verbs.is_empty() {
                items.push(format!("forbid={}", r.resource));
            } else {
                items.push(format!("forbid={}:{}", r.resource, r.verbs.join("+")));
            }
        }
        if let Some(s) = self.seed {
            items.push(format!("seed={s}"));
        }
        if items.is_empty() {
            "none".into()
        } else {
            items.join(",")
        }
    }

    fn code(&self) -> u16 {
        if self.error_code == 0 {
            500
        } else {
            self.error_code
        }
    }

    fn retry_after(&self) -> Duration {
        self.retry_after.unwrap_or(Duration::from_secs(1))
    }
}

impl ForbidRule {
    fn check(&self) -> Result<(), String> {
        match self.verbs.iter().find(|v| !VERBS.contains(&v.as_str())) {
            Some(v) => Err(format!(
                "unknown verb {v:?} (known: {}; join several with +)",
                VERBS.join(", ")
            )),
            None => Ok(()),
        }
    }
}

fn positive(
    d: Duration,
    err: &impl Fn(String) -> FaultSpecError,
) -> Result<Duration, FaultSpecError> {
    if d.is_zero() {
        return Err(err("must be longer than zero".into()));
    }
    Ok(d)
}

fn rate_of(text: &str, err: &impl Fn(String) -> FaultSpecError) -> Result<f64, FaultSpecError> {
    text.parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| err(format!("{text:?} is not a share between 0 and 1")))
}

/// A `hang` pattern: a glob, or a plain path that also covers the paths below it.
fn matcher(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    let glob = if pattern.contains(['*', '?', '[', '{']) {
        pattern.to_string()
    } else {
        format!("{{{0},{0}/**}}", pattern.trim_end_matches('/'))
    };
    Ok(Glob::new(&glob)?.compile_matcher())
}

/// Durations as `200ms`, `10s`, `5m0s` in JSON.
mod opt_duration {
    use super::*;

    pub fn serialize<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_duration(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Duration>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        text.map(|t| parse_duration(&t, "duration").map_err(serde::de::Error::custom))
            .transpose()
    }
}

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

/// Reads the body of `PUT /rekon/faults`: a JSON object of switches (optionally with
/// `"actions": ["drop-watches", "down=5s", …]`), or a SPEC as text.
pub fn parse_put(body: &[u8]) -> Result<(FaultSpec, Vec<FaultAction>), FaultSpecError> {
    let text = std::str::from_utf8(body).map_err(|_| FaultSpecError {
        item: "body".into(),
        message: "is not UTF-8".into(),
    })?;
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return FaultSpec::parse(trimmed);
    }
    let mut value: Value = serde_json::from_str(trimmed).map_err(|e| FaultSpecError {
        item: "body".into(),
        message: format!("is not valid JSON: {e}"),
    })?;
    let mut actions = Vec::new();
    if let Some(list) = value.as_object_mut().and_then(|m| m.remove("actions")) {
        let items: Vec<String> = serde_json::from_value(list).map_err(|e| FaultSpecError {
            item: "actions".into(),
            message: format!("must be a list of strings: {e}"),
        })?;
        for item in items {
            let (spec, acts) = FaultSpec::parse(&item)?;
            if spec != FaultSpec::default() {
                return Err(FaultSpecError {
                    item,
                    message: "is a switch, not an action (put it beside \"actions\")".into(),
                });
            }
            actions.extend(acts);
        }
    }
    let spec: FaultSpec = serde_json::from_value(value).map_err(|e| FaultSpecError {
        item: "body".into(),
        message: e.to_string(),
    })?;
    spec.validate()?;
    Ok((spec, actions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_switch_and_prints_it_back() {
        let (spec, actions) = FaultSpec::parse(
            "drop-watches=10s,error-rate=0.2:503,throttle-rate=0.1:2s,latency=200ms,expire-watches,hang=/api/v1/pods,reject-token=old,forbid=configmaps:list+watch,forbid=Secret,seed=7,down=5s",
        )
        .unwrap();
        assert_eq!(spec.drop_watches, Some(Duration::from_secs(10)));
        assert_eq!((spec.error_rate, spec.error_code), (0.2, 503));
        assert_eq!(spec.throttle_rate, 0.1);
        assert_eq!(spec.retry_after, Some(Duration::from_secs(2)));
        assert_eq!(spec.latency, Some(Duration::from_millis(200)));
        assert_eq!(spec.hang, ["/api/v1/pods"]);
        assert_eq!(spec.reject_tokens, ["old"]);
        assert_eq!(spec.forbid[0].verbs, ["list", "watch"]);
        assert!(spec.forbid[1].verbs.is_empty());
        assert_eq!(spec.seed, Some(7));
        assert_eq!(
            actions,
            [
                FaultAction::ExpireWatches,
                FaultAction::Down(Duration::from_secs(5))
            ]
        );
        let again = FaultSpec::parse(&spec.to_spec_string()).unwrap().0;
        assert_eq!(again, spec);
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<FaultSpec>(&json).unwrap(), spec);
    }

    #[test]
    fn bad_items_are_named() {
        for (spec, needle) in [
            ("error-rate=2", "\"error-rate=2\""),
            ("error-rate=0.1:200", "not an HTTP error code"),
            ("latency=soon", "latency"),
            ("forbid=pods:peek", "unknown verb \"peek\""),
            ("drop-watches=0s", "longer than zero"),
            ("explode", "unknown switch \"explode\""),
            ("hang=", "needs a value"),
        ] {
            let e = FaultSpec::parse(spec).unwrap_err().to_string();
            assert!(e.contains(needle), "{spec}: {e}");
        }
        assert_eq!(FaultSpec::parse("none").unwrap().0, FaultSpec::default());
    }

    #[test]
    fn put_takes_json_or_a_spec() {
        let (spec, actions) =
            parse_put(br#"{"errorRate": 0.5, "latency": "20ms", "actions": ["drop-watches"]}"#)
                .unwrap();
        assert_eq!(spec.error_rate, 0.5);
        assert_eq!(spec.latency, Some(Duration::from_millis(20)));
        assert_eq!(actions, [FaultAction::DropWatches]);
        assert_eq!(
            parse_put(b"latency=1s").unwrap().0.latency,
            Some(Duration::from_secs(1))
        );
        assert!(parse_put(br#"{"errorRate": 3}"#).is_err());
        assert!(parse_put(br#"{"bogus": 1}"#).is_err());
        assert!(parse_put(br#"{"actions": ["latency=1s"]}"#).is_err());
    }

    #[test]
    fn hang_patterns_cover_sub_paths_or_glob() {
        let m = matcher("/api/v1/pods").unwrap();
        assert!(m.is_match("/api/v1/pods"));
        assert!(m.is_match("/api/v1/pods/x"));
        assert!(!m.is_match("/api/v1/podsx"));
        let g = matcher("/api/v1/namespaces/*/configmaps/*").unwrap();
        assert!(g.is_match("/api/v1/namespaces/shop/configmaps/web"));
        assert!(!g.is_match("/api/v1/namespaces/shop/secrets/web"));
    }

    #[test]
    fn rates_hit_about_their_share() {
        let f = Faults::new();
        let hits = (0..10_000).filter(|_| f.roll() < 0.2).count();
        assert!((1_500..2_500).contains(&hits), "{hits}");
    }
}
