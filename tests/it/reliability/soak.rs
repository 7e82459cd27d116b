//! The soak in short (45 s of churn): `rekon run` and the TUI against `rekon emulate` while
//! deployments are scaled and restarted, pods deleted, ConfigMaps edited by hand and commits
//! land every 10 s; both must survive and end with the cluster exactly as Git says. The
//! memory figures are printed, not judged: 45 s is all warm-up (the 30-minute run of
//! `cargo bench --bench soak` judges them, see BENCHMARKS.md).

use std::time::Duration;

use crate::support::soak::{SoakOptions, soak};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_soak_ends_in_the_right_state() {
    if !crate::support::require("git") {
        return;
    }
    let report = soak(SoakOptions {
        duration: Duration::from_secs(45),
        commit_every: Duration::from_secs(10),
        churn_every: Duration::from_secs(1),
        sample_every: Duration::from_secs(3),
        warmup: Duration::from_secs(15),
        refresh: Duration::from_secs(2),
        apps: 3,
        tui: true,
        verbose: false,
    })
    .await;
    println!("{}", report.summary());
    assert!(report.commits >= 4, "{}", report.summary());
    assert!(report.churn_actions >= 30, "{}", report.summary());
    assert!(
        report.samples.iter().all(|s| s.run_kib > 0),
        "rekon run died: {}",
        report.summary()
    );
    if report.tui_ran {
        assert!(
            report.samples.iter().any(|s| s.tui_kib > 0),
            "the TUI never ran: {}",
            report.summary()
        );
    }
    if let Err(e) = &report.final_state {
        panic!("wrong end state: {e}\n{}", report.summary());
    }
}
