//! Running the rendering programs (kustomize, kubectl, helm): argument vectors only (no
//! shell), output captured, and a time limit after which the program is killed.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::error::SourceError;

/// Argo CD's default exec timeout (`ARGOCD_EXEC_TIMEOUT`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// Where rekon looks for rendering programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    search_path: Option<OsString>,
    timeout: Duration,
}

impl Default for Tools {
    fn default() -> Self {
        Tools {
            search_path: std::env::var_os("PATH"),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

impl Tools {
    /// Programs are looked up in `PATH`, with the 90 s time limit.
    pub fn from_env() -> Self {
        Tools::default()
    }

    /// Programs are looked up in `search_path` (a `PATH`-style list) instead of `PATH`.
    pub fn with_search_path(mut self, search_path: impl Into<OsString>) -> Self {
        self.search_path = Some(search_path.into());
        self
    }

    /// Changes the time limit for one program run.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time limit for one program run.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The full path of an executable `name` in the search path, if there is one.
    pub fn find(&self, name: &str) -> Option<PathBuf> {
        let path = self.search_path.as_ref()?;
        std::env::split_paths(path)
            .filter(|dir| !dir.as_os_str().is_empty())
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate))
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

/// What a finished program printed.
#[derive(Debug)]
pub(crate) struct Output {
    /// Exit status.
    pub status: ExitStatus,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr.
    pub stderr: Vec<u8>,
}

/// Why a program produced no output.
#[derive(Debug)]
pub(crate) enum RunError {
    /// It could not be started.
    Spawn(std::io::Error),
    /// It ran past the limit and was killed.
    Timeout,
}

/// Runs `program` with `args` in `cwd`, stdin closed, killing it after `timeout`.
pub(crate) fn run(
    program: &Path,
    args: &[OsString],
    cwd: &Path,
    timeout: Duration,
) -> Result<Output, RunError> {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(RunError::Spawn)?;
    // Both pipes are drained on their own threads so a chatty program never blocks on a
    // full pipe while we wait for it.
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Timeout);
            }
            Ok(None) => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::Spawn(e));
            }
        }
    };
    let collect = |handle: Option<thread::JoinHandle<Vec<u8>>>| {
        handle.and_then(|h| h.join().ok()).unwrap_or_default()
    };
    Ok(Output {
        status,
        stdout: collect(stdout),
        stderr: collect(stderr),
    })
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

/// Runs a rendering program and returns its stdout as text, turning every failure into a
/// [`SourceError`] that names the program and the app path.
pub(crate) fn render_output(
    tool_name: &str,
    program: &Path,
    args: &[OsString],
    cwd: &Path,
    timeout: Duration,
    app_path: &str,
) -> Result<String, SourceError> {
    let failed = |stderr: String| SourceError::ToolFailed {
        tool: tool_name.to_string(),
        path: app_path.to_string(),
        stderr,
    };
    let output = run(program, args, cwd, timeout).map_err(|e| match e {
        RunError::Spawn(e) => failed(format!("cannot start {}: {e}", program.display())),
        RunError::Timeout => SourceError::ToolTimeout {
            tool: tool_name.to_string(),
            path: app_path.to_string(),
            seconds: timeout.as_secs(),
        },
    })?;
    if !output.status.success() {
        let mut stderr = stderr_summary(&output.stderr);
        if stderr.is_empty() {
            stderr = format!("exited with {}", output.status);
        }
        return Err(failed(stderr));
    }
    String::from_utf8(output.stdout)
        .map_err(|_| failed("printed output that is not UTF-8 text".into()))
}

/// Builds an argument vector from anything string-like.
pub(crate) fn args<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    items.into_iter().map(|s| s.as_ref().to_owned()).collect()
}

/// The last lines of a program's stderr, trimmed, for an error message.
pub(crate) fn stderr_summary(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    const LIMIT: usize = 2000;
    let text = if text.len() > LIMIT {
        let mut start = text.len() - LIMIT;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        format!("…{}", &text[start..])
    } else {
        text.to_string()
    };
    super::error::strip_credentials_in_text(&text)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let tools = Tools::from_env();
        let Some(sh) = tools.find("sh") else {
            println!("skipped: no sh on PATH");
            return;
        };
        let out = run(
            &sh,
            &args(["-c", "echo out; echo err >&2; exit 3"]),
            Path::new("/"),
            Duration::from_secs(30),
        )
        .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(stderr_summary(&out.stderr), "err");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn kills_a_program_past_its_limit() {
        let tools = Tools::from_env();
        let Some(sleep) = tools.find("sleep") else {
            println!("skipped: no sleep on PATH");
            return;
        };
        let res = run(
            &sleep,
            &args(["30"]),
            Path::new("/"),
            Duration::from_millis(100),
        );
        assert!(matches!(res, Err(RunError::Timeout)), "{res:?}");
    }

    #[test]
    fn finds_nothing_in_an_empty_search_path() {
        let tools = Tools::from_env().with_search_path("");
        assert_eq!(tools.find("sh"), None);
    }
}
