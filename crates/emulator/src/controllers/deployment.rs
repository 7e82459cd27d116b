//! Deployment controller: one ReplicaSet per pod template (`<deploy>-<pod-template-hash>`),
//! rolling updates within maxSurge/maxUnavailable (or Recreate), revision history, and the
//! status Argo CD's health check and `kubectl rollout status` read — worked out the way
//! kube-controller-manager's `sync.go`/`progress.go` work it out.

use serde_json::{Map, Value, json};

use super::hash::pod_template_hash;
use super::meta::{self, put_nonzero};
use super::{CONTROLLER_MANAGER, Ctx, Effect, EventSpec, EventType, Obj, Outcome};
use crate::clock::SimDuration;

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

/// Kubernetes' `SetDeploymentCondition`: an unchanged (status, reason) keeps the condition
/// as it is; otherwise it moves to the end, keeping lastTransitionTime if the status held.
fn set_condition(
    conditions: &mut Vec<Value>,
    ctype: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) {
    let current = conditions
        .iter()
        .position(|c| meta::str_at(c, &["type"]) == ctype);
    let mut transition = now.to_string();
    if let Some(i) = current {
        let c = &conditions[i];
        if meta::str_at(c, &["status"]) == status && meta::str_at(c, &["reason"]) == reason {
            return;
        }
        if meta::str_at(c, &["status"]) == status {
            transition = meta::str_at(c, &["lastTransitionTime"]).to_string();
        }
        conditions.remove(i);
    }
    conditions.push(json!({
        "lastTransitionTime": transition,
        "lastUpdateTime": now,
        "message": message,
        "reason": reason,
        "status": status,
        "type": ctype,
    }));
}

#[allow(clippy::too_many_arguments)]
fn compute_status(
    d: &Value,
    new_rs: Option<&Planned>,
    old: &[Planned],
    s: &Strategy,
    mut conditions: Vec<Value>,
    paused: bool,
    deadline: i64,
    ctx: &Ctx<'_>,
    out: &mut Outcome,
) -> Value {
    let now = ctx.now;
    let all: Vec<&Planned> = new_rs.into_iter().chain(old.iter()).collect();
    let sum = |f: &str| all.iter().map(|p| p.status_int(f)).sum::<i64>();
    let replicas = spec_replicas(d);
    let actual = sum("replicas");
    let updated = new_rs.map_or(0, |p| p.status_int("replicas"));
    let ready = sum("readyReplicas");
    let available = sum("availableReplicas");
    let total_spec: i64 = all.iter().map(|p| p.replicas).sum();
    let unavailable = (total_spec - available).max(0);
    let now_str = ctx.now_str();

    if available >= replicas - s.max_unavailable {
        set_condition(
            &mut conditions,
            "Available",
            "True",
            "MinimumReplicasAvailable",
            "Deployment has minimum availability.",
            &now_str,
        );
    } else {
        set_condition(
            &mut conditions,
            "Available",
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            &now_str,
        );
    }

    let generation = meta::generation(d);
    if !paused && let Some(new) = new_rs {
        let progressing = conditions
            .iter()
            .find(|c| meta::str_at(c, &["type"]) == "Progressing")
            .cloned();
        let reason = progressing
            .as_ref()
            .map_or("", |c| meta::str_at(c, &["reason"]));
        let complete_before = actual == updated && reason == "NewReplicaSetAvailable";
        let complete_now = updated == replicas && actual == replicas && available == replicas;
        let old_status_old_replicas = meta::i64_at(d, &["status", "replicas"]).unwrap_or(0)
            - meta::i64_at(d, &["status", "updatedReplicas"]).unwrap_or(0);
        let made_progress = updated > meta::i64_at(d, &["status", "updatedReplicas"]).unwrap_or(0)
            || actual - updated < old_status_old_replicas
            || ready > meta::i64_at(d, &["status", "readyReplicas"]).unwrap_or(0)
            || available > meta::i64_at(d, &["status", "availableReplicas"]).unwrap_or(0);
        if !complete_before {
            if complete_now {
                set_condition(
                    &mut conditions,
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    &format!("ReplicaSet \"{}\" has successfully progressed.", new.name()),
                    &now_str,
                );
            } else if made_progress {
                // Progress refreshes lastUpdateTime even when the reason stays the same.
                let transition = progressing
                    .as_ref()
                    .filter(|c| meta::str_at(c, &["status"]) == "True")
                    .map(|c| meta::str_at(c, &["lastTransitionTime"]).to_string())
                    .unwrap_or_else(|| now_str.clone());
                conditions.retain(|c| meta::str_at(c, &["type"]) != "Progressing");
                conditions.push(json!({
                    "lastTransitionTime": transition,
                    "lastUpdateTime": now_str,
                    "message": format!("ReplicaSet \"{}\" is progressing.", new.name()),
                    "reason": "ReplicaSetUpdated",
                    "status": "True",
                    "type": "Progressing",
                }));
            } else if let Some(c) = progressing.as_ref()
                && reason != "ProgressDeadlineExceeded"
            {
                let since = ctx
                    .time(meta::str_at(c, &["lastUpdateTime"]))
                    .unwrap_or(now);
                let due = since + SimDuration::from_secs(deadline.unsigned_abs());
                if due < now {
                    set_condition(
                        &mut conditions,
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        &format!("ReplicaSet \"{}\" has timed out progressing.", new.name()),
                        &now_str,
                    );
                } else {
                    // Come back just after the deadline to declare it exceeded.
                    out.requeue_at(now, due + SimDuration::from_secs(1));
                }
            }
        }
    }

    let mut st = Map::new();
    put_nonzero(&mut st, "observedGeneration", generation);
    put_nonzero(&mut st, "replicas", actual);
    put_nonzero(&mut st, "updatedReplicas", updated);
    put_nonzero(&mut st, "readyReplicas", ready);
    put_nonzero(&mut st, "availableReplicas", available);
    put_nonzero(&mut st, "unavailableReplicas", unavailable);
    st.insert("conditions".into(), Value::Array(conditions));
    if let Some(cc) = meta::at(d, &["status", "collisionCount"]) {
        st.insert("collisionCount".into(), cc.clone());
    }
    Value::Object(st)
}

#[cfg(test)]
mod tests {
    use super::super::test_world::*;
    use super::*;
    use crate::clock::{Calendar, SimTime};

    const T0: i64 = 1_700_000_000;

    fn deploy(image: &str, replicas: i64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "d-uid", "generation": 1,
                "annotations": {"rekon.dev/tracking-id": "app:apps/Deployment:shop/web"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                "progressDeadlineSeconds": 60,
                "template": {"metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": image}]}}}})
    }

    /// A ReplicaSet as the Deployment controller made it, with the given spec and status.
    fn rs_for(d: &Value, revision: i64, replicas: i64, ready: i64) -> Value {
        let template = d["spec"]["template"].clone();
        let hash = pod_template_hash(&template, None);
        let s = Strategy::of(d, 3);
        let mut rs = new_replica_set(
            d,
            &template,
            &hash,
            &format!("web-{hash}"),
            replicas,
            revision,
            &s,
        );
        rs["metadata"]["uid"] = json!(format!("rs-{revision}"));
        rs["status"] =
            json!({"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready});
        rs
    }

    fn at(secs: i64) -> SimTime {
        SimTime::from_unix_secs(T0 + secs)
    }

    #[test]
    fn first_sync_creates_the_replica_set() {
        let d = deploy("nginx:1.25", 3);
        let out = step(&d, &FakeWorld::default(), at(0));
        let rs = created(&out)[0];
        let hash = pod_template_hash(&d["spec"]["template"], None);
        assert_eq!(meta::name(rs), format!("web-{hash}"));
        assert_eq!(rs["spec"]["replicas"], 3);
        assert_eq!(rs["metadata"]["labels"]["pod-template-hash"], json!(hash));
        assert_eq!(
            rs["spec"]["selector"]["matchLabels"]["pod-template-hash"],
            json!(hash)
        );
        assert_eq!(
            rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"],
            json!(hash)
        );
        assert_eq!(rs["metadata"]["annotations"][REVISION], "1");
        assert_eq!(
            rs["metadata"]["annotations"]["rekon.dev/tracking-id"],
            "app:apps/Deployment:shop/web"
        );
        assert_eq!(rs["metadata"]["ownerReferences"][0]["controller"], true);
        assert_eq!(reasons(&out), vec!["ScalingReplicaSet"]);
        let st = status(&out).unwrap();
        assert_eq!(st["observedGeneration"], 1);
        let types: Vec<&str> = st["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, vec!["Progressing", "Available"]);
        assert_eq!(st["conditions"][0]["reason"], "NewReplicaSetCreated");
        assert_eq!(updated(&out)[0]["metadata"]["annotations"][REVISION], "1");
    }

    #[test]
    fn complete_rollout_reports_rollout_status_fields() {
        let mut d = deploy("nginx:1.25", 3);
        d["metadata"]["annotations"][REVISION] = json!("1");
        let world = FakeWorld::with([rs_for(&d, 1, 3, 3)]);
        let out = step(&d, &world, at(10));
        let st = status(&out).unwrap();
        for f in [
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
        ] {
            assert_eq!(st[f], 3, "{f}");
        }
        assert!(st.get("unavailableReplicas").is_none());
        let types: Vec<&str> = st["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, vec!["Available", "Progressing"]);
        assert_eq!(st["conditions"][1]["reason"], "NewReplicaSetAvailable");
        assert!(created(&out).is_empty());
        // And the next pass over the same world changes nothing.
        d["status"] = st.clone();
        let again = step(&d, &world, at(20));
        assert!(again.effects.is_empty(), "{:?}", again.effects);
    }

    #[test]
    fn rolling_update_surges_then_scales_old_down_as_new_pods_become_available() {
        let v1 = deploy("nginx:1.25", 4);
        let mut v2 = deploy("nginx:1.26", 4);
        v2["metadata"]["generation"] = json!(2);
        let old = rs_for(&v1, 1, 4, 4);
        // Step 1: the new ReplicaSet starts at maxSurge (25% of 4 = 1).
        let out = step(&v2, &FakeWorld::with([old.clone()]), at(0));
        let new = created(&out)[0].clone();
        assert_eq!(new["spec"]["replicas"], 1);
        assert_eq!(new["metadata"]["annotations"][REVISION], "2");
        // Step 2: with the new pod unavailable, old may lose only maxUnavailable (1).
        let mut new_rs = new.clone();
        new_rs["metadata"]["uid"] = json!("rs-2");
        new_rs["status"] = json!({"replicas": 1});
        let out = step(&v2, &FakeWorld::with([old.clone(), new_rs.clone()]), at(5));
        let ups = updated(&out);
        let old_up = ups
            .iter()
            .find(|u| meta::name(u) == meta::name(&old))
            .unwrap();
        assert_eq!(old_up["spec"]["replicas"], 3);
        // Step 3: new pod available → new grows, old shrinks further.
        let mut old3 = old.clone();
        old3["spec"]["replicas"] = json!(3);
        old3["status"] = json!({"replicas": 3, "readyReplicas": 3, "availableReplicas": 3});
        new_rs["status"] = json!({"replicas": 1, "readyReplicas": 1, "availableReplicas": 1});
        let out = step(&v2, &FakeWorld::with([old3, new_rs.clone()]), at(10));
        let ups = updated(&out);
        let new_up = ups
            .iter()
            .find(|u| meta::name(u) == meta::name(&new_rs))
            .unwrap();
        assert_eq!(new_up["spec"]["replicas"], 2);
        let st = status(&out).unwrap();
        assert_eq!(st["updatedReplicas"], 1);
        assert_eq!(st["replicas"], 4);
    }

    #[test]
    fn stuck_rollout_exceeds_its_progress_deadline() {
        let mut d = deploy("nginx:does-not-exist", 2);
        d["metadata"]["annotations"][REVISION] = json!("1");
        let world = FakeWorld::with([rs_for(&d, 1, 2, 0)]);
        d["status"] = json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
            "unavailableReplicas": 2, "conditions": [
            {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
             "message": "x", "lastUpdateTime": at(0).rfc3339(), "lastTransitionTime": at(0).rfc3339()}]});
        let before = step(&d, &world, at(30));
        assert_eq!(requeue(&before), Some(SimDuration::from_secs(31)));
        let after = step(&d, &world, at(61));
        let st = status(&after).unwrap();
        let prog = st["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Progressing")
            .unwrap();
        assert_eq!(prog["status"], "False");
        assert_eq!(prog["reason"], "ProgressDeadlineExceeded");
        let avail = st["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Available")
            .unwrap();
        assert_eq!(avail["status"], "False");
    }

    #[test]
    fn at_speed_20_the_deadline_counts_simulated_seconds_and_timestamps_are_calendar_time() {
        // The clock started at at(-100) and runs 20 times as fast as the calendar.
        let cal = Calendar::new(at(-100), 20.0);
        let mut d = deploy("nginx:does-not-exist", 2);
        d["metadata"]["annotations"][REVISION] = json!("1");
        let world = FakeWorld::with([rs_for(&d, 1, 2, 0)]);
        d["status"] = json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
            "unavailableReplicas": 2, "conditions": [
            {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
             "message": "x", "lastUpdateTime": cal.stamp(at(0)),
             "lastTransitionTime": cal.stamp(at(0))}]});
        // at(0) was written as at(-95): five real seconds after the clock started.
        assert_eq!(cal.stamp(at(0)), at(-95).rfc3339());
        let before = step_on(&d, &world, at(30), cal);
        assert_eq!(requeue(&before), Some(SimDuration::from_secs(31)));
        let after = step_on(&d, &world, at(61), cal);
        let st = status(&after).unwrap();
        let prog = st["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Progressing")
            .unwrap();
        assert_eq!(prog["reason"], "ProgressDeadlineExceeded");
        // 161 simulated seconds after the start are 8.05 calendar seconds.
        assert_eq!(prog["lastTransitionTime"], at(-92).rfc3339());
        assert_eq!(prog["lastUpdateTime"], at(-92).rfc3339());
    }

    #[test]
    fn paused_deployment_creates_nothing() {
        let mut d = deploy("nginx:1.25", 2);
        d["spec"]["paused"] = json!(true);
        let out = step(&d, &FakeWorld::default(), at(0));
        assert!(created(&out).is_empty());
        let st = status(&out).unwrap();
        let prog = st["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Progressing")
            .unwrap();
        assert_eq!(prog["reason"], "DeploymentPaused");
    }

    #[test]
    fn recreate_scales_old_to_zero_before_new() {
        let v1 = deploy("nginx:1.25", 2);
        let mut v2 = deploy("nginx:1.26", 2);
        v2["spec"]["strategy"] = json!({"type": "Recreate"});
        let old = rs_for(&v1, 1, 2, 2);
        let out = step(&v2, &FakeWorld::with([old]), at(0));
        assert_eq!(created(&out)[0]["spec"]["replicas"], 0);
        assert_eq!(updated(&out)[0]["spec"]["replicas"], 0);
    }

    #[test]
    fn rollback_reuses_the_old_replica_set_with_a_new_revision() {
        let v1 = deploy("nginx:1.25", 2);
        let v2 = deploy("nginx:1.26", 2);
        let mut rs1 = rs_for(&v1, 1, 0, 0);
        rs1["status"] = json!({"replicas": 0});
        let rs2 = rs_for(&v2, 2, 2, 2);
        let out = step(&v1, &FakeWorld::with([rs1.clone(), rs2]), at(0));
        assert!(created(&out).is_empty());
        let up = updated(&out);
        let back = up
            .iter()
            .find(|u| meta::name(u) == meta::name(&rs1))
            .unwrap();
        assert_eq!(back["metadata"]["annotations"][REVISION], "3");
        assert!(back["spec"]["replicas"].as_i64().unwrap() > 0);
    }
}
