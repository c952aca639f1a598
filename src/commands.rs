//! One thin handler per subcommand: each glues the config, the domain and the printer.

pub(crate) mod check;
pub(crate) mod history;
pub(crate) mod list;
pub(crate) mod logs;
pub(crate) mod retry;
pub(crate) mod run;
pub(crate) mod run_output;
pub(crate) mod serve_hook;

use std::path::Path;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::config::{self, Config};
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::store::{self, Store};

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
    }
}

/// Finds and loads the integrations file; every command that needs it fails the same way.
pub(crate) fn load_config(global: &GlobalArgs) -> anyhow::Result<Config> {
    let path = config::locate(global.config.as_deref())?;
    config::load(&path)
}

fn open_store(global: &GlobalArgs) -> anyhow::Result<Box<dyn Store>> {
    let dir = store::state_dir(global.state_dir.as_deref())?;
    store::open(Path::new(&dir), store::Lifetime::Short)
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

/// A table without borders, like `ps` and `kubectl get`.
fn table(header: &[&str]) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(header.to_vec());
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    table
}

/// The table's text without the trailing spaces of its last column.
fn table_text(table: &comfy_table::Table) -> String {
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}
