//! Property tests of the manifest reader (crate-private, so tested here): it never panics
//! on any text, reads back every object it is given (also inside `List`s), and always finds
//! a duplicated object, naming both origins.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::error::SourceError;
use super::manifest::{Manifest, check_duplicates, push_documents};
use crate::yaml;

/// Reads `text` as one manifest file does: documents, then objects, then duplicates.
fn read(text: &str) -> Result<Vec<Manifest>, SourceError> {
    let docs = yaml::parse_documents(text, "app/file.yaml")?;
    let mut out = Vec::new();
    push_documents(&mut out, docs, &|line| format!("app/file.yaml:{line}"))?;
    check_duplicates(&out)?;
    Ok(out)
}

fn object() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![
            ("v1", "ConfigMap"),
            ("apps/v1", "Deployment"),
            ("example.com/v1alpha1", "Widget"),
        ]),
        "[a-z][a-z0-9-]{0,12}",
        prop::option::of("[a-z][a-z0-9-]{0,8}"),
        prop::collection::btree_map("[a-zA-Z0-9_.-]{1,8}", ".{0,20}", 0..4),
    )
        .prop_map(|((api, kind), name, ns, data)| {
            let mut o = json!({"apiVersion": api, "kind": kind,
                "metadata": {"name": name}, "data": data});
            if let Some(ns) = ns {
                o["metadata"]["namespace"] = json!(ns);
            }
            o
        })
}

/// Distinct objects: names made unique by their position.
fn distinct(objects: Vec<Value>) -> Vec<Value> {
    objects
        .into_iter()
        .enumerate()
        .map(|(i, mut o)| {
            let name = format!("{}-{i}", o["metadata"]["name"].as_str().unwrap_or("x"));
            o["metadata"]["name"] = json!(name);
            o
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_reader_never_panics(text in any::<String>()) {
        let _ = read(&text);
    }

    #[test]
    fn the_reader_never_panics_on_manifest_like_text(
        text in "((apiVersion|kind|metadata|name|items|List|v1|---|-|:|  |\n|\\[|\\]|\\{|\\}|null|~| ){0,60})"
    ) {
        let _ = read(&text);
    }

    #[test]
    fn every_object_written_is_read_back_in_order(objects in prop::collection::vec(object(), 1..6)) {
        let objects = distinct(objects);
        let text: String = objects.iter().map(|o| format!("---\n{}", yaml::to_string(o))).collect();
        let read = read(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: Vec<Value> = read.iter().map(|m| m.object()).collect();
        prop_assert_eq!(&back, &objects);
        // Inside a List, the same objects.
        let list = json!({"apiVersion": "v1", "kind": "List", "items": objects});
        let from_list = super::props::read(&yaml::to_string(&list))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(from_list.len(), objects.len());
    }

    #[test]
    fn a_duplicate_is_always_found(objects in prop::collection::vec(object(), 1..6), pick in any::<prop::sample::Index>()) {
        let mut objects = distinct(objects);
        let copy = objects[pick.index(objects.len())].clone();
        objects.push(copy);
        let text: String = objects.iter().map(|o| format!("---\n{}", yaml::to_string(o))).collect();
        match read(&text) {
            Err(SourceError::Duplicate { first, second, .. }) => {
                prop_assert!(first.starts_with("app/file.yaml:"));
                prop_assert!(second.starts_with("app/file.yaml:"));
                prop_assert_ne!(first, second);
            }
            other => prop_assert!(false, "expected a duplicate, got {:?}", other.map(|m| m.len())),
        }
    }
}
