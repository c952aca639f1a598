//! tracing to stderr: `-v`/`-vv` or an `INTEG_LOG` filter, text or JSON lines, and no timestamps
//! when journald (which adds its own) is the reader.

use tracing_subscriber::EnvFilter;

use crate::cli::{GlobalArgs, LogFormat};

/// `service`: a long-lived listener, whose journal should say what it did with each event
/// (info by default; `-q` leaves warnings). A command run by hand or by cron stays quiet.
pub(crate) fn init(args: &GlobalArgs, color: bool, service: bool) {
    let default = match (args.quiet, args.verbose, service) {
        (true, _, true) => "warn",
        (true, _, false) => "error",
        (false, 0, true) => "info",
        (false, 0, false) => "warn",
        (false, 1, _) => "info",
        (false, _, _) => "debug",
    };
    let filter = EnvFilter::try_from_env("INTEG_LOG").unwrap_or_else(|_| EnvFilter::new(default));
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
}
