//! A loaded integrations file with what its runs need of the process: every secret, read once,
//! and the environment. The listener serves one at a time; SIGHUP swaps in a fresh one.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::config::{self, Config};
use crate::run_log::Redactor;
use crate::template::context;

#[derive(Clone)]
pub(crate) struct Loaded {
    pub(crate) config: Arc<Config>,
    pub(crate) secrets: Arc<BTreeMap<String, String>>,
    pub(crate) env: Arc<BTreeMap<String, String>>,
    /// What hides `secrets`, built once: each run starts from a copy.
    pub(crate) redactor: Redactor,
    /// `secrets` and `env` as templates read them, converted once for every request.
    pub(crate) secrets_in_templates: minijinja::Value,
    pub(crate) env_in_templates: minijinja::Value,
}

impl Loaded {
    /// Loads the file at `path` and reads all its secrets: a listener must be able to check
    /// every sender and run every integration. Fails with every problem found.
    pub(crate) fn load(path: &Path, env: Arc<BTreeMap<String, String>>) -> anyhow::Result<Loaded> {
        let config = config::load(path)?;
        Loaded::new(config, env)
    }

    pub(crate) fn new(
        config: Config,
        env: Arc<BTreeMap<String, String>>,
    ) -> anyhow::Result<Loaded> {
        let secrets = crate::secrets::read(&config, config.secrets.keys()).map_err(|problems| {
            crate::usage::UsageError::new(format!("cannot serve: {}", problems.join("; ")))
        })?;
        Ok(Loaded {
            config: Arc::new(config),
            secrets_in_templates: context(&secrets),
            redactor: Redactor::new(secrets.values()),
            env_in_templates: context(&*env),
            secrets: Arc::new(secrets),
            env,
        })
    }
}
