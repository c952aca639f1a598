//! A run's log, and the redactor that keeps secrets out of it and out of everything else a run
//! prints or stores.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Local;

/// The most log text one run keeps; past it the log says it was cut.
const LOG_LIMIT: usize = 4 << 20;

/// The run's log: timestamped lines, redacted, capped at [`LOG_LIMIT`]; and its counters.
pub struct RunLog {
    text: Mutex<String>,
    redactor: Redactor,
    pub stats: RunStats,
}

/// What a run did, for its summary line.
#[derive(Debug, Default)]
pub struct RunStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub pages: AtomicU64,
    pub items: AtomicU64,
}

impl RunStats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// `12 requests (2 retries), 3 pages, 2,500 items`, or nothing for a run that made none.
    pub fn summary(&self) -> Option<String> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let (requests, retries, pages, items) = (
            get(&self.requests),
            get(&self.retries),
            get(&self.pages),
            get(&self.items),
        );
        let mut parts = Vec::new();
        if requests > 0 {
            let plural = if requests == 1 { "" } else { "s" };
            let retried = match retries {
                0 => String::new(),
                1 => " (1 retry)".to_owned(),
                n => format!(" ({n} retries)"),
            };
            parts.push(format!("{requests} request{plural}{retried}"));
        }
        if pages > 1 {
            parts.push(format!("{pages} pages"));
        }
        if items > 0 {
            parts.push(format!("{items} item{}", if items == 1 { "" } else { "s" }));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

impl RunLog {
    /// A log that hides the run's secrets.
    pub fn new(secrets: &BTreeMap<String, String>) -> Self {
        RunLog {
            text: Mutex::new(String::new()),
            redactor: Redactor::new(secrets.values()),
            stats: RunStats::default(),
        }
    }

    /// Adds `text` as said by `label` (`step 2`, `run`); `marker` tells what kind of line it is:
    /// `>` an event, `|` stdout, `!` stderr.
    pub fn line(&self, label: &str, marker: &str, text: &str) {
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
        // In a URL a secret is percent-encoded like any value there: hide that form too.
        let encoded: Vec<String> = secrets
            .iter()
            .map(|secret| crate::template::url_encoded(secret))
            .filter(|encoded| !secrets.contains(encoded))
            .collect();
        secrets.extend(encoded);
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{Redactor, RunLog};

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

    #[test]
    fn log_lines_are_redacted() {
        let secrets = BTreeMap::from([("key".to_owned(), "hunter2".to_owned())]);
        let log = RunLog::new(&secrets);
        log.line("step 1", "|", "password is hunter2");
        assert!(
            log.text().ends_with(" step 1 | password is ***\n"),
            "{}",
            log.text()
        );
    }
}
