//! Deployment controller: one ReplicaSet per pod template (`<deploy>-<pod-template-hash>`),
//! rolling updates within maxSurge/maxUnavailable (or Recreate), revision history, and the
//! status Argo CD's health check and `kubectl rollout status` read — worked out the way
//! kube-controller-manager's `sync.go`/`progress.go` work it out.

use serde_json::{Map, Value, json};

use super::hash::pod_template_hash;
use super::meta;
use super::{CONTROLLER_MANAGER, Ctx, Effect, EventSpec, EventType, Obj, Outcome};

mod status;

use status::{compute_status, set_condition};

const COMPONENT: &str = "deployment-controller";
const HASH_LABEL: &str = "pod-template-hash";
const REVISION: &str = "deployment.kubernetes.io/revision";
const DESIRED: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
const DEFAULT_DEADLINE_SECS: i64 = 600;

/// A ReplicaSet as this step plans it: the object read, and the replica count it should get.
struct Planned {
    obj: Obj,
    replicas: i64,
    revision: i64,
    annotations_changed: bool,
}

impl Planned {
    fn new(obj: Obj) -> Self {
        Planned {
            replicas: spec_replicas(&obj),
            revision: revision_of(&obj),
            obj,
            annotations_changed: false,
        }
    }
    fn status_int(&self, field: &str) -> i64 {
        meta::i64_at(&self.obj, &["status", field]).unwrap_or(0)
    }
    fn name(&self) -> &str {
        meta::name(&self.obj)
    }
}

fn spec_replicas(obj: &Value) -> i64 {
    meta::count_at(obj, &["spec", "replicas"], 1)
}

fn revision_of(obj: &Value) -> i64 {
    meta::annotation(obj, REVISION).parse().unwrap_or(0)
}

/// The rollout knobs of a Deployment, resolved against its replica count.
struct Strategy {
    recreate: bool,
    max_surge: i64,
    max_unavailable: i64,
}

impl Strategy {
    fn of(d: &Value, replicas: i64) -> Self {
        let recreate = meta::str_at(d, &["spec", "strategy", "type"]) == "Recreate";
        let ru = meta::at(d, &["spec", "strategy", "rollingUpdate"]);
        let surge = meta::int_or_percent(ru.and_then(|r| r.get("maxSurge")), "25%", replicas, true);
        let mut unavailable = meta::int_or_percent(
            ru.and_then(|r| r.get("maxUnavailable")),
            "25%",
            replicas,
            false,
        );
        // Kubernetes' ResolveFenceposts: both zero would never make progress.
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        Strategy {
            recreate,
            max_surge: if recreate { 0 } else { surge },
            max_unavailable: if recreate || replicas == 0 {
                0
            } else {
                unavailable.min(replicas)
            },
        }
    }
}

/// One reconcile step for a Deployment.
pub fn reconcile(d: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if meta::is_terminating(d) {
        return out;
    }
    let ns = meta::namespace(d);
    let replicas = spec_replicas(d);
    let strategy = Strategy::of(d, replicas);
    let paused = meta::bool_at(d, &["spec", "paused"]);
    let template = meta::at(d, &["spec", "template"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let hash = pod_template_hash(&template, meta::i64_at(d, &["status", "collisionCount"]));
    let new_name = format!("{}-{}", meta::name(d), hash);

    let mut new_rs: Option<Planned> = None;
    let mut old: Vec<Planned> = Vec::new();
    for rs in ctx.world.list_owned("apps", "ReplicaSet", ns, meta::uid(d)) {
        if meta::is_terminating(&rs) {
            continue;
        }
        let is_new =
            new_rs.is_none() && (meta::name(&rs) == new_name || template_matches(&rs, &template));
        if is_new {
            new_rs = Some(Planned::new(rs));
        } else {
            old.push(Planned::new(rs));
        }
    }
    old.sort_by_key(|p| (p.revision, p.name().to_string()));
    let max_old_revision = old.iter().map(|p| p.revision).max().unwrap_or(0);

    let mut conditions: Vec<Value> = meta::array_at(d, &["status", "conditions"]).to_vec();
    let now = ctx.now_str();
    let deadline = meta::i64_at(d, &["spec", "progressDeadlineSeconds"])
        .unwrap_or(DEFAULT_DEADLINE_SECS)
        .max(0);

    if paused {
        set_condition(
            &mut conditions,
            "Progressing",
            "Unknown",
            "DeploymentPaused",
            "Deployment is paused",
            &now,
        );
    } else {
        if meta::condition(d, "Progressing")
            .is_some_and(|c| meta::str_at(c, &["reason"]) == "DeploymentPaused")
        {
            set_condition(
                &mut conditions,
                "Progressing",
                "Unknown",
                "DeploymentResumed",
                "Deployment is resumed",
                &now,
            );
        }
        match new_rs.as_mut() {
            None => {
                let initial = if strategy.recreate {
                    let old_pods = old
                        .iter()
                        .any(|p| p.replicas > 0 || p.status_int("replicas") > 0);
                    old.iter_mut().for_each(|p| p.replicas = 0);
                    if old_pods { 0 } else { replicas }
                } else {
                    new_rs_target(0, &old, replicas, &strategy)
                };
                let revision = max_old_revision + 1;
                let rs =
                    new_replica_set(d, &template, &hash, &new_name, initial, revision, &strategy);
                out.push(Effect::Create(rs));
                if initial > 0 {
                    out.event(scaling_event(d, &new_name, 0, initial));
                }
                set_condition(
                    &mut conditions,
                    "Progressing",
                    "True",
                    "NewReplicaSetCreated",
                    &format!("Created new replica set \"{new_name}\""),
                    &now,
                );
            }
            Some(new) => {
                if new.revision <= max_old_revision {
                    // Rolling back to an older template makes its ReplicaSet the newest revision.
                    new.revision = max_old_revision + 1;
                    new.annotations_changed = true;
                }
                if meta::condition(d, "Progressing").is_none() {
                    set_condition(
                        &mut conditions,
                        "Progressing",
                        "True",
                        "FoundNewReplicaSet",
                        &format!("Found new replica set \"{}\"", new.name()),
                        &now,
                    );
                }
                if strategy.recreate {
                    plan_recreate(new, &mut old, replicas);
                } else {
                    new.replicas = new_rs_target(new.replicas, &old, replicas, &strategy);
                    plan_old_scale_down(new, &mut old, replicas, &strategy);
                }
            }
        }
    }

    // Carry out the scaling plan, each ReplicaSet in one update.
    let planned: Vec<&Planned> = new_rs.iter().chain(old.iter()).collect();
    for p in &planned {
        let current = spec_replicas(&p.obj);
        let desired_ann = replicas.to_string();
        let needs_annotations = p.annotations_changed
            || (p.replicas != current && meta::annotation(&p.obj, DESIRED) != desired_ann.as_str());
        if p.replicas == current && !needs_annotations {
            continue;
        }
        let mut rs = (*p.obj).clone();
        meta::set_path(&mut rs, &["spec", "replicas"], json!(p.replicas));
        if let Some(ann) = annotations_mut(&mut rs) {
            ann.insert(REVISION.into(), json!(p.revision.to_string()));
            ann.insert(DESIRED.into(), json!(desired_ann));
            ann.insert(
                MAX_REPLICAS.into(),
                json!((replicas + strategy.max_surge).to_string()),
            );
        }
        out.push(Effect::Update(rs));
        if p.replicas != current {
            out.event(scaling_event(d, p.name(), current, p.replicas));
        }
    }
    cleanup_history(d, &old, &mut out);

    // The Deployment carries the revision of its newest ReplicaSet.
    let revision = new_rs.as_ref().map_or(max_old_revision + 1, |p| p.revision);
    if !paused && meta::annotation(d, REVISION) != revision.to_string() {
        let mut updated = d.clone();
        if let Some(ann) = annotations_mut(&mut updated) {
            ann.insert(REVISION.into(), json!(revision.to_string()));
            out.push(Effect::Update(updated));
        }
    }

    let status = compute_status(
        d,
        new_rs.as_ref(),
        &old,
        &strategy,
        conditions,
        paused,
        deadline,
        ctx,
        &mut out,
    );
    if !meta::status_is(d, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(d, status)));
    }
    out
}

/// Whether a ReplicaSet's template is the Deployment's, ignoring the hash label it adds.
fn template_matches(rs: &Value, template: &Value) -> bool {
    let Some(mut t) = meta::at(rs, &["spec", "template"]).cloned() else {
        return false;
    };
    if let Some(labels) = t
        .get_mut("metadata")
        .and_then(|m| m.get_mut("labels"))
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
        if labels.is_empty()
            && meta::at(template, &["metadata", "labels"]).is_none()
            && let Some(m) = t.get_mut("metadata").and_then(Value::as_object_mut)
        {
            m.remove("labels");
        }
    }
    meta::same_json(&t, template)
}

fn annotations_mut(obj: &mut Value) -> Option<&mut Map<String, Value>> {
    let md = obj.get_mut("metadata")?.as_object_mut()?;
    let ann = md.entry("annotations").or_insert_with(|| json!({}));
    if !ann.is_object() {
        *ann = json!({});
    }
    ann.as_object_mut()
}

/// Kubernetes' `NewRSNewReplicas` for RollingUpdate: grow the new ReplicaSet as far as
/// maxSurge allows, never past the desired count.
fn new_rs_target(current: i64, old: &[Planned], replicas: i64, s: &Strategy) -> i64 {
    if current >= replicas {
        return replicas;
    }
    let all: i64 = current + old.iter().map(|p| p.replicas).sum::<i64>();
    let max_total = replicas + s.max_surge;
    if all >= max_total {
        return current;
    }
    current + (max_total - all).min(replicas - current)
}

/// Kubernetes' `reconcileOldReplicaSets`: first drop old pods that are not available, then
/// scale old ReplicaSets down as far as keeps `replicas - maxUnavailable` pods available.
fn plan_old_scale_down(new: &Planned, old: &mut [Planned], replicas: i64, s: &Strategy) {
    let old_count: i64 = old.iter().map(|p| p.replicas).sum();
    if old_count == 0 {
        return;
    }
    let all = new.replicas + old_count;
    let min_available = replicas - s.max_unavailable;
    let new_unavailable = (new.replicas - new.status_int("availableReplicas")).max(0);
    let mut budget = all - min_available - new_unavailable;
    if budget <= 0 {
        return;
    }
    for p in old.iter_mut() {
        if budget <= 0 {
            break;
        }
        let unhealthy = (p.replicas - p.status_int("availableReplicas")).max(0);
        let cut = unhealthy.min(budget);
        p.replicas -= cut;
        budget -= cut;
    }
    let available: i64 = new.status_int("availableReplicas")
        + old
            .iter()
            .map(|p| p.status_int("availableReplicas").min(p.replicas))
            .sum::<i64>();
    let mut to_cut = available - min_available;
    for p in old.iter_mut() {
        if to_cut <= 0 {
            break;
        }
        let cut = p.replicas.min(to_cut);
        p.replicas -= cut;
        to_cut -= cut;
    }
}

/// Recreate: every old pod goes first, then the new ReplicaSet scales to the full count.
fn plan_recreate(new: &mut Planned, old: &mut [Planned], replicas: i64) {
    let old_running: i64 = old.iter().map(|p| p.status_int("replicas")).sum();
    for p in old.iter_mut() {
        p.replicas = 0;
    }
    if old_running == 0 {
        new.replicas = replicas;
    }
}

fn new_replica_set(
    d: &Value,
    template: &Value,
    hash: &str,
    name: &str,
    replicas: i64,
    revision: i64,
    s: &Strategy,
) -> Value {
    let mut template = template.clone();
    if let Some(md) = template
        .as_object_mut()
        .map(|t| t.entry("metadata").or_insert_with(|| json!({})))
        .and_then(Value::as_object_mut)
    {
        let labels = md.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.insert(HASH_LABEL.into(), json!(hash));
        }
    }
    let labels = meta::at(&template, &["metadata", "labels"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut selector = meta::at(d, &["spec", "selector"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(sel) = selector.as_object_mut() {
        let ml = sel.entry("matchLabels").or_insert_with(|| json!({}));
        if let Some(ml) = ml.as_object_mut() {
            ml.insert(HASH_LABEL.into(), json!(hash));
        }
    }
    // Like Kubernetes, the ReplicaSet inherits the Deployment's annotations, except the
    // ones that describe the Deployment itself.
    let mut annotations: Map<String, Value> = meta::at(d, &["metadata", "annotations"])
        .and_then(Value::as_object)
        .map(|a| {
            a.iter()
                .filter(|(k, _)| {
                    !k.starts_with("deployment.kubernetes.io/")
                        && k.as_str() != "kubectl.kubernetes.io/last-applied-configuration"
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    annotations.insert(DESIRED.into(), json!(spec_replicas(d).to_string()));
    annotations.insert(
        MAX_REPLICAS.into(),
        json!((spec_replicas(d) + s.max_surge).to_string()),
    );
    annotations.insert(REVISION.into(), json!(revision.to_string()));
    let mut spec = Map::new();
    spec.insert("replicas".into(), json!(replicas));
    if let Some(mrs) = meta::i64_at(d, &["spec", "minReadySeconds"]).filter(|v| *v > 0) {
        spec.insert("minReadySeconds".into(), json!(mrs));
    }
    spec.insert("selector".into(), selector);
    spec.insert("template".into(), template);
    json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": meta::namespace(d),
            "labels": labels,
            "annotations": annotations,
            "ownerReferences": [meta::controller_ref(d)],
        },
        "spec": spec,
    })
}

fn scaling_event(d: &Value, rs_name: &str, from: i64, to: i64) -> EventSpec {
    let verb = if to > from { "up" } else { "down" };
    EventSpec::new(
        d,
        COMPONENT,
        EventType::Normal,
        "ScalingReplicaSet",
        format!("Scaled {verb} replica set {rs_name} from {from} to {to}"),
    )
}

/// Deletes fully scaled-down old ReplicaSets beyond `revisionHistoryLimit`, oldest first.
fn cleanup_history(d: &Value, old: &[Planned], out: &mut Outcome) {
    let limit = meta::i64_at(d, &["spec", "revisionHistoryLimit"])
        .unwrap_or(10)
        .max(0) as usize;
    let idle: Vec<&Planned> = old
        .iter()
        .filter(|p| p.replicas == 0 && spec_replicas(&p.obj) == 0 && p.status_int("replicas") == 0)
        .collect();
    if idle.len() > limit {
        for p in &idle[..idle.len() - limit] {
            out.push(Effect::Delete(meta::key_of(&p.obj)));
        }
    }
}

#[cfg(test)]
mod tests;
