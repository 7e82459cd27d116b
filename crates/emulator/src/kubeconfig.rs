//! Kubeconfig files that point kubectl (or kube) at an emulated cluster over plain HTTP.

use std::path::Path;

use serde_json::json;

/// A kubeconfig whose current context reaches `server` with no credentials.
pub fn kubeconfig_yaml(server: &str, cluster: &str, context: &str) -> String {
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server}}],
        "users": [{"name": cluster, "user": {}}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": cluster, "namespace": "default"}}],
        "current-context": context,
        "preferences": {},
    });
    crate::yaml::to_string(&doc)
}

/// Writes the kubeconfig to `path`, creating its folder.
pub fn write(path: &Path, server: &str, cluster: &str, context: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, kubeconfig_yaml(server, cluster, context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_names_the_server_and_current_context() {
        let text = kubeconfig_yaml("http://127.0.0.1:1234", "rekon", "emu");
        let v: serde_json::Value = serde_yaml::from_str(&text).unwrap();
        assert_eq!(v["current-context"], "emu");
        assert_eq!(
            v["clusters"][0]["cluster"]["server"],
            "http://127.0.0.1:1234"
        );
        assert_eq!(v["contexts"][0]["context"]["cluster"], "rekon");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/kubeconfig");
        write(&p, "http://x", "c", "ctx").unwrap();
        assert!(std::fs::read_to_string(p).unwrap().contains("http://x"));
    }
}
