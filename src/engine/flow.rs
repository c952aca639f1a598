//! How steps run besides "once": skipped by `when`, repeated by `for_each` with bounded
//! concurrency (results in order), and fed page by page with another step's records so that
//! memory stays flat however many records there are.

use anyhow::{anyhow, bail};
use futures_util::StreamExt as _;
use serde_json::{Value, json};

use crate::config::kinds::{ForEach, OnError};
use crate::config::model::{Step, StepKind};
use crate::run_log::RunStats;
use crate::steps::Records;
use crate::steps::http::{RateLimiter, truthy};
use crate::steps::output::OutputWriter;
use crate::steps::{self, StepScope};
use crate::template::context;

/// How many failed items an error names; the log has them all.
const FAILURES_SHOWN: usize = 5;

/// Runs a step that takes no other step's records.
pub(super) async fn run_step(step: &Step, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    match &step.for_each {
        None => {
            if !when(step, scope)? {
                scope.note("skipped: `when` is false");
                return Ok(Value::Null);
            }
            steps::run(step, scope).await
        }
        Some(for_each) => {
            let items = match &for_each.source {
                crate::config::kinds::ItemSource::Items(items) => scope.render_value(items)?,
                crate::config::kinds::ItemSource::Records(_) => {
                    unreachable!("steps that take records run with their source")
                }
            };
            let Value::Array(items) = items else {
                bail!("`for_each.items` gave {items}, expected a list");
            };
            let total = items.len() as u64;
            let mut repeat = Repeat::new(step, for_each, scope, Some(total));
            let results = repeat.batch(items).await?;
            // Fails when items failed under `on_error = "continue"`.
            repeat.finish()?;
            Ok(Value::Array(results))
        }
    }
}

/// Runs a step with records and the steps that take them: each page goes to each taker in
/// turn before the next page is fetched. Returns the results of all of them, by position.
pub(super) async fn run_source(
    step: &Step,
    scope: &StepScope<'_>,
    takers: &[(usize, &Step)],
) -> anyhow::Result<Vec<(usize, Value)>> {
    let mut source = Records::open(step, scope)?;
    // Each taker gets its own label and rate limiter, which its scope borrows.
    let labels: Vec<String> = takers
        .iter()
        .map(|(position, taker)| format!("step {}", taker.label(*position)))
        .collect();
    let limiters: Vec<Option<RateLimiter>> = takers
        .iter()
        .map(|(_, taker)| rate_limiter(taker))
        .collect();
    let scopes: Vec<StepScope<'_>> = labels
        .iter()
        .zip(&limiters)
        .map(|(label, rate)| scope.for_step(label, rate.as_ref()))
        .collect();
    let mut states: Vec<Taker<'_, '_>> = Vec::new();
    for ((_, taker), taker_scope) in takers.iter().zip(&scopes) {
        states.push(match (&taker.for_each, &taker.kind) {
            (Some(for_each), _) => Taker::Repeat(Repeat::new(taker, for_each, taker_scope, None)),
            (None, StepKind::Output(output)) => {
                Taker::Output(OutputWriter::open(output, taker_scope)?)
            }
            (None, _) => unreachable!("validated: only for_each and output steps take records"),
        });
    }

    while let Some(batch) = source.next().await? {
        for state in &mut states {
            match state {
                Taker::Repeat(repeat) => {
                    repeat.batch(batch.clone()).await?;
                }
                Taker::Output(writer) => {
                    writer.records(&batch)?;
                    RunStats::add(&scope.log.stats.items, batch.len() as u64);
                }
            }
        }
    }

    // The source's own result goes under its position, just before its first taker.
    let source_position = takers[0].0 - 1;
    let mut results = vec![(source_position, source.finish())];
    for ((position, _), state) in takers.iter().zip(states) {
        let value = match state {
            Taker::Repeat(repeat) => repeat.finish()?,
            Taker::Output(writer) => writer.finish()?,
        };
        results.push((*position, value));
    }
    Ok(results)
}

/// What a step that takes records is doing with them.
enum Taker<'s, 'a> {
    Repeat(Repeat<'s, 'a>),
    Output(OutputWriter<'s, 'a>),
}

/// A `for_each` step going through its items, batch by batch.
struct Repeat<'s, 'a> {
    step: &'s Step,
    for_each: &'s ForEach,
    scope: &'s StepScope<'a>,
    total: Option<u64>,
    done: u64,
    failures: Vec<(u64, String)>,
}

impl<'s, 'a> Repeat<'s, 'a> {
    fn new(
        step: &'s Step,
        for_each: &'s ForEach,
        scope: &'s StepScope<'a>,
        total: Option<u64>,
    ) -> Self {
        Repeat {
            step,
            for_each,
            scope,
            total,
            done: 0,
            failures: Vec::new(),
        }
    }

    /// Runs the step for each item of a batch, at most `concurrency` at once; results in the
    /// order of the items.
    async fn batch(&mut self, items: Vec<Value>) -> anyhow::Result<Vec<Value>> {
        let first = self.done;
        let step = self.step;
        let scope = self.scope;
        let runs = items.into_iter().enumerate().map(|(offset, item)| {
            let index = first + offset as u64;
            async move {
                let label = format!("{} #{index}", scope.label);
                let item_scope = StepScope {
                    label: &label,
                    log_requests: false,
                    ..scope.with(minijinja::context! { item => context(&item), index => index })
                };
                if !when(step, &item_scope).map_err(|err| (index, err))? {
                    return Ok(Value::Null);
                }
                steps::run(step, &item_scope)
                    .await
                    .map_err(|err| (index, err))
            }
        });
        let mut results = Vec::new();
        let mut stream = futures_util::stream::iter(runs).buffered(self.for_each.concurrency);
        while let Some(result) = stream.next().await {
            self.done += 1;
            RunStats::add(&scope.log.stats.items, 1);
            scope
                .observer
                .progress(scope.label, "items", self.done, self.total);
            match result {
                Ok(value) => results.push(value),
                Err((index, err)) => match self.for_each.on_error {
                    OnError::Stop => return Err(err.context(format!("item #{index} failed"))),
                    OnError::Continue => {
                        let message = scope.redact(&format!("{err:#}"));
                        scope.note(&format!("item #{index} failed: {message}"));
                        self.failures.push((index, message));
                        results.push(Value::Null);
                    }
                },
            }
        }
        Ok(results)
    }

    /// The step's result once every item ran; an error naming the failed items, if any.
    fn finish(self) -> anyhow::Result<Value> {
        if self.failures.is_empty() {
            return Ok(json!({ "items": self.done, "failed": 0 }));
        }
        let count = self.failures.len();
        let named: Vec<String> = self
            .failures
            .iter()
            .take(FAILURES_SHOWN)
            .map(|(index, error)| format!("#{index}: {error}"))
            .collect();
        let more = if count > FAILURES_SHOWN {
            format!("; and {} more (see the log)", count - FAILURES_SHOWN)
        } else {
            String::new()
        };
        Err(anyhow!(
            "{count} of {} items failed: {}{more}",
            self.done,
            named.join("; ")
        ))
    }
}

/// A step's `rate` limiter, shared by all its items.
pub(super) fn rate_limiter(step: &Step) -> Option<RateLimiter> {
    match &step.kind {
        StepKind::Http(http) => http.rate.map(RateLimiter::new),
        _ => None,
    }
}

/// Whether the step's `when` (if any) lets it run.
fn when(step: &Step, scope: &StepScope<'_>) -> anyhow::Result<bool> {
    match &step.when {
        None => Ok(true),
        Some(condition) => Ok(truthy(&scope.render_value(condition)?)),
    }
}
