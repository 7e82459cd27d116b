//! `rekon emulate`: the emulated cluster served over HTTP until SIGINT or SIGTERM.

use std::io::Write;

use color_eyre::eyre::WrapErr;

use super::{Cluster, ClusterOptions};
use crate::cli::EmulateArgs;

/// Runs `rekon emulate`: prints the ready line once listening, writes the kubeconfig when
/// asked, and stops cleanly on SIGINT or SIGTERM.
pub async fn run_emulate(args: &EmulateArgs) -> color_eyre::Result<()> {
    let options = ClusterOptions {
        listen: Some(args.listen),
        speed: args.speed,
        ..ClusterOptions::default()
    };
    let cluster = Cluster::start(options)
        .await
        .wrap_err_with(|| format!("--listen {}", args.listen))?;
    let url = cluster
        .url()
        .ok_or_else(|| color_eyre::eyre::eyre!("the emulator is not listening"))?;
    if let Some(path) = &args.kubeconfig_out {
        cluster
            .write_kubeconfig(path, "rekon-emulator")
            .wrap_err("--kubeconfig-out")?;
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "rekon: Kubernetes API emulator listening on {url}").wrap_err("stdout")?;
    out.flush().wrap_err("stdout")?;
    drop(out);
    wait_for_signal().await?;
    cluster.stop().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> color_eyre::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).wrap_err("cannot watch SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).wrap_err("cannot watch SIGINT")?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> color_eyre::Result<()> {
    tokio::signal::ctrl_c()
        .await
        .wrap_err("cannot watch Ctrl-C")
}
