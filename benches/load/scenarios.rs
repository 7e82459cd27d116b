//! The scenarios of issue 8 that run rekon's CLI and engine: cold status, live change to
//! snapshot, peak RSS with 50,000 live objects, idle CPU, and sync and diff against kubectl.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rekon::model::SyncStatus;
use serde_json::Value;
use tokio::runtime::Runtime;

use crate::Harness;
use crate::estate::{self, Shape};
use crate::procs::{self, Daemon};
use crate::report::{Metric, Target, percentile};

/// The big estate: 1,000 apps of 30 objects, one Pod under each Deployment (34,000 live
/// objects); grown to 9 Pods per Deployment (50,000) for the memory scenario.
const BIG: Shape = Shape {
    apps: 1000,
    pods_per_deployment: 1,
};

/// Pods per Deployment that make the big estate 50,000 live objects.
const BIG_PODS_FOR_RSS: usize = 9;

/// The small estate: 100 apps, one Pod under each Deployment (3,400 live objects); grown
/// to 25 Pods per Deployment (5,000 Pods) for the idle and TUI scenarios.
const SMALL: Shape = Shape {
    apps: 100,
    pods_per_deployment: 1,
};

/// Pods per Deployment that give the small estate 5,000 Pods.
const SMALL_PODS_FOR_IDLE: usize = 25;

/// `rekon …` as a user runs it, with its own home, config and Git cache folders.
pub fn rekon(h: &Harness, cache: &Path) -> Command {
    let mut c = Command::new(&h.rekon);
    let home = h.tmp.path().join("home");
    let _ = std::fs::create_dir_all(&home);
    c.env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_CACHE_HOME", cache)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("REKON_CONFIG");
    c
}

/// A fresh, empty Git cache folder.
fn fresh_cache(h: &Harness, tag: &str) -> PathBuf {
    let dir = h.tmp.path().join(format!("cache-{tag}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Scenarios on the big estate: cold status of 1,000 apps, live change, then (grown to
/// 50,000 live objects) peak RSS.
pub fn big_estate(h: &Harness, rt: &Runtime) -> Result<(), String> {
    if !["status", "rss", "live"].iter().any(|s| h.cfg.wants(s)) {
        return Ok(());
    }
    let root = h.tmp.path().join("big");
    let t = Instant::now();
    estate::write_repo(&root, BIG.apps, &[BIG.apps])?;
    let cluster = rt.block_on(estate::start_cluster())?;
    estate::seed(cluster.store(), &BIG)?;
    let url = cluster.url().ok_or("the emulator has no URL")?;
    h.note(&format!(
        "big estate: {} apps x {} objects, {} live objects, seeded in {:.1}s at {url}",
        BIG.apps,
        estate::MANAGED_PER_APP,
        BIG.live_objects(),
        t.elapsed().as_secs_f64()
    ));
    if h.cfg.wants("status") || h.cfg.wants("live") {
        h.hold(&format!(
            "--server {url} --apps {}/apps-{}.yaml",
            root.display(),
            BIG.apps
        ));
    }
    if h.cfg.wants("status") {
        cold_status(h, &root, &url, BIG.apps, h.cfg.rounds(1, 3), 15.0)?;
    }
    if h.cfg.wants("live") {
        live_change(h, &root, &url, &cluster)?;
    }
    if h.cfg.wants("rss") {
        let t = Instant::now();
        let grown = estate::grow(cluster.store(), &BIG, BIG_PODS_FOR_RSS)?;
        h.note(&format!(
            "big estate grown to {} live objects in {:.1}s",
            grown.live_objects(),
            t.elapsed().as_secs_f64()
        ));
        h.hold(&format!(
            "--server {url} --apps {}/apps-{}.yaml",
            root.display(),
            BIG.apps
        ));
        let mut peaks = Vec::new();
        for round in 0..h.cfg.rounds(1, 3) {
            let mut c = rekon(h, &fresh_cache(h, &format!("rss-{round}")));
            c.args(["run", "--refresh", "1h", "--server", &url, "--apps"])
                .arg(root.join(format!("apps-{}.yaml", BIG.apps)));
            let mut d = Daemon::start(c)?;
            if !d.wait_lines(" is ", BIG.apps, Duration::from_secs(300)) {
                return Err(format!("rekon run did not settle: {}", d.tail(5)));
            }
            std::thread::sleep(Duration::from_secs(2));
            let kb = procs::status_kb(d.pid(), "VmHWM").unwrap_or(0);
            peaks.push(kb as f64 / 1024.0);
        }
        h.emit(Metric::new(
            format!(
                "peak RSS, {} live objects watched (rekon run)",
                grown.live_objects()
            ),
            "MiB",
            peaks,
            Target::AtMost(200.0),
        ));
    }
    drop(cluster);
    Ok(())
}

/// Cold `rekon status` of the first `apps` apps: a new process with an empty Git cache.
fn cold_status(
    h: &Harness,
    root: &Path,
    url: &str,
    apps: usize,
    rounds: usize,
    target: f64,
) -> Result<(), String> {
    let file = root.join(format!("apps-{apps}.yaml"));
    let mut times = Vec::new();
    let mut rss = Vec::new();
    for round in 0..rounds {
        let mut c = rekon(h, &fresh_cache(h, &format!("status-{apps}-{round}")));
        c.args(["status", "-o", "json", "--server", url, "--apps"])
            .arg(&file);
        let run = procs::run(c)?;
        check_status(h, &run, apps);
        times.push(secs(run.wall));
        rss.push(run.peak_rss_mb);
    }
    h.emit(Metric::new(
        format!("cold status, {apps} apps x 30 (wall)"),
        "s",
        times,
        Target::AtMost(target),
    ));
    h.emit(Metric::new(
        format!("cold status, {apps} apps x 30 (peak RSS)"),
        "MiB",
        rss,
        Target::Info,
    ));
    Ok(())
}

/// Says so when `status` did not show every app Synced and Healthy: the figure would then
/// measure something else than a cold look at a healthy estate.
fn check_status(h: &Harness, run: &procs::Run, apps: usize) {
    if !run.status.success() {
        h.note(&format!(
            "status exited with {}: {}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ));
    }
    let parsed: Vec<Value> = serde_json::from_slice(&run.stdout).unwrap_or_default();
    let good = parsed
        .iter()
        .filter(|a| a["sync"] == "Synced" && a["health"] == "Healthy")
        .count();
    if parsed.len() != apps || good != apps {
        let odd = parsed
            .iter()
            .find(|a| a["sync"] != "Synced" || a["health"] != "Healthy");
        h.note(&format!(
            "status listed {} apps, {good} Synced and Healthy (expected {apps}); first other: {}",
            parsed.len(),
            odd.map(|a| format!(
                "{} {} {} {}",
                a["name"], a["sync"], a["health"], a["message"]
            ))
            .unwrap_or_default()
        ));
    }
}

/// One live change to a ConfigMap of one app, in process on the emulator's store, until
/// the engine (started in this process, talking HTTP) publishes a snapshot showing it;
/// then the change back. Rounds of such changes give a p50 and a p99 each.
fn live_change(
    h: &Harness,
    root: &Path,
    url: &str,
    cluster: &rekon_emulator::Cluster,
) -> Result<(), String> {
    let loaded = rekon::cli::session::load_apps(&[root.join(format!("apps-{}.yaml", BIG.apps))]);
    let apps = loaded.apps.len();
    // The engine gets threads of its own, as in the rekon process: sharing the emulator's
    // would measure the emulator's queueing, not the engine.
    let engine_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let handle = {
        // kube's client spawns its buffer worker on the current runtime.
        let _inside = engine_rt.enter();
        rekon::cluster::connect_server(url).map_err(|e| e.to_string())?
    };
    let store = cluster.store().clone();
    let rounds = h.cfg.rounds(2, 3);
    let per_round = h.cfg.rounds(60, 100);
    let cache = fresh_cache(h, "live");
    let (p50s, p99s) = engine_rt.block_on(async move {
        let t = Instant::now();
        let engine = rekon::runtime::start(rekon::runtime::EngineOptions {
            apps: loaded.apps,
            clusters: vec![handle],
            sources: Arc::new(rekon::source::Sources::new(cache)),
            read_only: true,
            config_ignore: Vec::new(),
            refresh_every: None,
            auto_sync: false,
            skip_trees: false,
            projects: Vec::new(),
        });
        engine.settled().await;
        eprintln!(
            "[ live ] engine settled on {apps} apps in {:.1}s",
            t.elapsed().as_secs_f64()
        );
        let mut rx = engine.subscribe();
        let mut p50s = Vec::new();
        let mut p99s = Vec::new();
        for round in 0..rounds {
            let mut lat = Vec::new();
            for k in 0..per_round {
                let app = estate::app_name((round * per_round + k) * 37 % apps);
                for (value, want) in [
                    ("drifted", SyncStatus::OutOfSync),
                    ("production", SyncStatus::Synced),
                ] {
                    let t = Instant::now();
                    estate::drift_configmap(&store, &app, "cm-0", "mode", value)?;
                    let seen = tokio::time::timeout(
                        Duration::from_secs(20),
                        rx.wait_for(|s| {
                            s.apps.iter().any(|a| {
                                a.name == app
                                    && a.resources.iter().any(|r| {
                                        r.name == "cm-0" && r.kind == "ConfigMap" && r.sync == want
                                    })
                            })
                        }),
                    )
                    .await;
                    if !matches!(seen, Ok(Ok(_))) {
                        return Err(format!(
                            "the engine did not show {app}/cm-0 {want} within 20 s"
                        ));
                    }
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            p50s.push(percentile(&lat, 50.0));
            p99s.push(percentile(&lat, 99.0));
        }
        Ok::<_, String>((p50s, p99s))
    })?;
    h.emit(Metric::new(
        format!("live change -> snapshot p50 ({apps} apps)"),
        "ms",
        p50s,
        Target::Info,
    ));
    h.emit(Metric::new(
        format!("live change -> snapshot p99 ({apps} apps)"),
        "ms",
        p99s,
        Target::AtMost(50.0),
    ));
    Ok(())
}

/// Scenarios on the small estate: cold status of 100 apps, then (grown to 5,000 Pods) idle
/// CPU of `rekon run` and the TUIs.
pub fn small_estate(h: &Harness, rt: &Runtime) -> Result<(), String> {
    if !["status", "idle", "tui"].iter().any(|s| h.cfg.wants(s)) {
        return Ok(());
    }
    let root = h.tmp.path().join("small");
    estate::write_repo(&root, SMALL.apps, &[SMALL.apps])?;
    let cluster = rt.block_on(estate::start_cluster())?;
    estate::seed(cluster.store(), &SMALL)?;
    if h.cfg.wants("status") {
        let url = cluster.url().ok_or("the emulator has no URL")?;
        h.hold(&format!(
            "--server {url} --apps {}/apps-{}.yaml",
            root.display(),
            SMALL.apps
        ));
        cold_status(h, &root, &url, SMALL.apps, h.cfg.rounds(3, 5), 2.0)?;
    }
    if !["idle", "tui"].iter().any(|s| h.cfg.wants(s)) {
        return Ok(());
    }
    let grown = estate::grow(cluster.store(), &SMALL, SMALL_PODS_FOR_IDLE)?;
    estate::seed_flux(cluster.store(), 20)?;
    let url = cluster.url().ok_or("the emulator has no URL")?;
    let kubeconfig = root.join("kubeconfig");
    cluster
        .write_kubeconfig(&kubeconfig, "bench")
        .map_err(|e| e.to_string())?;
    h.note(&format!(
        "small estate: {} apps, {} Pods, 20 Flux Kustomizations at {url}",
        SMALL.apps,
        grown.apps * 2 * grown.pods_per_deployment
    ));
    h.hold(&format!(
        "--server {url} --apps {}/apps-{}.yaml, KUBECONFIG={}",
        root.display(),
        SMALL.apps,
        kubeconfig.display()
    ));
    let apps_file = root.join(format!("apps-{}.yaml", SMALL.apps));
    let cache = fresh_cache(h, "small");
    if h.cfg.wants("idle") {
        let window = Duration::from_secs(if h.cfg.quick { 15 } else { 30 });
        let mut cpu = Vec::new();
        let mut c = rekon(h, &cache);
        c.args(["run", "--refresh", "1h", "--server", &url, "--apps"])
            .arg(&apps_file);
        let mut d = Daemon::start(c)?;
        if !d.wait_lines(" is ", SMALL.apps, Duration::from_secs(120)) {
            return Err(format!("rekon run did not settle: {}", d.tail(5)));
        }
        std::thread::sleep(Duration::from_secs(2));
        // One window, cut in thirds: three figures from one settled process.
        for _ in 0..3 {
            match procs::observe(&[d.pid()], window / 3)
                .first()
                .copied()
                .flatten()
            {
                Some(u) => cpu.push(u.cpu_pct),
                None => return Err(format!("rekon run exited: {}", d.tail(5))),
            }
        }
        h.emit(Metric::new(
            format!(
                "idle CPU over {}s, {} pods (rekon run)",
                window.as_secs(),
                grown.apps * 2 * grown.pods_per_deployment
            ),
            "%",
            cpu,
            Target::AtMost(1.0),
        ));
    }
    if h.cfg.wants("tui") {
        crate::tui::compare(h, &apps_file, &url, &kubeconfig, &cache)?;
    }
    drop(cluster);
    Ok(())
}

/// Sync of one app of 1,000 objects against `kubectl apply --server-side -f DIR`, then
/// `rekon diff` after 100 objects drifted against `kubectl diff --server-side -f DIR`, on
/// one emulator, side by side, round after round.
pub fn sync_and_diff(h: &Harness, rt: &Runtime) -> Result<(), String> {
    if !h.cfg.wants("sync") {
        return Ok(());
    }
    if !procs::have("kubectl") {
        h.note("skipped sync and diff: kubectl is not on PATH");
        return Ok(());
    }
    let root = h.tmp.path().join("bulk");
    let repo = root.join("repo");
    std::fs::create_dir_all(repo.join("bulk")).map_err(|e| e.to_string())?;
    estate::git(&repo, &["init", "-q", "-b", "main"])?;
    for i in 0..1000 {
        let text = rekon::yaml::to_string(&estate::bulk_object(i));
        std::fs::write(repo.join(format!("bulk/{i:04}.yaml")), text).map_err(|e| e.to_string())?;
    }
    estate::commit_packed(&repo, "bulk")?;
    let dir = repo.join("bulk");
    let rounds = h.cfg.rounds(2, 3);
    let mut apps = String::new();
    for r in 0..rounds {
        apps.push_str(&estate::application(
            &format!("bulk-{r}"),
            &repo,
            "bulk",
            &format!("bulk-rekon-{r}"),
        ));
    }
    let apps_file = root.join("apps.yaml");
    std::fs::write(&apps_file, apps).map_err(|e| e.to_string())?;
    let cluster = rt.block_on(estate::start_cluster())?;
    let url = cluster.url().ok_or("the emulator has no URL")?;
    let kubeconfig = root.join("kubeconfig");
    cluster
        .write_kubeconfig(&kubeconfig, "bench")
        .map_err(|e| e.to_string())?;
    let store = cluster.store().clone();
    // The Git cache is warm, as on a user's machine: kubectl reads local files too.
    let cache = fresh_cache(h, "bulk");
    let mut c = rekon(h, &cache);
    c.args(["manifests", "bulk-0", "--apps"]).arg(&apps_file);
    procs::run(c)?;
    let kubectl = |args: &[&str], ns: &str| {
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(args)
            .arg("-f")
            .arg(&dir)
            .args(["-n", ns])
            .env("KUBECTL_EXTERNAL_DIFF", "diff -u -N");
        c
    };
    let (mut sync_r, mut sync_k, mut diff_r, mut diff_k) = (vec![], vec![], vec![], vec![]);
    for r in 0..rounds {
        let (ns_r, ns_k) = (format!("bulk-rekon-{r}"), format!("bulk-kubectl-{r}"));
        estate::create_namespace(&store, &ns_r)?;
        estate::create_namespace(&store, &ns_k)?;
        let mut c = rekon(h, &cache);
        c.args(["sync", &format!("bulk-{r}"), "--server", &url, "--apps"])
            .arg(&apps_file);
        let run = procs::run(c)?;
        expect_exit(&run, 0, "rekon sync")?;
        sync_r.push(secs(run.wall));
        let run = procs::run(kubectl(&["apply", "--server-side"], &ns_k))?;
        expect_exit(&run, 0, "kubectl apply --server-side")?;
        sync_k.push(secs(run.wall));
        for ns in [&ns_r, &ns_k] {
            // The sync also records its history in a ConfigMap, hence at least.
            let n = store.count_in_namespace(ns);
            if n < 1000 {
                return Err(format!(
                    "namespace {ns} holds {n} objects after the sync, not 1,000"
                ));
            }
        }
        for i in (0..1000).filter(|i| i % 5 >= 2).take(100) {
            let name = format!("cm-{i}");
            estate::drift_configmap(&store, &ns_r, &name, "index", "hand-edited")?;
            estate::drift_configmap(&store, &ns_k, &name, "index", "hand-edited")?;
        }
        if r == 0 {
            h.hold(&format!(
                "rekon diff bulk-0 --server {url} --apps {} (XDG_CACHE_HOME={}); kubectl --kubeconfig {} diff --server-side --force-conflicts -f {} -n {ns_k}",
                apps_file.display(),
                cache.display(),
                kubeconfig.display(),
                dir.display()
            ));
        }
        let mut c = rekon(h, &cache);
        c.args(["diff", &format!("bulk-{r}"), "--server", &url, "--apps"])
            .arg(&apps_file);
        let run = procs::run(c)?;
        expect_exit(&run, 1, "rekon diff")?;
        let shown = String::from_utf8_lossy(&run.stdout)
            .matches("hand-edited")
            .count();
        if shown < 100 {
            h.note(&format!(
                "rekon diff showed {shown} of the 100 drifted values"
            ));
        }
        diff_r.push(secs(run.wall));
        // rekon's diff forces conflicts (it asks what a sync would make of the object);
        // kubectl must too, or the hand edits' field manager makes it fail instead.
        let run = procs::run(kubectl(
            &["diff", "--server-side", "--force-conflicts"],
            &ns_k,
        ))?;
        expect_exit(&run, 1, "kubectl diff --server-side")?;
        diff_k.push(secs(run.wall));
    }
    let ratio = |k: &[f64], r: &[f64]| k.iter().zip(r).map(|(k, r)| k / r).collect::<Vec<_>>();
    h.emit(Metric::new(
        "sync 1,000 objects: rekon sync",
        "s",
        sync_r.clone(),
        Target::Info,
    ));
    h.emit(Metric::new(
        "sync 1,000 objects: kubectl apply --server-side",
        "s",
        sync_k.clone(),
        Target::Info,
    ));
    h.emit(Metric::new(
        "sync 1,000 objects: kubectl time / rekon time",
        "x",
        ratio(&sync_k, &sync_r),
        Target::AtLeast(3.0),
    ));
    h.emit(Metric::new(
        "diff 1,000 objects, 100 drifted: rekon diff",
        "s",
        diff_r.clone(),
        Target::Info,
    ));
    h.emit(Metric::new(
        "diff 1,000 objects, 100 drifted: kubectl diff --server-side --force-conflicts",
        "s",
        diff_k.clone(),
        Target::Info,
    ));
    h.emit(Metric::new(
        "diff 1,000 objects: kubectl time / rekon time",
        "x",
        ratio(&diff_k, &diff_r),
        Target::AtLeast(5.0),
    ));
    drop(cluster);
    Ok(())
}

fn expect_exit(run: &procs::Run, code: i32, what: &str) -> Result<(), String> {
    if run.status.code() == Some(code) {
        return Ok(());
    }
    Err(format!(
        "{what} exited with {} (expected {code}): {}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
            .lines()
            .take(3)
            .collect::<Vec<_>>()
            .join(" | ")
    ))
}
