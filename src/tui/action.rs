//! What a key press (or a `:` command) asks the UI to do, and where a binding applies.

use std::fmt;

/// A column the apps table can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SortColumn {
    /// App name.
    Name,
    /// Destination cluster.
    Cluster,
    /// Destination namespace.
    Namespace,
    /// Sync status, out of sync first.
    Sync,
    /// Health, worst first.
    Health,
    /// Last sync time, most recent first.
    LastSync,
}

impl SortColumn {
    /// The column header it sorts.
    pub fn header(self) -> &'static str {
        match self {
            SortColumn::Name => "NAME",
            SortColumn::Cluster => "CLUSTER",
            SortColumn::Namespace => "NAMESPACE",
            SortColumn::Sync => "SYNC",
            SortColumn::Health => "HEALTH",
            SortColumn::LastSync => "LAST SYNC",
        }
    }
}

/// Everything the UI can be asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// Leave rekon.
    Quit,
    /// Close the popup, clear the filter, cancel the input, or go to the previous view.
    Back,
    /// Open (or close) the help popup.
    Help,
    /// Start typing a filter for the current list.
    Filter,
    /// Open the `:` command line.
    CommandLine,
    /// Complete the word under the cursor in the command line.
    Complete,
    /// Move the selection (or the history, or the scroll) up.
    Up,
    /// Move down.
    Down,
    /// Move a page up.
    PageUp,
    /// Move a page down.
    PageDown,
    /// Move to the first row.
    Top,
    /// Move to the last row.
    Bottom,
    /// Confirm: keep the filter, run the command.
    Select,
    /// Sort the apps table by a column; again reverses the order.
    Sort(SortColumn),
    /// Switch to a theme by name.
    SetTheme(String),
    /// Turn the UI's read-only guard on or off.
    ToggleReadOnly,
    /// Go back to the apps table.
    ShowApps,
    /// Open what is under the cursor: an app, a history entry's diff, a fold; expand or
    /// collapse a tree node; go on to the confirmation in the sync dialog.
    Open,
    /// Show the diff of the app (or of the resource under the cursor).
    ShowDiff,
    /// Open the sync dialog of the app.
    ShowSync,
    /// Show the app's sync history.
    ShowHistory,
    /// Show the app's timeline.
    ShowTimeline,
    /// Ask the engine to fetch Git and compare the app again; `hard` forgets cached dry runs.
    Refresh {
        /// Drop cached dry runs too.
        hard: bool,
    },
    /// Show only the apps of one cluster context (`None`: every context).
    SetContext(Option<String>),
    /// List the cluster contexts in the status line.
    ListContexts,
    /// Show or hide the live YAML of the selected resource.
    LiveYaml,
    /// Mark or unmark the selected resource for a selective sync.
    Mark,
    /// Expand the selected tree node.
    Expand,
    /// Collapse the selected tree node (or go to its parent).
    Collapse,
    /// Move the focus to the next pane.
    FocusNext,
    /// Switch the diff between side by side and unified.
    ToggleUnified,
    /// Go to the next change in the diff.
    NextChange,
    /// Go to the previous change in the diff.
    PrevChange,
    /// Go to the next changed resource.
    NextResource,
    /// Go to the previous changed resource.
    PrevResource,
    /// Scroll long lines to the left.
    ScrollLeft,
    /// Scroll long lines to the right.
    ScrollRight,
    /// Sync dialog: toggle pruning.
    TogglePrune,
    /// Sync dialog: toggle dry run.
    ToggleDryRun,
    /// Sync dialog: toggle force (delete and create again what cannot be changed in place).
    ToggleForce,
    /// Sync dialog: toggle refusing to take fields other field managers own.
    ToggleRefuseConflicts,
    /// Sync dialog: toggle apply-out-of-sync-only.
    ToggleOutOfSyncOnly,
    /// Sync dialog: toggle syncing only the resources marked in the tree.
    ToggleSelective,
    /// Confirm a sync or a rollback.
    Confirm,
    /// Stop the running sync.
    Terminate,
    /// Roll back to the selected history entry (after confirmation).
    Rollback,
    /// Flux: ask the controller to reconcile the app now (`flux reconcile`), its source
    /// first when `with_source`.
    Reconcile {
        /// Reconcile the source (GitRepository, HelmChart …) first.
        with_source: bool,
    },
    /// Flux: suspend the app (`flux suspend`).
    Suspend,
    /// Flux: resume the app and reconcile it (`flux resume`).
    Resume,
    /// Show the Flux graph of every cluster.
    ShowFluxGraph,
    /// Show image automation at a glance: each ImagePolicy against what workloads run.
    ShowImages,
}

/// Every action with a name, and whether the config's `keymap:` may rebind it. `select`
/// and `complete` live only in the filter and the command line, whose keys (enter, esc,
/// tab, ↑/↓) are fixed so that an override can never make typing impossible.
const NAMED: &[(&str, Action, bool)] = &[
    ("quit", Action::Quit, true),
    ("back", Action::Back, true),
    ("help", Action::Help, true),
    ("filter", Action::Filter, true),
    ("command", Action::CommandLine, true),
    ("up", Action::Up, true),
    ("down", Action::Down, true),
    ("pageUp", Action::PageUp, true),
    ("pageDown", Action::PageDown, true),
    ("top", Action::Top, true),
    ("bottom", Action::Bottom, true),
    ("sortName", Action::Sort(SortColumn::Name), true),
    ("sortCluster", Action::Sort(SortColumn::Cluster), true),
    ("sortNamespace", Action::Sort(SortColumn::Namespace), true),
    ("sortSync", Action::Sort(SortColumn::Sync), true),
    ("sortHealth", Action::Sort(SortColumn::Health), true),
    ("sortLastSync", Action::Sort(SortColumn::LastSync), true),
    ("toggleReadOnly", Action::ToggleReadOnly, true),
    ("apps", Action::ShowApps, true),
    ("open", Action::Open, true),
    ("diff", Action::ShowDiff, true),
    ("sync", Action::ShowSync, true),
    ("history", Action::ShowHistory, true),
    ("timeline", Action::ShowTimeline, true),
    ("refresh", Action::Refresh { hard: false }, true),
    ("hardRefresh", Action::Refresh { hard: true }, true),
    ("contexts", Action::ListContexts, true),
    ("yaml", Action::LiveYaml, true),
    ("mark", Action::Mark, true),
    ("expand", Action::Expand, true),
    ("collapse", Action::Collapse, true),
    ("focus", Action::FocusNext, true),
    ("unified", Action::ToggleUnified, true),
    ("nextChange", Action::NextChange, true),
    ("prevChange", Action::PrevChange, true),
    ("nextResource", Action::NextResource, true),
    ("prevResource", Action::PrevResource, true),
    ("scrollLeft", Action::ScrollLeft, true),
    ("scrollRight", Action::ScrollRight, true),
    ("prune", Action::TogglePrune, true),
    ("dryRun", Action::ToggleDryRun, true),
    ("force", Action::ToggleForce, true),
    ("refuseConflicts", Action::ToggleRefuseConflicts, true),
    ("outOfSyncOnly", Action::ToggleOutOfSyncOnly, true),
    ("selective", Action::ToggleSelective, true),
    ("confirm", Action::Confirm, true),
    ("terminate", Action::Terminate, true),
    ("rollback", Action::Rollback, true),
    ("reconcile", Action::Reconcile { with_source: false }, true),
    (
        "reconcileWithSource",
        Action::Reconcile { with_source: true },
        true,
    ),
    ("suspend", Action::Suspend, true),
    ("resume", Action::Resume, true),
    ("fluxGraph", Action::ShowFluxGraph, true),
    ("images", Action::ShowImages, true),
    ("select", Action::Select, false),
    ("complete", Action::Complete, false),
];

impl Action {
    /// The action a config `keymap:` name stands for (`quit`, `pageDown`, `sortHealth` …);
    /// `None` for unknown names and for actions the config may not rebind.
    pub fn from_name(name: &str) -> Option<Action> {
        NAMED
            .iter()
            .find(|(n, _, configurable)| *n == name && *configurable)
            .map(|(_, a, _)| a.clone())
    }

    /// The name of this action (`None` for actions that carry an argument).
    pub fn name(&self) -> Option<&'static str> {
        NAMED.iter().find(|(_, a, _)| a == self).map(|(n, _, _)| *n)
    }

    /// Every name accepted in the config's `keymap:`, in a stable order.
    pub fn bindable_names() -> impl Iterator<Item = &'static str> {
        NAMED.iter().filter(|(_, _, c)| *c).map(|(n, _, _)| *n)
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::SetTheme(name) => write!(f, "theme {name}"),
            Action::SetContext(Some(name)) => write!(f, "ctx {name}"),
            Action::SetContext(None) => f.write_str("ctx all"),
            other => f.write_str(other.name().unwrap_or("?")),
        }
    }
}

/// Where a binding applies. Text-input contexts (filter, command) never take plain
/// characters as commands: those are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// Everywhere, unless a more specific binding takes the key.
    Global,
    /// The apps table.
    Apps,
    /// Typing a filter.
    Filter,
    /// Typing a `:` command.
    Command,
    /// The help popup.
    Help,
    /// The app view: topology tree and details.
    App,
    /// The diff view.
    Diff,
    /// The sync dialog while choosing options and confirming.
    Sync,
    /// The sync dialog while the sync runs, and its result.
    SyncProgress,
    /// The history view.
    History,
    /// The timeline view.
    Timeline,
    /// The Flux graph view.
    Graph,
    /// The image automation view.
    Images,
}

impl Context {
    /// Whether typed characters go into a text field in this context.
    pub fn takes_text(self) -> bool {
        matches!(self, Context::Filter | Context::Command)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in Action::bindable_names() {
            let action = Action::from_name(name).unwrap();
            assert_eq!(action.name(), Some(name));
        }
        assert_eq!(Action::from_name("sync"), Some(Action::ShowSync));
        assert_eq!(Action::from_name("frobnicate"), None);
        assert_eq!(Action::from_name("select"), None, "fixed in text fields");
        assert_eq!(Action::Select.name(), Some("select"));
        assert_eq!(Action::SetTheme("x".into()).name(), None);
    }

    #[test]
    fn every_name_the_config_accepts_is_a_bindable_action() {
        assert!(
            Action::bindable_names().eq(crate::config::KEYMAP_ACTIONS.iter().copied()),
            "config's KEYMAP_ACTIONS and the bindable actions differ"
        );
    }
}
