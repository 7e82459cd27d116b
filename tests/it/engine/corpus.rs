//! Opt-in robustness check of the compare engine on real-world manifests: runs only when
//! `REKON_CORPUS` points at the shared corpus (`REKON_CORPUS=../shared/corpus cargo test
//! --test it engine::corpus -- --ignored`). Every object must compare equal to itself under both methods,
//! survive masking, render a stable YAML that parses back, and get a health verdict without
//! panicking.

use std::path::{Path, PathBuf};

use rekon::engine::diff::{CompareOptions, compare_resource, render_unified, to_stable_yaml};
use rekon::engine::health;
use rekon::engine::normalize::{CompareMethod, project_onto};
use rekon::model::ResourceKey;
use rekon::yaml;

fn manifests(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            manifests(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

#[test]
#[ignore = "opt-in: REKON_CORPUS=../shared/corpus cargo test corpus -- --ignored"]
fn corpus_objects_compare_equal_to_themselves() {
    let root = std::env::var("REKON_CORPUS")
        .expect("set REKON_CORPUS to the shared corpus folder to run this check");
    let mut files = Vec::new();
    manifests(Path::new(&root), &mut files);
    files.sort();
    assert!(!files.is_empty(), "no YAML files under {root}");
    let mut objects = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.contains("{{") {
            continue; // Helm templates are not YAML until rendered.
        }
        let Ok(docs) = yaml::parse_documents(&text, &file.display().to_string()) else {
            continue;
        };
        for doc in docs {
            let Some(key) = ResourceKey::of(&doc.value) else {
                continue;
            };
            objects += 1;
            for method in [
                CompareMethod::ServerSideDryRun,
                CompareMethod::GitFieldsOnly,
            ] {
                let d = compare_resource(
                    key.clone(),
                    Some(&doc.value),
                    Some(&doc.value),
                    &CompareOptions::new(method),
                );
                assert!(!d.changed, "{} {key} differs from itself", file.display());
                assert_eq!(render_unified(&[d], 3), "");
            }
            assert_eq!(project_onto(&doc.value, &doc.value), doc.value, "{key}");
            let stable = to_stable_yaml(&doc.value);
            let back = yaml::parse_documents(&stable, "stable").expect("stable YAML parses");
            assert_eq!(back[0].value, doc.value, "{key}");
            let _ = health::assess(&doc.value);
        }
    }
    println!("{objects} corpus objects checked in {} files", files.len());
    assert!(objects > 0);
}
