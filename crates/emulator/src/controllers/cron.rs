//! Five-field cron schedules as CronJobs use them (robfig/cron's standard parser): `*`,
//! lists, ranges, steps, month and weekday names, `?`, and the `@hourly`-style macros.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use crate::clock::SimTime;

/// Why a schedule could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// Not five fields (and not a known `@` macro).
    #[error(
        "schedule {schedule:?}: expected 5 fields (minute hour day-of-month month day-of-week), found {found}"
    )]
    FieldCount {
        /// The schedule as written.
        schedule: String,
        /// How many fields it has.
        found: usize,
    },
    /// One field is malformed or out of range.
    #[error("schedule {schedule:?}: bad {field} field {text:?}")]
    BadField {
        /// The schedule as written.
        schedule: String,
        /// Which field (`minute`, `hour`, …).
        field: &'static str,
        /// The offending text.
        text: String,
    },
}

/// A parsed schedule: the set of allowed values of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    day_star: bool,
    weekday_star: bool,
}

struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: FieldSpec = FieldSpec {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: FieldSpec = FieldSpec {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY: FieldSpec = FieldSpec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: FieldSpec = FieldSpec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const WEEKDAY: FieldSpec = FieldSpec {
    name: "day-of-week",
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};

impl CronSchedule {
    /// Parses a schedule such as `*/15 9-17 * * mon-fri` or `@daily`.
    pub fn parse(schedule: &str) -> Result<Self, CronError> {
        let text = schedule.trim();
        let expanded = match text.to_ascii_lowercase().as_str() {
            "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
            "@monthly" => "0 0 1 * *".to_string(),
            "@weekly" => "0 0 * * 0".to_string(),
            "@daily" | "@midnight" => "0 0 * * *".to_string(),
            "@hourly" => "0 * * * *".to_string(),
            _ => text.to_string(),
        };
        let fields: Vec<&str> = expanded.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(CronError::FieldCount {
                schedule: schedule.to_string(),
                found: fields.len(),
            });
        }
        let parse = |text: &str, spec: &FieldSpec| {
            parse_field(text, spec).ok_or_else(|| CronError::BadField {
                schedule: schedule.to_string(),
                field: spec.name,
                text: text.to_string(),
            })
        };
        let (minutes, _) = parse(fields[0], &MINUTE)?;
        let (hours, _) = parse(fields[1], &HOUR)?;
        let (days, day_star) = parse(fields[2], &DAY)?;
        let (months, _) = parse(fields[3], &MONTH)?;
        let (weekdays, weekday_star) = parse(fields[4], &WEEKDAY)?;
        Ok(CronSchedule {
            minutes,
            hours: hours as u32,
            days: days as u32,
            months: months as u16,
            weekdays: weekdays as u8,
            day_star,
            weekday_star,
        })
    }

    fn day_matches(&self, d: Date) -> bool {
        let dom = self.days & (1 << d.day()) != 0;
        let dow = self.weekdays & (1 << d.weekday().to_sunday_zero_offset()) != 0;
        // Classic cron: when both day fields are restricted, either may match.
        if self.day_star || self.weekday_star {
            dom && dow
        } else {
            dom || dow
        }
    }

    /// The first scheduled minute strictly after `after`, in time zone `tz`; `None` if the
    /// schedule never fires (such as February 30th).
    pub fn next_after(&self, after: SimTime, tz: &TimeZone) -> Option<SimTime> {
        let start =
            jiff::Timestamp::from_second(after.unix_secs().div_euclid(60) * 60 + 60).ok()?;
        let mut dt: DateTime = tz.to_datetime(start);
        // Five years of days covers every satisfiable schedule (leap days included).
        for _ in 0..200_000 {
            let date = dt.date();
            if self.months & (1 << date.month()) == 0 {
                let (y, m) = if date.month() == 12 {
                    (date.year() + 1, 1)
                } else {
                    (date.year(), date.month() + 1)
                };
                dt = Date::new(y, m, 1).ok()?.at(0, 0, 0, 0);
                continue;
            }
            if !self.day_matches(date) {
                dt = date.tomorrow().ok()?.at(0, 0, 0, 0);
                continue;
            }
            if self.hours & (1 << dt.hour()) == 0 {
                dt = next_hour(dt)?;
                continue;
            }
            if self.minutes & (1 << dt.minute()) == 0 {
                dt = next_minute(dt)?;
                continue;
            }
            let ts = tz.to_ambiguous_timestamp(dt).compatible().ok()?;
            if ts <= after.to_jiff() {
                // A daylight-saving fold mapped us backwards; keep looking.
                dt = next_minute(dt)?;
                continue;
            }
            return Some(SimTime::from_unix_millis(ts.as_millisecond()));
        }
        None
    }

    /// The latest scheduled minute in `(after, until]`, if any.
    pub fn latest_between(&self, after: SimTime, until: SimTime, tz: &TimeZone) -> Option<SimTime> {
        // Long gaps (a CronJob created long ago) are searched from one day back only after a
        // first bounded walk, so a minutely schedule costs at most a few thousand steps.
        let mut t = after;
        let mut found = None;
        for _ in 0..2_000 {
            match self.next_after(t, tz) {
                Some(n) if n <= until => {
                    found = Some(n);
                    t = n;
                }
                _ => return found,
            }
        }
        let day = crate::clock::SimDuration::from_secs(86_400);
        let mut t = (until - day).max(t);
        while let Some(n) = self.next_after(t, tz).filter(|n| *n <= until) {
            found = Some(n);
            t = n;
        }
        found
    }
}

fn next_hour(dt: DateTime) -> Option<DateTime> {
    if dt.hour() == 23 {
        Some(dt.date().tomorrow().ok()?.at(0, 0, 0, 0))
    } else {
        Some(dt.date().at(dt.hour() + 1, 0, 0, 0))
    }
}

fn next_minute(dt: DateTime) -> Option<DateTime> {
    if dt.minute() == 59 {
        next_hour(dt)
    } else {
        Some(dt.date().at(dt.hour(), dt.minute() + 1, 0, 0))
    }
}

/// Parses one field into a bit set; also says whether it was an unrestricted `*`/`?`.
fn parse_field(text: &str, spec: &FieldSpec) -> Option<(u64, bool)> {
    let mut bits = 0u64;
    let mut star = false;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, Some(s.parse::<u32>().ok().filter(|s| *s > 0)?)),
            None => (item, None),
        };
        let (lo, hi) = if range == "*" || range == "?" {
            if step.is_none_or(|s| s == 1) {
                star = true;
            }
            (spec.min, spec.max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, spec)?, value(b, spec)?)
        } else {
            let v = value(range, spec)?;
            // `N/step` means from N to the end of the range.
            (v, if step.is_some() { spec.max } else { v })
        };
        if lo > hi {
            return None;
        }
        let step = step.unwrap_or(1);
        let mut v = lo;
        while v <= hi {
            bits |= 1 << v;
            v += step;
        }
    }
    Some((bits, star))
}

fn value(text: &str, spec: &FieldSpec) -> Option<u32> {
    let lower = text.to_ascii_lowercase();
    let v = if let Some(i) = spec.names.iter().position(|n| *n == lower) {
        i as u32 + spec.min
    } else {
        text.parse::<u32>().ok()?
    };
    // Sunday may be written 7.
    let v = if spec.name == "day-of-week" && v == 7 {
        0
    } else {
        v
    };
    (spec.min..=spec.max).contains(&v).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> SimTime {
        SimTime::parse_rfc3339(text).unwrap()
    }

    fn next(schedule: &str, after: &str) -> String {
        CronSchedule::parse(schedule)
            .unwrap()
            .next_after(t(after), &TimeZone::UTC)
            .unwrap()
            .rfc3339()
    }

    #[test]
    fn next_times() {
        assert_eq!(
            next("*/15 * * * *", "2024-05-01T10:07:30Z"),
            "2024-05-01T10:15:00Z"
        );
        assert_eq!(
            next("*/15 * * * *", "2024-05-01T10:15:00Z"),
            "2024-05-01T10:30:00Z"
        );
        assert_eq!(
            next("0 9-17/4 * * *", "2024-05-01T13:00:00Z"),
            "2024-05-01T17:00:00Z"
        );
        assert_eq!(
            next("30 2 * * mon-fri", "2024-05-03T03:00:00Z"),
            "2024-05-06T02:30:00Z"
        );
        assert_eq!(
            next("@hourly", "2024-05-01T10:59:59Z"),
            "2024-05-01T11:00:00Z"
        );
        assert_eq!(
            next("@daily", "2024-12-31T12:00:00Z"),
            "2025-01-01T00:00:00Z"
        );
        assert_eq!(
            next("0 0 1 jan,jul *", "2024-02-01T00:00:00Z"),
            "2024-07-01T00:00:00Z"
        );
        assert_eq!(
            next("0 0 29 2 *", "2024-03-01T00:00:00Z"),
            "2028-02-29T00:00:00Z"
        );
        // Both day fields restricted: either matches (the 13th, or any Friday).
        assert_eq!(
            next("0 0 13 * 5", "2024-05-01T00:00:00Z"),
            "2024-05-03T00:00:00Z"
        );
        assert_eq!(
            next("0 0 13 * 7", "2024-05-06T00:00:00Z"),
            "2024-05-12T00:00:00Z"
        );
    }

    #[test]
    fn impossible_schedule_never_fires() {
        let s = CronSchedule::parse("0 0 30 2 *").unwrap();
        assert_eq!(
            s.next_after(t("2024-01-01T00:00:00Z"), &TimeZone::UTC),
            None
        );
    }

    #[test]
    fn time_zones_shift_the_schedule() {
        let Ok(tz) = TimeZone::get("Europe/Paris") else {
            eprintln!("skipping: no tz database on this machine");
            return;
        };
        let s = CronSchedule::parse("0 9 * * *").unwrap();
        let n = s.next_after(t("2024-07-01T00:00:00Z"), &tz).unwrap();
        assert_eq!(n.rfc3339(), "2024-07-01T07:00:00Z");
    }

    #[test]
    fn latest_missed_time() {
        let s = CronSchedule::parse("*/5 * * * *").unwrap();
        let latest = s.latest_between(
            t("2024-05-01T10:00:00Z"),
            t("2024-05-01T10:17:00Z"),
            &TimeZone::UTC,
        );
        assert_eq!(latest.unwrap().rfc3339(), "2024-05-01T10:15:00Z");
        let none = s.latest_between(
            t("2024-05-01T10:00:00Z"),
            t("2024-05-01T10:04:00Z"),
            &TimeZone::UTC,
        );
        assert_eq!(none, None);
        let far = s.latest_between(
            t("2020-01-01T00:00:00Z"),
            t("2024-05-01T10:17:00Z"),
            &TimeZone::UTC,
        );
        assert_eq!(far.unwrap().rfc3339(), "2024-05-01T10:15:00Z");
    }

    #[test]
    fn parse_errors_name_the_field() {
        let e = CronSchedule::parse("61 * * * *").unwrap_err();
        assert!(e.to_string().contains("minute"), "{e}");
        assert!(matches!(
            CronSchedule::parse("* * *"),
            Err(CronError::FieldCount { found: 3, .. })
        ));
        assert!(CronSchedule::parse("*/0 * * * *").is_err());
        assert!(CronSchedule::parse("5-1 * * * *").is_err());
        assert!(CronSchedule::parse("* * * foo *").is_err());
        assert!(CronSchedule::parse("0 0 ? * SUN").is_ok());
    }
}
