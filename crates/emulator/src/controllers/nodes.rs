//! The three simulated Nodes (`node-1`..`node-3`) every embedded cluster runs on, and the
//! addresses derived from them.

use serde_json::{Value, json};

use crate::clock::SimTime;

/// Names of the simulated nodes.
pub const NODE_NAMES: [&str; 3] = ["node-1", "node-2", "node-3"];

/// Position of a simulated node (0-based), from its name `node-N`.
pub fn node_index(name: &str) -> Option<u32> {
    name.strip_prefix("node-")?
        .parse::<u32>()
        .ok()
        .and_then(|n| n.checked_sub(1))
}

/// The node's InternalIP (`172.18.0.2` for `node-1`, as kind numbers its containers).
pub fn node_ip(name: &str) -> String {
    format!("172.18.0.{}", 2 + node_index(name).unwrap_or(0) % 250)
}

/// A pod IP inside the node's pod CIDR (`10.244.N.0/24`), chosen by `id`.
pub fn pod_ip(node: &str, id: u64) -> String {
    format!(
        "10.244.{}.{}",
        node_index(node).unwrap_or(0) % 256,
        2 + id % 252
    )
}

/// The Node objects a fresh cluster starts with at calendar instant `now`: Ready, with
/// capacity and node info.
pub fn initial_nodes(now: SimTime) -> Vec<Value> {
    NODE_NAMES.iter().map(|n| node_object(n, now)).collect()
}

fn node_object(name: &str, now: SimTime) -> Value {
    let idx = node_index(name).unwrap_or(0);
    let t = now.rfc3339();
    let cond = |ctype: &str, status: &str, reason: &str, message: &str| {
        json!({"type": ctype, "status": status, "reason": reason, "message": message,
            "lastHeartbeatTime": t, "lastTransitionTime": t})
    };
    let resources = json!({
        "cpu": "4",
        "ephemeral-storage": "102626232Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": "16373520Ki",
        "pods": "110",
    });
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "topology.kubernetes.io/zone": format!("zone-{}", ["a", "b", "c"][idx as usize % 3]),
            },
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {
            "podCIDR": format!("10.244.{idx}.0/24"),
            "podCIDRs": [format!("10.244.{idx}.0/24")],
            "providerID": format!("rekon://emulator/{name}"),
        },
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": node_ip(name)},
                {"type": "Hostname", "address": name},
            ],
            "allocatable": resources.clone(),
            "capacity": resources,
            "conditions": [
                cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": crate::controllers::meta::hex_from(&format!("boot-{name}"), 32),
                "containerRuntimeVersion": "containerd://2.0.3",
                "kernelVersion": "6.8.0-rekon",
                "kubeProxyVersion": "",
                "kubeletVersion": "v1.33.0",
                "machineID": crate::controllers::meta::hex_from(&format!("machine-{name}"), 32),
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": crate::controllers::meta::hex_from(&format!("uuid-{name}"), 32),
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_ready_nodes_with_addresses() {
        let nodes = initial_nodes(SimTime::from_unix_secs(0));
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[1]["metadata"]["name"], "node-2");
        assert_eq!(nodes[1]["status"]["addresses"][0]["address"], "172.18.0.3");
        let ready = nodes[0]["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap();
        assert_eq!(ready["status"], "True");
        assert_eq!(pod_ip("node-3", 0), "10.244.2.2");
        assert_eq!(node_index("node-x"), None);
    }
}
