//! tracing to stderr: `-v`/`-vv` or an `INTEG_LOG` filter, text or JSON lines, and no timestamps
//! when journald (which adds its own) is the reader.
//!
//! `-v` and `-vv` show integ's own info and debug lines (libraries stay at warnings);
//! `INTEG_LOG` is a full `EnvFilter`: `debug` shows every crate's debug lines, `integ=debug`
//! only integ's, and it wins over `-v`.

use tracing::Level;
use tracing_subscriber::EnvFilter;

use crate::cli::{GlobalArgs, LogFormat};

/// The variable that holds a filter.
const VARIABLE: &str = "INTEG_LOG";

/// `service`: a long-lived listener, whose journal should say what it did with each event
/// (info by default; `-q` leaves warnings). A command run by hand or by cron stays quiet.
///
/// Returns whether an `INTEG_LOG` filter shows integ's info lines: the run's steps are then
/// logged as under `-v`, instead of drawn as progress between the lines.
pub(crate) fn init(args: &GlobalArgs, color: bool, service: bool) -> bool {
    let default = match (args.quiet, args.verbose, service) {
        (true, _, true) => "warn",
        (true, _, false) => "error",
        (false, 0, true) => "warn,integ=info",
        (false, 0, false) => "warn",
        (false, 1, _) => "warn,integ=info",
        (false, 2, _) => "warn,integ=debug",
        (false, _, _) => "debug,integ=trace",
    };
    let given = std::env::var(VARIABLE)
        .ok()
        .filter(|value| !value.trim().is_empty());
    let (filter, refused) = match given.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(err)) => (EnvFilter::new(default), Some(err)),
        None => (EnvFilter::new(default), None),
    };
    let from_variable = given.is_some() && refused.is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    // A second init (tests calling `run` twice in one process) is harmless, so its error is too.
    let _ = match (args.log_format, journald) {
        (LogFormat::Json, _) => builder.json().try_init(),
        (LogFormat::Text, true) => builder.with_ansi(false).without_time().try_init(),
        (LogFormat::Text, false) => builder.with_ansi(color).try_init(),
    };
    if let (Some(err), Some(value)) = (refused, &given) {
        tracing::warn!("ignoring `{VARIABLE}={value}`, which is not a filter: {err}");
    }
    from_variable && tracing::enabled!(target: "integ", Level::INFO)
}
