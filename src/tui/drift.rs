//! Drift alerts: which apps turned OutOfSync or Degraded between two snapshots.

use std::collections::HashMap;

use crate::model::{AppSnapshot, Health, ManagedBy, Snapshot, SyncStatus};
use crate::tui::views::text::one_line;
use crate::tui::widgets::Toast;

type Identity<'a> = (ManagedBy, &'a str, &'a str, &'a str, &'a str);

fn identity(app: &AppSnapshot) -> Identity<'_> {
    (
        app.managed_by,
        app.kind.as_str(),
        app.cluster.as_str(),
        app.namespace.as_str(),
        app.name.as_str(),
    )
}

/// One toast per app that turned OutOfSync or Degraded since `old`. Nothing is reported
/// until `old` is settled (every app compared once), so the first comparisons after
/// start-up, which only reveal the state things were already in, raise no alarm.
pub fn drift_toasts(old: &Snapshot, new: &Snapshot) -> Vec<Toast> {
    if !old.settled {
        return Vec::new();
    }
    let before_by_id: HashMap<Identity<'_>, &AppSnapshot> =
        old.apps.iter().map(|a| (identity(a), a)).collect();
    let mut out = Vec::new();
    for app in &new.apps {
        let Some(before) = before_by_id.get(&identity(app)) else {
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
        let message = one_line(&app.message);
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
