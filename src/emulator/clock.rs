//! Time in the emulated cluster: wall-clock timestamps for objects, and a speed factor that
//! simulated controllers use to shorten their delays.

use std::time::Duration;

/// The cluster's clock.
#[derive(Debug, Clone)]
pub struct Clock {
    speed: f64,
}

impl Clock {
    /// A clock running simulated time `speed` times faster than real time (≤ 0 means 1).
    pub fn new(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Self { speed }
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The real duration of a simulated one.
    pub fn scaled(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.speed)
    }

    /// Sleeps for a simulated duration.
    pub async fn sleep(&self, simulated: Duration) {
        tokio::time::sleep(self.scaled(simulated)).await;
    }

    /// Now, as Kubernetes writes timestamps (`2025-01-02T03:04:05Z`).
    pub fn now(&self) -> String {
        now_rfc3339()
    }
}

/// Now, as Kubernetes writes timestamps (`2025-01-02T03:04:05Z`).
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Seconds elapsed since a Kubernetes timestamp, `None` if it does not parse.
pub fn seconds_since(timestamp: &str) -> Option<i64> {
    let t: jiff::Timestamp = timestamp.parse().ok()?;
    Some(jiff::Timestamp::now().as_second() - t.as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_seconds_in_utc() {
        let t = now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z'));
        let age = seconds_since(&t).unwrap();
        assert!((0..5).contains(&age));
        assert_eq!(seconds_since("garbage"), None);
    }

    #[test]
    fn speed_scales_durations() {
        let c = Clock::new(10.0);
        assert_eq!(c.scaled(Duration::from_secs(30)), Duration::from_secs(3));
        assert_eq!(Clock::new(0.0).speed(), 1.0);
        assert_eq!(Clock::new(f64::NAN).speed(), 1.0);
    }
}
