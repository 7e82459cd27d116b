//! Shared helpers for the engine tests: a fixture Git repository, an embedded cluster, the
//! engine over both, and waiting for a snapshot.

use std::sync::Arc;
use std::time::Duration;

use rekon::cluster::apply::{ApplyOptions, apply};
use rekon::cluster::{ApiCatalog, ClusterHandle};
use rekon::engine::{desired, tracking};
use rekon::model::{AppSnapshot, Application, Snapshot};
use rekon::runtime::{self, EngineHandle, EngineOptions};
use rekon::source::Sources;
use rekon_emulator::ClusterOptions;

use super::cluster::TestCluster;

use super::source::Fixture;

/// A fixture Git repository, an embedded cluster named `test` and a source cache.
pub struct World {
    pub fixture: Fixture,
    pub cluster: TestCluster,
    pub sources: Arc<Sources>,
    _cache: tempfile::TempDir,
}

impl World {
    pub async fn new() -> Option<World> {
        Self::with_speed(1.0).await
    }

    /// A world whose simulated controllers run `speed` times faster than real time.
    pub async fn with_speed(speed: f64) -> Option<World> {
        let fixture = Fixture::new()?;
        let cluster = TestCluster::start(ClusterOptions {
            name: "test".into(),
            speed,
            ..ClusterOptions::default()
        })
        .await;
        let cache = tempfile::tempdir().unwrap();
        let sources = Arc::new(Sources::new(cache.path().to_path_buf()));
        Some(World {
            fixture,
            cluster,
            sources,
            _cache: cache,
        })
    }

    pub fn handle(&self) -> ClusterHandle {
        self.cluster.handle()
    }

    pub fn app(&self, name: &str, path: &str, extra: &str) -> Application {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  source:\n    repoURL: {repo}\n    path: {path}\n  destination:\n    name: test\n    namespace: web\n{extra}",
            repo = self.fixture.path.display()
        );
        Application::parse_all(&text, "app.yaml").unwrap().remove(0)
    }

    pub fn engine(&self, apps: Vec<Application>) -> EngineHandle {
        self.engine_with(apps, false)
    }

    /// An engine whose snapshots keep only the root of each tree (as `rekon run` starts it).
    pub fn engine_with(&self, apps: Vec<Application>, skip_trees: bool) -> EngineHandle {
        runtime::start(EngineOptions {
            apps,
            clusters: vec![self.handle()],
            sources: self.sources.clone(),
            read_only: false,
            config_ignore: Vec::new(),
            refresh_every: None,
            projects: Vec::new(),
            auto_sync: false,
            skip_trees,
        })
    }

    /// Applies the app's rendered objects the way a sync would (tracking id, manager rekon).
    pub async fn apply_app(&self, app: &Application) {
        let sources = self.sources.clone();
        let a = app.clone();
        let rendered = tokio::task::spawn_blocking(move || {
            let commit = sources.resolve(&a.spec.source.repo_url, "HEAD", false)?;
            sources.render_app(&a, &commit)
        })
        .await
        .unwrap()
        .unwrap();
        let client = self.cluster.client();
        let catalog = ApiCatalog::discover(&client).await.unwrap();
        rekon::cluster::apply::ensure_namespace(&client, "web", false)
            .await
            .unwrap();
        let instance = tracking::instance_name(app.namespace(), &app.metadata.name);
        for d in desired::prepare(&rendered.manifests, "web", &instance, &catalog, "test") {
            apply(
                &client,
                &catalog,
                &d.object(),
                ApplyOptions {
                    manager: "rekon",
                    force: true,
                    dry_run: false,
                },
            )
            .await
            .unwrap();
        }
    }
}

/// Waits (generously) until a snapshot satisfies `pred`; panics with the last one if not.
/// A real cluster gets longer: its controllers keep real time (a failed Job Pod is retried
/// after 10 s) and share two cores with the API server.
pub async fn wait_for(
    engine: &EngineHandle,
    what: &str,
    pred: impl Fn(&Snapshot) -> bool,
) -> Arc<Snapshot> {
    let mut rx = engine.subscribe();
    let limit = match super::cluster::flavor() {
        super::cluster::Flavor::Emulated => 30,
        super::cluster::Flavor::Real => 90,
    };
    let waited = tokio::time::timeout(
        Duration::from_secs(limit),
        rx.wait_for(|s| s.settled && pred(s)),
    )
    .await;
    match waited {
        Ok(Ok(s)) => s.clone(),
        _ => panic!(
            "timed out waiting for {what}; last snapshot: {:#?}",
            engine.current().apps
        ),
    }
}

/// The app named `name` in a snapshot; panics when absent.
pub fn app<'a>(s: &'a Snapshot, name: &str) -> &'a AppSnapshot {
    s.apps.iter().find(|a| a.name == name).unwrap()
}
