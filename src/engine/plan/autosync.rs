//! When the engine syncs by itself (Argo CD's auto-sync rules): only apps whose
//! `syncPolicy.automated` is set and enabled, only when OutOfSync, once per revision (a
//! failed attempt at a revision is not repeated), and with `selfHeal` again after live drift,
//! with a growing delay (2 s ×3, at most 5 minutes) so rekon never fights another writer at
//! full speed.

use std::time::{Duration, Instant};

use super::retry::Backoff;
use crate::model::{Automated, SyncStatus};

/// After this long without a self-heal, the backoff starts again from its first delay.
pub const SELF_HEAL_COOLDOWN: Duration = Duration::from_secs(330);

/// What the engine remembers per app for auto-sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AutoState {
    /// The revision of the last full sync and whether it succeeded.
    pub attempted: Option<(String, bool)>,
    /// Self-heals since the backoff last reset.
    pub heal_attempts: u32,
    /// When the last self-heal started.
    pub last_heal: Option<Instant>,
    /// A self-heal is scheduled (waiting out its delay, or for a fresh comparison).
    pub heal_pending: bool,
}

/// What to do about an app now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing.
    Nothing,
    /// Sync the new revision now.
    Sync,
    /// Re-check after this delay and, if still drifted, self-heal.
    HealAfter(Duration),
}

/// What the decision looks at.
#[derive(Debug, Clone, Copy)]
pub struct AppFacts<'a> {
    /// `syncPolicy.automated`.
    pub automated: Option<&'a Automated>,
    /// The app's sync status from its latest comparison.
    pub sync: SyncStatus,
    /// The revision Git resolves to now.
    pub revision: Option<&'a str>,
    /// An operation is running for the app.
    pub running: bool,
}

/// Decides whether to auto-sync or schedule a self-heal.
pub fn decide(facts: AppFacts<'_>, state: &AutoState, now: Instant) -> Decision {
    let Some(auto) = facts.automated.filter(|a| a.enabled) else {
        return Decision::Nothing;
    };
    let Some(revision) = facts.revision else {
        return Decision::Nothing;
    };
    if facts.running || facts.sync != SyncStatus::OutOfSync {
        return Decision::Nothing;
    }
    match &state.attempted {
        Some((rev, succeeded)) if rev == revision => {
            if !succeeded || !auto.self_heal || state.heal_pending {
                return Decision::Nothing;
            }
            Decision::HealAfter(Backoff::SELF_HEAL.delay(heal_attempt(state, now)))
        }
        _ => Decision::Sync,
    }
}

/// The backoff attempt number the next self-heal uses (reset after a quiet cooldown).
pub fn heal_attempt(state: &AutoState, now: Instant) -> u32 {
    match state.last_heal {
        Some(t) if now.duration_since(t) < SELF_HEAL_COOLDOWN => state.heal_attempts,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn automated(self_heal: bool) -> Automated {
        Automated {
            enabled: true,
            prune: false,
            self_heal,
            allow_empty: false,
        }
    }

    fn facts<'a>(auto: Option<&'a Automated>, sync: SyncStatus, rev: &'a str) -> AppFacts<'a> {
        AppFacts {
            automated: auto,
            sync,
            revision: Some(rev),
            running: false,
        }
    }

    #[test]
    fn syncs_once_per_new_revision_when_out_of_sync() {
        let auto = automated(false);
        let now = Instant::now();
        let mut state = AutoState::default();
        assert_eq!(
            decide(facts(Some(&auto), SyncStatus::OutOfSync, "a"), &state, now),
            Decision::Sync
        );
        state.attempted = Some(("a".into(), true));
        assert_eq!(
            decide(facts(Some(&auto), SyncStatus::OutOfSync, "a"), &state, now),
            Decision::Nothing
        );
        assert_eq!(
            decide(facts(Some(&auto), SyncStatus::OutOfSync, "b"), &state, now),
            Decision::Sync
        );
        assert_eq!(
            decide(facts(Some(&auto), SyncStatus::Synced, "b"), &state, now),
            Decision::Nothing
        );
    }

    #[test]
    fn never_without_an_enabled_policy_or_while_running() {
        let now = Instant::now();
        let state = AutoState::default();
        assert_eq!(
            decide(facts(None, SyncStatus::OutOfSync, "a"), &state, now),
            Decision::Nothing
        );
        let mut off = automated(true);
        off.enabled = false;
        assert_eq!(
            decide(facts(Some(&off), SyncStatus::OutOfSync, "a"), &state, now),
            Decision::Nothing
        );
        let auto = automated(true);
        let mut f = facts(Some(&auto), SyncStatus::OutOfSync, "a");
        f.running = true;
        assert_eq!(decide(f, &state, now), Decision::Nothing);
    }

    #[test]
    fn self_heal_only_after_a_successful_attempt_with_backoff() {
        let auto = automated(true);
        let now = Instant::now();
        let mut state = AutoState {
            attempted: Some(("a".into(), false)),
            ..AutoState::default()
        };
        // A failed attempt at this revision is not repeated, even with selfHeal.
        assert_eq!(
            decide(facts(Some(&auto), SyncStatus::OutOfSync, "a"), &state, now),
            Decision::Nothing
        );
        state.attempted = Some(("a".into(), true));
        assert_eq!(
            decide(facts(Some(&auto), SyncStatus::OutOfSync, "a"), &state, now),
            Decision::HealAfter(Duration::from_secs(2))
        );
        state.heal_attempts = 2;
        state.last_heal = Some(now);
        assert_eq!(
            decide(facts(Some(&auto), SyncStatus::OutOfSync, "a"), &state, now),
            Decision::HealAfter(Duration::from_secs(18))
        );
        state.heal_pending = true;
        assert_eq!(
            decide(facts(Some(&auto), SyncStatus::OutOfSync, "a"), &state, now),
            Decision::Nothing
        );
        state.heal_pending = false;
        let later = now + SELF_HEAL_COOLDOWN;
        assert_eq!(
            decide(
                facts(Some(&auto), SyncStatus::OutOfSync, "a"),
                &state,
                later
            ),
            Decision::HealAfter(Duration::from_secs(2))
        );
    }
}
