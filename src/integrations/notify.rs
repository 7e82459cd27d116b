//! Notifications: a JSON message (Slack-compatible `text`, plus app, cluster, old and new
//! state, revision) posted to each `--notify` URL when an app changes sync or health state
//! or a sync ends.
//!
//! The notifier reads published snapshots like any view, so it never blocks the engine. It
//! compares each snapshot with the previous one (from the first settled snapshot on, so
//! starting up sends nothing), queues what changed in a bounded queue that drops the oldest
//! message with a warning when full, and delivers in order with retries and exponential
//! backoff. A message carries states, revisions and the app's one-line message, never an
//! object's content, so Secret values cannot reach a webhook. Snapshots published faster
//! than the notifier reads them are seen as their latest state: a flap between two reads
//! goes unreported.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::model::{AppSnapshot, OperationPhase, Snapshot};

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    /// The sync status changed.
    Sync,
    /// The health changed.
    Health,
    /// A sync operation ended.
    SyncEnded,
}

/// One message, as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// One line for people (Slack's field).
    pub text: String,
    /// The app as commands name it (`ns/name`, `argocd:ns/name` …).
    pub app: String,
    /// The cluster.
    pub cluster: String,
    /// `rekon`, `argocd` or `flux`.
    pub managed_by: String,
    /// What changed.
    pub event: ChangeKind,
    /// The state before (`Synced`, `Healthy`, or the operation's phase before).
    pub old: String,
    /// The state now.
    pub new: String,
    /// The revision the app is at (or the operation synced).
    pub revision: Option<String>,
    /// The app's one-line message, or the operation's.
    pub message: String,
}

fn key(app: &AppSnapshot) -> (String, String) {
    (super::app_ref(app), app.cluster.clone())
}

/// The messages that the move from `old` to `new` calls for. Apps new in `new` send
/// nothing (they have no "before").
pub fn changes(old: &Snapshot, new: &Snapshot) -> Vec<Notification> {
    let before: HashMap<(String, String), &AppSnapshot> =
        old.apps.iter().map(|a| (key(a), a)).collect();
    let mut out = Vec::new();
    for app in &new.apps {
        let Some(prev) = before.get(&key(app)) else {
            continue;
        };
        let name = super::app_ref(app);
        let base = |event,
                    old: String,
                    new: String,
                    text: String,
                    revision: Option<String>,
                    message: String| {
            Notification {
                text,
                app: name.clone(),
                cluster: app.cluster.clone(),
                managed_by: app.managed_by.as_str().to_string(),
                event,
                old,
                new,
                revision,
                message,
            }
        };
        if prev.sync != app.sync {
            out.push(base(
                ChangeKind::Sync,
                prev.sync.to_string(),
                app.sync.to_string(),
                format!(
                    "{name} on {} is now {} (was {})",
                    app.cluster, app.sync, prev.sync
                ),
                app.revision.clone(),
                app.message.clone(),
            ));
        }
        if prev.health != app.health {
            out.push(base(
                ChangeKind::Health,
                prev.health.to_string(),
                app.health.to_string(),
                format!(
                    "{name} on {} is now {} (was {})",
                    app.cluster, app.health, prev.health
                ),
                app.revision.clone(),
                app.message.clone(),
            ));
        }
        if let Some(op) = &app.operation
            && op.phase != OperationPhase::Running
        {
            let was = prev.operation.as_ref();
            let ended_now = match was {
                None => true,
                Some(w) => w.phase == OperationPhase::Running || w.started_at != op.started_at,
            };
            if ended_now {
                let phase = format!("{:?}", op.phase);
                let short = crate::model::short_sha(&op.revision);
                out.push(base(
                    ChangeKind::SyncEnded,
                    was.map(|w| format!("{:?}", w.phase)).unwrap_or_default(),
                    phase.clone(),
                    format!(
                        "sync of {name} on {} {} at {}{}",
                        app.cluster,
                        phase.to_lowercase(),
                        if short.is_empty() { "?" } else { &short },
                        if op.message.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", op.message)
                        }
                    ),
                    (!op.revision.is_empty()).then(|| op.revision.clone()),
                    op.message.clone(),
                ));
            }
        }
    }
    out
}

/// How the notifier delivers.
#[derive(Debug, Clone)]
pub struct NotifyOptions {
    /// Messages kept waiting at most; the oldest is dropped when full.
    pub queue_capacity: usize,
    /// Attempts per message (the first included).
    pub attempts: u32,
    /// First wait between attempts; doubled each time.
    pub backoff: Duration,
    /// Cap on the wait between attempts.
    pub max_backoff: Duration,
    /// Timeout of one POST.
    pub timeout: Duration,
}

impl Default for NotifyOptions {
    fn default() -> Self {
        NotifyOptions {
            queue_capacity: 256,
            attempts: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Counters of a running notifier.
#[derive(Debug, Default)]
pub struct NotifyStats {
    /// Messages delivered.
    pub delivered: AtomicU64,
    /// Messages given up on after every attempt failed.
    pub failed: AtomicU64,
    /// Messages dropped because the queue was full.
    pub dropped: AtomicU64,
}

struct Queue {
    items: Mutex<VecDeque<(String, Notification)>>,
    wake: Notify,
    capacity: usize,
    stats: Arc<NotifyStats>,
}

impl Queue {
    fn push(&self, url: &str, n: Notification) {
        let mut items = self.items.lock().unwrap_or_else(|e| e.into_inner());
        if items.len() >= self.capacity.max(1)
            && let Some((u, old)) = items.pop_front()
        {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "notification queue is full ({} messages): dropped the oldest, for {} to {u}",
                self.capacity,
                old.app
            );
        }
        items.push_back((url.to_string(), n));
        drop(items);
        self.wake.notify_one();
    }

    fn pop(&self) -> Option<(String, Notification)> {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
    }
}

/// A running notifier; dropping it stops it.
pub struct Notifier {
    tasks: Vec<JoinHandle<()>>,
    stats: Arc<NotifyStats>,
}

impl Notifier {
    /// Counters, for tests and the status line.
    pub fn stats(&self) -> Arc<NotifyStats> {
        self.stats.clone()
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts notifying `urls` of the changes in `snapshots`. With no URLs it does nothing.
pub fn spawn(
    urls: Vec<String>,
    mut snapshots: watch::Receiver<Arc<Snapshot>>,
    options: NotifyOptions,
) -> Notifier {
    let stats = Arc::new(NotifyStats::default());
    if urls.is_empty() {
        return Notifier {
            tasks: Vec::new(),
            stats,
        };
    }
    let queue = Arc::new(Queue {
        items: Mutex::new(VecDeque::new()),
        wake: Notify::new(),
        capacity: options.queue_capacity,
        stats: stats.clone(),
    });
    let watcher = {
        let queue = queue.clone();
        tokio::spawn(async move {
            let mut baseline: Option<Arc<Snapshot>> = None;
            loop {
                let current = snapshots.borrow_and_update().clone();
                match &baseline {
                    Some(old) => {
                        for n in changes(old, &current) {
                            for url in &urls {
                                queue.push(url, n.clone());
                            }
                        }
                        baseline = Some(current);
                    }
                    None if current.settled => baseline = Some(current),
                    None => {}
                }
                if snapshots.changed().await.is_err() {
                    return;
                }
            }
        })
    };
    let sender = {
        let queue = queue.clone();
        let stats = stats.clone();
        tokio::spawn(async move {
            let client = match reqwest::Client::builder().timeout(options.timeout).build() {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("notifications are off: cannot build an HTTP client: {e}");
                    return;
                }
            };
            loop {
                let Some((url, n)) = queue.pop() else {
                    queue.wake.notified().await;
                    continue;
                };
                if deliver(&client, &url, &n, &options).await {
                    stats.delivered.fetch_add(1, Ordering::Relaxed);
                } else {
                    stats.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    Notifier {
        tasks: vec![watcher, sender],
        stats,
    }
}

/// Posts one message, retrying with exponential backoff; false when every attempt failed.
async fn deliver(
    client: &reqwest::Client,
    url: &str,
    n: &Notification,
    options: &NotifyOptions,
) -> bool {
    let body = match serde_json::to_vec(n) {
        Ok(b) => b,
        Err(_) => return false,
    };
    let mut wait = options.backoff;
    for attempt in 1..=options.attempts.max(1) {
        let result = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        let why = match result {
            Ok(r) if r.status().is_success() => return true,
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => e.to_string(),
        };
        tracing::warn!(
            "notifying {url} about {} failed (attempt {attempt} of {}): {why}",
            n.app,
            options.attempts
        );
        if attempt < options.attempts {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(options.max_backoff);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Health, ManagedBy, Operation, SyncStatus};

    fn app(sync: SyncStatus, health: Health) -> AppSnapshot {
        AppSnapshot {
            name: "web".into(),
            namespace: "argocd".into(),
            managed_by: ManagedBy::Argocd,
            kind: "Application".into(),
            cluster: "prod".into(),
            destination_namespace: "web".into(),
            repo_url: String::new(),
            path: String::new(),
            target_revision: String::new(),
            revision: Some("abcdef0123".into()),
            sync,
            health,
            message: String::new(),
            auto_sync: false,
            last_sync: None,
            resources: Default::default(),
            operation: None,
            origin: Default::default(),
            detail: None,
        }
    }

    fn snap(apps: Vec<AppSnapshot>) -> Snapshot {
        Snapshot {
            apps,
            settled: true,
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_full_queue_drops_the_oldest() {
        let stats = Arc::new(NotifyStats::default());
        let q = Queue {
            items: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
            capacity: 2,
            stats: stats.clone(),
        };
        let n = |app: &str| Notification {
            text: String::new(),
            app: app.into(),
            cluster: String::new(),
            managed_by: String::new(),
            event: ChangeKind::Sync,
            old: String::new(),
            new: String::new(),
            revision: None,
            message: String::new(),
        };
        for a in ["a", "b", "c"] {
            q.push("http://x", n(a));
        }
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(q.pop().unwrap().1.app, "b");
        assert_eq!(q.pop().unwrap().1.app, "c");
        assert!(q.pop().is_none());
    }

    #[test]
    fn reports_sync_health_and_finished_operations() {
        let old = snap(vec![app(SyncStatus::Synced, Health::Healthy)]);
        let mut changed = app(SyncStatus::OutOfSync, Health::Degraded);
        changed.operation = Some(Operation {
            app: "argocd/web".into(),
            phase: OperationPhase::Failed,
            revision: "abcdef0123".into(),
            steps: vec![],
            message: "one or more objects failed to apply".into(),
            started_at: "t".into(),
            finished_at: Some("t2".into()),
            initiated_by: "alice".into(),
            dry_run: false,
        });
        let out = changes(&old, &snap(vec![changed.clone()]));
        let events: Vec<ChangeKind> = out.iter().map(|n| n.event).collect();
        assert_eq!(
            events,
            [ChangeKind::Sync, ChangeKind::Health, ChangeKind::SyncEnded]
        );
        assert_eq!(out[0].app, "argocd:argocd/web");
        assert_eq!(
            out[0].text,
            "argocd:argocd/web on prod is now OutOfSync (was Synced)"
        );
        assert_eq!(
            (out[1].old.as_str(), out[1].new.as_str()),
            ("Healthy", "Degraded")
        );
        assert!(out[2].text.contains("failed at abcdef0"), "{}", out[2].text);
        // The same finished operation again is no news.
        assert!(changes(&snap(vec![changed.clone()]), &snap(vec![changed])).is_empty());
        // An app seen for the first time has no "before".
        assert!(changes(&snap(vec![]), &old).is_empty());
    }
}
