//! `integ check`: validate the whole file offline, secrets included, reporting every problem
//! (and every warning).

use crate::cli::{CheckArgs, GlobalArgs};
use crate::config::{self, validate};
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::usage::UsageError;

pub(crate) fn check(
    global: &GlobalArgs,
    _args: &CheckArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let path = config::locate(global.config.as_deref())?;
    let source = std::fs::read_to_string(&path)
        .map_err(|err| UsageError::new(format!("failed to read `{}`: {err}", path.display())))?;
    let (config, warnings) =
        validate::validate_with_secrets(path.clone(), path.display().to_string(), source)?;
    // Warnings leave the file valid: they are shown, and the exit code stays 0.
    if let Some(warnings) = &warnings {
        printer.diagnostics(warnings);
    }
    let count = config.integrations.len();
    printer.status(&format!(
        "`{}` is valid: {count} integration{}",
        path.display(),
        if count == 1 { "" } else { "s" }
    ));
    Ok(ExitStatus::Success)
}
