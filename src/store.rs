//! The run store: history, overlap locks and watermarks behind one narrow interface, so a second
//! backend (PostgreSQL, for several listeners) can be added without touching the engine. The
//! embedded SQLite backend in `sqlite` is the default.

#[cfg(test)]
mod conformance;
mod liveness;
pub(crate) mod sqlite;

use std::collections::BTreeMap;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub(crate) use crate::run_log::RunOutput;
use crate::trigger::Trigger;
pub(crate) use crate::window::Window;

/// How a run stands or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RunStatus {
    /// Accepted (a webhook event), waiting for a worker.
    Queued,
    Running,
    Succeeded,
    Failed,
    /// Its process died (SIGKILL, crash, power loss) or was stopped by a signal.
    Interrupted,
    /// Not started because another run held the integration's lock.
    Skipped,
}

impl RunStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Skipped => "skipped",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<RunStatus> {
        [
            RunStatus::Queued,
            RunStatus::Running,
            RunStatus::Succeeded,
            RunStatus::Failed,
            RunStatus::Interrupted,
            RunStatus::Skipped,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// A run about to start. `params` must already have secrets redacted.
#[derive(Debug, Clone)]
pub(crate) struct NewRun {
    pub id: String,
    pub integration: String,
    pub trigger: String,
    pub params: serde_json::Value,
    pub started_at: DateTime<Utc>,
    /// Reads made, writes and commands only shown: it never moves a watermark.
    pub dry_run: bool,
    /// The period it covers (a scheduled run's, a backfill's).
    pub window: Option<Window>,
}

/// One run as stored.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RunRecord {
    pub id: String,
    pub integration: String,
    pub trigger: String,
    pub params: serde_json::Value,
    pub status: RunStatus,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize_option")]
    pub ended_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub dry_run: bool,
    /// The period it covers (a scheduled run's, a backfill's).
    #[serde(serialize_with = "serialize_window")]
    pub window: Option<Window>,
    /// How many times it was started: more than 1 for a queued run that was tried again.
    pub attempts: u32,
    /// When its last attempt started; `started_at` is when it was accepted (a queued run) or
    /// started. `None` until it first started.
    #[serde(skip)]
    pub ran_at: Option<DateTime<Utc>>,
    /// Empty in listings; filled by [`Store::run`].
    #[serde(skip_serializing_if = "String::is_empty")]
    pub log: String,
    /// What it wrote to stdout for the person (see [`RunOutput`]); filled by [`Store::run`].
    #[serde(skip)]
    pub output: RunOutput,
}

impl RunRecord {
    /// Its status as a person reads it: `succeeded`, `failed (dry run)`.
    pub(crate) fn status_text(&self) -> String {
        match self.dry_run {
            true => format!("{} (dry run)", self.status.as_str()),
            false => self.status.as_str().to_owned(),
        }
    }

    /// How long its last attempt ran: a queued run's wait in the queue is not part of it.
    pub(crate) fn duration(&self) -> Option<chrono::Duration> {
        self.ended_at
            .map(|end| end - self.ran_at.unwrap_or(self.started_at))
    }
}

fn serialize_window<S: serde::Serializer>(
    window: &Option<Window>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match window {
        Some(window) => serde_json::json!({
            "start": crate::json_time::format(&window.start),
            "end": crate::json_time::format(&window.end),
        })
        .serialize(serializer),
        None => serializer.serialize_none(),
    }
}

/// An attempt of a queued run that failed and was tried again; the last attempt is the run's
/// own record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// 1 for the first.
    pub number: u32,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub error: Option<String>,
    pub log: String,
}

/// Which runs `history` wants.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunQuery {
    pub integration: Option<String>,
    /// Only failed and interrupted runs.
    pub failed_only: bool,
    pub limit: usize,
}

/// The answer to "which run is this id (or start of an id)?".
#[derive(Debug)]
pub(crate) enum RunLookup {
    Found(Box<RunRecord>),
    NotFound,
    Ambiguous(Vec<String>),
}

/// Something held while it lasts: a run in progress, an integration's overlap lock. Dropping it
/// releases it; so does the kernel when the holding process dies.
pub(crate) struct Lease {
    _held: Box<dyn Send>,
    /// The locked file, when the lease is a lock on one.
    file: Option<Arc<OwnedFd>>,
}

impl Lease {
    /// A lease that is an `flock` on an open `file`, with `held` dropped first when it ends.
    pub(crate) fn file(file: File, held: impl Send + 'static) -> Self {
        Lease {
            _held: Box::new(held),
            file: Some(Arc::new(file.into())),
        }
    }

    /// The locked file, for a child process to inherit: the lock belongs to the open file, so
    /// it lasts while any process (or any copy of this) keeps it open.
    pub(crate) fn fd(&self) -> Option<Arc<OwnedFd>> {
        self.file.clone()
    }
}

/// A run's end as recorded: how it ended, or that it goes back to the queue.
#[derive(Debug, Clone)]
pub(crate) struct RunEnd {
    /// `Queued` puts the run back in the queue, to be tried again at `retry_at`; the attempt
    /// is kept with its log.
    pub status: RunStatus,
    pub error: Option<String>,
    pub log: String,
    pub output: RunOutput,
    /// When this attempt started (its slot taken); `None` when it never started.
    pub ran_at: Option<DateTime<Utc>>,
    pub retry_at: Option<DateTime<Utc>>,
    /// On success, the integration's watermark moves here (never backward), in the same write;
    /// never for a dry run.
    pub advance_to: Option<DateTime<Utc>>,
}

impl RunEnd {
    /// An end with nothing run: no log, no output.
    pub(crate) fn without_run(status: RunStatus, error: Option<String>) -> RunEnd {
        RunEnd {
            status,
            error,
            log: String::new(),
            output: RunOutput::default(),
            ran_at: None,
            retry_at: None,
            advance_to: None,
        }
    }
}

/// Run history: what ran, how it went, its log.
pub(crate) trait History: Send + Sync {
    /// Records a run as running; the returned lease marks it alive until dropped.
    fn begin_run(&self, run: &NewRun) -> anyhow::Result<Lease>;

    /// Records how a run ended (or that it goes back to the queue), with the watermark move of
    /// a successful scheduled run in the same transaction.
    fn finish_run(&self, id: &str, end: RunEnd) -> anyhow::Result<()>;

    /// Newest first. Runs whose process died are marked interrupted (or queued again) first.
    fn runs(&self, query: &RunQuery) -> anyhow::Result<Vec<RunRecord>>;

    /// One run with its log and output, by id or a unique start of one.
    fn run(&self, id_or_prefix: &str) -> anyhow::Result<RunLookup>;

    /// The earlier attempts of a run that was tried again, first first.
    fn attempts(&self, id: &str) -> anyhow::Result<Vec<Attempt>>;

    /// The newest finished-or-running (not skipped) run of each integration.
    fn last_runs(&self) -> anyhow::Result<BTreeMap<String, RunRecord>>;

    /// Deletes the runs (with their attempts) and frees the dedupe keys that `prune` says are
    /// past keeping, or only counts them. Never a queued or running run, nor the newest run of
    /// an integration that `last_runs` would show, nor a run whose dedupe key is still kept.
    /// Works in small transactions, so that runs and events recorded meanwhile wait little.
    fn prune(&self, prune: &Prune) -> anyhow::Result<Pruned>;

    /// Whether a lazy prune is due: true, and noted for every process that shares the store,
    /// when none started in the last `every`.
    fn prune_due(&self, every: std::time::Duration) -> anyhow::Result<bool>;

    /// Notes that a lazy prune stopped at its budget: the next is due at once.
    fn prune_unfinished(&self) -> anyhow::Result<()>;
}

/// What a prune removes from one integration's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Keep {
    /// Runs that started before this go; `None` keeps them all.
    pub runs_since: Option<DateTime<Utc>>,
    /// Dedupe keys of runs accepted before this are freed; `None` keeps them as long as their
    /// run. A run goes only once its key is free.
    pub keys_since: Option<DateTime<Utc>>,
}

/// A prune of the whole store.
#[derive(Debug, Clone)]
pub(crate) struct Prune {
    pub integrations: BTreeMap<String, Keep>,
    /// For the integrations with runs stored that `integrations` does not name (the file no
    /// longer has them).
    pub others: Keep,
    /// Count what would go; change nothing.
    pub dry_run: bool,
    /// Stop after about this many runs and keys (a lazy prune by a short command); the rest
    /// waits for the next prune. `None`: everything due.
    pub budget: Option<u64>,
}

/// What a prune removed (or, dry, would remove), by integration; only those with something.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pruned {
    pub integrations: BTreeMap<String, PrunedCounts>,
    /// The budget ran out before everything due was pruned.
    pub more: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PrunedCounts {
    pub runs: u64,
    pub keys: u64,
}

impl Pruned {
    pub(crate) fn total(&self) -> PrunedCounts {
        self.integrations
            .values()
            .fold(PrunedCounts::default(), |sum, counts| PrunedCounts {
                runs: sum.runs + counts.runs,
                keys: sum.keys + counts.keys,
            })
    }
}

/// Run slots: each integration runs at most its `concurrency` runs at once, across processes.
pub(crate) trait RunSlots: Send + Sync {
    /// One of the integration's `slots` run slots: `None` when other runs hold all of them and
    /// `wait` is false; with `wait`, blocks until one is free.
    fn lock(&self, integration: &str, slots: usize, wait: bool) -> anyhow::Result<Option<Lease>>;
}

/// Watermarks: the end of the last period each integration covered successfully. They move
/// only with a successful run (see [`RunEnd::advance_to`]).
pub(crate) trait Watermarks: Send + Sync {
    fn watermark(&self, integration: &str) -> anyhow::Result<Option<DateTime<Utc>>>;
}

/// The queue: runs accepted now to run later (webhook events), durably.
pub(crate) trait Queue: Send + Sync {
    /// Queues runs in one transaction (one sync to disk for all: group commit), durably: when
    /// this returns, they survive a crash of the process or the machine. A run whose
    /// integration saw its dedupe key since the key's `since` (or earlier in the same batch) is
    /// not queued; the earlier run's id comes back instead. One answer per event, in order.
    fn enqueue_all(&self, events: &[Event]) -> anyhow::Result<Vec<Enqueued>>;

    /// Takes the queued run that has waited longest among the integrations that are `ready`
    /// for one more, and marks it running; the lease keeps it alive. A queued run whose stored
    /// trigger cannot be read back is recorded as failed, with the reason, and not taken.
    fn claim(&self, ready: &dyn Fn(&str) -> bool) -> anyhow::Result<Option<Claimed>>;

    /// Queues a failed or interrupted run that came from the queue again (`integ retry`);
    /// false when the run is not one.
    fn requeue(&self, id: &str) -> anyhow::Result<bool>;

    /// Queues every failed or interrupted run of an integration that came from the queue again.
    fn requeue_failed(&self, integration: &str) -> anyhow::Result<u64>;

    /// Puts the runs taken from the queue by processes that died back in it; returns how many
    /// runs are waiting.
    fn recover(&self) -> anyhow::Result<u64>;

    /// How many runs wait in the queue, by integration.
    fn queued(&self) -> anyhow::Result<BTreeMap<String, u64>>;
}

/// Every role of a backend. Callers take the narrowest role they need.
pub(crate) trait Store: History + RunSlots + Watermarks + Queue {}

impl<T: History + RunSlots + Watermarks + Queue> Store for T {}

/// A run to queue, with what started it.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub run: NewRun,
    /// The trigger's stored form (see `Trigger::data`), as JSON text.
    pub trigger_data: String,
    pub dedupe: Option<DedupeKey>,
}

/// What makes a re-delivered event a duplicate.
#[derive(Debug, Clone)]
pub(crate) struct DedupeKey {
    pub key: String,
    /// An earlier run with the key counts only if it was accepted after this; an older one
    /// gives the key up.
    pub since: DateTime<Utc>,
}

/// What `enqueue` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Enqueued {
    New(String),
    /// Seen before: the id of the run that took it.
    Duplicate(String),
}

/// A queued run, taken by a worker.
pub(crate) struct Claimed {
    pub(crate) run: RunRecord,
    pub(crate) trigger: Trigger,
    /// 1 for the first attempt.
    pub(crate) attempt: u32,
    pub(crate) lease: Lease,
}

/// How long the process that opens the store lives: a backend may trade work at opening
/// against work at closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifetime {
    /// A command that opens the store, does one thing and ends (`integ run`, `history`).
    Short,
    /// The listener.
    Long,
}

/// Marks an error as the store's (it could not be opened, read or written), which has its own
/// exit code: it says nothing about the integration.
/// It reads as the error it wraps.
#[derive(Debug)]
pub(crate) struct StoreFailed(pub(crate) anyhow::Error);

impl std::fmt::Display for StoreFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

impl std::error::Error for StoreFailed {}

impl StoreFailed {
    /// Whether `err` (or what it wraps) is the store's.
    pub(crate) fn is_in(err: &anyhow::Error) -> bool {
        err.chain().any(|cause| cause.is::<StoreFailed>())
    }
}

/// Creates (or opens) a file only its user can read and write: the state directory's files.
pub(crate) fn create_private(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
}

/// The state directory unless `--state-dir`/`INTEG_STATE_DIR` names one: one per integrations
/// file, `$XDG_STATE_HOME/integ/projects/<dir>-<hash>`. Keying by the file keeps two projects that
/// use the same integration name apart (their locks, history, watermarks and queue), while
/// cron, the listener and a person using one file share its state: the hash is of the file's
/// canonical path, so a relative or symlinked path to it is the same project.
pub(crate) fn default_state_dir(config: &Path) -> anyhow::Result<PathBuf> {
    Ok(state_root()?.join("projects").join(project_key(config)))
}

/// Where earlier versions kept every project's state together, when a store is there: its
/// runs stay readable with `--state-dir`, and nothing moves them.
pub(crate) fn shared_state_dir() -> Option<PathBuf> {
    let dir = state_root().ok()?;
    dir.join("integ.db").is_file().then_some(dir)
}

fn state_root() -> anyhow::Result<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .map(|dir| dir.join("integ"))
        .context("failed to find a state directory: set `INTEG_STATE_DIR` or pass `--state-dir`")
}

/// `<name of the file's directory>-<hash of its canonical path>`: the name for a person
/// looking in the directory, the hash (stable across versions, unlike `std`'s hasher) for
/// uniqueness.
fn project_key(config: &Path) -> String {
    use sha2::Digest as _;
    use std::os::unix::ffi::OsStrExt as _;

    let path = canonical(config);
    let digest = sha2::Sha256::digest(path.as_os_str().as_bytes());
    let label: String = path
        .parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let label = label.trim_start_matches('.');
    let hash = hex::encode(&digest[..8]);
    if label.is_empty() {
        hash
    } else {
        format!("{label}-{hash}")
    }
}

/// The file's canonical path; for a file that cannot be read (a cron run whose file is gone),
/// its canonical directory and name, so the failure lands where the file's runs are.
fn canonical(config: &Path) -> PathBuf {
    if let Ok(path) = std::fs::canonicalize(config) {
        return path;
    }
    let absolute = std::path::absolute(config).unwrap_or_else(|_| config.to_owned());
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|dir| dir.join(name))
            .unwrap_or(absolute),
        _ => absolute,
    }
}

/// Opens the default backend in `dir`.
pub(crate) fn open(dir: &Path, lifetime: Lifetime) -> anyhow::Result<Box<dyn Store>> {
    match sqlite::SqliteStore::open(dir, lifetime) {
        Ok(store) => Ok(Box::new(store)),
        Err(err) => Err(StoreFailed(err).into()),
    }
}

#[cfg(test)]
mod state_dir_tests {
    use super::project_key;

    #[test]
    fn a_file_keeps_its_key_whether_it_exists_and_however_it_is_reached() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("Acme CRM");
        std::fs::create_dir(&project).unwrap();
        let file = project.join("integrations.toml");
        let before = project_key(&file);
        std::fs::write(&file, "").unwrap();
        assert_eq!(
            project_key(&file),
            before,
            "a missing file's runs land beside its others"
        );
        std::os::unix::fs::symlink(&project, dir.path().join("link")).unwrap();
        assert_eq!(
            project_key(&dir.path().join("link/integrations.toml")),
            before
        );
        assert_eq!(project_key(&project.join("./integrations.toml")), before);
        // The name says which project it is; characters a shell would trip on are replaced.
        assert!(before.starts_with("Acme_CRM-"), "{before}");
        assert_eq!(before.len(), "Acme_CRM-".len() + 16);

        let other = dir.path().join("other.toml");
        assert_ne!(project_key(&other), before);
    }
}
