//! Watch streams: synthetic ADDED events for the initial state (or `sendInitialEvents` with
//! its `k8s.io/initial-events-end` bookmark), then every change after the starting
//! resourceVersion, read from the store's event log. Periodic bookmarks carry `apiVersion`
//! and `kind`; a resourceVersion older than the log gets an in-stream 410 `Expired`.
//! Frames of plain watches are the event's shared bytes: serialized once for all watchers.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use serde_json::json;
use tokio::sync::watch;
use tokio::time::Instant;

use super::kinds::ResourceType;
use super::request::Format;
use super::selectors::Selectors;
use super::status::ApiError;
use super::store::{Event, EventType, Store, Stored, WatchControl, watch_frame};
use super::table::{self, IncludeObject};

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// With synthetic ADDED events for every current object, then changes.
    Initial,
    /// With the changes after the current resourceVersion.
    Now,
    /// With the changes after this resourceVersion.
    After(u64),
}

/// Everything a watch needs to know.
#[derive(Debug, Clone)]
pub struct WatchParams {
    /// The watched resource, at the requested version.
    pub rt: Arc<ResourceType>,
    /// Only this namespace, if set.
    pub namespace: Option<String>,
    /// Label and field selectors.
    pub selectors: Selectors,
    /// Where to start.
    pub start: Start,
    /// After the initial events, send the `k8s.io/initial-events-end` bookmark.
    pub initial_events_end: bool,
    /// Send periodic bookmarks (`allowWatchBookmarks`).
    pub bookmarks: bool,
    /// Close the stream after this long (`timeoutSeconds`).
    pub timeout: Option<Duration>,
    /// Objects, Tables or PartialObjectMetadata.
    pub format: Format,
    /// For tables: what each row carries.
    pub include: IncludeObject,
    /// How often to send bookmarks.
    pub bookmark_interval: Duration,
}

const CHUNK: usize = 256 * 1024;

struct WatchState {
    store: Store,
    p: WatchParams,
    api_version: String,
    relabel: bool,
    cursor: u64,
    pending: VecDeque<Bytes>,
    done: bool,
    changes: watch::Receiver<u64>,
    control: watch::Receiver<WatchControl>,
    start_control: WatchControl,
    shutdown: watch::Receiver<bool>,
    deadline: Option<Instant>,
    next_bookmark: Instant,
    columns_sent: bool,
}

/// Opens a watch: takes the starting snapshot now and returns the stream of watch lines.
pub fn watch_stream(store: Store, p: WatchParams) -> impl Stream<Item = Bytes> + Send + 'static {
    let api_version = p.rt.api_version();
    let relabel = p.rt.version != p.rt.storage_version;
    let control = store.control();
    let start_control = *control.borrow();
    let now = Instant::now();
    let mut st = WatchState {
        changes: store.changes(),
        shutdown: store.shutdown_signal(),
        control,
        start_control,
        deadline: p.timeout.map(|t| now + t),
        next_bookmark: now + p.bookmark_interval,
        api_version,
        relabel,
        cursor: 0,
        pending: VecDeque::new(),
        done: false,
        columns_sent: false,
        store,
        p,
    };
    st.begin();
    futures::stream::unfold(st, |mut st| async move {
        let chunk = st.next_chunk().await?;
        Some((chunk, st))
    })
}

impl WatchState {
    fn begin(&mut self) {
        match self.p.start {
            Start::Initial => {
                let gr = self.p.rt.group_resource();
                let (rv, items) = self.store.list_stored(&gr, self.p.namespace.as_deref());
                for item in &items {
                    if !self.p.selectors.matches(&item.object) {
                        continue;
                    }
                    let f = self.render("ADDED", item);
                    self.pending.push_back(f);
                }
                self.cursor = rv;
                if self.p.initial_events_end {
                    let b = self.bookmark(true);
                    self.pending.push_back(b);
                }
            }
            Start::Now => self.cursor = self.store.resource_version(),
            Start::After(rv) => {
                let oldest = self.store.oldest_watchable(&self.p.rt.group_resource());
                if rv < oldest {
                    self.expire(rv, oldest);
                } else {
                    self.cursor = rv;
                }
            }
        }
    }

    fn expire(&mut self, requested: u64, oldest: u64) {
        let status = ApiError::expired(requested, oldest).to_status();
        let bytes = serde_json::to_vec(&status).unwrap_or_default();
        self.pending.push_back(watch_frame("ERROR", &bytes));
        self.done = true;
    }

    fn bookmark(&self, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": self.cursor.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = match self.p.format {
            Format::Metadata => {
                json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta})
            }
            Format::Table => {
                json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "columnDefinitions": [], "rows": []})
            }
            _ => json!({"kind": self.p.rt.kind, "apiVersion": self.api_version, "metadata": meta}),
        };
        watch_frame("BOOKMARK", &serde_json::to_vec(&obj).unwrap_or_default())
    }

    fn render(&mut self, ty: &str, obj: &Stored) -> Bytes {
        match self.p.format {
            Format::Table => {
                let with_columns = !self.columns_sent;
                self.columns_sent = true;
                let t = table::table(
                    &self.p.rt,
                    [&obj.object],
                    obj.rv,
                    self.p.include,
                    with_columns,
                );
                watch_frame(ty, &serde_json::to_vec(&t).unwrap_or_default())
            }
            Format::Metadata => {
                let m = table::partial_metadata(&obj.object);
                watch_frame(ty, &serde_json::to_vec(&m).unwrap_or_default())
            }
            Format::Object | Format::Yaml => watch_frame(ty, &obj.json_at(&self.api_version)),
        }
    }

    fn frame_for(&mut self, e: &Event) -> Option<Bytes> {
        if e.gr.group != self.p.rt.group || e.gr.resource != self.p.rt.resource {
            return None;
        }
        if let Some(ns) = &self.p.namespace
            && e.object.namespace() != ns
        {
            return None;
        }
        let sel = &self.p.selectors;
        let now = sel.matches(&e.object.object);
        let before = e.previous.as_ref().map(|p| sel.matches(&p.object));
        let (ty, object): (EventType, Arc<Stored>) = match e.kind {
            EventType::Added if now => (EventType::Added, e.object.clone()),
            EventType::Modified => match (before.unwrap_or(false), now) {
                (true, true) => (EventType::Modified, e.object.clone()),
                (false, true) => (EventType::Added, e.object.clone()),
                (true, false) => {
                    // Left the selection: DELETED with its previous state at the new version.
                    let prev = e.previous.as_ref()?;
                    (
                        EventType::Deleted,
                        Arc::new(Stored::new(prev.object.clone(), e.rv)),
                    )
                }
                (false, false) => return None,
            },
            EventType::Deleted if before.unwrap_or(now) => (EventType::Deleted, e.object.clone()),
            _ => return None,
        };
        let plain = matches!(self.p.format, Format::Object | Format::Yaml) && !self.relabel;
        if plain && ty == e.kind && Arc::ptr_eq(&object, &e.object) {
            return Some(e.frame());
        }
        Some(self.render(ty.as_str(), &object))
    }

    fn drain_pending(&mut self) -> Option<Bytes> {
        let first = self.pending.pop_front()?;
        if self.pending.is_empty() || first.len() >= CHUNK {
            return Some(first);
        }
        let mut buf = Vec::with_capacity(CHUNK);
        buf.extend_from_slice(&first);
        while let Some(next) = self.pending.front() {
            if buf.len() + next.len() > CHUNK {
                break;
            }
            if let Some(n) = self.pending.pop_front() {
                buf.extend_from_slice(&n);
            }
        }
        Some(Bytes::from(buf))
    }

    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            if let Some(chunk) = self.drain_pending() {
                return Some(chunk);
            }
            if self.done {
                return None;
            }
            match self.store.events_since(self.cursor) {
                Err(compacted) => {
                    self.expire(self.cursor, compacted);
                    continue;
                }
                Ok(events) if !events.is_empty() => {
                    for e in &events {
                        self.cursor = e.rv;
                        if let Some(f) = self.frame_for(e) {
                            self.pending.push_back(f);
                        }
                    }
                    continue;
                }
                Ok(_) => {}
            }
            let deadline = self.deadline;
            let bookmark_at = self.next_bookmark;
            let bookmarks = self.p.bookmarks;
            tokio::select! {
                r = self.changes.changed() => {
                    if r.is_err() {
                        self.done = true;
                    }
                }
                r = self.control.changed() => {
                    let now = *self.control.borrow_and_update();
                    if r.is_err() || now.close_epoch != self.start_control.close_epoch {
                        self.done = true;
                    } else if now.expire_epoch != self.start_control.expire_epoch {
                        let compacted = self.store.compacted();
                        self.expire(self.cursor, compacted);
                    }
                }
                _ = self.shutdown.changed() => self.done = true,
                _ = sleep_until_opt(deadline) => self.done = true,
                _ = tokio::time::sleep_until(bookmark_at), if bookmarks => {
                    self.next_bookmark = Instant::now() + self.p.bookmark_interval;
                    let b = self.bookmark(false);
                    self.pending.push_back(b);
                }
            }
        }
    }
}

async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending::<()>().await,
    }
}

/// Parses a watch's starting point from `resourceVersion` and `sendInitialEvents`.
pub fn start_of(
    resource_version: Option<&str>,
    send_initial_events: Option<bool>,
) -> Result<Start, ApiError> {
    match (
        resource_version.filter(|s| !s.is_empty()),
        send_initial_events,
    ) {
        (_, Some(true)) | (None | Some("0"), None) => Ok(Start::Initial),
        (None | Some("0"), Some(false)) => Ok(Start::Now),
        (Some(v), _) => v
            .parse()
            .map(Start::After)
            .map_err(|_| ApiError::unparsable_resource_version(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_points() {
        assert_eq!(start_of(None, None).unwrap(), Start::Initial);
        assert_eq!(start_of(Some("0"), None).unwrap(), Start::Initial);
        assert_eq!(start_of(Some("12"), None).unwrap(), Start::After(12));
        assert_eq!(start_of(Some("12"), Some(true)).unwrap(), Start::Initial);
        assert_eq!(start_of(None, Some(false)).unwrap(), Start::Now);
        assert_eq!(start_of(Some("x"), None).unwrap_err().code, 500);
    }
}
