//! The demo: a Git repository built from `assets/demo` and two embedded clusters
//! (`demo-staging`, `demo-prod`) seeded so every feature has something to show at once.

pub mod observed;
pub mod repo;
pub mod seed;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use color_eyre::eyre::{Result, WrapErr};

use crate::cluster::ClusterHandle;
use crate::model::Application;
use crate::source::Sources;
use rekon_emulator::{Cluster, ClusterOptions};
use repo::DemoRepo;

/// The demo's cluster names, as its Applications' `destination.name` use them.
pub const CLUSTERS: [&str; 2] = ["demo-staging", "demo-prod"];

/// A running demo: the repository, the embedded clusters and the apps pointing at them.
pub struct Demo {
    /// The built repository.
    pub repo: DemoRepo,
    /// The embedded clusters, in [`CLUSTERS`] order.
    pub clusters: Vec<Cluster>,
    /// Git access for the engine (clones of nothing: the repo is local).
    pub sources: Arc<Sources>,
    _workdir: Option<tempfile::TempDir>,
}

impl Demo {
    /// Builds the repository (in `repo_dir`, or a temporary folder removed on drop), starts
    /// the clusters with simulated time running `speed` times faster, and seeds them.
    pub async fn start(repo_dir: Option<&Path>, speed: f64) -> Result<Demo> {
        let (workdir, root): (Option<tempfile::TempDir>, PathBuf) = match repo_dir {
            Some(dir) => (None, dir.to_path_buf()),
            None => {
                let tmp = tempfile::Builder::new()
                    .prefix("rekon-demo-")
                    .tempdir()
                    .wrap_err("cannot create a temporary folder for the demo repository")?;
                let root = tmp.path().to_path_buf();
                (Some(tmp), root)
            }
        };
        let repo_path = root.join("gitops");
        let cache = root.join("cache");
        let built = {
            let path = repo_path.clone();
            tokio::task::spawn_blocking(move || repo::build(&path))
                .await
                .wrap_err("building the demo repository was interrupted")?
                .wrap_err_with(|| {
                    format!(
                        "cannot build the demo repository in {}",
                        repo_path.display()
                    )
                })?
        };
        let sources = Arc::new(Sources::new(cache));
        let mut clusters = Vec::new();
        for name in CLUSTERS {
            let cluster = Cluster::start(ClusterOptions {
                name: name.to_string(),
                speed,
                ..ClusterOptions::default()
            })
            .await
            .wrap_err_with(|| format!("cannot start the embedded cluster {name}"))?;
            clusters.push(cluster);
        }
        let demo = Demo {
            repo: built,
            clusters,
            sources,
            _workdir: workdir,
        };
        seed::seed(&demo).await?;
        Ok(demo)
    }

    /// The clusters as the engine sees them: one handle per context name.
    pub fn handles(&self) -> Vec<ClusterHandle> {
        self.clusters
            .iter()
            .map(|c| {
                crate::cluster::in_process(
                    c.name(),
                    &format!("embedded://{}", c.name()),
                    c.client(),
                    crate::cluster::Resilience::default(),
                )
            })
            .collect()
    }

    /// The demo's Applications.
    pub fn applications(&self) -> Vec<Application> {
        self.repo.applications.clone()
    }

    /// The cluster named `name`.
    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.clusters.iter().find(|c| c.name() == name)
    }
}
