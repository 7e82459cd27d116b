//! Job controller: runs Pods up to `parallelism` until `completions` succeed, retries failures
//! with back-off up to `backoffLimit`, honours `suspend`, `activeDeadlineSeconds` and
//! `ttlSecondsAfterFinished`, and finishes with SuccessCriteriaMet → Complete or
//! FailureTarget → Failed, as Kubernetes 1.31+ does.

use serde_json::{Map, Value, json};

use super::meta::{self, put_nonzero};
use super::{CONTROLLER_MANAGER, Ctx, Effect, EventSpec, EventType, Obj, Outcome};
use crate::clock::{Calendar, SimDuration, SimTime};

const COMPONENT: &str = "job-controller";

/// Whether a Job has finished (a `Complete` or `Failed` condition is True).
pub fn is_finished(job: &Value) -> Option<&'static str> {
    if meta::condition_true(job, "Complete") {
        Some("Complete")
    } else if meta::condition_true(job, "Failed") {
        Some("Failed")
    } else {
        None
    }
}

fn job_condition(ctype: &str, status: &str, reason: &str, message: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("type".into(), json!(ctype));
    m.insert("status".into(), json!(status));
    m.insert("reason".into(), json!(reason));
    m.insert("message".into(), json!(message));
    m
}

/// One reconcile step for a Job.
pub fn reconcile(job: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if meta::is_terminating(job) {
        return out;
    }
    let now = ctx.now;
    let now_str = ctx.now_str();
    if let Some(kind) = is_finished(job) {
        expire_after_ttl(job, kind, ctx, &mut out);
        return out;
    }
    let ns = meta::namespace(job);
    let pods = ctx.world.list_owned("", "Pod", ns, meta::uid(job));
    let count = |phase: &str| pods.iter().filter(|p| meta::pod_phase(p) == phase).count() as i64;
    let succeeded =
        count("Succeeded").max(meta::i64_at(job, &["status", "succeeded"]).unwrap_or(0));
    let failed = count("Failed").max(meta::i64_at(job, &["status", "failed"]).unwrap_or(0));
    let active: Vec<&Obj> = pods.iter().filter(|p| meta::pod_is_active(p)).collect();
    let terminating = pods.iter().filter(|p| meta::is_terminating(p)).count() as i64;
    let ready = active.iter().filter(|p| meta::pod_is_ready(p)).count() as i64;

    let parallelism = meta::count_at(job, &["spec", "parallelism"], 1);
    // With neither set, the API server defaults completions (and parallelism) to 1.
    let completions = meta::i64_at(job, &["spec", "completions"])
        .map(|c| c.clamp(0, i64::from(i32::MAX)))
        .or_else(|| {
            meta::at(job, &["spec", "parallelism"])
                .is_none()
                .then_some(1)
        });
    let backoff_limit = meta::count_at(job, &["spec", "backoffLimit"], 6);
    let suspended = meta::bool_at(job, &["spec", "suspend"]);
    let mut conditions = meta::array_at(job, &["status", "conditions"]).to_vec();
    let mut start_time = meta::str_at(job, &["status", "startTime"]).to_string();
    let mut completion_time = String::new();
    let mut active_count = active.len() as i64;

    let delete_active = |out: &mut Outcome, active: &[&Obj]| {
        for p in active {
            out.push(Effect::Delete(meta::key_of(p)));
            out.event(EventSpec::new(
                job,
                COMPONENT,
                EventType::Normal,
                "SuccessfulDelete",
                format!("Deleted pod: {}", meta::name(p)),
            ));
        }
    };

    if meta::condition_true(job, "SuccessCriteriaMet") {
        delete_active(&mut out, &active);
        if active.is_empty() {
            let c = meta::condition(job, "SuccessCriteriaMet")
                .cloned()
                .unwrap_or_default();
            meta::upsert_condition(
                &mut conditions,
                job_condition(
                    "Complete",
                    "True",
                    meta::str_at(&c, &["reason"]),
                    meta::str_at(&c, &["message"]),
                ),
                &now_str,
            );
            completion_time = now_str.clone();
            out.event(EventSpec::new(
                job,
                COMPONENT,
                EventType::Normal,
                "Completed",
                "Job completed",
            ));
            expire_after_ttl(job, "Complete", ctx, &mut out);
        }
    } else if meta::condition_true(job, "FailureTarget") {
        delete_active(&mut out, &active);
        if active.is_empty() {
            let c = meta::condition(job, "FailureTarget")
                .cloned()
                .unwrap_or_default();
            meta::upsert_condition(
                &mut conditions,
                job_condition(
                    "Failed",
                    "True",
                    meta::str_at(&c, &["reason"]),
                    meta::str_at(&c, &["message"]),
                ),
                &now_str,
            );
            expire_after_ttl(job, "Failed", ctx, &mut out);
        }
    } else if failed > backoff_limit {
        let msg = "Job has reached the specified backoff limit";
        meta::upsert_condition(
            &mut conditions,
            job_condition("FailureTarget", "True", "BackoffLimitExceeded", msg),
            &now_str,
        );
        out.event(EventSpec::new(
            job,
            COMPONENT,
            EventType::Warning,
            "BackoffLimitExceeded",
            msg,
        ));
        delete_active(&mut out, &active);
        active_count = 0;
    } else if active_deadline(job, ctx.calendar).is_some_and(|d| d <= now) {
        let msg = "Job was active longer than specified deadline";
        meta::upsert_condition(
            &mut conditions,
            job_condition("FailureTarget", "True", "DeadlineExceeded", msg),
            &now_str,
        );
        out.event(EventSpec::new(
            job,
            COMPONENT,
            EventType::Warning,
            "DeadlineExceeded",
            msg,
        ));
        delete_active(&mut out, &active);
        active_count = 0;
    } else if completions.map_or(succeeded > 0 && active.is_empty(), |c| succeeded >= c) {
        meta::upsert_condition(
            &mut conditions,
            job_condition(
                "SuccessCriteriaMet",
                "True",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            ),
            &now_str,
        );
    } else if suspended {
        if !meta::condition_true(job, "Suspended") {
            out.event(EventSpec::new(
                job,
                COMPONENT,
                EventType::Normal,
                "Suspended",
                "Job suspended",
            ));
        }
        meta::upsert_condition(
            &mut conditions,
            job_condition("Suspended", "True", "JobSuspended", "Job suspended"),
            &now_str,
        );
        delete_active(&mut out, &active);
        active_count = 0;
    } else {
        if meta::condition_true(job, "Suspended") {
            meta::upsert_condition(
                &mut conditions,
                job_condition("Suspended", "False", "JobResumed", "Job resumed"),
                &now_str,
            );
            out.event(EventSpec::new(
                job,
                COMPONENT,
                EventType::Normal,
                "Resumed",
                "Job resumed",
            ));
        }
        if start_time.is_empty() {
            start_time = now_str.clone();
        }
        let wanted = match completions {
            Some(c) => parallelism.min(c - succeeded).max(0),
            None if succeeded > 0 => 0,
            None => parallelism,
        };
        let have = active.len() as i64;
        if have < wanted {
            match retry_at(&pods, failed, ctx.calendar) {
                Some(at) if at > now => out.requeue_at(now, at),
                _ => {
                    for _ in have..wanted.min(have + meta::BURST as i64) {
                        out.push(Effect::Create(new_pod(job, ctx)));
                        let name = match out.effects.last() {
                            Some(Effect::Create(p)) => meta::name(p).to_string(),
                            _ => String::new(),
                        };
                        out.event(EventSpec::new(
                            job,
                            COMPONENT,
                            EventType::Normal,
                            "SuccessfulCreate",
                            format!("Created pod: {name}"),
                        ));
                    }
                }
            }
        } else if have > wanted {
            let mut extra = active.clone();
            extra.sort_by_key(|p| {
                std::cmp::Reverse(meta::str_at(p, &["metadata", "creationTimestamp"]).to_string())
            });
            extra.truncate((have - wanted) as usize);
            delete_active(&mut out, &extra);
        }
        if let Some(at) = active_deadline(job, ctx.calendar) {
            out.requeue_at(now, at);
        }
    }

    let mut st = Map::new();
    if !conditions.is_empty() {
        st.insert("conditions".into(), Value::Array(conditions));
    }
    if !start_time.is_empty() {
        st.insert("startTime".into(), json!(start_time));
    }
    if completion_time.is_empty() {
        if let Some(ct) = meta::at(job, &["status", "completionTime"]) {
            st.insert("completionTime".into(), ct.clone());
        }
    } else {
        st.insert("completionTime".into(), json!(completion_time));
    }
    put_nonzero(&mut st, "active", active_count);
    put_nonzero(&mut st, "succeeded", succeeded);
    put_nonzero(&mut st, "failed", failed);
    st.insert(
        "ready".into(),
        json!(if active_count == 0 { 0 } else { ready }),
    );
    st.insert("terminating".into(), json!(terminating));
    st.insert("uncountedTerminatedPods".into(), json!({}));
    let status = Value::Object(st);
    if !meta::status_is(job, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(job, status)));
    }
    out
}

/// When `activeDeadlineSeconds` runs out, counted from `status.startTime`.
fn active_deadline(job: &Value, calendar: Calendar) -> Option<SimTime> {
    let secs = meta::i64_at(job, &["spec", "activeDeadlineSeconds"])?;
    let start = calendar.parse(meta::str_at(job, &["status", "startTime"]))?;
    Some(start + SimDuration::from_secs(secs.max(0).unsigned_abs()))
}

/// After `failed` failures, the next Pod waits 10s, 20s, 40s … (at most 6 minutes) from the
/// last failure, like the Job controller's pod-failure back-off.
fn retry_at(pods: &[Obj], failed: i64, calendar: Calendar) -> Option<SimTime> {
    if failed <= 0 {
        return None;
    }
    let last = pods
        .iter()
        .filter(|p| meta::pod_phase(p) == "Failed")
        .flat_map(|p| {
            meta::array_at(p, &["status", "containerStatuses"])
                .iter()
                .filter_map(|s| {
                    calendar.parse(meta::str_at(s, &["state", "terminated", "finishedAt"]))
                })
                .collect::<Vec<_>>()
        })
        .max()?;
    let exp = (failed - 1).clamp(0, 10) as u32;
    let delay = (10u64 << exp).min(360);
    Some(last + SimDuration::from_secs(delay))
}

fn new_pod(job: &Value, ctx: &mut Ctx<'_>) -> Value {
    let name = format!("{}-{}", meta::name(job), ctx.suffix());
    let template = meta::at(job, &["spec", "template"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let uid = meta::uid(job).to_string();
    let job_name = meta::name(job).to_string();
    let mut pod = meta::pod_from_template(
        &template,
        &name,
        meta::namespace(job),
        meta::controller_ref(job),
        &[
            ("batch.kubernetes.io/controller-uid", uid.clone()),
            ("batch.kubernetes.io/job-name", job_name.clone()),
            ("controller-uid", uid),
            ("job-name", job_name),
        ],
    );
    pod["metadata"]["generateName"] = json!(format!("{}-", meta::name(job)));
    // The API server insists on Never/OnFailure for Jobs; a template without it would run
    // forever here, so fall back to Never.
    if meta::str_at(&pod, &["spec", "restartPolicy"]).is_empty()
        && let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut)
    {
        spec.insert("restartPolicy".into(), json!("Never"));
    }
    pod
}

/// Deletes a finished Job once `ttlSecondsAfterFinished` has passed (the TTL controller).
fn expire_after_ttl(job: &Value, kind: &str, ctx: &Ctx<'_>, out: &mut Outcome) {
    let now = ctx.now;
    let Some(ttl) = meta::i64_at(job, &["spec", "ttlSecondsAfterFinished"]) else {
        return;
    };
    let finished = meta::condition(job, kind)
        .and_then(|c| ctx.time(meta::str_at(c, &["lastTransitionTime"])))
        .unwrap_or(now);
    let at = finished + SimDuration::from_secs(ttl.max(0).unsigned_abs());
    if at <= now {
        out.push(Effect::Delete(meta::key_of(job)));
    } else {
        out.requeue_at(now, at);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_world::*;
    use super::*;

    const T0: i64 = 1_700_000_000;

    fn at(secs: u64) -> SimTime {
        SimTime::from_unix_secs(T0) + SimDuration::from_secs(secs)
    }

    fn job() -> Value {
        json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "shop", "uid": "job-uid"},
            "spec": {"backoffLimit": 1, "template": {"metadata": {"labels": {"app": "migrate"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox"}]}}}})
    }

    fn pod(name: &str, phase: &str, finished: u64) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "ownerReferences": [
                {"apiVersion": "batch/v1", "kind": "Job", "name": "migrate", "uid": "job-uid", "controller": true}]},
            "status": {"phase": phase, "containerStatuses": [{"name": "m",
                "state": {"terminated": {"exitCode": if phase == "Failed" {1} else {0},
                    "finishedAt": at(finished).rfc3339()}}}]}})
    }

    #[test]
    fn starts_a_pod_with_job_labels() {
        let out = step(&job(), &FakeWorld::default(), at(0));
        let p = created(&out)[0];
        assert!(meta::name(p).starts_with("migrate-"));
        assert_eq!(
            p["metadata"]["labels"]["batch.kubernetes.io/job-name"],
            "migrate"
        );
        assert_eq!(p["metadata"]["labels"]["app"], "migrate");
        assert_eq!(p["spec"]["restartPolicy"], "Never");
        let st = status(&out).unwrap();
        assert_eq!(st["startTime"], at(0).rfc3339());
        assert_eq!(st["ready"], 0);
        assert_eq!(reasons(&out), vec!["SuccessfulCreate"]);
    }

    #[test]
    fn success_goes_through_success_criteria_met_to_complete() {
        let world = FakeWorld::with([pod("migrate-a", "Succeeded", 5)]);
        let mut j = job();
        j["status"] = json!({"startTime": at(0).rfc3339(), "active": 1});
        let out = step(&j, &world, at(6));
        let st = status(&out).unwrap().clone();
        assert_eq!(st["succeeded"], 1);
        assert!(st.get("active").is_none());
        assert_eq!(st["conditions"][0]["type"], "SuccessCriteriaMet");
        assert!(created(&out).is_empty());
        j["status"] = st;
        let out = step(&j, &world, at(7));
        let st = status(&out).unwrap();
        assert_eq!(st["conditions"][1]["type"], "Complete");
        assert_eq!(st["conditions"][1]["reason"], "CompletionsReached");
        assert_eq!(st["completionTime"], at(7).rfc3339());
        assert_eq!(reasons(&out), vec!["Completed"]);
    }

    #[test]
    fn failures_back_off_then_exceed_the_limit() {
        let mut j = job();
        j["status"] = json!({"startTime": at(0).rfc3339()});
        let world = FakeWorld::with([pod("migrate-a", "Failed", 5)]);
        let out = step(&j, &world, at(6));
        assert!(
            created(&out).is_empty(),
            "waits 10s after the first failure"
        );
        assert_eq!(requeue(&out), Some(SimDuration::from_secs(9)));
        let out = step(&j, &world, at(15));
        assert_eq!(created(&out).len(), 1);

        let world = FakeWorld::with([
            pod("migrate-a", "Failed", 5),
            pod("migrate-b", "Failed", 20),
        ]);
        let out = step(&j, &world, at(21));
        let st = status(&out).unwrap().clone();
        assert_eq!(st["failed"], 2);
        assert_eq!(st["conditions"][0]["type"], "FailureTarget");
        assert_eq!(st["conditions"][0]["reason"], "BackoffLimitExceeded");
        assert_eq!(reasons(&out), vec!["BackoffLimitExceeded"]);
        j["status"] = st;
        let out = step(&j, &world, at(22));
        let st = status(&out).unwrap();
        let failed = st["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Failed")
            .unwrap();
        assert_eq!(failed["reason"], "BackoffLimitExceeded");
        assert_eq!(
            is_finished(&meta::with_status(&j, st.clone())),
            Some("Failed")
        );
    }

    #[test]
    fn suspended_job_runs_nothing() {
        let mut j = job();
        j["spec"]["suspend"] = json!(true);
        let out = step(&j, &FakeWorld::default(), at(0));
        assert!(created(&out).is_empty());
        let st = status(&out).unwrap();
        assert_eq!(st["conditions"][0]["type"], "Suspended");
        assert!(st.get("startTime").is_none());
    }

    #[test]
    fn finished_job_expires_after_its_ttl() {
        let mut j = job();
        j["spec"]["ttlSecondsAfterFinished"] = json!(30);
        j["status"] = json!({"conditions": [{"type": "Complete", "status": "True",
            "lastTransitionTime": at(10).rfc3339()}]});
        let out = step(&j, &FakeWorld::default(), at(20));
        assert_eq!(requeue(&out), Some(SimDuration::from_secs(20)));
        let out = step(&j, &FakeWorld::default(), at(40));
        assert_eq!(deleted(&out).len(), 1);
    }
}
