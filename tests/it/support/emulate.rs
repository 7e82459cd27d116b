//! `rekon emulate` as a child process on a free port, the way users and CI start it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// `rekon emulate` on a free port at 20× speed, writing a kubeconfig for it; stopped on drop.
pub struct Emulator {
    pub child: Child,
    /// `http://127.0.0.1:<port>`, from its ready line.
    pub url: String,
    pub kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
}

impl Emulator {
    /// Starts it with these extra arguments (e.g. `--faults …`); its log goes to the test's.
    pub fn start(extra: &[&str]) -> Emulator {
        Self::spawn(extra, Stdio::inherit())
    }

    /// Starts it with its log discarded (long runs, where it would drown the output).
    pub fn start_quiet() -> Emulator {
        Self::spawn(&[], Stdio::null())
    }

    fn spawn(extra: &[&str], log: Stdio) -> Emulator {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_rekon"))
            .args(["emulate", "--listen", "127.0.0.1:0", "--speed", "20"])
            .args(extra)
            .arg("--kubeconfig-out")
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("rekon emulate starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().rsplit(' ').next().unwrap_or("").to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "ready line: {line}");
        Emulator {
            child,
            url,
            kubeconfig,
            _dir: dir,
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
