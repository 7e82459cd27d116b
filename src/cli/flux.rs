//! Flux from scripts: `rekon reconcile`, `suspend` and `resume` drive a Kustomization or
//! HelmRelease the way the flux CLI does (the `reconcile.fluxcd.io/requestedAt` annotation,
//! `spec.suspend`, then waiting for Ready); `rekon graph` prints the Flux graph of every
//! cluster and `rekon images` each ImagePolicy against what the workloads run.
//!
//! Progress goes to stderr, the outcome to stdout; a refusal or a failure is one line on
//! stderr and exit code 2.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use color_eyre::eyre::{Result, bail, eyre};
use tokio::sync::oneshot;

use super::output::output_format;
use super::{GlobalArgs, OutputFormat, session};
use crate::integrations::flux_graph::{FluxGraph, render_text};
use crate::integrations::images::PolicyImages;
use crate::integrations::{ObservedKind, ObservedRef, app_ref_in_cluster};
use crate::model::{ConnectionState, SyncOptions};
use crate::runtime::{EngineCommand, EngineHandle, ObservedCommand};

/// Options of `rekon reconcile`.
#[derive(Debug, Clone, Args)]
pub struct ReconcileArgs {
    /// The Flux app: flux-ks:NAMESPACE/NAME or flux-hr:NAMESPACE/NAME (add @CLUSTER when
    /// several clusters hold one of that name)
    #[arg(value_name = "APP")]
    pub app: String,
    /// Reconcile its source first (GitRepository, OCIRepository or HelmChart), as
    /// `flux reconcile --with-source` does
    #[arg(long)]
    pub with_source: bool,
}

/// What is asked of Flux.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Reconcile {
        with_source: bool,
    },
    /// `rekon sync` of a Flux app: a reconcile with its source, as the TUI's sync does, given
    /// up after `timeout`.
    Sync {
        timeout: Duration,
    },
    Suspend,
    Resume,
}

impl Verb {
    fn word(self) -> &'static str {
        match self {
            Verb::Reconcile { .. } | Verb::Sync { .. } => "reconcile",
            Verb::Suspend => "suspend",
            Verb::Resume => "resume",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Verb::Reconcile { .. } | Verb::Sync { .. } => "reconciled",
            Verb::Suspend => "suspended",
            Verb::Resume => "resumed",
        }
    }
}

/// The Flux app `name` names, or why it names none.
fn flux_ref(name: &str) -> Result<ObservedRef> {
    match ObservedRef::parse(name) {
        Some(r) if r.kind != ObservedKind::ArgoApplication => Ok(r),
        Some(r) => bail!(
            "{r} is an Argo CD Application: Flux commands take flux-ks:NAMESPACE/NAME or flux-hr:NAMESPACE/NAME (rekon sync {r} asks Argo CD to sync it)"
        ),
        None => bail!(
            "{name:?} does not name a Flux app: use flux-ks:NAMESPACE/NAME for a Kustomization or flux-hr:NAMESPACE/NAME for a HelmRelease"
        ),
    }
}

/// The engine over the clusters the flags name, with no apps of rekon's own, once it has
/// listed every Argo CD and Flux object; and why each cluster it cannot reach is out of
/// reach. When none can be reached, that is the error.
async fn observe(global: &GlobalArgs) -> Result<(EngineHandle, Vec<String>)> {
    let clusters = session::connect(global).await?;
    let sources = session::sources(global)?;
    let engine = session::start_engine(
        Vec::new(),
        clusters,
        sources,
        global.read_only,
        session::Mode::default(),
    );
    let snapshot = engine.settled().await;
    let unreachable: Vec<String> = snapshot
        .clusters
        .iter()
        .filter_map(|c| match &c.connection {
            ConnectionState::Unreachable(why) => {
                Some(format!("cluster {} is unreachable: {why}", c.name))
            }
            _ => None,
        })
        .collect();
    if !snapshot.clusters.is_empty() && unreachable.len() == snapshot.clusters.len() {
        bail!("{}", unreachable.join("; "));
    }
    Ok((engine, unreachable))
}

/// Says which clusters were left out; the command then ends with exit code 2.
fn report_unreachable(unreachable: &[String]) -> ExitCode {
    for u in unreachable {
        eprintln!("rekon: {u}");
    }
    if unreachable.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// Sends a command built around a reply channel and waits for the answer.
async fn ask<T>(
    engine: &EngineHandle,
    make: impl FnOnce(oneshot::Sender<Result<T, String>>) -> EngineCommand,
) -> Result<Result<T, String>> {
    let (tx, rx) = oneshot::channel();
    engine
        .commands()
        .send(make(tx))
        .await
        .map_err(|_| eyre!("the engine stopped"))?;
    rx.await
        .map_err(|_| eyre!("the engine stopped without answering"))
}

/// `rekon reconcile APP [--with-source]`.
pub async fn reconcile(global: &GlobalArgs, args: &ReconcileArgs) -> Result<ExitCode> {
    act(
        global,
        &args.app,
        Verb::Reconcile {
            with_source: args.with_source,
        },
    )
    .await
}

/// `rekon sync flux-ks:NS/NAME` (or `flux-hr:`): `rekon reconcile --with-source`, given up
/// after `timeout`.
pub async fn sync(global: &GlobalArgs, app: &str, timeout: Duration) -> Result<ExitCode> {
    act(global, app, Verb::Sync { timeout }).await
}

/// `rekon suspend APP`.
pub async fn suspend(global: &GlobalArgs, app: &str) -> Result<ExitCode> {
    act(global, app, Verb::Suspend).await
}

/// `rekon resume APP`.
pub async fn resume(global: &GlobalArgs, app: &str) -> Result<ExitCode> {
    act(global, app, Verb::Resume).await
}

async fn act(global: &GlobalArgs, name: &str, verb: Verb) -> Result<ExitCode> {
    let r = flux_ref(name)?;
    let (engine, unreachable) = observe(global).await?;
    let snapshot = engine.current();
    let found: Vec<_> = snapshot.apps.iter().filter(|a| r.matches(a)).collect();
    let app = match found.as_slice() {
        [one] => *one,
        [] if unreachable.is_empty() => bail!("no Flux app named {r} in the connected clusters"),
        [] => bail!(
            "no Flux app named {r} in the clusters that answered ({})",
            unreachable.join("; ")
        ),
        many => bail!(
            "{r} is ambiguous: add @CLUSTER ({})",
            many.iter()
                .map(|a| app_ref_in_cluster(a))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let target = app_ref_in_cluster(app);
    let mut err = std::io::stderr().lock();
    let step = match verb {
        Verb::Reconcile { with_source: true } | Verb::Sync { .. } => {
            format!("► asking Flux to reconcile {target}, its source first")
        }
        other => format!("► asking Flux to {} {target}", other.word()),
    };
    writeln!(err, "{step}")?;
    if verb != Verb::Suspend {
        writeln!(err, "◎ waiting for Flux to report {target} Ready")?;
    }
    drop(err);
    let app = target.clone();
    let answer = match verb {
        Verb::Reconcile { with_source } => {
            ask(&engine, |reply| {
                EngineCommand::Observed(ObservedCommand::Reconcile {
                    app,
                    with_source,
                    reply: Some(reply),
                })
            })
            .await?
        }
        Verb::Sync { timeout } => {
            // The engine's sync of a Flux app is this reconcile; its reply is an operation.
            ask(&engine, |reply| EngineCommand::Sync {
                app,
                options: SyncOptions {
                    timeout_secs: Some(timeout.as_secs().max(1)),
                    ..SyncOptions::default()
                },
                initiated_by: crate::model::initiator(),
                reply: Some(reply),
            })
            .await?
            .map(|op| op.message)
        }
        Verb::Suspend => {
            ask(&engine, |reply| {
                EngineCommand::Observed(ObservedCommand::Suspend {
                    app,
                    reply: Some(reply),
                })
            })
            .await?
        }
        Verb::Resume => {
            ask(&engine, |reply| {
                EngineCommand::Observed(ObservedCommand::Resume {
                    app,
                    reply: Some(reply),
                })
            })
            .await?
        }
    };
    let report = answer.map_err(|why| eyre!("could not {} {target}: {why}", verb.word()))?;
    let mut out = std::io::stdout().lock();
    match verb {
        Verb::Suspend => writeln!(out, "✔ {target} suspended")?,
        _ => writeln!(out, "✔ {} {target}: {}", verb.past(), one_line(&report))?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `rekon graph [-o text|json]`.
pub async fn graph(global: &GlobalArgs) -> Result<ExitCode> {
    let format = output_format(
        global,
        OutputFormat::Text,
        &[OutputFormat::Text, OutputFormat::Json],
        "graph",
    )?;
    let (engine, unreachable) = observe(global).await?;
    let graphs: Vec<FluxGraph> = ask(&engine, |reply| {
        EngineCommand::Observed(ObservedCommand::FluxGraph { reply })
    })
    .await?
    .map_err(|e| eyre!("the Flux graph: {e}"))?;
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&graphs)?)?,
        _ if graphs.is_empty() => writeln!(out, "no Flux objects in the connected clusters")?,
        _ => {
            for (i, g) in graphs.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                write!(out, "{}", render_text(g))?;
            }
        }
    }
    out.flush()?;
    Ok(report_unreachable(&unreachable))
}

/// `rekon images [-o table|json]`.
pub async fn images(global: &GlobalArgs) -> Result<ExitCode> {
    let format = output_format(
        global,
        OutputFormat::Table,
        &[OutputFormat::Table, OutputFormat::Json],
        "images",
    )?;
    let (engine, unreachable) = observe(global).await?;
    let policies: Vec<PolicyImages> = ask(&engine, |reply| {
        EngineCommand::Observed(ObservedCommand::Images { reply })
    })
    .await?
    .map_err(|e| eyre!("the image policies: {e}"))?;
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&policies)?)?,
        _ if policies.is_empty() => {
            writeln!(out, "no ImagePolicy in the connected clusters")?;
        }
        _ => write!(out, "{}", images_table(&policies))?,
    }
    out.flush()?;
    Ok(report_unreachable(&unreachable))
}

/// The `images` table: one row per workload container following a policy (a policy no
/// workload follows gets one row of its own).
pub fn images_table(policies: &[PolicyImages]) -> String {
    let header = [
        "CLUSTER",
        "POLICY",
        "IMAGE",
        "LATEST",
        "WORKLOAD",
        "CONTAINER",
        "RUNNING",
        "STATUS",
    ];
    let mut rows: Vec<[String; 8]> = Vec::new();
    for p in policies {
        let policy = format!("{}/{}", p.policy.namespace, p.policy.name);
        let latest = if p.latest_tag.is_empty() {
            "-".to_string()
        } else {
            p.latest_tag.clone()
        };
        if p.workloads.is_empty() {
            rows.push([
                p.cluster.clone(),
                policy.clone(),
                p.image.clone(),
                latest.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "no workload runs it".into(),
            ]);
        }
        for w in &p.workloads {
            rows.push([
                p.cluster.clone(),
                policy.clone(),
                p.image.clone(),
                latest.clone(),
                format!(
                    "{}/{}/{}",
                    w.workload.kind, w.workload.namespace, w.workload.name
                ),
                w.container.clone(),
                w.tag.clone(),
                if w.behind { "behind" } else { "current" }.into(),
            ]);
        }
    }
    super::table::table(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrations::images::WorkloadImage;
    use crate::model::ResourceKey;

    #[test]
    fn only_flux_names_are_taken() {
        assert!(flux_ref("flux-ks:flux-system/apps").is_ok());
        assert!(flux_ref("flux-hr:cache/redis@prod").is_ok());
        let argo = flux_ref("argocd:argocd/edge").unwrap_err().to_string();
        assert!(argo.contains("is an Argo CD Application"), "{argo}");
        let plain = flux_ref("apps").unwrap_err().to_string();
        assert!(plain.contains("does not name a Flux app"), "{plain}");
    }

    #[test]
    fn images_table_flags_workloads_behind() {
        let p = PolicyImages {
            cluster: "prod".into(),
            policy: ResourceKey::new(
                "image.toolkit.fluxcd.io",
                "ImagePolicy",
                "flux-system",
                "web",
            ),
            image: "ghcr.io/acme/web".into(),
            latest_tag: "1.4.0".into(),
            workloads: vec![WorkloadImage {
                workload: ResourceKey::new("apps", "Deployment", "shop", "web"),
                container: "web".into(),
                image: "ghcr.io/acme/web:1.3.9".into(),
                tag: "1.3.9".into(),
                behind: true,
            }],
        };
        let idle = PolicyImages {
            workloads: vec![],
            policy: ResourceKey::new(
                "image.toolkit.fluxcd.io",
                "ImagePolicy",
                "flux-system",
                "api",
            ),
            ..p.clone()
        };
        assert_eq!(
            images_table(&[p, idle]),
            "CLUSTER  POLICY           IMAGE             LATEST  WORKLOAD             CONTAINER  RUNNING  STATUS\n\
             prod     flux-system/web  ghcr.io/acme/web  1.4.0   Deployment/shop/web  web        1.3.9    behind\n\
             prod     flux-system/api  ghcr.io/acme/web  1.4.0   -                    -          -        no workload runs it\n"
        );
    }
}
