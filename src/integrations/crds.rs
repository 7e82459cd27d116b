//! The CustomResourceDefinitions of Argo CD and Flux, written for rekon in the shape of the
//! real ones (group, version, kind, scope, names, printer columns, status subresource) with
//! a permissive schema: the demo installs them into its embedded clusters, tests into theirs.

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::discovery::ApiResource;
use serde_json::Value;

/// Argo CD's Application, ApplicationSet and AppProject CRDs (YAML).
pub const ARGOCD: &str = include_str!("../../assets/crds/argocd.yaml");
/// Flux's source, kustomize, helm and image CRDs (YAML).
pub const FLUX: &str = include_str!("../../assets/crds/flux.yaml");

/// The CRD documents of a YAML text (one of [`ARGOCD`], [`FLUX`]).
pub fn documents(text: &str, origin: &str) -> Result<Vec<Value>, crate::yaml::YamlError> {
    Ok(crate::yaml::parse_documents(text, origin)?
        .into_iter()
        .map(|d| d.value)
        .collect())
}

/// Server-side applies every CRD of `text` (as `rekon`), so the cluster serves the kinds.
pub async fn install(client: &kube::Client, text: &str, origin: &str) -> Result<(), String> {
    let docs = documents(text, origin).map_err(|e| e.to_string())?;
    let resource = ApiResource::erase::<
        k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
    >(&());
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
    for doc in docs {
        let name = doc
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        api.patch(
            &name,
            &PatchParams::apply(super::FIELD_MANAGER).force(),
            &Patch::Apply(&doc),
        )
        .await
        .map_err(|e| format!("installing CRD {name} from {origin}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crd_texts_parse() {
        let argo = documents(ARGOCD, "argocd.yaml").unwrap();
        assert_eq!(argo.len(), 3);
        let flux = documents(FLUX, "flux.yaml").unwrap();
        assert_eq!(flux.len(), 9);
        let kinds: Vec<&str> = flux
            .iter()
            .filter_map(|d| d.pointer("/spec/names/kind").and_then(Value::as_str))
            .collect();
        assert!(kinds.contains(&"Kustomization") && kinds.contains(&"ImageUpdateAutomation"));
    }
}
