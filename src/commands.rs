//! One thin handler per subcommand: each glues the config, the domain and the printer.

pub(crate) mod check;
pub(crate) mod completions;
pub(crate) mod history;
pub(crate) mod init;
pub(crate) mod link;
pub(crate) mod list;
pub(crate) mod logs;
pub(crate) mod man;
pub(crate) mod prune;
pub(crate) mod retry;
pub(crate) mod run;
pub(crate) mod run_output;
pub(crate) mod schedule;
pub(crate) mod serve_hook;

use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{self, Config};
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::store::{self, RunStatus, Store};
use crate::trigger::Trigger;

pub(crate) fn dispatch(cli: Cli, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let global = &cli.global;
    match cli.command {
        Command::Run(args) => run::run(global, args, printer),
        Command::List(args) => list::list(global, &args, printer),
        Command::Check(args) => check::check(global, &args, printer),
        Command::History(args) => history::history(global, &args, printer),
        Command::Logs(args) => logs::logs(global, &args, printer),
        Command::Output(args) => run_output::output(global, &args, printer),
        Command::ServeHook(args) => serve_hook::serve_hook(global, &args, printer),
        Command::Retry(args) => retry::retry(global, &args, printer),
        Command::Prune(args) => prune::prune(global, &args, printer),
        Command::Link(args) => link::link(global, &args, printer),
        Command::Completions(args) => completions::completions(&args, printer),
        Command::Man(_) => man::man(printer),
        Command::Init(args) => init::init(&args, printer),
        Command::Schedule(args) => schedule::schedule(global, &args, printer),
    }
}

/// Finds and loads the integrations file; every command that needs it fails the same way.
pub(crate) fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    let path = config::locate(global.config.as_deref())?;
    config::load(&path)
}

/// The state directory of the integrations file in use (see [`store::default_state_dir`]).
/// Only the file's path counts, not its content: a file that no longer loads keeps its history.
pub(crate) fn state_dir(global: &GlobalArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &global.state_dir {
        return Ok(dir.clone());
    }
    let config = config::locate(global.config.as_deref())?;
    store::default_state_dir(&config)
}

/// Webhook events still queued in the state directory earlier versions shared, when `dir` is
/// not it: a listener on the new directory would never run them, and it accepted them.
pub(crate) fn events_left_behind(dir: &Path) -> Option<String> {
    let shared = store::shared_state_dir().filter(|shared| shared != dir)?;
    let queued: u64 = store::open(&shared, store::Lifetime::Short)
        .and_then(|old| old.queued())
        .ok()?
        .values()
        .sum();
    (queued > 0).then(|| {
        format!(
            "{queued} webhook events wait in `{0}`, the state directory earlier versions shared, and this listener does not run them: run them with `integ --state-dir {0} serve-hook`",
            shared.display()
        )
    })
}

fn open_store(global: &GlobalArgs) -> anyhow::Result<Box<dyn Store>> {
    store::open(&state_dir(global)?, store::Lifetime::Short)
}

/// Records a scheduled run of `name` that could not start (its file does not load, a secret is
/// missing) as failed with `err`, so `list` and `history --failed` show it: cron's mail may be
/// the only other trace, and a machine without a mail transfer agent drops even that. Its state
/// directory needs only the file's path. The error holds no secret values: secrets reach
/// templates only once a run starts.
pub(crate) fn record_unstarted(
    global: &GlobalArgs,
    name: &str,
    err: &anyhow::Error,
    printer: &Printer,
) {
    // Without a file, even a missing one named by `--config`, there is no project to record in.
    let Ok(dir) = state_dir(global) else {
        return;
    };
    let record = || -> anyhow::Result<()> {
        let store = store::open(&dir, store::Lifetime::Short)?;
        let run = crate::lifecycle::not_run(name, &Trigger::Schedule, None);
        let error = format!("did not start: {err:#}");
        crate::lifecycle::record_not_run(store.as_ref(), run, RunStatus::Failed, &error)
    };
    if let Err(record_err) = record() {
        printer.error(
            &format!("failed to record that `{name}` did not start: {record_err:#}"),
            None,
        );
    }
}

/// Local, second-precision time for tables.
fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A duration the way a person reads it: `85ms`, `4.2s`, `3m 12s`.
fn human_duration(duration: chrono::Duration) -> String {
    let millis = duration.num_milliseconds().max(0);
    match millis {
        0..1_000 => format!("{millis}ms"),
        1_000..60_000 => format!("{:.1}s", millis as f64 / 1000.0),
        _ => {
            let secs = millis / 1000;
            format!("{}m {}s", secs / 60, secs % 60)
        }
    }
}

/// A table without borders, like `ps` and `kubectl get`, its cells wrapped to fit the width
/// of the terminal (or `COLUMNS`); piped elsewhere, each row stays one line for `grep`.
fn table(header: &[&str]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(header.to_vec());
    if let Some(width) = output_width() {
        table
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(width);
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    // The first column names the row (an integration, a run): a name cut in two reads as two.
    if let Some(first) = table.column_mut(0) {
        first.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
    }
    table
}

/// `COLUMNS` when it is a number, else the width of the terminal stdout is, if it is one.
fn output_width() -> Option<u16> {
    let columns = std::env::var("COLUMNS").ok();
    match columns.and_then(|text| text.trim().parse::<u16>().ok()) {
        Some(width) if width > 0 => Some(width),
        _ => terminal_size::terminal_size_of(std::io::stdout()).map(|(width, _)| width.0),
    }
}

/// The table's text without the trailing spaces of its last column.
fn table_text(table: &comfy_table::Table) -> String {
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}
