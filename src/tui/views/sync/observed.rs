//! What a sync of an observed app asks of its controller, shown where rekon's own apps show
//! a plan: Argo CD and Flux plan their syncs themselves (the engine says so when asked for
//! a plan), so the dialog lists what rekon will write and what the controller reports now.

use ratatui::text::{Line, Span};

use crate::config::Theme;
use crate::model::short_sha;
use crate::model::{AppSnapshot, ManagedBy, ResourceKey, SyncOptions, SyncStatus};

fn row(name: &str, value: String, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("  {name:<10} "), theme.muted()),
        Span::styled(value, theme.text()),
    ])
}

fn yes_no(on: bool, what: &str) -> String {
    if on {
        format!("yes: {what}")
    } else {
        "no".to_string()
    }
}

fn object(k: &ResourceKey) -> String {
    if k.namespace.is_empty() {
        format!("{} {}", k.kind, k.name)
    } else {
        format!("{} {}/{}", k.kind, k.namespace, k.name)
    }
}

/// What a sync writes into an Argo CD Application's `operation` field, and the resources
/// Argo CD reports out of sync or to prune now.
pub(super) fn argo_preview(
    options: &SyncOptions,
    app: Option<&AppSnapshot>,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut out = vec![Line::styled(
        "Argo CD plans and runs this sync; rekon asks for it in the Application's operation field:",
        theme.header(),
    )];
    let revision = match (&options.revision, app) {
        (Some(r), _) => short_sha(r).to_string(),
        (None, Some(a)) if !a.target_revision.is_empty() => a.target_revision.clone(),
        _ => "the Application's targetRevision".to_string(),
    };
    out.push(row("revision", revision, theme));
    out.push(row(
        "prune",
        yes_no(options.prune, "resources that left Git are deleted"),
        theme,
    ));
    out.push(row(
        "dry run",
        yes_no(
            options.dry_run,
            "Argo CD checks every step, nothing changes",
        ),
        theme,
    ));
    out.push(row(
        "strategy",
        if options.force {
            "hook, force: replace what cannot be patched".to_string()
        } else {
            "hook".to_string()
        },
        theme,
    ));
    out.push(row(
        "options",
        if options.apply_out_of_sync_only {
            "ApplyOutOfSyncOnly=true".to_string()
        } else {
            "none".to_string()
        },
        theme,
    ));
    let resources = if options.resources.is_empty() {
        "all of the app's resources".to_string()
    } else {
        let names: Vec<String> = options.resources.iter().map(object).collect();
        format!("only {}", names.join(", "))
    };
    out.push(row("resources", resources, theme));
    let Some(app) = app else {
        return out;
    };
    let out_of_sync: Vec<_> = app
        .resources
        .iter()
        .filter(|r| r.sync == SyncStatus::OutOfSync && !r.requires_pruning)
        .collect();
    let prunable: Vec<_> = app
        .resources
        .iter()
        .filter(|r| r.requires_pruning)
        .collect();
    out.push(Line::raw(""));
    if out_of_sync.is_empty() && prunable.is_empty() {
        out.push(Line::styled(
            "Argo CD reports every resource in sync.",
            theme.muted(),
        ));
        return out;
    }
    out.push(Line::styled(
        format!(
            "Argo CD reports now: {} out of sync · {} to prune",
            out_of_sync.len(),
            prunable.len()
        ),
        theme.header(),
    ));
    for r in out_of_sync {
        let key = ResourceKey::new(&r.group, &r.kind, &r.namespace, &r.name);
        out.push(Line::from(vec![
            Span::styled("  ● ", theme.sync(SyncStatus::OutOfSync)),
            Span::styled(object(&key), theme.text()),
        ]));
    }
    for r in prunable {
        let key = ResourceKey::new(&r.group, &r.kind, &r.namespace, &r.name);
        let note = if options.prune {
            "  deleted by this sync"
        } else {
            "  kept: prune is off"
        };
        out.push(Line::from(vec![
            Span::styled("  − ", theme.error()),
            Span::styled(object(&key), theme.text()),
            Span::styled(note, theme.muted()),
        ]));
    }
    out
}

/// The source a Flux app reads, from its tree (the node marked `role: source`).
fn flux_source(app: &AppSnapshot) -> Option<ResourceKey> {
    app.detail
        .as_ref()?
        .tree
        .children
        .iter()
        .find(|c| c.info_value("role") == Some("source"))
        .map(|c| c.key.clone())
}

/// What a sync of a Flux app does: `flux reconcile … --with-source`.
pub(super) fn flux_preview(app: Option<&AppSnapshot>, theme: &Theme) -> Vec<Line<'static>> {
    let Some(app) = app else {
        return vec![Line::styled(
            "Flux plans and runs its own syncs; this asks it to reconcile the app with its source.",
            theme.header(),
        )];
    };
    let helm = app.kind == "HelmRelease";
    let flux_kind = if helm { "helmrelease" } else { "kustomization" };
    let mut out = vec![
        Line::styled(
            "Flux plans and runs its own syncs; this asks it to reconcile with the source first,",
            theme.header(),
        ),
        Line::from(vec![
            Span::styled("as ", theme.header()),
            Span::styled(
                format!(
                    "flux reconcile {flux_kind} {} -n {} --with-source",
                    app.name, app.namespace
                ),
                theme.accent(),
            ),
            Span::styled(" does:", theme.header()),
        ]),
    ];
    let source = flux_source(app).map_or_else(|| "its source".to_string(), |k| object(&k));
    let fetch = if app.target_revision.is_empty() {
        String::new()
    } else {
        format!(" {}", app.target_revision)
    };
    out.push(row("1. source", format!("{source} fetches{fetch}"), theme));
    let apply = if helm {
        format!(
            "HelmRelease {}/{} upgrades chart {} to what the source stores",
            app.namespace, app.name, app.path
        )
    } else {
        format!(
            "Kustomization {}/{} applies {} at the revision the source stores",
            app.namespace, app.name, app.path
        )
    };
    out.push(row("2. app", apply, theme));
    out.push(Line::raw(""));
    out.push(Line::styled(
        format!(
            "Prune, force and the rest are the {}'s own spec: the options here do not apply.",
            if helm { "HelmRelease" } else { "Kustomization" }
        ),
        theme.muted(),
    ));
    out
}

/// Whether the app is reconciled by Argo CD or Flux, and by which.
pub(super) fn controller(managed_by: ManagedBy) -> Option<&'static str> {
    match managed_by {
        ManagedBy::Rekon => None,
        ManagedBy::Argocd => Some("Argo CD"),
        ManagedBy::Flux => Some("Flux"),
    }
}
