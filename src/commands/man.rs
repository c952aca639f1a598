//! `integ man`: the manual page, roff generated from the clap definitions, with the sections
//! clap does not know of: exit status, environment, files and examples.

use std::fmt::Write as _;

use crate::cli::{Cli, EXIT_CODE_TABLE};
use crate::exit::ExitStatus;
use crate::output::Printer;

/// The environment integ reads.
const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "INTEG_CONFIG",
        "the integrations file, when --config is not given",
    ),
    (
        "INTEG_STATE_DIR",
        "the state directory (run history, locks, queue), when --state-dir is not given",
    ),
    (
        "INTEG_LOG",
        "a tracing filter for the log on stderr, such as debug or integ=debug",
    ),
    ("NO_COLOR", "no colour, unless --color says otherwise"),
    (
        "XDG_CONFIG_HOME",
        "where integrations.toml is looked for last",
    ),
    (
        "XDG_STATE_HOME",
        "below which each integrations file's state directory is kept",
    ),
];

/// The files integ reads and writes.
const FILES: &[(&str, &str)] = &[
    (
        "./integrations.toml",
        "the integrations, when neither --config nor INTEG_CONFIG names one",
    ),
    ("$XDG_CONFIG_HOME/integ/integrations.toml", "else this one"),
    (
        "$XDG_STATE_HOME/integ/projects/",
        "one state directory per integrations file: integ.db (the run store), locks/, running/",
    ),
];

const EXAMPLES: &[(&str, &str)] = &[
    ("integ run hello -p name=Ada", "run an integration now"),
    (
        "integ run nightly-export --scheduled -q",
        "from cron: the period since the last success, quiet on success",
    ),
    (
        "integ run nightly-export --plan --scheduled",
        "what a scheduled run now would cover",
    ),
    (
        "integ serve-hook --listen 127.0.0.1:8080",
        "serve webhooks and links",
    ),
    (
        "integ link sales-report -p month=2026-11",
        "a signed, expiring link that runs an integration",
    ),
    (
        "integ schedule --format systemd --out /etc/systemd/system",
        "write the timers that run every schedule",
    ),
];

pub(crate) fn man(printer: &Printer) -> anyhow::Result<ExitStatus> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::definitions()).render(&mut page)?;
    let mut page = String::from_utf8(page)?;
    let mut section = |title: &str, items: &[(&str, &str)]| {
        let _ = writeln!(page, ".SH \"{title}\"");
        for (term, text) in items {
            let _ = writeln!(page, ".TP\n\\fB{}\\fR\n{}", roff(term), roff(text));
        }
    };
    section("EXIT STATUS", EXIT_CODE_TABLE);
    section("ENVIRONMENT", ENVIRONMENT);
    section("FILES", FILES);
    section("EXAMPLES", EXAMPLES);
    printer.data_as_is(&page);
    Ok(ExitStatus::Success)
}

/// Text for roff: backslashes and hyphens escaped, no line starting with a control character.
fn roff(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    match escaped.chars().next() {
        Some('.' | '\'') => format!("\\&{escaped}"),
        _ => escaped,
    }
}
