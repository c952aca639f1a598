//! The engine: runs one integration's steps in order and reports how it went. It does not know
//! who started the run: manual runs, schedules, webhooks and links all call [`execute`] with a
//! [`RunContext`]; triggers only build that context.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Local};
use serde_json::{Value, json};

use crate::config::model::{Config, Integration};
use crate::steps;
use crate::template::{Templates, Text, context};

/// The most log text one run keeps; past it the log says it was cut.
const LOG_LIMIT: usize = 8 << 20;

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKind {
    Manual,
    Schedule,
    Webhook,
    Link,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Manual => "manual",
            TriggerKind::Schedule => "schedule",
            TriggerKind::Webhook => "webhook",
            TriggerKind::Link => "link",
        }
    }
}

/// Everything one run needs besides the integration itself.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub id: String,
    pub started_at: DateTime<Local>,
    pub trigger: TriggerKind,
    pub params: BTreeMap<String, Value>,
    pub secrets: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
}

/// Which of a command's output streams a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Watches a run as it happens (the terminal printer, a webhook worker's logger). Everything it
/// is given is already redacted.
pub trait Observer: Sync {
    fn step_started(&self, label: &str, what: &str);
    /// A line of a step's output that is meant for the person (not data for later steps).
    fn output(&self, stream: Stream, line: &str);
    fn step_finished(&self, label: &str, elapsed: Duration, error: Option<&str>);
}

/// Runs `integration` to the end (or its timeout), writing to `log` as it goes; the error is
/// already redacted. Dropping the future cancels the run and kills whatever processes its steps
/// started; `log` keeps what happened until then.
pub async fn execute(
    config: &Config,
    integration: &Integration,
    run: &RunContext,
    log: &RunLog,
    observer: &dyn Observer,
) -> Result<(), String> {
    let steps_run = run_steps(config, integration, run, log, observer);
    let result = match integration.timeout {
        Some(limit) => match tokio::time::timeout(limit, steps_run).await {
            Ok(result) => result,
            Err(_) => Err(anyhow::anyhow!(
                "timed out after {}",
                humantime::format_duration(limit)
            )),
        },
        None => steps_run.await,
    };
    result.map_err(|err| {
        let error = log.redactor.redact(&format!("{err:#}"));
        log.line("run", ">", &format!("failed: {error}"));
        error
    })
}

async fn run_steps(
    config: &Config,
    integration: &Integration,
    run: &RunContext,
    log: &RunLog,
    observer: &dyn Observer,
) -> anyhow::Result<()> {
    let redactor = &log.redactor;
    let mut results: BTreeMap<String, Value> = BTreeMap::new();
    for (index, step) in integration.steps.iter().enumerate() {
        let label = format!("step {}", step.label(index));
        let scope_value = json!({
            "params": run.params,
            "env": run.env,
            "secrets": run.secrets,
            "steps": results,
            "run": {
                "id": run.id,
                "started_at": run.started_at.to_rfc3339(),
                "trigger": run.trigger.as_str(),
            },
            "today": run.started_at.format("%Y-%m-%d").to_string(),
            "now": run.started_at.to_rfc3339(),
        });
        let scope = StepScope {
            templates: &config.templates,
            dir: &config.dir,
            context: context(&scope_value),
            params: &run.params,
            label: &label,
            log,
            redactor,
            observer,
        };
        let started = std::time::Instant::now();
        let result = steps::run(step, &scope).await;
        let elapsed = started.elapsed();
        match result {
            Ok(value) => {
                observer.step_finished(&label, elapsed, None);
                if let Some(id) = &step.id {
                    results.insert(id.clone(), value);
                }
            }
            Err(err) => {
                let message = redactor.redact(&format!("{err:#}"));
                observer.step_finished(&label, elapsed, Some(&message));
                return Err(err.context(format!("{label} failed")));
            }
        }
    }
    Ok(())
}

/// What a step sees while it runs: the template context and the run's log and observer.
pub struct StepScope<'a> {
    templates: &'a Templates,
    dir: &'a Path,
    context: minijinja::Value,
    params: &'a BTreeMap<String, Value>,
    label: &'a str,
    log: &'a RunLog,
    redactor: &'a Redactor,
    observer: &'a dyn Observer,
}

impl StepScope<'_> {
    pub fn render(&self, text: &Text) -> anyhow::Result<String> {
        self.templates.render_str(text, &self.context)
    }

    pub fn render_value(&self, text: &Text) -> anyhow::Result<Value> {
        self.templates.render_value(text, &self.context)
    }

    /// The integrations file's directory, where commands run and relative paths start.
    pub fn dir(&self) -> &Path {
        self.dir
    }

    pub fn params(&self) -> &BTreeMap<String, Value> {
        self.params
    }

    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }

    /// The step is about to do `what`.
    pub fn started(&self, what: &str) {
        let what = self.redact(what);
        self.log.line(self.label, ">", &what);
        self.observer.step_started(self.label, &what);
    }

    /// An event worth keeping in the run's log.
    pub fn log(&self, text: &str) {
        self.log.line(self.label, ">", text);
    }

    /// A line of output: always logged, shown live only when `show`.
    pub fn output(&self, stream: Stream, line: &str, show: bool) {
        let line = self.redact(line);
        let marker = match stream {
            Stream::Stdout => "|",
            Stream::Stderr => "!",
        };
        self.log.line(self.label, marker, &line);
        if show {
            self.observer.output(stream, &line);
        }
    }
}

/// Replaces every secret value with `***`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a String>) -> Self {
        let mut secrets: Vec<String> = secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect();
        // Longest first, so a secret that contains another is hidden whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor { secrets }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

/// The run's log: timestamped lines, redacted, capped at [`LOG_LIMIT`].
pub struct RunLog {
    text: Mutex<String>,
    redactor: Redactor,
}

impl RunLog {
    /// A log that hides the run's secrets.
    pub fn new(secrets: &BTreeMap<String, String>) -> Self {
        let redactor = Redactor::new(secrets.values());
        RunLog {
            text: Mutex::new(String::new()),
            redactor,
        }
    }

    fn line(&self, label: &str, marker: &str, text: &str) {
        let mut log = self.text.lock().expect("log lock is never poisoned");
        if log.len() > LOG_LIMIT {
            return;
        }
        let time = Local::now().format("%H:%M:%S%.3f");
        log.push_str(&format!(
            "{time} {label} {marker} {}\n",
            self.redactor.redact(text)
        ));
        if log.len() > LOG_LIMIT {
            log.push_str("… the log is cut here: it passed its size limit\n");
        }
    }

    pub fn text(&self) -> String {
        self.text
            .lock()
            .expect("log lock is never poisoned")
            .clone()
    }

    pub fn redact(&self, text: &str) -> String {
        self.redactor.redact(text)
    }
}

#[cfg(test)]
mod tests {
    use super::Redactor;

    #[test]
    fn redacts_every_secret_longest_first() {
        let secrets = ["abc".to_owned(), "abcdef".to_owned(), String::new()];
        let redactor = Redactor::new(secrets.iter());
        assert_eq!(
            redactor.redact("key=abcdef, short=abc"),
            "key=***, short=***"
        );
        assert_eq!(redactor.redact("nothing here"), "nothing here");
    }
}
