//! AppProject rules for rekon's own apps: a sync that breaks them is refused with the rule
//! named, and the violation shows as a condition of the app.

use std::sync::Arc;

use crate::support::integrations::*;
use rekon::integrations::project::AppProject;
use rekon::model::{Application, SyncOptions};
use rekon::runtime::{self, EngineCommand, EngineOptions};
use rekon::source::Sources;

#[tokio::test]
async fn a_sync_breaking_the_project_is_refused_with_the_rule_named() {
    let Some(repo) = crate::support::source::Fixture::new() else {
        return;
    };
    repo.write(
        "web/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
    );
    repo.write(
        "web/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: b\n",
    );
    repo.commit("web");
    let c = cluster("prod", false).await;
    let project = AppProject::parse_all(
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: team-a}\nspec:\n  sourceRepos: ['*']\n  destinations: [{name: prod, namespace: web}]\n  clusterResourceWhitelist: []\n",
        "project.yaml",
    )
    .unwrap();
    let app = Application::parse_all(
        &format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: web, namespace: argocd}}\nspec:\n  project: team-a\n  source: {{repoURL: '{}', path: web}}\n  destination: {{name: prod, namespace: web}}\n",
            repo.path.display()
        ),
        "app.yaml",
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let engine = runtime::start(EngineOptions {
        apps: app,
        clusters: vec![handle(&c)],
        sources: Arc::new(Sources::new(cache.path().to_path_buf())),
        read_only: false,
        config_ignore: Vec::new(),
        refresh_every: None,
        projects: project,
        auto_sync: false,
        skip_trees: false,
    });
    let expected = "project \"team-a\" does not allow cluster-scoped Namespace \"web\" (web/ns.yaml:1) (clusterResourceWhitelist: none)";
    let snap = wait_for(&engine, "the violation as a condition", |s| {
        s.apps.iter().any(|a| a.message == expected)
    })
    .await;
    let web = &snap.apps[0];
    let conditions = &web.detail.as_ref().unwrap().conditions;
    assert!(
        conditions
            .iter()
            .any(|c| c.kind == "InvalidSpecError" && c.message == expected),
        "{conditions:?}"
    );
    let before = last_seq(&c);
    let refused = ask(&engine, |reply| EngineCommand::Sync {
        app: "argocd/web".into(),
        options: SyncOptions::default(),
        initiated_by: "tester".into(),
        reply: Some(reply),
    })
    .await
    .unwrap_err();
    assert_eq!(refused, format!("sync refused: {expected}"));
    assert!(writes_after(&c, before).iter().all(|e| e.dry_run));
}
