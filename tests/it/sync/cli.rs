//! `rekon sync`, `history` and `rollback` as a user runs them: the real binary against a
//! cluster of its own (`rekon emulate`, or the real control plane), reading Applications from
//! a file.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::emulate::Emulator;
use crate::support::rekon_command;
use crate::support::sync::Fixture;
use serde_json::Value;

struct Cli {
    emu: Emulator,
    apps: PathBuf,
    cache: PathBuf,
    _dir: tempfile::TempDir,
}

impl Cli {
    fn new(repo: &Path, sync_options: &str) -> Cli {
        let dir = tempfile::tempdir().unwrap();
        let apps = dir.path().join("apps.yaml");
        std::fs::write(
            &apps,
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: shop\n  namespace: argocd\nspec:\n  source:\n    repoURL: {}\n    path: shop\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: shop\n  syncPolicy:\n    syncOptions: [{sync_options}]\n",
                repo.display()
            ),
        )
        .unwrap();
        Cli {
            emu: Emulator::start(),
            apps,
            cache: dir.path().join("cache"),
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// Runs rekon with extra environment variables.
    fn run_with(&self, args: &[&str], env: &[(&str, &Path)]) -> Output {
        rekon_command(&self.cache)
            .envs(env.iter().copied())
            .args(self.emu.cluster_args())
            .args(["--apps", self.apps.to_str().unwrap()])
            .args(args)
            .env("USER", "tester")
            .env("HOSTNAME", "box")
            .output()
            .unwrap()
    }

    fn json(&self, args: &[&str], code: i32) -> Value {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "rekon {args:?}\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
    }
}

fn steps(op: &Value) -> Vec<String> {
    op["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {} {}",
                s["phase"].as_str().unwrap(),
                s["kind"].as_str().unwrap(),
                s["name"].as_str().unwrap(),
                s["action"].as_str().unwrap(),
                s["status"].as_str().unwrap()
            )
        })
        .collect()
}

fn cm(value: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: {value}\n"
    )
}

#[test]
fn sync_dry_run_history_and_rollback_from_the_command_line() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("shop/cm.yaml", cm("fast"));
    let first = repo.commit("fast mode");
    let cli = Cli::new(&repo.path, "CreateNamespace=true");

    // The dry run prints the plan; the namespace is created by the sync, so its contents
    // are not dry-run.
    let op = cli.json(&["sync", "shop", "--dry-run", "-o", "json"], 0);
    assert_eq!(op["phase"], "Succeeded");
    assert_eq!(op["dryRun"], true);
    assert_eq!(
        steps(&op),
        [
            "PreSync Namespace shop created Succeeded",
            "Sync ConfigMap settings created Succeeded",
        ]
    );
    assert!(
        op["steps"][1]["message"]
            .as_str()
            .unwrap()
            .contains("namespace shop is created by this sync")
    );

    // The real sync, as a table with progress on stderr.
    let out = cli.run(&["sync", "shop"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("PHASE"), "{stdout}");
    assert!(stdout.contains("Succeeded argocd/shop at "), "{stdout}");
    assert!(
        stderr.contains("ConfigMap shop/settings  created  Succeeded"),
        "{stderr}"
    );

    repo.write("shop/cm.yaml", cm("safe"));
    let second = repo.commit("safe mode");
    let op = cli.json(&["sync", "shop", "-o", "json"], 0);
    assert_eq!(op["revision"], second.as_str());
    assert_eq!(steps(&op), ["Sync ConfigMap settings configured Succeeded"]);
    assert_eq!(op["initiatedBy"], "tester@box");

    let history = cli.json(&["history", "shop", "-o", "json"], 0);
    let ids: Vec<(u64, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["id"].as_u64().unwrap(), e["revision"].as_str().unwrap()))
        .collect();
    assert_eq!(ids, [(2, second.as_str()), (1, first.as_str())]);
    let table = cli.run(&["history", "shop"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.starts_with("ID  REVISION"), "{table}");
    assert!(table.contains("safe mode"), "{table}");

    let op = cli.json(&["rollback", "shop", "1", "-o", "json"], 0);
    assert_eq!(op["revision"], first.as_str());
    assert_eq!(steps(&op), ["Sync ConfigMap settings configured Succeeded"]);
    let out = cli.run(&["manifests", "shop"]);
    assert!(out.status.success());
}

#[test]
fn failures_exit_2_with_one_line_naming_the_culprit() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("shop/cm.yaml", cm("fast"));
    repo.write(
        "shop/migrate.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations: {argocd.argoproj.io/hook: PreSync}\nspec:\n  backoffLimit: 0\n  template:\n    metadata:\n      annotations: {rekon.dev/simulate: fail}\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: m\n        image: busybox:1.36\n",
    );
    repo.commit("failing hook");
    let cli = Cli::new(&repo.path, "CreateNamespace=true");

    let op = cli.json(&["sync", "shop", "-o", "json"], 2);
    assert_eq!(op["phase"], "Failed");
    assert!(
        op["message"]
            .as_str()
            .unwrap()
            .starts_with("batch/Job shop/migrate: Degraded"),
        "{op:#}"
    );

    for (args, want) in [
        (
            vec!["sync", "shop", "--resource", "nonsense"],
            "--resource \"nonsense\" is not GROUP:KIND:NAMESPACE/NAME",
        ),
        (
            vec!["sync", "shop", "--timeout", "soon"],
            "--timeout \"soon\" is not a duration",
        ),
        (vec!["sync", "nope"], "no app named \"nope\""),
        (
            vec!["--read-only", "sync", "shop"],
            "sync of argocd/shop refused: rekon runs with --read-only",
        ),
        (
            vec!["rollback", "shop", "7"],
            "rollback of argocd/shop: no history entry 7",
        ),
        (
            vec!["sync", "shop", "-o", "side"],
            "--output side is not supported by sync",
        ),
    ] {
        let out = cli.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
}

/// Edits the ConfigMap by hand, as `kubectl edit` does (a merge patch as `kubectl-edit`).
fn hand_edit(emu: &Emulator, mode: &str) {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, Patch, PatchParams};
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let api: Api<ConfigMap> = Api::namespaced(emu.client().await, "shop");
        let params = PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..PatchParams::default()
        };
        let patch = serde_json::json!({"data": {"mode": mode}});
        api.patch("settings", &params, &Patch::Merge(&patch))
            .await
            .unwrap();
    });
}

#[test]
fn git_wins_over_a_hand_edit_unless_conflicts_are_refused_by_flag_or_config() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("shop/cm.yaml", cm("fast"));
    repo.commit("fast mode");
    let cli = Cli::new(&repo.path, "CreateNamespace=true");
    cli.json(&["sync", "shop", "-o", "json"], 0);
    hand_edit(&cli.emu, "hand");
    let takes = serde_json::json!([{"manager": "kubectl-edit", "fields": [".data.mode"]}]);

    // The dry run names the takeover, in JSON and in the table.
    let op = cli.json(&["sync", "shop", "--dry-run", "-o", "json"], 0);
    assert_eq!(op["steps"][0]["takes"], takes, "{op:#}");
    let out = cli.run(&["sync", "shop", "--dry-run"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("takes .data.mode from kubectl-edit"),
        "{table}"
    );

    // Refused by the flag, and by the config's default: exit 2, naming manager and field.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "sync:\n  refuseConflicts: true\n").unwrap();
    let flag = cli.json(&["sync", "shop", "--refuse-conflicts", "-o", "json"], 2);
    let out = cli.run_with(
        &["sync", "shop", "-o", "json"],
        &[("REKON_CONFIG", &config)],
    );
    assert_eq!(out.status.code(), Some(2));
    let by_config: Value = serde_json::from_slice(&out.stdout).unwrap();
    for op in [&flag, &by_config] {
        let message = op["steps"][0]["message"].as_str().unwrap();
        assert!(
            message.contains("kubectl-edit") && message.contains(".data.mode"),
            "{op:#}"
        );
        assert_eq!(op["phase"], "Failed");
    }
    let manifests = cli.run(&["diff", "shop"]);
    assert!(
        String::from_utf8_lossy(&manifests.stdout).contains("hand"),
        "the refused syncs changed nothing"
    );

    // By default Git wins, and the history says what was taken.
    let op = cli.json(&["sync", "shop", "-o", "json"], 0);
    assert_eq!(op["steps"][0]["takes"], takes, "{op:#}");
    let out = cli.run(&["history", "shop"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("took .data.mode from kubectl-edit on ConfigMap shop/settings"),
        "{table}"
    );
    let help = cli.run(&["sync", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--refuse-conflicts"));
}

#[test]
fn sync_at_a_revision_other_than_the_target() {
    let Some(repo) = Fixture::new() else { return };
    repo.write("shop/cm.yaml", cm("fast"));
    let first = repo.commit("fast mode");
    repo.write("shop/cm.yaml", cm("safe"));
    let second = repo.commit("safe mode");
    let cli = Cli::new(&repo.path, "CreateNamespace=true");

    let op = cli.json(&["sync", "shop", "--revision", &first, "-o", "json"], 0);
    assert_eq!(op["revision"], first.as_str());
    let diff = cli.run(&["diff", "shop"]);
    let text = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(diff.status.code(), Some(1), "{text}");
    // Git's target (safe) against what the sync left live (fast).
    assert!(text.contains("safe") && text.contains("fast"), "{text}");
    let op = cli.json(&["sync", "shop", "-o", "json"], 0);
    assert_eq!(op["revision"], second.as_str());
}
