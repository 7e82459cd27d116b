//! Kustomize: `kustomize build` (or `kubectl kustomize` where kustomize is absent) on a
//! checkout of the commit. The Application's kustomize options go into a wrapper
//! kustomization in a folder beside the checkout's `repo/` that takes the app folder as its
//! only resource, so the user's files are never changed.

use std::ffi::OsString;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::checkout::Checkout;
use super::error::SourceError;
use super::exec::{self, Tools};
use super::manifest::{self, Manifest};
use super::tree::join;
use crate::model::KustomizeSource;
use crate::yaml;

/// File names that make a folder a kustomization (Argo CD's detection).
pub(crate) const MARKERS: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Builds the app folder `app_path` of `tree` with the Application's options.
pub(crate) fn render(
    checkout: impl FnOnce() -> Result<Arc<Checkout>, SourceError>,
    app_path: &[String],
    marker: &str,
    options: Option<&KustomizeSource>,
    tools: &Tools,
) -> Result<Vec<Manifest>, SourceError> {
    let path = join(app_path);
    let (tool_name, program, mut args) = if let Some(kustomize) = tools.find("kustomize") {
        ("kustomize build", kustomize, exec::args(["build"]))
    } else if let Some(kubectl) = tools.find("kubectl") {
        ("kubectl kustomize", kubectl, exec::args(["kustomize"]))
    } else {
        return Err(SourceError::ToolMissing {
            tool: "kustomize (or kubectl)".into(),
            path,
            marker: marker.to_string(),
        });
    };
    let wrapper = options
        .map(|o| wrapper_kustomization(o, app_path))
        .transpose()?
        .flatten();
    let checkout = checkout()?;
    // Held until the program has run: the wrapper folder goes when it drops.
    let mut scratch = None;
    let target: OsString = match &wrapper {
        Some(text) => {
            let dir = checkout.scratch()?;
            let file = dir.path().join("kustomization.yaml");
            std::fs::write(&file, text).map_err(|e| SourceError::io(&file, &e))?;
            let target = dir.path().as_os_str().to_owned();
            scratch = Some(dir);
            target
        }
        None => {
            let mut p = checkout.repo();
            p.extend(app_path);
            p.into_os_string()
        }
    };
    args.push(target);
    let stdout = exec::render_output(
        tool_name,
        &program,
        &args,
        checkout.root(),
        tools.timeout(),
        &path,
    )?;
    drop(scratch);
    let origin = format!("{path} (kustomize output)");
    let documents = yaml::parse_documents(&stdout, &origin)?;
    let mut manifests = Vec::new();
    manifest::push_documents(&mut manifests, documents, &|line| {
        format!("{origin}:{line}")
    })?;
    Ok(manifests)
}

/// The wrapper kustomization for the options, or `None` when no option is set.
fn wrapper_kustomization(
    options: &KustomizeSource,
    app_path: &[String],
) -> Result<Option<String>, SourceError> {
    let set = |s: &Option<String>| {
        s.as_deref()
            .filter(|v| !v.trim().is_empty())
            .map(str::to_string)
    };
    let mut k = Map::new();
    if let Some(prefix) = set(&options.name_prefix) {
        k.insert("namePrefix".into(), prefix.into());
    }
    if let Some(suffix) = set(&options.name_suffix) {
        k.insert("nameSuffix".into(), suffix.into());
    }
    if let Some(ns) = set(&options.namespace) {
        k.insert("namespace".into(), ns.into());
    }
    if !options.images.is_empty() {
        let images = options
            .images
            .iter()
            .map(|i| {
                parse_image(i).map_err(|message| SourceError::BadOptions {
                    path: join(app_path),
                    message,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        k.insert("images".into(), Value::Array(images));
    }
    if !options.common_labels.is_empty() {
        k.insert("commonLabels".into(), json!(options.common_labels));
    }
    if !options.common_annotations.is_empty() {
        k.insert(
            "commonAnnotations".into(),
            json!(options.common_annotations),
        );
    }
    if k.is_empty() {
        return Ok(None);
    }
    let mut resource = String::from("../repo");
    for c in app_path {
        resource.push('/');
        resource.push_str(c);
    }
    let mut doc = Map::new();
    doc.insert(
        "apiVersion".into(),
        "kustomize.config.k8s.io/v1beta1".into(),
    );
    doc.insert("kind".into(), "Kustomization".into());
    doc.insert("resources".into(), json!([resource]));
    doc.extend(k);
    Ok(Some(yaml::to_string(&Value::Object(doc))))
}

/// Parses an Argo CD kustomize image override (`kustomize edit set image` syntax):
/// `name:tag`, `name@digest`, `name=newName`, `name=newName:tag`, `name=newName@digest`.
fn parse_image(spec: &str) -> Result<Value, String> {
    let spec = spec.trim();
    let (old, new) = match spec.split_once('=') {
        Some((old, new)) => (Some(old.trim()), new.trim()),
        None => (None, spec),
    };
    let (image, digest) = match new.split_once('@') {
        Some((image, digest)) => (image, Some(digest)),
        None => (new, None),
    };
    // A colon after the last slash starts the tag; one before it belongs to a registry port.
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    let (image, tag) = match image[last_slash..].rfind(':') {
        Some(i) if digest.is_none() => {
            (&image[..last_slash + i], Some(&image[last_slash + i + 1..]))
        }
        _ => (image, None),
    };
    let mut entry = Map::new();
    match old {
        Some(old) if !old.is_empty() => {
            entry.insert("name".into(), old.into());
            if !image.is_empty() && image != old {
                entry.insert("newName".into(), image.into());
            }
        }
        Some(_) => {
            return Err(format!(
                "kustomize image '{spec}' has no image name before '='"
            ));
        }
        None => {
            entry.insert("name".into(), image.into());
        }
    }
    if entry
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(format!("kustomize image '{spec}' has no image name"));
    }
    if let Some(tag) = tag.filter(|t| !t.is_empty()) {
        entry.insert("newTag".into(), tag.into());
    }
    if let Some(digest) = digest.filter(|d| !d.is_empty()) {
        entry.insert("digest".into(), digest.into());
    }
    if entry.len() == 1 {
        return Err(format!(
            "kustomize image '{spec}' changes nothing (expected name:tag, name@digest or name=newName[:tag])"
        ));
    }
    Ok(Value::Object(entry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn parses_image_overrides() {
        assert_eq!(
            parse_image("nginx:1.27").unwrap(),
            json!({"name": "nginx", "newTag": "1.27"})
        );
        assert_eq!(
            parse_image("nginx=registry.local:5000/mirror/nginx:1.27").unwrap(),
            json!({"name": "nginx", "newName": "registry.local:5000/mirror/nginx", "newTag": "1.27"})
        );
        assert_eq!(
            parse_image("ghcr.io/acme/api@sha256:abc").unwrap(),
            json!({"name": "ghcr.io/acme/api", "digest": "sha256:abc"})
        );
        assert_eq!(
            parse_image("registry.local:5000/api").unwrap_err(),
            "kustomize image 'registry.local:5000/api' changes nothing (expected name:tag, name@digest or name=newName[:tag])"
        );
        assert!(parse_image("=x:1").is_err());
    }

    #[test]
    fn wrapper_holds_only_the_options_set() {
        assert_eq!(
            wrapper_kustomization(&KustomizeSource::default(), &[]).unwrap(),
            None
        );
        let options = KustomizeSource {
            name_prefix: Some("prod-".into()),
            common_labels: BTreeMap::from([("team".to_string(), "web".to_string())]),
            ..Default::default()
        };
        let text = wrapper_kustomization(&options, &["apps".into(), "web".into()])
            .unwrap()
            .unwrap();
        let doc: Value = yaml::from_str(&text, "wrapper").unwrap();
        assert_eq!(doc["resources"], json!(["../repo/apps/web"]));
        assert_eq!(doc["namePrefix"], "prod-");
        assert_eq!(doc["commonLabels"], json!({"team": "web"}));
        assert!(doc.get("namespace").is_none());
    }
}
