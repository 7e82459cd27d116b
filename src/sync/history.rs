//! The sync history kept in the cluster: reading and writing the app's history ConfigMap.
//! Its format (what an entry holds, how the ConfigMap is laid out) is the engine's, re-exported
//! here so callers find the whole history in one place.

use kube::api::{Api, Patch, PatchParams};

use crate::engine::compare::FIELD_MANAGER;
pub use crate::engine::plan::history::*;
use crate::model::{Application, GroupKind, HistoryEntry};

/// Reads the app's history from its cluster; no ConfigMap means no history.
pub async fn load(client: &kube::Client, app: &Application) -> Result<Stored, String> {
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), &namespace(app));
    let name = config_map_name(app);
    match api.get_opt(&name).await {
        Ok(Some(cm)) => {
            let v = serde_json::to_value(cm).map_err(|e| e.to_string())?;
            decode(&v).map_err(|e| format!("ConfigMap {}/{name}: {e}", namespace(app)))
        }
        Ok(None) => Ok(Stored::default()),
        Err(e) => Err(format!(
            "cannot read sync history ConfigMap {}/{name}: {}",
            namespace(app),
            describe(e)
        )),
    }
}

/// Appends `entry` (and the kinds it applied) to the app's history in the cluster; returns
/// what is now kept.
pub async fn record(
    client: &kube::Client,
    app: &Application,
    instance: &str,
    entry: HistoryEntry,
    kinds: Vec<GroupKind>,
) -> Result<Stored, String> {
    let mut stored = load(client, app).await.unwrap_or_default();
    append(&mut stored.entries, entry, limit(app));
    stored.kinds.extend(kinds);
    stored.kinds.sort();
    stored.kinds.dedup();
    let cm = config_map(app, instance, &stored);
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> =
        Api::namespaced(client.clone(), &namespace(app));
    // The ConfigMap is rekon's alone: taking over its fields is right.
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch(&config_map_name(app), &params, &Patch::Apply(&cm))
        .await
        .map_err(|e| {
            format!(
                "cannot write sync history ConfigMap {}/{}: {}",
                namespace(app),
                config_map_name(app),
                describe(e)
            )
        })?;
    Ok(stored)
}

fn describe(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        other => other.to_string(),
    }
}
