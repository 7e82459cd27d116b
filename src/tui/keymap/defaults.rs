//! The default key bindings, in help order within each group.

use crossterm::event::KeyCode;

use super::{Applies, Binding, CommandText, app_views, bind};
use crate::config::KeyChord;
use crate::tui::action::{Action, Context, SortColumn};

/// Reconcile, suspend and resume in a context where a Flux app can be in view.
fn flux_actions(context: Context) -> Vec<Binding> {
    let c = KeyChord::char;
    vec![
        bind(
            &[c('R')],
            Action::Reconcile { with_source: false },
            context,
            CommandText {
                group: "Flux",
                hint: "reconcile",
                description: "Flux apps: reconcile now, as `flux reconcile` does (also :reconcile)",
            },
        )
        .in_hint_bar()
        .only(Applies::Flux),
        bind(
            &[KeyChord::ctrl('r')],
            Action::Reconcile { with_source: true },
            context,
            CommandText {
                group: "Flux",
                hint: "+source",
                description: "Flux apps: reconcile the source first, then the app (also :reconcile!)",
            },
        )
        .only(Applies::Flux),
        bind(
            &[c('T')],
            Action::Suspend,
            context,
            CommandText {
                group: "Flux",
                hint: "suspend",
                description: "Flux apps: suspend reconciling (also :suspend)",
            },
        )
        .in_hint_bar()
        .only(Applies::FluxActive),
        bind(
            &[c('T')],
            Action::Resume,
            context,
            CommandText {
                group: "Flux",
                hint: "resume",
                description: "Flux apps: resume reconciling, and reconcile now (also :resume)",
            },
        )
        .in_hint_bar()
        .only(Applies::FluxSuspended),
    ]
}

pub(super) fn default_bindings() -> Vec<Binding> {
    use Context::*;
    let key = KeyChord::plain;
    let c = KeyChord::char;
    let mut all = general_bindings();
    all.extend(app_views::bindings());
    all.extend(prompt_bindings());
    // The Flux actions come right after each view's sync key, so their hints follow
    // `s sync` and stay on an 80-column bar.
    let at = |all: &[Binding], context: Context| {
        all.iter()
            .position(|b| b.context == context && b.action == Action::ShowSync)
            .map_or(all.len(), |i| i + 1)
    };
    for context in [Apps, App] {
        let i = at(&all, context);
        all.splice(i..i, flux_actions(context));
    }
    all.extend([
        bind(
            &[c('F')],
            Action::ShowFluxGraph,
            Apps,
            CommandText {
                group: "Apps",
                hint: "graph",
                description: "Show the Flux graph of every cluster (also :graph)",
            },
        ),
        bind(
            &[c('I')],
            Action::ShowImages,
            Apps,
            CommandText {
                group: "Apps",
                hint: "images",
                description: "Show each ImagePolicy's latest tag against what workloads run (also :images)",
            },
        ),
        bind(
            &[key(KeyCode::Enter)],
            Action::Open,
            Graph,
            CommandText {
                group: "Flux graph and images",
                hint: "open",
                description: "Open the app of the selected line",
            },
        )
        .in_hint_bar(),
    ]);
    all.extend(flux_actions(Graph));
    all.extend([bind(
        &[key(KeyCode::Enter)],
        Action::Open,
        Images,
        CommandText {
            group: "Flux graph and images",
            hint: "open",
            description: "Open the app of the selected line",
        },
    )
    .in_hint_bar()]);
    all
}

/// Everywhere, moving around, and the apps list.
fn general_bindings() -> Vec<Binding> {
    use Context::*;
    let key = KeyChord::plain;
    let c = KeyChord::char;
    vec![
        // General
        bind(
            &[c('?')],
            Action::Help,
            Global,
            CommandText {
                group: "General",
                hint: "help",
                description: "Show or hide this help",
            },
        )
        .in_hint_bar(),
        bind(
            &[c(':')],
            Action::CommandLine,
            Global,
            CommandText {
                group: "General",
                hint: "command",
                description: "Open the command line (:apps, :theme, :readonly, :q …)",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('q'), KeyChord::ctrl('c')],
            Action::Quit,
            Global,
            CommandText {
                group: "General",
                hint: "quit",
                description: "Quit rekon",
            },
        )
        .in_hint_bar(),
        bind(
            &[key(KeyCode::Esc)],
            Action::Back,
            Global,
            CommandText {
                group: "General",
                hint: "back",
                description: "Go back: close the popup, clear the filter, leave the view",
            },
        ),
        bind(
            &[],
            Action::ToggleReadOnly,
            Global,
            CommandText {
                group: "General",
                hint: "read-only",
                description: "Turn the read-only guard on or off (also :readonly)",
            },
        ),
        bind(
            &[],
            Action::ShowApps,
            Global,
            CommandText {
                group: "General",
                hint: "apps",
                description: "Go to the apps table (also :apps)",
            },
        ),
        // Navigation
        bind(
            &[c('k'), key(KeyCode::Up)],
            Action::Up,
            Global,
            CommandText {
                group: "Navigation",
                hint: "up",
                description: "Move up",
            },
        ),
        bind(
            &[c('j'), key(KeyCode::Down)],
            Action::Down,
            Global,
            CommandText {
                group: "Navigation",
                hint: "down",
                description: "Move down",
            },
        ),
        bind(
            &[key(KeyCode::PageUp), KeyChord::ctrl('b')],
            Action::PageUp,
            Global,
            CommandText {
                group: "Navigation",
                hint: "page up",
                description: "Move a page up",
            },
        ),
        bind(
            &[key(KeyCode::PageDown), KeyChord::ctrl('f')],
            Action::PageDown,
            Global,
            CommandText {
                group: "Navigation",
                hint: "page down",
                description: "Move a page down",
            },
        ),
        bind(
            &[c('g'), key(KeyCode::Home)],
            Action::Top,
            Global,
            CommandText {
                group: "Navigation",
                hint: "top",
                description: "Go to the first row",
            },
        ),
        bind(
            &[c('G'), key(KeyCode::End)],
            Action::Bottom,
            Global,
            CommandText {
                group: "Navigation",
                hint: "bottom",
                description: "Go to the last row",
            },
        ),
        // Apps
        bind(
            &[key(KeyCode::Enter)],
            Action::Open,
            Apps,
            CommandText {
                group: "Apps",
                hint: "open",
                description: "Open the app: its resource tree, details and live YAML",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('d')],
            Action::ShowDiff,
            Apps,
            CommandText {
                group: "Apps",
                hint: "diff",
                description: "Diff the app: desired (Git) against live",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('s')],
            Action::ShowSync,
            Apps,
            CommandText {
                group: "Apps",
                hint: "sync",
                description: "Sync the app (shows the plan and asks first)",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('h')],
            Action::ShowHistory,
            Apps,
            CommandText {
                group: "Apps",
                hint: "history",
                description: "Show the app's sync history",
            },
        ),
        bind(
            &[c('t')],
            Action::ShowTimeline,
            Apps,
            CommandText {
                group: "Apps",
                hint: "timeline",
                description: "Show the app's timeline: events, syncs, health changes",
            },
        ),
        bind(
            &[c('r')],
            Action::Refresh { hard: false },
            Apps,
            CommandText {
                group: "Apps",
                hint: "refresh",
                description: "Refresh the app: fetch Git and compare again (:refresh! also drops cached dry runs)",
            },
        ),
        bind(
            &[c('/')],
            Action::Filter,
            Apps,
            CommandText {
                group: "Apps",
                hint: "filter",
                description: "Filter by name, namespace, cluster, source, sync or health",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('N')],
            Action::Sort(SortColumn::Name),
            Apps,
            CommandText {
                group: "Apps",
                hint: "sort",
                description: "Sort by name (again: reverse)",
            },
        ),
        bind(
            &[c('C')],
            Action::Sort(SortColumn::Cluster),
            Apps,
            CommandText {
                group: "Apps",
                hint: "sort",
                description: "Sort by cluster",
            },
        ),
        bind(
            &[c('P')],
            Action::Sort(SortColumn::Namespace),
            Apps,
            CommandText {
                group: "Apps",
                hint: "sort",
                description: "Sort by namespace",
            },
        ),
        bind(
            &[c('S')],
            Action::Sort(SortColumn::Sync),
            Apps,
            CommandText {
                group: "Apps",
                hint: "sort",
                description: "Sort by sync, out of sync first",
            },
        ),
        bind(
            &[c('H')],
            Action::Sort(SortColumn::Health),
            Apps,
            CommandText {
                group: "Apps",
                hint: "sort",
                description: "Sort by health, worst first",
            },
        ),
        bind(
            &[c('L')],
            Action::Sort(SortColumn::LastSync),
            Apps,
            CommandText {
                group: "Apps",
                hint: "sort",
                description: "Sort by last sync, newest first",
            },
        ),
    ]
}

/// The filter, the command line and help: prompts over any view.
fn prompt_bindings() -> Vec<Binding> {
    use Context::*;
    let key = KeyChord::plain;
    vec![
        // Filter
        bind(
            &[key(KeyCode::Enter)],
            Action::Select,
            Filter,
            CommandText {
                group: "Filter",
                hint: "keep",
                description: "Keep the filter and go back to the list",
            },
        )
        .in_hint_bar(),
        bind(
            &[key(KeyCode::Esc)],
            Action::Back,
            Filter,
            CommandText {
                group: "Filter",
                hint: "clear",
                description: "Clear the filter",
            },
        )
        .in_hint_bar(),
        // Command line
        bind(
            &[key(KeyCode::Enter)],
            Action::Select,
            Command,
            CommandText {
                group: "Command line",
                hint: "run",
                description: "Run the command",
            },
        )
        .in_hint_bar(),
        bind(
            &[key(KeyCode::Tab)],
            Action::Complete,
            Command,
            CommandText {
                group: "Command line",
                hint: "complete",
                description: "Complete the command or its argument",
            },
        )
        .in_hint_bar(),
        bind(
            &[key(KeyCode::Up)],
            Action::Up,
            Command,
            CommandText {
                group: "Command line",
                hint: "history",
                description: "Previous command",
            },
        )
        .in_hint_bar(),
        bind(
            &[key(KeyCode::Down)],
            Action::Down,
            Command,
            CommandText {
                group: "Command line",
                hint: "next",
                description: "Next command",
            },
        ),
        bind(
            &[key(KeyCode::Esc)],
            Action::Back,
            Command,
            CommandText {
                group: "Command line",
                hint: "cancel",
                description: "Cancel",
            },
        )
        .in_hint_bar(),
        // Help
        bind(
            &[key(KeyCode::Esc)],
            Action::Back,
            Help,
            CommandText {
                group: "Help",
                hint: "close",
                description: "Close the help",
            },
        )
        .in_hint_bar(),
    ]
}
