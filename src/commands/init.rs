//! `integ init [DIR]`: a commented starter `integrations.toml` — an offline `hello`, and a
//! scheduled sync, a webhook and a link to uncomment — that passes `integ check`. An existing
//! file is never overwritten.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

use crate::cli::InitArgs;
use crate::exit::ExitStatus;
use crate::output::Printer;
use crate::usage::UsageError;

const STARTER: &str = include_str!("init/starter.toml");

pub(crate) fn init(args: &InitArgs, printer: &Printer) -> anyhow::Result<ExitStatus> {
    let dir = args.dir.as_deref().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .with_context(|| format!("failed to create `{}`", dir.display()))?;
    let path = dir.join("integrations.toml");
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(UsageError::new(format!(
                "`{}` exists already: integ init never overwrites a file",
                path.display()
            ))
            .with_hint("`integ check` validates it; move it away to start afresh".to_owned())
            .into());
        }
        Err(err) => {
            return Err(
                anyhow::Error::new(err).context(format!("failed to create `{}`", path.display()))
            );
        }
    };
    file.write_all(STARTER.as_bytes())
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    printer.status(&format!(
        "wrote `{}`: try `integ run hello -p name=Ada`, then `integ check` as you edit it",
        path.display()
    ));
    Ok(ExitStatus::Success)
}
