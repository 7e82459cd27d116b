//! CustomResourceDefinitions: checking them, the status the real API server gives them
//! (names accepted and Established by a status write right after the create), and the
//! resource types they make the emulator serve.

use serde_json::{Value, json};

use super::kinds::{GroupResource, PrinterColumn, Registry, ResourceType, ScalePaths};
use super::status::Cause;
use super::value::str_at;

/// The group/resource a CRD defines, if it names both.
pub fn group_resource(crd: &Value) -> Option<GroupResource> {
    let spec = crd.get("spec")?;
    let group = spec.get("group")?.as_str()?;
    let plural = spec.pointer("/names/plural")?.as_str()?;
    Some(GroupResource::new(group, plural))
}

/// `text`, or `default` when it is empty.
fn or_default(text: &str, default: &str) -> String {
    let chosen = if text.is_empty() { default } else { text };
    chosen.to_string()
}

fn strings_at(v: &Value, ptr: &str) -> Vec<String> {
    v.pointer(ptr)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// What is wrong with a CRD, as `Invalid` causes (empty when it is acceptable).
pub fn validate(crd: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let required = |field: &str| Cause::new("FieldValueRequired", field, "Required value");
    let group = str_at(crd, &["spec", "group"]);
    let plural = str_at(crd, &["spec", "names", "plural"]);
    if group.is_empty() {
        causes.push(required("spec.group"));
    }
    if plural.is_empty() {
        causes.push(required("spec.names.plural"));
    }
    if str_at(crd, &["spec", "names", "kind"]).is_empty() {
        causes.push(required("spec.names.kind"));
    }
    if !group.is_empty() && !plural.is_empty() {
        let name = str_at(crd, &["metadata", "name"]);
        if name != format!("{plural}.{group}") {
            causes.push(Cause::new(
                "FieldValueInvalid",
                "metadata.name",
                format!("Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"),
            ));
        }
    }
    match str_at(crd, &["spec", "scope"]) {
        "Namespaced" | "Cluster" => {}
        "" => causes.push(required("spec.scope")),
        other => causes.push(Cause::new(
            "FieldValueNotSupported",
            "spec.scope",
            format!(
                "Unsupported value: \"{other}\": supported values: \"Cluster\", \"Namespaced\""
            ),
        )),
    }
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array);
    match versions {
        None => causes.push(required("spec.versions")),
        Some(vs) if vs.is_empty() => causes.push(required("spec.versions")),
        Some(vs) => {
            let storage = vs
                .iter()
                .filter(|v| v.get("storage") == Some(&json!(true)))
                .count();
            if storage != 1 {
                causes.push(Cause::new(
                    "FieldValueInvalid",
                    "spec.versions",
                    format!("Invalid value: []apiextensions.CustomResourceDefinitionVersion{{...}}: must have exactly one version marked as storage version, found {storage}"),
                ));
            }
            for (i, v) in vs.iter().enumerate() {
                if str_at(v, &["name"]).is_empty() {
                    causes.push(required(&format!("spec.versions[{i}].name")));
                }
            }
        }
    }
    causes
}

/// The storage version of a CRD.
pub fn storage_version(crd: &Value) -> Option<String> {
    crd.pointer("/spec/versions")?
        .as_array()?
        .iter()
        .find(|v| v.get("storage") == Some(&json!(true)))
        .and_then(|v| v.get("name")?.as_str().map(String::from))
}

/// The status of a CRD as created, before kube-apiserver's naming controller accepts its
/// names and establishes it (see [`set_status`]).
pub fn initial_status(crd: &Value) -> Value {
    let stored: Vec<String> = storage_version(crd).into_iter().collect();
    json!({"conditions": null, "acceptedNames": {"plural": "", "kind": ""}, "storedVersions": stored})
}

/// Sets the status a CRD has once the API server accepted it: names accepted, established,
/// stored versions (kept from `previous`, plus the current storage version).
pub fn set_status(crd: &mut Value, previous: Option<&Value>) {
    let names = crd
        .pointer("/spec/names")
        .filter(|n| n.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    let kind = names
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut accepted = names.clone();
    if accepted.get("singular").is_none() {
        accepted["singular"] = json!(kind.to_lowercase());
    }
    if accepted.get("listKind").is_none() {
        accepted["listKind"] = json!(format!("{kind}List"));
    }
    let mut stored = previous
        .map(|p| strings_at(p, "/status/storedVersions"))
        .unwrap_or_default();
    if let Some(v) = storage_version(crd)
        && !stored.contains(&v)
    {
        stored.push(v);
    }
    let since = |t: &str| {
        previous
            .and_then(|p| p.pointer("/status/conditions"))
            .and_then(Value::as_array)
            .and_then(|cs| cs.iter().find(|c| c.get("type") == Some(&json!(t))))
            .and_then(|c| c.get("lastTransitionTime").cloned())
    };
    let now = json!(super::clock::now_rfc3339());
    let conditions = json!([
        {"type": "NamesAccepted", "status": "True", "lastTransitionTime": since("NamesAccepted").unwrap_or(now.clone()),
            "reason": "NoConflicts", "message": "no conflicts found"},
        {"type": "Established", "status": "True", "lastTransitionTime": since("Established").unwrap_or(now),
            "reason": "InitialNamesAccepted", "message": "the initial names have been accepted"},
    ]);
    if let Some(o) = crd.as_object_mut() {
        o.insert(
            "status".into(),
            json!({"acceptedNames": accepted, "conditions": conditions, "storedVersions": stored}),
        );
    }
}

/// The resource types a CRD serves: one per served version. Empty when the CRD clashes with
/// a built-in resource or is malformed.
pub fn served_types(crd: &Value, registry: &Registry) -> Vec<ResourceType> {
    let Some(gr) = group_resource(crd) else {
        return Vec::new();
    };
    if registry.is_builtin(&gr) || !validate(crd).is_empty() {
        return Vec::new();
    }
    let kind = str_at(crd, &["spec", "names", "kind"]).to_string();
    let singular = or_default(
        str_at(crd, &["spec", "names", "singular"]),
        &kind.to_lowercase(),
    );
    let list_kind = or_default(
        str_at(crd, &["spec", "names", "listKind"]),
        &format!("{kind}List"),
    );
    let namespaced = str_at(crd, &["spec", "scope"]) == "Namespaced";
    let storage = storage_version(crd).unwrap_or_default();
    let versions = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    versions
        .iter()
        .filter(|v| v.get("served") == Some(&json!(true)))
        .filter_map(|v| {
            let version = v.get("name")?.as_str()?.to_string();
            let scale = v.pointer("/subresources/scale").map(|s| ScalePaths {
                spec_replicas: or_default(str_at(s, &["specReplicasPath"]), ".spec.replicas"),
                status_replicas: or_default(str_at(s, &["statusReplicasPath"]), ".status.replicas"),
                label_selector: Some(str_at(s, &["labelSelectorPath"]))
                    .filter(|p| !p.is_empty())
                    .map(String::from),
            });
            Some(ResourceType {
                group: gr.group.clone(),
                version,
                resource: gr.resource.clone(),
                singular: singular.clone(),
                kind: kind.clone(),
                list_kind: list_kind.clone(),
                namespaced,
                short_names: strings_at(crd, "/spec/names/shortNames"),
                categories: strings_at(crd, "/spec/names/categories"),
                status: v.pointer("/subresources/status").is_some(),
                scale,
                generation: true,
                custom: true,
                storage_version: storage.clone(),
                printer_columns: printer_columns(v),
                selectable_fields: v
                    .get("selectableFields")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| f.get("jsonPath")?.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn printer_columns(version: &Value) -> Vec<PrinterColumn> {
    let declared = version
        .get("additionalPrinterColumns")
        .and_then(Value::as_array);
    let mut cols: Vec<PrinterColumn> = declared
        .into_iter()
        .flatten()
        .filter_map(|c| {
            Some(PrinterColumn {
                name: c.get("name")?.as_str()?.to_string(),
                type_: c
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("string")
                    .to_string(),
                format: c
                    .get("format")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                description: c
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                priority: c.get("priority").and_then(Value::as_i64).unwrap_or(0),
                json_path: c.get("jsonPath")?.as_str()?.to_string(),
            })
        })
        .collect();
    if declared.is_none_or(|d| d.is_empty()) {
        // The API server's defaulting gives every CRD without columns an Age column.
        cols.push(PrinterColumn {
            name: "Age".into(),
            type_: "date".into(),
            format: String::new(),
            description: String::new(),
            priority: 0,
            json_path: ".metadata.creationTimestamp".into(),
        });
    }
    cols
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget_crd() -> Value {
        json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"], "categories": ["all"]},
                "versions": [
                    {"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
                        "additionalPrinterColumns": [{"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]},
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1alpha1", "served": false, "storage": false}]}})
    }

    #[test]
    fn served_versions_become_types() {
        let types = served_types(&widget_crd(), &Registry::builtin());
        assert_eq!(types.len(), 2);
        let v1 = &types[0];
        assert_eq!(
            (
                v1.kind.as_str(),
                v1.singular.as_str(),
                v1.list_kind.as_str()
            ),
            ("Widget", "widget", "WidgetList")
        );
        assert!(v1.status && v1.namespaced && v1.custom && v1.generation);
        assert_eq!(v1.printer_columns[0].json_path, ".spec.size");
        assert_eq!(types[1].printer_columns[0].name, "Age");
        assert!(!types[1].status);
        assert_eq!(types[1].storage_version, "v1");
    }

    #[test]
    fn validation_and_status() {
        assert!(validate(&widget_crd()).is_empty());
        let mut bad = widget_crd();
        bad["metadata"]["name"] = json!("wrong");
        bad["spec"]["versions"][0]["storage"] = json!(false);
        let causes = validate(&bad);
        assert_eq!(causes.len(), 2, "{causes:?}");
        assert!(served_types(&bad, &Registry::builtin()).is_empty());
        let mut crd = widget_crd();
        set_status(&mut crd, None);
        assert_eq!(crd["status"]["acceptedNames"]["listKind"], "WidgetList");
        assert_eq!(crd["status"]["storedVersions"], json!(["v1"]));
        assert_eq!(crd["status"]["conditions"][1]["type"], "Established");
    }
}
