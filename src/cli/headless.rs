//! The headless commands: `status`, `tree`, `diff` and `manifests`, for scripts and people.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

use color_eyre::eyre::{Result, WrapErr, bail, eyre};

use super::output::{TABLE_FORMATS, output_format};
use super::session;
use super::{GlobalArgs, OutputFormat};
use crate::engine::diff::{DEFAULT_CONTEXT, render_side_by_side, render_unified, to_json};
use crate::engine::mask::mask_object;
use crate::engine::tree::render_text;
use crate::integrations::{ObservedKind, ObservedRef};
use crate::model::{AppSnapshot, Application, Snapshot, short_sha};
use crate::runtime::{EngineCommand, EngineHandle, ObservedCommand};
use crate::yaml;

/// Exit code for "the command worked and found differences" (`diff`).
const EXIT_DIFFERENT: u8 = 1;
/// Exit code for errors: bad input, no cluster, render failure.
const EXIT_ERROR: u8 = 2;

/// Runs the engine for `apps` until every one was compared once, and returns that snapshot.
async fn compare_once(global: &GlobalArgs, apps: Vec<Application>) -> Result<Arc<Snapshot>> {
    let clusters = session::connect(global).await?;
    let sources = session::sources(global)?;
    let engine = session::start_engine(
        apps,
        clusters,
        sources,
        global.read_only,
        session::Mode::default(),
    );
    Ok(engine.settled().await)
}

fn problems(app: &AppSnapshot) -> Vec<String> {
    app.detail
        .as_ref()
        .map(|d| d.conditions.iter().map(|c| c.message.clone()).collect())
        .unwrap_or_default()
}

/// `rekon status [APP…]`: rekon's own apps and the Argo CD and Flux apps of the clusters
/// (`argocd:NS/NAME`, `flux-ks:…`, `flux-hr:…`); with no `--apps`, only the latter.
pub async fn status(global: &GlobalArgs, names: &[String]) -> Result<ExitCode> {
    let format = output_format(global, OutputFormat::Table, TABLE_FORMATS, "status")?;
    let mut loaded = session::load_apps(&global.apps);
    if !global.apps.is_empty() && loaded.apps.is_empty() && loaded.appsets.is_empty() {
        match loaded.errors.first() {
            Some(e) => bail!("{e}"),
            None => bail!("no Application documents found in --apps"),
        }
    }
    let (observed, own): (Vec<&String>, Vec<&String>) =
        names.iter().partition(|n| ObservedRef::parse(n).is_some());
    let clusters = session::connect(global).await?;
    let sources = session::sources(global)?;
    session::expand_appsets(&mut loaded, &clusters, sources.clone()).await;
    let own: Vec<String> = own.into_iter().cloned().collect();
    let chosen: Vec<Application> = if own.is_empty() && !observed.is_empty() {
        Vec::new()
    } else {
        session::select(&loaded.apps, &own)?
            .into_iter()
            .cloned()
            .collect()
    };
    let engine = session::start_engine_with_projects(
        chosen,
        loaded.projects.clone(),
        clusters,
        sources,
        global.read_only,
        // Trees are kept: `status -o json` prints each app's detail, tree included.
        session::Mode::default(),
    );
    let snapshot = engine.settled().await;
    let refs: Vec<ObservedRef> = observed
        .iter()
        .filter_map(|n| ObservedRef::parse(n))
        .collect();
    let mut failed = false;
    for r in &refs {
        if !snapshot.apps.iter().any(|a| r.matches(a)) {
            eprintln!("rekon: no observed app named {r} in the connected clusters");
            failed = true;
        }
    }
    let shown: Vec<AppSnapshot> = snapshot
        .apps
        .iter()
        .filter(|a| {
            names.is_empty()
                || match ObservedKind::of_snapshot(a) {
                    None => !own.is_empty() || observed.is_empty(),
                    Some(_) => refs.iter().any(|r| r.matches(a)),
                }
        })
        .cloned()
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&shown)?)?,
        OutputFormat::Yaml => write!(out, "{}", yaml::to_string(&shown))?,
        _ => write!(out, "{}", status_table(&shown))?,
    }
    out.flush()?;
    for e in &loaded.errors {
        eprintln!("rekon: {e}");
        failed = true;
    }
    for app in shown
        .iter()
        .filter(|a| ObservedKind::of_snapshot(a).is_none())
    {
        for p in problems(app) {
            eprintln!("rekon: app {}: {p}", app.qualified_name());
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::from(EXIT_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// The `status` table: one row per app.
pub fn status_table(apps: &[AppSnapshot]) -> String {
    let header = ["NAME", "CLUSTER", "SYNC", "HEALTH", "REVISION", "MESSAGE"];
    let rows: Vec<[String; 6]> = apps
        .iter()
        .map(|a| {
            [
                crate::integrations::app_ref(a),
                a.cluster.clone(),
                a.sync.to_string(),
                a.health.to_string(),
                a.revision
                    .as_deref()
                    .map(|r| short_sha(r).to_string())
                    .unwrap_or_else(|| "-".into()),
                a.message.lines().next().unwrap_or("").to_string(),
            ]
        })
        .collect();
    super::table::table(&header, &rows)
}

/// An observed app (`argocd:NS/NAME[@CLUSTER]` …) as the engine sees it once settled, with
/// the engine (for queries, and for actions unless `read_only`).
pub(super) async fn observed_app(
    global: &GlobalArgs,
    r: &ObservedRef,
    read_only: bool,
) -> Result<(AppSnapshot, EngineHandle)> {
    let clusters = session::connect(global).await?;
    let sources = session::sources(global)?;
    let engine = session::start_engine(
        Vec::new(),
        clusters,
        sources,
        read_only,
        session::Mode::default(),
    );
    let snapshot = engine.settled().await;
    let found: Vec<&AppSnapshot> = snapshot.apps.iter().filter(|a| r.matches(a)).collect();
    match found.as_slice() {
        [one] => Ok(((*one).clone(), engine)),
        [] => bail!("no observed app named {r} in the connected clusters"),
        many => bail!(
            "{r} is ambiguous: add @CLUSTER ({})",
            many.iter()
                .map(|a| crate::integrations::app_ref_in_cluster(a))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Finds one app and compares it, failing when it could not be compared.
async fn one_app(global: &GlobalArgs, name: &str, revision: Option<&str>) -> Result<AppSnapshot> {
    let loaded = session::require_apps(global, "no apps to look at")?;
    let mut app = session::find(&loaded.apps, name)?.clone();
    if let Some(rev) = revision {
        app.spec.source.target_revision = Some(rev.to_string());
    }
    let snapshot = compare_once(global, vec![app]).await?;
    let app = snapshot
        .apps
        .first()
        .cloned()
        .ok_or_else(|| eyre!("app {name} produced no result"))?;
    if let Some(p) = problems(&app).first() {
        bail!("app {}: {p}", app.qualified_name());
    }
    Ok(app)
}

/// `rekon tree APP`.
pub async fn tree(global: &GlobalArgs, name: &str) -> Result<ExitCode> {
    let format = output_format(
        global,
        OutputFormat::Text,
        &[OutputFormat::Text, OutputFormat::Json, OutputFormat::Yaml],
        "tree",
    )?;
    let app = match ObservedRef::parse(name) {
        Some(r) => observed_app(global, &r, true).await?.0,
        None => one_app(global, name, None).await?,
    };
    let detail = app
        .detail
        .as_ref()
        .ok_or_else(|| eyre!("app {name} has no tree yet"))?;
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&detail.tree)?)?,
        OutputFormat::Yaml => write!(out, "{}", yaml::to_string(&detail.tree))?,
        _ => write!(out, "{}", render_text(&detail.tree))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `rekon diff APP [--revision REV]`: exit 0 when equal, 1 when different.
pub async fn diff(global: &GlobalArgs, name: &str, revision: Option<&str>) -> Result<ExitCode> {
    let format = output_format(
        global,
        OutputFormat::Unified,
        &[
            OutputFormat::Unified,
            OutputFormat::Side,
            OutputFormat::Json,
        ],
        "diff",
    )?;
    let diffs = match ObservedRef::parse(name) {
        Some(r) => {
            let (app, engine) = observed_app(global, &r, true).await?;
            let (reply, rx) = tokio::sync::oneshot::channel();
            let name = crate::integrations::app_ref_in_cluster(&app);
            let cmd = match revision {
                Some(rev) => EngineCommand::DiffRevision {
                    app: name,
                    revision: rev.to_string(),
                    reply,
                },
                None => EngineCommand::Observed(ObservedCommand::Diff { app: name, reply }),
            };
            engine
                .commands()
                .send(cmd)
                .await
                .map_err(|_| eyre!("the engine stopped"))?;
            rx.await
                .map_err(|_| eyre!("the engine stopped"))?
                .map_err(|e| eyre!("{r}: {e}"))?
        }
        None => one_app(global, name, revision)
            .await?
            .detail
            .as_ref()
            .map(|d| d.diffs.clone())
            .unwrap_or_default(),
    };
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&to_json(&diffs, DEFAULT_CONTEXT))?
        )?,
        OutputFormat::Side => {
            let width = crossterm::terminal::size()
                .map(|(w, _)| usize::from(w))
                .unwrap_or(160)
                .max(60);
            write!(
                out,
                "{}",
                render_side_by_side(&diffs, width, DEFAULT_CONTEXT)
            )?
        }
        _ => write!(out, "{}", render_unified(&diffs, DEFAULT_CONTEXT))?,
    }
    out.flush()?;
    Ok(if diffs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DIFFERENT)
    })
}

/// `rekon manifests APP [--revision REV]`: the rendered desired objects (Secret values
/// masked). Needs Git only, no cluster.
pub async fn manifests(
    global: &GlobalArgs,
    name: &str,
    revision: Option<&str>,
) -> Result<ExitCode> {
    let format = output_format(
        global,
        OutputFormat::Yaml,
        &[OutputFormat::Yaml, OutputFormat::Json],
        "manifests",
    )?;
    let loaded = session::require_apps(global, "no apps to look at")?;
    let app = session::find(&loaded.apps, name)?.clone();
    let sources = session::sources(global)?;
    let rev = revision
        .map(str::to_string)
        .unwrap_or_else(|| app.spec.source.revision().to_string());
    let rendered = tokio::task::spawn_blocking(move || {
        let commit = sources.resolve(&app.spec.source.repo_url, &rev, false)?;
        sources.render_app(&app, &commit)
    })
    .await
    .wrap_err("rendering was interrupted")?
    .map_err(|e| eyre!("app {name}: {e}"))?;
    let objects: Vec<serde_json::Value> = rendered
        .manifests
        .iter()
        .map(|m| {
            let mut o = m.object();
            mask_object(&mut o);
            o
        })
        .collect();
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&objects)?)?,
        _ => {
            for o in &objects {
                write!(out, "---\n{}", yaml::to_string(o))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
