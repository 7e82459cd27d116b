//! ApplicationSets in `--apps` files expand into Applications: the Git directory generator
//! reads a real repository, the Cluster generator the connected contexts; AppProjects in
//! the same files are collected.

use std::sync::Arc;

use rekon::cli::session;
use rekon::cluster::connect_server;
use rekon::source::Sources;

#[tokio::test]
async fn appsets_from_apps_files_expand_with_git_directories_and_clusters() {
    let Some(repo) = crate::support::source::Fixture::new() else {
        return;
    };
    for app in ["web", "api", "docs"] {
        repo.write(
            &format!("apps/{app}/cm.yaml"),
            crate::support::source::config_map(app),
        );
    }
    repo.commit("three apps");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sets.yaml");
    std::fs::write(
        &file,
        format!(
            r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {{name: apps}}
spec:
  goTemplate: true
  generators:
    - matrix:
        generators:
          - clusters: {{}}
          - git:
              repoURL: {repo}
              revision: main
              directories: [{{path: 'apps/*'}}, {{path: apps/docs, exclude: true}}]
  template:
    metadata: {{name: '{{{{.path.basename}}}}-{{{{.name}}}}'}}
    spec:
      project: team
      source: {{repoURL: {repo}, targetRevision: main, path: '{{{{.path.path}}}}'}}
      destination: {{name: '{{{{.name}}}}', namespace: '{{{{.path.basename}}}}'}}
---
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {{name: team}}
spec:
  sourceRepos: ['*']
  destinations: [{{name: '*', namespace: '*'}}]
"#,
            repo = repo.path.display()
        ),
    )
    .unwrap();
    let mut loaded = session::load_apps(&[file]);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    assert_eq!(loaded.appsets.len(), 1);
    assert_eq!(loaded.projects[0].name, "team");
    let mut cluster = connect_server("http://127.0.0.1:9").unwrap();
    cluster.name = "prod".into();
    let cache = tempfile::tempdir().unwrap();
    let sources = Arc::new(Sources::new(cache.path().to_path_buf()));
    session::expand_appsets(&mut loaded, &[cluster], sources).await;
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let names: Vec<String> = loaded.apps.iter().map(|a| a.qualified_name()).collect();
    assert_eq!(names, ["argocd/api-prod", "argocd/web-prod"]);
    assert_eq!(loaded.apps[1].spec.source.path(), "apps/web");
    assert_eq!(
        loaded.apps[1].spec.destination.namespace.as_deref(),
        Some("web")
    );
}
