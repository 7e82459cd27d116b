//! How a sync's steps read on the terminal: a line per step as it runs, and the action word
//! and message its row in the result table shows. Shared by `sync` and `observed_sync`.

use std::collections::HashMap;
use std::io::Write;

use crate::engine::plan::step_title;
use crate::model::{
    Operation, OperationPhase, StepAction, StepStatus, SyncStep, describe_takeovers,
};

/// Prints what changed in a running operation: each step once per status, and retries.
pub(super) fn progress(
    out: &mut impl Write,
    op: &Operation,
    printed: &mut HashMap<usize, (StepStatus, String)>,
    last_message: &mut String,
) {
    if op.phase == OperationPhase::Running && op.message != *last_message {
        last_message.clone_from(&op.message);
        if op.message.contains("retrying") {
            let _ = writeln!(out, "{}", op.message);
        }
    }
    for (i, s) in op.steps.iter().enumerate() {
        if s.status == StepStatus::Pending {
            continue;
        }
        let state = (s.status, s.message.clone());
        if printed.get(&i) == Some(&state) {
            continue;
        }
        // A running step whose message only changes is printed once.
        if s.status == StepStatus::Running
            && printed
                .get(&i)
                .is_some_and(|(st, _)| *st == StepStatus::Running)
        {
            continue;
        }
        printed.insert(i, state);
        let _ = writeln!(out, "{}", progress_line(s));
    }
}

fn progress_line(s: &SyncStep) -> String {
    let mut line = format!(
        "{:<8} {:>4}  {}  {}  {:?}",
        format!("{:?}", s.phase),
        s.wave,
        step_title(s),
        if s.replace {
            "replaced"
        } else {
            action_word(s.action)
        },
        s.status
    );
    let message = step_message(s);
    if !message.is_empty() {
        line.push_str(": ");
        line.push_str(&message);
    }
    line
}

/// The ACTION column of a step: what the apply did.
pub(super) fn action_word(a: StepAction) -> &'static str {
    match a {
        StepAction::Created => "created",
        StepAction::Configured => "configured",
        StepAction::Unchanged => "unchanged",
        StepAction::Pruned => "pruned",
        StepAction::Hook => "hook",
        StepAction::Skipped => "skipped",
    }
}

/// A step's message for one table cell: what it takes from other field managers (before
/// anything changes, so a reverted hand edit is seen), then the first line of its message.
pub(super) fn step_message(s: &SyncStep) -> String {
    let first = s.message.lines().next().unwrap_or("");
    let takes = describe_takeovers(&s.takes);
    match (takes.is_empty(), first.is_empty()) {
        (true, _) => first.to_string(),
        (false, true) => takes,
        (false, false) if s.status == StepStatus::Failed => first.to_string(),
        (false, false) => format!("{first}; {takes}"),
    }
}
