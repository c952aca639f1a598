//! Step kinds: each runs in its own file, one arm each here. Adding a kind is a variant of
//! [`StepKind`] (with its settings in the model), a file here and a line below.

pub(crate) mod command;
pub(crate) mod http;
pub(crate) mod output;

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::config::model::{Step, StepKind};
use crate::observer::{Observer, Stream};
use crate::run_log::RunLog;
use crate::steps::http::{HttpClients, RateLimiter};
use crate::template::{Templates, Text};

/// A step's records, page by page: what the engine feeds to the steps that take them, without
/// knowing how the step gets them. One variant per step kind that gives records.
pub(crate) enum Records<'s, 'a> {
    Http(http::HttpRecords<'s, 'a>),
}

impl<'s, 'a> Records<'s, 'a> {
    /// Starts giving the step's records; only steps that give records have them.
    pub(crate) fn open(step: &'s Step, scope: &'s StepScope<'a>) -> anyhow::Result<Self> {
        match &step.kind {
            StepKind::Http(settings) => {
                Ok(Records::Http(http::HttpRecords::open(settings, scope)?))
            }
            StepKind::Command(_) | StepKind::Output(_) => {
                unreachable!("validated: only http steps give records")
            }
        }
    }

    /// The next batch of records, or `None` when there are no more.
    pub(crate) async fn next(&mut self) -> anyhow::Result<Option<Vec<Value>>> {
        match self {
            Records::Http(records) => records.next().await,
        }
    }

    /// The step's own result, once every record was given.
    pub(crate) fn finish(self) -> Value {
        match self {
            Records::Http(records) => records.finish(),
        }
    }
}

/// Runs one step; its result is what later steps see as `steps.<id>`.
pub(crate) async fn run(step: &Step, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    match &step.kind {
        StepKind::Command(settings) => command::run(settings, scope).await,
        StepKind::Http(settings) => http::run(settings, scope).await,
        StepKind::Output(settings) => output::run(settings, scope).await,
    }
}

/// What a step sees while it runs: the template context, where it runs, and the run's log and
/// observer.
pub(crate) struct StepScope<'a> {
    pub templates: &'a Templates,
    /// The integrations file's directory, where commands run and relative paths start.
    pub dir: &'a Path,
    pub context: minijinja::Value,
    pub params: &'a BTreeMap<String, Value>,
    /// How the step is named in logs: `step 2`, ``step `fetch` ``.
    pub label: &'a str,
    pub log: &'a RunLog,
    pub observer: &'a dyn Observer,
    pub http: &'a HttpClients,
    /// The step's `rate`, shared by all its items.
    pub rate: Option<&'a RateLimiter>,
    /// Reads happen; writes and commands are only shown.
    pub dry_run: bool,
    /// Log each request. Off for the items of a `for_each`, which may number hundreds of
    /// thousands: their retries and failures are logged, and the summary counts the rest.
    pub log_requests: bool,
    /// Open files a command's processes keep open (the run's lock files), so that the run
    /// counts as going on while any of them lives.
    pub inherit: &'a [Arc<OwnedFd>],
}

impl<'a> StepScope<'a> {
    /// The same scope for another step that runs alongside (a taker of this step's records).
    pub(crate) fn for_step(&self, label: &'a str, rate: Option<&'a RateLimiter>) -> StepScope<'a> {
        StepScope {
            context: self.context.clone(),
            label,
            rate,
            ..*self
        }
    }

    /// The same scope with more names in its template context (`item`, `index`).
    pub(crate) fn with(&self, extra: minijinja::Value) -> StepScope<'a> {
        StepScope {
            context: minijinja::value::merge_maps([extra, self.context.clone()]),
            ..*self
        }
    }

    pub(crate) fn render(&self, text: &Text) -> anyhow::Result<String> {
        self.templates.render_str(text, &self.context)
    }

    pub(crate) fn render_value(&self, text: &Text) -> anyhow::Result<Value> {
        self.templates.render_value(text, &self.context)
    }

    pub(crate) fn redact(&self, text: &str) -> String {
        self.log.redact(text)
    }

    /// The step is about to do `what`.
    pub(crate) fn started(&self, what: &str) {
        let what = self.redact(what);
        self.log.line(self.label, ">", &what);
        self.observer.step_started(self.label, &what);
    }

    /// An event worth keeping in the run's log.
    pub(crate) fn note(&self, text: &str) {
        self.log.line(self.label, ">", text);
    }

    /// What a dry run would do here instead (a write, a command, a file): a line of the plan,
    /// in the log and in the run's output, which a dry run shows however quiet.
    pub(crate) fn plan(&self, what: &str) {
        let what = self.redact(what);
        self.log.line(self.label, ">", &format!("dry run: {what}"));
        self.data(&format!("{}: {what}\n", self.label));
    }

    /// Data for stdout (an output step's), as it is: part of the run's output. `text` must be
    /// redacted.
    pub(crate) fn data(&self, text: &str) {
        self.log.output(text);
        self.observer.data(text);
    }

    /// A line of a command's output, for the person: what reaches stdout is part of the run's
    /// output too. `line` must be redacted.
    pub(crate) fn show(&self, stream: Stream, line: &str) {
        if stream == Stream::Stdout {
            self.log.output(line);
            self.log.output("\n");
        }
        self.observer.output(stream, line);
    }
}

/// The result of a write a dry run did not make. Later steps that read it see placeholders
/// (see `engine::unsent`), never an error.
pub(crate) fn unsent() -> Value {
    serde_json::json!({ UNSENT: true })
}

/// The key that marks [`unsent`]; no step's real result has it.
pub(crate) const UNSENT: &str = "dry_run";

/// Whether a step's result is that of a write a dry run did not make.
pub(crate) fn is_unsent(result: &Value) -> bool {
    result.get(UNSENT) == Some(&Value::Bool(true))
}
