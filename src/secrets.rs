//! Reading secret values from environment variables and files, just before a run needs them.
//! Values never leave this module except into the run's context, whose output is redacted.

use std::collections::BTreeMap;

use crate::config::model::{Config, Secret, SecretSource};

/// Why a secret cannot be read. Never contains the value.
pub(crate) fn problem(secret: &Secret) -> Option<String> {
    read_one(secret).err()
}

/// Reads the named secrets; the error lists every one that cannot be read.
pub(crate) fn read<'a>(
    config: &Config,
    names: impl IntoIterator<Item = &'a String>,
) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut values = BTreeMap::new();
    let mut problems = Vec::new();
    for name in names {
        let Some(secret) = config.secrets.get(name) else {
            problems.push(format!("secret `{name}` is not declared"));
            continue;
        };
        match read_one(secret) {
            Ok(value) => {
                values.insert(name.clone(), value);
            }
            Err(problem) => problems.push(problem),
        }
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(problems)
    }
}

/// The secrets a run reads (`used`; the error lists every one that cannot be read), and every
/// other secret of the file that can be read: the run never uses those, but its redactor hides
/// them too, so a command that finds one elsewhere cannot print it.
pub(crate) fn for_run<'a>(
    config: &Config,
    used: impl IntoIterator<Item = &'a String>,
) -> Result<BTreeMap<String, String>, Vec<String>> {
    let mut values = read(config, used)?;
    for (name, secret) in &config.secrets {
        if !values.contains_key(name)
            && let Ok(value) = read_one(secret)
        {
            values.insert(name.clone(), value);
        }
    }
    Ok(values)
}

fn read_one(secret: &Secret) -> Result<String, String> {
    let name = &secret.name;
    match &secret.source {
        SecretSource::Env(var) => match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(value),
            Ok(_) => Err(format!(
                "secret `{name}` is empty: environment variable `{var}` is set but empty"
            )),
            Err(_) => Err(format!(
                "secret `{name}` is missing: environment variable `{var}` is not set"
            )),
        },
        SecretSource::File(path) => match std::fs::read_to_string(path) {
            // Files written by editors and `echo` end in a newline that is not part of the key.
            Ok(value) if !value.trim_end_matches(['\n', '\r']).is_empty() => {
                Ok(value.trim_end_matches(['\n', '\r']).to_owned())
            }
            Ok(_) => Err(format!(
                "secret `{name}` is empty: file `{}` has no content",
                path.display()
            )),
            Err(err) => Err(format!(
                "secret `{name}` cannot be read from `{}`: {err}",
                path.display()
            )),
        },
    }
}
