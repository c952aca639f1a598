//! `integ run NAME`: gather params, take the overlap lock, record the run, execute it, report.

use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};

use chrono::{Local, Utc};
use serde_json::json;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::{GlobalArgs, RunArgs};
use crate::commands::{human_duration, load_config, open_store};
use crate::config::model::{Integration, Overlap, Param};
use crate::engine::{self, RunContext, TriggerKind};
use crate::exit::ExitStatus;
use crate::output::{Printer, Verbosity};
use crate::params::{self, Prompt};
use crate::run_log::RunLog;
use crate::secrets;
use crate::store::{NewRun, RunQuery, RunStatus, Store};
use crate::template;
use crate::usage::UsageError;

pub fn run(global: &GlobalArgs, args: RunArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let config = load_config(global)?;
    let integration = config.integration(&args.name)?;
    let given = params::split_assignments(&args.params)?;

    let secrets = secrets::read(&config, &integration.secrets_used).map_err(|problems| {
        UsageError::new(format!(
            "cannot run `{}`: {}",
            integration.name,
            problems.join("; ")
        ))
        .with_hint("run `integ check` to see every problem of the file".to_owned())
    })?;
    let started_at = Local::now();
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let default_context = template::context(&json!({
        "today": started_at.format("%Y-%m-%d").to_string(),
        "now": started_at.to_rfc3339(),
        "env": env,
    }));
    let prompt = TerminalPrompt {
        enabled: printer.can_prompt(),
    };
    let params = params::resolve(
        integration,
        &given,
        &config.templates,
        &default_context,
        &prompt,
    )?;

    let store = open_store(global)?;
    let trigger = if args.scheduled {
        TriggerKind::Schedule
    } else {
        TriggerKind::Manual
    };
    let mut run = RunContext {
        id: uuid::Uuid::now_v7().to_string(),
        started_at,
        trigger,
        params,
        secrets,
        env,
        dry_run: args.dry_run,
        trigger_data: json!({ "kind": trigger.as_str() }),
        held: Vec::new(),
    };
    let log = RunLog::new(&run.secrets);
    let wait = args.wait || integration.overlap == Overlap::Wait;
    let Some(_lock) = store.lock(&integration.name, integration.concurrency, wait)? else {
        return skipped(store.as_ref(), integration, &run, &log, printer);
    };

    let _alive = store.begin_run(&new_run(integration, &run, &log))?;
    run.held = [_lock.fd(), _alive.fd()].into_iter().flatten().collect();
    let observer = printer.run_observer();
    let ended = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let mut interrupt = signal(SignalKind::interrupt())?;
            let mut terminate = signal(SignalKind::terminate())?;
            anyhow::Ok(tokio::select! {
                result = engine::execute(&config, integration, &run, &log, &observer) => Ended::Finished(result),
                _ = interrupt.recv() => Ended::Interrupted("SIGINT"),
                _ = terminate.recv() => Ended::Interrupted("SIGTERM"),
            })
        })?;

    let elapsed = Local::now() - started_at;
    let (status, error, exit) = match ended {
        Ended::Finished(Ok(())) => (RunStatus::Succeeded, None, ExitStatus::Success),
        Ended::Finished(Err(error)) => (RunStatus::Failed, Some(error), ExitStatus::Failure),
        Ended::Interrupted(signal) => (
            RunStatus::Interrupted,
            Some(format!("interrupted by {signal}")),
            ExitStatus::Interrupted,
        ),
    };
    store.finish_run(&run.id, status, error.as_deref(), &log.text())?;

    match error {
        None => {
            if printer.watched() {
                let summary = log
                    .stats
                    .summary()
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default();
                printer.status(&format!(
                    "`{}` succeeded in {}{summary} (run {})",
                    integration.name,
                    human_duration(elapsed),
                    run.id
                ));
            }
        }
        Some(error) => {
            if printer.verbosity() == Verbosity::Quiet {
                // Nothing was shown while it ran: the log is what a cron mail needs.
                printer.failed_log(&log.text());
            }
            printer.error(
                &format!("run `{}` of `{}` failed: {error}", run.id, integration.name),
                Some(&format!("see the whole log with `integ logs {}`", run.id)),
            );
        }
    }
    Ok(exit)
}

enum Ended {
    Finished(Result<(), String>),
    Interrupted(&'static str),
}

fn new_run(integration: &Integration, run: &RunContext, log: &RunLog) -> NewRun {
    let params = serde_json::to_string(&run.params).unwrap_or_default();
    NewRun {
        id: run.id.clone(),
        integration: integration.name.clone(),
        trigger: run.trigger.as_str().to_owned(),
        // A param may hold a secret (typed in, or computed from one): history must not.
        params: serde_json::from_str(&log.redact(&params)).unwrap_or_default(),
        started_at: run.started_at.with_timezone(&Utc),
    }
}

/// Another run holds the lock: record the skip and say so (an error under `overlap = "fail"`).
fn skipped(
    store: &dyn Store,
    integration: &Integration,
    run: &RunContext,
    log: &RunLog,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let holder = store
        .runs(&RunQuery {
            integration: Some(integration.name.clone()),
            limit: 20,
            ..RunQuery::default()
        })?
        .into_iter()
        .find(|r| r.status == RunStatus::Running)
        .map(|r| format!(" (run {})", r.id))
        .unwrap_or_default();
    let message = format!("`{}` is already running{holder}", integration.name);
    drop(store.begin_run(&new_run(integration, run, log))?);
    store.finish_run(&run.id, RunStatus::Skipped, Some(&message), "")?;
    match integration.overlap {
        Overlap::Fail => printer.error(
            &message,
            Some("wait for it with `--wait`, or set `overlap = \"wait\"`"),
        ),
        Overlap::Skip | Overlap::Wait => printer.status(&format!("skipped: {message}")),
    }
    Ok(ExitStatus::Busy)
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
}
