//! Helpers shared by the integration tests, one module per kind of help: Git fixtures
//! (`source`), the test's cluster, emulated or real (`cluster`), clusters with an engine
//! (`engine`, `sync`, `integrations`), a cluster as a child process, `rekon emulate` or the
//! real control plane (`emulate`), raw HTTP and rekon's limits
//! (`reliability`), the TUI on a test backend (`tui`) and in tmux (`tmux`), and the soak
//! harness (`soak`, shared with `cargo bench --bench soak`); [`rekon_command`] runs the
//! binary in a private home.

pub mod cluster;
pub mod emulate;
pub mod engine;
pub mod flux;
pub mod integrations;
pub mod reliability;
pub mod soak;
pub mod source;
pub mod sync;
pub mod tmux;
pub mod tui;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `rekon` binary as a user on a fresh machine runs it: `home` is its HOME, cache and
/// config folder, the test's own `$KUBECONFIG`, `RUST_BACKTRACE` and `REKON_LOG` do not
/// leak in, and its `PATH` is [`tool_path`] (the real tier's kubectl, kustomize and helm
/// first under `REKON_TEST_CLUSTER=real`).
pub fn rekon_command(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rekon"));
    command
        .env("PATH", tool_path())
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home)
        .env("XDG_CONFIG_HOME", home)
        .env_remove("KUBECONFIG")
        .env_remove("RUST_BACKTRACE")
        .env_remove("REKON_LOG");
    command
}

/// The `PATH` that child `rekon` processes get. rekon finds kubectl, kustomize and helm on
/// `PATH` (`rekon::source::Tools::from_env`), so under `REKON_TEST_CLUSTER=real` the folder
/// of the real tier's builds ([`cluster::real_bin`]) comes first: rekon renders and talks
/// through the pinned tools of the real tier, never the machine's. Otherwise the test's own
/// `PATH`, unchanged.
pub fn tool_path() -> OsString {
    let own = std::env::var_os("PATH").unwrap_or_default();
    if cluster::flavor() != cluster::Flavor::Real {
        return own;
    }
    let dirs =
        std::iter::once(cluster::real_bin().to_path_buf()).chain(std::env::split_paths(&own));
    std::env::join_paths(dirs).expect("PATH entries without separators")
}

/// The kubectl a test drives: under `REKON_TEST_CLUSTER=real` the one built from
/// `k8s.io/kubectl` by tests/realk8s (never `PATH`'s), otherwise `PATH`'s; `None` (the test
/// skips, or fails under `CI=true`, as [`require`]) when the emulator tier finds none.
pub fn kubectl() -> Option<PathBuf> {
    if cluster::flavor() == cluster::Flavor::Real {
        return Some(cluster::real_bin().join("kubectl"));
    }
    require("kubectl").then(|| PathBuf::from("kubectl"))
}

/// kubectl of the real tier's release (1.37), for output compared with recordings: the one
/// `tests/realk8s` builds under `REKON_TEST_CLUSTER=real`, else `PATH`'s when it is that
/// release (CI puts the built one first); skip-or-fail as [`require`] otherwise.
pub fn release_kubectl() -> Option<PathBuf> {
    if cluster::flavor() == cluster::Flavor::Real {
        return Some(cluster::real_bin().join("kubectl"));
    }
    let minor = on_path("kubectl")
        .then(|| {
            Command::new("kubectl")
                .args(["version", "--client", "-o", "json"])
                .output()
                .ok()
        })
        .flatten()
        .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
        .and_then(|v| v["clientVersion"]["minor"].as_str().map(str::to_string));
    skip_unless(
        minor.as_deref() == Some("37"),
        "kubectl 1.37 (the release the kubectl recordings were made with)",
    )
    .then(|| PathBuf::from("kubectl"))
}

/// Whether `program` is on `PATH`, without a word when it is not.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Whether `program` is on `PATH`; when it is not, the test is skipped with a printed
/// reason, or fails when `CI=true` (CI installs every tool the suite drives).
pub fn require(program: &str) -> bool {
    skip_unless(on_path(program), program)
}

/// Whether rekon finds kustomize, or kubectl's built-in kustomize; skip-or-fail as
/// [`require`] when neither.
pub fn require_kustomize() -> bool {
    let tools = rekon::source::Tools::from_env();
    let found = tools.find("kustomize").is_some() || tools.find("kubectl").is_some();
    skip_unless(found, "kustomize or kubectl")
}

/// `found`, after failing under `CI=true` or saying the test is skipped when it is false.
fn skip_unless(found: bool, what: &str) -> bool {
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{what} is required when CI=true");
        }
        println!("skipped: {what} is not installed");
    }
    found
}
