//! The validated configuration the engine runs: plain domain types, no serde quirks. Every value
//! here has passed validation, so the engine trusts it.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

pub(crate) use crate::config::kinds::{
    CommandStep, ForEach, HttpStep, ItemSource, Link, OutputStep, Program, Webhook,
};
use crate::suggest;
use crate::template::{Templates, Text};
use crate::usage::UsageError;

/// A loaded, valid `integrations.toml`.
#[derive(Debug)]
pub(crate) struct Config {
    pub path: PathBuf,
    /// The file's directory: commands run there, and relative paths in the file start there.
    pub dir: PathBuf,
    pub secrets: BTreeMap<String, Secret>,
    /// In file order.
    pub integrations: Vec<Integration>,
    pub templates: Templates,
    /// How long runs are kept: the file's `retention`, for integrations without their own and
    /// for runs of integrations the file no longer has.
    pub retention: Retention,
}

/// How long a run stays in the history: `retention = "90d"`, or `"forever"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retention {
    For(Duration),
    Forever,
}

impl Retention {
    /// A quarter: long enough to compare this month's runs with the last two, to find when a
    /// sync began to fail, and beyond a webhook's default `dedupe_for` (30 days); short enough
    /// that a busy webhook's history stays a size a laptop holds.
    pub(crate) const DEFAULT: Retention = Retention::For(Duration::from_secs(90 * 24 * 3600));
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // In the largest unit that is whole, the way a file writes it: `90d`, not
            // `2months 29days 2h 52m 48s`.
            Retention::For(duration) => {
                let secs = duration.as_secs();
                match [(86_400, "d"), (3_600, "h"), (60, "m")]
                    .into_iter()
                    .find(|(unit, _)| secs % unit == 0 && secs >= *unit)
                {
                    Some((unit, suffix)) => write!(f, "{}{suffix}", secs / unit),
                    None => write!(f, "{}", humantime::format_duration(*duration)),
                }
            }
            Retention::Forever => f.write_str("forever"),
        }
    }
}

impl Config {
    /// The integration called `name`, or an error with a "did you mean".
    pub(crate) fn integration(&self, name: &str) -> Result<&Integration, UsageError> {
        self.integrations
            .iter()
            .find(|integration| integration.name == name)
            .ok_or_else(|| {
                let names = self.integrations.iter().map(|i| i.name.as_str());
                UsageError::new(format!("no integration named `{name}`"))
                    .with_hint(suggest::did_you_mean(name, names))
            })
    }
}

/// Where a secret's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SecretSource {
    Env(String),
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub(crate) struct Secret {
    pub name: String,
    pub source: SecretSource,
    /// Where it is declared, for `integ check`.
    pub span: Range<usize>,
}

/// What a second run does while the first still holds the integration's lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// Exit at once with the "busy" code; the schedule will try again.
    Skip,
    /// Block until the running copy finishes.
    Wait,
    /// Like skip, but reported as an error.
    Fail,
}

impl Overlap {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::Wait => "wait",
            Overlap::Fail => "fail",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Integration {
    pub name: String,
    pub description: Option<String>,
    pub params: Vec<Param>,
    pub steps: Vec<Step>,
    /// The whole run's time limit.
    pub timeout: Option<Duration>,
    pub overlap: Overlap,
    /// How many runs of it may go at once, across processes (default 1); `overlap` says what
    /// one more does.
    pub concurrency: usize,
    pub schedule: Option<Schedule>,
    /// How `integ serve-hook` starts it, if it does.
    pub webhook: Option<Webhook>,
    /// How a button or link starts it through `integ serve-hook`, if one does.
    pub link: Option<Link>,
    /// Run after a run that failed for good, with its error in scope (`[[…on_failure]]`).
    pub on_failure: Vec<Step>,
    /// A dead-man switch's URL (healthchecks.io style), over `secrets` and `env` only.
    pub ping: Option<Text>,
    /// Its `retention`, else the file's.
    pub retention: Retention,
    /// Secrets any of its templates reads: these must be readable before a run starts.
    pub secrets_used: BTreeSet<String>,
    /// The first field of a webhook's request (`trigger.body.id`) that one of its steps reads:
    /// only its webhook can start it, since a run by hand or on a schedule has no request.
    pub reads_request: Option<String>,
}

impl Integration {
    pub(crate) fn param(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|param| param.name == name)
    }
}

#[derive(Debug)]
pub(crate) struct Param {
    pub name: String,
    pub kind: ParamType,
    pub default: Option<ParamDefault>,
    pub help: Option<String>,
    /// What a string param's value (or each item of a list) must also be.
    pub constraints: Constraints,
}

impl Param {
    pub(crate) fn is_required(&self) -> bool {
        self.default.is_none()
    }

    /// Whether anything narrows the values it takes beyond its type: a `pattern`, a
    /// `max_length`, or the values of a `choice`.
    pub(crate) fn is_constrained(&self) -> bool {
        matches!(self.kind, ParamType::Choice(_))
            || self.constraints.pattern.is_some()
            || self.constraints.max_length.is_some()
    }
}

/// `pattern` and `max_length`, on `string` and `list` params.
#[derive(Debug, Default)]
pub(crate) struct Constraints {
    pub pattern: Option<Pattern>,
    /// In characters.
    pub max_length: Option<usize>,
}

/// A regex that must match a whole value.
#[derive(Debug)]
pub(crate) struct Pattern {
    /// As written in the file.
    pub source: String,
    /// `source` anchored at both ends.
    pub regex: regex::Regex,
}

/// A param's type, as declared with `type = "…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParamType {
    String,
    Integer,
    Number,
    Boolean,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339, or `YYYY-MM-DD HH:MM[:SS]` in local time; stored as RFC 3339.
    Datetime,
    Choice(Vec<String>),
    /// A list of strings; on the command line `a,b,c` or the param repeated.
    List,
}

#[derive(Debug)]
pub(crate) enum ParamDefault {
    /// Already checked against the param's type.
    Value(serde_json::Value),
    /// Computed per run (`{{ today | start_of_month }}`), then checked.
    Template { source: String, text: Text },
}

/// A cron expression from `schedule`.
#[derive(Debug)]
pub(crate) struct Schedule {
    pub expression: String,
    pub cron: croner::Cron,
    /// Where the cron expression's times are read; `None`: the machine's zone.
    pub timezone: Option<chrono_tz::Tz>,
    pub catch_up: CatchUp,
    /// `catch_up = "each"`: more owed intervals than this fail the run.
    pub max_catch_up: u32,
    /// How far back the first run ever reaches; `None`: one interval.
    pub first_window: Option<Duration>,
    /// A longer window is covered in parts of at most this, the watermark moving after each.
    pub max_window: Option<Duration>,
}

/// How a scheduled run covers ticks it missed (the machine was off, a run failed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CatchUp {
    /// One run over everything owed.
    Merge,
    /// One run per interval, in order.
    Each,
    /// The last interval only; the rest is recorded as skipped.
    Latest,
}

impl CatchUp {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CatchUp::Merge => "merge",
            CatchUp::Each => "each",
            CatchUp::Latest => "latest",
        }
    }
}

#[derive(Debug)]
pub(crate) struct Step {
    /// The name later steps use (`steps.<id>`), if it has one.
    pub id: Option<String>,
    /// Run the step only when this is true.
    pub when: Option<Text>,
    /// Run the step once per item of a list, or per record of an earlier step.
    pub for_each: Option<ForEach>,
    pub kind: StepKind,
}

impl Step {
    /// How the step is named in logs and errors: its id, else its 1-based position.
    pub(crate) fn label(&self, index: usize) -> String {
        match &self.id {
            Some(id) => format!("`{id}`"),
            None => format!("{}", index + 1),
        }
    }
}

/// One variant per step kind; its settings are in `kinds`, and it runs in its own file under
/// `steps/`.
#[derive(Debug)]
pub(crate) enum StepKind {
    Command(CommandStep),
    // Boxed: its settings are several times the size of the others'.
    Http(Box<HttpStep>),
    Output(OutputStep),
}

impl StepKind {
    /// The earlier step whose records this step consumes, page by page, if any.
    pub(crate) fn records_of(&self) -> Option<&str> {
        match self {
            StepKind::Output(output) => output.records_of.as_deref(),
            _ => None,
        }
    }
}

impl Step {
    /// The earlier step whose records this step is run for (or writes), if any.
    pub(crate) fn consumes(&self) -> Option<&str> {
        match &self.for_each {
            Some(ForEach {
                source: ItemSource::Records(id),
                ..
            }) => Some(id),
            _ => self.kind.records_of(),
        }
    }
}
