//! What every command that looks at apps starts from: the Applications named by `--apps`,
//! the clusters named by `--context`/`--server`, and the engine over both.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use color_eyre::eyre::{Result, bail, eyre};

use super::GlobalArgs;
use crate::cluster::{self, ClusterHandle};
use crate::integrations::appset::{self, ApplicationSet, ClusterInfo, GeneratorContext};
use crate::integrations::project::AppProject;
use crate::model::Application;
use crate::runtime::{self, EngineHandle, EngineOptions};
use crate::source::Sources;

/// Apps loaded from `--apps`, and the files that could not be read (each one line naming
/// the file and line), so one broken file never hides the others.
#[derive(Debug, Default)]
pub struct LoadedApps {
    /// Every Application read.
    pub apps: Vec<Application>,
    /// One message per broken file.
    pub errors: Vec<String>,
    /// AppProjects found in the files: their rules apply to the apps naming them.
    pub projects: Vec<AppProject>,
    /// ApplicationSets found in the files, expanded by [`expand_appsets`] once the clusters
    /// are known.
    pub appsets: Vec<ApplicationSet>,
}

/// The apps of `--apps`, refusing to go on when none are given (the error starts with
/// `none_given`) or none could be read.
pub fn require_apps(global: &GlobalArgs, none_given: &str) -> Result<LoadedApps> {
    if global.apps.is_empty() {
        bail!("{none_given}: pass --apps PATH (a file or folder of Argo CD Application YAML)");
    }
    let loaded = load_apps(&global.apps);
    if loaded.apps.is_empty() {
        match loaded.errors.first() {
            Some(e) => bail!("{e}"),
            None => bail!("no Application documents found in --apps"),
        }
    }
    Ok(loaded)
}

/// Reads every Application from the `--apps` paths: files, or folders of `.yaml`/`.yml`/
/// `.json` files. A missing path or a broken document is reported and skipped.
pub fn load_apps(paths: &[PathBuf]) -> LoadedApps {
    let mut out = LoadedApps::default();
    for path in paths {
        let files = match files_of(path) {
            Ok(f) => f,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        for file in files {
            match Application::load_path(&file) {
                Ok(apps) => out.apps.extend(apps),
                Err(e) => out.errors.push(e.to_string()),
            }
            // AppProjects and ApplicationSets may sit in the same files.
            if let Ok(text) = std::fs::read_to_string(&file) {
                let origin = file.display().to_string();
                match AppProject::parse_all(&text, &origin) {
                    Ok(p) => out.projects.extend(p),
                    Err(e) => out.errors.push(e),
                }
                match ApplicationSet::parse_all(&text, &origin) {
                    Ok(s) => out.appsets.extend(s),
                    Err(e) => out.errors.push(e),
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    let mut duplicates = Vec::new();
    out.apps.retain(|a| {
        let fresh = seen.insert(a.qualified_name());
        if !fresh {
            duplicates.push(format!(
                "Application {} is defined more than once; the first definition is used",
                a.qualified_name()
            ));
        }
        fresh
    });
    out.errors.extend(duplicates);
    out
}

fn files_of(path: &Path) -> std::result::Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("--apps {}: {e}", path.display()))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let entries = std::fs::read_dir(path).map_err(|e| format!("--apps {}: {e}", path.display()))?;
    for entry in entries.flatten() {
        let p = entry.path();
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        if p.is_file() && matches!(ext, "yaml" | "yml" | "json") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// Picks the apps a command names: `NAME` or `NAMESPACE/NAME`; all when none are named.
pub fn select<'a>(apps: &'a [Application], names: &[String]) -> Result<Vec<&'a Application>> {
    if names.is_empty() {
        return Ok(apps.iter().collect());
    }
    names.iter().map(|n| find(apps, n)).collect()
}

/// The one app `name` (`NAME` or `NAMESPACE/NAME`) names.
pub fn find<'a>(apps: &'a [Application], name: &str) -> Result<&'a Application> {
    let matches: Vec<&Application> = apps
        .iter()
        .filter(|a| match name.split_once('/') {
            Some((ns, n)) => a.namespace() == ns && a.metadata.name == n,
            None => a.metadata.name == name,
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => {
            let known: Vec<String> = apps.iter().map(|a| a.qualified_name()).collect();
            if known.is_empty() {
                bail!("no app named {name:?}: no Applications were loaded (pass --apps PATH)")
            }
            bail!("no app named {name:?} (known: {})", known.join(", "))
        }
        many => {
            let names: Vec<String> = many.iter().map(|a| a.qualified_name()).collect();
            bail!(
                "app name {name:?} is ambiguous: use NAMESPACE/NAME ({})",
                names.join(", ")
            )
        }
    }
}

/// Connects to the clusters the flags name: `--server`, else the `--context`s (or the
/// current context).
pub async fn connect(global: &GlobalArgs) -> Result<Vec<ClusterHandle>> {
    let limits = request_limits(global)?;
    if let Some(server) = &global.server {
        if !global.contexts.is_empty() {
            bail!("--server and --context cannot be used together");
        }
        return Ok(vec![cluster::connect_server_with(server, limits)?]);
    }
    Ok(
        cluster::connect_contexts_with(global.kubeconfig.as_deref(), &global.contexts, limits)
            .await?,
    )
}

/// The request limits `--request-timeout` asks for.
pub fn request_limits(global: &GlobalArgs) -> Result<cluster::Resilience> {
    let mut limits = cluster::Resilience::default();
    if let Some(text) = &global.request_timeout {
        let d = crate::model::parse_duration(text, "--request-timeout")?;
        if d.is_zero() {
            bail!("--request-timeout {text} must be longer than zero");
        }
        limits.request_timeout = d;
    }
    Ok(limits)
}

/// Git access with clones kept in the user's cache folder, for a command that prints: a
/// remote that cannot be reached (its cached clone used instead) is told on stderr, once
/// per repository and check. `--offline` never contacts a remote.
pub fn sources(global: &GlobalArgs) -> Result<Arc<Sources>> {
    let sources = cached_sources(global)?.on_cache_fallback(|fallback| {
        // `rekon run` logs through tracing; every other command prints plain lines.
        if tracing::dispatcher::has_been_set() {
            tracing::warn!("{fallback}");
        } else {
            eprintln!("rekon: {fallback}");
        }
    });
    Ok(Arc::new(sources))
}

/// Git access for the TUI: a fallback to the cache reaches the screen through the
/// snapshots only (stderr is the screen).
pub fn quiet_sources(global: &GlobalArgs) -> Result<Arc<Sources>> {
    Ok(Arc::new(cached_sources(global)?))
}

fn cached_sources(global: &GlobalArgs) -> Result<Sources> {
    let dirs = directories::ProjectDirs::from("dev", "rekon", "rekon")
        .ok_or_else(|| eyre!("cannot find a home folder for rekon's Git cache"))?;
    Ok(Sources::new(dirs.cache_dir().join("repos")).offline(global.offline))
}

/// How long-running the engine is: a one-shot comparison, or a session that fetches Git
/// periodically and may auto-sync.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mode {
    /// Run auto-sync and self-heal for apps whose syncPolicy asks for it.
    pub auto_sync: bool,
    /// Fetch Git this often.
    pub refresh_every: Option<std::time::Duration>,
    /// The command never shows an app's tree: snapshots keep only its root (less memory).
    pub skip_trees: bool,
}

/// How often an interactive session fetches Git (Argo CD's default reconciliation period).
pub const INTERACTIVE_REFRESH: std::time::Duration = std::time::Duration::from_secs(180);

/// Starts the engine for `apps` on `clusters`.
pub fn start_engine(
    apps: Vec<Application>,
    clusters: Vec<ClusterHandle>,
    sources: Arc<Sources>,
    read_only: bool,
    mode: Mode,
) -> EngineHandle {
    start_engine_with_projects(apps, Vec::new(), clusters, sources, read_only, mode)
}

/// Starts the engine for `apps` on `clusters`, enforcing `projects`.
pub fn start_engine_with_projects(
    apps: Vec<Application>,
    projects: Vec<AppProject>,
    clusters: Vec<ClusterHandle>,
    sources: Arc<Sources>,
    read_only: bool,
    mode: Mode,
) -> EngineHandle {
    runtime::start(EngineOptions {
        apps,
        clusters,
        sources,
        read_only,
        config_ignore: Vec::new(),
        projects,
        refresh_every: mode.refresh_every,
        auto_sync: mode.auto_sync,
        skip_trees: mode.skip_trees,
    })
}

/// What the generators see: the connected clusters and the Git repositories.
struct Generators {
    clusters: Vec<ClusterInfo>,
    sources: Arc<Sources>,
}

impl GeneratorContext for Generators {
    fn clusters(&self) -> Vec<ClusterInfo> {
        self.clusters.clone()
    }

    fn directories(
        &self,
        repo_url: &str,
        revision: &str,
    ) -> std::result::Result<Vec<String>, String> {
        let commit = self
            .sources
            .resolve(repo_url, revision, false)
            .map_err(|e| e.to_string())?;
        self.sources
            .directories(repo_url, &commit)
            .map_err(|e| e.to_string())
    }
}

/// Expands the ApplicationSets of `loaded` into Applications (the Cluster generator offers
/// `clusters`); a broken ApplicationSet is reported in `errors` and skipped, and a
/// generated Application whose name is taken is reported and dropped.
pub async fn expand_appsets(
    loaded: &mut LoadedApps,
    clusters: &[ClusterHandle],
    sources: Arc<Sources>,
) {
    if loaded.appsets.is_empty() {
        return;
    }
    let ctx = Generators {
        clusters: clusters
            .iter()
            .map(|c| ClusterInfo {
                name: c.name.clone(),
                server: c.server.clone(),
                labels: Default::default(),
            })
            .collect(),
        sources,
    };
    let sets = loaded.appsets.clone();
    let expanded = tokio::task::spawn_blocking(move || {
        sets.iter()
            .map(|s| appset::expand(s, &ctx))
            .collect::<Vec<_>>()
    })
    .await;
    let Ok(expanded) = expanded else {
        loaded
            .errors
            .push("expanding ApplicationSets was interrupted".into());
        return;
    };
    for result in expanded {
        match result {
            Ok(apps) => {
                for app in apps {
                    if loaded
                        .apps
                        .iter()
                        .any(|a| a.qualified_name() == app.qualified_name())
                    {
                        loaded.errors.push(format!(
                            "Application {} generated by an ApplicationSet is already defined; the first definition is used",
                            app.qualified_name()
                        ));
                    } else {
                        loaded.apps.push(app);
                    }
                }
            }
            Err(e) => loaded.errors.push(e),
        }
    }
}
