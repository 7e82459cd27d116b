//! The default key bindings of an app and the views it opens: its tree, diff, sync dialog
//! and history, in help order within each group.

use crossterm::event::KeyCode;

use super::{Applies, Binding, CommandText, bind};
use crate::config::KeyChord;
use crate::tui::action::{Action, Context};

/// The app view, its diff, the sync dialog and the history.
pub(super) fn bindings() -> Vec<Binding> {
    use Context::*;
    let key = KeyChord::plain;
    let c = KeyChord::char;
    vec![
        // App
        bind(
            &[key(KeyCode::Enter)],
            Action::Open,
            App,
            CommandText {
                group: "App",
                hint: "expand",
                description: "Expand or collapse the selected node",
            },
        ),
        bind(
            &[key(KeyCode::Right)],
            Action::Expand,
            App,
            CommandText {
                group: "App",
                hint: "expand",
                description: "Expand the selected node",
            },
        ),
        bind(
            &[key(KeyCode::Left)],
            Action::Collapse,
            App,
            CommandText {
                group: "App",
                hint: "collapse",
                description: "Collapse the selected node, or go to its parent",
            },
        ),
        bind(
            &[c('y')],
            Action::LiveYaml,
            App,
            CommandText {
                group: "App",
                hint: "yaml",
                description: "Show or hide the live YAML of the resource (secrets masked)",
            },
        )
        .in_hint_bar(),
        bind(
            &[c(' ')],
            Action::Mark,
            App,
            CommandText {
                group: "App",
                hint: "mark",
                description: "Mark the resource for a selective sync (again: unmark)",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('d')],
            Action::ShowDiff,
            App,
            CommandText {
                group: "App",
                hint: "diff",
                description: "Diff the selected resource (from the root: the whole app)",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('s')],
            Action::ShowSync,
            App,
            CommandText {
                group: "App",
                hint: "sync",
                description: "Sync the app, or only the marked resources",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('h')],
            Action::ShowHistory,
            App,
            CommandText {
                group: "App",
                hint: "history",
                description: "Show the app's sync history",
            },
        ),
        bind(
            &[c('t')],
            Action::ShowTimeline,
            App,
            CommandText {
                group: "App",
                hint: "timeline",
                description: "Show the app's timeline: events, syncs, health changes",
            },
        ),
        bind(
            &[c('r')],
            Action::Refresh { hard: false },
            App,
            CommandText {
                group: "App",
                hint: "refresh",
                description: "Refresh the app: fetch Git and compare again",
            },
        ),
        bind(
            &[key(KeyCode::Tab)],
            Action::FocusNext,
            App,
            CommandText {
                group: "App",
                hint: "focus",
                description: "Move the focus between the tree and the details (j/k and the wheel scroll it)",
            },
        ),
        // Diff
        bind(
            &[c('n')],
            Action::NextChange,
            Diff,
            CommandText {
                group: "Diff",
                hint: "next",
                description: "Next change (at the last one: the next resource)",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('N')],
            Action::PrevChange,
            Diff,
            CommandText {
                group: "Diff",
                hint: "prev",
                description: "Previous change",
            },
        )
        .in_hint_bar(),
        bind(
            &[c(']'), key(KeyCode::Tab)],
            Action::NextResource,
            Diff,
            CommandText {
                group: "Diff",
                hint: "resource",
                description: "Next changed resource",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('['), key(KeyCode::BackTab)],
            Action::PrevResource,
            Diff,
            CommandText {
                group: "Diff",
                hint: "resource",
                description: "Previous changed resource",
            },
        ),
        bind(
            &[c('u')],
            Action::ToggleUnified,
            Diff,
            CommandText {
                group: "Diff",
                hint: "unified",
                description: "Switch between side by side and unified",
            },
        )
        .in_hint_bar(),
        bind(
            &[key(KeyCode::Enter), c(' ')],
            Action::Open,
            Diff,
            CommandText {
                group: "Diff",
                hint: "unfold",
                description: "Open the folded unchanged lines under the cursor",
            },
        ),
        bind(
            &[c('h'), key(KeyCode::Left)],
            Action::ScrollLeft,
            Diff,
            CommandText {
                group: "Diff",
                hint: "scroll",
                description: "Scroll long lines left",
            },
        ),
        bind(
            &[c('l'), key(KeyCode::Right)],
            Action::ScrollRight,
            Diff,
            CommandText {
                group: "Diff",
                hint: "scroll",
                description: "Scroll long lines right",
            },
        ),
        bind(
            &[c('s')],
            Action::ShowSync,
            Diff,
            CommandText {
                group: "Diff",
                hint: "sync",
                description: "Sync the app from here",
            },
        )
        .in_hint_bar(),
        // Sync
        bind(
            &[c('p')],
            Action::TogglePrune,
            Sync,
            CommandText {
                group: "Sync",
                hint: "prune",
                description: "Toggle prune: delete tracked resources that left Git (destructive)",
            },
        )
        .in_hint_bar()
        .only(Applies::NotFlux),
        bind(
            &[c('d')],
            Action::ToggleDryRun,
            Sync,
            CommandText {
                group: "Sync",
                hint: "dry run",
                description: "Toggle dry run: the server checks every step, nothing changes",
            },
        )
        .in_hint_bar()
        .only(Applies::NotFlux),
        bind(
            &[c('f')],
            Action::ToggleForce,
            Sync,
            CommandText {
                group: "Sync",
                hint: "force",
                description: "Toggle force: delete and create again what the server will not change in place (destructive)",
            },
        )
        .in_hint_bar()
        .only(Applies::NotFlux),
        bind(
            &[c('c')],
            Action::ToggleRefuseConflicts,
            Sync,
            CommandText {
                group: "Sync",
                hint: "refuse conflicts",
                description: "Toggle refusing conflicts: fail instead of taking fields other managers own",
            },
        )
        .only(Applies::NotFlux),
        bind(
            &[c('o')],
            Action::ToggleOutOfSyncOnly,
            Sync,
            CommandText {
                group: "Sync",
                hint: "out-of-sync",
                description: "Toggle applying only the resources that are out of sync",
            },
        )
        .in_hint_bar()
        .only(Applies::NotFlux),
        bind(
            &[c('m')],
            Action::ToggleSelective,
            Sync,
            CommandText {
                group: "Sync",
                hint: "marked",
                description: "Toggle syncing only the resources marked in the tree",
            },
        )
        .only(Applies::NotFlux),
        bind(
            &[key(KeyCode::Enter)],
            Action::Open,
            Sync,
            CommandText {
                group: "Sync",
                hint: "continue",
                description: "Go on to the confirmation",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('y')],
            Action::Confirm,
            Sync,
            CommandText {
                group: "Sync",
                hint: "confirm",
                description: "Confirm: start the sync or the rollback",
            },
        )
        .in_hint_bar(),
        bind(
            &[key(KeyCode::Esc)],
            Action::Back,
            Sync,
            CommandText {
                group: "Sync",
                hint: "back",
                description: "Step back from the confirmation, or cancel the sync",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('x')],
            Action::Terminate,
            SyncProgress,
            CommandText {
                group: "Sync",
                hint: "terminate",
                description: "Stop the running sync",
            },
        )
        .in_hint_bar(),
        bind(
            &[key(KeyCode::Enter)],
            Action::Open,
            SyncProgress,
            CommandText {
                group: "Sync",
                hint: "close",
                description: "Close the dialog once the sync has finished",
            },
        )
        .in_hint_bar(),
        bind(
            &[key(KeyCode::Esc)],
            Action::Back,
            SyncProgress,
            CommandText {
                group: "Sync",
                hint: "close",
                description: "Close the dialog (a running sync goes on)",
            },
        )
        .in_hint_bar(),
        // History
        bind(
            &[key(KeyCode::Enter)],
            Action::Open,
            History,
            CommandText {
                group: "History",
                hint: "diff",
                description: "Diff this revision against live",
            },
        )
        .in_hint_bar(),
        bind(
            &[c('R')],
            Action::Rollback,
            History,
            CommandText {
                group: "History",
                hint: "rollback",
                description: "Roll back to this revision (asks first)",
            },
        )
        .in_hint_bar(),
    ]
}
