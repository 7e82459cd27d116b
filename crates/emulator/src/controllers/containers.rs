//! The container timeline of the simulated kubelet: each container's state as a function of
//! the time since the kubelet first saw its Pod, the restart policy, the image and the
//! `rekon.dev/simulate` failure mode.

use serde_json::{Map, Value, json};

use super::meta;
use crate::clock::{Calendar, SimDuration, SimTime};

/// Annotation that picks a failure mode.
pub const SIMULATE_ANNOTATION: &str = "rekon.dev/simulate";
/// How long a container takes to start (sandbox, pull, create).
pub(super) const START_DELAY: SimDuration = SimDuration::from_secs(2);
const INIT_STEP: SimDuration = SimDuration::from_secs(1);
const RUN_TO_COMPLETION: SimDuration = SimDuration::from_secs(3);
const CRASH_AFTER: SimDuration = SimDuration::from_secs(2);
const PULL_ERROR_FOR: SimDuration = SimDuration::from_secs(2);

/// The failure mode a Pod asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Normal,
    Crashloop,
    Fail,
    SlowStart(SimDuration),
}

fn mode_of(pod: &Value) -> Mode {
    let value = meta::annotation(pod, SIMULATE_ANNOTATION).trim();
    match value {
        "crashloop" => Mode::Crashloop,
        "fail" => Mode::Fail,
        _ => value
            .strip_prefix("slow-start=")
            .and_then(parse_duration)
            .map_or(Mode::Normal, Mode::SlowStart),
    }
}

/// Parses a Go-style duration such as `30s`, `2m`, `1m30s`, `500ms` or `1h`; a bare number
/// is seconds.
pub fn parse_duration(text: &str) -> Option<SimDuration> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(SimDuration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let per_unit_ms = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(per_unit_ms)?)?;
        rest = &rest[unit_len..];
    }
    Some(SimDuration::from_millis(total))
}

const MAX_BACKOFF: SimDuration = SimDuration::from_secs(300);

/// Kubelet back-off: 10s doubling up to 300s.
fn backoff(k: u32) -> SimDuration {
    SimDuration::from_secs(10u64.saturating_mul(1u64 << k.min(10))).min(MAX_BACKOFF)
}

/// Whether the simulated registry refuses this image.
pub fn image_never_pulls(image: &str) -> bool {
    image.contains("does-not-exist")
}

/// The fully qualified form a container runtime reports (`docker.io/library/nginx:latest`).
pub fn normalize_image(image: &str) -> String {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_registry {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if digest.is_none() && !last.contains(':') {
        full.push_str(":latest");
    }
    if let Some(d) = digest {
        full.push('@');
        full.push_str(d);
    }
    full
}

fn image_id(image: &str) -> String {
    let full = normalize_image(image);
    let repo = full.split(['@']).next().unwrap_or("");
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    format!("{repo}@sha256:{}", meta::hex_from(&full, 64))
}

/// One container's state at the current instant.
pub(super) struct View {
    pub(super) state: Value,
    pub(super) last_state: Value,
    pub(super) ready: bool,
    pub(super) started: bool,
    pub(super) has_run: bool,
    pub(super) restart_count: u32,
    pub(super) exit: Option<i64>,
    pub(super) next: Option<SimTime>,
}

impl View {
    fn waiting(reason: &str, message: Option<String>, next: Option<SimTime>) -> Self {
        let mut w = Map::new();
        if let Some(m) = message {
            w.insert("message".into(), json!(m));
        }
        w.insert("reason".into(), json!(reason));
        View {
            state: json!({"waiting": w}),
            last_state: json!({}),
            ready: false,
            started: false,
            has_run: false,
            restart_count: 0,
            exit: None,
            next,
        }
    }

    fn running(cal: Calendar, since: SimTime, ready: bool, next: Option<SimTime>) -> Self {
        View {
            state: json!({"running": {"startedAt": cal.stamp(since)}}),
            last_state: json!({}),
            ready,
            started: true,
            has_run: true,
            restart_count: 0,
            exit: None,
            next,
        }
    }

    pub(super) fn waiting_reason(&self) -> &str {
        meta::str_at(&self.state, &["waiting", "reason"])
    }
}

fn terminated(
    cal: Calendar,
    exit: i64,
    started: SimTime,
    finished: SimTime,
    container_id: &str,
) -> Value {
    json!({"terminated": {
        "containerID": container_id,
        "exitCode": exit,
        "finishedAt": cal.stamp(finished),
        "reason": if exit == 0 { "Completed" } else { "Error" },
        "startedAt": cal.stamp(started),
    }})
}

/// What the kubelet knows about one Pod for this step.
pub(super) struct PodSim<'a> {
    pub(super) pod: &'a Value,
    pub(super) now: SimTime,
    pub(super) t0: SimTime,
    calendar: Calendar,
    mode: Mode,
    pub(super) to_completion: bool,
    pub(super) main_start: SimTime,
}

impl<'a> PodSim<'a> {
    /// The timeline of `pod`, whose kubelet started it at `t0`, seen at `now`; its
    /// timestamps are written on `calendar`.
    pub(super) fn new(pod: &'a Value, now: SimTime, t0: SimTime, calendar: Calendar) -> Self {
        let init_count = meta::array_at(pod, &["spec", "initContainers"]).len() as u64;
        PodSim {
            pod,
            now,
            t0,
            calendar,
            mode: mode_of(pod),
            to_completion: matches!(
                meta::str_at(pod, &["spec", "restartPolicy"]),
                "Never" | "OnFailure"
            ),
            main_start: t0
                + START_DELAY
                + SimDuration::from_millis(INIT_STEP.as_millis().saturating_mul(init_count)),
        }
    }

    fn container_id(&self, name: &str, run: u32) -> String {
        format!(
            "containerd://{}",
            meta::hex_from(&format!("{}/{name}/{run}", meta::uid(self.pod)), 64)
        )
    }

    pub(super) fn init_view(&self, c: &Value, index: u32) -> View {
        let start = self.t0
            + START_DELAY
            + SimDuration::from_millis(INIT_STEP.as_millis() * u64::from(index));
        let end = start + INIT_STEP;
        let name = meta::str_at(c, &["name"]);
        if self.now < start {
            let reason = if index == 0 {
                "ContainerCreating"
            } else {
                "PodInitializing"
            };
            return View::waiting(reason, None, Some(start));
        }
        if self.now < end {
            return View::running(self.calendar, start, false, Some(end));
        }
        let mut v = View::running(self.calendar, start, true, None);
        v.state = terminated(self.calendar, 0, start, end, &self.container_id(name, 0));
        v.started = false;
        v.exit = Some(0);
        v
    }

    pub(super) fn main_view(&self, c: &Value, has_init: bool) -> View {
        let now = self.now;
        let start = self.main_start;
        let name = meta::str_at(c, &["name"]);
        let image = meta::str_at(c, &["image"]);
        if now < start {
            let reason = if has_init && now >= self.t0 + START_DELAY {
                "PodInitializing"
            } else {
                "ContainerCreating"
            };
            return View::waiting(reason, None, Some(start));
        }
        if image_never_pulls(image) {
            let full = normalize_image(image);
            let mut attempt = start;
            let mut k = 0;
            loop {
                // Once the back-off is at its cap, the attempts repeat with a fixed period:
                // jump over whole periods instead of walking a long-lived Pod's history.
                let period = PULL_ERROR_FOR + backoff(k);
                if backoff(k) == MAX_BACKOFF {
                    let skip = now.since(attempt).as_millis() / period.as_millis();
                    if skip > 1 {
                        attempt =
                            attempt + SimDuration::from_millis((skip - 1) * period.as_millis());
                    }
                }
                let err_end = attempt + PULL_ERROR_FOR;
                if now < err_end {
                    let msg = format!(
                        "rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": \
                         failed to resolve reference \"{full}\": {full}: not found"
                    );
                    return View::waiting("ErrImagePull", Some(msg), Some(err_end));
                }
                let retry = err_end + backoff(k);
                if now < retry {
                    let msg = format!("Back-off pulling image \"{image}\"");
                    return View::waiting("ImagePullBackOff", Some(msg), Some(retry));
                }
                attempt = retry;
                k += 1;
            }
        }
        let slow = match self.mode {
            Mode::SlowStart(d) => d,
            _ => SimDuration::ZERO,
        };
        let failing = matches!(self.mode, Mode::Fail | Mode::Crashloop);
        if failing && !self.to_completion {
            let mut since = start;
            let mut k: u32 = 0;
            let mut last = json!({});
            loop {
                let period = CRASH_AFTER + backoff(k);
                if backoff(k) == MAX_BACKOFF {
                    let skip = now.since(since).as_millis() / period.as_millis();
                    if skip > 1 {
                        let jump = u32::try_from(skip - 1).unwrap_or(u32::MAX);
                        since =
                            since + SimDuration::from_millis(u64::from(jump) * period.as_millis());
                        k = k.saturating_add(jump);
                        let before = since - period;
                        last = terminated(
                            self.calendar,
                            1,
                            before,
                            before + CRASH_AFTER,
                            &self.container_id(name, k - 1),
                        );
                    }
                }
                let crash = since + CRASH_AFTER;
                if now < crash {
                    let mut v = View::running(self.calendar, since, false, Some(crash));
                    v.last_state = last;
                    v.restart_count = k;
                    return v;
                }
                let term = terminated(self.calendar, 1, since, crash, &self.container_id(name, k));
                let restart = crash + backoff(k);
                if now < restart {
                    let msg = format!(
                        "back-off {} restarting failed container={name} pod={}_{}({})",
                        backoff(k),
                        meta::name(self.pod),
                        meta::namespace(self.pod),
                        meta::uid(self.pod)
                    );
                    let mut v = View::waiting("CrashLoopBackOff", Some(msg), Some(restart));
                    v.last_state = term;
                    v.restart_count = k;
                    v.has_run = true;
                    return v;
                }
                last = term;
                since = restart;
                k += 1;
            }
        }
        let ready_at = start + slow;
        if self.to_completion {
            let end = start + RUN_TO_COMPLETION + slow;
            if now < end {
                let ready = now >= ready_at;
                return View::running(
                    self.calendar,
                    start,
                    ready,
                    Some(if ready { end } else { ready_at }),
                );
            }
            let exit = i64::from(failing);
            let mut v = View::running(self.calendar, start, false, None);
            v.state = terminated(self.calendar, exit, start, end, &self.container_id(name, 0));
            v.started = false;
            v.exit = Some(exit);
            return v;
        }
        let ready = now >= ready_at;
        View::running(self.calendar, start, ready, (!ready).then_some(ready_at))
    }
}

/// One entry of `containerStatuses` for container `c` in state `v`.
pub(super) fn container_status(c: &Value, v: &View, sim: &PodSim<'_>) -> Value {
    let name = meta::str_at(c, &["name"]);
    let image = meta::str_at(c, &["image"]);
    let mut m = Map::new();
    if v.has_run {
        let run = if v.state.get("running").is_some() {
            v.restart_count
        } else {
            v.restart_count.saturating_sub(u32::from(v.exit.is_none()))
        };
        if v.state.get("waiting").is_none() {
            m.insert("containerID".into(), json!(sim.container_id(name, run)));
        }
        m.insert("image".into(), json!(normalize_image(image)));
        m.insert("imageID".into(), json!(image_id(image)));
    } else {
        m.insert("image".into(), json!(image));
        m.insert("imageID".into(), json!(""));
    }
    m.insert("lastState".into(), v.last_state.clone());
    m.insert("name".into(), json!(name));
    m.insert("ready".into(), json!(v.ready));
    m.insert("restartCount".into(), json!(v.restart_count));
    m.insert("started".into(), json!(v.started));
    m.insert("state".into(), v.state.clone());
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lived_failures_are_computed_without_walking_history() {
        let t0 = SimTime::from_unix_secs(1_000);
        let pod = json!({"metadata": {"name": "p", "namespace": "n", "uid": "u",
            "annotations": {SIMULATE_ANNOTATION: "crashloop"}},
            "spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "x"}]}});
        let c = &pod["spec"]["containers"][0];
        // Two years in: restarts keep counting and the state stays consistent.
        let late = t0 + SimDuration::from_secs(2 * 365 * 86_400);
        let v = PodSim::new(&pod, late, t0, Calendar::IDENTITY).main_view(c, false);
        assert!(v.restart_count > 200_000, "{}", v.restart_count);
        assert!(v.state.get("running").is_some() || v.waiting_reason() == "CrashLoopBackOff");
        assert_eq!(v.last_state["terminated"]["exitCode"], 1);
        // The same instant computed step by step from a recent past agrees on the cycle length.
        let a = PodSim::new(&pod, late, t0, Calendar::IDENTITY)
            .main_view(c, false)
            .restart_count;
        let b = PodSim::new(
            &pod,
            late + SimDuration::from_secs(302),
            t0,
            Calendar::IDENTITY,
        )
        .main_view(c, false)
        .restart_count;
        assert_eq!(b, a + 1);

        let pull = json!({"metadata": {"name": "p", "namespace": "n", "uid": "u"},
            "spec": {"restartPolicy": "Always", "containers": [{"name": "c", "image": "x:does-not-exist"}]}});
        let v = PodSim::new(&pull, late, t0, Calendar::IDENTITY)
            .main_view(&pull["spec"]["containers"][0], false);
        assert!(matches!(
            v.waiting_reason(),
            "ErrImagePull" | "ImagePullBackOff"
        ));
    }

    #[test]
    fn durations_and_images() {
        assert_eq!(parse_duration("30s"), Some(SimDuration::from_secs(30)));
        assert_eq!(parse_duration("1m30s"), Some(SimDuration::from_secs(90)));
        assert_eq!(parse_duration("45"), Some(SimDuration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Some(SimDuration::from_millis(500)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(normalize_image("nginx"), "docker.io/library/nginx:latest");
        assert_eq!(
            normalize_image("bitnami/redis:7"),
            "docker.io/bitnami/redis:7"
        );
        assert_eq!(normalize_image("ghcr.io/org/app:v1"), "ghcr.io/org/app:v1");
        assert_eq!(
            normalize_image("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert!(image_id("nginx:1.25").starts_with("docker.io/library/nginx@sha256:"));
    }
}
