//! The soak harness shared by `cargo bench --bench soak` (30 minutes) and the short run in
//! the test suite: a cluster of its own ([`Emulator`]: `rekon emulate`, or the real control
//! plane under `REKON_TEST_CLUSTER=real`), a Git repository of apps that auto-sync and self-heal,
//! `rekon run` and the TUI (in tmux) against them, and constant churn — deployments scaled
//! and restarted, pods deleted, ConfigMaps edited by hand, a commit every so often. It
//! samples both processes' resident memory (and its anonymous part: heap and stacks) and
//! checks at the end that the cluster holds exactly what Git says and both views show
//! every app Synced and Healthy.
//!
//! The emulator runs at 20× speed, so its Event TTL (1 h of its clock, as kube-apiserver's
//! default) deletes Events 3 minutes after their last write: the cluster stays the same size
//! and any growth in the watchers' memory is theirs.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::Request;
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::{Value, json};

use super::emulate::Emulator;
use super::tmux::Tmux;
use super::{on_path, rekon_command, tool_path};

/// How long and how hard to soak.
#[derive(Debug, Clone)]
pub struct SoakOptions {
    /// Churn runs this long.
    pub duration: Duration,
    /// A commit this often.
    pub commit_every: Duration,
    /// One churn action this often.
    pub churn_every: Duration,
    /// Memory sampled this often.
    pub sample_every: Duration,
    /// Samples before this are warm-up, not counted.
    pub warmup: Duration,
    /// `rekon run --refresh`.
    pub refresh: Duration,
    /// How many apps.
    pub apps: usize,
    /// Also run the TUI in tmux.
    pub tui: bool,
    /// Print progress lines.
    pub verbose: bool,
}

/// One memory sample. The resident set is judged; its anonymous part (heap and stacks,
/// `RssAnon`) is kept beside it, because there a leak shows undiluted by the binary's code.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Seconds since the start.
    pub at: f64,
    /// `rekon run`'s resident set, KiB.
    pub run_kib: u64,
    /// The TUI's resident set, KiB (0 without a TUI).
    pub tui_kib: u64,
    /// `rekon run`'s anonymous resident memory, KiB.
    pub run_anon_kib: u64,
    /// The TUI's anonymous resident memory, KiB.
    pub tui_anon_kib: u64,
}

/// What a soak found.
#[derive(Debug)]
pub struct SoakReport {
    pub samples: Vec<Sample>,
    pub commits: usize,
    pub churn_actions: usize,
    /// Growth of `rekon run`'s memory after warm-up, as a fraction of its baseline.
    pub run_growth: Option<f64>,
    /// The same for the TUI.
    pub tui_growth: Option<f64>,
    /// Whether the TUI ran (tmux present).
    pub tui_ran: bool,
    /// `Ok` when the cluster and both views ended in the right state, else why not.
    pub final_state: Result<(), String>,
    /// How long after the churn stopped the right state was reached.
    pub converged_after: Option<Duration>,
}

impl SoakReport {
    /// A few lines for people.
    pub fn summary(&self) -> String {
        let mib = |k: u64| k as f64 / 1024.0;
        let pick = |f: fn(&Sample) -> u64| {
            let v: Vec<u64> = self.samples.iter().map(f).collect();
            (
                v.iter().copied().min().unwrap_or(0),
                v.iter().copied().max().unwrap_or(0),
                v.last().copied().unwrap_or(0),
            )
        };
        let (rmin, rmax, rlast) = pick(|s| s.run_kib);
        let (tmin, tmax, tlast) = pick(|s| s.tui_kib);
        let (_, _, ranon) = pick(|s| s.run_anon_kib);
        let (_, _, tanon) = pick(|s| s.tui_anon_kib);
        let pct = |g: Option<f64>| g.map_or("n/a".to_string(), |g| format!("{:+.1} %", g * 100.0));
        format!(
            "samples: {}, commits: {}, churn actions: {}\n\
             rekon run RSS: min {:.1} MiB, max {:.1} MiB, last {:.1} MiB, \
             growth after warm-up {}; heap and stacks at the end {:.1} MiB\n\
             TUI RSS: {}\n\
             final state: {}{}",
            self.samples.len(),
            self.commits,
            self.churn_actions,
            mib(rmin),
            mib(rmax),
            mib(rlast),
            pct(self.run_growth),
            mib(ranon),
            if self.tui_ran {
                format!(
                    "min {:.1} MiB, max {:.1} MiB, last {:.1} MiB, growth after warm-up {}; \
                     heap and stacks at the end {:.1} MiB",
                    mib(tmin),
                    mib(tmax),
                    mib(tlast),
                    pct(self.tui_growth),
                    mib(tanon)
                )
            } else {
                "not run (no tmux)".into()
            },
            match &self.final_state {
                Ok(()) => "right".to_string(),
                Err(e) => format!("WRONG: {e}"),
            },
            self.converged_after
                .map(|d| format!(
                    " (converged {:.0} s after the churn stopped)",
                    d.as_secs_f64()
                ))
                .unwrap_or_default()
        )
    }
}

/// Growth from the median of the first post-warm-up window to the median of the last
/// window, each a tenth of the counted samples (at least three).
pub fn growth(values: &[(f64, u64)], warmup: f64) -> Option<f64> {
    let counted: Vec<u64> = values
        .iter()
        .filter(|(at, v)| *at >= warmup && *v > 0)
        .map(|(_, v)| *v)
        .collect();
    let window = (counted.len() / 10).max(3);
    if counted.len() < window * 2 {
        return None;
    }
    let median = |s: &[u64]| {
        let mut v = s.to_vec();
        v.sort_unstable();
        v[v.len() / 2] as f64
    };
    let first = median(&counted[..window]);
    let last = median(&counted[counted.len() - window..]);
    (first > 0.0).then(|| (last - first) / first)
}

/// A `/proc/PID/status` field in KiB (`VmRSS`, `RssAnon`), 0 once the process is gone.
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Soak")
        .env("GIT_AUTHOR_EMAIL", "soak@example.com")
        .env("GIT_COMMITTER_NAME", "Soak")
        .env("GIT_COMMITTER_EMAIL", "soak@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What Git says about app `i` at commit number `rev`.
#[derive(Debug, Clone, PartialEq)]
struct Wanted {
    replicas: i64,
    image: String,
    setting: String,
}

fn wanted(rev: usize) -> Wanted {
    Wanted {
        replicas: (rev % 3) as i64 + 1,
        image: format!("registry.example.com/web:1.{rev}"),
        setting: format!("rev-{rev}"),
    }
}

fn write_app(repo: &Path, i: usize, w: &Wanted) {
    let dir = repo.join(format!("apps/app-{i}"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("deploy.yaml"),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {}\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: web\n        image: {}\n        ports: [{{containerPort: 8080}}]\n",
            w.replicas, w.image
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\ndata:\n  setting: {}\n",
            w.setting
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("service.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n",
    )
    .unwrap();
}

fn apps_file(path: &Path, repo: &Path, n: usize) {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: app-{i}, namespace: argocd}}\nspec:\n  source: {{repoURL: {}, path: apps/app-{i}, targetRevision: main}}\n  destination: {{server: https://kubernetes.default.svc, namespace: app-{i}}}\n  syncPolicy:\n    automated: {{prune: true, selfHeal: true}}\n    syncOptions: [CreateNamespace=true]\n",
            repo.display()
        ));
    }
    std::fs::write(path, text).unwrap();
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Presses `r` on every app row, as a user who wants the newest commit now (the TUI
/// fetches Git by itself only every few minutes).
fn refresh_all(tmux: &Tmux, apps: usize) {
    tmux.keys(&["g"]);
    for _ in 0..apps {
        tmux.keys(&["r", "j"]);
    }
}

/// Sends one request and returns the status and JSON body.
async fn call(
    client: &kube::Client,
    method: &str,
    path: &str,
    ct: &str,
    body: Value,
) -> (u16, Value) {
    let mut b = Request::builder().method(method).uri(path);
    if !ct.is_empty() {
        b = b.header("content-type", ct);
    }
    let body = if body.is_null() {
        Body::empty()
    } else {
        Body::from(body.to_string().into_bytes())
    };
    let Ok(req) = b.body(body) else {
        return (0, Value::Null);
    };
    match client.send(req).await {
        Ok(resp) => {
            let code = resp.status().as_u16();
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            (code, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

const MERGE: &str = "application/merge-patch+json";

/// One churn action, chosen by its number.
async fn churn(client: &kube::Client, n: usize, apps: usize) {
    let app = n % apps;
    let ns = format!("app-{app}");
    let deploy = format!("/apis/apps/v1/namespaces/{ns}/deployments/web?fieldManager=kubectl-edit");
    match (n / apps) % 4 {
        // Someone scales by hand (self-heal puts it back).
        0 => {
            call(
                client,
                "PATCH",
                &deploy,
                MERGE,
                json!({"spec": {"replicas": 4}}),
            )
            .await;
        }
        // `kubectl rollout restart`.
        1 => {
            let at = jiff::Timestamp::now().to_string();
            call(
                client,
                "PATCH",
                &deploy,
                MERGE,
                json!({"spec": {"template": {"metadata": {
                "annotations": {"kubectl.kubernetes.io/restartedAt": at}}}}}),
            )
            .await;
        }
        // A pod dies.
        2 => {
            let (_, pods) = call(
                client,
                "GET",
                &format!("/api/v1/namespaces/{ns}/pods"),
                "",
                Value::Null,
            )
            .await;
            if let Some(name) = pods["items"][0]["metadata"]["name"].as_str() {
                call(
                    client,
                    "DELETE",
                    &format!("/api/v1/namespaces/{ns}/pods/{name}"),
                    "",
                    Value::Null,
                )
                .await;
            }
        }
        // A ConfigMap edited by hand (self-heal puts it back).
        _ => {
            call(
                client,
                "PATCH",
                &format!("/api/v1/namespaces/{ns}/configmaps/web-config?fieldManager=kubectl-edit"),
                MERGE,
                json!({"data": {"setting": "hand-edited"}}),
            )
            .await;
        }
    }
}

/// Whether the cluster holds what Git says for every app, and every Deployment is rolled
/// out; `Err` names the first difference.
async fn cluster_right(
    client: &kube::Client,
    apps: usize,
    wanted: &[Wanted],
) -> Result<(), String> {
    for (i, w) in wanted.iter().enumerate().take(apps) {
        let ns = format!("app-{i}");
        let (_, d) = call(
            client,
            "GET",
            &format!("/apis/apps/v1/namespaces/{ns}/deployments/web"),
            "",
            Value::Null,
        )
        .await;
        let (_, c) = call(
            client,
            "GET",
            &format!("/api/v1/namespaces/{ns}/configmaps/web-config"),
            "",
            Value::Null,
        )
        .await;
        let replicas = d["spec"]["replicas"].as_i64();
        let image = d["spec"]["template"]["spec"]["containers"][0]["image"].as_str();
        let ready = d["status"]["readyReplicas"].as_i64().unwrap_or(0);
        let updated = d["status"]["updatedReplicas"].as_i64().unwrap_or(0);
        let setting = c["data"]["setting"].as_str();
        if replicas != Some(w.replicas) {
            return Err(format!(
                "app-{i}: replicas {replicas:?}, Git says {}",
                w.replicas
            ));
        }
        if image != Some(w.image.as_str()) {
            return Err(format!("app-{i}: image {image:?}, Git says {}", w.image));
        }
        if setting != Some(w.setting.as_str()) {
            return Err(format!(
                "app-{i}: setting {setting:?}, Git says {}",
                w.setting
            ));
        }
        if ready != w.replicas || updated != w.replicas {
            return Err(format!(
                "app-{i}: {ready} ready, {updated} updated of {}",
                w.replicas
            ));
        }
    }
    Ok(())
}

/// Whether `rekon status` (a fresh engine) sees every app Synced and Healthy.
fn status_right(cluster_args: &[String], apps_path: &Path, home: &Path) -> Result<(), String> {
    let out = rekon_command(home)
        .args(cluster_args)
        .arg("--apps")
        .arg(apps_path)
        .args(["status", "-o", "json"])
        .output()
        .map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("status: {e}"))?;
    for a in v.as_array().into_iter().flatten() {
        if a["sync"] != "Synced" || a["health"] != "Healthy" {
            return Err(format!(
                "rekon status: {} is {} and {}: {}",
                a["name"], a["sync"], a["health"], a["message"]
            ));
        }
    }
    Ok(())
}

/// Whether the TUI's screen shows every app Synced and Healthy.
fn tui_right(screen: &str, apps: usize) -> Result<(), String> {
    for i in 0..apps {
        let name = format!("app-{i} ");
        let row = screen
            .lines()
            .find(|l| l.contains(&name))
            .ok_or_else(|| format!("the TUI does not list app-{i}:\n{screen}"))?;
        if !(row.contains("Synced") && row.contains("Healthy")) || row.contains("OutOfSync") {
            return Err(format!("the TUI shows app-{i} as: {}", row.trim()));
        }
    }
    Ok(())
}

/// Runs a soak and reports; panics only when the setup itself fails.
pub async fn soak(opts: SoakOptions) -> SoakReport {
    let work = tempfile::tempdir().expect("a temporary folder");
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let repo = work.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let mut rev = 0usize;
    let mut wanted_now: Vec<Wanted> = (0..opts.apps).map(|_| wanted(rev)).collect();
    for (i, w) in wanted_now.iter().enumerate() {
        write_app(&repo, i, w);
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "apps"]);
    let apps_path = work.path().join("apps.yaml");
    apps_file(&apps_path, &repo, opts.apps);

    // The emulator runs simulated time fast so rollouts take moments (kwok's are quick too).
    let emu = Emulator::start_quiet();
    let cluster_args: Vec<String> = emu.cluster_args().map(str::to_string).to_vec();
    let client = emu.client().await;

    let refresh = format!("{}s", opts.refresh.as_secs().max(1));
    let run = rekon_command(&home)
        .args(&cluster_args)
        .arg("--apps")
        .arg(&apps_path)
        .args(["run", "--refresh", &refresh])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.path().join("run.log")).unwrap())
        .spawn()
        .expect("rekon run starts");
    let run_pid = run.id();
    let _run = Proc(run);

    // Silently without tmux, under CI too: the soak's TUI part is optional.
    let tui_ran = opts.tui && on_path("tmux");
    let pid_file = work.path().join("tui.pid");
    let tmux = tui_ran.then(|| {
        let command = format!(
            "sh -c 'echo $$ > {pid}; exec env PATH=\"{path}\" HOME={h} XDG_CACHE_HOME={h} XDG_CONFIG_HOME={h} TERM=xterm-256color {bin} {cluster} --apps {apps}'",
            pid = pid_file.display(),
            path = tool_path().to_string_lossy(),
            h = home.display(),
            bin = env!("CARGO_BIN_EXE_rekon"),
            cluster = cluster_args.join(" "),
            apps = apps_path.display()
        );
        Tmux::start("soak", (200, 50), &command)
    });
    if opts.tui && !tui_ran {
        println!("soak: tmux is not installed: the TUI is not soaked");
    }
    let tui_pid =
        || -> Option<u32> { std::fs::read_to_string(&pid_file).ok()?.trim().parse().ok() };

    let start = Instant::now();
    let mut samples = Vec::new();
    let (mut next_commit, mut next_churn, mut next_sample) =
        (start + opts.commit_every, start, start);
    let (mut commits, mut churns) = (0usize, 0usize);
    while start.elapsed() < opts.duration {
        let now = Instant::now();
        if now >= next_sample {
            let tui = tui_pid();
            let s = Sample {
                at: start.elapsed().as_secs_f64(),
                run_kib: status_kib(run_pid, "VmRSS"),
                tui_kib: tui.map_or(0, |p| status_kib(p, "VmRSS")),
                run_anon_kib: status_kib(run_pid, "RssAnon"),
                tui_anon_kib: tui.map_or(0, |p| status_kib(p, "RssAnon")),
            };
            if opts.verbose {
                let mib = |k: u64| k as f64 / 1024.0;
                println!(
                    "soak: {:>6.0} s  rekon run {:>5.1} MiB (heap {:>4.1})  TUI {:>5.1} MiB (heap {:>4.1})  commits {commits}  churn {churns}",
                    s.at,
                    mib(s.run_kib),
                    mib(s.run_anon_kib),
                    mib(s.tui_kib),
                    mib(s.tui_anon_kib)
                );
            }
            samples.push(s);
            next_sample += opts.sample_every;
        }
        if now >= next_commit {
            rev += 1;
            let i = commits % opts.apps;
            wanted_now[i] = wanted(rev);
            write_app(&repo, i, &wanted_now[i]);
            git(&repo, &["add", "-A"]);
            git(
                &repo,
                &["commit", "-q", "-m", &format!("app-{i}: rev {rev}")],
            );
            commits += 1;
            next_commit += opts.commit_every;
        }
        if now >= next_churn {
            churn(&client, churns, opts.apps).await;
            churns += 1;
            next_churn += opts.churn_every;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let churn_end = Instant::now();

    // The churn stops: a last commit to every app, and everything must converge.
    rev += 1;
    for (i, w) in wanted_now.iter_mut().enumerate() {
        *w = wanted(rev);
        write_app(&repo, i, w);
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "final"]);
    commits += 1;
    let limit = opts.refresh * 3 + Duration::from_secs(120);
    let mut last_err = String::new();
    let mut converged_after = None;
    let mut last_refresh: Option<Instant> = None;
    while churn_end.elapsed() < limit {
        if let Some(t) = &tmux
            && last_refresh.is_none_or(|r| r.elapsed() > opts.refresh * 2)
        {
            refresh_all(t, opts.apps);
            last_refresh = Some(Instant::now());
        }
        let cluster = cluster_right(&client, opts.apps, &wanted_now).await;
        let tui = match &tmux {
            Some(t) => tui_right(&t.screen(), opts.apps),
            None => Ok(()),
        };
        let status = match (&cluster, &tui) {
            (Ok(()), Ok(())) => {
                let (args, apps_path, home) =
                    (cluster_args.clone(), apps_path.clone(), home.clone());
                tokio::task::spawn_blocking(move || status_right(&args, &apps_path, &home))
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()))
            }
            _ => Ok(()),
        };
        match cluster.and(tui).and(status) {
            Ok(()) => {
                converged_after = Some(churn_end.elapsed());
                break;
            }
            Err(e) => last_err = e,
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let alive = status_kib(run_pid, "VmRSS") > 0;
    let final_state = if !alive {
        Err(format!(
            "rekon run is gone; its log:\n{}",
            std::fs::read_to_string(work.path().join("run.log")).unwrap_or_default()
        ))
    } else if converged_after.is_some() {
        Ok(())
    } else {
        Err(last_err)
    };
    let warmup = opts.warmup.as_secs_f64();
    let run_growth = growth(
        &samples
            .iter()
            .map(|s| (s.at, s.run_kib))
            .collect::<Vec<_>>(),
        warmup,
    );
    let tui_growth = growth(
        &samples
            .iter()
            .map(|s| (s.at, s.tui_kib))
            .collect::<Vec<_>>(),
        warmup,
    );
    SoakReport {
        samples,
        commits,
        churn_actions: churns,
        run_growth,
        tui_growth,
        tui_ran,
        final_state,
        converged_after,
    }
}
