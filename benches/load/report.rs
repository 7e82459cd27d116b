//! One row per metric: median, min and max of its runs, the target and whether it is met;
//! as an aligned table or as JSON lines.

use serde_json::json;

/// How a metric is judged.
#[derive(Debug, Clone)]
pub enum Target {
    /// Met when the median is at most this.
    AtMost(f64),
    /// Met when the median is at least this.
    AtLeast(f64),
    /// Met when the median is below every one of these (name, their median).
    Below(Vec<(String, f64)>),
    /// Shown for context; no target.
    Info,
}

/// One measured metric.
#[derive(Debug, Clone)]
pub struct Metric {
    /// What was measured.
    pub name: String,
    /// The runs' values.
    pub values: Vec<f64>,
    /// `s`, `ms`, `MiB`, `%`, `x`.
    pub unit: &'static str,
    /// What it must meet.
    pub target: Target,
}

impl Metric {
    /// A metric from its runs.
    pub fn new(
        name: impl Into<String>,
        unit: &'static str,
        values: Vec<f64>,
        target: Target,
    ) -> Self {
        Metric {
            name: name.into(),
            values,
            unit,
            target,
        }
    }

    /// The median (the mean of the middle two for an even count).
    pub fn median(&self) -> f64 {
        percentile(&self.values, 50.0)
    }

    fn min(&self) -> f64 {
        self.values.iter().copied().fold(f64::INFINITY, f64::min)
    }

    fn max(&self) -> f64 {
        self.values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// Whether the median meets the target; `None` when there is none.
    pub fn ok(&self) -> Option<bool> {
        let m = self.median();
        match &self.target {
            Target::AtMost(t) => Some(m <= *t),
            Target::AtLeast(t) => Some(m >= *t),
            Target::Below(others) => Some(others.iter().all(|(_, v)| m < *v)),
            Target::Info => None,
        }
    }

    fn target_text(&self) -> String {
        match &self.target {
            Target::AtMost(t) => format!("<= {} {}", num(*t), self.unit),
            Target::AtLeast(t) => format!(">= {} {}", num(*t), self.unit),
            Target::Below(others) => {
                let parts: Vec<String> = others
                    .iter()
                    .map(|(n, v)| format!("{n} {} {}", num(*v), self.unit))
                    .collect();
                format!("< {}", parts.join(", "))
            }
            Target::Info => "-".into(),
        }
    }
}

/// The p-th percentile by nearest rank on the sorted values (p in 0..=100); for p = 50
/// with an even count, the mean of the middle two.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if p == 50.0 && v.len().is_multiple_of(2) {
        return (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "n/a".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// The table header.
pub fn header() -> String {
    format!(
        "{:<52} {:>10} {:>10} {:>10} {:<5} {:<36} ok",
        "metric", "median", "min", "max", "unit", "target"
    )
}

/// One table row.
pub fn row(m: &Metric) -> String {
    let ok = match m.ok() {
        Some(true) => "yes",
        Some(false) => "NO",
        None => "-",
    };
    format!(
        "{:<52} {:>10} {:>10} {:>10} {:<5} {:<36} {ok}",
        m.name,
        num(m.median()),
        num(m.min()),
        num(m.max()),
        m.unit,
        m.target_text()
    )
}

/// One JSON line: `{"metric","value","unit","target","ok"}` plus min, max and runs.
pub fn json_line(m: &Metric) -> String {
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    json!({
        "metric": m.name,
        "value": round(m.median()),
        "unit": m.unit,
        "target": m.target_text(),
        "ok": m.ok(),
        "min": round(m.min()),
        "max": round(m.max()),
        "runs": m.values.len(),
    })
    .to_string()
}
