//! A small bounded in-memory cache of rendered apps, keyed by everything a render depends
//! on (repository, commit, path, options, app name, namespace). A commit never changes, so
//! entries never go stale; the oldest-used is dropped when the cache is full.

use std::collections::{HashMap, VecDeque};

use super::manifest::Rendered;

/// Hit and miss counts, for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Renders answered from the cache.
    pub hits: u64,
    /// Renders that ran.
    pub misses: u64,
    /// Entries held now.
    pub entries: usize,
}

pub(crate) struct RenderCache {
    capacity: usize,
    entries: HashMap<String, Rendered>,
    // Least recently used first.
    order: VecDeque<String>,
    hits: u64,
    misses: u64,
}

impl RenderCache {
    pub fn new(capacity: usize) -> Self {
        RenderCache {
            capacity: capacity.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
            hits: 0,
            misses: 0,
        }
    }

    pub fn get(&mut self, key: &str) -> Option<Rendered> {
        match self.entries.get(key) {
            Some(r) => {
                self.hits += 1;
                let r = r.clone();
                self.touch(key);
                Some(r)
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    pub fn insert(&mut self, key: String, value: Rendered) {
        if self.entries.insert(key.clone(), value).is_some() {
            self.touch(&key);
            return;
        }
        self.order.push_back(key);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
    }

    fn touch(&mut self, key: &str) {
        if let Some(pos) = self.order.iter().position(|k| k == key)
            && let Some(k) = self.order.remove(pos)
        {
            self.order.push_back(k);
        }
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits,
            misses: self.misses,
            entries: self.entries.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Tool;

    fn rendered(commit: &str) -> Rendered {
        Rendered {
            manifests: Vec::new().into(),
            tool: Tool::Directory,
            commit: commit.into(),
            path: ".".into(),
            origin: Default::default(),
        }
    }

    #[test]
    fn a_hit_shares_the_manifests_instead_of_copying_them() {
        let mut c = RenderCache::new(2);
        let mut r = rendered("a");
        r.manifests = vec![super::super::Manifest::new(
            &serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings"}}),
            "a.yaml:1",
        )]
        .into();
        c.insert("a".into(), r.clone());
        let hit = c.get("a").unwrap();
        assert_eq!(hit, r);
        assert!(std::sync::Arc::ptr_eq(&hit.manifests, &r.manifests));
    }

    #[test]
    fn drops_the_least_recently_used() {
        let mut c = RenderCache::new(2);
        c.insert("a".into(), rendered("a"));
        c.insert("b".into(), rendered("b"));
        assert!(c.get("a").is_some());
        c.insert("c".into(), rendered("c"));
        assert!(c.get("b").is_none());
        assert!(c.get("a").is_some());
        assert!(c.get("c").is_some());
        assert_eq!(
            c.stats(),
            CacheStats {
                hits: 3,
                misses: 1,
                entries: 2
            }
        );
    }
}
