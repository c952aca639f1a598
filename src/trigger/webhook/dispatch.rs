//! Runs the queued events. One dispatcher takes the next event that may run now — a worker is
//! free (`--workers`) and its integration runs fewer than its `concurrency` here — and hands it
//! to a task of its own. Events of a busy integration wait in the store without holding a
//! worker, so one slow integration cannot stall the others.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{Local, Utc};
use serde_json::Value;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use super::{Finished, Served, Shared, in_store};
use crate::engine::{self, RunContext, TriggerKind};
use crate::observer::{Observer, Stream};
use crate::run_log::RunLog;
use crate::store::{Claimed, Lease, RunStatus};

/// How often the store is looked at without being woken: for retries coming due, and events
/// queued by another process (`integ retry`).
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// How often a run waits to look again for a free slot held by another process (a cron run).
const SLOT_POLL: Duration = Duration::from_millis(250);

/// Runs of each integration going on in this process.
#[derive(Default)]
pub(super) struct Running(Arc<Mutex<HashMap<String, usize>>>);

impl Running {
    fn count(&self, integration: &str) -> usize {
        let running = self.0.lock().expect("running lock is never poisoned");
        running.get(integration).copied().unwrap_or(0)
    }

    /// Counts a run until the returned guard is dropped, however its task ends.
    fn start(&self, integration: &str) -> RunningGuard {
        let mut running = self.0.lock().expect("running lock is never poisoned");
        *running.entry(integration.to_owned()).or_default() += 1;
        RunningGuard {
            running: Arc::clone(&self.0),
            integration: integration.to_owned(),
        }
    }
}

pub(super) struct RunningGuard {
    running: Arc<Mutex<HashMap<String, usize>>>,
    integration: String,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let mut running = self.running.lock().expect("running lock is never poisoned");
        if let Some(count) = running.get_mut(&self.integration) {
            *count = count.saturating_sub(1);
        }
    }
}

/// Dispatches until `stop` turns true, then gives the runs going on `grace` to finish.
pub(super) async fn dispatch(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let workers = Arc::new(Semaphore::new(shared.listener.workers));
    let mut runs = JoinSet::new();
    'dispatch: loop {
        let worker = tokio::select! {
            worker = Arc::clone(&workers).acquire_owned() => worker.expect("the pool is never closed"),
            _ = stop.changed() => break,
        };
        let claimed = loop {
            if *stop.borrow() {
                break 'dispatch;
            }
            let served = shared.current();
            let ready_here = Arc::clone(&shared);
            // Only the dispatcher starts runs, so an integration found ready here is still
            // ready when its run starts: runs that end in between only make room.
            let claimed = in_store(&shared.listener.store, move |store| {
                store.claim(&|name| ready(&ready_here, &served, name))
            })
            .await;
            match claimed {
                Ok(Some(claimed)) => break claimed,
                Ok(None) => {}
                Err(err) => tracing::error!("failed to take a queued event: {err:#}"),
            }
            tokio::select! {
                _ = shared.queued.notified() => {}
                _ = tokio::time::sleep(LOOK_AGAIN) => {}
                _ = stop.changed() => {}
            }
        };
        let running = shared.running.start(&claimed.run.integration);
        let shared = Arc::clone(&shared);
        runs.spawn(async move {
            run_claimed(&shared, claimed).await;
            drop((running, worker));
            shared.queued.notify_one();
        });
        while runs.try_join_next().is_some() {}
    }
    // Stop taking events; the runs going on get the grace period. What is still queued stays
    // queued for the next start.
    if runs.is_empty() {
        return;
    }
    let grace = shared.listener.grace;
    let drained =
        tokio::time::timeout(grace, async { while runs.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            "{} runs still going after {}: they run again at the next start",
            runs.len(),
            humantime::format_duration(grace)
        );
    }
}

/// Whether an integration may start one more run now. One that is no longer in the file
/// waits, queued, until it is back (see `warn_unserved`).
fn ready(shared: &Shared, served: &Served, integration: &str) -> bool {
    served
        .config
        .integration(integration)
        .is_ok_and(|i| shared.running.count(integration) < i.concurrency)
}

/// Takes one of the integration's run slots, waiting while other processes hold them all.
async fn slot(shared: &Shared, integration: &str, concurrency: usize) -> Option<Lease> {
    loop {
        let name = integration.to_owned();
        match in_store(&shared.listener.store, move |store| {
            store.lock(&name, concurrency, false)
        })
        .await
        {
            Ok(Some(lease)) => return Some(lease),
            Ok(None) => tokio::time::sleep(SLOT_POLL).await,
            Err(err) => {
                // Running without the slot beats never running an accepted event.
                tracing::error!("failed to take a run slot of `{integration}`: {err:#}");
                return None;
            }
        }
    }
}

async fn run_claimed(shared: &Shared, claimed: Claimed) {
    let Claimed {
        run: record,
        trigger_data,
        attempt,
        lease,
    } = claimed;
    let served = shared.current();
    let config = &served.config;
    let store = &shared.listener.store;
    let Ok(integration) = config.integration(&record.integration) else {
        // Reloaded away between the claim and now: back to the queue, to wait until it is back.
        let id = record.id.clone();
        let error = format!("`{}` is no longer in the file", record.integration);
        let at = Utc::now();
        if let Err(err) = in_store(store, move |store| store.retry_later(&id, at, &error, "")).await
        {
            tracing::error!("run {}: failed to queue it again: {err:#}", record.id);
        }
        drop(lease);
        return;
    };
    let params: BTreeMap<String, Value> = match &record.params {
        Value::Object(map) => map.clone().into_iter().collect(),
        _ => BTreeMap::new(),
    };
    let run = RunContext {
        id: record.id.clone(),
        started_at: Local::now(),
        trigger: TriggerKind::Webhook,
        params,
        secrets: (*served.secrets).clone(),
        env: shared.env.clone(),
        dry_run: false,
        trigger_data,
        held: Vec::new(),
    };
    let log = RunLog::new(&run.secrets);
    // The integration's concurrency holds across processes, as for `integ run`: an event
    // waits for a slot rather than being skipped, since it was promised to run.
    let _slot = slot(shared, &integration.name, integration.concurrency).await;
    tracing::info!("run {} of `{}` started", run.id, integration.name);
    shared.metrics.running.inc();
    let waiter = shared
        .waiters
        .lock()
        .expect("waiters lock is never poisoned")
        .remove(&run.id);
    let observer = LogObserver::default();
    let result = engine::execute(config, integration, &run, &log, &observer).await;
    shared.metrics.running.dec();
    if let Some(waiter) = waiter {
        let output = observer
            .output
            .into_inner()
            .expect("output lock is never poisoned");
        let _ = waiter.send(Finished {
            error: result.as_ref().err().cloned(),
            output,
        });
    }
    let hook = integration.webhook.as_ref();
    let retries = hook.map_or(0, |h| h.retries);
    let id = run.id.clone();
    let text = log.text();
    let recorded = match result {
        Ok(()) => {
            shared.metrics.succeeded.inc();
            tracing::info!("run {} of `{}` succeeded", run.id, integration.name);
            in_store(store, move |store| {
                store.finish_run(&id, RunStatus::Succeeded, None, &text)
            })
            .await
        }
        Err(error) if attempt <= retries => {
            shared.metrics.retries.inc();
            let backoff = hook.map_or(Duration::from_secs(30), |h| h.backoff);
            let wait = backoff.saturating_mul(1 << (attempt - 1).min(16));
            tracing::warn!(
                "run {} of `{}` failed (attempt {attempt} of {}), trying again in {}: {error}",
                run.id,
                integration.name,
                retries + 1,
                humantime::format_duration(wait)
            );
            let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            in_store(store, move |store| {
                store.retry_later(&id, at, &error, &text)
            })
            .await
        }
        Err(error) => {
            shared.metrics.failed.inc();
            tracing::warn!(
                "run {} of `{}` failed after {attempt} attempts: {error}",
                run.id,
                integration.name
            );
            in_store(store, move |store| {
                store.finish_run(&id, RunStatus::Failed, Some(&error), &text)
            })
            .await
        }
    };
    if let Err(err) = recorded {
        tracing::error!("run {}: failed to record its end: {err:#}", run.id);
    }
    drop(lease);
}

/// Runs started by webhooks have nobody watching: their steps are logged at debug level, and
/// their output (what a terminal would show on stdout) is kept for `respond = "output"`.
#[derive(Default)]
struct LogObserver {
    output: Mutex<String>,
}

impl LogObserver {
    fn keep(&self, text: &str) {
        let mut output = self.output.lock().expect("output lock is never poisoned");
        // An answer is not a place for megabytes; the log has everything.
        if output.len() < 1 << 20 {
            output.push_str(text);
        }
    }
}

impl Observer for LogObserver {
    fn step_started(&self, label: &str, what: &str) {
        tracing::debug!("{label}: {what}");
    }

    fn output(&self, stream: Stream, line: &str) {
        if stream == Stream::Stdout {
            self.keep(line);
            self.keep("\n");
        }
    }

    fn step_finished(&self, _label: &str, _elapsed: Duration, _error: Option<&str>) {}

    fn data(&self, text: &str) {
        self.keep(text);
    }

    fn progress(&self, _label: &str, _unit: &str, _done: u64, _total: Option<u64>) {}
}
