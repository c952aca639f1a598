//! `integ run NAME`: the terminal's door. It gathers the params (asking on a terminal), hands
//! the run to the lifecycle, and tells the person (or cron) how it went.

use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};
use std::sync::Arc;

use chrono::{Local, Utc};
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{GlobalArgs, RunArgs};
use crate::commands::{human_duration, load_config, open_store, record_unstarted};
use crate::config::model::{Integration, Overlap, Param};
use crate::door::schedule::{self, Asked, Covering, Decision};
use crate::engine::RunContext;
use crate::exit::ExitStatus;
use crate::lifecycle::{self, Ended, OnFailure, Outcome, ParamInput, Plan, Start, WhenBusy};
use crate::output::{Printer, Verbosity};
use crate::params::{self, Prompt};
use crate::retention;
use crate::secrets;
use crate::store::{RunStatus, Store};
use crate::trigger::Trigger;
use crate::usage::UsageError;
use crate::window::Shown;

pub(crate) fn run(
    global: &GlobalArgs,
    args: RunArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    // A scheduled run that cannot start is recorded: nobody may read cron's mail.
    let unstarted = |err: anyhow::Error| {
        if args.scheduled {
            record_unstarted(global, &args.name, &err, printer);
        }
        err
    };
    let config = load_config(global).map_err(unstarted)?;
    let integration = config
        .integration(&args.name)
        .map_err(|err| unstarted(err.into()))?;
    let given = params::split_assignments(&args.params).map_err(|err| unstarted(err.into()))?;
    if let Some(field) = &integration.reads_request {
        let path = integration
            .webhook
            .as_ref()
            .map(|hook| format!(" (`POST /hooks/{}`)", hook.path))
            .unwrap_or_default();
        let err = UsageError::new(format!(
            "`{}` cannot run from here: its steps read `{field}`, which only a request to its webhook{path} has",
            integration.name
        ))
        .with_hint("start it with `integ serve-hook` and its webhook; give a run by hand what it needs as params".to_owned());
        return Err(unstarted(err.into()));
    }
    let secrets = secrets::for_run(&config, &integration.secrets_used).map_err(|problems| {
        unstarted(
            UsageError::new(format!(
                "cannot run `{}`: {}",
                integration.name,
                problems.join("; ")
            ))
            .with_hint("run `integ check` to see every problem of the file".to_owned())
            .into(),
        )
    })?;
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let prompt = TerminalPrompt {
        enabled: printer.can_prompt(),
    };
    let params = lifecycle::resolve_params(
        &config,
        integration,
        ParamInput::Assignments {
            given: &given,
            prompt: &prompt,
        },
        Local::now(),
        &env,
    )
    .map_err(|err| unstarted(err.into()))?;

    let store: Arc<dyn Store> = Arc::from(open_store(global)?);
    let name = &integration.name;
    let trigger = if args.scheduled {
        Trigger::Schedule
    } else {
        Trigger::Manual
    };
    let runs = match windows(&args, integration, &trigger, store.as_ref(), printer) {
        Ok(Ok(runs)) => runs,
        Ok(Err(status)) => return Ok(status),
        Err(err) => return Err(unstarted(err)),
    };
    let when_busy = if args.wait || integration.overlap == Overlap::Wait {
        WhenBusy::Wait
    } else {
        WhenBusy::Skip
    };
    let secrets = Arc::new(secrets);
    let env = Arc::new(env);
    let observer = printer.run_observer();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut status = ExitStatus::Success;
    for covering in runs {
        let plan = Plan {
            config: &config,
            integration,
            run: RunContext {
                id: uuid::Uuid::now_v7().to_string(),
                started_at: Local::now(),
                trigger: trigger.clone(),
                params: params.clone(),
                secrets: Arc::clone(&secrets),
                env: Arc::clone(&env),
                dry_run: args.dry_run,
                window: covering.map(|c| c.window),
                held: Vec::new(),
            },
            start: Start::New,
            when_busy,
            on_failure: OnFailure::Fail,
            redactor: None,
            advance_to: covering.and_then(|c| c.advance_to),
            from_watermark: covering.is_some_and(|c| c.from_watermark),
        };
        let outcome = runtime.block_on(async {
            let mut interrupt = signal(SignalKind::interrupt())?;
            let mut terminate = signal(SignalKind::terminate())?;
            let cancel = async move {
                tokio::select! {
                    _ = interrupt.recv() => "SIGINT",
                    _ = terminate.recv() => "SIGTERM",
                }
            };
            lifecycle::carry_out(&store, plan, &observer, cancel).await
        });
        status = match outcome? {
            Outcome::Skipped { message } => {
                match integration.overlap {
                    Overlap::Fail => printer.error(
                        &message,
                        Some("wait for it with `--wait`, or set `overlap = \"wait\"`"),
                    ),
                    // Under a scheduler a skip is recorded, never mailed.
                    Overlap::Skip | Overlap::Wait if args.scheduled => {}
                    Overlap::Skip | Overlap::Wait => {
                        printer.status(&format!("skipped: {message}"));
                    }
                }
                ExitStatus::Busy
            }
            // As when it was covered before it started: nothing owed, no failure.
            Outcome::Covered { message } => {
                if !args.scheduled {
                    printer.status(&message);
                }
                ExitStatus::Success
            }
            Outcome::Cancelled { signal } => {
                printer.error(
                    &format!("`{name}` did not start: {signal} while it waited for its turn"),
                    None,
                );
                ExitStatus::Interrupted
            }
            Outcome::Ended(ended) => report(printer, name, args.dry_run, &ended),
        };
        // Each window moves the watermark in turn: one that did not succeed stops the rest.
        if status != ExitStatus::Success {
            break;
        }
    }
    // A wait for the lock may still block a store thread; nothing of it is needed now.
    runtime.shutdown_background();
    // After the run has ended and been recorded, so it never waits for this; a dry run
    // changes nothing but its own record.
    if !args.dry_run
        && let Err(err) =
            retention::prune_if_due(store.as_ref(), &config, Some(retention::RUN_BUDGET))
    {
        tracing::warn!("failed to prune the history: {err:#}");
    }
    Ok(status)
}

/// The runs to make, one per window a scheduled integration covers (one without a window
/// otherwise); or, when no run is to be made (`--plan`, nothing owed, too much owed), how the
/// command ends, with that recorded.
fn windows(
    args: &RunArgs,
    integration: &Integration,
    trigger: &Trigger,
    store: &dyn Store,
    printer: &Printer,
) -> anyhow::Result<Result<Vec<Option<Covering>>, ExitStatus>> {
    let name = &integration.name;
    let decision = match &integration.schedule {
        Some(schedule) => {
            let asked = match (&args.from, &args.to) {
                (Some(from), Some(to)) => Asked::Backfill {
                    from,
                    to,
                    each: args.each,
                },
                _ if args.scheduled => Asked::Scheduled,
                _ => Asked::UpToNow,
            };
            let watermark = store.watermark(name)?;
            let decision = schedule::decide(name, schedule, asked, watermark, Utc::now())?;
            if args.plan {
                printer.data(&decision.plan(schedule, watermark));
                return Ok(Err(ExitStatus::Success));
            }
            Some(decision)
        }
        None if args.from.is_some() || args.plan => {
            return Err(UsageError::new(format!(
                "`{name}` has no `schedule`, so it has no windows to cover or plan"
            ))
            .with_hint(
                "`--from`, `--to`, `--each` and `--plan` are for integrations with a schedule"
                    .to_owned(),
            )
            .into());
        }
        None => None,
    };
    Ok(Ok(match decision {
        None => vec![None],
        Some(Decision::Covered { until }) => {
            let schedule = integration
                .schedule
                .as_ref()
                .expect("a decision has a schedule");
            let message = format!(
                "nothing to cover: `{name}` is covered until {}",
                schedule.shown(until)
            );
            lifecycle::record_not_run(
                store,
                lifecycle::not_run(name, trigger, None),
                RunStatus::Skipped,
                &message,
            )?;
            if !args.scheduled {
                printer.status(&message);
            }
            return Ok(Err(ExitStatus::Success));
        }
        Some(Decision::TooMany { message, hint }) => {
            lifecycle::record_not_run(
                store,
                lifecycle::not_run(name, trigger, None),
                RunStatus::Failed,
                &format!("{message}; {hint}"),
            )?;
            printer.error(&message, Some(&hint));
            return Ok(Err(ExitStatus::Failure));
        }
        Some(Decision::Run { runs, skipped }) => {
            if let Some(window) = skipped {
                let schedule = integration
                    .schedule
                    .as_ref()
                    .expect("a decision has a schedule");
                lifecycle::record_not_run(
                    store,
                    lifecycle::not_run(name, trigger, Some(window)),
                    RunStatus::Skipped,
                    &format!(
                        "not covered: `catch_up = \"latest\"` covers the last interval only, and leaves {}",
                        Shown(schedule, window)
                    ),
                )?;
            }
            runs.into_iter().map(Some).collect()
        }
    }))
}

/// Tells how a run that started ended: a summary for a person watching, the log and the error
/// for cron's mail.
fn report(printer: &Printer, name: &str, dry_run: bool, ended: &Ended) -> ExitStatus {
    let id = &ended.id;
    match (&ended.error, ended.status) {
        (None, _) => {
            if printer.watched() {
                let summary = ended
                    .log
                    .stats
                    .summary()
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default();
                let what = if dry_run {
                    "dry run succeeded (nothing was sent, run or written)"
                } else {
                    "succeeded"
                };
                printer.status(&format!(
                    "`{name}` {what} in {}{summary} (run {id})",
                    human_duration(ended.elapsed),
                ));
            }
            ExitStatus::Success
        }
        (Some(error), status) => {
            if printer.verbosity() == Verbosity::Quiet {
                // Nothing was shown while it ran: the log is what a cron mail needs.
                printer.failed_log(&ended.log.text());
            }
            printer.error(
                &format!("run `{id}` of `{name}` failed: {error}"),
                Some(&format!("see the whole log with `integ logs {id}`")),
            );
            if status == RunStatus::Interrupted {
                ExitStatus::Interrupted
            } else {
                ExitStatus::Failure
            }
        }
    }
}

/// Asks on the terminal for required params that were not given.
struct TerminalPrompt {
    enabled: bool,
}

impl Prompt for TerminalPrompt {
    fn ask(&self, param: &Param) -> Option<std::io::Result<String>> {
        if !self.enabled {
            return None;
        }
        let help = param
            .help
            .as_deref()
            .map(|h| format!(" — {h}"))
            .unwrap_or_default();
        eprint!("{} ({}){help}: ", param.name, param.kind.expected());
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        Some(match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "no answer (end of input)",
            )),
            Ok(_) => Ok(line.trim_end_matches(['\n', '\r']).to_owned()),
            Err(err) => Err(err),
        })
    }

    fn refused(&self, _param: &Param, why: &str) {
        eprintln!("{why}");
    }
}
