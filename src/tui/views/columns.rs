//! Fitting table columns into the width there is: shrink the flexible ones, then hide the
//! least important, so 80 columns stay usable.

/// How one column wants to be laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// Width that shows every value whole.
    pub ideal: u16,
    /// Narrowest useful width (values are cut with `…` below `ideal`).
    pub min: u16,
    /// Higher is kept longer.
    pub priority: u8,
}

/// Widths per column (`None` = hidden) for `available` cells with `spacing` between
/// columns. Leftover space goes to column `grow` if it is shown, else back to the columns
/// that were shrunk, most important first.
pub fn fit(
    specs: &[ColumnSpec],
    available: u16,
    spacing: u16,
    grow: Option<usize>,
) -> Vec<Option<u16>> {
    let mut shown: Vec<bool> = vec![true; specs.len()];
    loop {
        let idx: Vec<usize> = (0..specs.len()).filter(|i| shown[*i]).collect();
        if idx.is_empty() {
            return vec![None; specs.len()];
        }
        let mut widths: Vec<u16> = specs.iter().map(|s| s.ideal.max(s.min)).collect();
        let gaps = spacing.saturating_mul(u16::try_from(idx.len() - 1).unwrap_or(u16::MAX));
        let total = |w: &[u16]| -> u32 {
            idx.iter().map(|i| u32::from(w[*i])).sum::<u32>() + u32::from(gaps)
        };
        let mut by_priority = idx.clone();
        by_priority.sort_by_key(|i| specs[*i].priority);
        let mut excess = total(&widths).saturating_sub(u32::from(available));
        for &i in &by_priority {
            if excess == 0 {
                break;
            }
            let give = u32::from(widths[i] - specs[i].min.min(widths[i])).min(excess);
            widths[i] -= u16::try_from(give).unwrap_or(0);
            excess -= give;
        }
        if excess == 0 {
            let mut leftover = u32::from(available).saturating_sub(total(&widths));
            let mut receivers: Vec<usize> = Vec::new();
            if let Some(g) = grow.filter(|g| shown.get(*g) == Some(&true)) {
                receivers.push(g);
            }
            receivers.extend(by_priority.iter().rev().copied());
            for i in receivers {
                if leftover == 0 {
                    break;
                }
                let room = if Some(i) == grow {
                    leftover
                } else {
                    u32::from(specs[i].ideal.saturating_sub(widths[i])).min(leftover)
                };
                widths[i] = widths[i].saturating_add(u16::try_from(room).unwrap_or(u16::MAX));
                leftover -= room;
            }
            return (0..specs.len())
                .map(|i| shown[i].then_some(widths[i]))
                .collect();
        }
        if idx.len() == 1 {
            let mut out = vec![None; specs.len()];
            out[idx[0]] = Some(available);
            return out;
        }
        shown[by_priority[0]] = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(ideal: u16, min: u16, priority: u8) -> ColumnSpec {
        ColumnSpec {
            ideal,
            min,
            priority,
        }
    }

    #[test]
    fn everything_fits_and_the_rest_grows_the_last() {
        let specs = [spec(10, 5, 9), spec(20, 10, 1)];
        assert_eq!(fit(&specs, 40, 1, Some(1)), [Some(10), Some(29)]);
    }

    #[test]
    fn shrinks_least_important_first_then_hides() {
        let specs = [spec(10, 6, 9), spec(20, 10, 5), spec(30, 12, 1)];
        // 60 + 2 gaps: the message column shrinks to 12 first (→ 44), then the second.
        assert_eq!(fit(&specs, 40, 1, Some(2)), [Some(10), Some(16), Some(12)]);
        // No room even at minimum widths: the least important column goes.
        assert_eq!(fit(&specs, 25, 1, Some(2)), [Some(10), Some(14), None]);
    }

    #[test]
    fn a_single_column_takes_what_there_is() {
        let specs = [spec(30, 20, 9), spec(10, 10, 1)];
        assert_eq!(fit(&specs, 8, 1, None), [Some(8), None]);
    }
}
