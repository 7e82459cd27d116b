//! What the diff view puts on screen for one resource, line by line, in either layout:
//! side by side (one screen line per aligned row) or unified (each hunk's live lines, then
//! its desired lines). Closed folds stand in for runs of unchanged rows in both.

use std::collections::HashSet;

use crate::engine::diff::{DisplayLine, RowKind, SideBySide};

/// Which side of a row a screen line shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Both sides (side by side, or an unchanged line in unified).
    Both,
    /// The live side only (`-` in unified).
    Old,
    /// The desired side only (`+` in unified).
    New,
}

/// One line on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScreenLine {
    /// A row (or one side of it).
    Row {
        /// Index into [`SideBySide::rows`].
        row: usize,
        /// Which side.
        part: Part,
    },
    /// A closed fold hiding `hidden` unchanged rows.
    Fold {
        /// Index into [`SideBySide::folds`].
        fold: usize,
        /// Rows hidden.
        hidden: usize,
    },
}

impl ScreenLine {
    /// The first row this line stands for.
    pub fn row(&self, sbs: &SideBySide) -> usize {
        match self {
            ScreenLine::Row { row, .. } => *row,
            ScreenLine::Fold { fold, .. } => sbs.folds.get(*fold).map_or(0, |f| f.rows.start),
        }
    }
}

/// The screen lines of one resource.
pub fn screen_lines(sbs: &SideBySide, open: &HashSet<usize>, unified: bool) -> Vec<ScreenLine> {
    let display = sbs.display_lines(|i| open.contains(&i));
    let mut out = Vec::with_capacity(display.len());
    let mut i = 0;
    while i < display.len() {
        match &display[i] {
            DisplayLine::Fold { fold, hidden } => {
                out.push(ScreenLine::Fold {
                    fold: *fold,
                    hidden: *hidden,
                });
                i += 1;
            }
            DisplayLine::Row(row) => {
                let kind = sbs.rows[*row].kind;
                if !unified || kind == RowKind::Equal {
                    out.push(ScreenLine::Row {
                        row: *row,
                        part: Part::Both,
                    });
                    i += 1;
                    continue;
                }
                // A run of changed rows: its live lines first, then its desired lines.
                let start = i;
                while i < display.len()
                    && matches!(display[i], DisplayLine::Row(r) if sbs.rows[r].kind != RowKind::Equal)
                {
                    i += 1;
                }
                let rows: Vec<usize> = display[start..i]
                    .iter()
                    .filter_map(|d| match d {
                        DisplayLine::Row(r) => Some(*r),
                        DisplayLine::Fold { .. } => None,
                    })
                    .collect();
                for r in &rows {
                    if sbs.rows[*r].left.is_some() {
                        out.push(ScreenLine::Row {
                            row: *r,
                            part: Part::Old,
                        });
                    }
                }
                for r in &rows {
                    if sbs.rows[*r].right.is_some() {
                        out.push(ScreenLine::Row {
                            row: *r,
                            part: Part::New,
                        });
                    }
                }
            }
        }
    }
    out
}

/// The screen line showing `row` (the first one, in unified), or the fold hiding it.
pub fn line_of_row(lines: &[ScreenLine], sbs: &SideBySide, row: usize) -> usize {
    lines
        .iter()
        .position(|l| match l {
            ScreenLine::Row { row: r, .. } => *r == row,
            ScreenLine::Fold { fold, .. } => {
                sbs.folds.get(*fold).is_some_and(|f| f.rows.contains(&row))
            }
        })
        .or_else(|| lines.iter().position(|l| l.row(sbs) >= row))
        .unwrap_or(lines.len().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_puts_a_hunks_live_lines_before_its_desired_ones() {
        let left = "a\nb\nc\nd\n";
        let right = "a\nB\nC\nd\n";
        let sbs = SideBySide::of_texts(left, right, 3);
        let lines = screen_lines(&sbs, &HashSet::new(), true);
        let parts: Vec<(usize, Part)> = lines
            .iter()
            .map(|l| match l {
                ScreenLine::Row { row, part } => (*row, *part),
                ScreenLine::Fold { .. } => panic!("nothing to fold"),
            })
            .collect();
        assert_eq!(
            parts,
            [
                (0, Part::Both),
                (1, Part::Old),
                (2, Part::Old),
                (1, Part::New),
                (2, Part::New),
                (3, Part::Both)
            ]
        );
        let side = screen_lines(&sbs, &HashSet::new(), false);
        assert_eq!(side.len(), 4);
        assert_eq!(line_of_row(&lines, &sbs, 2), 2);
    }

    #[test]
    fn folds_stand_for_long_unchanged_runs_until_opened() {
        let left: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let right = left.replace("line 15", "line fifteen");
        let sbs = SideBySide::of_texts(&left, &right, 3);
        let closed = screen_lines(&sbs, &HashSet::new(), false);
        assert!(matches!(closed[0], ScreenLine::Fold { hidden: 12, .. }));
        assert_eq!(
            line_of_row(&closed, &sbs, 5),
            0,
            "a folded row maps to its fold"
        );
        let open = screen_lines(&sbs, &[0].into(), false);
        assert_eq!(open.len(), 20);
    }
}
