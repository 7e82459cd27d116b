//! Drift alerts: which apps turned OutOfSync or Degraded between two snapshots.

use crate::model::{Health, Snapshot, SyncStatus};
use crate::tui::views::AppId;
use crate::tui::widgets::Toast;

/// One toast per app that turned OutOfSync or Degraded since `old`. Nothing is reported
/// until `old` is settled (every app compared once), so the first comparisons after
/// start-up, which only reveal the state things were already in, raise no alarm.
pub fn drift_toasts(old: &Snapshot, new: &Snapshot) -> Vec<Toast> {
    if !old.settled {
        return Vec::new();
    }
    let mut out = Vec::new();
    for app in &new.apps {
        let id = AppId::of(app);
        let Some(before) = old.apps.iter().find(|a| AppId::of(a) == id) else {
            continue;
        };
        let out_of_sync = app.sync == SyncStatus::OutOfSync && before.sync != SyncStatus::OutOfSync;
        let degraded = app.health == Health::Degraded && before.health != Health::Degraded;
        let what = match (out_of_sync, degraded) {
            (true, true) => "turned OutOfSync and Degraded",
            (true, false) => "drifted: OutOfSync",
            (false, true) => "turned Degraded",
            (false, false) => continue,
        };
        let mut text = format!("{} ({}) {what}", app.name, app.cluster);
        let message = app.message.split_whitespace().collect::<Vec<_>>().join(" ");
        if degraded && !message.is_empty() {
            text.push_str(": ");
            text.push_str(&message);
        }
        out.push(Toast {
            text,
            warning: true,
        });
    }
    out
}
