//! One run, whichever door started it: params resolved → redacted for the record → a run slot
//! taken (the overlap policy) → start recorded → steps executed → end recorded (status, error,
//! log) → on success, the door's watermark moved in the same write. `integ run`, the queue's
//! dispatcher and every later door go through here; none keeps a copy of the sequence. What
//! differs between doors is data in the [`Plan`]: how the start is recorded, what to do when
//! the integration is busy, and what a failure leads to.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Local, Utc};
use serde_json::Value;

use crate::backoff;
use crate::config::model::{Config, Integration, ParamDefault};
use crate::engine::{self, RunContext};
use crate::notify::{self, Ping};
use crate::observer::Observer;
use crate::params::{self, Prompt};
use crate::run_log::{Redactor, RunLog};
use crate::scope::DefaultScope;
use crate::store::{Lease, NewRun, RunEnd, RunQuery, RunStatus, Store, StoreFailed};
use crate::trigger::Trigger;
use crate::usage::UsageError;
use crate::window::Window;

/// How long a queued run waits between looks for a free slot that another process holds.
const SLOT_POLL: Duration = Duration::from_millis(250);

/// How often recording a run's end is tried before giving up (disk full, store locked).
const RECORD_ATTEMPTS: u32 = 8;

/// Where a run's params come from.
pub(crate) enum ParamInput<'a> {
    /// `-p NAME=VALUE` from a command line; a missing required one is asked for when `prompt`
    /// can ask.
    Assignments {
        given: &'a [(String, String)],
        prompt: &'a dyn Prompt,
    },
    /// Typed values a door took from its request (a webhook's `params` mapping).
    Mapped(BTreeMap<String, Value>),
}

/// A run's params: the given or mapped values checked against their types, defaults for the
/// rest, a missing required one refused (or asked for). Nothing has run when this fails.
pub(crate) fn resolve_params(
    config: &Config,
    integration: &Integration,
    input: ParamInput<'_>,
    now: DateTime<Local>,
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Value>, UsageError> {
    // Converting the environment for templates is most of the cost here: only a computed
    // default reads it.
    let computed = integration
        .params
        .iter()
        .any(|param| matches!(param.default, Some(ParamDefault::Template { .. })));
    let defaults = if computed {
        DefaultScope::at(now, env).context()
    } else {
        minijinja::Value::UNDEFINED
    };
    match input {
        ParamInput::Assignments { given, prompt } => {
            params::resolve(integration, given, &config.templates, &defaults, prompt)
        }
        ParamInput::Mapped(values) => {
            params::resolve_values(integration, values, &config.templates, &defaults)
        }
    }
}

/// How a run's start is recorded.
pub(crate) enum Start {
    /// A new run, recorded as running once it has its slot.
    New,
    /// A run taken from the queue, already marked running; `lease` keeps it alive. `slot` is
    /// one of its integration's run slots when the queue could take one with the run.
    Claimed {
        lease: Lease,
        attempt: u32,
        slot: Option<Lease>,
    },
}

/// What happens when every run slot of the integration is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenBusy {
    /// Record the run as skipped (`overlap = "skip"` or `"fail"`).
    Skip,
    /// Wait until a slot is free (`overlap = "wait"`, `--wait`).
    Wait,
    /// Look again every little while: a queued event was promised to run, and the process
    /// holding the slot may be another one (a cron run).
    Poll,
}

/// What a failed run leads to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OnFailure {
    /// Recorded as failed.
    Fail,
    /// Back to the queue, `retries` times, after an exponential backoff from `backoff`.
    Retry { retries: u32, backoff: Duration },
}

/// One run to carry out.
pub(crate) struct Plan<'a> {
    pub(crate) config: &'a Config,
    pub(crate) integration: &'a Integration,
    pub(crate) run: RunContext,
    pub(crate) start: Start,
    pub(crate) when_busy: WhenBusy,
    pub(crate) on_failure: OnFailure,
    /// What hides the run's secrets, when the door has one built already (the listener builds
    /// one per load); else it is built from the run's secrets.
    pub(crate) redactor: Option<Redactor>,
    /// Where the integration's watermark moves when the run succeeds (a scheduled run's
    /// window end), in the same write that records the success.
    pub(crate) advance_to: Option<DateTime<Utc>>,
    /// The run's window was decided from the watermark before the run had its slot: once it
    /// has it, the window starts where the watermark is then (see [`Covering`]).
    ///
    /// [`Covering`]: crate::door::schedule::Covering
    pub(crate) from_watermark: bool,
}

/// How a run went.
pub(crate) enum Outcome {
    /// Another run held every slot (`WhenBusy::Skip`); recorded as skipped.
    Skipped {
        message: String,
    },
    /// It waited for its slot, and the run before it covered its window: recorded as skipped.
    Covered {
        message: String,
    },
    /// Stopped before it had its slot: nothing ran, nothing is recorded.
    Cancelled {
        signal: &'static str,
    },
    Ended(Box<Ended>),
}

pub(crate) struct Ended {
    pub(crate) id: String,
    /// `Succeeded`, `Failed`, `Interrupted`, or `Queued` when it goes back for a retry.
    pub(crate) status: RunStatus,
    /// Redacted.
    pub(crate) error: Option<String>,
    /// Set when the run goes back to the queue: how long until it is tried again.
    pub(crate) retry_in: Option<Duration>,
    /// From its start (the slot taken) to its end.
    pub(crate) elapsed: chrono::Duration,
    pub(crate) log: RunLog,
}

/// A run's record as it starts: params with every secret of the file hidden.
pub(crate) fn new_run(integration: &Integration, run: &RunContext, log: &RunLog) -> NewRun {
    let params = serde_json::Value::Object(run.params.clone().into_iter().collect());
    NewRun {
        id: run.id.clone(),
        integration: integration.name.clone(),
        trigger: run.trigger.kind().to_owned(),
        params: log.redactor().redact_json(&params),
        started_at: run.started_at.with_timezone(&Utc),
        dry_run: run.dry_run,
        window: run.window,
    }
}

/// Carries out a run to its recorded end. `cancel` resolves (with a signal's name) when the
/// run is to stop: before it has its slot nothing is recorded; after, it is recorded as
/// interrupted. An error is the store's: the run's own failure is an [`Outcome`].
pub(crate) async fn carry_out(
    store: &Arc<dyn Store>,
    plan: Plan<'_>,
    observer: &dyn Observer,
    cancel: impl Future<Output = &'static str>,
) -> anyhow::Result<Outcome> {
    let Plan {
        config,
        integration,
        mut run,
        mut start,
        when_busy,
        on_failure,
        redactor,
        advance_to,
        from_watermark,
    } = plan;
    let log = match redactor {
        Some(redactor) => RunLog::hiding(redactor),
        None => RunLog::new(&run.secrets),
    };
    tokio::pin!(cancel);
    let ping = Ping::for_run(config, integration, &run, &log);

    let slot = match &mut start {
        Start::Claimed { slot, .. } if slot.is_some() => slot.take(),
        _ => tokio::select! {
            slot = take_slot(store, integration, when_busy) => slot?,
            signal = &mut cancel => return Ok(Outcome::Cancelled { signal }),
        },
    };
    let Some(slot) = slot else {
        let outcome = skipped(store, integration, &run, &log).await?;
        if let (Some(ping), Outcome::Skipped { message }) = (&ping, &outcome) {
            ping.skipped(&run.id, message, &log).await;
        }
        return Ok(outcome);
    };
    // A run that waited for its slot behind another run of the same window covers only what
    // that run left: nothing twice.
    if let (true, Some(until), Some(window)) = (from_watermark, advance_to, run.window.as_mut()) {
        let name = integration.name.clone();
        let watermark = in_store(store, move |s| s.watermark(&name)).await?;
        match watermark {
            Some(covered) if covered >= until => {
                let shown = match &integration.schedule {
                    Some(schedule) => schedule.shown(covered),
                    None => covered.to_rfc3339(),
                };
                let message = format!(
                    "nothing to cover: the run it waited for covered `{}` until {shown}",
                    integration.name
                );
                let record = new_run(integration, &run, &log);
                let recorded = message.clone();
                in_store(store, move |s| {
                    record_not_run(s, record, RunStatus::Skipped, &recorded)
                })
                .await?;
                return Ok(Outcome::Covered { message });
            }
            Some(covered) if covered > window.start => window.start = covered,
            _ => {}
        }
    }
    // The run starts once it has its slot: a wait for the lock is not part of it.
    run.started_at = Local::now();
    let (alive, attempt) = match start {
        Start::New => {
            let record = new_run(integration, &run, &log);
            (in_store(store, move |s| s.begin_run(&record)).await?, 1)
        }
        Start::Claimed { lease, attempt, .. } => (lease, attempt),
    };
    // The run's processes hold its slot and its liveness too: were integ killed, the next run
    // would still wait for them to end.
    run.held = [slot.fd(), alive.fd()].into_iter().flatten().collect();
    // The start ping goes beside the steps, so that a slow monitor does not hold them up; the
    // run waits for it before its end ping, which must come after it.
    let start_ping = async {
        if let Some(ping) = &ping {
            ping.start(&run.id, &log).await;
        }
    };
    let running = async {
        tokio::join!(
            engine::execute(config, integration, &run, &log, observer),
            start_ping
        )
        .0
    };
    let executed = tokio::select! {
        result = running => Ok(result),
        signal = &mut cancel => Err(signal),
    };
    let elapsed = Local::now() - run.started_at;
    let (status, error, retry_at, retry_in) = match executed {
        Ok(Ok(())) => (RunStatus::Succeeded, None, None, None),
        Ok(Err(error)) => match on_failure {
            OnFailure::Retry { retries, backoff } if attempt <= retries => {
                let wait = backoff::jittered(backoff, attempt - 1, Duration::MAX);
                let at =
                    Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
                (RunStatus::Queued, Some(error), Some(at), Some(wait))
            }
            _ => (RunStatus::Failed, Some(error), None, None),
        },
        Err(signal) => (
            RunStatus::Interrupted,
            Some(format!("interrupted by {signal}")),
            None,
            None,
        ),
    };
    // Notified before the end is recorded, so that what `on_failure` did is in the stored log.
    // A signal stops the notifying (the end is still recorded); an interrupted run's signal
    // has been heard already, and its ping is sent whole.
    let notifying = async {
        notify::on_failure(
            config,
            integration,
            &run,
            &log,
            observer,
            status,
            error.as_deref(),
        )
        .await;
        if let Some(ping) = &ping {
            ping.end(&run.id, status, &log).await;
        }
    };
    if status == RunStatus::Interrupted {
        notifying.await;
    } else {
        tokio::select! {
            () = notifying => {}
            _ = &mut cancel => {}
        }
    }
    let end = RunEnd {
        status,
        error,
        log: log.text(),
        output: log.output_kept(),
        ran_at: Some(run.started_at.with_timezone(&Utc)),
        retry_at,
        // A dry run made no writes: the period it covered is still to be covered.
        advance_to: advance_to.filter(|_| !run.dry_run && status == RunStatus::Succeeded),
    };
    let status = end.status;
    let error = end.error.clone();
    record_end(store, &run.id, end).await?;
    // The run's processes are gone and its end is recorded: now it may stop looking alive,
    // and another run may take the slot.
    drop(alive);
    drop(slot);
    Ok(Outcome::Ended(Box::new(Ended {
        id: run.id,
        status,
        error,
        retry_in,
        elapsed,
        log,
    })))
}

/// One of the integration's run slots, as `when_busy` says; `None` when busy and skipping.
async fn take_slot(
    store: &Arc<dyn Store>,
    integration: &Integration,
    when_busy: WhenBusy,
) -> anyhow::Result<Option<Lease>> {
    let name = integration.name.clone();
    let slots = integration.concurrency;
    loop {
        let name = name.clone();
        let wait = when_busy == WhenBusy::Wait;
        // A slot that cannot be taken (no file descriptors left, a broken state dir) is an
        // error, never a run without its slot.
        // Waiting for a slot blocks until another run ends: never on the runtime's thread, which
        // must stay free to hear a signal.
        let lease = if wait {
            in_store_apart(store, move |s| s.lock(&name, slots, true)).await?
        } else {
            in_store(store, move |s| s.lock(&name, slots, false)).await?
        };
        match (lease, when_busy) {
            (Some(lease), _) => return Ok(Some(lease)),
            (None, WhenBusy::Poll) => tokio::time::sleep(SLOT_POLL).await,
            (None, _) => return Ok(None),
        }
    }
}

/// Another run holds every slot: record the skip, naming the run that holds it when known.
async fn skipped(
    store: &Arc<dyn Store>,
    integration: &Integration,
    run: &RunContext,
    log: &RunLog,
) -> anyhow::Result<Outcome> {
    let name = integration.name.clone();
    let record = new_run(integration, run, log);
    let message = in_store(store, move |s| {
        let holder = s
            .runs(&RunQuery {
                integration: Some(name.clone()),
                limit: 20,
                ..RunQuery::default()
            })?
            .into_iter()
            .find(|r| r.status == RunStatus::Running)
            .map(|r| format!(" (run {})", r.id))
            .unwrap_or_default();
        let message = format!("`{name}` is already running{holder}");
        record_not_run(s, record, RunStatus::Skipped, &message)?;
        Ok(message)
    })
    .await?;
    Ok(Outcome::Skipped { message })
}

/// The record of a run of `integration` that did not run (nothing owed, a range left out, a
/// file that did not load).
pub(crate) fn not_run(integration: &str, trigger: &Trigger, window: Option<Window>) -> NewRun {
    NewRun {
        id: uuid::Uuid::now_v7().to_string(),
        integration: integration.to_owned(),
        trigger: trigger.kind().to_owned(),
        params: serde_json::json!({}),
        started_at: Utc::now(),
        dry_run: false,
        window,
    }
}

/// Records a run that did not run — skipped (busy, nothing owed), or failed before it could
/// start — with why as its error and its log.
pub(crate) fn record_not_run(
    store: &dyn Store,
    run: NewRun,
    status: RunStatus,
    why: &str,
) -> anyhow::Result<()> {
    let _alive = store.begin_run(&run)?;
    store.finish_run(
        &run.id,
        RunEnd {
            log: format!("{why}\n"),
            ..RunEnd::without_run(status, Some(why.to_owned()))
        },
    )
}

/// Records a run's end, trying again for a while when the store refuses (disk full, locked by
/// another process): a run left `running` would be taken for a crashed one and run again.
async fn record_end(store: &Arc<dyn Store>, id: &str, end: RunEnd) -> anyhow::Result<()> {
    let mut attempt = 0;
    loop {
        let (id_now, end_now) = (id.to_owned(), end.clone());
        match in_store(store, move |s| s.finish_run(&id_now, end_now)).await {
            Ok(()) => return Ok(()),
            Err(err) if attempt + 1 < RECORD_ATTEMPTS => {
                attempt += 1;
                let wait =
                    backoff::jittered(Duration::from_millis(200), attempt - 1, Duration::MAX);
                tracing::warn!(
                    "run {id}: failed to record its end (trying again in {}): {err:#}",
                    humantime::format_duration(wait)
                );
                tokio::time::sleep(wait).await;
            }
            Err(err) => {
                return Err(err.context(format!("failed to record the end of run {id}")));
            }
        }
    }
}

/// Runs a store call where it does not hold up the runtime: the store waits on the disk and on
/// other writers. On a runtime of one thread (`integ run`: one run, nothing else to serve) the
/// call is made right there, which spares a thread's start and a hand-over per call; on the
/// listener's it goes to the blocking pool.
pub(crate) async fn in_store<T: Send + 'static>(
    store: &Arc<dyn Store>,
    job: impl FnOnce(&dyn Store) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let flavor = tokio::runtime::Handle::current().runtime_flavor();
    if flavor == tokio::runtime::RuntimeFlavor::CurrentThread {
        return job(store.as_ref()).map_err(|err| StoreFailed(err).into());
    }
    in_store_apart(store, job).await
}

/// Runs a store call on the blocking pool, always: for a call that may wait as long as it takes.
async fn in_store_apart<T: Send + 'static>(
    store: &Arc<dyn Store>,
    job: impl FnOnce(&dyn Store) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let store = Arc::clone(store);
    match tokio::task::spawn_blocking(move || job(store.as_ref())).await {
        Ok(result) => result.map_err(|err| StoreFailed(err).into()),
        Err(err) => Err(StoreFailed(anyhow::anyhow!("a store task failed: {err}")).into()),
    }
}
