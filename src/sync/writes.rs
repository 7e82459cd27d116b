//! The requests a sync sends: apply (server-side, or create/replace with `Replace=true`),
//! create with `generateName`, delete, get, and the namespace of `CreateNamespace=true`.
//! Every write can be a server dry run.

use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, PropagationPolicy,
    ValidationDirective,
};
use serde_json::Value;

use crate::cluster::apply::api_for;
use crate::cluster::{ApiCatalog, WriteError};
use crate::engine::compare::FIELD_MANAGER;
use crate::engine::plan::annotations::{ObjectOptions, Propagation};
use crate::model::{FieldTakeover, ResourceKey};

/// Writes in flight at once during a sync.
pub(super) const WRITE_CONCURRENCY: usize = 16;

/// How one write is sent.
#[derive(Debug, Clone, Copy)]
pub struct WriteMode {
    /// Server dry run: nothing is persisted.
    pub dry_run: bool,
    /// Take over fields other managers own (server-side apply with force).
    pub force: bool,
}

fn namespace_of(obj: &Value) -> &str {
    obj.pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn to_value(obj: DynamicObject) -> Result<Value, WriteError> {
    serde_json::to_value(obj).map_err(|e| WriteError::Transport(e.to_string()))
}

fn dynamic(obj: &Value) -> Result<DynamicObject, WriteError> {
    serde_json::from_value(obj.clone()).map_err(|e| WriteError::Invalid(e.to_string()))
}

/// Writes `obj` as a sync does: server-side apply as `rekon` (forced unless conflicts are
/// refused), or
/// with `Replace=true` a create or a full replace. Returns the object as the server left it.
pub async fn apply(
    client: &kube::Client,
    catalog: &ApiCatalog,
    obj: &Value,
    api_version: &str,
    options: &ObjectOptions,
    mode: WriteMode,
) -> Result<Value, WriteError> {
    let kind = obj["kind"].as_str().unwrap_or_default();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let api = api_for(client, catalog, api_version, kind, namespace_of(obj))?;
    if options.replace {
        return replace(&api, name, obj, mode).await;
    }
    let mut params = PatchParams::apply(FIELD_MANAGER);
    params.force = mode.force;
    params.dry_run = mode.dry_run;
    if options.no_validate {
        params.field_validation = Some(ValidationDirective::Ignore);
    }
    let out = api.patch(name, &params, &Patch::Apply(obj)).await?;
    to_value(out)
}

async fn replace(
    api: &Api<DynamicObject>,
    name: &str,
    obj: &Value,
    mode: WriteMode,
) -> Result<Value, WriteError> {
    let post = PostParams {
        dry_run: mode.dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    match api.get_opt(name).await? {
        None => to_value(api.create(&post, &dynamic(obj)?).await?),
        Some(live) => {
            let mut body = dynamic(obj)?;
            body.metadata.resource_version = live.metadata.resource_version.clone();
            to_value(api.replace(name, &post, &body).await?)
        }
    }
}

/// Creates an object named by `metadata.generateName`; the server picks the name.
pub async fn create(
    client: &kube::Client,
    catalog: &ApiCatalog,
    obj: &Value,
    api_version: &str,
    dry_run: bool,
) -> Result<Value, WriteError> {
    let kind = obj["kind"].as_str().unwrap_or_default();
    let api = api_for(client, catalog, api_version, kind, namespace_of(obj))?;
    let post = PostParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    to_value(api.create(&post, &dynamic(obj)?).await?)
}

/// Deletes an object; one already gone counts as deleted.
pub async fn delete(
    client: &kube::Client,
    catalog: &ApiCatalog,
    key: &ResourceKey,
    api_version: &str,
    propagation: Propagation,
    dry_run: bool,
) -> Result<(), WriteError> {
    let api = api_for(client, catalog, api_version, &key.kind, &key.namespace)?;
    let params = DeleteParams {
        propagation_policy: Some(match propagation {
            Propagation::Foreground => PropagationPolicy::Foreground,
            Propagation::Background => PropagationPolicy::Background,
            Propagation::Orphan => PropagationPolicy::Orphan,
        }),
        dry_run,
        ..DeleteParams::default()
    };
    match api.delete(&key.name, &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Reads one object; `None` when it does not exist.
pub async fn get(
    client: &kube::Client,
    catalog: &ApiCatalog,
    key: &ResourceKey,
    api_version: &str,
) -> Result<Option<Value>, WriteError> {
    let api = api_for(client, catalog, api_version, &key.kind, &key.namespace)?;
    match api.get_opt(&key.name).await? {
        Some(o) => {
            let mut v = to_value(o)?;
            // Single gets may omit apiVersion/kind; health and keys need them.
            if let Some(map) = v.as_object_mut() {
                map.insert("apiVersion".into(), Value::String(api_version.to_string()));
                map.insert("kind".into(), Value::String(key.kind.clone()));
            }
            Ok(Some(v))
        }
        None => Ok(None),
    }
}

/// Creates a namespace (`CreateNamespace=true`); one that exists already is fine. Returns
/// whether it was created.
pub async fn create_namespace(
    client: &kube::Client,
    name: &str,
    dry_run: bool,
) -> Result<bool, WriteError> {
    crate::cluster::apply::ensure_namespace(client, name, dry_run).await
}

/// A failed write's message with the way out.
pub fn describe(e: &WriteError) -> String {
    match e {
        WriteError::Conflict { message, takes } if takes.is_empty() => {
            format!(
                "{message} (another field manager owns these fields; sync without --refuse-conflicts to take them over)"
            )
        }
        WriteError::Conflict { takes, .. } => refused(takes),
        WriteError::Immutable(m) => {
            format!("{m} (sync with --force to delete the object and create it again)")
        }
        other => other.to_string(),
    }
}

/// Why a step fails under `--refuse-conflicts`: each manager and its fields.
pub fn refused(takes: &[FieldTakeover]) -> String {
    let each: Vec<String> = takes
        .iter()
        .map(|t| format!("{} owned by {}", t.fields.join(", "), t.manager))
        .collect();
    format!(
        "conflict: {} (--refuse-conflicts: nothing taken; sync without it to take them)",
        each.join("; ")
    )
}

/// `--force` on an object the server will not patch: deletes it (foreground), waits until
/// it is gone, then applies it anew. `limit` bounds the wait.
pub async fn recreate(
    client: &kube::Client,
    catalog: &ApiCatalog,
    task_object: &Value,
    api_version: &str,
    options: &ObjectOptions,
    key: &ResourceKey,
    limit: std::time::Duration,
) -> Result<Value, WriteError> {
    delete(
        client,
        catalog,
        key,
        api_version,
        Propagation::Foreground,
        false,
    )
    .await?;
    let started = std::time::Instant::now();
    while get(client, catalog, key, api_version).await?.is_some() {
        if started.elapsed() >= limit {
            return Err(WriteError::Transport(format!(
                "--force: {} {} was deleted but is still there after {}s; not created again",
                key.kind,
                key.name,
                limit.as_secs()
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let mode = WriteMode {
        dry_run: false,
        force: true,
    };
    apply(client, catalog, task_object, api_version, options, mode).await
}
