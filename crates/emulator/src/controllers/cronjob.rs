//! CronJob controller: creates a Job (`<cronjob>-<scheduled minute>`) at each scheduled
//! time, honouring suspend, concurrencyPolicy, startingDeadlineSeconds, timeZone and the
//! history limits; reports active, lastScheduleTime and lastSuccessfulTime.

use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};

use super::cron::CronSchedule;
use super::job::is_finished;
use super::meta;
use super::{CONTROLLER_MANAGER, Ctx, Effect, EventSpec, EventType, Obj, Outcome};
use crate::clock::{Calendar, SimDuration, SimTime};

const COMPONENT: &str = "cronjob-controller";
const SCHEDULED_AT: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";

/// One reconcile step for a CronJob.
pub fn reconcile(cj: &Value, ctx: &mut Ctx<'_>) -> Outcome {
    let mut out = Outcome::new(CONTROLLER_MANAGER);
    if meta::is_terminating(cj) {
        return out;
    }
    let now = ctx.now;
    let ns = meta::namespace(cj);
    let mut jobs: Vec<Obj> = ctx
        .world
        .list_owned("batch", "Job", ns, meta::uid(cj))
        .into_iter()
        .filter(|j| !meta::is_terminating(j))
        .collect();
    jobs.sort_by_key(|j| (scheduled_time(j, ctx.calendar), meta::name(j).to_string()));

    let previously_active: Vec<&str> = meta::array_at(cj, &["status", "active"])
        .iter()
        .map(|r| meta::str_at(r, &["name"]))
        .collect();
    let mut last_success = ctx.time(meta::str_at(cj, &["status", "lastSuccessfulTime"]));
    let mut active: Vec<&Obj> = Vec::new();
    let mut succeeded: Vec<&Obj> = Vec::new();
    let mut failed: Vec<&Obj> = Vec::new();
    for j in &jobs {
        match is_finished(j) {
            None => active.push(j),
            Some(kind) => {
                if previously_active.contains(&meta::name(j)) {
                    out.event(EventSpec::new(
                        cj,
                        COMPONENT,
                        EventType::Normal,
                        "SawCompletedJob",
                        format!("Saw completed job: {}, condition: {kind}", meta::name(j)),
                    ));
                }
                if kind == "Complete" {
                    succeeded.push(j);
                    let done = ctx.time(meta::str_at(j, &["status", "completionTime"]));
                    last_success = last_success.max(done);
                } else {
                    failed.push(j);
                }
            }
        }
    }
    let limit = |field: &str, default: i64| {
        meta::i64_at(cj, &["spec", field]).unwrap_or(default).max(0) as usize
    };
    for (list, keep) in [
        (&succeeded, limit("successfulJobsHistoryLimit", 3)),
        (&failed, limit("failedJobsHistoryLimit", 1)),
    ] {
        if list.len() > keep {
            for j in &list[..list.len() - keep] {
                out.push(Effect::Delete(meta::key_of(j)));
                out.event(EventSpec::new(
                    cj,
                    COMPONENT,
                    EventType::Normal,
                    "SuccessfulDelete",
                    format!("Deleted job {}", meta::name(j)),
                ));
            }
        }
    }

    // Read back from a whole calendar second, the last schedule may be a little before the
    // instant it was; the Job's name (its scheduled minute) keeps it from running twice.
    let mut last_schedule = ctx.time(meta::str_at(cj, &["status", "lastScheduleTime"]));
    let schedule_text = meta::str_at(cj, &["spec", "schedule"]);
    let tz_name = meta::str_at(cj, &["spec", "timeZone"]);
    let schedule = CronSchedule::parse(schedule_text);
    let tz = if tz_name.is_empty() {
        Ok(TimeZone::UTC)
    } else {
        TimeZone::get(tz_name)
    };
    match (schedule, tz) {
        (Err(e), _) => out.event(EventSpec::new(
            cj,
            COMPONENT,
            EventType::Warning,
            "UnparseableSchedule",
            format!("unparseable schedule: {schedule_text:?} : {e}"),
        )),
        (_, Err(_)) => out.event(EventSpec::new(
            cj,
            COMPONENT,
            EventType::Warning,
            "UnknownTimeZone",
            format!("invalid timeZone: {tz_name:?}"),
        )),
        (Ok(schedule), Ok(tz)) if !meta::bool_at(cj, &["spec", "suspend"]) => {
            let earliest = last_schedule
                .or_else(|| meta::creation_time(cj, ctx.calendar))
                .unwrap_or(now);
            if let Some(t) = schedule.latest_between(earliest, now, &tz) {
                let job_name = format!("{}-{}", meta::name(cj), t.unix_secs().div_euclid(60));
                let exists = jobs.iter().any(|j| meta::name(j) == job_name);
                let deadline = meta::i64_at(cj, &["spec", "startingDeadlineSeconds"]);
                let policy = meta::str_at(cj, &["spec", "concurrencyPolicy"]);
                if exists {
                    last_schedule = last_schedule.max(Some(t));
                } else if deadline
                    .is_some_and(|d| now.since(t) > SimDuration::from_secs(d.max(0).unsigned_abs()))
                {
                    out.event(EventSpec::new(
                        cj,
                        COMPONENT,
                        EventType::Warning,
                        "MissSchedule",
                        format!("Missed scheduled time to start a job: {}", ctx.stamp(t)),
                    ));
                } else if policy == "Forbid" && !active.is_empty() {
                    out.event(EventSpec::new(
                        cj,
                        COMPONENT,
                        EventType::Normal,
                        "JobAlreadyActive",
                        "Not starting job because prior execution is running and concurrency policy is Forbid",
                    ));
                } else {
                    if policy == "Replace" {
                        for j in active.drain(..) {
                            out.push(Effect::Delete(meta::key_of(j)));
                            out.event(EventSpec::new(
                                cj,
                                COMPONENT,
                                EventType::Normal,
                                "SuccessfulDelete",
                                format!("Deleted job {}", meta::name(j)),
                            ));
                        }
                    }
                    out.push(Effect::Create(new_job(cj, &job_name, &ctx.stamp(t))));
                    out.event(EventSpec::new(
                        cj,
                        COMPONENT,
                        EventType::Normal,
                        "SuccessfulCreate",
                        format!("Created job {job_name}"),
                    ));
                    last_schedule = Some(t);
                }
            }
            if let Some(next) = schedule.next_after(now, &tz) {
                out.requeue_at(now, next + SimDuration::from_millis(100));
            }
        }
        _ => {}
    }

    let mut st = Map::new();
    if !active.is_empty() {
        st.insert(
            "active".into(),
            Value::Array(
                active
                    .iter()
                    .map(|j| {
                        json!({"apiVersion": "batch/v1", "kind": "Job", "name": meta::name(j),
                            "namespace": ns, "resourceVersion": meta::str_at(j, &["metadata", "resourceVersion"]),
                            "uid": meta::uid(j)})
                    })
                    .collect(),
            ),
        );
    }
    if let Some(t) = last_schedule {
        st.insert("lastScheduleTime".into(), json!(ctx.stamp(t)));
    }
    if let Some(t) = last_success {
        st.insert("lastSuccessfulTime".into(), json!(ctx.stamp(t)));
    }
    let status = Value::Object(st);
    if !meta::status_is(cj, &status) {
        out.push(Effect::UpdateStatus(meta::with_status(cj, status)));
    }
    out
}

/// The instant a Job of a CronJob was scheduled for (from its annotation).
fn scheduled_time(job: &Value, calendar: Calendar) -> Option<SimTime> {
    calendar.parse(meta::annotation(job, SCHEDULED_AT))
}

/// The Job for the run scheduled at `scheduled` (a written timestamp).
fn new_job(cj: &Value, name: &str, scheduled: &str) -> Value {
    let template = meta::at(cj, &["spec", "jobTemplate"])
        .cloned()
        .unwrap_or_else(|| json!({}));
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(name));
    metadata.insert("namespace".into(), json!(meta::namespace(cj)));
    if let Some(l) = meta::at(&template, &["metadata", "labels"]).filter(|l| l.is_object()) {
        metadata.insert("labels".into(), l.clone());
    }
    let mut annotations = meta::at(&template, &["metadata", "annotations"])
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    annotations.insert(SCHEDULED_AT.into(), json!(scheduled));
    metadata.insert("annotations".into(), Value::Object(annotations));
    metadata.insert("ownerReferences".into(), json!([meta::controller_ref(cj)]));
    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": meta::at(&template, &["spec"]).cloned().unwrap_or_else(|| json!({})),
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_world::*;
    use super::*;

    fn t(text: &str) -> SimTime {
        SimTime::parse_rfc3339(text).unwrap()
    }

    fn cronjob() -> Value {
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "report", "namespace": "shop", "uid": "cj-uid",
                "creationTimestamp": "2024-05-01T10:00:30Z"},
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"metadata": {"labels": {"app": "report"}},
                "spec": {"template": {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "r", "image": "busybox"}]}}}}}})
    }

    fn job(name: &str, scheduled: &str, done: Option<&str>) -> Value {
        let mut j = json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("{name}-uid"),
                "annotations": {SCHEDULED_AT: scheduled},
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report",
                    "uid": "cj-uid", "controller": true}]}});
        if let Some(kind) = done {
            j["status"] = json!({"completionTime": scheduled,
                "conditions": [{"type": kind, "status": "True"}]});
        }
        j
    }

    #[test]
    fn waits_for_the_first_scheduled_minute_then_creates_a_job() {
        let out = step(&cronjob(), &FakeWorld::default(), t("2024-05-01T10:03:00Z"));
        assert!(created(&out).is_empty());
        assert_eq!(requeue(&out), Some(SimDuration::from_millis(120_100)));

        let out = step(&cronjob(), &FakeWorld::default(), t("2024-05-01T10:05:01Z"));
        let j = created(&out)[0];
        let minute = t("2024-05-01T10:05:00Z").unix_secs() / 60;
        assert_eq!(meta::name(j), format!("report-{minute}"));
        assert_eq!(j["metadata"]["labels"]["app"], "report");
        assert_eq!(
            j["metadata"]["annotations"][SCHEDULED_AT],
            "2024-05-01T10:05:00Z"
        );
        assert_eq!(j["spec"]["template"]["spec"]["restartPolicy"], "Never");
        assert_eq!(
            status(&out).unwrap()["lastScheduleTime"],
            "2024-05-01T10:05:00Z"
        );
        assert_eq!(reasons(&out), vec!["SuccessfulCreate"]);
    }

    #[test]
    fn tracks_active_and_successful_jobs_and_trims_history() {
        let mut cj = cronjob();
        cj["spec"]["successfulJobsHistoryLimit"] = json!(1);
        cj["status"] = json!({"lastScheduleTime": "2024-05-01T10:15:00Z",
            "active": [{"name": "report-3"}]});
        let world = FakeWorld::with([
            job("report-1", "2024-05-01T10:05:00Z", Some("Complete")),
            job("report-2", "2024-05-01T10:10:00Z", Some("Complete")),
            job("report-3", "2024-05-01T10:15:00Z", Some("Complete")),
            job("report-4", "2024-05-01T10:20:00Z", None),
        ]);
        let mut cj2 = cj.clone();
        cj2["status"]["lastScheduleTime"] = json!("2024-05-01T10:20:00Z");
        let out = step(&cj2, &world, t("2024-05-01T10:21:00Z"));
        let gone: Vec<&str> = deleted(&out).iter().map(|k| k.name.as_str()).collect();
        assert_eq!(gone, vec!["report-1", "report-2"]);
        assert!(reasons(&out).contains(&"SawCompletedJob"));
        let st = status(&out).unwrap();
        assert_eq!(st["active"][0]["name"], "report-4");
        assert_eq!(st["lastSuccessfulTime"], "2024-05-01T10:15:00Z");
    }

    #[test]
    fn forbid_skips_while_a_job_runs_and_suspend_stops_scheduling() {
        let mut cj = cronjob();
        cj["spec"]["concurrencyPolicy"] = json!("Forbid");
        cj["status"] = json!({"lastScheduleTime": "2024-05-01T10:05:00Z"});
        let world = FakeWorld::with([job("report-1", "2024-05-01T10:05:00Z", None)]);
        let out = step(&cj, &world, t("2024-05-01T10:10:30Z"));
        assert!(created(&out).is_empty());
        assert_eq!(reasons(&out), vec!["JobAlreadyActive"]);

        cj["spec"]["suspend"] = json!(true);
        let out = step(&cj, &FakeWorld::default(), t("2024-05-01T10:30:00Z"));
        assert!(created(&out).is_empty());
        assert_eq!(requeue(&out), None);
    }

    #[test]
    fn bad_schedule_is_reported() {
        let mut cj = cronjob();
        cj["spec"]["schedule"] = json!("every now and then");
        let out = step(&cj, &FakeWorld::default(), t("2024-05-01T10:30:00Z"));
        assert_eq!(reasons(&out), vec!["UnparseableSchedule"]);
    }
}
