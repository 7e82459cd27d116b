//! Command-line definitions and the headless commands.

pub mod flux;
pub mod headless;
pub mod interactive;
pub mod observed_sync;
pub mod output;
pub mod run;
pub mod session;
pub mod sync;
pub mod sync_args;
pub mod sync_steps;
pub mod table;

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
    /// The TUI's options; given before a command, they count for that command when it has
    /// them (`rekon --server URL --apps DIR status`).
    #[command(flatten)]
    pub top: TopArgs,
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
            None | Some(Command::Demo { .. } | Command::Emulate(_) | Command::Run { .. })
        )
    }

    /// The options the command runs with: its own, and those given before it. Those given
    /// before it count where the command has them and are ignored where it has none, as a
    /// shell alias such as `rekon --context prod --apps ~/apps` is meant for every command.
    pub fn global(&self) -> GlobalArgs {
        let groups = match &self.command {
            None => Groups {
                tui: true,
                clusters: Some(&self.top.clusters),
                apps: Some(&self.top.apps),
                read_only: Some(&self.top.read_only),
                theme: Some(&self.top.theme),
                notify: Some(&self.top.notify),
                ..Groups::default()
            },
            Some(c) => c.groups(),
        };
        groups.merge(&self.top)
    }
}

/// The TUI's options, which may also stand before a command.
#[derive(Debug, Clone, Default, Args)]
pub struct TopArgs {
    /// Which clusters to talk to.
    #[command(flatten)]
    pub clusters: ClusterArgs,
    /// Where the apps are.
    #[command(flatten)]
    pub apps: AppsArgs,
    /// Whether changes are refused.
    #[command(flatten)]
    pub read_only: ReadOnlyArgs,
    /// The colour theme.
    #[command(flatten)]
    pub theme: ThemeArgs,
    /// Webhooks to tell of changes.
    #[command(flatten)]
    pub notify: NotifyArgs,
    /// In the TUI, auto-sync and self-heal the apps whose syncPolicy asks for it (as `rekon run` does)
    #[arg(long)]
    pub auto: bool,
}

/// Which clusters to talk to, and how patiently.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterArgs {
    /// Kubeconfig file [default: $KUBECONFIG, then ~/.kube/config]
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use; repeat it to watch several clusters at once
    /// [default: the current context]
    #[arg(long = "context", value_name = "NAME")]
    pub contexts: Vec<String>,
    /// Talk to this API server directly, without auth (the embedded one, a kubectl proxy)
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Give up a request to a cluster that has not answered after this long (reads and
    /// server-side applies are retried a few times first) [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub request_timeout: Option<String>,
}

/// Where the Application documents are, and whether their Git remotes may be contacted.
#[derive(Debug, Clone, Default, Args)]
pub struct AppsArgs {
    /// A file or folder of Argo CD Application YAML documents; repeatable
    #[arg(long = "apps", value_name = "PATH")]
    pub apps: Vec<PathBuf>,
    /// Do not contact Git remotes: resolve revisions in the cached clones as they are
    /// (JSON says "revisionSource": "cache"); a repository never cloned is an error
    #[arg(long)]
    pub offline: bool,
}

/// Whether changes are refused.
#[derive(Debug, Clone, Default, Args)]
pub struct ReadOnlyArgs {
    /// Refuse every change to the cluster and to Git
    #[arg(long)]
    pub read_only: bool,
}

/// How a headless command prints.
#[derive(Debug, Clone, Default, Args)]
pub struct OutputArgs {
    /// Output format
    #[arg(short, long, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
}

/// The colour theme of a screen.
#[derive(Debug, Clone, Default, Args)]
pub struct ThemeArgs {
    /// Colour theme: dark, light, high-contrast, or one from your config folder
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
}

/// Webhooks told of changes.
#[derive(Debug, Clone, Default, Args)]
pub struct NotifyArgs {
    /// Post a JSON message (Slack-compatible) to this URL when an app changes sync or health
    /// state or a sync ends; repeatable, added to the config's `notify` list
    #[arg(long = "notify", value_name = "URL")]
    pub notify: Vec<String>,
}

/// The options a command runs with, whichever group they came from.
#[derive(Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Kubeconfig file; `None` means $KUBECONFIG, then ~/.kube/config.
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig contexts; empty means the current context.
    pub contexts: Vec<String>,
    /// An API server to talk to directly, without auth.
    pub server: Option<String>,
    /// Files or folders of Application YAML documents.
    pub apps: Vec<PathBuf>,
    /// Never contact Git remotes; resolve in the cached clones.
    pub offline: bool,
    /// Refuse every change to the cluster and to Git.
    pub read_only: bool,
    /// How long a request may go unanswered, as given (e.g. `30s`).
    pub request_timeout: Option<String>,
    /// The colour theme's name.
    pub theme: Option<String>,
    /// Output format of headless commands.
    pub output: Option<OutputFormat>,
    /// Webhook URLs to notify.
    pub notify: Vec<String>,
    /// The TUI auto-syncs the apps that ask for it.
    pub auto: bool,
}

/// The option groups one command has; `None` where it has no use for a group.
#[derive(Debug, Default)]
struct Groups<'a> {
    tui: bool,
    clusters: Option<&'a ClusterArgs>,
    apps: Option<&'a AppsArgs>,
    read_only: Option<&'a ReadOnlyArgs>,
    output: Option<&'a OutputArgs>,
    theme: Option<&'a ThemeArgs>,
    notify: Option<&'a NotifyArgs>,
}

impl Groups<'_> {
    /// Joins the command's groups with the options given before it: a command's own value
    /// wins over one given before it, lists add up.
    fn merge(self, top: &TopArgs) -> GlobalArgs {
        let mut out = GlobalArgs::default();
        if let Some(c) = self.clusters {
            let tc = &top.clusters;
            out.kubeconfig = c.kubeconfig.clone().or_else(|| tc.kubeconfig.clone());
            out.contexts = tc.contexts.iter().chain(&c.contexts).cloned().collect();
            out.server = c.server.clone().or_else(|| tc.server.clone());
            out.request_timeout =
                (c.request_timeout.clone()).or_else(|| tc.request_timeout.clone());
        }
        if let Some(a) = self.apps {
            out.apps = top.apps.apps.iter().chain(&a.apps).cloned().collect();
            out.offline = a.offline || top.apps.offline;
        }
        if let Some(r) = self.read_only {
            out.read_only = r.read_only || top.read_only.read_only;
        }
        if let Some(t) = self.theme {
            out.theme = t.theme.clone().or_else(|| top.theme.theme.clone());
        }
        if let Some(n) = self.notify {
            out.notify = top.notify.notify.iter().chain(&n.notify).cloned().collect();
        }
        out.output = self.output.and_then(|o| o.output);
        out.auto = self.tui && top.auto;
        out
    }
}

/// The options of a command about rekon's apps: clusters, app files, read-only, output.
#[derive(Debug, Clone, Default, Args)]
pub struct AppCommandArgs {
    /// Which clusters to talk to.
    #[command(flatten)]
    pub clusters: ClusterArgs,
    /// Where the apps are.
    #[command(flatten)]
    pub apps: AppsArgs,
    /// Whether changes are refused.
    #[command(flatten)]
    pub read_only: ReadOnlyArgs,
    /// How it prints.
    #[command(flatten)]
    pub output: OutputArgs,
}

impl AppCommandArgs {
    fn groups(&self) -> Groups<'_> {
        Groups {
            clusters: Some(&self.clusters),
            apps: Some(&self.apps),
            read_only: Some(&self.read_only),
            output: Some(&self.output),
            ..Groups::default()
        }
    }
}

/// The options of a command about the Flux objects of the clusters.
#[derive(Debug, Clone, Default, Args)]
pub struct FluxCommandArgs {
    /// Which clusters to talk to.
    #[command(flatten)]
    pub clusters: ClusterArgs,
    /// Whether changes are refused.
    #[command(flatten)]
    pub read_only: ReadOnlyArgs,
}

impl FluxCommandArgs {
    fn groups(&self) -> Groups<'_> {
        Groups {
            clusters: Some(&self.clusters),
            read_only: Some(&self.read_only),
            ..Groups::default()
        }
    }
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
    Demo {
        #[command(flatten)]
        args: DemoArgs,
        #[command(flatten)]
        read_only: ReadOnlyArgs,
        #[command(flatten)]
        theme: ThemeArgs,
        #[command(flatten)]
        notify: NotifyArgs,
    },
    /// Serve the embedded Kubernetes API over HTTP (for kubectl, tests and trials)
    Emulate(EmulateArgs),
    /// One row per app: sync, health, revision and message (exit 2 if an app cannot be compared)
    Status {
        /// Apps to show, as NAME or NAMESPACE/NAME [default: all]
        #[arg(value_name = "APP")]
        names: Vec<String>,
        #[command(flatten)]
        common: AppCommandArgs,
    },
    /// An app's topology: the app, its resources and their live children
    Tree {
        /// NAME or NAMESPACE/NAME; or argocd:, flux-ks:, flux-hr:NAMESPACE/NAME (the
        /// resources Argo CD or Flux reports, and their live children)
        #[arg(value_name = "APP")]
        app: String,
        #[command(flatten)]
        common: AppCommandArgs,
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
        #[command(flatten)]
        common: AppCommandArgs,
    },
    /// The app's rendered desired objects (Secret values masked); needs no cluster
    Manifests {
        /// NAME or NAMESPACE/NAME
        #[arg(value_name = "APP")]
        app: String,
        /// Render this branch, tag or commit instead of the app's targetRevision
        #[arg(long, value_name = "REV")]
        revision: Option<String>,
        #[command(flatten)]
        apps: AppsArgs,
        #[command(flatten)]
        read_only: ReadOnlyArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Sync an app now: hooks and waves in order, waiting for health between waves; prints
    /// progress, then every step (exit 0 when it succeeded, 2 when it failed). An argocd: app
    /// is synced by Argo CD (its operation field), a flux-ks:/flux-hr: app reconciled by Flux
    Sync {
        #[command(flatten)]
        args: sync_args::SyncArgs,
        #[command(flatten)]
        common: AppCommandArgs,
    },
    /// The app's recorded syncs, newest first (kept in the cluster, ConfigMap
    /// rekon-history.APP in the app's namespace; for argocd:NAMESPACE/NAME, the
    /// Application's status.history)
    History {
        /// NAME or NAMESPACE/NAME, or argocd:NAMESPACE/NAME
        #[arg(value_name = "APP")]
        app: String,
        #[command(flatten)]
        common: AppCommandArgs,
    },
    /// Sync the revision of an earlier history entry (refused while the app auto-syncs)
    Rollback {
        #[command(flatten)]
        args: sync_args::RollbackArgs,
        #[command(flatten)]
        common: AppCommandArgs,
    },
    /// Headless reconcile loop: refresh Git, auto-sync and self-heal the apps whose
    /// syncPolicy.automated asks for it; logs one line per event; stops on SIGINT/SIGTERM
    Run {
        #[command(flatten)]
        args: run::RunArgs,
        #[command(flatten)]
        clusters: ClusterArgs,
        #[command(flatten)]
        apps: AppsArgs,
        #[command(flatten)]
        read_only: ReadOnlyArgs,
        #[command(flatten)]
        notify: NotifyArgs,
    },
    /// Ask Flux to reconcile a Kustomization or HelmRelease now, as `flux reconcile` does,
    /// and wait until it reports Ready (refused while it is suspended)
    Reconcile {
        #[command(flatten)]
        args: flux::ReconcileArgs,
        #[command(flatten)]
        flux: FluxCommandArgs,
    },
    /// Suspend a Flux Kustomization or HelmRelease: Flux stops reconciling it
    Suspend {
        /// flux-ks:NAMESPACE/NAME or flux-hr:NAMESPACE/NAME
        #[arg(value_name = "APP")]
        app: String,
        #[command(flatten)]
        flux: FluxCommandArgs,
    },
    /// Resume a suspended Flux Kustomization or HelmRelease and wait until it reports Ready
    Resume {
        /// flux-ks:NAMESPACE/NAME or flux-hr:NAMESPACE/NAME
        #[arg(value_name = "APP")]
        app: String,
        #[command(flatten)]
        flux: FluxCommandArgs,
    },
    /// The Flux graph of every cluster: sources, Kustomizations and HelmReleases, dependsOn
    /// and inventories, missing references and dependency cycles (-o text|json)
    Graph {
        #[command(flatten)]
        flux: FluxCommandArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Image automation at a glance: each ImagePolicy's latest tag against the tags the
    /// workloads run, those behind flagged (-o table|json)
    Images {
        #[command(flatten)]
        flux: FluxCommandArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
}

impl Command {
    /// The option groups the command has.
    fn groups(&self) -> Groups<'_> {
        match self {
            Command::Demo {
                read_only,
                theme,
                notify,
                ..
            } => Groups {
                read_only: Some(read_only),
                theme: Some(theme),
                notify: Some(notify),
                ..Groups::default()
            },
            Command::Emulate(_) => Groups::default(),
            Command::Status { common, .. }
            | Command::Tree { common, .. }
            | Command::Diff { common, .. }
            | Command::Sync { common, .. }
            | Command::History { common, .. }
            | Command::Rollback { common, .. } => common.groups(),
            Command::Manifests {
                apps,
                read_only,
                output,
                ..
            } => Groups {
                apps: Some(apps),
                read_only: Some(read_only),
                output: Some(output),
                ..Groups::default()
            },
            Command::Run {
                clusters,
                apps,
                read_only,
                notify,
                ..
            } => Groups {
                clusters: Some(clusters),
                apps: Some(apps),
                read_only: Some(read_only),
                notify: Some(notify),
                ..Groups::default()
            },
            Command::Reconcile { flux, .. }
            | Command::Suspend { flux, .. }
            | Command::Resume { flux, .. } => flux.groups(),
            Command::Graph { flux, output } | Command::Images { flux, output } => Groups {
                output: Some(output),
                ..flux.groups()
            },
        }
    }
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
    /// Run simulated time this many times faster (rollouts, jobs, restarts); timestamps
    /// written into objects keep the machine's time
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

impl EmulateArgs {
    /// The emulator's own options, so the emulator needs nothing from the command line.
    pub fn serve_options(&self) -> rekon_emulator::ServeOptions {
        rekon_emulator::ServeOptions {
            listen: self.listen,
            kubeconfig_out: self.kubeconfig_out.clone(),
            speed: self.speed,
            faults: self.faults.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn global(args: &[&str]) -> GlobalArgs {
        Cli::try_parse_from(args).unwrap().global()
    }

    #[test]
    fn options_count_before_and_after_the_command() {
        let g = global(&[
            "rekon",
            "--server",
            "http://a",
            "--context",
            "x",
            "sync",
            "shop",
            "--context",
            "y",
            "--apps",
            "apps/",
            "-o",
            "json",
        ]);
        assert_eq!(g.server.as_deref(), Some("http://a"));
        assert_eq!(g.contexts, ["x", "y"]);
        assert_eq!(g.apps, [PathBuf::from("apps/")]);
        assert_eq!(g.output, Some(OutputFormat::Json));
        // The command's own value wins over one given before it.
        let g = global(&[
            "rekon", "--server", "http://a", "status", "--server", "http://b",
        ]);
        assert_eq!(g.server.as_deref(), Some("http://b"));
        let g = global(&["rekon", "--apps", "a", "--theme", "light", "--auto"]);
        assert!(g.auto);
        assert_eq!(g.theme.as_deref(), Some("light"));
    }

    #[test]
    fn options_a_command_does_not_use_are_refused_after_it_and_ignored_before_it() {
        for args in [
            &["rekon", "emulate", "--context", "a"][..],
            &["rekon", "emulate", "--apps", "a"],
            &["rekon", "manifests", "x", "--server", "u"],
            &["rekon", "graph", "--apps", "a"],
            &["rekon", "status", "--theme", "light"],
        ] {
            let err = Cli::try_parse_from(args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{args:?}"
            );
        }
        // A shell alias's options stand before every command: unused ones are ignored.
        let g = global(&[
            "rekon",
            "--server",
            "u",
            "--apps",
            "a",
            "--theme",
            "t",
            "manifests",
            "x",
        ]);
        assert_eq!(g.server, None);
        assert_eq!(g.theme, None);
        assert_eq!(g.apps, [PathBuf::from("a")]);
        assert!(!global(&["rekon", "--auto", "demo"]).auto);
        assert!(global(&["rekon", "--read-only", "status"]).read_only);
    }

    /// Each command's help lists exactly the options it uses.
    #[test]
    fn each_command_lists_only_its_own_options() {
        let clusters = ["--kubeconfig", "--context", "--server", "--request-timeout"];
        let expected: &[(&str, &[&str])] = &[
            (
                "demo",
                &["--repo-dir", "--auto", "--read-only", "--theme", "--notify"],
            ),
            (
                "emulate",
                &["--listen", "--kubeconfig-out", "--speed", "--faults"],
            ),
            (
                "status",
                &["C", "--apps", "--offline", "--read-only", "--output"],
            ),
            (
                "tree",
                &["C", "--apps", "--offline", "--read-only", "--output"],
            ),
            (
                "diff",
                &[
                    "--revision",
                    "C",
                    "--apps",
                    "--offline",
                    "--read-only",
                    "--output",
                ],
            ),
            (
                "manifests",
                &[
                    "--revision",
                    "--apps",
                    "--offline",
                    "--read-only",
                    "--output",
                ],
            ),
            (
                "history",
                &["C", "--apps", "--offline", "--read-only", "--output"],
            ),
            (
                "run",
                &[
                    "--refresh",
                    "C",
                    "--apps",
                    "--offline",
                    "--read-only",
                    "--notify",
                ],
            ),
            ("reconcile", &["--with-source", "C", "--read-only"]),
            ("suspend", &["C", "--read-only"]),
            ("resume", &["C", "--read-only"]),
            ("graph", &["C", "--read-only", "--output"]),
            ("images", &["C", "--read-only", "--output"]),
        ];
        let root = Cli::command();
        for (name, options) in expected {
            let want: Vec<&str> = options
                .iter()
                .flat_map(|o| {
                    if *o == "C" {
                        clusters.to_vec()
                    } else {
                        vec![*o]
                    }
                })
                .chain(["--help", "--version"])
                .collect();
            let sub = root.find_subcommand(name).unwrap();
            let mut have: Vec<String> = sub
                .get_arguments()
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .collect();
            have.extend(["--help".into(), "--version".into()]);
            let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            have.sort();
            have.dedup();
            want.sort();
            assert_eq!(have, want, "options of `rekon {name}`");
        }
        // sync and rollback: their own options beside clusters, apps, read-only and output.
        for name in ["sync", "rollback"] {
            let sub = root.find_subcommand(name).unwrap();
            let longs: Vec<&str> = sub.get_arguments().filter_map(|a| a.get_long()).collect();
            for o in ["server", "apps", "read-only", "output"] {
                assert!(longs.contains(&o), "rekon {name} lacks --{o}");
            }
            for o in ["theme", "notify", "listen"] {
                assert!(!longs.contains(&o), "rekon {name} lists --{o}");
            }
        }
    }
}
