//! The exit codes `integ` promises to scripts, cron and systemd: one table, also in the README.

use std::process::ExitCode;

/// How an `integ` process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for succeeded (for `check`: the file is valid).
    Success,
    /// An integration ran and failed.
    Failure,
    /// Bad command line, invalid `integrations.toml`, unknown name, bad param or missing secret:
    /// nothing ran.
    Usage,
    /// The run was skipped (or refused) because another run of the integration holds its lock.
    Busy,
    /// Interrupted by SIGINT or SIGTERM; the run is recorded as interrupted.
    Interrupted,
    /// The run store (the state directory) could not be opened, read or written: whatever
    /// was to run did not, or its end may not be recorded. Not the integration's failure.
    Store,
    /// `serve-hook` could not listen on its address (in use, or not this machine's): nothing
    /// was served. A supervisor may try again later; the file is not at fault.
    Unavailable,
}

impl ExitStatus {
    /// The numeric code, as documented in the README.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Usage => 2,
            // EX_TEMPFAIL from sysexits.h: "try again later" is exactly what a skipped run means.
            ExitStatus::Busy => 75,
            // EX_IOERR from sysexits.h.
            ExitStatus::Store => 74,
            // EX_UNAVAILABLE from sysexits.h: a service cannot be offered.
            ExitStatus::Unavailable => 69,
            ExitStatus::Interrupted => 130,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}
