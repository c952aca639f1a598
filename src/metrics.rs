//! The listener's counters (requests at its doors, runs of its queue), served as Prometheus text at `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) accepted: Counter,
    rejected: Family<Labels, Counter>,
    pub(crate) deduplicated: Counter,
    pub(crate) ignored: Counter,
    pub(crate) queued: Gauge,
    pub(crate) running: Gauge,
    pub(crate) succeeded: Counter,
    pub(crate) failed: Counter,
    pub(crate) retries: Counter,
    pub(crate) latency: Histogram,
    pub(crate) link_requests: Counter,
    pub(crate) link_refusals: Counter,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("integ_webhook");
        let metrics = Metrics {
            accepted: Counter::default(),
            rejected: Family::default(),
            deduplicated: Counter::default(),
            ignored: Counter::default(),
            queued: Gauge::default(),
            running: Gauge::default(),
            succeeded: Counter::default(),
            failed: Counter::default(),
            retries: Counter::default(),
            // 0.5 ms to about 4 s.
            latency: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            link_requests: Counter::default(),
            link_refusals: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "link_requests",
            "Requests to /run/NAME that passed the link's auth",
            metrics.link_requests.clone(),
        );
        registry.register(
            "link_refusals",
            "Requests to /run/NAME refused (unknown link, wrong method, wrong credentials)",
            metrics.link_refusals.clone(),
        );
        registry.register(
            "events_accepted",
            "Events stored and answered 202",
            metrics.accepted.clone(),
        );
        registry.register(
            "events_rejected",
            "Events refused, by reason",
            metrics.rejected.clone(),
        );
        registry.register(
            "events_deduplicated",
            "Re-deliveries answered with the earlier run",
            metrics.deduplicated.clone(),
        );
        registry.register(
            "events_ignored",
            "Events dropped by `when`",
            metrics.ignored.clone(),
        );
        registry.register(
            "runs_queued",
            "Runs waiting for a worker",
            metrics.queued.clone(),
        );
        registry.register("runs_running", "Runs in progress", metrics.running.clone());
        registry.register(
            "runs_succeeded",
            "Runs that succeeded",
            metrics.succeeded.clone(),
        );
        registry.register(
            "runs_failed",
            "Runs that failed their last attempt",
            metrics.failed.clone(),
        );
        registry.register(
            "runs_retried",
            "Failed runs queued for another attempt",
            metrics.retries.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to answer a webhook request",
            metrics.latency.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    pub(crate) fn reject(&self, reason: &str) {
        self.rejected
            .get_or_create(&vec![("reason".to_owned(), reason.to_owned())])
            .inc();
    }

    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
