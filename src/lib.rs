//! `integ` runs integrations — declared jobs that fetch, transform and push data, or run
//! commands — defined in `integrations.toml`. The same definition serves a run by hand, a run
//! from cron or a systemd timer, and (later) a run from a webhook.
//!
//! Data flows one way: command line ([`cli`]) → validated model ([`config`]) → execution
//! ([`engine`], [`steps`]) → output ([`output`]); [`store`] keeps what happened.

pub mod answer;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnostic;
pub mod door;
pub mod engine;
pub mod exit;
pub mod lifecycle;
pub mod listener;
pub mod loaded;
pub mod logging;
pub mod metrics;
pub mod observer;
pub mod output;
pub mod params;
pub mod queue;
pub mod run_log;
pub mod scope;
pub mod secrets;
pub mod signing;
pub mod steps;
pub mod store;
pub mod suggest;
pub mod template;
pub mod trigger;
pub mod usage;

pub use exit::ExitStatus;

use std::ffi::OsString;

use crate::cli::Cli;
use crate::diagnostic::Diagnostics;
use crate::output::{Printer, Verbosity};
use crate::usage::UsageError;

/// Runs `integ` with these arguments (the program name first) and returns how it ended.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitStatus {
    let cli = match Cli::parse_from_os(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitStatus::Usage
            } else {
                ExitStatus::Success
            };
        }
    };
    let verbosity = match (cli.global.quiet, cli.global.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, _) => Verbosity::Verbose,
    };
    let printer = Printer::new(verbosity, cli.global.color);
    let service = matches!(cli.command, cli::Command::ServeHook(_));
    logging::init(&cli.global, printer.color(), service);
    match commands::dispatch(cli, &printer) {
        Ok(status) => status,
        Err(err) => report(&printer, &err),
    }
}

/// Prints an error that ended a command and picks its exit code.
fn report(printer: &Printer, err: &anyhow::Error) -> ExitStatus {
    if let Some(diagnostics) = err.downcast_ref::<Diagnostics>() {
        printer.diagnostics(diagnostics);
        return ExitStatus::Usage;
    }
    if let Some(usage) = err.downcast_ref::<UsageError>() {
        printer.error(&usage.message, usage.hint.as_deref());
        return ExitStatus::Usage;
    }
    printer.error(&format!("{err:#}"), None);
    if store::StoreFailed::is_in(err) {
        return ExitStatus::Store;
    }
    ExitStatus::Failure
}
