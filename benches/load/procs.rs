//! Running programs the way a user does and reading what they cost from /proc: wall time,
//! peak resident memory (VmHWM) and CPU time (utime + stime).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Clock ticks per second of /proc/PID/stat (USER_HZ; 100 on every Linux this runs on).
const TICKS_PER_SEC: f64 = 100.0;

/// What one finished run cost.
#[derive(Debug, Clone)]
pub struct Run {
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// Exit status.
    pub status: ExitStatus,
    /// Largest VmHWM seen while it ran, in MiB (sampled; a lower bound of the peak).
    pub peak_rss_mb: f64,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

/// A field of /proc/PID/status in kB (`VmRSS`, `VmHWM`).
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// CPU seconds (user + system) a process has used so far.
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after its closing paren are fixed.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// Runs `cmd` to the end, sampling its peak RSS every 20 ms.
pub fn run(mut cmd: Command) -> Result<Run, String> {
    let shown = format!("{cmd:?}");
    let t = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{shown}: {e}"))?;
    let pid = child.id();
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let mut peak = 0u64;
    let status = loop {
        if let Some(kb) = status_kb(pid, "VmHWM") {
            peak = peak.max(kb);
        }
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    };
    let wall = t.elapsed();
    Ok(Run {
        wall,
        status,
        peak_rss_mb: peak as f64 / 1024.0,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

fn drain<R: std::io::Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut buf);
        }
        buf
    })
}

/// A long-running child whose stderr lines are collected; killed when dropped.
pub struct Daemon {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    /// Starts `cmd`, collecting its stderr lines.
    pub fn start(mut cmd: Command) -> Result<Daemon, String> {
        let shown = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{shown}: {e}"))?;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let stderr = child.stderr.take();
        std::thread::spawn(move || {
            if let Some(s) = stderr {
                for line in BufReader::new(s).lines().map_while(Result::ok) {
                    if let Ok(mut l) = sink.lock() {
                        l.push(line);
                    }
                }
            }
        });
        Ok(Daemon { child, lines })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `count` stderr lines contain `needle`; false on timeout or exit.
    pub fn wait_lines(&mut self, needle: &str, count: usize, timeout: Duration) -> bool {
        let t = Instant::now();
        while t.elapsed() < timeout {
            let seen = self
                .lines
                .lock()
                .map(|l| l.iter().filter(|x| x.contains(needle)).count())
                .unwrap_or(0);
            if seen >= count {
                return true;
            }
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The last stderr lines, for error messages.
    pub fn tail(&self, n: usize) -> String {
        self.lines
            .lock()
            .map(|l| l[l.len().saturating_sub(n)..].join("\n"))
            .unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a process cost over a window: CPU share of one core and mean RSS.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// CPU time over wall time, in percent of one core.
    pub cpu_pct: f64,
    /// Mean VmRSS over the window, MiB.
    pub mean_rss_mb: f64,
}

/// Watches processes for `window`, sampling RSS every 250 ms. `None` for a process that
/// went away.
pub fn observe(pids: &[u32], window: Duration) -> Vec<Option<Usage>> {
    let start: Vec<Option<f64>> = pids.iter().map(|p| cpu_secs(*p)).collect();
    let mut rss_sum = vec![0u64; pids.len()];
    let mut samples = 0u64;
    let t = Instant::now();
    while t.elapsed() < window {
        for (i, p) in pids.iter().enumerate() {
            rss_sum[i] += status_kb(*p, "VmRSS").unwrap_or(0);
        }
        samples += 1;
        std::thread::sleep(Duration::from_millis(250));
    }
    let wall = t.elapsed().as_secs_f64();
    pids.iter()
        .enumerate()
        .map(|(i, p)| {
            let used = cpu_secs(*p)? - start[i]?;
            Some(Usage {
                cpu_pct: 100.0 * used / wall,
                mean_rss_mb: rss_sum[i] as f64 / samples.max(1) as f64 / 1024.0,
            })
        })
        .collect()
}

/// Whether `program` can be started (answers `--version` or `version --client`).
pub fn have(program: &str) -> bool {
    let quiet = |args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    quiet(&["version", "--client"]) || quiet(&["--version"])
}

/// A tmux server of the harness's own (its own socket), killed when dropped.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A server named after this process, so parallel runs never share one.
    pub fn new() -> Tmux {
        Tmux {
            socket: format!("rekon-load-{}", std::process::id()),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.socket).env_remove("TMUX");
        c
    }

    /// Starts `command` (a shell line) in a new detached 160×45 session; returns the pid of
    /// the program (the pane's process, which `exec` makes the program itself).
    pub fn spawn(
        &self,
        session: &str,
        command: &str,
        env: &[(&str, &Path)],
    ) -> Result<u32, String> {
        let mut c = self.cmd();
        c.args(["new-session", "-d", "-x", "160", "-y", "45", "-s", session]);
        for (k, v) in env {
            c.arg("-e").arg(format!("{k}={}", v.display()));
        }
        c.arg(format!("exec {command}"));
        let out = c.output().map_err(|e| format!("tmux: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "tmux new-session {session}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let out = self
            .cmd()
            .args(["list-panes", "-t", session, "-F", "#{pane_pid}"])
            .output()
            .map_err(|e| format!("tmux: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| format!("tmux gave no pane pid for {session}"))
    }

    /// The visible screen of a session.
    pub fn capture(&self, session: &str) -> String {
        self.cmd()
            .args(["capture-pane", "-p", "-t", session])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").stderr(Stdio::null()).status();
    }
}
