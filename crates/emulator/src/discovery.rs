//! API discovery: aggregated discovery (apidiscovery.k8s.io v2 and v2beta1, with the exact
//! content type kubectl needs) and the legacy documents (`/api`, `/apis`, `/apis/G`,
//! `/api/v1`, `/apis/G/V`).

use serde_json::{Value, json};

use super::kinds::{GroupInfo, Registry, ResourceType, VERBS};

/// The verbs of a custom resource, in the order kube-apiserver lists them.
const CUSTOM_VERBS: [&str; 8] = [
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "create",
    "update",
    "watch",
];

/// The verbs a resource's discovery entry lists: Namespaces have no `deletecollection`.
fn verbs(rt: &ResourceType) -> Vec<&'static str> {
    if rt.custom {
        return CUSTOM_VERBS.to_vec();
    }
    let whole_collection = !(rt.group.is_empty() && rt.resource == "namespaces");
    VERBS
        .into_iter()
        .filter(|v| whole_collection || *v != "deletecollection")
        .collect()
}

/// Content type of an aggregated discovery v2 response (kubectl misparses anything else).
pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
/// Content type of an aggregated discovery v2beta1 response.
pub const AGGREGATED_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

fn subresources(rt: &ResourceType) -> Vec<(&'static str, Value, Vec<&'static str>)> {
    let mut subs = Vec::new();
    let own_kind = json!({"group": rt.group, "version": rt.version, "kind": rt.kind});
    if rt.group.is_empty() && rt.resource == "namespaces" {
        subs.push(("finalize", own_kind.clone(), vec!["update"]));
    }
    if rt.scale.is_some() {
        subs.push((
            "scale",
            json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}),
            vec!["get", "patch", "update"],
        ));
    }
    if rt.status {
        subs.push(("status", own_kind, vec!["get", "patch", "update"]));
    }
    subs
}

fn scope(rt: &ResourceType) -> &'static str {
    if rt.namespaced {
        "Namespaced"
    } else {
        "Cluster"
    }
}

fn aggregated_resource(rt: &ResourceType) -> Value {
    let mut r = json!({
        "resource": rt.resource,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": scope(rt),
        "singularResource": rt.singular,
        "verbs": verbs(rt),
    });
    if !rt.short_names.is_empty() {
        r["shortNames"] = json!(rt.short_names);
    }
    if !rt.categories.is_empty() {
        r["categories"] = json!(rt.categories);
    }
    let subs: Vec<Value> = subresources(rt)
        .into_iter()
        .map(|(name, kind, verbs)| json!({"subresource": name, "responseKind": kind, "verbs": verbs}))
        .collect();
    if !subs.is_empty() {
        r["subresources"] = json!(subs);
    }
    r
}

fn aggregated_group(g: &GroupInfo) -> Value {
    let versions: Vec<Value> = g
        .versions
        .iter()
        .map(|(v, types)| {
            json!({"version": v,
                "resources": types.iter().map(|t| aggregated_resource(t)).collect::<Vec<_>>(),
                "freshness": "Current"})
        })
        .collect();
    let mut meta = json!({"creationTimestamp": null});
    if !g.name.is_empty() {
        meta["name"] = json!(g.name);
    }
    json!({"metadata": meta, "versions": versions})
}

/// The aggregated discovery document of `/api` (`core`) or `/apis`.
pub fn aggregated(registry: &Registry, core: bool, api_version: &str) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|g| g.name.is_empty() == core)
        .map(aggregated_group)
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items})
}

/// `APIVersions` for `/api` (without an apiVersion, as kube-apiserver sends it).
pub fn core_versions(server_address: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})
}

fn group_doc(g: &GroupInfo) -> Value {
    let versions: Vec<Value> = g
        .versions
        .iter()
        .map(|(v, _)| json!({"groupVersion": format!("{}/{v}", g.name), "version": v}))
        .collect();
    let preferred = versions.first().cloned().unwrap_or(Value::Null);
    json!({"name": g.name, "versions": versions, "preferredVersion": preferred})
}

/// `APIGroupList` for `/apis`.
pub fn group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|g| !g.name.is_empty())
        .map(group_doc)
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `APIGroup` for `/apis/GROUP`, if the group is served.
pub fn group(registry: &Registry, name: &str) -> Option<Value> {
    let g = registry
        .groups()
        .into_iter()
        .find(|g| g.name == name && !name.is_empty())?;
    let mut doc = group_doc(&g);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// `APIResourceList` for `/api/v1` or `/apis/G/V`, if that group version is served.
pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types: Vec<_> = registry
        .types()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .collect();
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for t in types {
        let mut r = json!({"name": t.resource, "singularName": t.singular, "namespaced": t.namespaced,
            "kind": t.kind, "verbs": verbs(t)});
        if !t.short_names.is_empty() {
            r["shortNames"] = json!(t.short_names);
        }
        if !t.categories.is_empty() {
            r["categories"] = json!(t.categories);
        }
        resources.push(r);
        for (name, kind, verbs) in subresources(t) {
            let mut s = json!({"name": format!("{}/{name}", t.resource), "singularName": "",
                "namespaced": t.namespaced, "kind": kind["kind"], "verbs": verbs});
            if name == "scale" {
                s["group"] = json!("autoscaling");
                s["version"] = json!("v1");
            }
            resources.push(s);
        }
    }
    // kube-apiserver lists resources by name, subresources after their resource.
    resources.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    if group.is_empty() {
        // The legacy group's list has no apiVersion.
        return Some(
            json!({"kind": "APIResourceList", "groupVersion": version, "resources": resources}),
        );
    }
    let gv = format!("{group}/{version}");
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregated_documents_split_core_from_groups() {
        let r = Registry::builtin();
        let core = aggregated(&r, true, "apidiscovery.k8s.io/v2");
        assert_eq!(core["items"].as_array().unwrap().len(), 1);
        let v1 = &core["items"][0]["versions"][0];
        let pods = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["resource"] == "pods")
            .unwrap();
        assert_eq!(pods["categories"], json!(["all"]));
        assert_eq!(pods["subresources"][0]["subresource"], "status");
        let groups = aggregated(&r, false, "apidiscovery.k8s.io/v2");
        let apps = &groups["items"][0];
        assert_eq!(apps["metadata"]["name"], "apps");
        let deploy = &apps["versions"][0]["resources"][0];
        assert_eq!(deploy["subresources"][0]["responseKind"]["kind"], "Scale");
    }

    #[test]
    fn legacy_documents() {
        let r = Registry::builtin();
        let list = group_list(&r);
        assert_eq!(
            list["groups"][0]["preferredVersion"]["groupVersion"],
            "apps/v1"
        );
        assert!(group(&r, "nope").is_none());
        assert_eq!(group(&r, "batch").unwrap()["kind"], "APIGroup");
        let v1 = resource_list(&r, "", "v1").unwrap();
        let names: Vec<&str> = v1["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"pods")
                && names.contains(&"pods/status")
                && names.contains(&"namespaces/finalize")
        );
        assert!(resource_list(&r, "apps", "v2").is_none());
    }
}
