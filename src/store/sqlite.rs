//! The embedded store: one SQLite database in WAL mode (safe for a cron run and the listener at
//! once), plus `flock`ed files for liveness. A run holds a lock on `running/<id>.lock` while it
//! lives; the kernel drops that lock when the process dies, however it dies, so a reader that
//! can take it knows the run is gone and marks it interrupted. No PID files, nothing stale.

use std::collections::BTreeMap;
use std::fs::{DirBuilder, File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, FileControl, OptionalExtension as _, Row, TransactionBehavior, params};

use crate::store::{
    Claimed, DedupeKey, Durability, Enqueued, Event, Lease, NewRun, RunLookup, RunQuery, RunRecord,
    RunStatus, Store,
};

const SCHEMA_VERSION: i64 = 4;
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id          TEXT PRIMARY KEY,
    integration TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    params      TEXT NOT NULL,
    status      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    error       TEXT,
    log         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_by_integration ON runs (integration, started_at);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
CREATE TABLE IF NOT EXISTS watermarks (
    integration   TEXT PRIMARY KEY,
    covered_until TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
";
/// Version 2: runs that wait in a queue (webhook events), with what started them and the key
/// that makes a re-delivery a duplicate.
const SCHEMA_V2: &str = "
ALTER TABLE runs ADD COLUMN trigger_data TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS runs_by_dedupe_key ON runs (integration, dedupe_key) WHERE dedupe_key IS NOT NULL;
";
/// Version 3: queued runs are tried again after a failure, later each time.
const SCHEMA_V3: &str = "
ALTER TABLE runs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN next_attempt_at TEXT;
";
/// Version 4: each integration's queue in the order it is taken, so taking the next event costs
/// the same with ten events waiting as with a hundred thousand.
const SCHEMA_V4: &str = "
CREATE INDEX IF NOT EXISTS runs_queue ON runs (integration, coalesce(next_attempt_at, started_at), id) WHERE status = 'queued';
";
const COLUMNS: &str = "id, integration, trigger, params, status, started_at, ended_at, error";

pub struct SqliteStore {
    dir: PathBuf,
    db: Mutex<Connection>,
    /// Sets the connection's `synchronous` level for everything but queued events.
    synchronous: &'static str,
}

impl SqliteStore {
    pub fn open(dir: &Path, durability: Durability) -> anyhow::Result<Self> {
        // Run logs and params are for the user who runs integ: what integ creates is theirs
        // alone (0700), whatever the umask. A directory that exists keeps its mode.
        for sub in ["locks", "running"] {
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir.join(sub))
                .with_context(|| {
                    format!("failed to create the state directory `{}`", dir.display())
                })?;
        }
        let path = dir.join("integ.db");
        // SQLite creates its `-wal` and `-shm` files with the database's mode: 0600 for all.
        create_private(&path)
            .with_context(|| format!("failed to create the run store `{}`", path.display()))?;
        let mut db = Connection::open(&path)
            .with_context(|| format!("failed to open the run store `{}`", path.display()))?;
        // Other processes (a cron run, the listener) may hold the write lock for a moment.
        db.busy_timeout(Duration::from_secs(10))?;
        // In WAL mode, NORMAL survives a crash of any process; only a power cut can lose the
        // last commits, which for run history is the right trade for not waiting on fsync.
        let synchronous = match durability {
            Durability::Normal => "PRAGMA synchronous = NORMAL",
            Durability::Full => "PRAGMA synchronous = FULL",
        };
        db.execute_batch(synchronous)?;
        // Keep the WAL and its index between processes: each `integ run` is a short process,
        // usually the last to close the database, and deleting and re-creating both files on
        // every run costs more than the run's own writes.
        db.file_control(Some("main"), FileControl::PersistWal(&mut 1))?;
        // With a size limit set, the last process to close empties it (a WAL left with content
        // makes the next process replay it on open). While a long-lived listener writes, the WAL
        // is reused from its start after each checkpoint rather than cut to nothing: writing
        // over blocks the file already has makes each sync to disk about twice as fast.
        db.pragma_update(None, "journal_size_limit", 64 << 20)?;
        migrate(&mut db)
            .with_context(|| format!("failed to prepare the run store `{}`", path.display()))?;
        Ok(SqliteStore {
            dir: dir.to_owned(),
            db: Mutex::new(db),
            synchronous,
        })
    }

    fn db(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.db.lock().expect("store lock is never poisoned")
    }

    /// One of an integration's run slots (see [`Store::lock`]): `NAME.lock`, then
    /// `NAME.2.lock`, …. Lock files are never deleted: removing one while another process waits
    /// on it would let two runs hold the same slot.
    fn slot_file(&self, integration: &str, slot: usize) -> anyhow::Result<(File, PathBuf)> {
        let name = match slot {
            1 => format!("{integration}.lock"),
            n => format!("{integration}.{n}.lock"),
        };
        let path = self.dir.join("locks").join(name);
        let file = create_private(&path)
            .with_context(|| format!("failed to open the lock `{}`", path.display()))?;
        Ok((file, path))
    }

    fn running_lock(&self, id: &str) -> PathBuf {
        self.dir.join("running").join(format!("{id}.lock"))
    }

    /// Inserts a batch of events in one transaction; see [`Store::enqueue_all`].
    fn insert_events(db: &mut Connection, events: &[Event]) -> anyhow::Result<Vec<Enqueued>> {
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut answers = Vec::with_capacity(events.len());
        for Event {
            run,
            trigger_data,
            dedupe,
        } in events
        {
            if let Some(DedupeKey { key, since }) = dedupe {
                let earlier: Option<(String, String)> = tx
                    .prepare_cached(
                        "SELECT id, started_at FROM runs WHERE integration = ?1 AND dedupe_key = ?2",
                    )?
                    .query_row(params![run.integration, key], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })
                    .optional()?;
                match earlier {
                    Some((id, accepted)) if parse_timestamp(&accepted)? >= *since => {
                        answers.push(Enqueued::Duplicate(id));
                        continue;
                    }
                    // Kept long enough: the old run gives the key up to this one.
                    Some((id, _)) => {
                        tx.prepare_cached("UPDATE runs SET dedupe_key = NULL WHERE id = ?1")?
                            .execute(params![id])?;
                    }
                    None => {}
                }
            }
            tx.prepare_cached(
                "INSERT INTO runs (id, integration, trigger, params, status, started_at, trigger_data, dedupe_key)
                 VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7)",
            )?
            .execute(params![
                    run.id,
                    run.integration,
                    run.trigger,
                    run.params.to_string(),
                    timestamp(run.started_at),
                    trigger_data.to_string(),
                    dedupe.as_ref().map(|d| &d.key)
            ])?;
            answers.push(Enqueued::New(run.id.clone()));
        }
        tx.commit()?;
        Ok(answers)
    }

    /// Queues again the failed or interrupted webhook runs whose `column` is `value`.
    fn requeue_where(&self, column: &'static str, value: &str) -> anyhow::Result<u64> {
        let changed = self.db().execute(
            &format!(
                "UPDATE runs SET status = 'queued', attempts = 0, next_attempt_at = NULL, ended_at = NULL
                 WHERE {column} = ?1 AND trigger = 'webhook' AND status IN ('failed', 'interrupted')"
            ),
            params![value],
        )?;
        Ok(changed as u64)
    }

    /// Marks every "running" run whose process is gone as interrupted.
    fn reap(&self, db: &Connection) -> anyhow::Result<()> {
        let mut statement = db.prepare_cached("SELECT id FROM runs WHERE status = 'running'")?;
        let ids: Vec<String> = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for id in ids {
            let path = self.running_lock(&id);
            let alive = match File::open(&path) {
                Ok(file) => file.try_lock().is_err(),
                // No lock file: the process died between creating the run and its lock, or the
                // state directory was cleaned. Either way nothing is running it.
                Err(_) => false,
            };
            if !alive {
                // An accepted webhook event is never lost: it goes back to the queue and runs
                // again (at least once). Anything else is reported as interrupted.
                db.execute(
                    "UPDATE runs SET
                         status = CASE WHEN trigger = 'webhook' THEN 'queued' ELSE 'interrupted' END,
                         ended_at = CASE WHEN trigger = 'webhook' THEN NULL ELSE ?2 END,
                         error = CASE WHEN trigger = 'webhook' THEN NULL
                             ELSE 'the process running it ended without finishing it (killed or crashed)' END
                     WHERE id = ?1 AND status = 'running'",
                    params![id, timestamp(Utc::now())],
                )?;
                let _ = std::fs::remove_file(&path);
            }
        }
        Ok(())
    }
}

/// Opens `path` for writing, creating it readable by its owner only (0600); an existing file
/// is neither truncated nor changed.
fn create_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path)
}

fn migrate(db: &mut Connection) -> anyhow::Result<()> {
    let version: i64 = db.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version >= SCHEMA_VERSION {
        return Ok(());
    }
    // WAL lets readers and one writer work at once across processes; it is a property of the
    // file, so setting it once is enough.
    db.pragma_update(None, "journal_mode", "WAL")?;
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process may have migrated while this one waited for the write lock.
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version < 1 {
        tx.execute_batch(SCHEMA)?;
    }
    if version < 2 {
        tx.execute_batch(SCHEMA_V2)?;
    }
    if version < 3 {
        tx.execute_batch(SCHEMA_V3)?;
    }
    if version < 4 {
        tx.execute_batch(SCHEMA_V4)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Removes the run's lock file once the run is recorded as finished.
struct RunningLock {
    path: PathBuf,
}

impl Drop for RunningLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Store for SqliteStore {
    fn begin_run(&self, run: &NewRun) -> anyhow::Result<Lease> {
        // Lock first, insert second: a reader never sees a running row without a live lock.
        let path = self.running_lock(&run.id);
        let file = create_private(&path)
            .with_context(|| format!("failed to create `{}`", path.display()))?;
        file.lock()
            .with_context(|| format!("failed to lock `{}`", path.display()))?;
        self.db().execute(
            "INSERT INTO runs (id, integration, trigger, params, status, started_at)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5)",
            params![
                run.id,
                run.integration,
                run.trigger,
                run.params.to_string(),
                timestamp(run.started_at)
            ],
        )?;
        Ok(Lease::file(file, RunningLock { path }))
    }

    fn finish_run(
        &self,
        id: &str,
        status: RunStatus,
        error: Option<&str>,
        log: &str,
    ) -> anyhow::Result<()> {
        self.db()
            .prepare_cached(
                "UPDATE runs SET status = ?2, ended_at = ?3, error = ?4, log = ?5 WHERE id = ?1",
            )?
            .execute(params![
                id,
                status.as_str(),
                timestamp(Utc::now()),
                error,
                log
            ])?;
        Ok(())
    }

    fn runs(&self, query: &RunQuery) -> anyhow::Result<Vec<RunRecord>> {
        let db = self.db();
        self.reap(&db)?;
        let mut statement = db.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM runs
             WHERE (?1 IS NULL OR integration = ?1)
               AND (?2 = 0 OR status IN ('failed', 'interrupted'))
             ORDER BY started_at DESC, id DESC LIMIT ?3"
        ))?;
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let rows =
            statement.query_map(params![query.integration, query.failed_only, limit], record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn run(&self, id_or_prefix: &str) -> anyhow::Result<RunLookup> {
        let db = self.db();
        self.reap(&db)?;
        let mut statement = db.prepare_cached(&format!(
            "SELECT {COLUMNS}, log FROM runs WHERE id = ?1 OR (length(?1) >= 4 AND substr(id, 1, length(?1)) = ?1)
             ORDER BY id LIMIT 5"
        ))?;
        let mut found: Vec<RunRecord> = statement
            .query_map(params![id_or_prefix], |row| {
                let mut run = record(row)?;
                run.log = row.get(8)?;
                Ok(run)
            })?
            .collect::<Result<_, _>>()?;
        Ok(match found.len() {
            0 => RunLookup::NotFound,
            1 => RunLookup::Found(Box::new(found.remove(0))),
            _ => match found.iter().position(|run| run.id == id_or_prefix) {
                Some(exact) => RunLookup::Found(Box::new(found.remove(exact))),
                None => RunLookup::Ambiguous(found.into_iter().map(|run| run.id).collect()),
            },
        })
    }

    fn last_runs(&self) -> anyhow::Result<BTreeMap<String, RunRecord>> {
        let db = self.db();
        self.reap(&db)?;
        // Each integration's newest run through its index: with a long history (a busy
        // webhook) the cost grows with the number of integrations, not of runs.
        let integrations: Vec<String> = db
            .prepare_cached(
                "WITH RECURSIVE names(name) AS (
                     SELECT min(integration) FROM runs
                     UNION ALL
                     SELECT (SELECT min(integration) FROM runs WHERE integration > name)
                     FROM names WHERE name IS NOT NULL
                 )
                 SELECT name FROM names WHERE name IS NOT NULL",
            )?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let mut newest = db.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM runs INDEXED BY runs_by_integration
             WHERE integration = ?1 AND status != 'skipped'
             ORDER BY started_at DESC, id DESC LIMIT 1"
        ))?;
        let mut last = BTreeMap::new();
        for integration in integrations {
            if let Some(run) = newest.query_row(params![integration], record).optional()? {
                last.insert(integration, run);
            }
        }
        Ok(last)
    }

    fn lock(&self, integration: &str, slots: usize, wait: bool) -> anyhow::Result<Option<Lease>> {
        let slots = slots.max(1);
        loop {
            for slot in 1..=slots {
                let (file, path) = self.slot_file(integration, slot)?;
                match file.try_lock() {
                    Ok(()) => return Ok(Some(Lease::file(file, ()))),
                    Err(std::fs::TryLockError::WouldBlock) => {}
                    Err(std::fs::TryLockError::Error(err)) => {
                        return Err(err).with_context(|| {
                            format!("failed to take the lock `{}`", path.display())
                        });
                    }
                }
            }
            if !wait {
                return Ok(None);
            }
            // One slot: the kernel wakes the waiter the moment it is free. Several: look again
            // shortly, since a process can wait on only one file at a time.
            if slots == 1 {
                let (file, path) = self.slot_file(integration, 1)?;
                file.lock()
                    .with_context(|| format!("failed to wait for the lock `{}`", path.display()))?;
                return Ok(Some(Lease::file(file, ())));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn watermark(&self, integration: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
        let text: Option<String> = self
            .db()
            .query_row(
                "SELECT covered_until FROM watermarks WHERE integration = ?1",
                params![integration],
                |row| row.get(0),
            )
            .optional()?;
        text.map(|t| parse_timestamp(&t)).transpose()
    }

    fn set_watermark(&self, integration: &str, covered_until: DateTime<Utc>) -> anyhow::Result<()> {
        self.db().execute(
            "INSERT INTO watermarks (integration, covered_until, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (integration) DO UPDATE SET covered_until = ?2, updated_at = ?3",
            params![integration, timestamp(covered_until), timestamp(Utc::now())],
        )?;
        Ok(())
    }

    fn enqueue_all(&self, events: &[Event]) -> anyhow::Result<Vec<Enqueued>> {
        let mut db = self.db();
        // An acknowledged event must survive power loss, whatever the connection's level for
        // other writes: claims and results may be lost and redone (at least once), this not.
        db.prepare_cached("PRAGMA synchronous = FULL")?
            .execute([])?;
        let stored = Self::insert_events(&mut db, events);
        db.prepare_cached(self.synchronous)?.execute([])?;
        stored
    }

    fn claim(&self, ready: &dyn Fn(&str) -> bool) -> anyhow::Result<Option<Claimed>> {
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The head of each ready integration's queue, then the oldest of those: the cost grows
        // with the number of integrations, not with the number of events waiting. "Due" is a
        // range of the index: a queued event's `started_at` is when it was accepted, never in
        // the future.
        let waiting = waiting_integrations(&tx)?;
        let now = timestamp(Utc::now());
        let mut first: Option<(String, String)> = None;
        for integration in waiting.iter().filter(|name| ready(name)) {
            let head: Option<(String, String)> = tx
                .prepare_cached(
                    "SELECT coalesce(next_attempt_at, started_at), id FROM runs INDEXED BY runs_queue
                     WHERE status = 'queued' AND integration = ?1
                       AND coalesce(next_attempt_at, started_at) <= ?2
                     ORDER BY coalesce(next_attempt_at, started_at), id LIMIT 1",
                )?
                .query_row(params![integration, now], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?;
            if let Some(head) = head
                && first.as_ref().is_none_or(|first| head < *first)
            {
                first = Some(head);
            }
        }
        let Some((_, id)) = first else {
            return Ok(None);
        };
        let next = tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS}, trigger_data, attempts FROM runs WHERE id = ?1"
            ))?
            .query_row(params![id], |row| {
                Ok((
                    record(row)?,
                    row.get::<_, String>(8)?,
                    row.get::<_, u32>(9)?,
                ))
            })
            .optional()?;
        let Some((mut run, trigger_data, attempts)) = next else {
            return Ok(None);
        };
        // Lock first, mark running second, as in `begin_run`.
        let path = self.running_lock(&run.id);
        let file = create_private(&path)
            .with_context(|| format!("failed to create `{}`", path.display()))?;
        file.lock()
            .with_context(|| format!("failed to lock `{}`", path.display()))?;
        tx.prepare_cached(
            "UPDATE runs SET status = 'running', attempts = attempts + 1 WHERE id = ?1",
        )?
        .execute(params![run.id])?;
        tx.commit()?;
        run.status = RunStatus::Running;
        Ok(Some(Claimed {
            run,
            trigger_data: serde_json::from_str(&trigger_data)?,
            attempt: attempts + 1,
            lease: Lease::file(file, RunningLock { path }),
        }))
    }

    fn retry_later(
        &self,
        id: &str,
        at: DateTime<Utc>,
        error: &str,
        log: &str,
    ) -> anyhow::Result<()> {
        self.db().execute(
            "UPDATE runs SET status = 'queued', next_attempt_at = ?2, error = ?3, log = ?4 WHERE id = ?1",
            params![id, timestamp(at), error, log],
        )?;
        Ok(())
    }

    fn requeue(&self, id: &str) -> anyhow::Result<bool> {
        Ok(self.requeue_where("id", id)? == 1)
    }

    fn requeue_failed(&self, integration: &str) -> anyhow::Result<u64> {
        self.requeue_where("integration", integration)
    }

    fn recover(&self) -> anyhow::Result<u64> {
        self.reap(&self.db())?;
        Ok(self.queued()?.values().sum())
    }

    fn queued(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        let db = self.db();
        let mut queued = BTreeMap::new();
        for integration in waiting_integrations(&db)? {
            let count: i64 = db
                .prepare_cached(
                    "SELECT count(*) FROM runs INDEXED BY runs_queue
                     WHERE status = 'queued' AND integration = ?1",
                )?
                .query_row(params![integration], |row| row.get(0))?;
            queued.insert(integration, count.unsigned_abs());
        }
        Ok(queued)
    }
}

/// The integrations with something queued, one index seek each (a loose index scan).
fn waiting_integrations(db: &Connection) -> rusqlite::Result<Vec<String>> {
    db.prepare_cached(
        "WITH RECURSIVE waiting(name) AS (
             SELECT min(integration) FROM runs INDEXED BY runs_queue WHERE status = 'queued'
             UNION ALL
             SELECT (SELECT min(integration) FROM runs INDEXED BY runs_queue
                     WHERE status = 'queued' AND integration > name)
             FROM waiting WHERE name IS NOT NULL
         )
         SELECT name FROM waiting WHERE name IS NOT NULL",
    )?
    .query_map([], |row| row.get(0))?
    .collect()
}

fn record(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let bad = |index: usize, err: anyhow::Error| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, err.into())
    };
    let params: String = row.get(3)?;
    let status: String = row.get(4)?;
    let started_at: String = row.get(5)?;
    let ended_at: Option<String> = row.get(6)?;
    Ok(RunRecord {
        id: row.get(0)?,
        integration: row.get(1)?,
        trigger: row.get(2)?,
        params: serde_json::from_str(&params).map_err(|e| bad(3, e.into()))?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| bad(4, anyhow::anyhow!("unknown status `{status}`")))?,
        started_at: parse_timestamp(&started_at).map_err(|e| bad(5, e))?,
        ended_at: ended_at
            .map(|t| parse_timestamp(&t))
            .transpose()
            .map_err(|e| bad(6, e))?,
        error: row.get(7)?,
        log: String::new(),
    })
}

/// Fixed-width UTC text, so that string order is time order.
fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_timestamp(text: &str) -> anyhow::Result<DateTime<Utc>> {
    Ok(DateTime::parse_from_rfc3339(text)
        .with_context(|| format!("invalid timestamp `{text}` in the run store"))?
        .with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use super::SqliteStore;
    use crate::store::{
        DedupeKey, Durability, Enqueued, Event, NewRun, RunLookup, RunQuery, RunStatus, Store,
    };

    fn new_run(id: &str, integration: &str) -> NewRun {
        NewRun {
            id: id.into(),
            integration: integration.into(),
            trigger: "manual".into(),
            params: serde_json::json!({"a": 1}),
            started_at: Utc::now(),
        }
    }

    #[test]
    fn records_a_run_from_start_to_finish() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Durability::Normal).unwrap();
        let lease = store.begin_run(&new_run("0001-run", "sync")).unwrap();
        let runs = store
            .runs(&RunQuery {
                limit: 10,
                ..RunQuery::default()
            })
            .unwrap();
        assert_eq!(
            runs[0].status,
            RunStatus::Running,
            "a live run stays running"
        );
        store
            .finish_run("0001-run", RunStatus::Failed, Some("boom"), "the log")
            .unwrap();
        drop(lease);
        let RunLookup::Found(run) = store.run("0001").unwrap() else {
            panic!("not found")
        };
        assert_eq!(
            (run.status, run.error.as_deref(), run.log.as_str()),
            (RunStatus::Failed, Some("boom"), "the log")
        );
        let failed = store
            .runs(&RunQuery {
                failed_only: true,
                limit: 10,
                ..RunQuery::default()
            })
            .unwrap();
        assert_eq!(failed.len(), 1);
    }

    #[test]
    fn the_state_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;

        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("new").join("integ");
        let store = SqliteStore::open(&dir, Durability::Normal).unwrap();
        let _slot = store.lock("sync", 1, false).unwrap().expect("free");
        let _run = store.begin_run(&new_run("0009-run", "sync")).unwrap();
        let mode = |path: &str| {
            let path = dir.join(path);
            let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            (path, meta.permissions().mode() & 0o777)
        };
        for path in ["", "locks", "running"] {
            let (path, mode) = mode(path);
            assert_eq!(mode, 0o700, "{path:?}");
        }
        for path in [
            "integ.db",
            "integ.db-wal",
            "integ.db-shm",
            "locks/sync.lock",
            "running/0009-run.lock",
        ] {
            let (path, mode) = mode(path);
            assert_eq!(mode, 0o600, "{path:?}");
        }
    }

    #[test]
    fn a_run_whose_lease_is_gone_is_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Durability::Normal).unwrap();
        drop(store.begin_run(&new_run("0002-run", "sync")).unwrap());
        let last = store.last_runs().unwrap();
        assert_eq!(last["sync"].status, RunStatus::Interrupted);
    }

    #[test]
    fn overlap_lock_is_exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Durability::Normal).unwrap();
        let held = store.lock("sync", 1, false).unwrap();
        assert!(held.is_some());
        assert!(store.lock("sync", 1, false).unwrap().is_none());
        assert!(store.lock("other", 1, false).unwrap().is_some());
        drop(held);
        assert!(store.lock("sync", 1, false).unwrap().is_some());
    }

    #[test]
    fn watermarks_move_forward_when_set() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Durability::Normal).unwrap();
        assert_eq!(store.watermark("sync").unwrap(), None);
        let first = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        let second = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
        store.set_watermark("sync", first).unwrap();
        store.set_watermark("sync", second).unwrap();
        assert_eq!(store.watermark("sync").unwrap(), Some(second));
    }

    #[test]
    fn ambiguous_prefixes_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Durability::Normal).unwrap();
        for id in ["abcd-1", "abcd-2"] {
            drop(store.begin_run(&new_run(id, "sync")).unwrap());
        }
        assert!(matches!(store.run("abcd").unwrap(), RunLookup::Ambiguous(ids) if ids.len() == 2));
        assert!(matches!(store.run("zzzz").unwrap(), RunLookup::NotFound));
    }

    #[test]
    fn queued_runs_are_claimed_once_deduplicated_and_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Durability::Full).unwrap();
        let mut first = new_run("0003-a", "hook");
        first.trigger = "webhook".into();
        let trigger = serde_json::json!({"kind": "webhook", "body": {"id": 1}});
        let event = |run: NewRun, key: &str| Event {
            run,
            trigger_data: trigger.clone(),
            dedupe: Some(DedupeKey {
                key: key.into(),
                since: Utc::now() - chrono::Duration::days(1),
            }),
        };
        assert_eq!(
            store.enqueue(event(first, "evt-1")).unwrap(),
            Enqueued::New("0003-a".into())
        );
        let mut again = new_run("0003-b", "hook");
        again.trigger = "webhook".into();
        assert_eq!(
            store.enqueue(event(again.clone(), "evt-1")).unwrap(),
            Enqueued::Duplicate("0003-a".into())
        );
        // Within one batch too: the second of two events with one key is a duplicate.
        let mut third = new_run("0003-c", "hook");
        third.trigger = "webhook".into();
        let mut fourth = new_run("0003-d", "hook");
        fourth.trigger = "webhook".into();
        assert_eq!(
            store
                .enqueue_all(&[event(third, "evt-2"), event(fourth, "evt-2")])
                .unwrap(),
            [
                Enqueued::New("0003-c".into()),
                Enqueued::Duplicate("0003-c".into())
            ]
        );

        let claimed = store.claim(&|_| true).unwrap().expect("one queued run");
        assert_eq!(claimed.run.id, "0003-a");
        assert_eq!(claimed.trigger_data, trigger);
        let other = store.claim(&|_| true).unwrap().expect("the batch's run");
        assert_eq!(other.run.id, "0003-c");
        assert!(
            store.claim(&|_| true).unwrap().is_none(),
            "each claimed once"
        );
        // The worker dies: its lease goes, and the run is queued again.
        drop(claimed.lease);
        assert_eq!(store.recover().unwrap(), 1);
        assert_eq!(
            store
                .claim(&|_| true)
                .unwrap()
                .expect("queued again")
                .run
                .id,
            "0003-a"
        );
    }

    #[test]
    fn claims_take_the_oldest_event_of_a_ready_integration_and_retries_when_due() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Durability::Full).unwrap();
        let at = |seconds: i64| Utc::now() - chrono::Duration::seconds(seconds);
        let events: Vec<Event> = [("e1", "busy", 30), ("e2", "idle", 20), ("e3", "idle", 10)]
            .into_iter()
            .map(|(id, integration, age)| {
                let mut run = new_run(id, integration);
                run.trigger = "webhook".into();
                run.started_at = at(age);
                Event {
                    run,
                    trigger_data: serde_json::json!({}),
                    dedupe: None,
                }
            })
            .collect();
        store.enqueue_all(&events).unwrap();
        assert_eq!(
            store.queued().unwrap(),
            std::collections::BTreeMap::from([("busy".to_owned(), 1), ("idle".to_owned(), 2)])
        );
        let not_busy = |name: &str| name != "busy";
        let claimed = store.claim(&not_busy).unwrap().expect("an idle event");
        assert_eq!(claimed.run.id, "e2", "the oldest of the ready ones");
        // A retry later is not due yet: the next one comes first, then nothing.
        let later = Utc::now() + chrono::Duration::hours(1);
        store.retry_later("e2", later, "failed", "").unwrap();
        drop(claimed.lease);
        assert_eq!(store.claim(&not_busy).unwrap().expect("e3").run.id, "e3");
        assert!(store.claim(&not_busy).unwrap().is_none());
        assert_eq!(store.claim(&|_| true).unwrap().expect("e1").run.id, "e1");
    }

    #[test]
    fn a_dedupe_key_older_than_its_keep_time_lets_the_event_run_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Durability::Full).unwrap();
        let event = |id: &str, age_hours: i64| {
            let mut run = new_run(id, "hook");
            run.trigger = "webhook".into();
            run.started_at = Utc::now() - chrono::Duration::hours(age_hours);
            Event {
                run,
                trigger_data: serde_json::json!({}),
                dedupe: Some(DedupeKey {
                    key: "evt-1".into(),
                    // Kept for an hour.
                    since: Utc::now() - chrono::Duration::hours(1),
                }),
            }
        };
        assert_eq!(
            store.enqueue(event("old", 2)).unwrap(),
            Enqueued::New("old".into())
        );
        assert_eq!(
            store.enqueue(event("new", 0)).unwrap(),
            Enqueued::New("new".into()),
            "two hours on, the key is free again"
        );
        assert_eq!(
            store.enqueue(event("again", 0)).unwrap(),
            Enqueued::Duplicate("new".into())
        );
    }
}
