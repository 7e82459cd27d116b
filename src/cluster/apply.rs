//! Writing objects to a cluster: server-side apply, namespace creation and deletion, with
//! errors that say what broke (a conflict names the other manager and the fields).

use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, PropagationPolicy,
};
use serde_json::{Value, json};
use thiserror::Error;

use super::ApiCatalog;
use crate::model::{FieldTakeover, ResourceKey, split_api_version};

/// How to apply.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions<'a> {
    /// Field manager.
    pub manager: &'a str,
    /// Take ownership of fields other managers own.
    pub force: bool,
    /// Ask the server to compute the result without persisting it.
    pub dry_run: bool,
}

/// Why a write was refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum WriteError {
    /// The cluster does not serve this kind.
    #[error("{kind} ({api_version}) is not served by the cluster: is its CRD installed?")]
    NotServed {
        /// Kind.
        kind: String,
        /// apiVersion.
        api_version: String,
    },
    /// Another field manager owns fields this apply sets.
    #[error("{message}")]
    Conflict {
        /// The server's message.
        message: String,
        /// Who owns which of the fields, from the Status' causes.
        takes: Vec<FieldTakeover>,
    },
    /// The server refuses the change because a field is immutable (a Job's template, a
    /// Deployment's selector, a Service's clusterIP): only delete and create can apply it.
    #[error("{0}")]
    Immutable(String),
    /// The server found the object invalid.
    #[error("invalid: {0}")]
    Invalid(String),
    /// RBAC refuses the write.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The object does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Any other API error.
    #[error("{message} ({code})")]
    Api {
        /// HTTP status.
        code: u16,
        /// The server's message.
        message: String,
    },
    /// The cluster refused the credentials (expired token, revoked certificate).
    #[error("{0}")]
    Unauthorized(String),
    /// The request did not get an answer.
    #[error("request failed: {0}")]
    Transport(String),
}

impl From<kube::Error> for WriteError {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => match (s.code, s.reason.as_str()) {
                (409, "Conflict") if s.message.contains("conflict") => WriteError::Conflict {
                    takes: field_conflicts(&s),
                    message: s.message.clone(),
                },
                (401, _) => WriteError::Unauthorized(super::describe_kube(&kube::Error::Api(s))),
                (422, _) if is_immutable(&s) => WriteError::Immutable(s.message.clone()),
                (422, _) => WriteError::Invalid(s.message.clone()),
                (403, _) => WriteError::Forbidden(s.message.clone()),
                (404, _) => WriteError::NotFound(s.message.clone()),
                (code, _) => WriteError::Api {
                    code,
                    message: s.message.clone(),
                },
            },
            other => WriteError::Transport(super::describe::chain(&other)),
        }
    }
}

/// The managers and fields of an apply conflict. A real server lists one
/// `FieldManagerConflict` cause per field (`message: conflict with "kubectl" using apps/v1`,
/// `field: .spec.replicas`); only without causes is the message read.
fn field_conflicts(s: &kube::core::Status) -> Vec<FieldTakeover> {
    let causes: Vec<(String, String)> = s
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .filter(|c| c.reason == "FieldManagerConflict")
        .filter_map(|c| Some((quoted_manager(&c.message)?, c.field.clone())))
        .collect();
    if !causes.is_empty() {
        return FieldTakeover::group(causes);
    }
    FieldTakeover::group(conflicts_in_message(&s.message))
}

/// `kubectl` from `conflict with "kubectl" with subresource "scale" using apps/v1`.
fn quoted_manager(text: &str) -> Option<String> {
    let start = text.find('"')?;
    let mut de = serde_json::Deserializer::from_str(&text[start..]).into_iter::<String>();
    de.next()?.ok()
}

/// Parses `Apply failed with 1 conflict: conflict with "m" using v: .f` and the several
/// form, `Apply failed with 2 conflicts: conflicts with "m":\n- .a\n- .b`.
fn conflicts_in_message(message: &str) -> Vec<(String, String)> {
    let Some((_, rest)) = message.split_once(": ") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut manager: Option<String> = None;
    for line in rest.lines() {
        if let Some(field) = line.strip_prefix("- ") {
            if let Some(m) = &manager {
                out.push((m.clone(), field.trim().to_string()));
            }
        } else if line.starts_with("conflict") {
            manager = quoted_manager(line);
            // One conflict: the field follows the last `": "`.
            if line.starts_with("conflict with ")
                && let (Some(m), Some((_, field))) = (&manager, line.rsplit_once(": "))
            {
                out.push((m.clone(), field.trim().to_string()));
            }
        }
    }
    out
}

/// The server's wordings for a change it refuses on an existing object whatever the
/// value: `field is immutable`, `may not change once set` (a Service's clusterIPs),
/// `cannot change roleRef`, and the StatefulSet and Pod spec rules.
const IMMUTABLE_WORDS: [&str; 5] = [
    "field is immutable",
    "may not change once set",
    "cannot change roleRef",
    "updates to statefulset spec for fields other than",
    "pod updates may not change fields other than",
];

fn is_immutable(s: &kube::core::Status) -> bool {
    let texts = s
        .details
        .iter()
        .flat_map(|d| &d.causes)
        .map(|c| c.message.as_str())
        .chain(std::iter::once(s.message.as_str()));
    texts
        .into_iter()
        .any(|t| IMMUTABLE_WORDS.iter().any(|w| t.contains(w)))
}

/// The API for objects of `kind` in `namespace` (ignored for cluster-scoped kinds); an error
/// when the server does not serve the kind.
pub fn api_for(
    client: &kube::Client,
    catalog: &ApiCatalog,
    api_version: &str,
    kind: &str,
    namespace: &str,
) -> Result<Api<DynamicObject>, WriteError> {
    let k = catalog
        .resolve(api_version, kind)
        .ok_or_else(|| WriteError::NotServed {
            kind: kind.to_string(),
            api_version: api_version.to_string(),
        })?;
    Ok(if k.namespaced {
        Api::namespaced_with(client.clone(), namespace, &k.resource)
    } else {
        Api::all_with(client.clone(), &k.resource)
    })
}

/// Server-side applies `obj` and returns the object as the server left it.
pub async fn apply(
    client: &kube::Client,
    catalog: &ApiCatalog,
    obj: &Value,
    options: ApplyOptions<'_>,
) -> Result<Value, WriteError> {
    let key = ResourceKey::of(obj).ok_or_else(|| {
        WriteError::Invalid("object has no apiVersion, kind or metadata.name".into())
    })?;
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let api = api_for(client, catalog, api_version, &key.kind, &key.namespace)?;
    let mut params = PatchParams::apply(options.manager);
    if options.force {
        params = params.force();
    }
    if options.dry_run {
        params = params.dry_run();
    }
    let out = api.patch(&key.name, &params, &Patch::Apply(obj)).await?;
    serde_json::to_value(out).map_err(|e| WriteError::Transport(e.to_string()))
}

/// Creates namespace `name` when it does not exist (`CreateNamespace=true`).
pub async fn ensure_namespace(
    client: &kube::Client,
    name: &str,
    dry_run: bool,
) -> Result<bool, WriteError> {
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    if api.get_opt(name).await?.is_some() {
        return Ok(false);
    }
    let ns: k8s_openapi::api::core::v1::Namespace =
        serde_json::from_value(json!({"metadata": {"name": name}}))
            .map_err(|e| WriteError::Invalid(e.to_string()))?;
    let params = PostParams {
        dry_run,
        field_manager: Some("rekon".into()),
    };
    match api.create(&params, &ns).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Deletes one object with the given propagation (foreground by default in syncs).
pub async fn delete(
    client: &kube::Client,
    catalog: &ApiCatalog,
    key: &ResourceKey,
    api_version: &str,
    propagation: PropagationPolicy,
    dry_run: bool,
) -> Result<(), WriteError> {
    let api = api_for(client, catalog, api_version, &key.kind, &key.namespace)?;
    let params = DeleteParams {
        propagation_policy: Some(propagation),
        dry_run,
        ..DeleteParams::default()
    };
    match api.delete(&key.name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The preferred apiVersion for a group/kind key, when the catalog knows it.
pub fn api_version_of(catalog: &ApiCatalog, key: &ResourceKey) -> Option<String> {
    catalog
        .preferred(&key.group_kind())
        .map(|k| k.resource.api_version.clone())
}

/// `group/version` joined as Kubernetes writes it.
pub fn join_api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// The version part of an apiVersion.
pub fn version_part(api_version: &str) -> &str {
    split_api_version(api_version).1
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;

    fn status(code: u16, reason: &str, message: &str, causes: Vec<(&str, &str, &str)>) -> Status {
        let causes: Vec<Value> = causes
            .into_iter()
            .map(|(reason, message, field)| json!({"reason": reason, "message": message, "field": field}))
            .collect();
        serde_json::from_value(json!({"status": "Failure", "code": code, "reason": reason,
            "message": message, "details": {"causes": causes}}))
        .unwrap()
    }

    fn takes(pairs: &[(&str, &[&str])]) -> Vec<FieldTakeover> {
        pairs
            .iter()
            .map(|(m, f)| FieldTakeover {
                manager: m.to_string(),
                fields: f.iter().map(|x| x.to_string()).collect(),
            })
            .collect()
    }

    #[test]
    fn conflicts_come_from_the_causes_as_a_real_server_sends_them() {
        let s = status(
            409,
            "Conflict",
            "Apply failed with 3 conflicts: whatever the words",
            vec![
                (
                    "FieldManagerConflict",
                    "conflict with \"kubectl-edit\" using apps/v1",
                    ".spec.replicas",
                ),
                (
                    "FieldManagerConflict",
                    "conflict with \"kubectl\" with subresource \"scale\" using apps/v1",
                    ".spec.template",
                ),
                (
                    "FieldManagerConflict",
                    "conflict with \"kubectl-edit\" using apps/v1",
                    ".spec.paused",
                ),
            ],
        );
        let e = WriteError::from(kube::Error::Api(Box::new(s)));
        let WriteError::Conflict { takes: got, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(
            got,
            takes(&[
                ("kubectl-edit", &[".spec.replicas", ".spec.paused"]),
                ("kubectl", &[".spec.template"]),
            ])
        );
    }

    #[test]
    fn without_causes_the_message_is_read_in_both_forms() {
        let one = status(
            409,
            "Conflict",
            "Apply failed with 1 conflict: conflict with \"helm\" using v1: .data.key",
            Vec::new(),
        );
        assert_eq!(field_conflicts(&one), takes(&[("helm", &[".data.key"])]));
        let several = status(
            409,
            "Conflict",
            "Apply failed with 3 conflicts: conflicts with \"a\":\n- .x\n- .y\nconflicts with \"b\" using apps/v1:\n- .z",
            Vec::new(),
        );
        assert_eq!(
            field_conflicts(&several),
            takes(&[("a", &[".x", ".y"]), ("b", &[".z"])])
        );
    }

    #[test]
    fn immutable_fields_are_told_from_other_invalid_objects() {
        let job = status(
            422,
            "Invalid",
            "Job.batch \"m\" is invalid: spec.template: Invalid value: {}: field is immutable",
            vec![(
                "FieldValueInvalid",
                "Invalid value: {}: field is immutable",
                "spec.template",
            )],
        );
        assert!(matches!(
            WriteError::from(kube::Error::Api(Box::new(job))),
            WriteError::Immutable(_)
        ));
        let svc = status(
            422,
            "Invalid",
            "Service \"s\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.9\"}: may not change once set",
            Vec::new(),
        );
        assert!(matches!(
            WriteError::from(kube::Error::Api(Box::new(svc))),
            WriteError::Immutable(_)
        ));
        let bad = status(
            422,
            "Invalid",
            "ConfigMap \"c\" is invalid: data: bad key",
            Vec::new(),
        );
        assert!(matches!(
            WriteError::from(kube::Error::Api(Box::new(bad))),
            WriteError::Invalid(_)
        ));
    }
}
