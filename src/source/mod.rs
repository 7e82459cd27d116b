//! Git sources (gix) and rendering of desired objects: directory, kustomize, helm.
