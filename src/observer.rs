//! What watches a run as it happens: the terminal printer today, a webhook worker's logger
//! later. The engine and the steps report to it; it decides what to show.

use std::time::Duration;

/// Which of a command's output streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

/// Watches a run. Everything it is given is already redacted.
pub(crate) trait Observer: Sync {
    fn step_started(&self, label: &str, what: &str);
    /// A line of a step's output that is meant for the person (not data for later steps).
    fn output(&self, stream: Stream, line: &str);
    fn step_finished(&self, label: &str, elapsed: Duration, error: Option<&str>);
    /// Data an `output` step writes to stdout, as it is (no newline added).
    fn data(&self, text: &str);
    /// How far a step has come: `done` of `total` (when known) `unit`s (`pages`, `items`).
    fn progress(&self, label: &str, unit: &str, done: u64, total: Option<u64>);
}
