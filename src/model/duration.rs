//! Durations as Argo CD and Go write them (`300ms`, `5s`, `3m`, `1h30m`): read from flags,
//! config and Applications, and written back briefly. Every layer uses them, so they live at
//! the bottom.

use std::time::Duration;

use thiserror::Error;

/// A duration that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} {value:?} is not a duration (use e.g. 30s, 5m, 1h30m)")]
pub struct DurationError {
    /// Which setting.
    pub what: String,
    /// The text given.
    pub value: String,
}

/// Parses Go-style durations (`300ms`, `5s`, `3m`, `1h30m`, `2.5m`); a bare number is
/// seconds.
pub fn parse_duration(text: &str, what: &str) -> Result<Duration, DurationError> {
    let err = || DurationError {
        what: what.to_string(),
        value: text.to_string(),
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(err());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return secs_to_duration(secs).ok_or_else(err);
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        if num_len == 0 {
            return Err(err());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| err())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(err()),
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    secs_to_duration(total).ok_or_else(err)
}

fn secs_to_duration(secs: f64) -> Option<Duration> {
    (0.0..1e12)
        .contains(&secs)
        .then(|| Duration::from_secs_f64(secs))
}

/// Writes a duration briefly: `5m0s`, `2s`, `1h30m0s`, `250ms`.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let d = |t: &str| parse_duration(t, "--timeout").unwrap();
        assert_eq!(d("5s"), Duration::from_secs(5));
        assert_eq!(d("3m"), Duration::from_secs(180));
        assert_eq!(d("1h30m"), Duration::from_secs(5400));
        assert_eq!(d("2.5m"), Duration::from_secs(150));
        assert_eq!(d("250ms"), Duration::from_millis(250));
        assert_eq!(d("90"), Duration::from_secs(90));
        for bad in ["", "5x", "m", "-3s", "5 s"] {
            let e = parse_duration(bad, "--timeout").unwrap_err();
            assert!(e.to_string().starts_with("--timeout"), "{bad}");
        }
    }

    #[test]
    fn formats_durations_briefly() {
        assert_eq!(format_duration(Duration::from_secs(300)), "5m0s");
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
        assert_eq!(format_duration(Duration::from_millis(40)), "40ms");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1h2m5s");
    }
}
