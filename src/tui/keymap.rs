//! The one list of key bindings. Both the bottom hint bar and the `?` help popup are
//! generated from it (gitui's pattern), so help never drifts from what the keys do.

use crossterm::event::KeyCode;

use super::action::{Action, Context, SortColumn};
use crate::config::{KeyChord, KeymapOverrides};

/// One binding: keys that trigger an action in a context, with the words that describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// Keys that trigger it; empty means unbound (reachable through `:` only).
    pub keys: Vec<KeyChord>,
    /// What it does.
    pub action: Action,
    /// Where it applies.
    pub context: Context,
    /// One line for the help popup.
    pub description: &'static str,
    /// A word or two for the hint bar.
    pub hint: &'static str,
    /// The help popup's section.
    pub group: &'static str,
    /// Shown in the bottom hint bar when valid.
    pub in_hint_bar: bool,
}

/// One entry of the hint bar: the key to press and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// The first valid key of the binding.
    pub key: KeyChord,
    /// A word or two.
    pub label: &'static str,
}

/// The help popup's sections, in display order.
pub const GROUPS: [&str; 10] = [
    "General",
    "Navigation",
    "Apps",
    "App",
    "Diff",
    "Sync",
    "History",
    "Filter",
    "Command line",
    "Help",
];

/// All bindings, defaults with the user's overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self {
            bindings: default_bindings(),
        }
    }
}

fn b(
    keys: &[KeyChord],
    action: Action,
    context: Context,
    group: &'static str,
    hint: &'static str,
    description: &'static str,
    in_hint_bar: bool,
) -> Binding {
    Binding {
        keys: keys.to_vec(),
        action,
        context,
        description,
        hint,
        group,
        in_hint_bar,
    }
}

fn default_bindings() -> Vec<Binding> {
    use Context::*;
    let key = KeyChord::plain;
    let c = KeyChord::char;
    vec![
        // General
        b(
            &[c('?')],
            Action::Help,
            Global,
            "General",
            "help",
            "Show or hide this help",
            true,
        ),
        b(
            &[c(':')],
            Action::CommandLine,
            Global,
            "General",
            "command",
            "Open the command line (:apps, :theme, :readonly, :q …)",
            true,
        ),
        b(
            &[c('q'), KeyChord::ctrl('c')],
            Action::Quit,
            Global,
            "General",
            "quit",
            "Quit rekon",
            true,
        ),
        b(
            &[key(KeyCode::Esc)],
            Action::Back,
            Global,
            "General",
            "back",
            "Go back: close the popup, clear the filter, leave the view",
            false,
        ),
        b(
            &[],
            Action::ToggleReadOnly,
            Global,
            "General",
            "read-only",
            "Turn the read-only guard on or off (also :readonly)",
            false,
        ),
        b(
            &[],
            Action::ShowApps,
            Global,
            "General",
            "apps",
            "Go to the apps table (also :apps)",
            false,
        ),
        // Navigation
        b(
            &[c('k'), key(KeyCode::Up)],
            Action::Up,
            Global,
            "Navigation",
            "up",
            "Move up",
            false,
        ),
        b(
            &[c('j'), key(KeyCode::Down)],
            Action::Down,
            Global,
            "Navigation",
            "down",
            "Move down",
            false,
        ),
        b(
            &[key(KeyCode::PageUp), KeyChord::ctrl('b')],
            Action::PageUp,
            Global,
            "Navigation",
            "page up",
            "Move a page up",
            false,
        ),
        b(
            &[key(KeyCode::PageDown), KeyChord::ctrl('f')],
            Action::PageDown,
            Global,
            "Navigation",
            "page down",
            "Move a page down",
            false,
        ),
        b(
            &[c('g'), key(KeyCode::Home)],
            Action::Top,
            Global,
            "Navigation",
            "top",
            "Go to the first row",
            false,
        ),
        b(
            &[c('G'), key(KeyCode::End)],
            Action::Bottom,
            Global,
            "Navigation",
            "bottom",
            "Go to the last row",
            false,
        ),
        // Apps
        b(
            &[key(KeyCode::Enter)],
            Action::Open,
            Apps,
            "Apps",
            "open",
            "Open the app: its resource tree, details and live YAML",
            true,
        ),
        b(
            &[c('d')],
            Action::ShowDiff,
            Apps,
            "Apps",
            "diff",
            "Diff the app: desired (Git) against live",
            true,
        ),
        b(
            &[c('s')],
            Action::ShowSync,
            Apps,
            "Apps",
            "sync",
            "Sync the app (shows the plan and asks first)",
            true,
        ),
        b(
            &[c('h')],
            Action::ShowHistory,
            Apps,
            "Apps",
            "history",
            "Show the app's sync history",
            false,
        ),
        b(
            &[c('t')],
            Action::ShowTimeline,
            Apps,
            "Apps",
            "timeline",
            "Show the app's timeline: events, syncs, health changes",
            false,
        ),
        b(
            &[c('r')],
            Action::Refresh { hard: false },
            Apps,
            "Apps",
            "refresh",
            "Refresh the app: fetch Git and compare again (:refresh! also drops cached dry runs)",
            false,
        ),
        b(
            &[c('/')],
            Action::Filter,
            Apps,
            "Apps",
            "filter",
            "Filter by name, namespace, cluster, source, sync or health",
            true,
        ),
        b(
            &[c('N')],
            Action::Sort(SortColumn::Name),
            Apps,
            "Apps",
            "sort",
            "Sort by name (again: reverse)",
            false,
        ),
        b(
            &[c('C')],
            Action::Sort(SortColumn::Cluster),
            Apps,
            "Apps",
            "sort",
            "Sort by cluster",
            false,
        ),
        b(
            &[c('P')],
            Action::Sort(SortColumn::Namespace),
            Apps,
            "Apps",
            "sort",
            "Sort by namespace",
            false,
        ),
        b(
            &[c('S')],
            Action::Sort(SortColumn::Sync),
            Apps,
            "Apps",
            "sort",
            "Sort by sync, out of sync first",
            false,
        ),
        b(
            &[c('H')],
            Action::Sort(SortColumn::Health),
            Apps,
            "Apps",
            "sort",
            "Sort by health, worst first",
            false,
        ),
        b(
            &[c('L')],
            Action::Sort(SortColumn::LastSync),
            Apps,
            "Apps",
            "sort",
            "Sort by last sync, newest first",
            false,
        ),
        // App
        b(
            &[key(KeyCode::Enter)],
            Action::Open,
            App,
            "App",
            "expand",
            "Expand or collapse the selected node",
            false,
        ),
        b(
            &[key(KeyCode::Right)],
            Action::Expand,
            App,
            "App",
            "expand",
            "Expand the selected node",
            false,
        ),
        b(
            &[key(KeyCode::Left)],
            Action::Collapse,
            App,
            "App",
            "collapse",
            "Collapse the selected node, or go to its parent",
            false,
        ),
        b(
            &[c('y')],
            Action::LiveYaml,
            App,
            "App",
            "yaml",
            "Show or hide the live YAML of the resource (secrets masked)",
            true,
        ),
        b(
            &[c(' ')],
            Action::Mark,
            App,
            "App",
            "mark",
            "Mark the resource for a selective sync (again: unmark)",
            true,
        ),
        b(
            &[c('d')],
            Action::ShowDiff,
            App,
            "App",
            "diff",
            "Diff the selected resource (from the root: the whole app)",
            true,
        ),
        b(
            &[c('s')],
            Action::ShowSync,
            App,
            "App",
            "sync",
            "Sync the app, or only the marked resources",
            true,
        ),
        b(
            &[c('h')],
            Action::ShowHistory,
            App,
            "App",
            "history",
            "Show the app's sync history",
            false,
        ),
        b(
            &[c('t')],
            Action::ShowTimeline,
            App,
            "App",
            "timeline",
            "Show the app's timeline: events, syncs, health changes",
            false,
        ),
        b(
            &[c('r')],
            Action::Refresh { hard: false },
            App,
            "App",
            "refresh",
            "Refresh the app: fetch Git and compare again",
            false,
        ),
        b(
            &[key(KeyCode::Tab)],
            Action::FocusNext,
            App,
            "App",
            "focus",
            "Move the focus between the tree and the details (j/k and the wheel scroll it)",
            false,
        ),
        // Diff
        b(
            &[c('n')],
            Action::NextChange,
            Diff,
            "Diff",
            "next",
            "Next change (at the last one: the next resource)",
            true,
        ),
        b(
            &[c('N')],
            Action::PrevChange,
            Diff,
            "Diff",
            "prev",
            "Previous change",
            true,
        ),
        b(
            &[c(']'), key(KeyCode::Tab)],
            Action::NextResource,
            Diff,
            "Diff",
            "resource",
            "Next changed resource",
            true,
        ),
        b(
            &[c('['), key(KeyCode::BackTab)],
            Action::PrevResource,
            Diff,
            "Diff",
            "resource",
            "Previous changed resource",
            false,
        ),
        b(
            &[c('u')],
            Action::ToggleUnified,
            Diff,
            "Diff",
            "unified",
            "Switch between side by side and unified",
            true,
        ),
        b(
            &[key(KeyCode::Enter), c(' ')],
            Action::Open,
            Diff,
            "Diff",
            "unfold",
            "Open the folded unchanged lines under the cursor",
            false,
        ),
        b(
            &[c('h'), key(KeyCode::Left)],
            Action::ScrollLeft,
            Diff,
            "Diff",
            "scroll",
            "Scroll long lines left",
            false,
        ),
        b(
            &[c('l'), key(KeyCode::Right)],
            Action::ScrollRight,
            Diff,
            "Diff",
            "scroll",
            "Scroll long lines right",
            false,
        ),
        b(
            &[c('s')],
            Action::ShowSync,
            Diff,
            "Diff",
            "sync",
            "Sync the app from here",
            true,
        ),
        // Sync
        b(
            &[c('p')],
            Action::TogglePrune,
            Sync,
            "Sync",
            "prune",
            "Toggle prune: delete tracked resources that left Git (destructive)",
            true,
        ),
        b(
            &[c('d')],
            Action::ToggleDryRun,
            Sync,
            "Sync",
            "dry run",
            "Toggle dry run: the server checks every step, nothing changes",
            true,
        ),
        b(
            &[c('f')],
            Action::ToggleForce,
            Sync,
            "Sync",
            "force",
            "Toggle force: take over fields other managers own (destructive)",
            true,
        ),
        b(
            &[c('o')],
            Action::ToggleOutOfSyncOnly,
            Sync,
            "Sync",
            "out-of-sync",
            "Toggle applying only the resources that are out of sync",
            true,
        ),
        b(
            &[c('m')],
            Action::ToggleSelective,
            Sync,
            "Sync",
            "marked",
            "Toggle syncing only the resources marked in the tree",
            false,
        ),
        b(
            &[key(KeyCode::Enter)],
            Action::Open,
            Sync,
            "Sync",
            "continue",
            "Go on to the confirmation",
            true,
        ),
        b(
            &[c('y')],
            Action::Confirm,
            Sync,
            "Sync",
            "confirm",
            "Confirm: start the sync or the rollback",
            true,
        ),
        b(
            &[key(KeyCode::Esc)],
            Action::Back,
            Sync,
            "Sync",
            "back",
            "Step back from the confirmation, or cancel the sync",
            true,
        ),
        b(
            &[c('x')],
            Action::Terminate,
            SyncProgress,
            "Sync",
            "terminate",
            "Stop the running sync",
            true,
        ),
        b(
            &[key(KeyCode::Enter)],
            Action::Open,
            SyncProgress,
            "Sync",
            "close",
            "Close the dialog once the sync has finished",
            true,
        ),
        b(
            &[key(KeyCode::Esc)],
            Action::Back,
            SyncProgress,
            "Sync",
            "close",
            "Close the dialog (a running sync goes on)",
            true,
        ),
        // History
        b(
            &[key(KeyCode::Enter)],
            Action::Open,
            History,
            "History",
            "diff",
            "Diff this revision against live",
            true,
        ),
        b(
            &[c('R')],
            Action::Rollback,
            History,
            "History",
            "rollback",
            "Roll back to this revision (asks first)",
            true,
        ),
        // Filter
        b(
            &[key(KeyCode::Enter)],
            Action::Select,
            Filter,
            "Filter",
            "keep",
            "Keep the filter and go back to the list",
            true,
        ),
        b(
            &[key(KeyCode::Esc)],
            Action::Back,
            Filter,
            "Filter",
            "clear",
            "Clear the filter",
            true,
        ),
        // Command line
        b(
            &[key(KeyCode::Enter)],
            Action::Select,
            Command,
            "Command line",
            "run",
            "Run the command",
            true,
        ),
        b(
            &[key(KeyCode::Tab)],
            Action::Complete,
            Command,
            "Command line",
            "complete",
            "Complete the command or its argument",
            true,
        ),
        b(
            &[key(KeyCode::Up)],
            Action::Up,
            Command,
            "Command line",
            "history",
            "Previous command",
            true,
        ),
        b(
            &[key(KeyCode::Down)],
            Action::Down,
            Command,
            "Command line",
            "next",
            "Next command",
            false,
        ),
        b(
            &[key(KeyCode::Esc)],
            Action::Back,
            Command,
            "Command line",
            "cancel",
            "Cancel",
            true,
        ),
        // Help
        b(
            &[key(KeyCode::Esc)],
            Action::Back,
            Help,
            "Help",
            "close",
            "Close the help",
            true,
        ),
    ]
}

/// Two contexts compete for a key when a key pressed in one could reach the other.
fn overlaps(a: Context, b: Context) -> bool {
    a == b || a == Context::Global || b == Context::Global
}

impl Keymap {
    /// The default bindings with the config's overrides applied. An overridden action gets
    /// exactly the given keys; those keys are taken away from other actions that would
    /// compete for them. The filter and command line keep their own keys (enter, esc, tab,
    /// ↑/↓), so an override can never make typing impossible.
    pub fn with_overrides(overrides: &KeymapOverrides) -> Self {
        let mut map = Self::default();
        for (action, keys) in &overrides.0 {
            let targets: Vec<Context> = map
                .bindings
                .iter()
                .filter(|b| &b.action == action && !b.context.takes_text())
                .map(|b| b.context)
                .collect();
            for other in map.bindings.iter_mut() {
                if other.context.takes_text() {
                    continue;
                }
                if &other.action == action {
                    other.keys = keys.clone();
                } else if targets.iter().any(|t| overlaps(*t, other.context)) {
                    other.keys.retain(|k| !keys.contains(k));
                }
            }
        }
        map
    }

    /// Every binding, in help order within each group.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The binding a key triggers in a context: the context's own bindings first, then
    /// the global ones, except that plain characters are text where text is typed.
    pub fn lookup(&self, context: Context, key: KeyChord) -> Option<&Binding> {
        let own = self
            .bindings
            .iter()
            .find(|b| b.context == context && b.keys.contains(&key));
        if own.is_some() || context == Context::Global {
            return own;
        }
        if context.takes_text() && key.is_text() {
            return None;
        }
        self.bindings
            .iter()
            .find(|b| b.context == Context::Global && b.keys.contains(&key))
    }

    /// The keys of a binding that actually trigger it in `context`.
    pub fn valid_keys(&self, context: Context, binding: &Binding) -> Vec<KeyChord> {
        if binding.context != context && binding.context != Context::Global {
            return Vec::new();
        }
        binding
            .keys
            .iter()
            .copied()
            .filter(|k| self.lookup(context, *k).is_some_and(|hit| hit == binding))
            .collect()
    }

    /// The hint bar for a context: its own hinted bindings, then the global ones, each
    /// with its first key that works there.
    pub fn hints(&self, context: Context) -> Vec<Hint> {
        let own = self.bindings.iter().filter(|b| b.context == context);
        let global = self
            .bindings
            .iter()
            .filter(|b| b.context == Context::Global && context != Context::Global);
        own.chain(global)
            .filter(|b| b.in_hint_bar)
            .filter_map(|b| {
                self.valid_keys(context, b).first().map(|k| Hint {
                    key: *k,
                    label: b.hint,
                })
            })
            .collect()
    }

    /// The first key that triggers `action` in `context`, for hints such as "press ? for help".
    pub fn key_for(&self, context: Context, action: &Action) -> Option<KeyChord> {
        self.bindings
            .iter()
            .filter(|b| &b.action == action)
            .find_map(|b| self.valid_keys(context, b).first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn plain_characters_are_text_in_the_filter() {
        let map = Keymap::default();
        assert_eq!(
            map.lookup(Context::Apps, KeyChord::char('j'))
                .map(|b| &b.action),
            Some(&Action::Down)
        );
        assert!(map.lookup(Context::Filter, KeyChord::char('j')).is_none());
        assert!(map.lookup(Context::Filter, KeyChord::char('q')).is_none());
        assert_eq!(
            map.lookup(Context::Filter, KeyChord::ctrl('c'))
                .map(|b| &b.action),
            Some(&Action::Quit)
        );
        assert_eq!(
            map.lookup(Context::Filter, KeyChord::plain(KeyCode::Esc))
                .map(|b| b.description),
            Some("Clear the filter")
        );
    }

    #[test]
    fn overrides_replace_keys_and_take_them_from_others() {
        let mut o = BTreeMap::new();
        o.insert(Action::Quit, vec![KeyChord::char('x')]);
        o.insert(Action::Down, vec![KeyChord::char('n'), KeyChord::char('q')]);
        let map = Keymap::with_overrides(&KeymapOverrides(o));
        assert_eq!(
            map.lookup(Context::Apps, KeyChord::char('x'))
                .map(|b| &b.action),
            Some(&Action::Quit)
        );
        assert!(map.lookup(Context::Apps, KeyChord::ctrl('c')).is_none());
        assert_eq!(
            map.lookup(Context::Apps, KeyChord::char('q'))
                .map(|b| &b.action),
            Some(&Action::Down)
        );
        // The command line's own ↓ is untouched.
        assert_eq!(
            map.lookup(Context::Command, KeyChord::plain(KeyCode::Down))
                .map(|b| b.description),
            Some("Next command")
        );
    }

    #[test]
    fn hints_show_only_keys_that_work_in_the_context() {
        let map = Keymap::default();
        let filter: Vec<String> = map
            .hints(Context::Filter)
            .iter()
            .map(|h| format!("{} {}", h.key, h.label))
            .collect();
        assert_eq!(filter, ["enter keep", "esc clear", "ctrl-c quit"]);
        let apps: Vec<String> = map
            .hints(Context::Apps)
            .iter()
            .map(|h| format!("{} {}", h.key, h.label))
            .collect();
        assert_eq!(
            apps,
            [
                "enter open",
                "d diff",
                "s sync",
                "/ filter",
                "? help",
                ": command",
                "q quit"
            ]
        );
    }
}
