//! Durations as Argo CD writes them (`5s`, `3m`, `1h30m`) and the backoff maths of
//! `syncPolicy.retry` and of self-heal.

use std::time::Duration;

use thiserror::Error;

use crate::model::RetryStrategy;

/// A duration that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} {value:?} is not a duration (use e.g. 30s, 5m, 1h30m)")]
pub struct DurationError {
    /// Which setting.
    pub what: String,
    /// The text given.
    pub value: String,
}

/// Parses Go-style durations (`300ms`, `5s`, `3m`, `1h30m`, `2.5m`); a bare number is
/// seconds.
pub fn parse_duration(text: &str, what: &str) -> Result<Duration, DurationError> {
    let err = || DurationError {
        what: what.to_string(),
        value: text.to_string(),
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(err());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_duration(secs).ok_or_else(err);
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        if num_len == 0 {
            return Err(err());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(err()),
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    secs_to_duration(total).ok_or_else(err)
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    (0.0..1e12)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

/// Writes a duration briefly: `5m0s`, `2s`, `1h30m0s`, `250ms`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// Exponential backoff: `base × factor^attempt`, capped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// First delay.
    pub base: Duration,
    /// Multiplier per attempt.
    pub factor: f64,
    /// Largest delay.
    pub cap: Duration,
}

impl Backoff {
    /// Self-heal's backoff: 2 s, ×3, at most 5 minutes (Argo CD's controller defaults).
    pub const SELF_HEAL: Backoff = Backoff {
        base: Duration::from_secs(2),
        factor: 3.0,
        cap: Duration::from_secs(300),
    };

    /// The delay before retry number `attempt` (0 for the first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let secs = self.base.as_secs_f64() * self.factor.max(1.0).powi(attempt.min(64) as i32);
        let capped = secs.min(self.cap.as_secs_f64());
        Duration::from_secs_f64(capped.max(0.0))
    }
}

/// How a failed sync is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first failure; `None` means without limit.
    pub limit: Option<u32>,
    /// Delay between attempts.
    pub backoff: Backoff,
}

impl RetryPolicy {
    /// No retries.
    pub const NONE: RetryPolicy = RetryPolicy {
        limit: Some(0),
        backoff: Backoff {
            base: Duration::from_secs(5),
            factor: 2.0,
            cap: Duration::from_secs(180),
        },
    };

    /// Reads `syncPolicy.retry` (Argo CD's defaults: 5s, ×2, at most 3m; limit 0 when
    /// unset, negative means unlimited).
    pub fn from_spec(spec: Option<&RetryStrategy>) -> Result<RetryPolicy, DurationError> {
        let Some(spec) = spec else {
            return Ok(RetryPolicy::NONE);
        };
        let mut policy = RetryPolicy::NONE;
        policy.limit = match spec.limit {
            Some(n) if n < 0 => None,
            Some(n) => Some(u32::try_from(n).unwrap_or(u32::MAX)),
            None => Some(0),
        };
        if let Some(b) = &spec.backoff {
            if let Some(d) = &b.duration {
                policy.backoff.base = parse_duration(d, "syncPolicy.retry.backoff.duration")?;
            }
            if let Some(f) = b.factor.filter(|f| f.is_finite() && *f >= 1.0) {
                policy.backoff.factor = f;
            }
            if let Some(d) = &b.max_duration {
                policy.backoff.cap = parse_duration(d, "syncPolicy.retry.backoff.maxDuration")?;
            }
        }
        Ok(policy)
    }

    /// Whether retry number `attempt` (0 for the first retry) is allowed.
    pub fn allows(&self, attempt: u32) -> bool {
        self.limit.is_none_or(|l| attempt < l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Backoff as SpecBackoff;

    #[test]
    fn parses_go_durations() {
        let d = |t: &str| parse_duration(t, "--timeout").unwrap();
        assert_eq!(d("5s"), Duration::from_secs(5));
        assert_eq!(d("3m"), Duration::from_secs(180));
        assert_eq!(d("1h30m"), Duration::from_secs(5400));
        assert_eq!(d("2.5m"), Duration::from_secs(150));
        assert_eq!(d("250ms"), Duration::from_millis(250));
        assert_eq!(d("90"), Duration::from_secs(90));
        for bad in ["", "5x", "m", "-3s", "5 s"] {
            let e = parse_duration(bad, "--timeout").unwrap_err();
            assert!(e.to_string().starts_with("--timeout"), "{bad}");
        }
    }

    #[test]
    fn formats_durations_briefly() {
        assert_eq!(format_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
        assert_eq!(format_duration(Duration::from_millis(40)), "40ms");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1h2m5s");
    }

    #[test]
    fn self_heal_backoff_is_2s_times_3_capped_at_5m() {
        let b = Backoff::SELF_HEAL;
        let secs: Vec<u64> = (0..6).map(|n| b.delay(n).as_secs()).collect();
        assert_eq!(secs, [2, 6, 18, 54, 162, 300]);
        assert_eq!(b.delay(1000).as_secs(), 300);
    }

    #[test]
    fn retry_policy_follows_argo_cd_defaults() {
        assert!(!RetryPolicy::from_spec(None).unwrap().allows(0));
        let spec = RetryStrategy {
            limit: Some(3),
            backoff: None,
        };
        let p = RetryPolicy::from_spec(Some(&spec)).unwrap();
        assert!(p.allows(2) && !p.allows(3));
        let delays: Vec<u64> = (0..7).map(|n| p.backoff.delay(n).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 180]);
        let spec = RetryStrategy {
            limit: Some(-1),
            backoff: Some(SpecBackoff {
                duration: Some("1s".into()),
                factor: Some(3.0),
                max_duration: Some("10s".into()),
            }),
        };
        let p = RetryPolicy::from_spec(Some(&spec)).unwrap();
        assert!(p.allows(10_000));
        let delays: Vec<u64> = (0..4).map(|n| p.backoff.delay(n).as_secs()).collect();
        assert_eq!(delays, [1, 3, 9, 10]);
        let bad = RetryStrategy {
            limit: Some(1),
            backoff: Some(SpecBackoff {
                duration: Some("soon".into()),
                ..Default::default()
            }),
        };
        assert!(
            RetryPolicy::from_spec(Some(&bad))
                .unwrap_err()
                .to_string()
                .contains("syncPolicy.retry.backoff.duration")
        );
    }
}
