//! `integ` runs integrations — declared jobs that fetch, transform and push data, or run
//! commands — defined in `integrations.toml`. The same definition serves a run by hand, a run
//! from cron or a systemd timer, and (later) a run from a webhook.
//!
//! Data flows one way: command line ([`cli`]) → validated model ([`config`]) → execution
//! ([`engine`], [`steps`]) → output ([`output`]); [`store`] keeps what happened.

mod answer;
mod backoff;
mod cli;
mod commands;
mod config;
mod diagnostic;
mod door;
mod engine;
mod exit;
mod json_time;
mod lifecycle;
mod listener;
mod loaded;
mod logging;
mod metrics;
mod notify;
mod observer;
mod output;
mod params;
mod queue;
mod retention;
mod run_log;
mod schedule;
mod scope;
mod secrets;
mod signing;
mod steps;
mod store;
mod suggest;
mod template;
mod trigger;
mod usage;
mod window;

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
    // An `INTEG_LOG` that shows info lines asks for what `-v` shows.
    let printer = match logging::init(&cli.global, printer.color(), service) {
        true if verbosity == Verbosity::Normal => {
            Printer::new(Verbosity::Verbose, cli.global.color)
        }
        _ => printer,
    };
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
