//! Small text helpers shared by the views: ages, clock times, short SHAs, object labels,
//! and spans with highlighted byte ranges (word-level diff highlights).

use std::ops::Range;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::style::Style;
use ratatui::text::Span;

pub use crate::model::age;

/// `2026-05-01 11:55:02` in UTC (the same on every machine, like the API's own times);
/// the raw text when it does not parse.
pub fn utc_time(when: &str) -> String {
    match when.parse::<Timestamp>() {
        Ok(t) => t
            .to_zoned(TimeZone::UTC)
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => when.to_string(),
    }
}

/// Collapses runs of whitespace (newlines included) to single spaces.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` as spans, skipping its first `skip` characters: bytes inside `changes` get
/// `highlight` on top of `base`.
pub fn highlighted(
    text: &str,
    changes: &[Range<usize>],
    base: Style,
    highlight: Style,
    skip: usize,
) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut current = String::new();
    let mut current_on = false;
    for (n, (i, c)) in text.char_indices().enumerate() {
        if n < skip {
            continue;
        }
        let on = changes.iter().any(|r| r.contains(&i));
        if on != current_on && !current.is_empty() {
            let style = if current_on {
                base.patch(highlight)
            } else {
                base
            };
            spans.push(Span::styled(std::mem::take(&mut current), style));
        }
        current_on = on;
        // Tabs would break the column arithmetic; a YAML dump holds none, but be safe.
        if c == '\t' {
            current.push_str("  ");
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        let style = if current_on {
            base.patch(highlight)
        } else {
            base
        };
        spans.push(Span::styled(current, style));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Modifier;

    #[test]
    fn ages_are_relative_to_now() {
        let now: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
        assert_eq!(age(Some(now), Some("2026-05-01T11:55:00Z")), "5m ago");
        assert_eq!(age(Some(now), Some("2026-05-01T11:59:30Z")), "just now");
        assert_eq!(age(Some(now), Some("2026-04-29T12:00:00Z")), "2d ago");
        assert_eq!(age(Some(now), None), "never");
        assert_eq!(age(Some(now), Some("yesterday")), "yesterday");
        assert_eq!(
            age(None, Some("2026-05-01T11:55:00Z")),
            "2026-05-01T11:55:00Z"
        );
    }

    #[test]
    fn utc_times_ignore_the_local_zone() {
        assert_eq!(utc_time("2026-05-01T13:55:02+02:00"), "2026-05-01 11:55:02");
        assert_eq!(utc_time("soon"), "soon");
    }

    #[test]
    fn highlights_split_at_range_edges_and_skip_characters() {
        let hl = Style::new().add_modifier(Modifier::BOLD);
        let changed = vec![13..17, 17..17];
        let spans = highlighted("image: nginx:1.25", &changed, Style::new(), hl, 0);
        let parts: Vec<(&str, bool)> = spans
            .iter()
            .map(|s| {
                (
                    s.content.as_ref(),
                    s.style.add_modifier.contains(Modifier::BOLD),
                )
            })
            .collect();
        assert_eq!(parts, [("image: nginx:", false), ("1.25", true)]);
        let spans = highlighted("image: nginx:1.25", &changed, Style::new(), hl, 14);
        let parts: Vec<&str> = spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(parts, [".25"]);
    }
}
