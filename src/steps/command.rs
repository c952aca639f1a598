//! The `command` step: run a program with an argv list (each element templated, never spliced
//! into a shell line), or an explicit `shell` script that gets params only as environment
//! variables. A command gets a minimal environment, not integ's (which holds every secret of
//! the file), unless the step sets `inherit_env`.
//!
//! The step's processes never outlive it: they run in their own process group, which is
//! killed on timeout, on cancellation and when the main process exits. They also hold the
//! run's lock files (inherited descriptors), so a killed `integ` cannot let a second run start
//! beside them.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::config::model::{CommandStep, Program};
use crate::observer::Stream;
use crate::steps::StepScope;

/// How long a timed-out step gets between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// What a command gets of integ's environment (those that are set, and every `LC_*`), unless
/// its step sets `inherit_env`: what a careful scheduler gives a job.
const KEPT_ENV: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "TMPDIR", "TERM",
];

/// `PATH` when integ has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Runs the command; its result is `{exit_code, stdout, stderr}`, `stdout` parsed when it is
/// JSON.
pub async fn run(step: &CommandStep, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    step.run(scope).await
}

impl CommandStep {
    async fn run(&self, scope: &StepScope<'_>) -> anyhow::Result<Value> {
        let (mut command, shown) = self.build(scope)?;
        if scope.dry_run {
            scope.started(&format!("dry run: would run {shown}"));
            return Ok(json!({ "exit_code": null, "stdout": "", "stderr": "", "dry_run": true }));
        }
        scope.started(&format!("run {shown}"));

        let started = Instant::now();
        let mut child = spawn(&mut command, scope.inherit)
            .with_context(|| format!("failed to start {shown}"))?;
        let group = ProcessGroup::of(&child);

        let input = self
            .stdin
            .as_ref()
            .map(|text| scope.render(text))
            .transpose()?;
        let stdin = child.stdin.take();
        let feed = async move {
            if let (Some(mut pipe), Some(input)) = (stdin, input) {
                // A program that exits without reading its stdin is not an error of ours.
                let _ = pipe.write_all(input.as_bytes()).await;
            }
        };

        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let show_stdout = !self.stdout_json;
        let readers = async {
            let (_, out, err) = tokio::join!(
                feed,
                read_lines(stdout, Stream::Stdout, show_stdout, scope),
                read_lines(stderr, Stream::Stderr, true, scope),
            );
            (out, err)
        };

        let waited = wait(&mut child, &group, self.timeout);
        let (status, (stdout, stderr)) = tokio::join!(
            async {
                let status = waited.await;
                // Whatever the main process left running goes with it; this also closes the
                // pipes its background children hold, so the readers finish.
                group.signal(Signal::SIGTERM);
                status
            },
            readers
        );
        group.finished();
        let status = status?;
        let elapsed = started.elapsed();

        let Some(code) = status.code() else {
            bail!("{shown} was killed by a signal after {}", human(elapsed));
        };
        scope.note(&format!(
            "{shown} exited with code {code} in {}",
            human(elapsed)
        ));
        if code != 0 {
            bail!("{shown} exited with code {code}");
        }
        let stdout_value = if self.stdout_json {
            serde_json::from_slice(&stdout)
                .with_context(|| format!("{shown} did not print valid JSON on stdout"))?
        } else {
            Value::String(String::from_utf8_lossy(&stdout).into_owned())
        };
        Ok(json!({
            "exit_code": code,
            "stdout": stdout_value,
            "stderr": String::from_utf8_lossy(&stderr),
        }))
    }

    /// The command to spawn, and how to name it in logs (secrets redacted).
    fn build(&self, scope: &StepScope<'_>) -> anyhow::Result<(Command, String)> {
        let (mut command, shown) = match &self.program {
            Program::Argv(argv) => {
                let argv = argv
                    .iter()
                    .map(|arg| scope.render(arg))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let (program, args) = argv.split_first().ok_or_else(|| anyhow!("empty argv"))?;
                let mut command = Command::new(program);
                command.args(args);
                (command, format!("`{}`", scope.redact(&argv.join(" "))))
            }
            Program::Shell(script) => {
                let mut command = Command::new("sh");
                command.arg("-c").arg(script);
                (command, "shell script".to_owned())
            }
        };
        if !self.inherit_env {
            command.env_clear();
            command.envs(minimal_env(std::env::vars_os()));
        }
        if let Program::Shell(_) = &self.program {
            command.envs(param_env(scope.params));
        }
        for (name, value) in &self.env {
            command.env(name, scope.render(value)?);
        }
        // Under cron the working directory is $HOME; the file's directory is what its author
        // had in mind.
        let dir = match &self.dir {
            Some(dir) => scope.dir.join(scope.render(dir)?),
            None => scope.dir.to_owned(),
        };
        command.current_dir(dir);
        command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        Ok((command, shown))
    }
}

/// What a command gets of `vars` (integ's environment) when it does not inherit it all.
fn minimal_env(vars: impl Iterator<Item = (OsString, OsString)>) -> BTreeMap<OsString, OsString> {
    let mut env: BTreeMap<OsString, OsString> = vars
        .filter(|(name, _)| {
            name.to_str()
                .is_some_and(|name| KEPT_ENV.contains(&name) || name.starts_with("LC_"))
        })
        .collect();
    env.entry("PATH".into())
        .or_insert_with(|| DEFAULT_PATH.into());
    env
}

/// Params as `PARAM_<NAME>` variables for shell scripts: `from-date` becomes `PARAM_FROM_DATE`.
fn param_env(params: &BTreeMap<String, Value>) -> impl Iterator<Item = (String, String)> + '_ {
    params.iter().map(|(name, value)| {
        let var = format!(
            "PARAM_{}",
            name.to_ascii_uppercase().replace(['-', '.'], "_")
        );
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        (var, text)
    })
}

/// One spawn at a time in this process: while one run's lock files are inheritable, no other
/// run's child can be started and take them too.
static SPAWNING: Mutex<()> = Mutex::new(());

/// Spawns `command` with `inherit` (the run's lock files) open in the child: `flock` locks
/// belong to the open file, so the run's slot stays taken while any of its processes lives,
/// even if `integ` itself is killed.
fn spawn(command: &mut Command, inherit: &[Arc<OwnedFd>]) -> std::io::Result<Child> {
    let _alone = SPAWNING.lock().unwrap_or_else(PoisonError::into_inner);
    for fd in inherit {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::empty()))?;
    }
    let child = command.spawn();
    for fd in inherit {
        if let Err(err) = fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)) {
            // Setting a flag on a descriptor we hold does not fail; if it did, other runs'
            // children would hold this run's lock too, which delays them but loses nothing.
            tracing::warn!("failed to keep a lock file from other commands: {err}");
        }
    }
    child
}

async fn wait(
    child: &mut Child,
    group: &ProcessGroup,
    timeout: Option<Duration>,
) -> anyhow::Result<std::process::ExitStatus> {
    let Some(limit) = timeout else {
        return Ok(child.wait().await?);
    };
    match tokio::time::timeout(limit, child.wait()).await {
        Ok(status) => Ok(status?),
        Err(_) => {
            group.signal(Signal::SIGTERM);
            if tokio::time::timeout(KILL_GRACE, child.wait())
                .await
                .is_err()
            {
                group.signal(Signal::SIGKILL);
                child.wait().await?;
            }
            bail!("timed out after {}", humantime::format_duration(limit))
        }
    }
}

/// Reads a pipe line by line, logging each line and handing it to the observer; returns
/// everything read.
async fn read_lines(
    pipe: impl AsyncRead + Unpin,
    stream: Stream,
    show: bool,
    scope: &StepScope<'_>,
) -> Vec<u8> {
    let mut reader = BufReader::new(pipe);
    let mut all = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                all.extend_from_slice(&line);
                let text = String::from_utf8_lossy(&line);
                scope.output(stream, text.trim_end_matches(['\n', '\r']), show);
            }
        }
    }
    all
}

/// The process group a step's command runs in. Dropping it kills whatever is left, so a
/// cancelled or timed-out run leaves no processes behind.
struct ProcessGroup {
    pgid: Option<Pid>,
    done: AtomicBool,
}

impl ProcessGroup {
    fn of(child: &Child) -> Self {
        ProcessGroup {
            pgid: child.id().map(|id| Pid::from_raw(id as i32)),
            done: AtomicBool::new(false),
        }
    }

    fn signal(&self, signal: Signal) {
        if let Some(pgid) = self.pgid {
            // ESRCH just means the group is already gone.
            let _ = killpg(pgid, signal);
        }
    }

    /// The step ended normally and its group was told to stop.
    fn finished(&self) {
        self.done.store(true, Ordering::Relaxed);
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        if !self.done.load(Ordering::Relaxed) {
            self.signal(Signal::SIGKILL);
        }
    }
}

fn human(elapsed: Duration) -> String {
    let millis = elapsed.as_millis();
    if millis < 1000 {
        format!("{millis}ms")
    } else {
        format!("{:.1}s", elapsed.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::os::fd::{AsRawFd as _, OwnedFd};
    use std::sync::Arc;

    use nix::fcntl::{FcntlArg, FdFlag, fcntl};

    use super::{minimal_env, spawn};

    #[test]
    fn commands_get_a_minimal_environment() {
        let integ: Vec<(OsString, OsString)> = [
            ("PATH", "/opt/bin:/usr/bin"),
            ("HOME", "/home/ada"),
            ("LANG", "C.UTF-8"),
            ("LC_TIME", "de_DE.UTF-8"),
            ("TZ", "Europe/Prague"),
            ("API_KEY", "s3cret"),
            ("INTEG_STATE_DIR", "/var/lib/integ"),
            ("XLC_ALL", "no"),
        ]
        .into_iter()
        .map(|(name, value)| (name.into(), value.into()))
        .collect();
        let names = |env: std::collections::BTreeMap<OsString, OsString>| {
            env.into_iter()
                .map(|(name, value)| format!("{}={}", name.display(), value.display()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(minimal_env(integ.into_iter())),
            [
                "HOME=/home/ada",
                "LANG=C.UTF-8",
                "LC_TIME=de_DE.UTF-8",
                "PATH=/opt/bin:/usr/bin",
                "TZ=Europe/Prague"
            ]
        );
        assert_eq!(
            names(minimal_env(std::iter::empty())),
            ["PATH=/usr/local/bin:/usr/bin:/bin"],
            "PATH has a default"
        );
    }

    #[tokio::test]
    async fn a_child_inherits_only_the_descriptors_it_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let open = |name: &str| -> Arc<OwnedFd> {
            Arc::new(std::fs::File::create(dir.path().join(name)).unwrap().into())
        };
        let (given, other) = (open("given.lock"), open("other.lock"));
        let mut command = tokio::process::Command::new("ls");
        command
            .arg("-l")
            .arg("/proc/self/fd/")
            .stdout(std::process::Stdio::piped());
        let child = spawn(&mut command, std::slice::from_ref(&given)).unwrap();
        let listing = String::from_utf8(child.wait_with_output().await.unwrap().stdout).unwrap();
        assert!(listing.contains("given.lock"), "{listing}");
        assert!(!listing.contains("other.lock"), "{listing}");
        // Closed on exec again for every later spawn.
        let flags = fcntl(&*given, FcntlArg::F_GETFD).unwrap();
        assert_eq!(
            FdFlag::from_bits_truncate(flags),
            FdFlag::FD_CLOEXEC,
            "fd {}",
            given.as_raw_fd()
        );
        drop(other);
    }
}
