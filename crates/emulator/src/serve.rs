//! `rekon emulate`: the emulated cluster served over HTTP until SIGINT or SIGTERM.

use std::io::Write;

use color_eyre::eyre::WrapErr;

use super::{Cluster, ClusterOptions};

/// What `rekon emulate` serves, and how (its flags, as the command line read them).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to listen on; port 0 picks a free port.
    pub listen: std::net::SocketAddr,
    /// Where to write a kubeconfig for the server.
    pub kubeconfig_out: Option<std::path::PathBuf>,
    /// Simulated time runs this many times faster.
    pub speed: f64,
    /// Faults to inject, as a `--faults` SPEC.
    pub faults: Option<String>,
}

/// Runs `rekon emulate`: prints the ready line once listening, writes the kubeconfig when
/// asked, and stops cleanly on SIGINT or SIGTERM.
pub async fn run_emulate(args: &ServeOptions) -> color_eyre::Result<()> {
    // Listen for signals before anything else, so a stop request is never lost.
    let signals = Signals::new()?;
    let options = ClusterOptions {
        listen: Some(args.listen),
        speed: args.speed,
        ..ClusterOptions::default()
    };
    // A SPEC with a typo should fail before anything listens.
    if let Some(spec) = &args.faults {
        super::FaultSpec::parse(spec).wrap_err("--faults")?;
    }
    let cluster = Cluster::start(options)
        .await
        .wrap_err_with(|| format!("--listen {}", args.listen))?;
    if let Some(spec) = &args.faults {
        cluster.set_faults(spec).wrap_err("--faults")?;
    }
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
    signals.wait().await;
    cluster.stop().await;
    Ok(())
}

/// SIGINT and SIGTERM (Ctrl-C elsewhere).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> color_eyre::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            term: signal(SignalKind::terminate()).wrap_err("cannot watch SIGTERM")?,
            int: signal(SignalKind::interrupt()).wrap_err("cannot watch SIGINT")?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> color_eyre::Result<Self> {
        Ok(Self {})
    }

    #[cfg(unix)]
    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }

    #[cfg(not(unix))]
    async fn wait(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}
