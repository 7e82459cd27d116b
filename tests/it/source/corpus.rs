//! Opt-in: render the real-world corpus (`REKON_CORPUS=../shared/corpus`) through git
//! sources. Each folder is committed into a temporary repository first.

use std::path::Path;

use crate::support::source::{Fixture, source, sources};
use rekon::source::{SourceError, Tool, Tools};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
#[ignore = "opt-in: REKON_CORPUS=../shared/corpus cargo test corpus -- --ignored"]
fn renders_the_corpus() {
    let corpus = std::env::var("REKON_CORPUS")
        .expect("set REKON_CORPUS to the corpus folder to run this test");
    let Some(f) = Fixture::new() else { return };
    copy_tree(Path::new(&corpus), &f.path);
    let commit = f.commit("corpus");
    let (_cache, s) = sources();
    let tools = Tools::from_env();
    let have_kustomize = tools.find("kustomize").is_some() || tools.find("kubectl").is_some();
    let have_helm = tools.find("helm").is_some();
    let cases = [
        ("argocd-example-apps/guestbook", Tool::Directory),
        ("argocd-example-apps/sync-waves", Tool::Directory),
        ("argocd-example-apps/helm-hooks", Tool::Directory),
        ("argocd-example-apps/kustomize-guestbook", Tool::Kustomize),
        ("argocd-example-apps/pre-post-sync", Tool::Kustomize),
        ("argocd-example-apps/sock-shop", Tool::Kustomize),
        ("argocd-example-apps/helm-guestbook", Tool::Helm),
        ("argocd-example-apps/apps", Tool::Helm),
        ("podinfo/kustomize", Tool::Kustomize),
        ("podinfo/deploy/overlays/dev", Tool::Kustomize),
        ("podinfo/deploy/overlays/production", Tool::Kustomize),
        (
            "flux2-kustomize-helm-example/clusters/staging",
            Tool::Directory,
        ),
        ("crds/flux", Tool::Directory),
        ("crds/argocd", Tool::Directory),
    ];
    for (path, tool) in cases {
        if !f.path.join(path).exists() {
            println!("{path}: not in this corpus");
            continue;
        }
        let result = s.render(&source(&f.local_url(), path), "corpus", &commit);
        match (tool, result) {
            (Tool::Helm, Err(SourceError::ToolMissing { .. })) if !have_helm => {}
            (Tool::Kustomize, Err(SourceError::ToolMissing { .. })) if !have_kustomize => {}
            (_, Ok(r)) => {
                assert_eq!(r.tool, tool, "{path}");
                assert!(!r.manifests.is_empty(), "{path}");
                println!("{path}: {} objects via {}", r.manifests.len(), r.tool);
            }
            (_, Err(e)) => panic!("{path}: {e}"),
        }
    }
}
