//! The engine: runs one integration's steps in order and reports how it went. It does not know
//! who started the run: manual runs, schedules, webhooks and links all call [`execute`] with a
//! [`RunContext`]; triggers only build that context.

mod flow;
mod unsent;

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::sync::Arc;

use chrono::{DateTime, Local};
use serde::Serialize;
use serde_json::Value;

use crate::config::model::{Config, Integration, Step};
use crate::observer::Observer;
use crate::run_log::RunLog;
use crate::scope::{FailedRunFields, RunFields, RunScope, WindowFields};
use crate::steps::StepScope;
use crate::steps::http::HttpClients;
use crate::template::context;
use crate::trigger::Trigger;
use crate::window::Window;

/// Everything one run needs besides the integration itself.
#[derive(Debug, Clone)]
pub(crate) struct RunContext {
    pub id: String,
    pub started_at: DateTime<Local>,
    pub trigger: Trigger,
    pub params: BTreeMap<String, Value>,
    /// Shared with the load they come from: a listener's runs do not copy them each.
    pub secrets: Arc<BTreeMap<String, String>>,
    pub env: Arc<BTreeMap<String, String>>,
    /// Make reads, show writes and commands without doing them.
    pub dry_run: bool,
    /// The period the run covers (a scheduled run's window, a backfill's), read as `window`.
    pub window: Option<Window>,
    /// The run's lock files, held by its commands' processes too (see `Lease::fd`).
    pub held: Vec<Arc<OwnedFd>>,
}

/// Runs `integration` to the end (or its timeout), writing to `log` as it goes; the error is
/// already redacted. Dropping the future cancels the run and kills whatever processes its steps
/// started; `log` keeps what happened until then.
pub(crate) async fn execute(
    config: &Config,
    integration: &Integration,
    run: &RunContext,
    log: &RunLog,
    observer: &dyn Observer,
) -> Result<(), String> {
    // Who clicked a link, and with which key, goes with the run's record.
    if let Trigger::Link(request) = &run.trigger {
        let from = request.remote.as_deref().unwrap_or("an unknown address");
        let key = request
            .key_id
            .as_deref()
            .map(|kid| format!(", signed with key `{kid}`"))
            .unwrap_or_default();
        log.line("run", ">", &format!("started by a link from {from}{key}"));
    }
    // The zone the window was read in goes with the run's record, as its first line.
    if let (Some(window), Some(schedule)) = (run.window, &integration.schedule) {
        log.line(
            "run",
            ">",
            &format!(
                "covers {} (zone {})",
                crate::window::Shown(schedule, window),
                schedule.zone_name()
            ),
        );
    }
    let steps_run = run_steps(
        config,
        &integration.steps,
        "step",
        run_scope(
            integration,
            run,
            RunFields {
                id: &run.id,
                started_at: crate::json_time::format(&run.started_at),
                trigger: run.trigger.kind(),
            },
        ),
        run,
        log,
        observer,
    );
    let result = match integration.timeout {
        Some(limit) => match tokio::time::timeout(limit, steps_run).await {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "timed out after {}",
                humantime::format_duration(limit)
            )),
        },
        None => steps_run.await,
    };
    if let Some(summary) = log.stats.summary() {
        log.line("run", ">", &summary);
    }
    result.map_err(|err| {
        let error = log.redact(&format!("{err:#}"));
        log.line("run", ">", &format!("failed: {error}"));
        error
    })
}

/// Runs a failed run's `on_failure` steps, writing to the run's `log` after its own lines;
/// `error` and `log_tail` are the run's, redacted. Their own failure is returned (redacted, and
/// logged) for the caller to note: it never changes how the run went.
pub(crate) async fn execute_on_failure(
    config: &Config,
    integration: &Integration,
    run: &RunContext,
    log: &RunLog,
    observer: &dyn Observer,
    error: &str,
    log_tail: &str,
) -> Result<(), String> {
    let fields = FailedRunFields {
        id: &run.id,
        started_at: crate::json_time::format(&run.started_at),
        trigger: run.trigger.kind(),
        error,
        log_tail,
    };
    let steps_run = run_steps(
        config,
        &integration.on_failure,
        "on_failure step",
        run_scope(integration, run, fields),
        run,
        log,
        observer,
    );
    // A notification that hangs must not keep the failed run from ending: it gets the run's
    // own time limit again.
    let result = match integration.timeout {
        Some(limit) => match tokio::time::timeout(limit, steps_run).await {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "`on_failure` timed out after {}",
                humantime::format_duration(limit)
            )),
        },
        None => steps_run.await,
    };
    result.map_err(|err| {
        let error = log.redact(&format!("{err:#}"));
        log.line("run", ">", &format!("warning: {error}"));
        error
    })
}

/// What templates see of the run itself, `fields` as its `run`, converted once; each step adds
/// the results so far.
fn run_scope(
    integration: &Integration,
    run: &RunContext,
    fields: impl Serialize,
) -> minijinja::Value {
    context(&RunScope {
        params: &run.params,
        env: &run.env,
        secrets: &run.secrets,
        run: fields,
        trigger: run.trigger.scope(),
        window: run.window.map(|window| {
            let schedule = integration
                .schedule
                .as_ref()
                .expect("validated: only an integration with a schedule has a window");
            WindowFields {
                start: schedule.local(window.start).to_rfc3339(),
                end: schedule.local(window.end).to_rfc3339(),
            }
        }),
        today: crate::scope::today(run.started_at),
        now: crate::scope::now(run.started_at),
    })
}

/// Runs `steps` in order, each labelled `{kind} N` (`step 2`), with `run_scope` and the results
/// so far.
async fn run_steps(
    config: &Config,
    steps: &[Step],
    kind: &str,
    run_scope: minijinja::Value,
    run: &RunContext,
    log: &RunLog,
    observer: &dyn Observer,
) -> anyhow::Result<()> {
    let http = HttpClients::default();
    let mut results: BTreeMap<String, Value> = BTreeMap::new();
    let mut index = 0;
    while index < steps.len() {
        let step = &steps[index];
        // The steps that take this step's records run with it, page by page.
        let consumers: Vec<(usize, &Step)> = match &step.id {
            Some(id) => steps[index + 1..]
                .iter()
                .take_while(|later| later.consumes() == Some(id))
                .enumerate()
                .map(|(offset, later)| (index + 1 + offset, later))
                .collect(),
            None => Vec::new(),
        };
        let label = format!("{kind} {}", step.label(index));
        let base =
            minijinja::context! { steps => unsent::steps_context(&results), ..run_scope.clone() };
        let rate = flow::rate_limiter(step);
        let scope = StepScope {
            templates: &config.templates,
            dir: &config.dir,
            context: base.clone(),
            params: &run.params,
            label: &label,
            log,
            observer,
            http: &http,
            rate: rate.as_ref(),
            dry_run: run.dry_run,
            log_requests: true,
            inherit: &run.held,
        };
        let started = std::time::Instant::now();
        let result = if consumers.is_empty() {
            flow::run_step(step, &scope)
                .await
                .map(|value| vec![(index, value)])
        } else {
            flow::run_source(step, &scope, &consumers).await
        };
        let elapsed = started.elapsed();
        match result {
            Ok(values) => {
                observer.step_finished(&label, elapsed, None);
                for (position, value) in values {
                    if let Some(id) = &steps[position].id {
                        results.insert(id.clone(), value);
                    }
                }
            }
            Err(err) => {
                let message = log.redact(&format!("{err:#}"));
                observer.step_finished(&label, elapsed, Some(&message));
                return Err(err.context(format!("{label} failed")));
            }
        }
        index += 1 + consumers.len();
    }
    Ok(())
}
