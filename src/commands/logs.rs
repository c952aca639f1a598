//! `integ logs RUN_ID`: one run — what started it, with what, how it went — then the log of each
//! of its attempts.

use std::fmt::Write as _;

use crate::cli::{GlobalArgs, LogsArgs};
use crate::commands::{human_duration, local_time, open_store};
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::store::{Attempt, RunLookup, RunRecord, RunStatus, Store};
use crate::usage::UsageError;

pub(crate) fn logs(
    global: &GlobalArgs,
    args: &LogsArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let store = open_store(global)?;
    let run = find_run(store.as_ref(), &args.run_id)?;
    let earlier = store.attempts(&run.id)?;
    if run.status == RunStatus::Running {
        printer.warning(&format!(
            "run `{}` is still running: its log is stored when it ends",
            run.id
        ));
    }
    printer.data(&render(&run, &earlier));
    Ok(ExitStatus::Success)
}

/// The run with this id, or the one whose id starts so; a usage error otherwise.
pub(crate) fn find_run(store: &dyn Store, id: &str) -> anyhow::Result<RunRecord> {
    match store.run(id)? {
        RunLookup::Found(run) => Ok(*run),
        RunLookup::NotFound => Err(UsageError::new(format!("no run with id `{id}`"))
            .with_hint("`integ history` lists the runs".to_owned())
            .into()),
        RunLookup::Ambiguous(ids) => Err(UsageError::new(format!(
            "`{id}` is the start of several run ids: {}",
            ids.join(", ")
        ))
        .into()),
    }
}

/// The header, then each attempt's log under a line that says how it went.
fn render(run: &RunRecord, earlier: &[Attempt]) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(out, "{:<12} {value}", format!("{name}:"));
    };
    field("run", &run.id);
    field("integration", &run.integration);
    field("trigger", &run.trigger);
    field("params", &run.params.to_string());
    field("status", &run.status_text());
    field("started", &local_time(run.started_at));
    // A queued run waits for its turn before it runs: that wait is not its run time.
    let first_start = earlier
        .first()
        .map(|attempt| attempt.started_at)
        .or(run.ran_at);
    if let Some(first) = first_start
        && first > run.started_at
    {
        field("queued", &human_duration(first - run.started_at));
    }
    if let Some(duration) = run.duration() {
        field("duration", &human_duration(duration));
    }
    let attempts = earlier.len() + usize::from(run.ran_at.is_some());
    field("attempts", &attempts.to_string());
    if let Some(error) = &run.error {
        field("error", error);
    }
    if run.output.cut > 0 {
        field(
            "output",
            &format!(
                "{} bytes kept, {} more cut (see `integ output {}`)",
                run.output.text.len(),
                run.output.cut,
                run.id
            ),
        );
    }
    for attempt in earlier {
        let how = match &attempt.error {
            Some(error) => format!(
                "failed after {}: {error}",
                human_duration(attempt.ended_at - attempt.started_at)
            ),
            None => format!(
                "ended after {}",
                human_duration(attempt.ended_at - attempt.started_at)
            ),
        };
        let _ = writeln!(out, "\n--- attempt {} of {attempts}: {how}", attempt.number);
        out.push_str(&attempt.log);
    }
    if !earlier.is_empty() {
        let _ = writeln!(
            out,
            "\n--- attempt {attempts} of {attempts}: {}",
            run.status_text()
        );
    } else if !run.log.is_empty() {
        out.push('\n');
    }
    out.push_str(&run.log);
    out
}
