//! Writing objects to a cluster: server-side apply, namespace creation and deletion, with
//! errors that say what broke (a conflict names the other manager and the fields).

use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, PropagationPolicy,
};
use serde_json::{Value, json};
use thiserror::Error;

use super::ApiCatalog;
use crate::model::{ResourceKey, split_api_version};

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
    #[error("{0}")]
    Conflict(String),
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
                (409, "Conflict") if s.message.contains("conflict") => {
                    WriteError::Conflict(s.message.clone())
                }
                (401, _) => WriteError::Unauthorized(super::describe_kube(&kube::Error::Api(s))),
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

fn api_for(
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
