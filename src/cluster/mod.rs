//! Connecting to clusters: kubeconfig contexts, `--server`, discovery and the live watch cache.
