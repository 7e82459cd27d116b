//! Where an app's Git revision was resolved, and how old that knowledge is: the remote
//! itself, the cached clone (remote unreachable or `--offline`), or a folder read in place.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Where a revision was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RevisionSource {
    /// Against the remote, by this process.
    Remote,
    /// In the cached clone only: the remote could not be reached, or `--offline`.
    Cache,
    /// In a folder on this machine, read in place.
    Local,
}

impl RevisionSource {
    /// The word used in JSON output and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionSource::Remote => "remote",
            RevisionSource::Cache => "cache",
            RevisionSource::Local => "local",
        }
    }
}

/// How fresh an app's revision is; flattened into the app's JSON (`revisionSource`,
/// `fetchedAt`, `fetchError`), every field absent until the app's source was resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevisionOrigin {
    /// Where the revision was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_source: Option<RevisionSource>,
    /// When the cached clone was last brought up to date with the remote (RFC 3339); for
    /// remote repositories only, absent when no fetch time was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<String>,
    /// Why the remote could not be reached; absent when it was, or with `--offline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetch_error: Option<String>,
}

impl RevisionOrigin {
    /// One phrase for people: `remote (fetched just now)`, `cache (remote unreachable:
    /// REASON, fetched 3h ago)`, `cache (--offline, fetched 2d ago)`, `local folder`.
    pub fn describe(&self, now: Option<Timestamp>) -> Option<String> {
        let fetched = || match &self.fetched_at {
            Some(t) => format!("fetched {}", age(now, Some(t))),
            None => "never fetched by this version of rekon".to_string(),
        };
        Some(match self.revision_source? {
            RevisionSource::Local => "local folder".to_string(),
            RevisionSource::Remote => format!("remote ({})", fetched()),
            RevisionSource::Cache => match &self.fetch_error {
                Some(e) => format!("cache (remote unreachable: {e}; {})", fetched()),
                None => format!("cache (--offline; {})", fetched()),
            },
        })
    }
}

/// "5m ago" from an RFC 3339 time; the raw text when it does not parse or no clock is set.
pub fn age(now: Option<Timestamp>, when: Option<&str>) -> String {
    let Some(when) = when else {
        return "never".into();
    };
    let (Some(now), Ok(t)) = (now, when.parse::<Timestamp>()) else {
        return when.to_string();
    };
    let secs = now.as_second().saturating_sub(t.as_second()).max(0);
    match secs {
        // Views refresh ages every 30 s, so seconds would mislead.
        0..60 => "just now".to_string(),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_follow_the_contract() {
        let origin = RevisionOrigin {
            revision_source: Some(RevisionSource::Cache),
            fetched_at: Some("2026-01-01T00:00:00Z".into()),
            fetch_error: Some("connection refused".into()),
        };
        let v = serde_json::to_value(&origin).unwrap();
        assert_eq!(v["revisionSource"], "cache");
        assert_eq!(v["fetchedAt"], "2026-01-01T00:00:00Z");
        assert_eq!(v["fetchError"], "connection refused");
        assert_eq!(
            serde_json::to_value(RevisionOrigin::default()).unwrap(),
            serde_json::json!({})
        );
    }

    #[test]
    fn describes_each_source() {
        let now: Timestamp = "2026-01-01T03:00:00Z".parse().unwrap();
        let mut o = RevisionOrigin {
            revision_source: Some(RevisionSource::Cache),
            fetched_at: Some("2026-01-01T00:00:00Z".into()),
            fetch_error: Some("no route".into()),
        };
        assert_eq!(
            o.describe(Some(now)).unwrap(),
            "cache (remote unreachable: no route; fetched 3h ago)"
        );
        o.fetch_error = None;
        assert_eq!(
            o.describe(Some(now)).unwrap(),
            "cache (--offline; fetched 3h ago)"
        );
        o.revision_source = None;
        assert_eq!(o.describe(Some(now)), None);
    }
}
