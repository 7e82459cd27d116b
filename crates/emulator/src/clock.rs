//! Simulated time for the embedded cluster: a clock that runs `speed` times faster than the
//! wall clock, so a test can watch a rollout that "takes" a minute finish in under a second.
//!
//! Simulated instants are kept as milliseconds since the Unix epoch, which makes them plain
//! data: controllers receive `now` as an argument and stay deterministic in tests.
//!
//! Speed shortens waits; it does not move the calendar. Timestamps written into objects are
//! [`Calendar`] time, which keeps pace with the machine's clock, so `kubectl get` shows true
//! ages. A controller that measures simulated time from a timestamp it wrote maps it back
//! with [`Calendar::parse`].

use std::fmt;
use std::ops::{Add, Sub};
use std::sync::Arc;
use std::time::Duration;

/// An instant of simulated time (milliseconds since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(i64);

/// A span of simulated time (milliseconds). Kept apart from `std::time::Duration` so real
/// and simulated durations cannot be mixed up by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SimDuration(u64);

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of whole simulated seconds.
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs.saturating_mul(1000))
    }

    /// A duration of simulated milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis)
    }

    /// The duration in milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// The duration in (fractional) seconds.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(rhs.0))
    }
}

impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0;
        if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{}ms", ms)
        }
    }
}

impl SimTime {
    /// The instant `millis` milliseconds after the Unix epoch.
    pub const fn from_unix_millis(millis: i64) -> Self {
        SimTime(millis)
    }

    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_unix_secs(secs: i64) -> Self {
        SimTime(secs.saturating_mul(1000))
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant rounded down to a whole second, the precision of Kubernetes `Time` fields.
    pub const fn truncate_to_secs(self) -> Self {
        SimTime(self.unix_secs() * 1000)
    }

    /// How long after `earlier` this instant is; zero when it is not later.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    fn timestamp(self) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(self.0).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// RFC 3339 with whole seconds, as Kubernetes writes `metav1.Time` (`2024-05-01T10:00:00Z`).
    pub fn rfc3339(self) -> String {
        format!("{:.0}", self.timestamp())
    }

    /// RFC 3339 with microseconds, as Kubernetes writes `metav1.MicroTime`.
    pub fn rfc3339_micros(self) -> String {
        format!("{:.6}", self.timestamp())
    }

    /// Parses an RFC 3339 timestamp such as `creationTimestamp`; `None` if it is not one.
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let ts: jiff::Timestamp = text.parse().ok()?;
        Some(SimTime(ts.as_millisecond()))
    }

    /// The same instant as a jiff timestamp (for calendar arithmetic such as cron schedules).
    pub fn to_jiff(self) -> jiff::Timestamp {
        self.timestamp()
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimDuration) -> SimTime {
        SimTime(
            self.0
                .saturating_add(i64::try_from(rhs.0).unwrap_or(i64::MAX)),
        )
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimDuration) -> SimTime {
        SimTime(
            self.0
                .saturating_sub(i64::try_from(rhs.0).unwrap_or(i64::MAX)),
        )
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// Where simulated time meets the calendar written into objects. From `origin` on, one
/// calendar millisecond is `speed` simulated ones (so the calendar keeps pace with the
/// machine's clock while simulated time runs ahead); before `origin` the two agree. At speed
/// 1 both directions are the identity.
///
/// A written timestamp has whole seconds (`metav1.Time`), so it stands for up to `speed`
/// simulated seconds: events less than one real second apart may share a timestamp, and a
/// deadline measured from one fires up to one real second early, as a whole-second timestamp
/// makes it fire up to one second early at speed 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calendar {
    origin: SimTime,
    speed: f64,
}

impl Calendar {
    /// The calendar of a clock running at speed 1: simulated time is calendar time.
    pub const IDENTITY: Calendar = Calendar {
        origin: SimTime(0),
        speed: 1.0,
    };

    /// The calendar of a clock that read `origin` when it started and runs `speed` times as
    /// fast as real time (a speed that is not a positive finite number means 1).
    pub fn new(origin: SimTime, speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Calendar { origin, speed }
    }

    fn is_identity(self) -> bool {
        self.speed == 1.0
    }

    /// The simulated instant at which the calendar reads `cal`. Rounded up, so that a
    /// calendar instant is never ahead of the simulated one it stands for (see
    /// [`Calendar::calendar`]).
    pub fn simulated(self, cal: SimTime) -> SimTime {
        if self.is_identity() || cal <= self.origin {
            return cal;
        }
        let elapsed = cal.since(self.origin).as_millis() as f64 * self.speed;
        // f64 → u64 saturates, so an absurd instant cannot wrap around.
        self.origin + SimDuration::from_millis(elapsed.ceil() as u64)
    }

    /// The calendar instant when the simulated clock reads `sim`: the latest one whose
    /// [`Calendar::simulated`] is not after `sim`. Hence a clock's calendar `now` is never
    /// ahead of the machine's clock, and `calendar(simulated(c)) == c` at speeds of 1 and more.
    pub fn calendar(self, sim: SimTime) -> SimTime {
        if self.is_identity() || sim <= self.origin {
            return sim;
        }
        let guess = (sim.since(self.origin).as_millis() as f64 / self.speed).floor() as u64;
        let mut cal = self.origin + SimDuration::from_millis(guess);
        // The float guess can be a millisecond off either way; settle it exactly.
        while self.simulated(cal + SimDuration::from_millis(1)) <= sim {
            cal = cal + SimDuration::from_millis(1);
        }
        while cal > self.origin && self.simulated(cal) > sim {
            cal = cal - SimDuration::from_millis(1);
        }
        cal
    }

    /// The timestamp to write for something that happened at simulated `sim`: calendar time
    /// in whole seconds, as Kubernetes writes `metav1.Time`.
    pub fn stamp(self, sim: SimTime) -> String {
        self.calendar(sim).rfc3339()
    }

    /// The simulated instant a written timestamp stands for; `None` if it is not one.
    pub fn parse(self, text: &str) -> Option<SimTime> {
        SimTime::parse_rfc3339(text).map(|cal| self.simulated(cal))
    }
}

/// Why a clock could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClockError {
    /// The speed factor is zero, negative, infinite or not a number.
    #[error("simulated clock speed must be a positive finite number, got {0}")]
    BadSpeed(f64),
}

#[derive(Debug)]
struct ClockInner {
    speed: f64,
    origin_sim: SimTime,
    origin_real: tokio::time::Instant,
}

/// The cluster's clock: simulated time advances `speed` times as fast as real time, from the
/// moment the clock was made. Cheap to clone; clones share the same time line.
#[derive(Debug, Clone)]
pub struct SimClock {
    inner: Arc<ClockInner>,
}

impl SimClock {
    /// A clock starting at the current wall-clock time and running `speed` times as fast.
    pub fn new(speed: f64) -> Result<Self, ClockError> {
        let now = jiff::Timestamp::now().as_millisecond();
        Self::starting_at(SimTime::from_unix_millis(now), speed)
    }

    /// A clock starting at simulated instant `start` (handy for reproducible tests).
    pub fn starting_at(start: SimTime, speed: f64) -> Result<Self, ClockError> {
        if !speed.is_finite() || speed <= 0.0 {
            return Err(ClockError::BadSpeed(speed));
        }
        Ok(SimClock {
            inner: Arc::new(ClockInner {
                speed,
                origin_sim: start,
                origin_real: tokio::time::Instant::now(),
            }),
        })
    }

    /// The speed factor: simulated seconds per real second.
    pub fn speed(&self) -> f64 {
        self.inner.speed
    }

    /// The current simulated instant.
    pub fn now(&self) -> SimTime {
        let real = self.inner.origin_real.elapsed();
        let sim_ms = real.as_secs_f64() * 1000.0 * self.inner.speed;
        // f64 → u64 saturates, so an absurd speed cannot wrap around.
        self.inner.origin_sim + SimDuration::from_millis(sim_ms as u64)
    }

    /// How this clock's simulated instants map onto the calendar written into objects.
    pub fn calendar(&self) -> Calendar {
        Calendar::new(self.inner.origin_sim, self.inner.speed)
    }

    /// The real time that `d` of simulated time takes on this clock.
    pub fn real_duration(&self, d: SimDuration) -> Duration {
        Duration::from_secs_f64(d.as_secs_f64() / self.inner.speed)
    }

    /// Sleeps for `d` of simulated time (`d / speed` of real time).
    pub async fn sleep(&self, d: SimDuration) {
        self.sleep_until(self.now() + d).await;
    }

    /// Sleeps until the simulated instant `t` (returns at once when it is past). Never returns
    /// early: float rounding in the real-time conversion is made up by another short sleep.
    pub async fn sleep_until(&self, t: SimTime) {
        loop {
            let left = t.since(self.now());
            if left == SimDuration::ZERO {
                return;
            }
            tokio::time::sleep(self.real_duration(left)).await;
        }
    }
}

/// The API machinery's view of the cluster clock: object timestamps on the [`Calendar`] (so
/// they agree with what the simulated controllers write and are never ahead of the machine's
/// clock), and delays scaled by the speed.
#[derive(Debug, Clone)]
pub struct Clock {
    sim: SimClock,
}

impl Clock {
    /// A clock running simulated time `speed` times faster than real time (a speed that is
    /// not a positive finite number means 1).
    pub fn new(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        let start = SimTime::from_unix_millis(jiff::Timestamp::now().as_millisecond());
        Self {
            sim: SimClock {
                inner: Arc::new(ClockInner {
                    speed,
                    origin_sim: start,
                    origin_real: tokio::time::Instant::now(),
                }),
            },
        }
    }

    /// The simulated clock itself, for the simulated controllers.
    pub fn sim(&self) -> SimClock {
        self.sim.clone()
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.sim.speed()
    }

    /// The real duration of a simulated one.
    pub fn scaled(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.sim.speed())
    }

    /// Sleeps for a simulated duration.
    pub async fn sleep(&self, simulated: Duration) {
        tokio::time::sleep(self.scaled(simulated)).await;
    }

    /// Now on the calendar, as Kubernetes writes timestamps (`2025-01-02T03:04:05Z`).
    pub fn now(&self) -> String {
        self.sim.calendar().stamp(self.sim.now())
    }
}

/// Now in real time, as Kubernetes writes timestamps (`2025-01-02T03:04:05Z`).
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
    fn api_clock_speed_scales_durations_and_bad_speeds_mean_one() {
        let c = Clock::new(10.0);
        assert_eq!(c.scaled(Duration::from_secs(30)), Duration::from_secs(3));
        assert_eq!(Clock::new(0.0).speed(), 1.0);
        assert_eq!(Clock::new(f64::NAN).speed(), 1.0);
        assert_eq!(c.now().len(), 20);
        assert!(seconds_since("garbage").is_none());
    }

    #[test]
    fn formats_kubernetes_timestamps() {
        let t = SimTime::from_unix_millis(1_714_557_600_250);
        assert_eq!(t.rfc3339(), "2024-05-01T10:00:00Z");
        assert_eq!(t.rfc3339_micros(), "2024-05-01T10:00:00.250000Z");
        assert_eq!(
            SimTime::parse_rfc3339("2024-05-01T10:00:00Z"),
            Some(t.truncate_to_secs())
        );
        assert_eq!(SimTime::parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        let t = SimTime::from_unix_secs(100);
        assert_eq!(t + SimDuration::from_secs(5), SimTime::from_unix_secs(105));
        assert_eq!(
            (t + SimDuration::from_secs(5)).since(t),
            SimDuration::from_secs(5)
        );
        assert_eq!(t.since(t + SimDuration::from_secs(5)), SimDuration::ZERO);
        assert_eq!(SimDuration::from_millis(1500).to_string(), "1500ms");
        assert_eq!(
            SimDuration::from_secs(1) + SimDuration::from_millis(500),
            SimDuration::from_millis(1500)
        );
        assert_eq!(SimDuration::from_secs(3).to_string(), "3s");
    }

    #[test]
    fn the_calendar_keeps_pace_with_real_time_while_simulated_time_runs_ahead() {
        let origin = SimTime::from_unix_secs(1_000);
        let cal = Calendar::new(origin, 20.0);
        let secs = SimTime::from_unix_secs;
        assert_eq!(cal.simulated(secs(1_001)), secs(1_020));
        assert_eq!(cal.calendar(secs(1_020)), secs(1_001));
        assert_eq!(cal.stamp(secs(1_019)), "1970-01-01T00:16:40Z");
        assert_eq!(cal.stamp(secs(1_020)), "1970-01-01T00:16:41Z");
        // A written timestamp reads back as the start of its calendar second.
        assert_eq!(cal.parse(&cal.stamp(secs(1_030))), Some(secs(1_020)));
        // Before the clock started, the calendar is simulated time.
        assert_eq!(cal.calendar(secs(900)), secs(900));
        assert_eq!(cal.simulated(secs(900)), secs(900));
        assert_eq!(cal.parse("yesterday"), None);
        // At speed 1 nothing changes: timestamps are simulated time in whole seconds.
        let t = SimTime::from_unix_millis(1_714_557_600_250);
        for one in [Calendar::IDENTITY, Calendar::new(origin, 1.0)] {
            assert_eq!(one.stamp(t), t.rfc3339());
            assert_eq!(
                one.parse("2024-05-01T10:00:00Z"),
                Some(t.truncate_to_secs())
            );
        }
        // Both directions agree exactly, at any speed.
        let origin = SimTime::from_unix_millis(1_714_557_600_123);
        for speed in [0.5, 1.0, 3.0, 20.0, 600.0, 1234.567] {
            let cal = Calendar::new(origin, speed);
            for ms in (0..5_000_000).step_by(9_973) {
                let c = origin + SimDuration::from_millis(ms);
                if speed >= 1.0 {
                    assert_eq!(cal.calendar(cal.simulated(c)), c, "speed {speed}");
                }
                // What matters: a whole calendar second read back is written the same.
                let whole = c.truncate_to_secs();
                assert_eq!(cal.stamp(cal.simulated(whole)), whole.rfc3339());
                let t = origin + SimDuration::from_millis(ms * 7);
                assert!(cal.simulated(cal.calendar(t)) <= t, "speed {speed}");
                assert!(cal.parse(&cal.stamp(t)).unwrap() <= t, "speed {speed}");
            }
        }
    }

    #[tokio::test]
    async fn a_fast_clock_writes_no_timestamp_ahead_of_the_wall_clock() {
        let api = Clock::new(1000.0);
        let sim = SimClock::new(1000.0).unwrap();
        tokio::time::sleep(Duration::from_millis(1_200)).await;
        let written = api.now();
        let wall = jiff::Timestamp::now();
        let written_at: jiff::Timestamp = written.parse().unwrap();
        assert!(written_at <= wall, "{written} is after {wall}");
        let calendar_now = sim.calendar().calendar(sim.now());
        assert!(calendar_now.to_jiff() <= jiff::Timestamp::now());
        // Simulated time itself did run ahead (20 minutes in 1.2 s), so waits are short.
        assert!(sim.now().to_jiff() > wall + jiff::SignedDuration::from_secs(600));
    }

    #[test]
    fn rejects_bad_speeds() {
        assert!(SimClock::new(0.0).is_err());
        assert!(SimClock::new(-2.0).is_err());
        assert!(SimClock::new(f64::NAN).is_err());
        assert!(SimClock::new(f64::INFINITY).is_err());
        assert!(SimClock::new(0.5).is_ok());
    }

    #[tokio::test]
    async fn simulated_time_runs_speed_times_faster() {
        let start = SimTime::from_unix_secs(1_000);
        let clock = SimClock::starting_at(start, 1000.0).unwrap();
        assert_eq!(
            clock.real_duration(SimDuration::from_secs(60)),
            Duration::from_millis(60)
        );
        // A sleep never ends early: after sleeping 5 simulated seconds, at least 5 have passed.
        clock.sleep(SimDuration::from_secs(5)).await;
        assert!(clock.now() >= start + SimDuration::from_secs(5));
        let target = clock.now() + SimDuration::from_secs(3);
        clock.sleep_until(target).await;
        assert!(clock.now() >= target);
        // A past instant returns at once.
        clock.sleep_until(start).await;
    }
}
