//! The emulator held to the real kube-apiserver (issue 17): scripted requests — raw HTTP and
//! kubectl — covering discovery, CRUD, server-side apply, dry runs, every patch type, watches,
//! selectors, paging, tables, finalizers and garbage collection, CRDs, subresources and error
//! bodies, each a small scenario in its own namespace.
//!
//! `REKON_TEST_CLUSTER=real cargo test --test it differential` sends each scenario to the
//! emulator (over HTTP) and to a real control plane at once, normalises the answers
//! ([`normalise`]), records both under `tests/realk8s/differential/`, rewrites the report
//! `tests/realk8s/differential.md` and compares. `cargo test` runs the scenarios on the
//! emulator and compares with the recorded real answers. Either way, a difference fails the
//! test unless [`allowed::ALLOWED`] lists it with its reason, and an allowance that no longer
//! matches anything fails it too: the list pins the differences.

mod allowed;
mod compare;
mod normalise;
mod runner;
mod scenarios;

use std::path::PathBuf;
use std::time::Duration;

use rekon_emulator::{Cluster, ClusterOptions};

use crate::support::cluster::{Flavor, TestCluster, client_for, flavor};
use compare::Outcome;
use runner::{Run, Scenario, Target};

/// The raw HTTP scenarios (no Go needed against the recording).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http() {
    suite(scenarios::HTTP, None).await;
}

/// The kubectl scenarios, with kubectl of the release they were recorded with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl() {
    let Some(kubectl) = crate::support::release_kubectl() else {
        return;
    };
    suite(scenarios::KUBECTL, Some(kubectl)).await;
}

async fn suite(scenarios: &[Scenario], kubectl: Option<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let emulator = Cluster::start(ClusterOptions {
        name: "diff".into(),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..ClusterOptions::default()
    })
    .await
    .expect("emulator starts");
    let emulator_target = {
        let kubeconfig = dir.path().join("emulator.kubeconfig");
        emulator.write_kubeconfig(&kubeconfig, "diff").unwrap();
        Target {
            name: "emulator",
            client: client_for(&kubeconfig).await,
            kubeconfig,
            cache_dir: dir.path().join("emulator-cache"),
            kubectl: kubectl.clone(),
        }
    };
    let real = match flavor() {
        Flavor::Real => Some(TestCluster::start(ClusterOptions::default()).await),
        Flavor::Emulated => None,
    };
    let real_target = real.as_ref().map(|real| {
        let kubeconfig = dir.path().join("real.kubeconfig");
        real.write_kubeconfig(&kubeconfig, "diff");
        Target {
            name: "real",
            client: real.client(),
            kubeconfig,
            cache_dir: dir.path().join("real-cache"),
            kubectl: kubectl.clone(),
        }
    });

    let mut outcomes = Vec::new();
    for scenario in scenarios {
        let on_emulator = run(scenario, emulator_target.clone());
        let (emulated, recorded) = match &real_target {
            Some(real) => {
                let (e, r) = tokio::join!(on_emulator, run(scenario, real.clone()));
                compare::record(scenario.name, &e, &r);
                (e, r)
            }
            None => (on_emulator.await, compare::recorded(scenario.name, "real")),
        };
        outcomes.push(compare::compare(
            scenario.name,
            &emulated,
            &recorded,
            allowed::ALLOWED,
        ));
    }
    if real.is_some() {
        let every: Vec<&str> = scenarios::HTTP
            .iter()
            .chain(scenarios::KUBECTL)
            .map(|s| s.name)
            .collect();
        compare::write_report(&every, allowed::ALLOWED);
    }
    judge(scenarios, &outcomes);
}

async fn run(scenario: &Scenario, target: Target) -> Vec<serde_json::Value> {
    let mut run = Run::new(target, scenario.name);
    run.setup().await;
    tokio::time::timeout(Duration::from_secs(300), (scenario.script)(&mut run))
        .await
        .unwrap_or_else(|_| panic!("scenario {} takes over 5 minutes", scenario.name));
    run.into_exchanges()
}

/// Fails on every difference the allow-list does not accept, and on every allowance of these
/// scenarios that matched nothing.
fn judge(scenarios: &[Scenario], outcomes: &[Outcome]) {
    let requests: usize = outcomes.iter().map(|o| o.requests).sum();
    let mut problems = Vec::new();
    for o in outcomes {
        for f in o.found.iter().filter(|f| f.allowed.is_none()) {
            problems.push(format!(
                "{} / {} ({}): {}\n    emulator: {}\n    real:     {}",
                o.scenario,
                f.step,
                f.request,
                f.diff.path,
                compare::snippet(f.diff.emulator.as_ref()),
                compare::snippet(f.diff.real.as_ref())
            ));
        }
    }
    for a in allowed::ALLOWED {
        let ours = scenarios
            .iter()
            .any(|s| a.scenario.split('|').any(|n| n == s.name));
        let used = outcomes
            .iter()
            .flat_map(|o| &o.found)
            .any(|f| f.allowed.is_some_and(|used| std::ptr::eq(used, a)));
        if ours && !used {
            problems.push(format!(
                "allowed difference no longer seen (remove it): {} / {} {}: {}",
                a.scenario, a.step, a.path, a.reason
            ));
        }
    }
    println!(
        "differential: {} scenarios, {requests} requests compared, {} differences accepted",
        outcomes.len(),
        outcomes
            .iter()
            .flat_map(|o| &o.found)
            .filter(|f| f.allowed.is_some())
            .count()
    );
    assert!(
        problems.is_empty(),
        "{} differences between the emulator and the real kube-apiserver are not accepted:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
