//! The `command` step: run a program with an argv list (each element templated, never spliced
//! into a shell line), or an explicit `shell` script that gets params only as environment
//! variables. A command gets a minimal environment, not integ's (which holds every secret of
//! the file), unless the step sets `inherit_env`.
//!
//! The step's processes never outlive it: they run in their own process group, which gets
//! SIGTERM, a grace and SIGKILL on timeout and whenever the main process leaves others behind,
//! and SIGKILL at once on cancellation. They also hold the run's lock files (inherited
//! descriptors), so a killed `integ` cannot let a second run start beside them. What they print
//! is read in bounded pieces, and what later steps see of it is bounded too.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWriteExt as _, BufReader,
};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::watch;

use crate::config::model::{CommandStep, Program};
use crate::observer::Stream;
use crate::steps::StepScope;

/// How long the step's processes get between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// How often a stopping group is looked at.
const GROUP_POLL: Duration = Duration::from_millis(20);

/// Once the step's processes are gone, how long the readers may still wait for the pipes to
/// close: a process that left the group (`setsid`) may hold them open for ever.
const DRAIN: Duration = Duration::from_secs(1);

/// The longest piece of a line handled at once. A longer line is shown in pieces of this size
/// and logged only up to it.
const PIECE: usize = 64 << 10;

/// The most stdout a `stdout = "json"` step parses; past it the step fails.
const JSON_LIMIT: usize = 16 << 20;

/// The most of stdout (as text) and of stderr that later steps see; past it they see the start.
const TEXT_LIMIT: usize = 1 << 20;

/// What a command gets of integ's environment (those that are set, and every `LC_*`), unless
/// its step sets `inherit_env`: what a careful scheduler gives a job.
const KEPT_ENV: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "TMPDIR", "TERM",
];

/// `PATH` when integ has none.
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Runs the command; its result is `{exit_code, stdout, stderr}`, `stdout` parsed when it is
/// JSON.
pub(crate) async fn run(step: &CommandStep, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    step.run(scope).await
}

impl CommandStep {
    async fn run(&self, scope: &StepScope<'_>) -> anyhow::Result<Value> {
        let (mut command, shown) = self.build(scope)?;
        if scope.dry_run {
            scope.plan(&format!("would run {shown}"));
            return Ok(crate::steps::unsent());
        }
        let input = self
            .stdin
            .as_ref()
            .map(|text| scope.render(text))
            .transpose()?;
        scope.started(&format!("run {shown}"));
        tracing::debug!("{shown}: {}", scope.redact(&describe(&command)));

        let started = Instant::now();
        let mut child = match spawn(&mut command, scope.inherit) {
            Ok(child) => child,
            // The system's "No such file or directory" does not say which file.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                let why = not_found(&command).unwrap_or_else(|| err.to_string());
                bail!("failed to start {shown}: {}", scope.redact(&why));
            }
            Err(err) => return Err(err).with_context(|| format!("failed to start {shown}")),
        };
        let group = ProcessGroup::of(&child);
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let stdout_limit = if self.stdout_json {
            JSON_LIMIT
        } else {
            TEXT_LIMIT
        };
        let mut out = Output::new(Stream::Stdout, !self.stdout_json, stdout_limit);
        let mut err = Output::new(Stream::Stderr, true, TEXT_LIMIT);

        // Turns true when the step's processes are gone; the pipes are then read for at most
        // `DRAIN` more, in case a process that left the group holds them.
        let (ended, gone) = watch::channel(false);
        let status = {
            let lifecycle = async {
                let status = wait(&mut child, &group, self.timeout).await;
                // Whatever the main process left running goes with it.
                group.stop(&mut child).await;
                let _ = ended.send(true);
                status
            };
            let io = async {
                tokio::join!(
                    feed(stdin, input, gone.clone()),
                    out.read(stdout, scope, gone.clone()),
                    err.read(stderr, scope, gone.clone()),
                )
            };
            tokio::join!(lifecycle, io).0
        };
        let (stdout, stdout_len) = out.finish(scope);
        let (stderr, stderr_len) = err.finish(scope);
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
        for (name, kept, len) in [
            ("stdout", &stdout, stdout_len),
            ("stderr", &stderr, stderr_len),
        ] {
            if len > kept.len() as u64 && !(name == "stdout" && self.stdout_json) {
                scope.note(&format!(
                    "{name} has {}: later steps see its first {}",
                    bytes(len),
                    bytes(kept.len() as u64)
                ));
            }
        }
        let stdout_value = if self.stdout_json {
            if stdout_len > JSON_LIMIT as u64 {
                bail!(
                    "{shown} printed {} on stdout, more than the {} that `stdout = \"json\"` reads",
                    bytes(stdout_len),
                    bytes(JSON_LIMIT as u64)
                );
            }
            serde_json::from_slice(&stdout)
                .with_context(|| format!("{shown} did not print valid JSON on stdout"))?
        } else {
            Value::String(text(&stdout))
        };
        Ok(json!({
            "exit_code": code,
            "stdout": stdout_value,
            "stderr": text(&stderr),
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
                (command, format!("`{}`", scope.redact(&shown(&argv))))
            }
            Program::Shell(script) => {
                let mut command = Command::new("sh");
                command.arg("-c").arg(script);
                let argv = ["sh".to_owned(), "-c".to_owned(), script.clone()];
                (command, format!("`{}`", scope.redact(&shown(&argv))))
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

/// A command line as a shell would read it back: each argument quoted where it needs it, so
/// that `a b` as one argument is told from two.
fn shown(argv: &[String]) -> String {
    shlex::try_join(argv.iter().map(String::as_str)).unwrap_or_else(|_| argv.join(" "))
}

/// Where a command runs and which variables it is given (their names only), for debug logs.
fn describe(command: &Command) -> String {
    let command = command.as_std();
    let dir = command
        .get_current_dir()
        .map(|dir| dir.display().to_string())
        .unwrap_or_default();
    let names: Vec<String> = command
        .get_envs()
        .filter(|(_, value)| value.is_some())
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    format!("in `{dir}`, environment {}", names.join(" "))
}

/// What was not found when a command could not be started: its directory, the program (and
/// then the `PATH` it gets, which was searched), or the interpreter its `#!` line names.
fn not_found(command: &Command) -> Option<String> {
    let command = command.as_std();
    let dir = command.get_current_dir()?;
    if !dir.is_dir() {
        return Some(format!("directory `{}` does not exist", dir.display()));
    }
    let program = Path::new(command.get_program());
    let found = if program.components().count() > 1 {
        let file = dir.join(program);
        if !file.exists() {
            return Some(format!("`{}` does not exist", file.display()));
        }
        file
    } else {
        // The child's own `PATH` is searched: the step's `env`, the minimal environment, or
        // integ's.
        let path = command
            .get_envs()
            .find(|(name, _)| *name == "PATH")
            .map_or_else(
                || std::env::var_os("PATH"),
                |(_, value)| value.map(OsStr::to_owned),
            )
            .unwrap_or_default();
        let found = std::env::split_paths(&path)
            .map(|entry| dir.join(entry).join(program))
            .find(|file| file.is_file());
        match found {
            Some(file) => file,
            None if path.is_empty() => {
                return Some(format!(
                    "`{}` was not found: the command's `PATH` is empty",
                    program.display()
                ));
            }
            None => {
                return Some(format!(
                    "`{}` was not found in the command's `PATH` ({})",
                    program.display(),
                    path.to_string_lossy()
                ));
            }
        }
    };
    Some(format!(
        "`{}` exists, but the interpreter its `#!` line names was not found",
        found.display()
    ))
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

/// Writes the step's `stdin`, until the command has read it or its processes are gone.
async fn feed(pipe: Option<ChildStdin>, input: Option<String>, mut gone: watch::Receiver<bool>) {
    let (Some(mut pipe), Some(input)) = (pipe, input) else {
        return;
    };
    tokio::select! {
        // A program that exits without reading its stdin is not an error of ours.
        _ = pipe.write_all(input.as_bytes()) => {}
        _ = gone.wait_for(|gone| *gone) => {}
    }
}

async fn wait(
    child: &mut Child,
    group: &ProcessGroup,
    timeout: Option<Duration>,
) -> anyhow::Result<ExitStatus> {
    let Some(limit) = timeout else {
        return Ok(child.wait().await?);
    };
    match tokio::time::timeout(limit, child.wait()).await {
        Ok(status) => Ok(status?),
        Err(_) => {
            group.stop(child).await;
            child.wait().await?;
            bail!("timed out after {}", humantime::format_duration(limit))
        }
    }
}

/// One of a command's output streams as it is read: logged and shown line by line (a long
/// line in pieces of at most [`PIECE`], logged up to its first), and kept for later steps up
/// to a limit.
struct Output {
    stream: Stream,
    show: bool,
    /// The current line's bytes not yet logged or shown.
    pending: Vec<u8>,
    /// How much of `pending` is counted (and kept) already.
    counted: usize,
    /// The first piece of a line longer than a piece (redacted), logged when the line ends.
    head: Option<String>,
    /// The current line's length so far, its pieces gone included.
    line_len: u64,
    kept: Vec<u8>,
    limit: usize,
    /// How much the stream gave in all.
    total: u64,
}

impl Output {
    fn new(stream: Stream, show: bool, limit: usize) -> Self {
        Output {
            stream,
            show,
            pending: Vec::with_capacity(PIECE),
            counted: 0,
            head: None,
            line_len: 0,
            kept: Vec::new(),
            limit,
            total: 0,
        }
    }

    /// Reads `pipe` to its end; once `gone` turns true, only as long as it gives something
    /// within [`DRAIN`] in all. Cancelling it loses nothing that was read: [`Output::finish`]
    /// takes what is left.
    async fn read(
        &mut self,
        pipe: impl AsyncRead + Unpin,
        scope: &StepScope<'_>,
        mut gone: watch::Receiver<bool>,
    ) {
        let mut reader = BufReader::with_capacity(PIECE, pipe);
        let mut drain: Option<Duration> = None;
        loop {
            // A read cut short when the processes went may have filled the piece.
            if self.pending.len() >= PIECE {
                self.count();
                self.piece(scope);
            }
            // Never more than what fills the piece: a line without a newline cannot grow it.
            let room = (PIECE - self.pending.len()) as u64;
            let mut piece = (&mut reader).take(room);
            let read = piece.read_until(b'\n', &mut self.pending);
            let result = match drain {
                None => tokio::select! {
                    result = read => result,
                    _ = gone.wait_for(|gone| *gone) => {
                        drain = Some(DRAIN);
                        continue;
                    }
                },
                Some(left) => {
                    let waited = Instant::now();
                    let Ok(result) = tokio::time::timeout(left, read).await else {
                        break;
                    };
                    drain = Some(left.saturating_sub(waited.elapsed()));
                    result
                }
            };
            self.count();
            match result {
                Ok(0) | Err(_) => break,
                Ok(_) if self.pending.ends_with(b"\n") => self.end_line(scope),
                Ok(_) if self.pending.len() >= PIECE => self.piece(scope),
                // The pipe ended within a line; the next read says so.
                Ok(_) => {}
            }
        }
    }

    /// Counts what was read into `pending` since the last time, and keeps what fits.
    fn count(&mut self) {
        let new = &self.pending[self.counted..];
        self.total += new.len() as u64;
        let room = self.limit.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&new[..new.len().min(room)]);
        self.counted = self.pending.len();
    }

    /// A full piece of a line that goes on: shown, and kept back for the log if it is the
    /// line's first. Split where no secret is cut in two; the rest starts the next piece.
    fn piece(&mut self, scope: &StepScope<'_>) {
        let redactor = scope.log.redactor();
        let split = match std::str::from_utf8(&self.pending) {
            Ok(text) => redactor.safe_split(text),
            // Ends within a character: that character goes to the next piece.
            Err(err) if err.error_len().is_none() => {
                let valid = std::str::from_utf8(&self.pending[..err.valid_up_to()])
                    .expect("valid up to there");
                redactor.safe_split(valid)
            }
            // Not text: shown as it is, lossily.
            Err(_) => self.pending.len(),
        };
        let split = if split == 0 {
            self.pending.len()
        } else {
            split
        };
        let piece = scope.redact(&String::from_utf8_lossy(&self.pending[..split]));
        self.pending.drain(..split);
        self.counted -= split;
        self.line_len += split as u64;
        if self.show {
            scope.show(self.stream, &piece);
        }
        if self.head.is_none() {
            self.head = Some(piece);
        }
    }

    /// The line in `pending` ends (at a newline or at the end of the stream).
    fn end_line(&mut self, scope: &StepScope<'_>) {
        let len = self.line_len + self.pending.len() as u64;
        let line = String::from_utf8_lossy(&self.pending);
        let line = scope.redact(line.trim_end_matches(['\n', '\r']));
        // A line that ended just after a piece has nothing more to show.
        if self.show && !(line.is_empty() && self.head.is_some()) {
            scope.show(self.stream, &line);
        }
        let logged = match self.head.take() {
            None => line,
            Some(head) => format!("{head} … [cut in the log: the line has {}]", bytes(len)),
        };
        let marker = match self.stream {
            Stream::Stdout => "|",
            Stream::Stderr => "!",
        };
        scope.log.line(scope.label, marker, &logged);
        self.pending.clear();
        self.counted = 0;
        self.line_len = 0;
    }

    /// Logs what is left of a line that had no newline; returns what was kept for later steps
    /// and how long the stream was.
    fn finish(&mut self, scope: &StepScope<'_>) -> (Vec<u8>, u64) {
        self.count();
        if !self.pending.is_empty() || self.head.is_some() {
            self.end_line(scope);
        }
        (std::mem::take(&mut self.kept), self.total)
    }
}

/// Output as text; a character cut by the limit is left out rather than garbled.
fn text(bytes: &[u8]) -> String {
    let whole = match std::str::from_utf8(bytes) {
        Err(err) if err.error_len().is_none() => &bytes[..err.valid_up_to()],
        _ => bytes,
    };
    match String::from_utf8_lossy(whole) {
        Cow::Borrowed(text) => text.to_owned(),
        Cow::Owned(text) => text,
    }
}

/// The process group a step's command runs in. Dropping it before the step ends (a cancelled
/// run) kills whatever is left, so no processes stay behind.
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

    /// Whether any process of the group still runs (the main one reaped first, so that it
    /// does not count once it has exited).
    fn exists(&self, child: &mut Child) -> bool {
        let _ = child.try_wait();
        let Some(pgid) = self.pgid else {
            return false;
        };
        // EPERM: the id now names another user's group, so ours is gone.
        if matches!(killpg(pgid, None), Err(Errno::ESRCH | Errno::EPERM)) {
            return false;
        }
        // Orphans that ended stay in the group as zombies until init reaps them, which some
        // inits (in containers) do only now and then: those do not count.
        runs_in_group(pgid).unwrap_or(true)
    }

    /// Stops whatever is left of the group: SIGTERM, and SIGKILL to what is still there after
    /// [`KILL_GRACE`]. Returns at once when nothing is left, as after most steps, or when the
    /// group was stopped already (killed processes may linger as zombies for a moment).
    async fn stop(&self, child: &mut Child) {
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        if self.exists(child) {
            self.signal(Signal::SIGTERM);
            let deadline = Instant::now() + KILL_GRACE;
            while self.exists(child) {
                if Instant::now() >= deadline {
                    self.signal(Signal::SIGKILL);
                    break;
                }
                tokio::time::sleep(GROUP_POLL).await;
            }
        }
        self.done.store(true, Ordering::Relaxed);
    }
}

/// Whether a process of group `pgid` runs (is not a zombie), from `/proc`; `None` without it.
fn runs_in_group(pgid: Pid) -> Option<bool> {
    let pgid = pgid.as_raw().to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name
            .to_str()
            .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        // `pid (comm) state ppid pgrp …`; the command name may hold anything but ends at the
        // last parenthesis.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let (state, pgrp) = (fields.next(), fields.nth(1));
        if pgrp == Some(pgid.as_str()) && !matches!(state, Some("Z" | "X")) {
            return Some(true);
        }
    }
    Some(false)
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

/// `512 bytes`, `64 KiB`, `190.7 MiB`.
fn bytes(n: u64) -> String {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    match n {
        n if n < KIB => format!("{n} bytes"),
        n if n < MIB => format!("{} KiB", n / KIB),
        n if n % MIB == 0 => format!("{} MiB", n / MIB),
        n => format!("{:.1} MiB", n as f64 / MIB as f64),
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::os::fd::{AsRawFd as _, OwnedFd};
    use std::sync::Arc;

    use nix::fcntl::{FcntlArg, FdFlag, fcntl};

    use super::{bytes, minimal_env, runs_in_group, spawn};

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

    #[test]
    fn a_group_runs_until_its_processes_end_zombies_aside() {
        use std::os::unix::process::CommandExt as _;

        let mut child = std::process::Command::new("sleep")
            .arg("300")
            .process_group(0)
            .spawn()
            .unwrap();
        let group = nix::unistd::Pid::from_raw(child.id() as i32);
        assert_eq!(runs_in_group(group), Some(true));
        child.kill().unwrap();
        // Killed but not reaped yet: a zombie, which does not run.
        while std::fs::read_to_string(format!("/proc/{}/stat", child.id()))
            .is_ok_and(|stat| !stat.contains(") Z "))
        {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(runs_in_group(group), Some(false));
        child.wait().unwrap();
        assert_eq!(runs_in_group(group), Some(false));
    }

    #[test]
    fn sizes_read_well() {
        for (n, shown) in [
            (10, "10 bytes"),
            (64 << 10, "64 KiB"),
            (16 << 20, "16 MiB"),
            (200_000_000, "190.7 MiB"),
        ] {
            assert_eq!(bytes(n), shown);
        }
    }
}
