//! The diff view: live against desired for every resource that differs, side by side with
//! word-level highlights (or unified, by choice or on narrow terminals), folds over long
//! unchanged runs, `n`/`N` between changes and `[`/`]` between resources. It shows either
//! the app's current diffs (live-updated from snapshots) or a past revision's diffs
//! against live, asked from the engine.

mod lines;
mod render;

use std::collections::HashSet;

use ratatui::Frame;
use ratatui::layout::Rect;

use self::lines::{ScreenLine, line_of_row, screen_lines};
use super::{AppId, DrawCx, Outcome, Target, View, ViewCx, find_app};
use crate::engine::diff::{DEFAULT_CONTEXT, SideBySide, resource_title};
use crate::model::{ResourceDiff, ResourceKey, Snapshot};
use crate::runtime::{Answer, Request};
use crate::tui::action::{Action, Context};
use crate::tui::requests::RequestId;

/// Below this many columns the diff is shown unified whatever the user chose.
pub const SIDE_BY_SIDE_MIN_WIDTH: u16 = 100;
/// Columns moved by one horizontal scroll.
const HSCROLL_STEP: usize = 8;

/// Where the diffs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// The app's diffs in each snapshot.
    Live,
    /// A revision's diffs against live, asked once.
    Revision { revision: String, state: Loading },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Loading {
    Waiting(RequestId),
    Failed(String),
    Done,
}

/// One changed resource with its aligned rows and which folds the user opened.
#[derive(Debug, Clone)]
struct Entry {
    diff: ResourceDiff,
    sbs: SideBySide,
    open: HashSet<usize>,
}

impl Entry {
    fn new(diff: ResourceDiff) -> Self {
        let sbs = SideBySide::of(&diff, DEFAULT_CONTEXT);
        Self {
            diff,
            sbs,
            open: HashSet::new(),
        }
    }
}

/// The diff of one app.
#[derive(Debug)]
pub struct DiffView {
    app: AppId,
    source: Source,
    entries: Vec<Entry>,
    current: usize,
    /// Index into the current resource's screen lines.
    cursor: usize,
    /// First screen line shown.
    scroll: usize,
    hscroll: usize,
    /// The user asked for unified.
    unified: bool,
    /// The last frame was too narrow for side by side.
    narrow: bool,
    /// The layout `cursor` indexes into (unified or not).
    cursor_unified: bool,
    page: usize,
    /// The resource to open at once the diffs are known.
    open_at: Option<ResourceKey>,
}

impl DiffView {
    /// The app's current diffs, opened at `resource` when given.
    pub fn new(app: AppId, resource: Option<ResourceKey>) -> Self {
        Self {
            app,
            source: Source::Live,
            entries: Vec::new(),
            current: 0,
            cursor: 0,
            scroll: 0,
            hscroll: 0,
            unified: false,
            narrow: false,
            cursor_unified: false,
            page: 1,
            open_at: resource,
        }
    }

    /// A past revision's diffs against live (asked from the engine when opened).
    pub fn revision(app: AppId, revision: String) -> Self {
        Self {
            source: Source::Revision {
                revision,
                state: Loading::Done,
            },
            ..Self::new(app, None)
        }
    }

    /// Keys of the changed resources, in list order.
    pub fn resources(&self) -> Vec<&ResourceKey> {
        self.entries.iter().map(|e| &e.diff.key).collect()
    }

    /// The resource shown.
    pub fn current(&self) -> Option<&ResourceKey> {
        self.entries.get(self.current).map(|e| &e.diff.key)
    }

    /// The row under the cursor (an index into the resource's aligned rows).
    pub fn cursor_row(&self) -> Option<usize> {
        let e = self.entries.get(self.current)?;
        let lines = self.lines_of(e);
        lines.get(self.cursor).map(|l| l.row(&e.sbs))
    }

    /// Whether the diff is drawn unified (asked for, or the terminal is narrow).
    pub fn is_unified(&self) -> bool {
        self.unified || self.narrow
    }

    /// Whether it waits for the engine.
    pub fn is_loading(&self) -> bool {
        matches!(
            self.source,
            Source::Revision {
                state: Loading::Waiting(_),
                ..
            }
        )
    }

    fn lines_of(&self, e: &Entry) -> Vec<ScreenLine> {
        screen_lines(&e.sbs, &e.open, self.cursor_unified)
    }

    fn current_lines(&self) -> Vec<ScreenLine> {
        self.entries
            .get(self.current)
            .map(|e| self.lines_of(e))
            .unwrap_or_default()
    }

    /// Replaces the list of diffs, keeping the resource, open folds and cursor row of
    /// what is still there.
    fn set_diffs(&mut self, diffs: &[ResourceDiff]) {
        let row = self.cursor_row();
        let current_key = self.current().cloned();
        let mut old: Vec<Entry> = std::mem::take(&mut self.entries);
        self.entries = diffs
            .iter()
            .filter(|d| d.changed)
            .map(|d| match old.iter().position(|e| e.diff == *d) {
                Some(i) => old.swap_remove(i),
                None => Entry::new(d.clone()),
            })
            .collect();
        if let Some(key) = self.open_at.take() {
            self.current = self
                .entries
                .iter()
                .position(|e| e.diff.key == key)
                .unwrap_or(0);
            self.jump_to_first_change();
            return;
        }
        match current_key.and_then(|k| self.entries.iter().position(|e| e.diff.key == k)) {
            Some(i) => {
                self.current = i;
                if let Some(row) = row {
                    self.cursor_to_row(row);
                }
            }
            None => {
                self.current = self.current.min(self.entries.len().saturating_sub(1));
                self.jump_to_first_change();
            }
        }
    }

    fn cursor_to_row(&mut self, row: usize) {
        let Some(e) = self.entries.get(self.current) else {
            return;
        };
        let lines = self.lines_of(e);
        self.cursor = line_of_row(&lines, &e.sbs, row);
    }

    /// Puts the cursor on the first change, with a few lines of context above it.
    fn jump_to_first_change(&mut self) {
        self.cursor = 0;
        self.scroll = 0;
        self.hscroll = 0;
        let start = self
            .entries
            .get(self.current)
            .and_then(|e| e.sbs.hunks.first().map(|h| h.start));
        if let Some(start) = start {
            self.cursor_to_row(start);
            self.scroll = self.cursor.saturating_sub(DEFAULT_CONTEXT + 1);
        }
    }

    fn jump_to_last_change(&mut self) {
        self.jump_to_first_change();
        let start = self
            .entries
            .get(self.current)
            .and_then(|e| e.sbs.hunks.last().map(|h| h.start));
        if let Some(start) = start {
            self.cursor_to_row(start);
            self.scroll = self.cursor.saturating_sub(DEFAULT_CONTEXT + 1);
        }
    }

    fn next_change(&mut self, cx: &mut ViewCx<'_>) {
        let Some(e) = self.entries.get(self.current) else {
            return;
        };
        let row = self.cursor_row().unwrap_or(0);
        match e.sbs.next_hunk(row) {
            Some(start) => {
                self.cursor_to_row(start);
                self.scroll = self.cursor.saturating_sub(DEFAULT_CONTEXT + 1);
            }
            None if self.current + 1 < self.entries.len() => {
                self.current += 1;
                self.jump_to_first_change();
            }
            None => cx.info("last change of the last resource"),
        }
    }

    fn prev_change(&mut self, cx: &mut ViewCx<'_>) {
        let Some(e) = self.entries.get(self.current) else {
            return;
        };
        let row = self.cursor_row().unwrap_or(0);
        match e.sbs.prev_hunk(row) {
            Some(start) => {
                self.cursor_to_row(start);
                self.scroll = self.cursor.saturating_sub(DEFAULT_CONTEXT + 1);
            }
            None if self.current > 0 => {
                self.current -= 1;
                self.jump_to_last_change();
            }
            None => cx.info("first change of the first resource"),
        }
    }

    fn move_cursor(&mut self, delta: isize) {
        let len = self.current_lines().len();
        if len == 0 {
            return;
        }
        self.cursor = self.cursor.saturating_add_signed(delta).min(len - 1);
    }

    fn longest_line(&self) -> usize {
        self.entries.get(self.current).map_or(0, |e| {
            e.sbs
                .rows
                .iter()
                .flat_map(|r| [&r.left, &r.right])
                .flatten()
                .map(|c| c.text.chars().count())
                .max()
                .unwrap_or(0)
        })
    }

    fn open_fold(&mut self, cx: &mut ViewCx<'_>) {
        let lines = self.current_lines();
        let Some(e) = self.entries.get_mut(self.current) else {
            return;
        };
        match lines.get(self.cursor) {
            Some(ScreenLine::Fold { fold, .. }) => {
                e.open.insert(*fold);
            }
            _ => cx.info("nothing folded here: move onto a ··· line to open it"),
        }
    }

    /// Follows a change of layout (unified ⇄ side by side) decided at draw time.
    fn set_layout(&mut self, unified: bool) {
        if unified == self.cursor_unified {
            return;
        }
        let row = self.cursor_row();
        let scroll_row = self
            .entries
            .get(self.current)
            .and_then(|e| self.lines_of(e).get(self.scroll).map(|l| l.row(&e.sbs)));
        self.cursor_unified = unified;
        if let Some(row) = row {
            self.cursor_to_row(row);
        }
        if let (Some(row), Some(e)) = (scroll_row, self.entries.get(self.current)) {
            self.scroll = line_of_row(&self.lines_of(e), &e.sbs, row);
        }
    }
}

impl View for DiffView {
    fn context(&self) -> Context {
        Context::Diff
    }

    fn title(&self) -> String {
        match &self.source {
            Source::Live => format!("{} diff", self.app.name),
            Source::Revision { revision, .. } => format!(
                "{} diff @{}",
                self.app.name,
                crate::model::short_sha(revision)
            ),
        }
    }

    fn on_open(&mut self, cx: &mut ViewCx<'_>) {
        match &mut self.source {
            Source::Live => {
                let wanted = self.open_at.clone();
                self.on_snapshot(cx);
                if let Some(key) = wanted
                    && self.current() != Some(&key)
                {
                    cx.info(format!("{} has no differences", resource_title(&key)));
                }
            }
            Source::Revision { revision, state } => {
                let id = cx.request(Request::DiffRevision {
                    app: self.app.engine_name(),
                    revision: revision.clone(),
                });
                *state = Loading::Waiting(id);
            }
        }
    }

    fn on_snapshot(&mut self, cx: &mut ViewCx<'_>) {
        if self.source != Source::Live {
            return;
        }
        let diffs = find_app(cx.snapshot, &self.app)
            .and_then(|a| a.detail.as_ref())
            .map(|d| d.diffs.clone())
            .unwrap_or_default();
        let unchanged = diffs
            .iter()
            .filter(|d| d.changed)
            .eq(self.entries.iter().map(|e| &e.diff));
        if !unchanged {
            self.set_diffs(&diffs);
        }
    }

    fn on_reply(&mut self, id: RequestId, reply: Answer, _cx: &mut ViewCx<'_>) {
        let Source::Revision { state, .. } = &mut self.source else {
            return;
        };
        if *state != Loading::Waiting(id) {
            return;
        }
        match reply {
            Answer::Diffs(Ok(diffs)) => {
                *state = Loading::Done;
                self.set_diffs(&diffs);
            }
            Answer::Diffs(Err(e)) => *state = Loading::Failed(e),
            _ => {}
        }
    }

    fn handle_action(&mut self, action: &Action, cx: &mut ViewCx<'_>) -> Outcome {
        let page = isize::try_from(self.page.max(1)).unwrap_or(1);
        match action {
            Action::Up => self.move_cursor(-1),
            Action::Down => self.move_cursor(1),
            Action::PageUp => {
                self.move_cursor(-page);
                self.scroll = self.scroll.saturating_sub(self.page.max(1));
            }
            Action::PageDown => {
                self.move_cursor(page);
                self.scroll += self.page.max(1);
            }
            Action::Top => {
                self.cursor = 0;
                self.scroll = 0;
            }
            Action::Bottom => self.move_cursor(isize::MAX / 2),
            Action::NextChange => self.next_change(cx),
            Action::PrevChange => self.prev_change(cx),
            Action::NextResource => {
                if self.current + 1 < self.entries.len() {
                    self.current += 1;
                    self.jump_to_first_change();
                } else if !self.entries.is_empty() {
                    cx.info("this is the last changed resource");
                }
            }
            Action::PrevResource => {
                if self.current > 0 {
                    self.current -= 1;
                    self.jump_to_first_change();
                } else if !self.entries.is_empty() {
                    cx.info("this is the first changed resource");
                }
            }
            Action::ToggleUnified => {
                if self.narrow {
                    cx.info(format!(
                        "the terminal is narrower than {SIDE_BY_SIDE_MIN_WIDTH} columns: the diff stays unified"
                    ));
                } else {
                    self.unified = !self.unified;
                    let unified = self.unified;
                    self.set_layout(unified);
                }
            }
            Action::ScrollLeft => self.hscroll = self.hscroll.saturating_sub(HSCROLL_STEP),
            Action::ScrollRight => {
                let max = self.longest_line().saturating_sub(HSCROLL_STEP);
                self.hscroll = (self.hscroll + HSCROLL_STEP).min(max);
            }
            Action::Open => self.open_fold(cx),
            _ => return Outcome::Ignored,
        }
        Outcome::Consumed
    }

    fn target(&self, _snapshot: &Snapshot) -> Option<Target> {
        Some(Target {
            app: self.app.clone(),
            resource: self.current().cloned(),
            marked: Vec::new(),
        })
    }

    fn is_animating(&self, _snapshot: &Snapshot) -> bool {
        self.is_loading()
    }

    fn draw(&mut self, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
        self.narrow = area.width < SIDE_BY_SIDE_MIN_WIDTH;
        let unified = self.is_unified();
        self.set_layout(unified);
        render::draw(self, frame, area, cx);
    }

    fn as_diff(&self) -> Option<&DiffView> {
        Some(self)
    }
}
