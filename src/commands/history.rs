//! `integ history [NAME]`: past runs, newest first, as a table or JSON.

use crate::cli::{GlobalArgs, HistoryArgs};
use crate::commands::{human_duration, local_time, state_dir, table, table_text};
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::store::{self, RunQuery};

pub(crate) fn history(
    global: &GlobalArgs,
    args: &HistoryArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let dir = state_dir(global)?;
    let store = store::open(&dir, store::Lifetime::Short)?;
    let runs = store.runs(&RunQuery {
        integration: args.name.clone(),
        failed_only: args.failed,
        limit: args.limit,
    })?;
    if args.json {
        printer.data(&serde_json::to_string_pretty(&runs)?);
        return Ok(ExitStatus::Success);
    }
    if runs.is_empty() {
        printer.status("no runs yet");
        // After an upgrade, the runs so far are in the directory all files used to share.
        if let Some(shared) = store::shared_state_dir().filter(|shared| *shared != dir) {
            printer.status(&format!(
                "runs recorded before state was kept per file are in `{0}`; see them with `--state-dir {0}`",
                shared.display()
            ));
        }
        return Ok(ExitStatus::Success);
    }
    // The window column only when a run listed covers one (a scheduled integration's).
    let windows = runs.iter().any(|run| run.window.is_some());
    let mut header = vec![
        "RUN",
        "INTEGRATION",
        "TRIGGER",
        "STATUS",
        "STARTED",
        "DURATION",
    ];
    if windows {
        header.push("WINDOW");
    }
    header.push("ERROR");
    let mut rows = table(&header);
    for run in &runs {
        let mut row = vec![
            run.id.clone(),
            run.integration.clone(),
            run.trigger.clone(),
            run.status_text(),
            local_time(run.started_at),
            run.duration().map(human_duration).unwrap_or_default(),
        ];
        if windows {
            row.push(
                run.window
                    .map(|w| format!("{} .. {}", local_time(w.start), local_time(w.end)))
                    .unwrap_or_default(),
            );
        }
        row.push(run.error.as_deref().map(first_line).unwrap_or_default());
        rows.add_row(row);
    }
    printer.data(&table_text(&rows));
    Ok(ExitStatus::Success)
}

/// Errors can be long; the table shows the start, `integ logs` the rest.
fn first_line(error: &str) -> String {
    let line = error.lines().next().unwrap_or_default();
    let mut chars = line.chars();
    let short: String = chars.by_ref().take(80).collect();
    if chars.next().is_some() {
        format!("{short}…")
    } else {
        short
    }
}
