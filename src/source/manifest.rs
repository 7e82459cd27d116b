//! Rendered desired objects, where each came from, and the checks every render passes:
//! a Kubernetes object has apiVersion, kind and a name; `List`s are flattened; no object
//! appears twice.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::SourceError;
pub use crate::model::Manifest;
use crate::model::{ResourceKey, RevisionOrigin, split_api_version};
use crate::yaml;

/// Which program (or none) turned the folder into objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tool {
    /// Plain YAML/JSON files read from the commit.
    Directory,
    /// `kustomize build` (or `kubectl kustomize`).
    Kustomize,
    /// `helm template`.
    Helm,
}

impl Tool {
    /// The name Argo CD shows for this source type.
    pub fn as_str(self) -> &'static str {
        match self {
            Tool::Directory => "Directory",
            Tool::Kustomize => "Kustomize",
            Tool::Helm => "Helm",
        }
    }
}

impl std::fmt::Display for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The desired objects of one app at one commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rendered {
    /// Objects in source order; shared, so the render cache and the apps hold one copy.
    pub manifests: Arc<[Manifest]>,
    /// How they were produced.
    pub tool: Tool,
    /// The commit they were rendered from (full SHA).
    pub commit: String,
    /// The Application path inside the repository, normalized (`.` for the root).
    pub path: String,
    /// Where the commit was resolved (remote, cache, local) as this render was made.
    #[serde(default)]
    pub origin: RevisionOrigin,
}

/// Turns parsed documents into manifests: flattens `kind: List`, checks each object.
pub(crate) fn push_documents(
    out: &mut Vec<Manifest>,
    documents: Vec<yaml::Document>,
    origin_of: &dyn Fn(usize) -> String,
) -> Result<(), SourceError> {
    for doc in documents {
        push_value(out, doc.value, &origin_of(doc.line))?;
    }
    Ok(())
}

/// The line of a document's first content, skipping the blank and comment lines its chunk
/// starts with (the YAML module reports where the chunk starts).
pub(crate) fn content_line(lines: &[&str], chunk_line: usize) -> usize {
    let mut line = chunk_line.max(1);
    while let Some(text) = lines.get(line - 1) {
        let t = text.trim();
        if !(t.is_empty() || t.starts_with('#')) {
            break;
        }
        line += 1;
    }
    if line > lines.len() { chunk_line } else { line }
}

/// Adds one parsed value: an object, a `List` of objects or (from JSON files) an array.
pub(crate) fn push_value(
    out: &mut Vec<Manifest>,
    value: Value,
    origin: &str,
) -> Result<(), SourceError> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => {
            for item in items {
                push_value(out, item, origin)?;
            }
            Ok(())
        }
        Value::Object(mut map) => {
            // `List`, and typed lists such as `ConfigMapList` as `kubectl get -o yaml` writes.
            let is_list = map
                .get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
                && map.get("items").is_none_or(|i| i.is_array() || i.is_null());
            if is_list {
                if let Some(Value::Array(items)) = map.remove("items") {
                    for item in items {
                        if item.is_null() {
                            continue;
                        }
                        push_value(out, item, origin)?;
                    }
                }
                return Ok(());
            }
            let object = Value::Object(map);
            check_object(&object, origin)?;
            out.push(Manifest::new(&object, origin));
            Ok(())
        }
        other => Err(SourceError::InvalidObject {
            origin: origin.to_string(),
            message: format!(
                "expected a Kubernetes object (a mapping), found {}",
                json_type(&other)
            ),
        }),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn non_empty_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

/// An object needs apiVersion, kind and metadata.name (or metadata.generateName, which
/// Argo CD allows for hooks).
fn check_object(object: &Value, origin: &str) -> Result<(), SourceError> {
    let invalid = |message: String| SourceError::InvalidObject {
        origin: origin.to_string(),
        message,
    };
    let kind = non_empty_str(object.get("kind"));
    let api_version = non_empty_str(object.get("apiVersion"));
    let what = kind.unwrap_or("document");
    if api_version.is_none() {
        return Err(invalid(format!("{what} has no apiVersion")));
    }
    let Some(kind) = kind else {
        return Err(invalid("document has no kind".into()));
    };
    let meta = object.get("metadata");
    if meta.is_some_and(|m| !m.is_object()) {
        return Err(invalid(format!(
            "{kind} has a metadata that is not a mapping"
        )));
    }
    let name = non_empty_str(meta.and_then(|m| m.get("name")));
    let generate_name = non_empty_str(meta.and_then(|m| m.get("generateName")));
    if name.is_none() && generate_name.is_none() {
        return Err(invalid(format!("{kind} has no metadata.name")));
    }
    Ok(())
}

/// The identity used to spot duplicates: group, kind, namespace (as written) and name.
fn identity(object: &Value) -> Option<ResourceKey> {
    let api_version = object.get("apiVersion")?.as_str()?;
    let kind = object.get("kind")?.as_str()?;
    let meta = object.get("metadata")?;
    let name = meta.get("name")?.as_str()?;
    let namespace = meta.get("namespace").and_then(Value::as_str).unwrap_or("");
    Some(ResourceKey::new(
        split_api_version(api_version).0,
        kind,
        namespace,
        name,
    ))
}

/// Refuses two manifests for the same object, naming both origins. Objects with only a
/// `generateName` get a fresh name each time and never collide.
pub(crate) fn check_duplicates(manifests: &[Manifest]) -> Result<(), SourceError> {
    let mut seen: HashMap<ResourceKey, &str> = HashMap::with_capacity(manifests.len());
    for m in manifests {
        let Some(key) = identity(&m.object()) else {
            continue;
        };
        if let Some(first) = seen.get(&key) {
            return Err(SourceError::Duplicate {
                key: key.to_string(),
                first: first.to_string(),
                second: m.origin.clone(),
            });
        }
        seen.insert(key, &m.origin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn push(value: Value) -> Result<Vec<Manifest>, SourceError> {
        let mut out = Vec::new();
        push_value(&mut out, value, "f.yaml:1")?;
        Ok(out)
    }

    #[test]
    fn flattens_lists_and_arrays() {
        let cm =
            |n: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n}});
        let out =
            push(json!({"apiVersion": "v1", "kind": "List", "items": [cm("a"), cm("b")]})).unwrap();
        assert_eq!(out.len(), 2);
        let out = push(
            json!([cm("a"), {"apiVersion": "v1", "kind": "ConfigMapList", "items": [cm("c")]}]),
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].object()["metadata"]["name"], "c");
    }

    #[test]
    fn names_what_is_missing() {
        let err = push(json!({"kind": "ConfigMap", "metadata": {"name": "a"}})).unwrap_err();
        assert_eq!(err.to_string(), "f.yaml:1: ConfigMap has no apiVersion");
        let err = push(json!({"apiVersion": "v1", "metadata": {"name": "a"}})).unwrap_err();
        assert_eq!(err.to_string(), "f.yaml:1: document has no kind");
        let err = push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {}})).unwrap_err();
        assert_eq!(err.to_string(), "f.yaml:1: Secret has no metadata.name");
        let err = push(json!("just text")).unwrap_err();
        assert!(err.to_string().contains("found a string"), "{err}");
        // Hooks may use generateName.
        push(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "m-"}}))
            .unwrap();
    }

    #[test]
    fn duplicates_name_both_origins() {
        let obj = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w", "namespace": "s"}});
        let ms = vec![
            Manifest::new(&obj, "a.yaml:1"),
            Manifest::new(&obj, "b.yaml:7"),
        ];
        let err = check_duplicates(&ms).unwrap_err();
        assert_eq!(
            err.to_string(),
            "duplicate object apps/Deployment:s/w: defined in a.yaml:1 and in b.yaml:7"
        );
    }
}
