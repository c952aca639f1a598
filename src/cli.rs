//! The command line, as clap types only. Handlers turn these into domain values; nothing past
//! `commands/` sees a clap type.
//!
//! Conventions: explicit `short`, bare `long`, an uppercase `value_name` on every option that
//! takes a value, a one-line summary first in every doc comment.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit codes as `--help` shows them, from [`EXIT_CODE_TABLE`].
fn exit_codes() -> String {
    let mut text = "Exit codes:".to_owned();
    for (code, meaning) in EXIT_CODE_TABLE {
        text.push_str(&format!("\n  {code:<3} {meaning}"));
    }
    text
}

/// Run integrations between business systems, defined in one TOML file.
#[derive(Debug, Parser)]
#[command(name = "integ", version, about, after_long_help = exit_codes())]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The integrations file [default: ./integrations.toml, else $XDG_CONFIG_HOME/integ/integrations.toml]
    #[arg(
        long,
        short = 'c',
        global = true,
        value_name = "PATH",
        env = "INTEG_CONFIG",
        hide_env_values = true
    )]
    pub config: Option<PathBuf>,

    /// Where run history, locks and watermarks live [default: one per integrations file, under $XDG_STATE_HOME/integ/projects; `integ list` shows it]
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "INTEG_STATE_DIR",
        hide_env_values = true
    )]
    pub state_dir: Option<PathBuf>,

    /// Print nothing on success; on failure print the error and the run's log (for cron)
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Log more detail to stderr (-vv for debug); `INTEG_LOG` takes a full filter
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to use colour [default: auto, which honours NO_COLOR]
    #[arg(long, global = true, value_name = "WHEN")]
    pub color: Option<ColorChoice>,

    /// Log line format on stderr
    #[arg(long, global = true, value_name = "FORMAT", default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    Run(RunArgs),
    List(ListArgs),
    Check(CheckArgs),
    History(HistoryArgs),
    Logs(LogsArgs),
    Output(OutputArgs),
    ServeHook(ServeHookArgs),
    Retry(RetryArgs),
    Prune(PruneArgs),
    Link(LinkArgs),
    Completions(CompletionsArgs),
    Man(ManArgs),
    Init(InitArgs),
    Schedule(ScheduleArgs),
}

const RUN_EXAMPLES: &str = "\
Examples:
  $ integ run hello -p name=Ada
  $ integ run monthly-report -p from=2026-10-01 -p to=2026-10-31
  $ integ run nightly-export -q --scheduled      # in a crontab";

/// Run an integration now
///
/// Params come from `-p NAME=VALUE` (repeat it; list params also take `a,b,c`), else their
/// defaults. A required param that is missing is asked for on a terminal and is an error
/// without one. Under cron, add `-q`: nothing is printed on success, and a failure prints the
/// error and the run's log.
#[derive(Debug, Args)]
#[command(after_long_help = format!("{RUN_EXAMPLES}\n\n{}", exit_codes()))]
pub(crate) struct RunArgs {
    /// The integration to run
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Set a param, as NAME=VALUE
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// Wait for a running copy of the integration to finish instead of following its `overlap`
    /// policy
    #[arg(long)]
    pub wait: bool,

    /// Make GET and HEAD requests; show every other request, command and file write instead of
    /// doing it
    #[arg(long)]
    pub dry_run: bool,

    /// Started by a scheduler (cron, a systemd timer): cover the period since the last success
    /// up to the latest tick of the schedule, quietly
    #[arg(long)]
    pub scheduled: bool,

    /// Cover an explicit window from this date or time (in the schedule's zone): a backfill
    #[arg(long, value_name = "WHEN", requires = "to")]
    pub from: Option<String>,

    /// The end of the backfill's window (not included)
    #[arg(long, value_name = "WHEN", requires = "from")]
    pub to: Option<String>,

    /// With `--from`/`--to`: one run per interval of the schedule, in order
    #[arg(long, requires = "from")]
    pub each: bool,

    /// Print the window(s) a run now would cover, and where the watermark would move, without
    /// running
    #[arg(long)]
    pub plan: bool,
}

/// List the integrations, their params, triggers and last run
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Print JSON for scripts instead of a table
    #[arg(long)]
    pub json: bool,
}

/// Validate the integrations file offline and report every problem at once
///
/// Checks TOML syntax, unknown keys, value types, templates and the names they use, cron
/// expressions and that every secret can be read. Exits 0 only when the file is valid.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {}

/// Show past runs, newest first
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Only runs of this integration
    #[arg(value_name = "NAME")]
    pub name: Option<String>,

    /// Only failed and interrupted runs
    #[arg(long)]
    pub failed: bool,

    /// How many runs to show
    #[arg(long, short = 'n', value_name = "N", default_value_t = 20)]
    pub limit: usize,

    /// Print JSON for scripts instead of a table
    #[arg(long)]
    pub json: bool,
}

/// Print a signed, expiring link that runs an integration with these params
///
/// The integration's `link` must have `auth.signed`. The params are fixed by the signature:
/// a changed one, another path or a past expiry is refused. Those not given are asked for by
/// the form the link shows.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Examples:\n  $ integ link sales-report -p month=2026-11 --expires 2d --base-url https://integ.example.com"
)]
pub(crate) struct LinkArgs {
    /// The integration to run
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Fix a param in the link, as NAME=VALUE
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// How long the link works (at most 7d)
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub expires: humantime::Duration,

    /// Where the listener is reached, as the person clicking it sees it
    #[arg(long, value_name = "URL", default_value = "http://127.0.0.1:8080")]
    pub base_url: String,
}

/// Print a shell completion script, generated from these definitions
///
/// The repository's `completions/` folder holds each shell's script as this prints it.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Examples:\n  $ integ completions bash > ~/.local/share/bash-completion/completions/integ\n  $ integ completions zsh > ~/.zfunc/_integ\n  $ integ completions fish > ~/.config/fish/completions/integ.fish"
)]
pub(crate) struct CompletionsArgs {
    /// The shell
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Write a commented starter integrations.toml
///
/// It holds an offline `hello` to run at once, and a scheduled sync, a webhook and a link to
/// uncomment. An existing file is never overwritten.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:\n  $ integ init\n  $ integ init /srv/integ")]
pub(crate) struct InitArgs {
    /// Where to write it [default: the current directory]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Print the manual page (roff), generated from these definitions
#[derive(Debug, Args)]
#[command(
    after_long_help = "Examples:\n  $ integ man | man -l -\n  $ integ man > /usr/local/share/man/man1/integ.1"
)]
pub(crate) struct ManArgs {}

/// Print one run: what started it, its params, how it went, and each attempt's log
#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// The run's id, or a unique start of it
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
}

/// Print what one run wrote for the person: its report, its stdout export, a dry run's plan
///
/// The output is kept with the run (up to 1 MiB) and printed as it was written.
#[derive(Debug, Args)]
#[command(after_long_help = "Examples:\n  $ integ output 0193f6b2 > report.csv")]
pub(crate) struct OutputArgs {
    /// The run's id, or a unique start of it
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
}

const SCHEDULE_EXAMPLES: &str = "\
Examples:
  $ integ schedule --format crontab >> my.crontab
  $ integ schedule nightly-export --format systemd --out /etc/systemd/system
  $ integ schedule --format kubernetes --pvc integ-state --image registry.example/integ:1";

/// Write the crontab lines, systemd units or Kubernetes CronJobs that run scheduled integrations
///
/// Each entry runs `integ run NAME --scheduled -q` with the integrations file, the state
/// directory and the binary as absolute paths, at the times of the integration's `schedule`,
/// in its `timezone`. Without `--out` the files are printed, each after a comment naming it.
/// A schedule the format cannot express is refused with the reason.
#[derive(Debug, Args)]
#[command(after_long_help = SCHEDULE_EXAMPLES)]
pub(crate) struct ScheduleArgs {
    /// The integrations to write entries for [default: every one with a `schedule`]
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Which scheduler the entries are for
    #[arg(long, short = 'f', value_name = "FORMAT")]
    pub format: ScheduleFormat,

    /// Write the files into this directory (`integ.crontab`, `integ-NAME.service` and
    /// `.timer`, `integ-NAME.yaml`) instead of printing them
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// The integ binary the entries start [default: this one]
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,

    /// The user the runs run as: systemd's `User=`, or whose crontab takes the lines
    /// (`crontab -u NAME`); `integ` for the .deb's listener [default: whoever installs them]
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Kubernetes: the PersistentVolumeClaim mounted at the state directory
    #[arg(long, value_name = "NAME", default_value = "integ-state")]
    pub pvc: String,

    /// Kubernetes: the ConfigMap that holds the integrations file
    #[arg(long, value_name = "NAME", default_value = "integ-config")]
    pub configmap: String,

    /// Kubernetes: the container image that has the binary at `--binary`
    #[arg(long, value_name = "IMAGE", default_value = "integ")]
    pub image: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ScheduleFormat {
    Crontab,
    Systemd,
    Kubernetes,
}

/// The exit codes, for the manual.
pub(crate) const EXIT_CODE_TABLE: &[(&str, &str)] = &[
    ("0", "success (for `check`: the file is valid)"),
    ("1", "the integration ran and failed"),
    ("2", "usage or configuration error: nothing ran"),
    ("69", "serve-hook cannot listen on its address"),
    (
        "74",
        "the run store (state directory) cannot be opened or written",
    ),
    (
        "75",
        "skipped: another run of the integration holds its lock",
    ),
    ("130", "interrupted by SIGINT or SIGTERM"),
];

impl Cli {
    /// The definitions, for generated completions and the manual.
    pub(crate) fn definitions() -> clap::Command {
        <Cli as clap::CommandFactory>::command()
    }

    /// Parses the command line; clap's own errors (and `--help`) come back as `clap::Error`.
    pub(crate) fn parse_from_os<I: IntoIterator<Item = OsString>>(
        args: I,
    ) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(args)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

/// Listen for webhooks and run the integrations they name
///
/// Each integration with a `webhook` gets `POST /hooks/<path>`. An accepted event is stored
/// durably before the answer (202 with the run id), then run by a worker; a crash or restart
/// loses nothing that was accepted. `GET /healthz` answers 200 while serving. SIGTERM or SIGINT:
/// stop accepting, let running integrations finish within `--grace`, keep the rest queued.
#[derive(Debug, Args)]
pub(crate) struct ServeHookArgs {
    /// Where to listen; `0.0.0.0:PORT` to accept other machines, port 0 for any free port
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,

    /// How many runs at once, across integrations (each also keeps to its `concurrency`);
    /// 0 only stores events, to run at a later start
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub workers: usize,

    /// The largest request body accepted, in bytes (larger ones get 413)
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    pub max_body: usize,

    /// The most connections open at once; more wait until one closes
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections: usize,

    /// How long a request may take to arrive whole: slower headers close the connection, a
    /// slower body gets 408
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = humantime::parse_duration)]
    pub read_timeout: std::time::Duration,

    /// How long running integrations may take to finish on SIGTERM
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = humantime::parse_duration)]
    pub grace: std::time::Duration,
}

/// Delete the runs past their retention and free the dedupe keys past `dedupe_for`
///
/// Each integration keeps its runs for its `retention` (else the file's; default 90d). Queued
/// and running runs, each integration's newest run and runs whose dedupe key is still kept are
/// never deleted. `integ run` and `integ serve-hook` prune this way on their own, now and
/// then; this prunes at once.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Examples:\n  $ integ prune --dry-run\n  $ integ prune --older-than 30d"
)]
pub(crate) struct PruneArgs {
    /// Delete the runs older than this, of every integration, instead of each one's retention
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub older_than: Option<std::time::Duration>,

    /// Count what would be deleted and freed; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Print JSON for scripts instead of a table
    #[arg(long)]
    pub json: bool,
}

/// Queue failed webhook runs again, for `integ serve-hook` to run
///
/// A webhook run that failed its last attempt stays in the store as failed; `integ history
/// --failed` lists them.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("which").required(true))]
pub(crate) struct RetryArgs {
    /// The run's id, or a unique start of it
    #[arg(value_name = "RUN_ID", group = "which")]
    pub run_id: Option<String>,

    /// Every failed webhook run of this integration
    #[arg(long, value_name = "NAME", group = "which")]
    pub all_failed: Option<String>,
}
