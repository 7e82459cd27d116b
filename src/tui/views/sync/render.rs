//! Drawing the sync dialog: options and plan, the confirmation, progress and result.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::observed::{argo_preview, controller, flux_preview};
use super::{Kind, Plan, SyncDialog, SyncStage};
use crate::config::Theme;
use crate::model::short_sha;
use crate::model::{
    AppSnapshot, Health, ManagedBy, OperationPhase, StepAction, StepStatus, SyncPhase, SyncStatus,
    SyncStep, describe_takeovers,
};
use crate::tui::action::{Action, Context};
use crate::tui::views::text::{one_line, utc_time};
use crate::tui::views::{DrawCx, READ_ONLY_REFUSAL, find_app};

pub(super) fn draw(d: &mut SyncDialog, frame: &mut Frame<'_>, area: Rect, cx: &DrawCx<'_>) {
    let theme = cx.theme;
    let w = if area.width > 44 {
        (area.width - 4).min(110)
    } else {
        area.width
    };
    let app = find_app(cx.snapshot, &d.app);
    let body = match d.stage {
        SyncStage::Options | SyncStage::Confirm => plan_lines(d, app, cx),
        SyncStage::Running | SyncStage::Done => progress_lines(d, cx),
    };
    let footer = footer_lines(d, cx);
    let text_width = w.saturating_sub(2);
    let body_rows = rows_when_wrapped(&body, text_width);
    let footer_rows = rows_when_wrapped(&footer, text_width);
    // As tall as its content plus a blank line before the footer, within the screen.
    let wanted = body_rows + footer_rows + 3;
    let room = if area.height > 12 {
        area.height - 2
    } else {
        area.height
    };
    let h = u16::try_from(wanted)
        .unwrap_or(u16::MAX)
        .clamp(room.min(12), room);
    let [row] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(row);

    let verb = match d.kind {
        Kind::Sync => "Sync",
        Kind::Rollback { .. } => "Roll back",
    };
    let mut title = vec![Span::styled(
        format!(" {verb} {} ", d.app.name),
        theme.accent().add_modifier(Modifier::BOLD),
    )];
    if d.dry_run {
        title.push(Span::styled("(dry run) ", theme.accent()));
    }
    let block = Block::bordered()
        .border_style(theme.accent())
        .style(theme.base())
        .title(Line::from(title));
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);

    let footer_h = u16::try_from(footer_rows)
        .unwrap_or(0)
        .min(inner.height / 2);
    let [body_area, footer_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(footer_h)]).areas(inner);
    d.page = usize::from(body_area.height).max(1);
    d.len = body.len();
    d.scroll = d.scroll.min(d.len.saturating_sub(1));
    frame.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(d.scroll).unwrap_or(u16::MAX), 0)),
        body_area,
    );
    frame.render_widget(
        Paragraph::new(footer).wrap(Wrap { trim: false }),
        footer_area,
    );
}

/// Rows `lines` take when wrapped at `width` (an estimate: word wrapping may need a row
/// more for a line that breaks badly).
fn rows_when_wrapped(lines: &[Line<'_>], width: u16) -> usize {
    let width = usize::from(width.max(1));
    lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum()
}

fn toggle_span(
    key: String,
    label: &str,
    on: bool,
    destructive: bool,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let style = match (on, destructive) {
        (true, true) => theme.error(),
        (true, false) => theme.accent().add_modifier(Modifier::BOLD),
        (false, _) => theme.text(),
    };
    vec![
        Span::styled(format!(" {key} "), theme.key()),
        Span::styled(format!("[{}] {label}", if on { 'x' } else { ' ' }), style),
        Span::raw("  "),
    ]
}

fn plan_lines(d: &SyncDialog, app: Option<&AppSnapshot>, cx: &DrawCx<'_>) -> Vec<Line<'static>> {
    let theme = cx.theme;
    let mut out = Vec::new();
    let cluster = app.map(|a| a.cluster.as_str()).unwrap_or("?");
    match &d.kind {
        Kind::Sync => {
            let rev = match d.plan() {
                Some(p) => short_sha(&p.revision).to_string(),
                None => app
                    .and_then(|a| a.revision.as_deref())
                    .map(|r| short_sha(r).to_string())
                    .unwrap_or_else(|| "?".into()),
            };
            let target = app.map(|a| a.target_revision.clone()).unwrap_or_default();
            out.push(Line::from(vec![
                Span::styled("to ", theme.muted()),
                Span::styled(rev, theme.accent()),
                Span::styled(format!(" ({target}) on "), theme.muted()),
                Span::styled(cluster.to_string(), theme.text()),
            ]));
            if let Some(a) = app {
                out.push(Line::from(vec![
                    Span::styled("now ", theme.muted()),
                    Span::styled(a.sync.as_str(), theme.sync(a.sync)),
                    Span::styled(", ", theme.muted()),
                    Span::styled(a.health.as_str(), theme.health(a.health)),
                ]));
            }
            out.push(Line::raw(""));
            if d.is_flux() {
                // Flux syncs have no options to toggle.
                out.extend(plan_body(d, app, cx));
                return out;
            }
            let k = |a: Action| cx.key(Context::Sync, &a);
            let mut toggles = Vec::new();
            toggles.extend(toggle_span(
                k(Action::TogglePrune),
                "prune",
                d.prune,
                true,
                theme,
            ));
            toggles.extend(toggle_span(
                k(Action::ToggleDryRun),
                "dry run",
                d.dry_run,
                false,
                theme,
            ));
            toggles.extend(toggle_span(
                k(Action::ToggleForce),
                "force",
                d.force,
                true,
                theme,
            ));
            toggles.extend(toggle_span(
                k(Action::ToggleOutOfSyncOnly),
                "out-of-sync only",
                d.out_of_sync_only,
                false,
                theme,
            ));
            out.push(Line::from(toggles));
            // A line of its own: what it means needs saying, and the toggles above fit 80
            // columns without it. Argo CD's sync has no such option.
            if d.app.managed_by == ManagedBy::Rekon {
                out.push(refuse_line(d, k(Action::ToggleRefuseConflicts), theme));
            }
            if !d.marked.is_empty() {
                let names: Vec<String> = d
                    .marked
                    .iter()
                    .map(|k| format!("{} {}", k.kind, k.name))
                    .collect();
                let mut line = toggle_span(
                    k(Action::ToggleSelective),
                    &format!("only the {} marked: {}", d.marked.len(), names.join(", ")),
                    d.selective,
                    false,
                    theme,
                );
                line.pop();
                out.push(Line::from(line));
            }
        }
        Kind::Rollback {
            id,
            revision,
            message,
        } => {
            out.push(Line::from(vec![
                Span::styled("to ", theme.muted()),
                Span::styled(short_sha(revision).to_string(), theme.accent()),
                Span::styled(format!(" (history #{id}) on "), theme.muted()),
                Span::styled(cluster.to_string(), theme.text()),
            ]));
            if !message.is_empty() {
                out.push(Line::styled(
                    format!("“{}”", one_line(message)),
                    theme.text(),
                ));
            }
        }
    }
    out.push(Line::raw(""));
    out.extend(plan_body(d, app, cx));
    out
}

/// The refuse-conflicts toggle and what its state means.
fn refuse_line(d: &SyncDialog, key: String, theme: &Theme) -> Line<'static> {
    let mut spans = toggle_span(key, "refuse conflicts", d.refuse_conflicts, false, theme);
    spans.pop();
    spans.push(Span::styled(
        if d.refuse_conflicts {
            "  fail on fields another manager owns"
        } else {
            "  off: Git wins over hand edits"
        },
        theme.muted(),
    ));
    Line::from(spans)
}

/// The plan, or for an app its controller plans, what the sync asks of that controller.
fn plan_body(d: &SyncDialog, app: Option<&AppSnapshot>, cx: &DrawCx<'_>) -> Vec<Line<'static>> {
    let theme = cx.theme;
    let mut out = Vec::new();
    match &d.plan {
        None => {}
        Some(Plan::Observed(_)) if d.is_flux() => out.extend(flux_preview(app, theme)),
        Some(Plan::Observed(_)) => out.extend(argo_preview(&d.options(), app, theme)),
        Some(Plan::Waiting(_)) => out.push(Line::styled(
            format!("{} asking the engine for the plan…", cx.spinner),
            theme.muted(),
        )),
        Some(Plan::Failed(e)) => out.push(Line::styled(
            format!("cannot plan this sync: {}", one_line(e)),
            theme.error(),
        )),
        Some(Plan::Ready(plan)) => {
            out.push(summary_line(&plan.steps, theme));
            let refuse = d.refuse_conflicts;
            push_groups(
                &mut out,
                &plan.steps,
                |s| plan_step(s, refuse, theme),
                theme,
                true,
            );
        }
    }
    out
}

fn summary_line(steps: &[SyncStep], theme: &Theme) -> Line<'static> {
    let count = |a: StepAction| steps.iter().filter(|s| s.action == a).count();
    let mut spans = vec![Span::styled("Plan: ", theme.header())];
    let items = [
        (count(StepAction::Created), "to create", theme.diff_added()),
        (
            count(StepAction::Configured),
            "to update",
            theme.sync(SyncStatus::OutOfSync),
        ),
        (count(StepAction::Pruned), "to prune", theme.error()),
        (count(StepAction::Hook), "hook", theme.accent()),
        (count(StepAction::Skipped), "skipped", theme.muted()),
        (count(StepAction::Unchanged), "unchanged", theme.muted()),
    ];
    let mut first = true;
    for (n, word, style) in items {
        if n == 0 {
            continue;
        }
        if !first {
            spans.push(Span::styled(" · ", theme.muted()));
        }
        first = false;
        let word = if word == "hook" && n != 1 {
            "hooks"
        } else {
            word
        };
        spans.push(Span::styled(format!("{n} {word}"), style));
    }
    if first {
        spans.push(Span::styled("nothing to do", theme.muted()));
    }
    Line::from(spans)
}

fn phase_word(p: SyncPhase) -> &'static str {
    match p {
        SyncPhase::PreSync => "PreSync",
        SyncPhase::Sync => "Sync",
        SyncPhase::PostSync => "PostSync",
        SyncPhase::SyncFail => "SyncFail",
    }
}

/// Steps grouped by phase and wave, in order; unchanged steps left out of plans (they
/// are counted in the summary).
fn push_groups(
    out: &mut Vec<Line<'static>>,
    steps: &[SyncStep],
    line: impl Fn(&SyncStep) -> Line<'static>,
    theme: &Theme,
    hide_unchanged: bool,
) {
    let mut group: Option<(SyncPhase, i32)> = None;
    for step in steps {
        if hide_unchanged && step.action == StepAction::Unchanged {
            continue;
        }
        if group != Some((step.phase, step.wave)) {
            group = Some((step.phase, step.wave));
            out.push(Line::styled(
                format!("{} · wave {}", phase_word(step.phase), step.wave),
                theme.header(),
            ));
        }
        out.push(line(step));
    }
}

fn action_style(action: StepAction, theme: &Theme) -> (&'static str, &'static str, Style) {
    match action {
        StepAction::Created => ("+", "create", theme.diff_added()),
        StepAction::Configured => ("~", "update", theme.sync(SyncStatus::OutOfSync)),
        StepAction::Pruned => ("−", "prune", theme.error()),
        StepAction::Hook => ("↪", "hook", theme.accent()),
        StepAction::Skipped => ("·", "skip", theme.muted()),
        StepAction::Unchanged => ("=", "unchanged", theme.muted()),
    }
}

fn object(step: &SyncStep) -> String {
    if step.namespace.is_empty() {
        format!("{} {}", step.kind, step.name)
    } else {
        format!("{} {}/{}", step.kind, step.namespace, step.name)
    }
}

/// One planned step; a takeover follows on the same line, so a hand edit being reverted
/// (or, refusing conflicts, the failure it causes) is seen before confirming.
fn plan_step(step: &SyncStep, refuse: bool, theme: &Theme) -> Line<'static> {
    let (symbol, word, style) = if step.replace {
        ("!", "replace", theme.error())
    } else {
        action_style(step.action, theme)
    };
    let mut spans = vec![
        Span::styled(format!("  {symbol} {word:<9} "), style),
        Span::styled(object(step), theme.text()),
    ];
    if !step.takes.is_empty() {
        let text = if refuse {
            format!(
                "  refused: {}",
                step.takes
                    .iter()
                    .map(|t| format!("{} owned by {}", t.fields.join(", "), t.manager))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        } else {
            format!("  {}", describe_takeovers(&step.takes))
        };
        spans.push(Span::styled(
            text,
            if refuse {
                theme.error()
            } else {
                theme.warning()
            },
        ));
    }
    if !step.message.is_empty() {
        let style = if step.replace {
            theme.error()
        } else {
            theme.muted()
        };
        spans.push(Span::styled(
            format!("  {}", one_line(&step.message)),
            style,
        ));
    }
    Line::from(spans)
}

fn progress_step(step: &SyncStep, spinner: char, theme: &Theme) -> Line<'static> {
    let (status, style) = match step.status {
        StepStatus::Pending => ("·".to_string(), theme.muted()),
        StepStatus::Running => (spinner.to_string(), theme.accent()),
        StepStatus::Succeeded => ("✓".to_string(), theme.health(Health::Healthy)),
        StepStatus::Failed => ("✗".to_string(), theme.error()),
        StepStatus::Skipped => ("–".to_string(), theme.muted()),
    };
    let (word, action) = if step.replace {
        ("replace", theme.error())
    } else {
        let (_, word, action) = action_style(step.action, theme);
        (word, action)
    };
    let mut spans = vec![
        Span::styled(format!("  {status} "), style),
        Span::styled(format!("{word:<9} "), action),
        Span::styled(object(step), theme.text()),
    ];
    if !step.takes.is_empty() && step.status != StepStatus::Failed {
        let verb = if step.status == StepStatus::Pending {
            "takes"
        } else {
            "took"
        };
        let what: Vec<String> = step.takes.iter().map(|t| t.describe()).collect();
        spans.push(Span::styled(
            format!("  {verb} {}", what.join("; ")),
            theme.warning(),
        ));
    }
    if !step.message.is_empty() {
        let msg_style = if step.status == StepStatus::Failed {
            theme.error()
        } else {
            theme.muted()
        };
        spans.push(Span::styled(
            format!("  {}", one_line(&step.message)),
            msg_style,
        ));
    }
    Line::from(spans)
}

fn progress_lines(d: &SyncDialog, cx: &DrawCx<'_>) -> Vec<Line<'static>> {
    let theme = cx.theme;
    let mut out = Vec::new();
    let verb = match d.kind {
        Kind::Sync if d.is_flux() => "Reconcile",
        Kind::Sync => "Sync",
        Kind::Rollback { .. } => "Rollback",
    };
    if let Some(e) = &d.error {
        out.push(Line::styled(
            format!("✗ {verb} not started: {}", one_line(e)),
            theme.error(),
        ));
        return out;
    }
    let Some(op) = &d.operation else {
        let waiting = match d.app.managed_by {
            ManagedBy::Flux => "waiting for Flux: the source first, then the app…",
            ManagedBy::Argocd => "waiting for Argo CD to take the operation…",
            ManagedBy::Rekon => "waiting for the engine to start it…",
        };
        out.push(Line::styled(
            format!("{} {verb} sent; {waiting}", cx.spinner),
            theme.muted(),
        ));
        return out;
    };
    let done = op
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.status,
                StepStatus::Succeeded | StepStatus::Failed | StepStatus::Skipped
            )
        })
        .count();
    let (head, style) = match op.phase {
        // Argo CD lists steps only once it has planned them.
        OperationPhase::Running if op.steps.is_empty() => {
            (format!("{} {verb} running", cx.spinner), theme.accent())
        }
        OperationPhase::Running => (
            format!(
                "{} {verb} running · {done} of {} steps done",
                cx.spinner,
                op.steps.len()
            ),
            theme.accent(),
        ),
        OperationPhase::Succeeded => (format!("✓ {verb} succeeded"), theme.health(Health::Healthy)),
        OperationPhase::Failed => (format!("✗ {verb} failed"), theme.error()),
        OperationPhase::Terminated => (format!("■ {verb} terminated"), theme.warning()),
    };
    let mut first = vec![Span::styled(head, style.add_modifier(Modifier::BOLD))];
    if op.dry_run {
        first.push(Span::styled(" (dry run: nothing changed)", theme.muted()));
    }
    out.push(Line::from(first));
    if !op.message.is_empty() {
        out.push(Line::styled(one_line(&op.message), theme.text()));
    }
    let mut when = Vec::new();
    // Argo CD names the revision once it has resolved it.
    if !op.revision.is_empty() {
        when.push(Span::styled("revision ", theme.muted()));
        when.push(Span::styled(
            short_sha(&op.revision).to_string(),
            theme.accent(),
        ));
        when.push(Span::styled(" · ", theme.muted()));
    }
    if op.started_at.is_empty() {
        when.push(Span::styled("asked by ", theme.muted()));
    } else {
        when.push(Span::styled(
            format!("started {} by ", utc_time(&op.started_at)),
            theme.muted(),
        ));
    }
    when.push(Span::styled(op.initiated_by.clone(), theme.text()));
    if let Some(end) = &op.finished_at {
        when.push(Span::styled(
            format!(" · finished {}", utc_time(end)),
            theme.muted(),
        ));
    }
    out.push(Line::from(when));
    out.push(Line::raw(""));
    push_groups(
        &mut out,
        &op.steps,
        |s| progress_step(s, cx.spinner, theme),
        theme,
        false,
    );
    out
}

fn footer_lines(d: &SyncDialog, cx: &DrawCx<'_>) -> Vec<Line<'static>> {
    let theme = cx.theme;
    let key = |a: Action| cx.key(Context::Sync, &a);
    let progress_key = |a: Action| cx.key(Context::SyncProgress, &a);
    let mut out = Vec::new();
    let deciding = matches!(d.stage, SyncStage::Options | SyncStage::Confirm);
    if deciding && cx.read_only {
        out.push(Line::styled(
            format!("{READ_ONLY_REFUSAL}: the plan is shown for review only."),
            theme.error(),
        ));
    }
    if deciding {
        let prunes = d.plan().map_or(0, |p| {
            p.steps
                .iter()
                .filter(|s| s.action == StepAction::Pruned)
                .count()
        });
        let mut warnings = Vec::new();
        if d.prune {
            warnings.push(if prunes > 0 {
                format!(
                    "prune deletes {prunes} resource{}",
                    if prunes == 1 { "" } else { "s" }
                )
            } else {
                "prune deletes tracked resources that left Git".to_string()
            });
        }
        let plan_steps = d.plan().map(|p| p.steps.as_slice()).unwrap_or_default();
        let replaced = plan_steps.iter().filter(|s| s.replace).count();
        if d.force {
            warnings.push(if replaced > 0 {
                format!(
                    "force deletes and creates again {replaced} resource{} the server will not change in place",
                    if replaced == 1 { "" } else { "s" }
                )
            } else {
                "force deletes and creates again what the server will not change in place"
                    .to_string()
            });
        }
        let taken = plan_steps.iter().filter(|s| !s.takes.is_empty()).count();
        if taken > 0 && !d.refuse_conflicts {
            out.push(Line::styled(
                format!(
                    "Git wins: {taken} resource{} changed by another field manager go{} back to Git.",
                    if taken == 1 { "" } else { "s" },
                    if taken == 1 { "es" } else { "" },
                ),
                theme.warning(),
            ));
        } else if taken > 0 {
            out.push(Line::styled(
                format!(
                    "Refusing conflicts: this sync fails before any change ({taken} resource{} with fields another manager owns).",
                    if taken == 1 { "" } else { "s" }
                ),
                theme.error(),
            ));
        }
        if !warnings.is_empty() {
            out.push(Line::styled(
                format!("⚠ destructive: {}", warnings.join(" · ")),
                theme.error(),
            ));
        }
    }
    let instruction = match (d.stage, &d.kind) {
        (SyncStage::Options | SyncStage::Confirm, _) if cx.read_only => Line::from(vec![
            Span::styled(key(Action::Back), theme.key()),
            Span::styled(" closes the dialog.", theme.muted()),
        ]),
        (SyncStage::Options, _) => Line::from(vec![
            Span::styled("Review the plan, then press ", theme.muted()),
            Span::styled(key(Action::Open), theme.key()),
            Span::styled(" to go on, ", theme.muted()),
            Span::styled(key(Action::Back), theme.key()),
            Span::styled(" to cancel.", theme.muted()),
        ]),
        (SyncStage::Confirm, kind) => {
            let what = match (kind, controller(d.app.managed_by)) {
                (Kind::Sync, Some("Flux")) => {
                    format!("Ask Flux to reconcile {} with its source now?", d.app.name)
                }
                (Kind::Sync, Some(who)) if d.dry_run => {
                    format!("Ask {who} for a dry run of the sync of {} now?", d.app.name)
                }
                (Kind::Sync, Some(who)) => format!("Ask {who} to sync {} now?", d.app.name),
                (Kind::Sync, None) if d.dry_run => {
                    format!("Dry-run the sync of {} now?", d.app.name)
                }
                (Kind::Sync, None) => format!("Sync {} now?", d.app.name),
                (Kind::Rollback { revision, .. }, _) => {
                    format!("Roll {} back to {} now?", d.app.name, short_sha(revision))
                }
            };
            Line::from(vec![
                Span::styled(what, theme.text().add_modifier(Modifier::BOLD)),
                Span::styled(" Press ", theme.muted()),
                Span::styled(key(Action::Confirm), theme.key()),
                Span::styled(" to confirm, ", theme.muted()),
                Span::styled(key(Action::Back), theme.key()),
                Span::styled(" to go back.", theme.muted()),
            ])
        }
        (SyncStage::Running, _) => Line::from(vec![
            Span::styled(progress_key(Action::Back), theme.key()),
            Span::styled(" closes this dialog (the sync goes on) · ", theme.muted()),
            Span::styled(progress_key(Action::Terminate), theme.key()),
            Span::styled(" terminates it", theme.muted()),
        ]),
        (SyncStage::Done, _) => Line::from(vec![
            Span::styled("Press ", theme.muted()),
            Span::styled(progress_key(Action::Open), theme.key()),
            Span::styled(" to close.", theme.muted()),
        ]),
    };
    out.push(instruction);
    out
}
