//! What a fresh cluster holds: the system namespaces with their `default` ServiceAccount,
//! the `kubernetes` Service, and simulated Ready Nodes.

use serde_json::{Value, json};

use super::gc;
use super::kinds::GroupResource;
use super::status::ApiError;
use super::store::Store;
use super::write::WriteOptions;

/// Namespaces every cluster starts with.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

fn create(
    store: &Store,
    group: &str,
    resource: &str,
    ns: &str,
    obj: Value,
    manager: &str,
) -> Result<(), ApiError> {
    let rt = store
        .registry()
        .preferred(&GroupResource::new(group, resource))
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("{resource} is not served")))?;
    store.create(&rt, ns, obj, &WriteOptions::by(manager))?;
    Ok(())
}

/// A simulated Node, Ready.
pub fn node(name: &str, index: usize, now: &str) -> (Value, Value) {
    let obj = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"}},
        "spec": {"podCIDR": format!("10.244.{index}.0/24"), "podCIDRs": [format!("10.244.{index}.0/24")]}});
    let condition = |ty: &str, status: &str, reason: &str, message: &str| {
        json!({"type": ty, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": now, "lastTransitionTime": now})
    };
    let capacity =
        json!({"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"});
    let status = json!({
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ],
        "addresses": [{"type": "InternalIP", "address": format!("172.18.0.{}", index + 2)}, {"type": "Hostname", "address": name}],
        "capacity": capacity, "allocatable": capacity,
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {"kubeletVersion": super::VERSION_GIT, "kubeProxyVersion": super::VERSION_GIT,
            "containerRuntimeVersion": "containerd://2.0.0", "osImage": "rekon simulated node",
            "kernelVersion": "6.1.0", "operatingSystem": "linux", "architecture": "amd64",
            "machineID": format!("{index:032x}"), "systemUUID": format!("{index:032x}"), "bootID": format!("{index:032x}")}
    });
    (obj, status)
}

/// Fills a new store.
pub fn seed(store: &Store, nodes: usize) -> Result<(), ApiError> {
    for ns in SYSTEM_NAMESPACES {
        let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        create(store, "", "namespaces", "", obj, "kube-apiserver")?;
        gc::ensure_default_service_account(store, ns);
    }
    let svc = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "sessionAffinity": "None",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}});
    create(store, "", "services", "default", svc, "kube-apiserver")?;
    let now = store.clock().now();
    let rt = store
        .registry()
        .preferred(&GroupResource::new("", "nodes"))
        .cloned()
        .ok_or_else(|| ApiError::internal("nodes are not served"))?;
    for i in 1..=nodes {
        let name = format!("node-{i}");
        let (obj, status) = node(&name, i, &now);
        store.create(&rt, "", obj, &WriteOptions::by("kubelet"))?;
        store.update_status(&rt, "", &name, status, None, "kubelet")?;
    }
    Ok(())
}
