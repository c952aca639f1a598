//! `integ completions SHELL`: a completion script generated from the clap definitions.

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::ExitStatus;
use crate::output::Printer;

pub(crate) fn completions(args: &CompletionsArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::definitions(), "integ", &mut script);
    printer.data_as_is(&String::from_utf8(script)?);
    Ok(ExitStatus::Success)
}
