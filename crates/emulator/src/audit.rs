//! The audit log: every request that reached the store, in order, for `GET /rekon/audit`
//! and `Cluster::audit()`.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// One request that reached the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: String,
    /// API group, empty for core.
    pub group: String,
    /// API version.
    pub version: String,
    /// Plural resource name.
    pub resource: String,
    /// Subresource (`status`, `scale`, `finalize`), when one was addressed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// Namespace, empty for cluster-scoped requests and lists across namespaces.
    pub namespace: String,
    /// Object name, empty for collection requests.
    pub name: String,
    /// Field manager of writes, empty for reads.
    pub field_manager: String,
    /// `dryRun=All` was set.
    pub dry_run: bool,
    /// HTTP status code of the answer.
    pub code: u16,
}

/// A bounded, ordered audit log.
#[derive(Debug)]
pub struct Audit {
    inner: Mutex<(u64, VecDeque<AuditEntry>)>,
    capacity: usize,
}

impl Audit {
    /// A log keeping the last `capacity` entries (sequence numbers keep counting).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new((0, VecDeque::new())),
            capacity: capacity.max(1),
        }
    }

    /// Appends an entry, giving it the next sequence number.
    pub fn record(&self, mut entry: AuditEntry) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        entry.seq = g.0;
        g.1.push_back(entry);
        while g.1.len() > self.capacity {
            g.1.pop_front();
        }
    }

    /// The entries kept, oldest first.
    pub fn entries(&self) -> Vec<AuditEntry> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.1.iter().cloned().collect()
    }

    /// The entries as JSON lines.
    pub fn json_lines(&self) -> String {
        let mut out = String::new();
        for e in self.entries() {
            if let Ok(line) = serde_json::to_string(&e) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(verb: &str) -> AuditEntry {
        AuditEntry {
            seq: 0,
            verb: verb.into(),
            group: String::new(),
            version: "v1".into(),
            resource: "configmaps".into(),
            subresource: None,
            namespace: "default".into(),
            name: "x".into(),
            field_manager: String::new(),
            dry_run: false,
            code: 200,
        }
    }

    #[test]
    fn numbers_in_order_and_stays_bounded() {
        let a = Audit::new(2);
        a.record(entry("get"));
        a.record(entry("create"));
        a.record(entry("delete"));
        let e = a.entries();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].seq, e[0].verb.as_str()), (2, "create"));
        assert_eq!(e[1].seq, 3);
        let line = a.json_lines();
        let first: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
        assert_eq!(first["fieldManager"], "");
        assert_eq!(first["dryRun"], false);
        assert!(first.get("subresource").is_none());
    }
}
