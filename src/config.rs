//! Finding and loading `integrations.toml`: raw serde structs (`raw`), validated into the domain
//! model (`model`) by `validate`, which collects every problem before failing.

pub(crate) mod kinds;
pub(crate) mod model;
pub(crate) mod raw;
pub(crate) mod validate;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::usage::UsageError;

pub(crate) use model::Config;

const FILE_NAME: &str = "integrations.toml";

/// The file to use: `--config`/`INTEG_CONFIG`, else `./integrations.toml`, else the XDG config
/// directory's `integ/integrations.toml`.
pub(crate) fn locate(explicit: Option<&Path>) -> Result<PathBuf, UsageError> {
    if let Some(path) = explicit {
        return Ok(path.to_owned());
    }
    let local = PathBuf::from(FILE_NAME);
    if local.is_file() {
        return Ok(local);
    }
    let user = dirs::config_dir().map(|dir| dir.join("integ").join(FILE_NAME));
    if let Some(user) = user.as_ref().filter(|path| path.is_file()) {
        return Ok(user.clone());
    }
    let looked = match &user {
        Some(user) => format!("`./{FILE_NAME}` and `{}`", user.display()),
        None => format!("`./{FILE_NAME}`"),
    };
    Err(
        UsageError::new(format!("no `{FILE_NAME}` found (looked for {looked})"))
            .with_hint("pass `--config PATH` or set `INTEG_CONFIG`".to_owned()),
    )
}

/// Reads and validates the file. An unreadable file is a [`UsageError`]; an invalid one comes
/// back as [`crate::diagnostic::Diagnostics`] inside the error.
pub(crate) fn load(path: &Path) -> anyhow::Result<Config> {
    let source = std::fs::read_to_string(path)
        .map_err(|err| UsageError::new(format!("failed to read `{}`: {err}", path.display())))?;
    let started = Instant::now();
    let config = validate::validate(path.to_owned(), path.display().to_string(), source)?;
    tracing::debug!(
        "loaded `{}`: {} integration{} in {:.2?}",
        path.display(),
        config.integrations.len(),
        if config.integrations.len() == 1 {
            ""
        } else {
            "s"
        },
        started.elapsed()
    );
    Ok(config)
}
