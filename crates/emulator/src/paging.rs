//! `limit` and `continue` on JSON lists, as kube's watcher (pages of 500) and client-go
//! ask for them. Without pages a client holds a whole kind at once: 18,000 Pods parsed
//! together were most of rekon's peak memory against the emulator (heap profile), a cost
//! no real API server imposes.
//!
//! A continue token names the first page's resourceVersion and the last key served.
//! Later pages list what exists now after that key; every page reports the first page's
//! resourceVersion, so a watch started from it replays whatever changed between pages.
//! A token older than the event log gets 410 Expired, as a real server's compacted one.

use std::sync::Arc;

use super::request::Query;
use super::status::ApiError;
use super::store::{Store, Stored};

/// One page of a list.
pub struct Page {
    /// The objects of this page.
    pub items: Vec<Arc<Stored>>,
    /// The resourceVersion the whole list is reported at (the first page's).
    pub rv: u64,
    /// The token for the next page, when more remain.
    pub next: Option<String>,
    /// How many objects remain after this page; not told when selectors filter the list
    /// (kube-apiserver cannot count those either).
    pub remaining: Option<usize>,
}

/// The page `query` asks for, or `None` when it asks for no paging (no `limit`, no
/// `continue`). `items` is the whole list, in namespace/name order, at `rv`.
pub fn page(
    store: &Store,
    query: &Query,
    items: Vec<Arc<Stored>>,
    rv: u64,
) -> Result<Option<Page>, ApiError> {
    let limit = match query.get("limit").filter(|l| !l.is_empty()) {
        Some(l) => Some(l.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!("strconv.ParseInt: parsing {l:?}: invalid syntax"))
        })?),
        None => None,
    };
    let token = query.get("continue").filter(|c| !c.is_empty());
    let limit = match (limit, token) {
        (None | Some(0), None) => return Ok(None),
        (None | Some(0), Some(_)) => usize::MAX,
        (Some(l), _) => l,
    };
    let (list_rv, after) = match token {
        None => (rv, None),
        Some(t) => {
            let (token_rv, ns, name) = decode(t)
                .ok_or_else(|| ApiError::bad_request(format!("continue key is not valid: {t}")))?;
            let oldest = store.compacted();
            if token_rv < oldest {
                return Err(ApiError::expired(token_rv, oldest));
            }
            (token_rv, Some((ns, name)))
        }
    };
    let start = match &after {
        None => 0,
        Some((ns, name)) => {
            items.partition_point(|o| (o.namespace(), o.name()) <= (ns.as_str(), name.as_str()))
        }
    };
    let end = start.saturating_add(limit).min(items.len());
    let remaining = items.len() - end;
    let next = match end.checked_sub(1).and_then(|i| items.get(i)) {
        Some(last) if remaining > 0 && end > start => {
            Some(encode(list_rv, last.namespace(), last.name()))
        }
        _ => None,
    };
    let mut items = items;
    items.truncate(end);
    items.drain(..start);
    Ok(Some(Page {
        items,
        rv: list_rv,
        remaining: (next.is_some() && !filtered(query)).then_some(remaining),
        next,
    }))
}

/// Whether the list is filtered by a label or field selector.
fn filtered(query: &Query) -> bool {
    ["labelSelector", "fieldSelector"]
        .iter()
        .any(|k| query.get(k).is_some_and(|v| !v.is_empty()))
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<String> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

fn encode(rv: u64, ns: &str, name: &str) -> String {
    format!("{rv}.{}.{}", hex(ns), hex(name))
}

fn decode(token: &str) -> Option<(u64, String, String)> {
    let mut parts = token.split('.');
    let rv = parts.next()?.parse().ok()?;
    let ns = unhex(parts.next()?)?;
    let name = unhex(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    Some((rv, ns, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::{Clock, GroupResource, WriteOptions};
    use serde_json::json;

    fn names(page: &Page) -> Vec<String> {
        page.items.iter().map(|o| o.name().to_string()).collect()
    }

    #[test]
    fn pages_follow_each_other_at_the_first_pages_version() {
        let store = Store::new(100, Clock::new(1.0));
        crate::seed::seed(&store, 0).unwrap();
        let rt = store
            .registry()
            .preferred(&GroupResource::new("", "configmaps"))
            .cloned()
            .unwrap();
        for n in ["a", "b", "c", "d", "e"] {
            let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}});
            store
                .create(&rt, "default", cm, &WriteOptions::by("test"))
                .unwrap();
        }
        let list = || store.list_stored(&rt.group_resource(), None);
        let (rv, items) = list();
        let first = page(&store, &Query::parse(Some("limit=2")), items, rv)
            .unwrap()
            .unwrap();
        assert_eq!(names(&first), ["a", "b"]);
        assert_eq!(first.remaining, Some(3));
        let token = first.next.clone().unwrap();
        // A change between pages: the next page serves it, at the first page's version.
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bb"}});
        store
            .create(&rt, "default", cm, &WriteOptions::by("test"))
            .unwrap();
        let (now, items) = list();
        let query = Query::parse(Some(&format!("limit=2&continue={token}")));
        let second = page(&store, &query, items, now).unwrap().unwrap();
        assert_eq!(names(&second), ["bb", "c"]);
        assert_eq!(second.rv, rv);
        let (now, items) = list();
        let query = Query::parse(Some(&format!("limit=2&continue={}", second.next.unwrap())));
        let last = page(&store, &query, items, now).unwrap().unwrap();
        assert_eq!(names(&last), ["d", "e"]);
        assert!(last.next.is_none() && last.remaining.is_none());
        let (now, items) = list();
        assert!(
            page(&store, &Query::parse(Some("")), items, now)
                .unwrap()
                .is_none()
        );
        let (now, items) = list();
        let bad = page(&store, &Query::parse(Some("continue=nonsense")), items, now);
        assert_eq!(bad.err().map(|e| e.code), Some(400));
    }

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        let t = encode(42, "shop", "web.v2");
        assert_eq!(decode(&t), Some((42, "shop".into(), "web.v2".into())));
        assert_eq!(decode("42.zz.00"), None);
        assert_eq!(decode("x.73.74"), None);
        assert_eq!(decode("1.73"), None);
    }
}
