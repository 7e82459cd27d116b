//! Command-line definitions and the headless commands.

pub mod flux;
pub mod headless;
pub mod interactive;
pub mod observed_sync;
pub mod session;
pub mod sync;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// rekon: a terminal cockpit for GitOps on Kubernetes.
///
/// Shows every application's topology, live health and sync state, and the difference
/// between Git and the cluster. Run `rekon demo` to try it with no cluster at all.
#[derive(Debug, Parser)]
#[command(name = "rekon", version, about, long_about, propagate_version = true)]
pub struct Cli {
    /// Options that apply to every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// In the TUI, auto-sync and self-heal the apps whose syncPolicy asks for it (as `rekon run` does)
    #[arg(long)]
    pub auto: bool,
    /// What to do; with no command, rekon opens the TUI.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Whether this command stays up until the user quits: the TUI, the demo, the
    /// emulator and `rekon run`.
    pub fn runs_long(&self) -> bool {
        matches!(
            self.command,
            None | Some(Command::Demo(_) | Command::Emulate(_) | Command::Run(_))
        )
    }
}

/// Options shared by every command.
#[derive(Debug, Clone, Default, Args)]
pub struct GlobalArgs {
    /// Kubeconfig file [default: $KUBECONFIG, then ~/.kube/config]
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use; repeat it to watch several clusters at once
    /// [default: the current context]
    #[arg(long = "context", global = true, value_name = "NAME")]
    pub contexts: Vec<String>,
    /// Talk to this API server directly, without auth (the embedded one, a kubectl proxy)
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// A file or folder of Argo CD Application YAML documents; repeatable
    #[arg(long = "apps", global = true, value_name = "PATH")]
    pub apps: Vec<PathBuf>,
    /// Refuse every change to the cluster and to Git
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Give up a request to a cluster that has not answered after this long (reads and
    /// server-side applies are retried a few times first) [default: 30s]
    #[arg(long, global = true, value_name = "DURATION")]
    pub request_timeout: Option<String>,
    /// Colour theme: dark, light, high-contrast, or one from your config folder
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Output format of headless commands
    #[arg(short, long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Post a JSON message (Slack-compatible) to this URL when an app changes sync or health
    /// state or a sync ends; repeatable, added to the config's `notify` list
    #[arg(long = "notify", global = true, value_name = "URL")]
    pub notify: Vec<String>,
}

/// Output formats of the headless commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// JSON for scripts.
    Json,
    /// YAML for scripts.
    Yaml,
    /// Indented text (tree).
    Text,
    /// A unified diff (diff).
    Unified,
    /// Desired and live side by side (diff).
    Side,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the TUI on embedded clusters seeded with a demo Git repository (no cluster needed)
    Demo(DemoArgs),
    /// Serve the embedded Kubernetes API over HTTP (for kubectl, tests and trials)
    Emulate(EmulateArgs),
    /// One row per app: sync, health, revision and message (exit 2 if an app cannot be compared)
    Status {
        /// Apps to show, as NAME or NAMESPACE/NAME [default: all]
        #[arg(value_name = "APP")]
        names: Vec<String>,
    },
    /// An app's topology: the app, its resources and their live children
    Tree {
        /// NAME or NAMESPACE/NAME; or argocd:, flux-ks:, flux-hr:NAMESPACE/NAME (the
        /// resources Argo CD or Flux reports, and their live children)
        #[arg(value_name = "APP")]
        app: String,
    },
    /// Desired (Git) against live; exit 0 when equal, 1 when different, 2 on error
    Diff {
        /// NAME or NAMESPACE/NAME; or argocd:, flux-ks:, flux-hr:NAMESPACE/NAME (rekon
        /// renders the revision Argo CD or Flux synced last)
        #[arg(value_name = "APP")]
        app: String,
        /// Compare this branch, tag or commit instead of the app's targetRevision
        #[arg(long, value_name = "REV")]
        revision: Option<String>,
    },
    /// The app's rendered desired objects (Secret values masked); needs no cluster
    Manifests {
        /// NAME or NAMESPACE/NAME
        #[arg(value_name = "APP")]
        app: String,
        /// Render this branch, tag or commit instead of the app's targetRevision
        #[arg(long, value_name = "REV")]
        revision: Option<String>,
    },
    /// Sync an app now: hooks and waves in order, waiting for health between waves; prints
    /// progress, then every step (exit 0 when it succeeded, 2 when it failed). An argocd: app
    /// is synced by Argo CD (its operation field), a flux-ks:/flux-hr: app reconciled by Flux
    Sync(sync::SyncArgs),
    /// The app's recorded syncs, newest first (kept in the cluster, ConfigMap
    /// rekon-history.APP in the app's namespace; for argocd:NAMESPACE/NAME, the
    /// Application's status.history)
    History {
        /// NAME or NAMESPACE/NAME, or argocd:NAMESPACE/NAME
        #[arg(value_name = "APP")]
        app: String,
    },
    /// Sync the revision of an earlier history entry (refused while the app auto-syncs)
    Rollback(sync::RollbackArgs),
    /// Headless reconcile loop: refresh Git, auto-sync and self-heal the apps whose
    /// syncPolicy.automated asks for it; logs one line per event; stops on SIGINT/SIGTERM
    Run(sync::RunArgs),
    /// Ask Flux to reconcile a Kustomization or HelmRelease now, as `flux reconcile` does,
    /// and wait until it reports Ready (refused while it is suspended)
    Reconcile(flux::ReconcileArgs),
    /// Suspend a Flux Kustomization or HelmRelease: Flux stops reconciling it
    Suspend {
        /// flux-ks:NAMESPACE/NAME or flux-hr:NAMESPACE/NAME
        #[arg(value_name = "APP")]
        app: String,
    },
    /// Resume a suspended Flux Kustomization or HelmRelease and wait until it reports Ready
    Resume {
        /// flux-ks:NAMESPACE/NAME or flux-hr:NAMESPACE/NAME
        #[arg(value_name = "APP")]
        app: String,
    },
    /// The Flux graph of every cluster: sources, Kustomizations and HelmReleases, dependsOn
    /// and inventories, missing references and dependency cycles (-o text|json)
    Graph,
    /// Image automation at a glance: each ImagePolicy's latest tag against the tags the
    /// workloads run, those behind flagged (-o table|json)
    Images,
}

/// Options of `rekon demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Keep the demo Git repository in this folder instead of a temporary one
    #[arg(long, value_name = "DIR")]
    pub repo_dir: Option<PathBuf>,
    /// Auto-sync and self-heal the demo apps whose syncPolicy asks for it
    #[arg(long)]
    pub auto: bool,
}

/// Options of `rekon emulate`.
#[derive(Debug, Clone, Args)]
pub struct EmulateArgs {
    /// Address to listen on; port 0 picks a free port and prints it
    #[arg(long, default_value = "127.0.0.1:6550", value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// Write a kubeconfig for this server to FILE (then `kubectl --kubeconfig FILE` just works)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Run simulated time this many times faster (rollouts, jobs, restarts)
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub speed: f64,
    /// Misbehave on purpose, to see how clients cope. SPEC is a comma-separated list:
    /// drop-watches[=10s] (end every watch now, or every 10s);
    /// expire-watches[=30s] (end watches with a 410 Expired and forget the event log);
    /// error-rate=0.2[:503] (answer a share of requests with 500, or the code given);
    /// throttle-rate=0.1[:2s] (answer a share with 429 and Retry-After);
    /// latency=200ms (delay every request);
    /// hang=GLOB (requests whose path matches never answer; a plain path covers its sub-paths);
    /// down=5s (close the port and cut every connection for 5s);
    /// reject-token=TOKEN (answer 401 to that bearer token);
    /// forbid=RESOURCE[:VERB+VERB] (answer 403, e.g. forbid=secrets:list+watch);
    /// seed=N (seed of the random choices); none (all off).
    /// Change them while running with `PUT /rekon/faults` (same SPEC, or JSON); see them
    /// with `GET /rekon/faults`
    #[arg(long, value_name = "SPEC")]
    pub faults: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_parse_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "rekon",
            "emulate",
            "--listen",
            "127.0.0.1:0",
            "--context",
            "a",
            "--context",
            "b",
        ])
        .unwrap();
        assert_eq!(cli.global.contexts, ["a", "b"]);
        match cli.command {
            Some(Command::Emulate(args)) => assert_eq!(args.listen.port(), 0),
            other => panic!("unexpected {other:?}"),
        }
    }
}
