//! Durations as Argo CD writes them (`5s`, `3m`, `1h30m`) and the backoff maths of
//! `syncPolicy.retry` and of self-heal.

use std::time::Duration;

use crate::model::{DurationError, RetryStrategy, parse_duration};

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
