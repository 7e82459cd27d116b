//! The fault switches as data: [`FaultSpec`] read from a SPEC string or JSON, checked, and
//! printed back; the one-off [`FaultAction`]s a SPEC may ask for.

use std::time::Duration;

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::duration::{format_duration, parse_duration};
use crate::kinds::ResourceType;

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
    pub(super) fn matches(&self, rt: &ResourceType, verb: &str) -> bool {
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

    pub(super) fn code(&self) -> u16 {
        if self.error_code == 0 {
            500
        } else {
            self.error_code
        }
    }

    pub(super) fn retry_after(&self) -> Duration {
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
pub(super) fn matcher(pattern: &str) -> Result<GlobMatcher, globset::Error> {
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
}
