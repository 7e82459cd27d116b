//! Argo CD, Flux, ApplicationSets, AppProjects, clusters and notifications.

mod appset;
mod argocd;
mod cli;
mod clusters;
mod demo;
mod flux;
mod flux_helm;
mod notify;
mod project;
