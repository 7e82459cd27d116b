//! Observed apps: Argo CD Applications and Flux Kustomizations/HelmReleases found in the
//! connected clusters, published beside rekon's own apps.
//!
//! When a cluster's discovery shows Argo CD's or Flux's kinds, their objects are watched into
//! the cluster's live store like any other kind; each Application, Kustomization and
//! HelmRelease becomes an app row built from its status (see `integrations::argocd` and
//! `integrations::flux`), with a tree made from `status.resources` or the inventory and the
//! live owner walk below them (their kinds are watched as needed). A change to an observed
//! object, or to an object under one (walking ownerReferences up), rebuilds only the apps it
//! touches. Actions and followers are in `observed_actions.rs`.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::Value;

use crate::cluster::{ApiCatalog, KindState, LiveObject};
use crate::integrations::{self, ObservedKind, argocd, flux, flux_graph, images};
use crate::model::{AppCondition, AppDetail, AppSnapshot, GroupKind, ResourceKey};

use super::actor::Actor;
use super::clusters::child_kinds;
use super::observed::{ObservedApp, ObservedId};

/// Workload kinds watched in full where ImagePolicies exist, to compare their images.
const WORKLOAD_KINDS: [(&str, &str); 4] = [
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("batch", "CronJob"),
];

/// The kinds a cluster's catalog serves that observing Argo CD and Flux needs: their own.
/// The workload kinds follow once an ImagePolicy exists (see
/// [`Actor::watch_workloads_for_policies`]): with Flux's image CRDs installed but unused,
/// watching every Deployment cluster-wide was most of an observing TUI's memory
/// (heap profile).
fn observed_kinds(catalog: &ApiCatalog) -> Vec<GroupKind> {
    argocd::KINDS
        .iter()
        .map(|k| GroupKind::new(argocd::GROUP, *k))
        .chain(flux::KINDS.iter().map(|(g, k)| GroupKind::new(*g, *k)))
        .filter(|gk| catalog.preferred(gk).is_some())
        .collect()
}

fn workload_kinds() -> impl Iterator<Item = GroupKind> {
    WORKLOAD_KINDS.iter().map(|(g, k)| GroupKind::new(*g, *k))
}

impl Actor {
    /// Starts watching Argo CD's and Flux's kinds on a cluster whose discovery serves them.
    pub(super) fn observe_cluster(&mut self, c: usize) {
        let Some(catalog) = self.clusters[c].catalog.clone() else {
            return;
        };
        for gk in observed_kinds(&catalog) {
            self.ensure_watch(c, &gk, false);
        }
    }

    /// Whether every reachable cluster has listed the observed kinds once.
    pub(super) fn observed_settled(&self) -> bool {
        self.clusters.iter().all(|cl| {
            if cl.catalog.is_none() {
                return cl.catalog_error.is_some();
            }
            let Some(catalog) = &cl.catalog else {
                return true;
            };
            observed_kinds(catalog)
                .iter()
                .all(|gk| cl.store.kind_state(gk) != Some(&KindState::Syncing))
                // Every other watch once started too: the kinds below an observed app's
                // resources (its tree's children) and the workloads the image overview
                // compares against; a `tree` right after a sync missed the ReplicaSets.
                && cl.store.all_synced()
        })
    }

    /// Watches the workload kinds of cluster `c` in full once it holds an ImagePolicy.
    fn watch_workloads_for_policies(&mut self, c: usize) {
        if self
            .observed
            .policies
            .get(&c)
            .is_some_and(|p| !p.is_empty())
        {
            for gk in workload_kinds() {
                self.ensure_watch(c, &gk, false);
            }
        }
    }

    /// The observed apps' rows.
    pub(super) fn observed_snapshots(&self) -> impl Iterator<Item = AppSnapshot> + '_ {
        self.observed.apps.values().map(|a| (*a.summary).clone())
    }

    /// Rebuilds the observed apps a batch of live changes touches, and advances followers.
    pub(super) fn observed_changed(&mut self, c: usize, changed: &[ResourceKey], all: bool) {
        let mut touched: BTreeSet<ObservedId> = BTreeSet::new();
        let mut flux_changed = false;
        for key in changed {
            if let Some(kind) = ObservedKind::of(&key.group, &key.kind) {
                touched.insert(ObservedId {
                    cluster: c,
                    kind,
                    namespace: key.namespace.clone(),
                    name: key.name.clone(),
                });
            }
            if flux::is_flux_kind(&key.group, &key.kind) {
                flux_changed = true;
                if key.kind == "ImagePolicy" {
                    let set = self.observed.policies.entry(c).or_default();
                    if self.clusters[c].store.get(key).is_some() {
                        set.insert(key.clone());
                    } else {
                        set.remove(key);
                    }
                }
            }
            self.observed_touched_by(c, key, &mut touched);
        }
        self.watch_workloads_for_policies(c);
        if all || flux_changed {
            // Sources, dependencies and image policies cross apps: rebuild the cluster's
            // Flux apps (a handful, unlike the objects below them).
            touched.extend(
                self.observed
                    .apps
                    .keys()
                    .filter(|id| {
                        id.cluster == c && (all || id.kind != ObservedKind::ArgoApplication)
                    })
                    .cloned(),
            );
        }
        if all {
            // A relist may have brought observed objects the per-key path never saw.
            let found: Vec<ObservedId> = self.clusters[c]
                .store
                .iter()
                .filter_map(|(k, _)| {
                    ObservedKind::of(&k.group, &k.kind).map(|kind| ObservedId {
                        cluster: c,
                        kind,
                        namespace: k.namespace.clone(),
                        name: k.name.clone(),
                    })
                })
                .collect();
            touched.extend(found);
        }
        for id in touched {
            self.rebuild_observed(&id);
        }
        self.advance_followers(c, changed);
    }

    /// Observed apps whose tree holds `key`: it is a managed object, or one of its owners is.
    fn observed_touched_by(&self, c: usize, key: &ResourceKey, out: &mut BTreeSet<ObservedId>) {
        if !self.observed.manages_any() {
            return;
        }
        let store = &self.clusters[c].store;
        let mut current = Some(key.clone());
        let mut hops = 0;
        while let Some(k) = current.take() {
            if let Some(apps) = self.observed.managing(c, &k) {
                out.extend(apps.iter().cloned());
            }
            let Some(obj) = store.get(&k) else { break };
            hops += 1;
            if hops > 8 {
                break;
            }
            current = obj
                .owners
                .first()
                .and_then(|uid| store.key_of_uid(uid))
                .cloned();
        }
    }

    /// Rebuilds one observed app from the live store (or drops it when its object is gone).
    pub(super) fn rebuild_observed(&mut self, id: &ObservedId) {
        let c = id.cluster;
        let key = id.key();
        let Some(live) = self.clusters[c].store.get(&key).map(LiveObject::value) else {
            if self.observed.remove(id) {
                self.dirty = true;
            }
            return;
        };
        let cluster_name = self.clusters[c].handle.name.clone();
        let now = jiff::Timestamp::now();
        let store = &self.clusters[c].store;
        let (mut snap, managed) = match id.kind {
            ObservedKind::ArgoApplication => {
                let snap = argocd::snapshot_with_detail(&live, &cluster_name, store, now);
                let managed: Vec<ResourceKey> =
                    argocd::managed(&live).into_iter().map(|m| m.key).collect();
                (snap, managed)
            }
            ObservedKind::FluxKustomization | ObservedKind::FluxHelmRelease => {
                let source = flux::source_of(&live)
                    .and_then(|k| store.get(&k))
                    .map(LiveObject::value);
                let health = |k: &ResourceKey| match store.get(k) {
                    Some(o) => flux::LiveState::Present(crate::engine::health::assess(&o.value())),
                    None if store.kind_state(&k.group_kind()) == Some(&KindState::Ready) => {
                        flux::LiveState::Missing
                    }
                    None => flux::LiveState::Unknown,
                };
                let mut snap = flux::snapshot(&live, &cluster_name, source.as_deref(), &health);
                if snap.repo_url.is_empty() {
                    // A HelmRelease's chart source is a HelmChart, which names no URL: the
                    // repository is its own source's (a GitRepository or HelmRepository).
                    let chart_source = source
                        .as_deref()
                        .and_then(flux::source_of)
                        .and_then(|k| store.get(&k))
                        .map(LiveObject::value);
                    if let Some(url) = chart_source.as_deref().and_then(|s| s.pointer("/spec/url"))
                    {
                        snap.repo_url = url.as_str().unwrap_or_default().to_string();
                    }
                }
                let tree = flux_graph::tree(&live, Some(snap.sync), store, now);
                let mut conditions = Vec::new();
                let st = flux::status(&live);
                if st.ready == "False" || st.health == crate::model::Health::Degraded {
                    conditions.push(AppCondition {
                        kind: if st.reason.is_empty() {
                            "NotReady".into()
                        } else {
                            st.reason.clone()
                        },
                        message: st.message.clone(),
                    });
                }
                conditions.extend(self.images_behind(c, &live));
                snap.detail = Some(Arc::new(AppDetail {
                    tree,
                    diffs: Vec::new(),
                    compare_method: "as Flux reports it".into(),
                    conditions,
                    history: Vec::new(),
                    timeline: Vec::new(),
                }));
                let managed = flux::inventory(&live).into_iter().map(|e| e.key).collect();
                (snap, managed)
            }
        };
        let diffs = self.observed.apps.get(id).and_then(|a| a.diffs.clone());
        if let (Some(diffs), Some(detail)) = (&diffs, snap.detail.as_mut()) {
            let d = Arc::make_mut(detail);
            d.diffs = diffs.clone();
            d.compare_method = "rendered by rekon from Git, compared with live".into();
        }
        // Watch what the tree walks through, so it fills in as the lists arrive.
        let mut kinds: BTreeSet<GroupKind> = BTreeSet::new();
        for m in &managed {
            let gk = m.group_kind();
            for (g, k) in child_kinds(&gk) {
                kinds.insert(GroupKind::new(*g, *k));
            }
            kinds.insert(gk);
        }
        let app = ObservedApp {
            summary: Arc::new(snap),
            managed,
            diffs,
        };
        if self.observed.replace(id, app) {
            self.dirty = true;
        }
        for gk in kinds {
            self.ensure_watch(c, &gk, false);
        }
    }

    /// ImageBehind conditions for the workloads of a Flux app that run another tag than an
    /// ImagePolicy selects.
    fn images_behind(&self, c: usize, app: &Value) -> Vec<AppCondition> {
        let Some(policies) = self.observed.policies.get(&c).filter(|p| !p.is_empty()) else {
            return Vec::new();
        };
        let store = &self.clusters[c].store;
        let policy_objs: Vec<Arc<Value>> = policies
            .iter()
            .filter_map(|k| store.get(k))
            .map(LiveObject::value)
            .collect();
        let workloads: Vec<Arc<Value>> = flux::inventory(app)
            .iter()
            .filter_map(|e| store.get(&e.key))
            .map(LiveObject::value)
            .collect();
        let repo = |k: &ResourceKey| store.get(k).map(LiveObject::value);
        images::overview(
            &self.clusters[c].handle.name,
            &refs(&policy_objs),
            &repo,
            &refs(&workloads),
        )
        .iter()
        .flat_map(|p| {
            p.behind().map(move |w| AppCondition {
                kind: "ImageBehind".into(),
                message: format!(
                    "{} {}/{} container {} runs {} but ImagePolicy {}/{} selects {}",
                    w.workload.kind,
                    w.workload.namespace,
                    w.workload.name,
                    w.container,
                    w.tag,
                    p.policy.namespace,
                    p.policy.name,
                    p.latest_tag
                ),
            })
        })
        .collect()
    }

    /// The Flux graph of every cluster that has Flux objects.
    pub(super) fn flux_graphs(&self) -> Vec<flux_graph::FluxGraph> {
        self.clusters
            .iter()
            .filter_map(|cl| {
                let objs: Vec<Arc<Value>> = cl
                    .store
                    .iter()
                    .filter(|(k, _)| flux::is_flux_kind(&k.group, &k.kind))
                    .map(|(_, o)| o.value())
                    .collect();
                (!objs.is_empty()).then(|| flux_graph::build(&cl.handle.name, refs(&objs)))
            })
            .collect()
    }

    /// Image automation at a glance, every cluster.
    pub(super) fn image_overview(&self) -> Vec<images::PolicyImages> {
        let mut out = Vec::new();
        for (c, cl) in self.clusters.iter().enumerate() {
            let Some(keys) = self.observed.policies.get(&c) else {
                continue;
            };
            let policies: Vec<Arc<Value>> = keys
                .iter()
                .filter_map(|k| cl.store.get(k))
                .map(LiveObject::value)
                .collect();
            let workloads: Vec<Arc<Value>> = cl
                .store
                .iter()
                .filter(|(k, o)| {
                    !o.partial
                        && WORKLOAD_KINDS
                            .iter()
                            .any(|(g, kind)| k.group == *g && k.kind == *kind)
                })
                .map(|(_, o)| o.value())
                .collect();
            let repo = |k: &ResourceKey| cl.store.get(k).map(LiveObject::value);
            out.extend(images::overview(
                &cl.handle.name,
                &refs(&policies),
                &repo,
                &refs(&workloads),
            ));
        }
        out
    }

    /// Argo CD's AppProjects and ApplicationSets, every cluster.
    pub(super) fn argo_objects(&self) -> Vec<argocd::ArgoObject> {
        let mut out: Vec<argocd::ArgoObject> = self
            .clusters
            .iter()
            .flat_map(|cl| {
                cl.store
                    .iter()
                    .filter(|(k, _)| {
                        k.group == argocd::GROUP
                            && matches!(k.kind.as_str(), "AppProject" | "ApplicationSet")
                    })
                    .filter_map(|(_, o)| argocd::listing(&o.value(), &cl.handle.name))
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.cluster, &a.kind, &a.namespace, &a.name).cmp(&(
                &b.cluster,
                &b.kind,
                &b.namespace,
                &b.name,
            ))
        });
        out
    }

    /// Shows a project violation of one of rekon's own apps as a condition (the sync is
    /// refused with the same words).
    pub(super) fn apply_project_rules(&mut self, a: usize) {
        let Some(why) = self.project_violation(a) else {
            return;
        };
        let Some(summary) = self.apps[a].summary.as_mut() else {
            return;
        };
        let snap = Arc::make_mut(summary);
        snap.message = why.clone();
        if let Some(detail) = snap.detail.as_mut() {
            let d = Arc::make_mut(detail);
            if !d.conditions.iter().any(|c| c.message == why) {
                d.conditions.push(AppCondition {
                    kind: "InvalidSpecError".into(),
                    message: why,
                });
            }
        }
    }

    /// Why app `a` breaks its AppProject's rules, if it does.
    pub(super) fn project_violation(&self, a: usize) -> Option<String> {
        let rt = &self.apps[a];
        let desired = rt.desired.as_deref().map(Vec::as_slice).unwrap_or(&[]);
        integrations::project::check_app(&self.options.projects, &rt.app, desired).err()
    }
}

/// Borrows each parsed object, for functions that read a slice of plain references.
fn refs(objs: &[Arc<Value>]) -> Vec<&Value> {
    objs.iter().map(Arc::as_ref).collect()
}
