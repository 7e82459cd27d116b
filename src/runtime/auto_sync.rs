//! Auto-sync and self-heal in the runtime (`EngineOptions::auto_sync`): after each
//! comparison, the rules of [`crate::engine::plan::autosync`] decide; a self-heal waits out
//! its backoff, then acts only on a comparison started after the wait.

use std::time::Instant;

use crate::engine::plan::autosync;
use crate::model::{SyncOptions, short_sha};
use crate::source::{Rendered, SourceError};

use super::actor::Actor;
use super::apps::{HistoryState, Trigger};
use super::messages::{Msg, OpMsg};

impl Actor {
    /// After each comparison: loads the history once, and runs the auto-sync rules.
    pub(super) fn after_compare(&mut self, a: usize, generation: u64) {
        self.load_history(a, None);
        if let Some(after) = self.apps[a].ops.heal_verify_after {
            if generation <= after {
                return;
            }
            self.apps[a].ops.heal_verify_after = None;
            self.apps[a].ops.auto.heal_pending = false;
            if self.self_heal_due(a) {
                self.start_self_heal(a);
            }
            return;
        }
        self.consider_auto_sync(a);
    }

    fn automated(&self, a: usize) -> Option<crate::model::Automated> {
        self.apps[a]
            .app
            .spec
            .sync_policy
            .as_ref()
            .and_then(|p| p.automated.clone())
            .filter(|a| a.enabled)
    }

    fn facts(&self, a: usize) -> Option<(crate::model::SyncStatus, String)> {
        let rt = &self.apps[a];
        let sync = rt.summary.as_ref()?.sync;
        let Some(Ok(r)) = &rt.rendered else {
            return None;
        };
        Some((sync, r.commit.clone()))
    }

    pub(super) fn consider_auto_sync(&mut self, a: usize) {
        if !self.options.auto_sync || self.options.read_only {
            return;
        }
        if self.apps[a].ops.history_state != HistoryState::Loaded {
            return;
        }
        let Some(auto) = self.automated(a) else {
            return;
        };
        let Some((sync, revision)) = self.facts(a) else {
            return;
        };
        let rt = &self.apps[a];
        if rt.comparing || rt.stale {
            return;
        }
        let facts = autosync::AppFacts {
            automated: Some(&auto),
            sync,
            revision: Some(&revision),
            running: rt.ops.running.is_some(),
        };
        let name = rt.app.qualified_name();
        match autosync::decide(facts, &rt.ops.auto, Instant::now()) {
            autosync::Decision::Nothing => {}
            autosync::Decision::Sync => {
                tracing::info!(
                    "auto-sync of {name}: OutOfSync at {}, syncing",
                    short_sha(&revision)
                );
                let options = SyncOptions {
                    prune: auto.prune,
                    ..SyncOptions::default()
                };
                self.start_sync(a, options, "auto-sync".into(), None, Trigger::AutoSync);
            }
            autosync::Decision::HealAfter(delay) => {
                tracing::info!(
                    "self-heal of {name}: live state drifted from {}, re-syncing in {}",
                    short_sha(&revision),
                    crate::model::format_duration(delay)
                );
                self.apps[a].ops.auto.heal_pending = true;
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Msg::Op(OpMsg::HealDue { app: a }));
                });
            }
        }
    }

    fn self_heal_due(&self, a: usize) -> bool {
        if !self.options.auto_sync || self.options.read_only {
            return false;
        }
        let Some(auto) = self.automated(a).filter(|x| x.self_heal) else {
            return false;
        };
        let _ = auto;
        let rt = &self.apps[a];
        let Some((sync, revision)) = self.facts(a) else {
            return false;
        };
        let attempted_ok = rt
            .ops
            .auto
            .attempted
            .as_ref()
            .is_some_and(|(r, ok)| *r == revision && *ok);
        if sync != crate::model::SyncStatus::OutOfSync || rt.ops.running.is_some() {
            tracing::info!(
                "self-heal of {} not needed: {sync}",
                rt.app.qualified_name()
            );
            return false;
        }
        attempted_ok
    }

    fn start_self_heal(&mut self, a: usize) {
        let Some(auto) = self.automated(a) else {
            return;
        };
        let now = Instant::now();
        let state = &mut self.apps[a].ops.auto;
        state.heal_attempts = autosync::heal_attempt(state, now) + 1;
        state.last_heal = Some(now);
        let attempt = state.heal_attempts;
        tracing::info!(
            "self-heal of {}: syncing (attempt {attempt})",
            self.apps[a].app.qualified_name()
        );
        let options = SyncOptions {
            prune: auto.prune,
            ..SyncOptions::default()
        };
        self.start_sync(a, options, "self-heal".into(), None, Trigger::SelfHeal);
    }

    /// Notes a new Git revision in the log (what `rekon run` prints per refresh).
    pub(super) fn note_rendered(&self, a: usize, result: &Result<Rendered, SourceError>) {
        let rt = &self.apps[a];
        let name = rt.app.qualified_name();
        let before = match &rt.rendered {
            Some(Ok(r)) => Some(r.commit.as_str()),
            _ => None,
        };
        match (before, result) {
            (Some(old), Ok(new)) if old != new.commit => tracing::info!(
                "{name}: new revision {} (was {})",
                short_sha(&new.commit),
                short_sha(old)
            ),
            (None, Ok(new)) => tracing::debug!("{name}: revision {}", short_sha(&new.commit)),
            (_, Err(e)) => tracing::warn!("{name}: {e}"),
            _ => {}
        }
    }
}
