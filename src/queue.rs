//! The door-neutral queue of the listener: events come in through [`Queue::submit`] and are
//! stored durably in groups (see `intake`); the dispatcher takes the next one that may run now —
//! a worker is free (`--workers`) and its integration runs fewer than its `concurrency` here —
//! and carries it out through the run lifecycle. Events of a busy integration wait in the store
//! without holding a worker, so one slow integration cannot stall the others. A request that
//! wants its run's output waits on it here.

mod intake;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::Local;
use serde_json::Value;
use tokio::sync::{Notify, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinSet;

use crate::config::model::Integration;
use crate::engine::RunContext;
use crate::lifecycle::{self, OnFailure, Outcome, Plan, Start, WhenBusy, in_store};
use crate::loaded::Loaded;
use crate::metrics::Metrics;
use crate::observer::{Observer, Stream};
use crate::store::{Claimed, Enqueued, Event, Lease, RunEnd, RunStatus, Store};
use crate::trigger::Trigger;

/// How often the store is looked at without being woken: for retries coming due, events
/// queued by another process (`integ retry`), and runs of a listener that died.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// Runs the dispatcher and the runs it starts on a thread of their own, with a runtime of one
/// thread: there, store calls are made on the spot (see `lifecycle::in_store`) instead of being
/// handed to the blocking pool and back, which cost about a third of the listener's CPU per
/// run. The listener's own runtime goes on answering requests. The receiver resolves when the
/// dispatcher is done (the runs it waited for ended or were given up).
pub(crate) fn run_apart(
    queue: Arc<Queue>,
    workers: usize,
    grace: Duration,
    doors: Arc<dyn Doors>,
    stop: watch::Receiver<bool>,
) -> anyhow::Result<oneshot::Receiver<()>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (done, finished) = oneshot::channel();
    std::thread::Builder::new()
        .name("integ-runs".into())
        .spawn(move || {
            runtime.block_on(queue.dispatch(workers, grace, doors, stop));
            // A run given up at the grace period leaves a blocking wait behind (a slot, a
            // pipe); the process is ending, so nothing of it is awaited.
            runtime.shutdown_background();
            let _ = done.send(());
        })?;
    Ok(finished)
}

/// What a door says about running one of its queued events: the params (mapped again from
/// the stored trigger, with the file now in force) and what a failure leads to.
pub(crate) struct Prepared {
    pub(crate) params: BTreeMap<String, Value>,
    pub(crate) on_failure: OnFailure,
}

/// The doors, as the queue needs them: each prepares the runs of its own triggers.
pub(crate) trait Doors: Send + Sync {
    fn prepare(
        &self,
        loaded: &Loaded,
        integration: &Integration,
        trigger: &Trigger,
    ) -> Result<Prepared, String>;
}

/// How a run that a request waits for ended.
pub(crate) struct Finished {
    pub(crate) error: Option<String>,
    pub(crate) output: String,
}

/// What a request that submits an event waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// Nothing: it is answered once the event is stored.
    No,
    /// The run's end and its output.
    End,
    /// The run's output as it comes, then its end.
    Live,
}

/// What [`Queue::submit`] did with an event.
pub(crate) enum Submitted {
    /// Stored; `output` resolves when the run ends, if the caller asked to wait for it; `live`
    /// gives its output as it comes (and ends with the run), if asked for.
    Queued {
        id: String,
        output: Option<oneshot::Receiver<Finished>>,
        live: Option<mpsc::UnboundedReceiver<String>>,
    },
    Duplicate(String),
}

/// A request waiting for its run.
struct Waiter {
    finished: oneshot::Sender<Finished>,
    live: Option<mpsc::UnboundedSender<String>>,
}

pub(crate) struct Queue {
    store: Arc<dyn Store>,
    /// The file in force; SIGHUP replaces it.
    current: RwLock<Arc<Loaded>>,
    intake: mpsc::Sender<intake::Ticket>,
    /// Wakes the dispatcher: an event was queued, a run ended, the file changed.
    wake: Notify,
    /// Runs of each integration going on in this process.
    running: Mutex<HashMap<String, usize>>,
    /// Requests waiting for their run's output, by run id.
    waiters: Mutex<HashMap<String, Waiter>>,
    metrics: Arc<Metrics>,
}

impl Queue {
    /// A queue over `store`, its intake started.
    pub(crate) fn start(
        store: Arc<dyn Store>,
        loaded: Loaded,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Arc<Queue>> {
        let (tickets, arrivals) = mpsc::channel(4 * intake::MAX_BATCH);
        intake::start(Arc::clone(&store), arrivals)?;
        Ok(Arc::new(Queue {
            store,
            current: RwLock::new(Arc::new(loaded)),
            intake: tickets,
            wake: Notify::new(),
            running: Mutex::new(HashMap::new()),
            waiters: Mutex::new(HashMap::new()),
            metrics,
        }))
    }

    pub(crate) fn current(&self) -> Arc<Loaded> {
        Arc::clone(&self.current.read().expect("loaded lock is never poisoned"))
    }

    /// Runs queued events with `loaded` from now on; those already queued keep their trigger.
    pub(crate) fn load(&self, loaded: Loaded) {
        *self.current.write().expect("loaded lock is never poisoned") = Arc::new(loaded);
        // Integrations may have come back or gained room.
        self.wake.notify_one();
    }

    /// Stores an event durably (with others that arrive meanwhile: group commit) and answers
    /// once it is on disk. As `wait` says, the answer carries receivers for the run's end and
    /// output.
    pub(crate) async fn submit(&self, event: Event, wait: Wait) -> Result<Submitted, String> {
        let id = event.run.id.clone();
        // A request that waits registers before its run can start.
        let (output, live) = match wait {
            Wait::No => (None, None),
            Wait::End | Wait::Live => {
                let (finished, receiver) = oneshot::channel();
                let (live, stream) = match wait {
                    Wait::Live => {
                        let (sender, stream) = mpsc::unbounded_channel();
                        (Some(sender), Some(stream))
                    }
                    _ => (None, None),
                };
                self.waiters().insert(id.clone(), Waiter { finished, live });
                (Some(receiver), stream)
            }
        };
        let (reply, answered) = oneshot::channel();
        let stored = match self.intake.send((event, reply)).await {
            Ok(()) => answered
                .await
                .unwrap_or_else(|_| Err("the intake stopped".to_owned())),
            Err(_) => Err("the intake stopped".to_owned()),
        };
        match stored {
            Ok(Enqueued::New(id)) => {
                self.wake.notify_one();
                Ok(Submitted::Queued { id, output, live })
            }
            Ok(Enqueued::Duplicate(earlier)) => {
                self.waiters().remove(&id);
                Ok(Submitted::Duplicate(earlier))
            }
            Err(err) => {
                self.waiters().remove(&id);
                Err(err)
            }
        }
    }

    /// The request that waited for run `id` gave up.
    pub(crate) fn stop_waiting(&self, id: &str) {
        self.waiters().remove(id);
    }

    fn waiters(&self) -> std::sync::MutexGuard<'_, HashMap<String, Waiter>> {
        self.waiters.lock().expect("waiters lock is never poisoned")
    }

    /// Runs of `integration` going on in this process.
    fn running_here(&self, integration: &str) -> usize {
        let running = self.running.lock().expect("running lock is never poisoned");
        running.get(integration).copied().unwrap_or(0)
    }

    /// Whether an integration may start one more run now. One that is no longer in the file
    /// waits, queued, until it is back.
    fn ready(&self, loaded: &Loaded, integration: &str) -> bool {
        loaded
            .config
            .integration(integration)
            .is_ok_and(|i| self.running_here(integration) < i.concurrency)
    }

    /// Dispatches with at most `workers` runs at once until `stop` turns true, then gives the
    /// runs going on `grace` to finish; what is still queued stays queued for the next start.
    pub(crate) async fn dispatch(
        self: Arc<Self>,
        workers: usize,
        grace: Duration,
        doors: Arc<dyn Doors>,
        mut stop: watch::Receiver<bool>,
    ) {
        let pool = Arc::new(Semaphore::new(workers));
        let mut runs = JoinSet::new();
        let mut recovered = std::time::Instant::now();
        'dispatch: loop {
            let worker = tokio::select! {
                worker = Arc::clone(&pool).acquire_owned() => worker.expect("the pool is never closed"),
                _ = stop.changed() => break,
            };
            let claimed = loop {
                if *stop.borrow() {
                    break 'dispatch;
                }
                let loaded = self.current();
                let queue = Arc::clone(&self);
                // Only the dispatcher starts runs, so an integration found ready here is still
                // ready when its run starts: runs that end in between only make room.
                // Runs taken by a listener that died (sharing this state dir) go back to the
                // queue within a second or so.
                let recover = recovered.elapsed() >= LOOK_AGAIN;
                if recover {
                    recovered = std::time::Instant::now();
                }
                let claimed = in_store(&self.store, move |store| {
                    if recover {
                        store.recover()?;
                    }
                    let Some(claimed) = store.claim(&|name| queue.ready(&loaded, name))? else {
                        return Ok(None);
                    };
                    // Its slot in the same trip to the store, when one is free now; else the
                    // run waits for one (a cron run holds it), and an error is the run's.
                    let name = &claimed.run.integration;
                    let slot = match loaded.config.integration(name) {
                        Ok(integration) => store
                            .lock(name, integration.concurrency, false)
                            .ok()
                            .flatten(),
                        Err(_) => None,
                    };
                    Ok(Some((claimed, slot)))
                })
                .await;
                match claimed {
                    Ok(Some(claimed)) => break claimed,
                    Ok(None) => {}
                    Err(err) => tracing::error!("failed to take a queued event: {err:#}"),
                }
                tokio::select! {
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(LOOK_AGAIN) => {}
                    _ = stop.changed() => {}
                }
            };
            let (claimed, slot) = claimed;
            let counted = Counted::start(&self, &claimed.run.integration);
            let queue = Arc::clone(&self);
            let doors = Arc::clone(&doors);
            runs.spawn(async move {
                queue.run_claimed(doors.as_ref(), claimed, slot).await;
                drop((counted, worker));
                queue.wake.notify_one();
            });
            while runs.try_join_next().is_some() {}
        }
        if runs.is_empty() {
            return;
        }
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

    async fn run_claimed(&self, doors: &dyn Doors, claimed: Claimed, slot: Option<Lease>) {
        let Claimed {
            run: record,
            trigger,
            attempt,
            lease,
        } = claimed;
        let loaded = self.current();
        let config = &loaded.config;
        let id = record.id.clone();
        let Ok(integration) = config.integration(&record.integration) else {
            // Reloaded away between the claim and now: back to the queue, to wait until it is
            // back.
            let error = format!("`{}` is no longer in the file", record.integration);
            let end = RunEnd {
                retry_at: Some(chrono::Utc::now()),
                ..RunEnd::without_run(RunStatus::Queued, Some(error))
            };
            self.put_back(&id, end).await;
            drop(lease);
            return;
        };
        let prepared = match doors.prepare(&loaded, integration, &trigger) {
            Ok(prepared) => prepared,
            Err(error) => {
                // The file changed so that this event can no longer run: say why, for good.
                tracing::warn!("run {id} of `{}` cannot run: {error}", integration.name);
                self.metrics.failed.inc();
                self.answer_waiter(&id, Some(error.clone()), String::new());
                let end = RunEnd::without_run(RunStatus::Failed, Some(error));
                self.put_back(&id, end).await;
                drop(lease);
                return;
            }
        };
        let plan = Plan {
            config,
            integration,
            run: RunContext {
                id: id.clone(),
                started_at: Local::now(),
                trigger,
                params: prepared.params,
                secrets: Arc::clone(&loaded.secrets),
                env: Arc::clone(&loaded.env),
                dry_run: false,
                window: None,
                held: Vec::new(),
            },
            start: Start::Claimed {
                lease,
                attempt,
                slot,
            },
            // The integration's concurrency holds across processes, as for `integ run`: an
            // event waits for a slot rather than being skipped, since it was promised to run.
            when_busy: WhenBusy::Poll,
            on_failure: prepared.on_failure,
            redactor: Some(loaded.redactor.clone()),
            advance_to: None,
            from_watermark: false,
        };
        tracing::info!("run {id} of `{}` started", integration.name);
        self.metrics.running.inc();
        // A request that follows the run live gets its output as it comes.
        let observer = Unwatched {
            live: self.waiters().get(&id).and_then(|w| w.live.clone()),
        };
        let outcome =
            lifecycle::carry_out(&self.store, plan, &observer, std::future::pending()).await;
        drop(observer);
        self.metrics.running.dec();
        let name = &integration.name;
        match outcome {
            Ok(Outcome::Ended(ended)) => {
                match (ended.status, &ended.error, ended.retry_in) {
                    (RunStatus::Succeeded, _, _) => {
                        self.metrics.succeeded.inc();
                        tracing::info!("run {id} of `{name}` succeeded");
                    }
                    (RunStatus::Queued, Some(error), Some(wait)) => {
                        self.metrics.retries.inc();
                        tracing::warn!(
                            "run {id} of `{name}` failed (attempt {attempt}), trying again in {}: {error}",
                            humantime::format_duration(wait)
                        );
                    }
                    (_, error, _) => {
                        self.metrics.failed.inc();
                        tracing::warn!(
                            "run {id} of `{name}` failed after {attempt} attempts: {}",
                            error.as_deref().unwrap_or("no reason given")
                        );
                    }
                }
                self.answer_waiter(&id, ended.error, ended.log.output_kept().text);
            }
            Ok(Outcome::Skipped { .. } | Outcome::Covered { .. } | Outcome::Cancelled { .. }) => {
                unreachable!("a queued run polls for its slot and is never cancelled")
            }
            Err(err) => tracing::error!("run {id} of `{name}`: {err:#}"),
        }
    }

    /// Records a queued run's end that the lifecycle did not reach.
    async fn put_back(&self, id: &str, end: RunEnd) {
        let id = id.to_owned();
        let shown = id.clone();
        if let Err(err) = in_store(&self.store, move |store| store.finish_run(&id, end)).await {
            tracing::error!("run {shown}: failed to record it: {err:#}");
        }
    }

    fn answer_waiter(&self, id: &str, error: Option<String>, output: String) {
        if let Some(waiter) = self.waiters().remove(id) {
            let _ = waiter.finished.send(Finished { error, output });
        }
    }

    /// One run, by id, as the store has it (with its output).
    pub(crate) async fn run(&self, id: &str) -> anyhow::Result<crate::store::RunLookup> {
        let id = id.to_owned();
        in_store(&self.store, move |store| store.run(&id)).await
    }

    /// How many events wait, by integration.
    pub(crate) async fn waiting(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        in_store(&self.store, |store| store.queued()).await
    }
}

/// A run counted among its integration's runs here until dropped, however its task ends.
struct Counted {
    queue: Arc<Queue>,
    integration: String,
}

impl Counted {
    fn start(queue: &Arc<Queue>, integration: &str) -> Counted {
        let mut running = queue
            .running
            .lock()
            .expect("running lock is never poisoned");
        *running.entry(integration.to_owned()).or_default() += 1;
        Counted {
            queue: Arc::clone(queue),
            integration: integration.to_owned(),
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut running = self
            .queue
            .running
            .lock()
            .expect("running lock is never poisoned");
        if let Some(count) = running.get_mut(&self.integration) {
            *count = count.saturating_sub(1);
        }
    }
}

/// Queued runs have nobody watching: their steps are logged at debug level. What they write
/// for the person is kept with the run (its output), for a request that waits for it, and
/// relayed as it comes to a request that follows it live.
struct Unwatched {
    live: Option<mpsc::UnboundedSender<String>>,
}

impl Unwatched {
    /// Sends what `text` makes to the page watching, if one is: a run nobody watches (every
    /// webhook event) makes nothing.
    fn relay(&self, text: impl FnOnce() -> String) {
        if let Some(live) = &self.live {
            // A request that went away no longer listens: nothing to do.
            let _ = live.send(text());
        }
    }
}

impl Observer for Unwatched {
    fn step_started(&self, label: &str, what: &str) {
        tracing::debug!("{label}: {what}");
    }

    fn output(&self, stream: Stream, line: &str) {
        if stream == Stream::Stdout {
            self.relay(|| format!("{line}\n"));
        }
    }

    fn step_finished(&self, _label: &str, _elapsed: Duration, _error: Option<&str>) {}

    fn data(&self, text: &str) {
        self.relay(|| text.to_owned());
    }

    fn progress(&self, _label: &str, _unit: &str, _done: u64, _total: Option<u64>) {}
}
