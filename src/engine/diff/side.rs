//! The side-by-side model behind the TUI's diff view and `rekon diff -o side`: rows aligned
//! line by line (left = live, right = desired), line numbers on both sides, word-level changed
//! ranges inside changed lines, change hunks for `n`/`N`, and foldable unchanged runs.

use similar::{Algorithm, DiffTag, capture_diff_slices};
use std::ops::Range;

use super::{ResourceDiff, resource_header, side_labels};

/// Lines longer than this many tokens are marked changed whole instead of word by word, so
/// one huge line (an inlined JSON blob) cannot stall the view.
const MAX_INLINE_TOKENS: usize = 4000;

/// How a row's two sides relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// Same line on both sides.
    Equal,
    /// A line replaced by another (both sides present).
    Changed,
    /// Only on the left (live): a sync removes it.
    Removed,
    /// Only on the right (desired): a sync adds it.
    Added,
}

/// One side of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// 1-based line number in that side's text.
    pub line: usize,
    /// The line, without its newline.
    pub text: String,
    /// Byte ranges of `text` that differ from the other side (only in `Changed` rows; a
    /// `Removed`/`Added` line is changed whole).
    pub changes: Vec<Range<usize>>,
}

/// One aligned row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// How the sides relate.
    pub kind: RowKind,
    /// Live side; `None` for `Added` rows (shown blank).
    pub left: Option<Cell>,
    /// Desired side; `None` for `Removed` rows (shown blank).
    pub right: Option<Cell>,
}

/// A run of unchanged rows that can be hidden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// The rows hidden while the fold is closed.
    pub rows: Range<usize>,
}

/// What to draw, in order, given which folds are open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisplayLine {
    /// The row with this index.
    Row(usize),
    /// A closed fold (index into [`SideBySide::folds`]) standing for `hidden` rows.
    Fold {
        /// Index of the fold.
        fold: usize,
        /// Number of rows it hides.
        hidden: usize,
    },
}

/// Rows of one resource, with hunks and folds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SideBySide {
    /// Every line of both sides, aligned.
    pub rows: Vec<Row>,
    /// Maximal runs of changed rows, in order (for next/previous change).
    pub hunks: Vec<Range<usize>>,
    /// Unchanged runs longer than twice the context, minus the context kept around changes.
    pub folds: Vec<Fold>,
}

impl SideBySide {
    /// How many digits the line-number gutter needs: those of the highest line number.
    pub fn number_width(&self) -> usize {
        self.rows
            .iter()
            .flat_map(|r| [&r.left, &r.right])
            .flatten()
            .map(|c| c.line)
            .max()
            .unwrap_or(1)
            .to_string()
            .len()
    }

    /// Aligns a resource's live (left) and desired (right) texts; a missing side is empty.
    pub fn of(diff: &ResourceDiff, context: usize) -> Self {
        Self::of_texts(
            diff.live.as_deref().unwrap_or(""),
            diff.desired.as_deref().unwrap_or(""),
            context,
        )
    }

    /// Aligns two texts line by line.
    pub fn of_texts(left: &str, right: &str, context: usize) -> Self {
        let old: Vec<&str> = left.lines().collect();
        let new: Vec<&str> = right.lines().collect();
        let ops = capture_diff_slices(Algorithm::Myers, &old, &new);
        let mut rows = Vec::with_capacity(old.len().max(new.len()));
        // Consecutive delete/insert/replace ops form one changed block, paired line by line.
        let mut block: Option<(Range<usize>, Range<usize>)> = None;
        for op in &ops {
            let (tag, o, n) = op.as_tag_tuple();
            if tag == DiffTag::Equal {
                if let Some((bo, bn)) = block.take() {
                    push_block(&mut rows, &old, &new, bo, bn);
                }
                for (i, j) in o.zip(n) {
                    rows.push(Row {
                        kind: RowKind::Equal,
                        left: Some(plain_cell(i, old[i])),
                        right: Some(plain_cell(j, new[j])),
                    });
                }
            } else {
                block = Some(match block {
                    Some((bo, bn)) => (bo.start..o.end, bn.start..n.end),
                    None => (o, n),
                });
            }
        }
        if let Some((bo, bn)) = block {
            push_block(&mut rows, &old, &new, bo, bn);
        }
        let hunks = find_hunks(&rows);
        let folds = find_folds(&rows, context);
        Self { rows, hunks, folds }
    }

    /// Whether any row differs.
    pub fn has_changes(&self) -> bool {
        !self.hunks.is_empty()
    }

    /// Start row of the first hunk after `row` (for `n`).
    pub fn next_hunk(&self, row: usize) -> Option<usize> {
        self.hunks.iter().map(|h| h.start).find(|s| *s > row)
    }

    /// Start row of the last hunk that starts before `row` (for `N`).
    pub fn prev_hunk(&self, row: usize) -> Option<usize> {
        self.hunks.iter().map(|h| h.start).rev().find(|s| *s < row)
    }

    /// The fold hiding `row`, if any.
    pub fn fold_at(&self, row: usize) -> Option<usize> {
        self.folds.iter().position(|f| f.rows.contains(&row))
    }

    /// The lines to draw: rows, with each closed fold replaced by one marker.
    /// `is_open(i)` says whether fold `i` is expanded.
    pub fn display_lines(&self, is_open: impl Fn(usize) -> bool) -> Vec<DisplayLine> {
        let mut out = Vec::with_capacity(self.rows.len());
        let mut folds = self.folds.iter().enumerate().peekable();
        let mut row = 0;
        while row < self.rows.len() {
            if let Some((i, f)) = folds.peek()
                && f.rows.start == row
            {
                let (i, f) = (*i, *f);
                folds.next();
                if !is_open(i) {
                    out.push(DisplayLine::Fold {
                        fold: i,
                        hidden: f.rows.len(),
                    });
                    row = f.rows.end;
                    continue;
                }
            }
            out.push(DisplayLine::Row(row));
            row += 1;
        }
        out
    }
}

fn plain_cell(index: usize, text: &str) -> Cell {
    Cell {
        line: index + 1,
        text: text.to_string(),
        changes: Vec::new(),
    }
}

fn whole_cell(index: usize, text: &str) -> Cell {
    Cell {
        line: index + 1,
        text: text.to_string(),
        changes: whole(text),
    }
}

fn push_block(rows: &mut Vec<Row>, old: &[&str], new: &[&str], o: Range<usize>, n: Range<usize>) {
    let paired = o.len().min(n.len());
    for k in 0..paired {
        let (i, j) = (o.start + k, n.start + k);
        let (lc, rc) = inline_changes(old[i], new[j]);
        rows.push(Row {
            kind: RowKind::Changed,
            left: Some(Cell {
                line: i + 1,
                text: old[i].to_string(),
                changes: lc,
            }),
            right: Some(Cell {
                line: j + 1,
                text: new[j].to_string(),
                changes: rc,
            }),
        });
    }
    for (i, line) in old.iter().enumerate().take(o.end).skip(o.start + paired) {
        rows.push(Row {
            kind: RowKind::Removed,
            left: Some(whole_cell(i, line)),
            right: None,
        });
    }
    for (j, line) in new.iter().enumerate().take(n.end).skip(n.start + paired) {
        rows.push(Row {
            kind: RowKind::Added,
            left: None,
            right: Some(whole_cell(j, line)),
        });
    }
}

/// Splits a line into words (runs of letters, digits and `_`), runs of spaces, and single
/// other characters, so `nginx:1.25` → `nginx`, `:`, `1`, `.`, `25`.
fn tokenize(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut class = None;
    for (i, c) in line.char_indices() {
        let this = if c.is_alphanumeric() || c == '_' {
            Some(0)
        } else if c.is_whitespace() {
            Some(1)
        } else {
            None
        };
        let joins = this.is_some() && this == class;
        if i > start && !joins {
            out.push((start, &line[start..i]));
            start = i;
        }
        class = this;
    }
    if start < line.len() {
        out.push((start, &line[start..]));
    }
    out
}

/// Changed byte ranges of two lines, word by word (adjacent ranges merged).
fn inline_changes(old: &str, new: &str) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    let a = tokenize(old);
    let b = tokenize(new);
    if a.len() > MAX_INLINE_TOKENS || b.len() > MAX_INLINE_TOKENS {
        return (whole(old), whole(new));
    }
    let at: Vec<&str> = a.iter().map(|(_, t)| *t).collect();
    let bt: Vec<&str> = b.iter().map(|(_, t)| *t).collect();
    let mut left = Vec::new();
    let mut right = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &at, &bt) {
        let (tag, o, n) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            continue;
        }
        add_range(&mut left, &a, o);
        add_range(&mut right, &b, n);
    }
    (left, right)
}

/// The whole line as one changed range (none for an empty line).
fn whole(text: &str) -> Vec<Range<usize>> {
    (!text.is_empty())
        .then_some(0..text.len())
        .into_iter()
        .collect()
}

fn add_range(out: &mut Vec<Range<usize>>, tokens: &[(usize, &str)], span: Range<usize>) {
    if span.is_empty() {
        return;
    }
    let start = tokens[span.start].0;
    let (last_start, last) = tokens[span.end - 1];
    let end = last_start + last.len();
    match out.last_mut() {
        Some(prev) if prev.end == start => prev.end = end,
        _ => out.push(start..end),
    }
}

fn find_hunks(rows: &[Row]) -> Vec<Range<usize>> {
    let mut hunks = Vec::new();
    let mut start = None;
    for (i, row) in rows.iter().enumerate() {
        match (row.kind == RowKind::Equal, start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                hunks.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        hunks.push(s..rows.len());
    }
    hunks
}

/// Unchanged runs to fold: interior runs longer than `2 × context` keep `context` rows on each
/// side; a run at the start or end keeps `context` rows next to the change only.
fn find_folds(rows: &[Row], context: usize) -> Vec<Fold> {
    let mut folds = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        if rows[i].kind != RowKind::Equal {
            i += 1;
            continue;
        }
        let start = i;
        while i < rows.len() && rows[i].kind == RowKind::Equal {
            i += 1;
        }
        let end = i;
        let keep_before = if start == 0 { 0 } else { context };
        let keep_after = if end == rows.len() { 0 } else { context };
        if start == 0 && end == rows.len() {
            // Nothing changed: there is nothing to keep context around.
            continue;
        }
        if end - start > keep_before + keep_after {
            folds.push(Fold {
                rows: start + keep_before..end - keep_after,
            });
        }
    }
    folds
}

/// Plain-text side-by-side output for `rekon diff -o side`, `width` columns wide: per changed
/// resource a header, column titles, then rows as `N -text │ N +text`, closed folds as one
/// line. Unchanged resources are left out. Long lines are cut with `…`.
pub fn render_side_by_side(diffs: &[ResourceDiff], width: usize, context: usize) -> String {
    let width = width.max(24);
    let mut out = String::new();
    for diff in diffs.iter().filter(|d| d.changed) {
        let sbs = SideBySide::of(diff, context);
        let num_width = sbs.number_width();
        // Each half: number, space, marker, text; halves are joined by " │ ".
        let half = (width - 3) / 2;
        let text_width = half.saturating_sub(num_width + 2).max(1);
        let (live_label, desired_label) = side_labels(diff);
        out.push_str(&resource_header(&diff.key));
        out.push('\n');
        out.push_str(&pad(&fit(live_label, half), half));
        out.push_str(" │ ");
        out.push_str(&fit(desired_label, half));
        out.push('\n');
        let cell_text = |cell: &Option<Cell>, marker: char| -> String {
            match cell {
                Some(c) => format!(
                    "{:>num_width$} {marker}{}",
                    c.line,
                    pad(&fit(&c.text, text_width), text_width)
                ),
                None => " ".repeat(half),
            }
        };
        for line in sbs.display_lines(|_| false) {
            match line {
                DisplayLine::Row(i) => {
                    let row = &sbs.rows[i];
                    let (lm, rm) = match row.kind {
                        RowKind::Equal => (' ', ' '),
                        RowKind::Changed => ('-', '+'),
                        RowKind::Removed => ('-', ' '),
                        RowKind::Added => (' ', '+'),
                    };
                    let left = cell_text(&row.left, lm);
                    let right = cell_text(&row.right, rm);
                    out.push_str(&left);
                    out.push_str(" │ ");
                    out.push_str(right.trim_end());
                }
                DisplayLine::Fold { hidden, .. } => {
                    let noun = if hidden == 1 { "line" } else { "lines" };
                    let label = format!("··· {hidden} unchanged {noun} ···");
                    let indent = width.saturating_sub(label.chars().count()) / 2;
                    out.push_str(&" ".repeat(indent));
                    out.push_str(&label);
                }
            }
            out.push('\n');
        }
    }
    out
}

/// Cuts `text` to `width` characters, marking a cut with `…`.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn pad(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n >= width {
        text.to_string()
    } else {
        format!("{text}{}", " ".repeat(width - n))
    }
}
