//! `integ schedule`: print or write what makes cron, systemd or Kubernetes run the scheduled
//! integrations.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::{GlobalArgs, ScheduleArgs, ScheduleFormat};
use crate::commands::{load_config, state_dir};
use crate::config::model::Integration;
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::schedule::{self, Format, Target};
use crate::usage::UsageError;

pub(crate) fn schedule(
    global: &GlobalArgs,
    args: &ScheduleArgs,
    printer: &Printer,
) -> anyhow::Result<ExitStatus> {
    let config = load_config(global)?;
    let chosen = chosen(&config, &args.names)?;
    let binary = match &args.binary {
        Some(binary) => absolute(binary)?,
        None => std::env::current_exe()
            .and_then(|exe| exe.canonicalize())
            .context("failed to find the running integ binary: pass `--binary`")?,
    };
    let user = match (&args.user, args.format) {
        (Some(_), ScheduleFormat::Kubernetes) => {
            return Err(UsageError::new(
                "`--user` is for `--format crontab` and `systemd`: a CronJob runs as its image's user",
            )
            .with_hint("set `securityContext.runAsUser` in the CronJob instead".to_owned())
            .into());
        }
        (Some(user), _) if !is_user_name(user) => {
            return Err(UsageError::new(format!(
                "invalid user name `{}`: expected a login name such as `integ` (a lowercase letter or `_`, then letters, digits, `_` or `-`, at most 32)",
                user.escape_debug()
            ))
            .into());
        }
        (user, _) => user.clone(),
    };
    let target = Target {
        binary,
        user,
        config: config
            .path
            .canonicalize()
            .with_context(|| format!("failed to resolve `{}`", config.path.display()))?,
        state_dir: absolute(&state_dir(global)?)?,
        machine_zone: schedule::machine_zone(),
        pvc: args.pvc.clone(),
        configmap: args.configmap.clone(),
        image: args.image.clone(),
    };
    // Each goes into a unit, a crontab line or YAML as it is: a newline would start a line
    // of its own there.
    let written_as_is = [
        ("the binary's path", target.binary.display().to_string()),
        (
            "the integrations file's path",
            target.config.display().to_string(),
        ),
        (
            "the state directory",
            target.state_dir.display().to_string(),
        ),
        ("`--pvc`", target.pvc.clone()),
        ("`--configmap`", target.configmap.clone()),
        ("`--image`", target.image.clone()),
    ];
    if let Some((what, value)) = written_as_is
        .iter()
        .find(|(_, value)| value.chars().any(char::is_control))
    {
        return Err(UsageError::new(format!(
            "{what} `{}` holds a control character, which the scheduler's file cannot hold",
            value.escape_debug()
        ))
        .into());
    }
    let format = match args.format {
        ScheduleFormat::Crontab => Format::Crontab,
        ScheduleFormat::Systemd => Format::Systemd,
        ScheduleFormat::Kubernetes => Format::Kubernetes,
    };
    let written = schedule::write(format, &chosen, &target)?;
    for warning in &written.warnings {
        printer.warning(warning);
    }
    match &args.out {
        None => {
            let text = written
                .files
                .iter()
                .map(|file| format!("# ==> {} <==\n{}", file.name, file.text))
                .collect::<Vec<_>>()
                .join("\n");
            printer.data(&text);
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create `{}`", dir.display()))?;
            for file in &written.files {
                let path = dir.join(&file.name);
                std::fs::write(&path, &file.text)
                    .with_context(|| format!("failed to write `{}`", path.display()))?;
                printer.status(&format!("wrote `{}`", path.display()));
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// The integrations named, each with a schedule, else every one that has a schedule.
fn chosen<'c>(
    config: &'c crate::config::Config,
    names: &[String],
) -> Result<Vec<&'c Integration>, UsageError> {
    if names.is_empty() {
        let scheduled: Vec<_> = config
            .integrations
            .iter()
            .filter(|integration| integration.schedule.is_some())
            .collect();
        if scheduled.is_empty() {
            return Err(UsageError::new(format!(
                "failed to find an integration with a `schedule` in `{}`",
                config.path.display()
            ))
            .with_hint(Some(
                "add `schedule = \"0 2 * * *\"` to an `[integration.NAME]` table".to_owned(),
            )));
        }
        return Ok(scheduled);
    }
    names
        .iter()
        .map(|name| {
            let integration = config.integration(name)?;
            if integration.schedule.is_none() {
                return Err(UsageError::new(format!(
                    "`{name}` has no `schedule`, so nothing would start it"
                ))
                .with_hint(Some(format!(
                    "add `schedule = \"0 2 * * *\"` to `[integration.{name}]`"
                ))));
            }
            Ok(integration)
        })
        .collect()
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("failed to resolve `{}`", path.display()))
}

/// A login name as Debian's `adduser` takes one: it goes into a unit's `User=` and a shell
/// command line as it is.
fn is_user_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 32
        && chars
            .next()
            .is_some_and(|first| first.is_ascii_lowercase() || first == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}
