//! The compare flow of one app: render, prepare desired objects, watch their kinds,
//! compare off the engine task, summarize.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::cluster::compare::CompareJob;
use crate::cluster::{ApiCatalog, KindState, LiveObject, compare};
use crate::engine::desired::DesiredObject;
use crate::engine::{desired, timeline};
use crate::model::{GroupKind, ResourceKey};

use super::actor::Actor;
use super::clusters::child_kinds;
use super::messages::{CompareTurn, Msg};
use super::summary;

impl Actor {
    pub(super) fn render(&mut self, a: usize, fetch: bool) {
        let app = &mut self.apps[a];
        app.render_generation += 1;
        let generation = app.render_generation;
        let application = app.app.clone();
        let sources = self.options.sources.clone();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || {
            let result = sources
                .resolve(
                    &application.spec.source.repo_url,
                    application.spec.source.revision(),
                    fetch,
                )
                .and_then(|commit| sources.render_app(&application, &commit));
            let _ = tx.send(Msg::Rendered {
                app: a,
                generation,
                result,
            });
        });
    }

    pub(super) fn apps_touched_by(
        &self,
        cluster: usize,
        key: &ResourceKey,
        out: &mut BTreeSet<usize>,
    ) {
        let store = &self.clusters[cluster].store;
        // An Event touches the apps of the object it is about (their timelines).
        let about = (key.group.is_empty() && key.kind == "Event")
            .then(|| store.get(key))
            .flatten()
            .and_then(|ev| store.key_of_uid(ev.involved_uid()?))
            .cloned();
        let mut current = Some(about.unwrap_or_else(|| key.clone()));
        let mut hops = 0;
        while let Some(k) = current.take() {
            if let Some(apps) = self.wanted_by.get(k.fingerprint_in(cluster)) {
                out.extend(apps.iter().copied());
            }
            let Some(obj) = store.get(&k) else { break };
            if let Some(app) = obj.tracking_app() {
                out.extend((0..self.apps.len()).filter(|a| {
                    self.apps[*a].instance == app && self.apps[*a].cluster == Ok(cluster)
                }));
            }
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
        // A deleted object is gone from the store; the apps that want it still need a
        // recompare. `wanted_by` is the index of every app's desired keys: scanning the
        // desired lists instead cost O(desired objects) per deletion (profiled: a third of
        // `rekon diff` on an app of 1,000 objects).
        if store.get(key).is_none()
            && let Some(apps) = self.wanted_by.get(key.fingerprint_in(cluster))
        {
            out.extend(apps.iter().copied());
        }
    }

    /// Starts a watch of `gk` on cluster `c` (see `ClusterState::ensure_watch`).
    pub(super) fn ensure_watch(&mut self, c: usize, gk: &GroupKind, metadata_only: bool) {
        self.clusters[c].ensure_watch(c, gk, metadata_only, &self.tx);
    }

    /// Turns the rendered manifests into desired objects for the app's cluster, starts the
    /// watches they need and compares.
    pub(super) fn prepare(&mut self, a: usize) {
        let Ok(c) = self.apps[a].cluster else {
            self.summarize(a);
            return;
        };
        let Some(Ok(rendered)) = &self.apps[a].rendered else {
            self.summarize(a);
            return;
        };
        let Some(catalog) = self.clusters[c].catalog.clone() else {
            self.summarize(a);
            return;
        };
        let dest_ns = self.apps[a]
            .app
            .spec
            .destination
            .namespace
            .clone()
            .unwrap_or_default();
        let objects = desired::prepare(
            &rendered.manifests,
            &dest_ns,
            &self.apps[a].instance,
            &catalog,
            &self.clusters[c].handle.name,
        );
        let old = self.apps[a].desired.as_deref().map(Vec::as_slice);
        self.wanted_by.replace(a, c, old, &objects);
        let mut kinds: BTreeSet<GroupKind> = BTreeSet::new();
        for d in &objects {
            let gk = d.key.group_kind();
            for (g, k) in child_kinds(&gk) {
                kinds.insert(GroupKind::new(*g, *k));
            }
            kinds.insert(gk);
        }
        self.apps[a].desired = Some(Arc::new(objects));
        for gk in kinds {
            self.ensure_watch(c, &gk, false);
        }
        self.compare(a);
    }

    /// Fills the app's timeline: its events (of every live object in its tree), its syncs
    /// (history and the current operation) and its own health and sync transitions.
    fn add_timeline(&mut self, a: usize, snap: &mut crate::model::AppSnapshot) {
        let now = jiff::Timestamp::now()
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        if let Some(prev) = &self.apps[a].summary {
            let changes = timeline::transitions(prev, snap, &now);
            let own = &mut self.apps[a].transitions;
            own.extend(changes);
            if own.len() > timeline::MAX_ENTRIES {
                own.drain(..own.len() - timeline::MAX_ENTRIES);
            }
        }
        let Some(detail) = snap.detail.as_mut() else {
            return;
        };
        let mut entries = self.apps[a].transitions.clone();
        for h in &detail.history {
            entries.extend(timeline::history_entries(h));
        }
        // A finished full sync is in the history already; show the operation itself only
        // while it runs, or when history does not record it (dry runs, selective syncs).
        if let Some(op) = &snap.operation
            && !detail.history.iter().any(|h| h.started_at == op.started_at)
        {
            entries.extend(timeline::operation_entries(op));
        }
        if let Ok(c) = self.apps[a].cluster {
            let store = &self.clusters[c].store;
            for uid in timeline::tree_uids(&detail.tree) {
                entries.extend(
                    store
                        .events_about(&uid)
                        .filter_map(|ev| timeline::event_entry(&ev.value())),
                );
            }
        }
        let arranged = timeline::arrange(entries);
        if detail.timeline != arranged {
            Arc::make_mut(detail).timeline = arranged;
        }
    }

    /// Watches, metadata only, the kinds apps usually hold, so objects an app still tracks
    /// but no longer renders (to be pruned) are found even when Git dropped their kind.
    ///
    /// Waits until the cluster's apps have all rendered once: a kind an app wants in full
    /// would otherwise be listed twice, metadata-only then in full (profiled: ConfigMaps,
    /// Secrets and Services of a 1,000-app cluster listed twice on every cold start).
    /// Comparisons wait for these watches (see `ClusterState::prunable_pending`).
    pub(super) fn watch_prunable_kinds(&mut self, c: usize) {
        if self.clusters[c].catalog.is_none() || self.renders_pending(c) {
            return;
        }
        // Prune candidates and timelines belong to rekon's own apps: a cluster that none
        // of them deploys to (only observed Argo CD or Flux apps) needs neither.
        if !self.apps.iter().any(|rt| rt.cluster == Ok(c)) {
            return;
        }
        self.clusters[c].watch_prunable_kinds(c, &self.tx);
    }

    /// Whether an app of cluster `c` has not rendered yet.
    fn renders_pending(&self, c: usize) -> bool {
        self.apps
            .iter()
            .any(|rt| rt.cluster == Ok(c) && rt.rendered.is_none())
    }

    /// Starts a comparison of app `a` if its inputs are ready.
    pub(super) fn compare(&mut self, a: usize) {
        if self.compare_deferred(a) {
            return;
        }
        let Ok(c) = self.apps[a].cluster else { return };
        if self.clusters[c].prunable_pending() {
            // The Relisted of the last of them compares every app of the cluster.
            return;
        }
        let Some(desired) = self.apps[a].desired.clone() else {
            return;
        };
        let Some(catalog) = self.clusters[c].catalog.clone() else {
            return;
        };
        let store = &self.clusters[c].store;
        let mut unavailable = HashMap::new();
        for d in desired.iter() {
            match store.kind_state(&d.key.group_kind()) {
                Some(KindState::Syncing) => return, // wait for the first list
                Some(KindState::Forbidden(m)) => {
                    unavailable.insert(
                        (d.key.group.clone(), d.key.kind.clone()),
                        format!("forbidden: {m}"),
                    );
                }
                Some(KindState::Failing(m)) if store.of_kind_count(&d.key.group_kind()) == 0 => {
                    unavailable.insert((d.key.group.clone(), d.key.kind.clone()), m.clone());
                }
                _ => {}
            }
        }
        if self.apps[a].comparing {
            self.apps[a].stale = true;
            return;
        }
        let rt = &mut self.apps[a];
        rt.compare_generation += 1;
        rt.comparing = true;
        let generation = rt.compare_generation;
        // The job (copies of the app's live objects and what they need) is built when the
        // comparison's turn comes, from the store as it is then: built at once for 1,000
        // apps, waiting jobs and their comparisons' futures held 30 MB (heap profile).
        let mut turn = CompareTurn {
            app: a,
            cluster: c,
            generation,
            catalog,
            desired,
            unavailable,
            permit: None,
        };
        let turns = self.compare_turns.clone();
        // A free turn (a live change after a quiet moment) starts at once, with no round
        // trip through the engine's queue.
        if let Ok(permit) = turns.clone().try_acquire_owned() {
            turn.permit = Some(permit);
            self.start_compare(turn);
            return;
        }
        let tx = self.tx.clone();
        tokio::spawn(async move {
            // The semaphore is never closed; without a permit the comparison still runs.
            turn.permit = turns.acquire_owned().await.ok();
            let _ = tx.send(Msg::CompareTurn(Box::new(turn)));
        });
    }

    /// Builds the job of a comparison whose turn came and runs it off the engine's task,
    /// holding its turn until the outcomes are sent.
    pub(super) fn start_compare(&mut self, turn: CompareTurn) {
        let a = turn.app;
        if self.apps[a].compare_generation != turn.generation {
            return;
        }
        let mut job = self.build_job(a, turn.cluster, turn.catalog, turn.desired);
        job.unavailable = turn.unavailable;
        let permit = turn.permit;
        let generation = turn.generation;
        let cache = self.cache.clone();
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let outcomes = compare::run(job, cache).await;
            drop(permit);
            let _ = tx.send(Msg::Compared {
                app: a,
                generation,
                outcomes,
            });
        });
    }

    /// Gathers what comparing `desired` needs from the engine's state (live copies, tracked
    /// extras), so the comparison itself can run elsewhere.
    pub(super) fn build_job(
        &self,
        a: usize,
        c: usize,
        catalog: Arc<ApiCatalog>,
        desired: Arc<Vec<DesiredObject>>,
    ) -> CompareJob {
        let store = &self.clusters[c].store;
        let live: HashMap<ResourceKey, LiveObject> = desired
            .iter()
            .filter_map(|d| store.get(&d.key).map(|o| (d.key.clone(), o.clone())))
            .collect();
        let wanted: HashSet<&ResourceKey> = desired.iter().map(|d| &d.key).collect();
        let instance = &self.apps[a].instance;
        let extra: Vec<LiveObject> = store
            .tracked_by(instance)
            .filter(|k| !wanted.contains(k))
            .filter_map(|k| store.get(k))
            .filter(|o| o.is_tracked_by(instance))
            .cloned()
            .collect();
        CompareJob {
            client: self.clusters[c].handle.client.clone(),
            cluster: self.clusters[c].handle.name.clone(),
            catalog,
            desired,
            live,
            extra,
            unavailable: HashMap::new(),
            app_ignore: self.apps[a].app.spec.ignore_differences.clone(),
            config_ignore: self.config_ignore.clone(),
        }
    }

    /// Rebuilds app `a`'s published summary from its latest inputs.
    pub(super) fn summarize(&mut self, a: usize) {
        let rt = &self.apps[a];
        let (cluster_name, store, cluster_problem) = match rt.cluster {
            Ok(c) => {
                let cl = &self.clusters[c];
                // Still connecting is not a problem: the app just waits.
                let problem = match (&cl.catalog, &cl.catalog_error) {
                    (None, Some(e)) => {
                        Some(format!("cluster {} is unreachable: {e}", cl.handle.name))
                    }
                    _ => None,
                };
                (cl.handle.name.clone(), Some(&cl.store), problem)
            }
            Err(ref e) => (rt.destination_label(), None, Some(e.clone())),
        };
        let input = summary::SummaryInput {
            app: &rt.app,
            cluster: &cluster_name,
            cluster_problem: cluster_problem.as_deref(),
            rendered: rt.rendered.as_ref(),
            desired: rt.desired.as_deref().map(Vec::as_slice),
            outcomes: rt.outcomes.as_deref(),
            store,
            now: jiff::Timestamp::now(),
        };
        let mut snap = summary::summarize(&input);
        self.decorate(a, &mut snap);
        self.add_timeline(a, &mut snap);
        if self.options.skip_trees {
            keep_tree_root(&mut snap);
        }
        self.apps[a].summary = Some(Arc::new(snap));
        self.apply_project_rules(a);
        self.dirty = true;
    }
}

/// Drops the live descendants and managed resources from a snapshot's tree, once the timeline
/// has read their UIDs, for clients that never show a tree (see `EngineOptions::skip_trees`).
/// Summaries are built one app at a time, so only one whole tree is alive at once.
fn keep_tree_root(snap: &mut crate::model::AppSnapshot) {
    if let Some(detail) = snap.detail.as_mut()
        && !detail.tree.children.is_empty()
    {
        Arc::make_mut(detail).tree.children = Vec::new();
    }
}
