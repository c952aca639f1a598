//! The `Test` builder: write a config into a temp dir, point every state and config path there,
//! run the real binary, and look at status, stdout and stderr.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_integ");

pub(crate) struct Test {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Output {
    /// What a finished process wrote, as text.
    pub(crate) fn of(output: std::process::Output) -> Output {
        Output {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub(crate) fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code, expected,
            "unexpected exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn success(&self) -> &Self {
        self.code(0)
    }

    #[track_caller]
    pub(crate) fn stdout_is(&self, expected: &str) -> &Self {
        assert_eq!(
            self.stdout, expected,
            "stdout differs\nstderr:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\nstderr:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub(crate) fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\nstdout:\n{}",
            self.stdout
        );
        self
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout))
    }
}

impl Test {
    pub(crate) fn new() -> Self {
        Test {
            dir: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
        }
    }

    /// Writes `integrations.toml` in the test's directory (where `integ` runs).
    pub(crate) fn config(self, toml: &str) -> Self {
        self.write("integrations.toml", toml)
    }

    pub(crate) fn write(self, path: &str, text: &str) -> Self {
        let path = self.dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    pub(crate) fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The command with a clean environment: nothing from the developer's machine leaks in.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args);
        self.prepared(command)
    }

    /// `integ` run by Debian's `faketime` with the clock at `at` (`2026-11-03 02:05:00`, UTC, the
    /// machine's zone for the run), ticking on from there. Timers keep the real monotonic clock.
    pub(crate) fn run_at(&self, at: &str, args: &[&str]) -> Output {
        Output::of(
            self.command_at(at, args)
                .output()
                .expect("faketime starts (Debian: apt-get install faketime)"),
        )
    }

    /// [`Test::command`] run by `faketime` with the clock at `at`, as [`Test::run_at`] runs it.
    pub(crate) fn command_at(&self, at: &str, args: &[&str]) -> Command {
        let mut command = Command::new("faketime");
        command.arg(at).arg(BIN).args(args);
        let mut command = self.prepared(command);
        command
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("TZ", "UTC");
        command
    }

    fn prepared(&self, mut command: Command) -> Command {
        command
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("XDG_STATE_HOME", self.dir.path().join("xdg-state"))
            .env("INTEG_STATE_DIR", self.state_dir())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        Output::of(self.command(args).output().expect("integ starts"))
    }

    /// Starts `integ` without waiting, its output piped.
    pub(crate) fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("integ starts")
    }

    /// Waits until `path` (relative to the test dir) exists: a step's "I have started" marker.
    pub(crate) fn wait_for_file(&self, path: &str) {
        let path = self.dir.path().join(path);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !path.exists() {
            assert!(
                Instant::now() < deadline,
                "`{}` never appeared",
                path.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(path)).unwrap()
    }

    /// Waits until the newest run has `status` (a queued run ending), and returns it.
    #[track_caller]
    pub(crate) fn wait_for_newest_run(&self, status: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let runs = self.history();
            if runs.first().is_some_and(|run| run["status"] == status) {
                return runs[0].clone();
            }
            assert!(
                Instant::now() < deadline,
                "the newest run never became {status}: {runs:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The runs in the store, newest first, as `integ history --json` shows them.
    pub(crate) fn history(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["history", "--json", "-n", "1000"]);
        out.success();
        out.json().as_array().unwrap().clone()
    }
}

/// Waits for a spawned `integ` and collects its output.
pub(crate) fn finish(mut child: Child) -> Output {
    let status = child.wait().unwrap();
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Output {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// True when the process is gone or only a zombie waiting to be reaped (it no longer runs).
pub(crate) fn process_is_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// Waits up to a few seconds for a process to go.
pub(crate) fn wait_until_gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if process_is_gone(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// `text` percent-encoded as a query value (RFC 3986: all but `A-Za-z0-9-._~`).
pub(crate) fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
