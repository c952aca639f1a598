//! Telling someone how a run went, whichever door started it: a dead-man switch's pings
//! (healthchecks.io style: `/start`, the base URL, `/<exit code>`, `/log`) and a failed run's
//! `on_failure` steps. Neither ever changes how the run went: a failing ping or notification
//! is a warning in the run's log.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::backoff;
use crate::config::model::{Config, Integration};
use crate::engine::{self, RunContext};
use crate::exit::ExitStatus;
use crate::observer::Observer;
use crate::run_log::RunLog;
use crate::scope::SecretScope;
use crate::store::RunStatus;
use crate::template::context;

/// How long one ping may take: a slow monitoring service must not hold up the run.
const PING_TIMEOUT: Duration = Duration::from_secs(10);

/// How often a ping is tried again after a connection error or a 5xx.
const PING_RETRIES: u32 = 3;

/// The first wait before a ping is tried again; it doubles, with jitter.
const PING_BACKOFF: Duration = Duration::from_millis(250);

/// The most log a failure ping sends, unless the start ping's answer says another limit
/// (`Ping-Body-Limit`); also what `run.log_tail` holds. Healthchecks.io takes 100 kB by
/// default, but self-hosted servers are often set lower.
pub(crate) const LOG_TAIL: usize = 10_000;

/// The pings of one run. The URL is hidden in the run's log like a secret: it is the only
/// credential a ping needs.
pub(crate) struct Ping {
    url: String,
    client: reqwest::Client,
    /// What the server said it takes of a body, else [`LOG_TAIL`].
    body_limit: AtomicUsize,
}

impl Ping {
    /// The integration's pings for `run`, its URL rendered and hidden in `log`. `None` when it
    /// has no `ping`, for a dry run (which covers nothing a monitor waits for), or when the URL
    /// cannot be rendered or a client made (said in the log: the run goes on).
    pub(crate) fn for_run(
        config: &Config,
        integration: &Integration,
        run: &RunContext,
        log: &RunLog,
    ) -> Option<Ping> {
        let text = integration.ping.as_ref()?;
        if run.dry_run {
            return None;
        }
        let scope = context(&SecretScope {
            secrets: &context(&*run.secrets),
            env: &context(&*run.env),
        });
        let url = match config.templates.render_str(text, &scope) {
            Ok(url) => url.trim_end_matches('/').to_owned(),
            Err(err) => {
                warn(log, &format!("failed to render the `ping` URL: {err:#}"));
                return None;
            }
        };
        log.hide(&url);
        let client = reqwest::Client::builder()
            .user_agent(concat!("integ/", env!("CARGO_PKG_VERSION")))
            .timeout(PING_TIMEOUT)
            .build();
        match client {
            Ok(client) => Some(Ping {
                url,
                client,
                body_limit: AtomicUsize::new(LOG_TAIL),
            }),
            Err(err) => {
                warn(
                    log,
                    &format!("failed to set up the ping's HTTP client: {err}"),
                );
                None
            }
        }
    }

    /// `/start?rid=<run id>`: the run has its slot and is recorded as running. The answer's
    /// `Ping-Body-Limit` bounds the failure ping's body.
    pub(crate) async fn start(&self, run_id: &str, log: &RunLog) {
        if let Some(response) = self.send("/start", run_id, "start", None, log).await
            && let Some(limit) = response
                .headers()
                .get("ping-body-limit")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<usize>().ok())
        {
            self.body_limit.store(limit, Ordering::Relaxed);
        }
    }

    /// The base URL on success, `/<exit code>` with the end of the log on failure (or an
    /// interruption). A run going back to the queue for another attempt has not ended: it
    /// pings nothing, so a monitor hears of a failure once, when it is final.
    pub(crate) async fn end(&self, run_id: &str, status: RunStatus, log: &RunLog) {
        let code = match status {
            RunStatus::Succeeded => {
                self.send("", run_id, "success", None, log).await;
                return;
            }
            RunStatus::Failed => ExitStatus::Failure.code(),
            RunStatus::Interrupted => ExitStatus::Interrupted.code(),
            _ => return,
        };
        let body = tail(&log.text(), self.body_limit.load(Ordering::Relaxed)).to_owned();
        let suffix = format!("/{code}");
        self.send(&suffix, run_id, "failure", Some(body), log).await;
    }

    /// `/log` with why the run was skipped: another run held the integration.
    pub(crate) async fn skipped(&self, run_id: &str, message: &str, log: &RunLog) {
        self.send("/log", run_id, "skip", Some(message.to_owned()), log)
            .await;
    }

    /// POSTs to the URL with `suffix` and `?rid=<run id>` (which ties a start to its end),
    /// trying again after a connection error, a 429 or a 5xx; a ping that
    /// still fails is a warning, never the run's failure.
    async fn send(
        &self,
        suffix: &str,
        run_id: &str,
        what: &str,
        body: Option<String>,
        log: &RunLog,
    ) -> Option<reqwest::Response> {
        let mut attempt = 0;
        loop {
            let request = self
                .client
                .post(format!("{}{suffix}", self.url))
                .query(&[("rid", run_id)])
                .body(body.clone().unwrap_or_default());
            let problem = match request.send().await {
                Ok(response) if response.status().is_success() => return Some(response),
                Ok(response) => {
                    let status = response.status();
                    let again = status.is_server_error() || status.as_u16() == 429;
                    (format!("it answered {status}"), again)
                }
                Err(err) => (format!("{err:#}"), true),
            };
            if !problem.1 || attempt >= PING_RETRIES {
                let tries = attempt + 1;
                let plural = if tries == 1 { "" } else { "s" };
                warn(
                    log,
                    &format!(
                        "failed to send the {what} ping to {} ({tries} attempt{plural}): {}",
                        self.url, problem.0
                    ),
                );
                return None;
            }
            tokio::time::sleep(backoff::jittered(PING_BACKOFF, attempt, PING_TIMEOUT)).await;
            attempt += 1;
        }
    }
}

/// A run that failed for good runs its `on_failure` steps once its own steps are over and
/// before its end is recorded: their lines go into its log, their failure is a warning there.
/// A run going back to the queue has not failed yet. `error` is the run's, redacted.
pub(crate) async fn on_failure(
    config: &Config,
    integration: &Integration,
    run: &RunContext,
    log: &RunLog,
    observer: &dyn Observer,
    status: RunStatus,
    error: Option<&str>,
) {
    if status != RunStatus::Failed || integration.on_failure.is_empty() {
        return;
    }
    let tail = tail(&log.text(), LOG_TAIL).to_owned();
    let error = error.unwrap_or_default();
    // Their failure is already in the log: the run's own status and error stay.
    let _ = engine::execute_on_failure(config, integration, run, log, observer, error, &tail).await;
}

/// The end of `text`, at most `limit` bytes, from the start of a line when one starts there.
pub(crate) fn tail(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let start = text.ceil_char_boundary(text.len() - limit);
    let rest = &text[start..];
    match rest.find('\n') {
        Some(newline) if newline + 1 < rest.len() => &rest[newline + 1..],
        _ => rest,
    }
}

/// A ping's trouble: in the run's log, and on stderr (redacted both ways: the URL is hidden).
fn warn(log: &RunLog, message: &str) {
    let message = log.redact(message);
    log.line("ping", ">", &format!("warning: {message}"));
    tracing::warn!("{message}");
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn a_tail_is_at_most_its_limit_and_starts_at_a_line() {
        let log = "first line\nsecond line\nthird\n";
        assert_eq!(tail(log, 100), log);
        assert_eq!(tail(log, log.len()), log);
        // Cut inside the second line: it starts at the third.
        assert_eq!(tail(log, 15), "third\n");
        // No whole line fits: the bytes that do.
        assert_eq!(tail(log, 4), "ird\n");
        assert_eq!(tail(log, 0), "");
    }

    #[test]
    fn a_tail_never_cuts_a_character() {
        let log = "ééé";
        for limit in 0..=log.len() {
            let cut = tail(log, limit);
            assert!(cut.len() <= limit, "{limit}: {cut:?}");
            assert!(log.ends_with(cut));
        }
    }
}
