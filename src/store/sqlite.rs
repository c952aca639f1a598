//! The embedded store: one SQLite database in WAL mode (safe for a cron run and the listener at
//! once), `flock`ed files for run slots, and [`Liveness`] for runs whose process died.

use std::collections::BTreeMap;
use std::fs::{DirBuilder, File};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, FileControl, OptionalExtension as _, Row, TransactionBehavior, params};

use crate::store::liveness::Liveness;
use crate::store::{
    Attempt, Claimed, DedupeKey, Enqueued, Event, History, Lease, NewRun, Queue, RunEnd, RunLookup,
    RunQuery, RunRecord, RunSlots, RunStatus, Watermarks,
};
use crate::store::{Keep, Prune, Pruned, PrunedCounts};
use crate::store::{Lifetime, RunOutput, Window, create_private};
use crate::trigger::Trigger;

const SCHEMA_VERSION: i64 = 10;
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
/// Version 5: a run knows whether it came from the queue (and goes back to it when its
/// process dies), instead of the store deciding that by its trigger.
const SCHEMA_V5: &str = "
ALTER TABLE runs ADD COLUMN from_queue INTEGER NOT NULL DEFAULT 0;
UPDATE runs SET from_queue = 1 WHERE trigger = 'webhook';
";
/// In WAL mode, NORMAL survives a crash of any process; only a power cut can lose the last
/// commits, which for run history is the right trade for not waiting on fsync. Queued events
/// are the exception (see `enqueue_all`).
const SYNCHRONOUS: &str = "PRAGMA synchronous = NORMAL";
/// Version 6: running runs are found through a partial index of just them, instead of an index
/// of every run's status that each run's start and end rewrote.
const SCHEMA_V6: &str = "
DROP INDEX IF EXISTS runs_by_status;
CREATE INDEX IF NOT EXISTS runs_running ON runs (id) WHERE status = 'running';
";
/// Version 7: webhook requests stored by earlier versions lose their credential headers —
/// `Authorization`, `Proxy-Authorization`, `Cookie`, and any whose name says token, signature,
/// secret or key (a hook's own header, which the store cannot know otherwise). They are
/// never stored now; this removes what was.
const SCHEMA_V7: &str = r#"
UPDATE runs SET trigger_data = json_set(trigger_data, '$.headers', json((
    SELECT coalesce(json_group_object(key, value), '{}')
    FROM json_each(runs.trigger_data, '$.headers')
    WHERE lower(key) NOT IN ('authorization', 'proxy-authorization', 'cookie')
      AND lower(key) NOT LIKE '%token%' AND lower(key) NOT LIKE '%signature%'
      AND lower(key) NOT LIKE '%secret%' AND lower(key) NOT LIKE '%key%'
)))
WHERE json_valid(trigger_data) AND json_type(trigger_data, '$.headers') = 'object';
"#;
/// Version 8: dry runs are marked; a run keeps its output and when its last attempt started
/// (a queued run waits before it runs); the attempts that went back to the queue keep theirs.
const SCHEMA_V8: &str = "
ALTER TABLE runs ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN ran_at TEXT;
ALTER TABLE runs ADD COLUMN output TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN output_cut INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS attempts (
    run_id      TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT NOT NULL,
    error       TEXT,
    log         TEXT NOT NULL,
    PRIMARY KEY (run_id, attempt)
) WITHOUT ROWID;
";
/// Version 9: the period a run covers (a scheduled run's window).
const SCHEMA_V9: &str = "
ALTER TABLE runs ADD COLUMN window_start TEXT;
ALTER TABLE runs ADD COLUMN window_end TEXT;
";
/// Version 10: every run in order of its start, so `history` without a name reads only the
/// newest runs however many are kept; and when a prune last started, shared by every process.
const SCHEMA_V10: &str = "
CREATE INDEX IF NOT EXISTS runs_by_start ON runs (started_at, id);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
";
/// The runs of integration `?1` that a prune deletes: started before `?2`, over (neither queued
/// nor running), without a dedupe key or with one accepted before `?3` (`''`: keys kept), and
/// not the integration's newest run that `last_runs` shows. The uncorrelated subquery runs once.
const PRUNABLE: &str = "integration = ?1 AND started_at < ?2
    AND status NOT IN ('queued', 'running')
    AND (dedupe_key IS NULL OR started_at < ?3)
    AND id IS NOT (SELECT id FROM runs INDEXED BY runs_by_integration
                   WHERE integration = ?1 AND status != 'skipped'
                   ORDER BY started_at DESC, id DESC LIMIT 1)";
/// The dedupe keys of integration `?1` that a prune frees: accepted before `?3`.
const FREEABLE: &str = "integration = ?1 AND dedupe_key IS NOT NULL AND started_at < ?3";
/// How many runs or keys one prune transaction removes: a few milliseconds of holding the
/// write lock, so the listener's next group commit barely waits.
const PRUNE_BATCH: u64 = 500;
const COLUMNS: &str = "id, integration, trigger, params, status, started_at, ended_at, error, \
                       dry_run, attempts, ran_at, window_start, window_end";
/// How many columns [`COLUMNS`] has: the ones a query adds come after.
const COLUMN_COUNT: usize = 13;

pub(crate) struct SqliteStore {
    dir: PathBuf,
    liveness: Liveness,
    db: Mutex<Connection>,
}

impl SqliteStore {
    pub(crate) fn open(dir: &Path, lifetime: Lifetime) -> anyhow::Result<Self> {
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
        // Every statement the store runs stays prepared: the listener runs each many times a
        // second, and a cache smaller than their number would parse them again in turn.
        db.set_prepared_statement_cache_capacity(64);
        db.execute_batch(SYNCHRONOUS)?;
        // Keep the WAL and its index between processes: each `integ run` is a short process,
        // usually the last to close the database, and deleting and re-creating both files on
        // every run costs more than the run's own writes.
        db.file_control(Some("main"), FileControl::PersistWal(&mut 1))?;
        // While a long-lived listener writes, the WAL is reused from its start after each
        // checkpoint rather than cut to nothing: writing over blocks the file already has makes
        // each sync to disk about twice as fast. The limit bounds what a checkpoint leaves.
        db.pragma_update(None, "journal_size_limit", 64 << 20)?;
        // A short process (`integ run` from cron, `history`) leaves the WAL as it is when it
        // closes: checkpointing it then costs four syncs to disk, most of a cron run's own time.
        // The WAL is kept short instead (a checkpoint every 128 pages, within whichever commit
        // passes that), because the next process to open it reads it whole. A long-lived
        // listener checkpoints rarely, and as it closes.
        if lifetime == Lifetime::Short {
            db.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
            db.pragma_update(None, "wal_autocheckpoint", 128)?;
        }
        migrate(&mut db)
            .with_context(|| format!("failed to prepare the run store `{}`", path.display()))?;
        Ok(SqliteStore {
            dir: dir.to_owned(),
            liveness: Liveness::new(dir),
            db: Mutex::new(db),
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

    /// Inserts a batch of events in one transaction; see [`Store::enqueue_all`].
    fn insert_events(db: &Connection, events: &[Event]) -> anyhow::Result<Vec<Enqueued>> {
        let tx = WriteTx::begin(db)?;
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
                "INSERT INTO runs (id, integration, trigger, params, status, started_at, trigger_data, dedupe_key, from_queue)
                 VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6, ?7, 1)",
            )?
            .execute(params![
                    run.id,
                    run.integration,
                    run.trigger,
                    run.params.to_string(),
                    timestamp(run.started_at),
                    trigger_data,
                    dedupe.as_ref().map(|d| &d.key)
            ])?;
            answers.push(Enqueued::New(run.id.clone()));
        }
        tx.commit()?;
        Ok(answers)
    }

    /// Runs `batch` (which removes up to the limit it is given and says how many it removed),
    /// each in its own transaction, until it removes fewer than a batch or `budget` is spent.
    /// The store's lock is let go between batches, for the runs and events waiting for it.
    fn prune_batches(
        &self,
        budget: &mut u64,
        batch: impl Fn(&Connection, u64) -> rusqlite::Result<u64>,
    ) -> anyhow::Result<u64> {
        let mut total = 0;
        while *budget > 0 {
            let limit = PRUNE_BATCH.min(*budget);
            let db = self.db();
            let tx = WriteTx::begin(&db)?;
            let removed = batch(&tx, limit)?;
            tx.commit()?;
            total += removed;
            *budget -= removed.min(*budget);
            if removed < limit {
                break;
            }
        }
        Ok(total)
    }

    /// Queues again the failed or interrupted runs from the queue whose `column` is `value`.
    fn requeue_where(&self, column: &'static str, value: &str) -> anyhow::Result<u64> {
        let db = self.db();
        let tx = WriteTx::begin(&db)?;
        let which =
            format!("{column} = ?1 AND from_queue = 1 AND status IN ('failed', 'interrupted')");
        // The attempt that failed keeps its log: the next one writes the run's own.
        tx.execute(
            &format!(
                "INSERT INTO attempts (run_id, attempt, started_at, ended_at, error, log)
                 SELECT id, (SELECT count(*) + 1 FROM attempts WHERE run_id = runs.id),
                        coalesce(ran_at, started_at), ended_at, error, log
                 FROM runs WHERE {which} AND ended_at IS NOT NULL"
            ),
            params![value],
        )?;
        let changed = tx.execute(
            &format!(
                "UPDATE runs SET status = 'queued', attempts = 0, next_attempt_at = NULL, ended_at = NULL
                 WHERE {which}"
            ),
            params![value],
        )?;
        tx.commit()?;
        Ok(changed as u64)
    }

    /// Marks every "running" run whose process is gone as interrupted; one taken from the
    /// queue goes back to it (an accepted event runs at least once).
    fn reap(&self, db: &Connection) -> anyhow::Result<()> {
        let mut statement = db.prepare_cached("SELECT id FROM runs WHERE status = 'running'")?;
        let ids: Vec<String> = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for id in ids {
            if self.liveness.is_alive(&id) {
                continue;
            }
            db.prepare_cached(
                "UPDATE runs SET
                     status = CASE WHEN from_queue = 1 THEN 'queued' ELSE 'interrupted' END,
                     ended_at = CASE WHEN from_queue = 1 THEN NULL ELSE ?2 END,
                     error = CASE WHEN from_queue = 1 THEN NULL
                         ELSE 'the process running it ended without finishing it (killed or crashed)' END
                 WHERE id = ?1 AND status = 'running'",
            )?
            .execute(params![id, timestamp(Utc::now())])?;
            self.liveness.forget(&id);
        }
        Ok(())
    }
}

/// Opens `path` for writing, creating it readable by its owner only (0600); an existing file
/// is neither truncated nor changed.
/// A write transaction whose BEGIN, COMMIT and ROLLBACK are cached statements: rusqlite's
/// own transaction parses each of them again at every call, and the listener makes thousands
/// a second. Dropped without a commit (an error on the way, a failed COMMIT), it rolls back.
struct WriteTx<'c> {
    db: &'c Connection,
    committed: bool,
}

impl<'c> WriteTx<'c> {
    fn begin(db: &'c Connection) -> rusqlite::Result<Self> {
        db.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        Ok(WriteTx {
            db,
            committed: false,
        })
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        self.db.prepare_cached("COMMIT")?.execute([])?;
        self.committed = true;
        Ok(())
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.db
    }
}

impl Drop for WriteTx<'_> {
    fn drop(&mut self) {
        if !self.committed {
            let _ = self
                .db
                .prepare_cached("ROLLBACK")
                .and_then(|mut rollback| rollback.execute([]));
        }
    }
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
    if version < 5 {
        tx.execute_batch(SCHEMA_V5)?;
    }
    if version < 6 {
        tx.execute_batch(SCHEMA_V6)?;
    }
    if version < 7 {
        tx.execute_batch(SCHEMA_V7)?;
    }
    if version < 8 {
        tx.execute_batch(SCHEMA_V8)?;
    }
    if version < 9 {
        tx.execute_batch(SCHEMA_V9)?;
    }
    if version < 10 {
        tx.execute_batch(SCHEMA_V10)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

impl History for SqliteStore {
    fn begin_run(&self, run: &NewRun) -> anyhow::Result<Lease> {
        // Lock first, insert second: a reader never sees a running row without a live lock.
        let alive = self.liveness.mark(&run.id)?;
        self.db().execute(
            "INSERT INTO runs (id, integration, trigger, params, status, started_at, ran_at, dry_run, attempts,
                               window_start, window_end)
             VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?5, ?6, 1, ?7, ?8)",
            params![
                run.id,
                run.integration,
                run.trigger,
                run.params.to_string(),
                timestamp(run.started_at),
                run.dry_run,
                run.window.map(|w| timestamp(w.start)),
                run.window.map(|w| timestamp(w.end)),
            ],
        )?;
        Ok(alive)
    }

    fn finish_run(&self, id: &str, end: RunEnd) -> anyhow::Result<()> {
        let db = self.db();
        let tx = WriteTx::begin(&db)?;
        let now = timestamp(Utc::now());
        let ran_at = end.ran_at.map(timestamp);
        let (integration, dry_run): (String, bool) = if end.status == RunStatus::Queued {
            // Back to the queue: the attempt that ended keeps its log apart.
            let found: (String, bool) = tx
                .prepare_cached(
                    "UPDATE runs SET status = 'queued', error = ?2, next_attempt_at = coalesce(?3, next_attempt_at)
                     WHERE id = ?1 RETURNING integration, dry_run",
                )?
                .query_row(params![id, end.error, end.retry_at.map(timestamp)], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .with_context(|| format!("failed to find run {id} in the store"))?;
            if let Some(ran_at) = &ran_at {
                tx.prepare_cached(
                    "INSERT INTO attempts (run_id, attempt, started_at, ended_at, error, log)
                     VALUES (?1, (SELECT count(*) + 1 FROM attempts WHERE run_id = ?1), ?2, ?3, ?4, ?5)",
                )?
                .execute(params![id, ran_at, now, end.error, end.log])?;
            }
            found
        } else {
            tx.prepare_cached(
                "UPDATE runs SET status = ?2, ended_at = ?3, error = ?4, log = ?5, output = ?6,
                     output_cut = ?7, ran_at = coalesce(?8, ran_at)
                 WHERE id = ?1 RETURNING integration, dry_run",
            )?
            .query_row(
                params![
                    id,
                    end.status.as_str(),
                    now,
                    end.error,
                    end.log,
                    end.output.text,
                    i64::try_from(end.output.cut).unwrap_or(i64::MAX),
                    ran_at
                ],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .with_context(|| format!("failed to find run {id} in the store"))?
        };
        if let (RunStatus::Succeeded, Some(until), false) = (end.status, end.advance_to, dry_run) {
            // Only forward: a backfill of an old period never moves it back.
            tx.prepare_cached(
                "INSERT INTO watermarks (integration, covered_until, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (integration) DO UPDATE SET covered_until = max(covered_until, ?2), updated_at = ?3",
            )?
            .execute(params![integration, timestamp(until), now])?;
        }
        tx.commit()?;
        Ok(())
    }

    fn runs(&self, query: &RunQuery) -> anyhow::Result<Vec<RunRecord>> {
        let db = self.db();
        self.reap(&db)?;
        // One statement per shape, each walking its index from the newest run: with
        // `?1 IS NULL OR …` SQLite could use neither index and would sort every run.
        let (index, name) = match &query.integration {
            Some(_) => ("runs_by_integration", "integration = ?1"),
            None => ("runs_by_start", "?1 IS NULL"),
        };
        let mut statement = db.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM runs INDEXED BY {index}
             WHERE {name} AND (?2 = 0 OR status IN ('failed', 'interrupted'))
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
            "SELECT {COLUMNS}, log, output, output_cut FROM runs
             WHERE id = ?1 OR (length(?1) >= 4 AND substr(id, 1, length(?1)) = ?1)
             ORDER BY id LIMIT 5"
        ))?;
        let mut found: Vec<RunRecord> = statement
            .query_map(params![id_or_prefix], |row| {
                let mut run = record(row)?;
                run.log = row.get(COLUMN_COUNT)?;
                run.output = RunOutput {
                    text: row.get(COLUMN_COUNT + 1)?,
                    cut: row.get::<_, i64>(COLUMN_COUNT + 2)?.unsigned_abs(),
                };
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

    fn attempts(&self, id: &str) -> anyhow::Result<Vec<Attempt>> {
        let db = self.db();
        let mut statement = db.prepare_cached(
            "SELECT attempt, started_at, ended_at, error, log FROM attempts
             WHERE run_id = ?1 ORDER BY attempt",
        )?;
        let rows = statement.query_map(params![id], |row| {
            Ok((
                row.get::<_, u32>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, String>(4)?,
            ))
        })?;
        let mut attempts = Vec::new();
        for row in rows {
            let (number, started_at, ended_at, error, log) = row?;
            attempts.push(Attempt {
                number,
                started_at: parse_timestamp(&started_at)?,
                ended_at: parse_timestamp(&ended_at)?,
                error,
                log,
            });
        }
        Ok(attempts)
    }

    fn last_runs(&self) -> anyhow::Result<BTreeMap<String, RunRecord>> {
        let db = self.db();
        self.reap(&db)?;
        // Each integration's newest run through its index: with a long history (a busy
        // webhook) the cost grows with the number of integrations, not of runs.
        let integrations = integrations_stored(&db)?;
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

    fn prune(&self, prune: &Prune) -> anyhow::Result<Pruned> {
        let integrations = integrations_stored(&self.db())?;
        let mut pruned = Pruned::default();
        let mut budget = prune.budget.unwrap_or(u64::MAX);
        for integration in integrations {
            let keep = prune
                .integrations
                .get(&integration)
                .copied()
                .unwrap_or(prune.others);
            let (runs_before, keys_before) = prune_bounds(keep);
            let bounds = params![integration, runs_before, keys_before];
            let counts = if prune.dry_run {
                let db = self.db();
                let count = |sql: &str| -> rusqlite::Result<u64> {
                    db.prepare_cached(sql)?
                        .query_row(bounds, |row| row.get::<_, i64>(0))
                        .map(i64::unsigned_abs)
                };
                PrunedCounts {
                    runs: count(&format!("SELECT count(*) FROM runs WHERE {PRUNABLE}"))?,
                    keys: count(&format!(
                        "SELECT count(*) FROM runs WHERE {FREEABLE}
                         AND id NOT IN (SELECT id FROM runs WHERE {PRUNABLE})"
                    ))?,
                }
            } else {
                // Runs first, then the keys of the runs kept: each is counted once.
                let runs = self.prune_batches(&mut budget, |db, limit| {
                    let ids: Vec<String> = db
                        .prepare_cached(&format!(
                            "SELECT id FROM runs WHERE {PRUNABLE} LIMIT {limit}"
                        ))?
                        .query_map(bounds, |row| row.get(0))?
                        .collect::<Result<_, _>>()?;
                    for id in &ids {
                        db.prepare_cached("DELETE FROM attempts WHERE run_id = ?1")?
                            .execute(params![id])?;
                        db.prepare_cached("DELETE FROM runs WHERE id = ?1")?
                            .execute(params![id])?;
                    }
                    Ok(ids.len() as u64)
                })?;
                let keys = self.prune_batches(&mut budget, |db, limit| {
                    let freed = db
                        .prepare_cached(&format!(
                            "UPDATE runs SET dedupe_key = NULL
                             WHERE rowid IN (SELECT rowid FROM runs WHERE {FREEABLE} LIMIT {limit})"
                        ))?
                        .execute(bounds)?;
                    Ok(freed as u64)
                })?;
                PrunedCounts { runs, keys }
            };
            if counts != PrunedCounts::default() {
                pruned.integrations.insert(integration, counts);
            }
            if budget == 0 {
                pruned.more = true;
                break;
            }
        }
        Ok(pruned)
    }

    fn prune_due(&self, every: Duration) -> anyhow::Result<bool> {
        let now = Utc::now();
        let since =
            timestamp(now - chrono::Duration::from_std(every).unwrap_or(chrono::TimeDelta::MAX));
        let db = self.db();
        // A read first: the common answer (not due) takes no write lock.
        let last: Option<String> = db
            .prepare_cached("SELECT value FROM meta WHERE key = 'pruned_at'")?
            .query_row([], |row| row.get(0))
            .optional()?;
        if last.is_some_and(|last| last >= since) {
            return Ok(false);
        }
        // Claimed by one process only: another may have claimed it since the read.
        let claimed = db
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('pruned_at', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE value < ?2",
            )?
            .execute(params![timestamp(now), since])?;
        Ok(claimed == 1)
    }

    fn prune_unfinished(&self) -> anyhow::Result<()> {
        self.db()
            .prepare_cached("DELETE FROM meta WHERE key = 'pruned_at'")?
            .execute([])?;
        Ok(())
    }
}

impl RunSlots for SqliteStore {
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
}

impl Watermarks for SqliteStore {
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
}

impl Queue for SqliteStore {
    fn enqueue_all(&self, events: &[Event]) -> anyhow::Result<Vec<Enqueued>> {
        let db = self.db();
        // An acknowledged event must survive power loss, whatever the connection's level for
        // other writes: claims and results may be lost and redone (at least once), this not.
        db.prepare_cached("PRAGMA synchronous = FULL")?
            .execute([])?;
        let stored = Self::insert_events(&db, events);
        db.prepare_cached(SYNCHRONOUS)?.execute([])?;
        stored
    }

    fn claim(&self, ready: &dyn Fn(&str) -> bool) -> anyhow::Result<Option<Claimed>> {
        let db = self.db();
        let tx = WriteTx::begin(&db)?;
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
                "SELECT {COLUMNS}, trigger_data FROM runs WHERE id = ?1"
            ))?
            .query_row(params![id], |row| {
                let run = record(row)?;
                let attempts = run.attempts;
                Ok((run, row.get::<_, String>(COLUMN_COUNT)?, attempts))
            })
            .optional()?;
        let Some((mut run, trigger_data, attempts)) = next else {
            return Ok(None);
        };
        // Read back before it is taken: an event that cannot be read would otherwise go from
        // queued to running and back forever. It ends failed, with the reason.
        let trigger = serde_json::from_str(&trigger_data)
            .map_err(anyhow::Error::from)
            .and_then(|data| Trigger::from_stored(&run.trigger, data));
        let trigger = match trigger {
            Ok(trigger) => trigger,
            Err(err) => {
                tx.prepare_cached(
                    "UPDATE runs SET status = 'failed', ended_at = ?2, error = ?3 WHERE id = ?1",
                )?
                .execute(params![
                    run.id,
                    timestamp(Utc::now()),
                    format!("its trigger cannot be read back from the store: {err:#}")
                ])?;
                tx.commit()?;
                return Ok(None);
            }
        };
        // Lock first, mark running second, as in `begin_run`.
        let alive = self.liveness.mark(&run.id)?;
        tx.prepare_cached(
            "UPDATE runs SET status = 'running', attempts = attempts + 1 WHERE id = ?1",
        )?
        .execute(params![run.id])?;
        tx.commit()?;
        run.status = RunStatus::Running;
        Ok(Some(Claimed {
            run,
            trigger,
            attempt: attempts + 1,
            lease: alive,
        }))
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
/// The integrations with runs stored, through the index by integration (a skip scan): the cost
/// grows with the number of integrations, not of runs.
fn integrations_stored(db: &Connection) -> rusqlite::Result<Vec<String>> {
    db.prepare_cached(
        "WITH RECURSIVE names(name) AS (
             SELECT min(integration) FROM runs
             UNION ALL
             SELECT (SELECT min(integration) FROM runs WHERE integration > name)
             FROM names WHERE name IS NOT NULL
         )
         SELECT name FROM names WHERE name IS NOT NULL",
    )?
    .query_map([], |row| row.get(0))?
    .collect()
}

/// The bounds of a prune of one integration as the statements take them: `?2` (runs started
/// before it go; `''` keeps all) and `?3` (keys accepted before it are freed; `''` keeps them).
fn prune_bounds(keep: Keep) -> (String, String) {
    let bound = |at: Option<DateTime<Utc>>| at.map(timestamp).unwrap_or_default();
    (bound(keep.runs_since), bound(keep.keys_since))
}

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
        dry_run: row.get(8)?,
        attempts: row.get(9)?,
        ran_at: row
            .get::<_, Option<String>>(10)?
            .map(|t| parse_timestamp(&t))
            .transpose()
            .map_err(|e| bad(10, e))?,
        window: match (
            row.get::<_, Option<String>>(11)?,
            row.get::<_, Option<String>>(12)?,
        ) {
            (Some(start), Some(end)) => Some(Window {
                start: parse_timestamp(&start).map_err(|e| bad(11, e))?,
                end: parse_timestamp(&end).map_err(|e| bad(12, e))?,
            }),
            _ => None,
        },
        log: String::new(),
        output: RunOutput::default(),
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
    use super::SqliteStore;
    use crate::store::Lifetime;

    /// The conformance suite as a short-lived command opens the store, and as the listener.
    mod short {
        use super::SqliteStore;
        use crate::store::Lifetime;

        crate::store::conformance::suite!(|dir| SqliteStore::open(dir, Lifetime::Short).unwrap());
    }

    mod long {
        use super::SqliteStore;
        use crate::store::Lifetime;

        crate::store::conformance::suite!(|dir| SqliteStore::open(dir, Lifetime::Long).unwrap());
    }

    #[test]
    fn the_state_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt as _;

        use crate::store::{History as _, NewRun, RunSlots as _};

        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("new").join("integ");
        let store = SqliteStore::open(&dir, Lifetime::Short).unwrap();
        let _slot = store.lock("sync", 1, false).unwrap().expect("free");
        let run = NewRun {
            id: "0009-run".into(),
            integration: "sync".into(),
            trigger: "manual".into(),
            params: serde_json::json!({}),
            started_at: chrono::Utc::now(),
            dry_run: false,
            window: None,
        };
        let _run = store.begin_run(&run).unwrap();
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
    fn credentials_stored_by_earlier_versions_are_removed_when_the_store_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path(), Lifetime::Short).unwrap());
        let earlier = serde_json::json!({
            "kind": "webhook",
            "body": {"id": 1},
            "headers": {
                "authorization": "Bearer s3cret",
                "cookie": "sid=1",
                "x-raynetcrm-token": "t0ken",
                "x-hub-signature-256": "sha256=ab",
                "x-api-key": "k3y",
                "x-delivery": "d-1"
            },
            "query": {}
        });
        {
            let db = rusqlite::Connection::open(dir.path().join("integ.db")).unwrap();
            db.execute(
                "INSERT INTO runs (id, integration, trigger, params, status, started_at, trigger_data, from_queue)
                 VALUES ('old', 'hook', 'webhook', '{}', 'queued', '2026-11-01T00:00:00.000000Z', ?1, 1)",
                [earlier.to_string()],
            )
            .unwrap();
            // Back to version 6, as an earlier integ left it.
            db.execute_batch(
                "ALTER TABLE runs DROP COLUMN dry_run; ALTER TABLE runs DROP COLUMN ran_at;
                 ALTER TABLE runs DROP COLUMN output; ALTER TABLE runs DROP COLUMN output_cut;
                 DROP TABLE attempts; ALTER TABLE runs DROP COLUMN window_start;
                 ALTER TABLE runs DROP COLUMN window_end;",
            )
            .unwrap();
            db.pragma_update(None, "user_version", 6).unwrap();
        }
        let store = SqliteStore::open(dir.path(), Lifetime::Short).unwrap();
        let data: String = store
            .db()
            .query_row(
                "SELECT trigger_data FROM runs WHERE id = 'old'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        let data: serde_json::Value = serde_json::from_str(&data).unwrap();
        assert_eq!(data["headers"], serde_json::json!({"x-delivery": "d-1"}));
        assert_eq!(data["body"], serde_json::json!({"id": 1}));
    }

    #[test]
    fn a_stored_trigger_that_cannot_be_read_ends_the_run_failed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), Lifetime::Short).unwrap();
        crate::store::conformance::enqueue_one(&store, "bad", "hook");
        store
            .db()
            .execute(
                "UPDATE runs SET trigger_data = '{not json' WHERE id = 'bad'",
                [],
            )
            .unwrap();
        assert!(
            crate::store::Queue::claim(&store, &|_| true)
                .unwrap()
                .is_none(),
            "never taken"
        );
        let crate::store::RunLookup::Found(run) =
            crate::store::History::run(&store, "bad").unwrap()
        else {
            panic!("kept")
        };
        assert_eq!(run.status, crate::store::RunStatus::Failed);
        assert!(run.error.unwrap().contains("cannot be read back"));
    }
}
