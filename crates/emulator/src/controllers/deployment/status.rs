//! The status a Deployment reports: replica counts and the Progressing/Available conditions.

use serde_json::{Map, Value, json};

use super::{Planned, Strategy, spec_replicas};
use crate::clock::SimDuration;
use crate::controllers::meta::{self, put_nonzero};
use crate::controllers::{Ctx, Outcome};

/// Kubernetes' `SetDeploymentCondition`: an unchanged (status, reason) keeps the condition
/// as it is; otherwise it moves to the end, keeping lastTransitionTime if the status held.
pub(super) fn set_condition(
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
pub(super) fn compute_status(
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
