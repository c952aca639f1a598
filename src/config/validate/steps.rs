//! Validating `steps`: the common keys (`id`, `when`, `for_each`) here, and each step kind's
//! settings in a file of its own, as in `crate::steps`.

mod command;
mod http;
mod output;

use std::collections::BTreeMap;
use std::ops::Range;

use indexmap::IndexMap;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::DeValue;

use super::{Scope, Validator, is_identifier};
use crate::config::kinds::{ForEach, ItemSource, JsonTemplate, OnError};
use crate::config::model::{Step, StepKind};
use crate::config::raw::{RawCommand, RawForEach, RawHttp, RawOnError, RawOutput, RawStep};
use crate::scope::{FAILED_RUN_FIELDS, RUN_ROOTS as STEP_ROOTS};
use crate::suggest;
use crate::template::Text;

const STEP_KINDS: &[&str] = &["command", "http", "output"];
/// The keys of a step besides its kind.
const COMMON_KEYS: &[&str] = &["id", "when", "for_each"];
const ITEM_ROOTS: &[&str] = &["item", "index"];
const DEFAULT_CONCURRENCY: u32 = 1;

/// What validating one step needs to know about the others.
struct StepContext<'a> {
    path: String,
    params: &'a [String],
    secrets: &'a [String],
    earlier: Vec<&'a str>,
    later: Vec<&'a str>,
    /// Earlier steps that produce records (`http` with `records`).
    record_sources: &'a [String],
    /// Earlier steps that are wrong in themselves, and may or may not produce records.
    broken: &'a [String],
    /// The step's keys whose values were wrong and are reported.
    left_out: &'a LeftOut,
    /// The integration has a schedule, so its runs have a `window`.
    scheduled: bool,
}

/// The keys of a step whose values were wrong, already reported: `for_each`, `http`, or a
/// kind's own, such as `http.records`. What is said about the step holds back what their
/// absence alone would make it say ("needs exactly one method" after a wrong `get`).
#[derive(Debug, Default)]
pub(super) struct LeftOut(Vec<String>);

impl LeftOut {
    /// Whether any of `keys` was left out.
    pub(super) fn any(&self, keys: &[&str]) -> bool {
        self.0.iter().any(|key| keys.contains(&key.as_str()))
    }

    /// Whether a key of the step's own table that is none of `known` was left out.
    fn unknown(&self, known: &[&str]) -> bool {
        self.0.iter().any(|key| {
            !key.contains('.')
                && !known.contains(&key.as_str())
                && !STEP_KINDS.contains(&key.as_str())
        })
    }
}

impl StepContext<'_> {
    fn scope(&self, extra: &[&'static str]) -> Scope<'_> {
        let mut roots = STEP_ROOTS.to_vec();
        if !self.scheduled {
            roots.retain(|root| *root != "window");
        }
        roots.extend_from_slice(extra);
        Scope {
            roots,
            params: self.params.iter().map(String::as_str).collect(),
            secrets: self.secrets.iter().map(String::as_str).collect(),
            earlier_steps: self.earlier.clone(),
            later_steps: self.later.clone(),
        }
    }
}

impl Validator<'_> {
    pub(super) fn steps(
        &mut self,
        integration: &str,
        value: Spanned<DeValue<'_>>,
        params: &[String],
        secrets: &[String],
    ) -> Vec<Step> {
        self.step_list(integration, "steps", value, params, secrets)
    }

    /// `[[integration.NAME.on_failure]]`: steps like any, whose templates may also read
    /// `run.error` and `run.log_tail`. They are their own list: they cannot read `steps.*` of
    /// the run's steps, which may not all have run.
    pub(super) fn on_failure_steps(
        &mut self,
        integration: &str,
        value: Spanned<DeValue<'_>>,
        params: &[String],
        secrets: &[String],
    ) -> Vec<Step> {
        let run_fields = std::mem::replace(&mut self.run_fields, FAILED_RUN_FIELDS);
        let steps = self.step_list(integration, "on_failure", value, params, secrets);
        self.run_fields = run_fields;
        steps
    }

    /// A list of steps under `integration.NAME.KEY`.
    fn step_list(
        &mut self,
        integration: &str,
        key: &str,
        value: Spanned<DeValue<'_>>,
        params: &[String],
        secrets: &[String],
    ) -> Vec<Step> {
        let span = value.span();
        let items = match value.into_inner() {
            DeValue::Array(items) => items,
            other => {
                self.error(
                    format!(
                        "`{key}` of `{integration}` must be an array of tables, found {}",
                        other.type_str()
                    ),
                    span,
                );
                return Vec::new();
            }
        };
        let items: Vec<_> = items.into_iter().collect();
        // Ids first, so a template that names a later step can say so.
        let ids: Vec<Option<String>> = items
            .iter()
            .map(|item| {
                item.get_ref()
                    .as_table()
                    .and_then(|t| t.iter().find(|(k, _)| k.get_ref() == "id"))
                    .and_then(|(_, v)| v.get_ref().as_str().map(str::to_owned))
            })
            .collect();
        let mut steps: Vec<Step> = Vec::new();
        let mut seen: BTreeMap<String, ()> = BTreeMap::new();
        let mut record_sources: Vec<String> = Vec::new();
        // Steps with a mistake of their own: what names them has been told already.
        let mut broken: Vec<String> = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            let step_span = item.span();
            let Some((raw, left_out)) = self.raw_step(item) else {
                broken.extend(ids[index].clone());
                continue;
            };
            if let Some(id) = &raw.id {
                if !is_identifier(id.get_ref()) {
                    self.error(
                        format!(
                            "invalid step id `{}`: use letters, digits and `_`, not starting with a digit",
                            id.get_ref()
                        ),
                        id.span(),
                    );
                } else if seen.insert(id.get_ref().clone(), ()).is_some() {
                    self.error(format!("duplicate step id `{}`", id.get_ref()), id.span());
                }
            }
            let context = StepContext {
                path: format!("integration.{integration}.{key}[{index}]"),
                params,
                secrets,
                earlier: ids[..index].iter().flatten().map(String::as_str).collect(),
                later: ids[index..].iter().flatten().map(String::as_str).collect(),
                record_sources: &record_sources,
                broken: &broken,
                left_out: &left_out,
                scheduled: self.scheduled,
            };
            // A step with a `for_each` has `item`, even when the `for_each` itself is wrong.
            let each = raw.for_each.is_some() || left_out.any(&["for_each"]);
            let for_each = raw
                .for_each
                .and_then(|for_each| self.for_each(&context, for_each));
            let item_roots: &[&'static str] = if each { ITEM_ROOTS } else { &[] };
            let when = raw.when.and_then(|when| {
                let expression = when_expression(when.get_ref());
                let spanned = Spanned::new(when.span(), expression);
                self.template(
                    &format!("{}.when", context.path),
                    &spanned,
                    &context.scope(item_roots),
                )
            });
            let Some(kind) = self.step_kind(
                &context,
                raw.command,
                raw.http,
                raw.output,
                step_span.clone(),
                item_roots,
            ) else {
                broken.extend(ids[index].clone());
                continue;
            };
            let step = Step {
                id: raw.id.map(Spanned::into_inner),
                when,
                for_each,
                kind,
            };
            self.check_consumer_position(&steps, &step, step_span);
            if let (Some(id), StepKind::Http(http)) = (&step.id, &step.kind)
                && http.records.is_some()
            {
                record_sources.push(id.clone());
            }
            steps.push(step);
        }
        steps
    }

    /// A step's table, read key by key: its kind's settings (`http = { … }`) apart from the
    /// common keys, so that a mistake in one does not hide those in the other.
    fn raw_step(&mut self, item: Spanned<DeValue<'_>>) -> Option<(RawStep, LeftOut)> {
        let span = item.span();
        let mut table = match item.into_inner() {
            DeValue::Table(table) => table,
            other => {
                return self
                    .de(Spanned::new(span, other))
                    .map(|raw| (raw, LeftOut::default()));
            }
        };
        let kinds: Vec<_> = STEP_KINDS
            .iter()
            .filter_map(|name| table.remove(*name).map(|value| (*name, value)))
            .collect();
        let common = self.de_each::<RawStep>(Spanned::new(span, DeValue::Table(table)));
        let mut left_out = Vec::new();
        let (mut command, mut http, mut output) = (None, None, None);
        for (name, value) in kinds {
            match name {
                "command" => command = self.step_settings(name, value, &mut left_out),
                "http" => http = self.step_settings(name, value, &mut left_out),
                _ => output = self.step_settings(name, value, &mut left_out),
            }
        }
        let (mut raw, common_left_out) = common?;
        left_out.extend(common_left_out);
        raw.command = command;
        raw.http = http;
        raw.output = output;
        Some((raw, LeftOut(left_out)))
    }

    /// A step kind's settings (`name` is `http`, …), noting in `left_out` what was wrong.
    fn step_settings<T: DeserializeOwned>(
        &mut self,
        name: &str,
        value: Spanned<DeValue<'_>>,
        left_out: &mut Vec<String>,
    ) -> Option<Spanned<T>> {
        let span = value.span();
        match self.de_each(value) {
            Some((settings, keys)) => {
                left_out.extend(keys.into_iter().map(|key| format!("{name}.{key}")));
                Some(Spanned::new(span, settings))
            }
            None => {
                left_out.push(name.to_owned());
                None
            }
        }
    }

    /// A step that takes another's records runs while that step fetches its pages, so it must
    /// come right after it (or after another step that takes the same records).
    fn check_consumer_position(&mut self, earlier: &[Step], step: &Step, span: Range<usize>) {
        let Some(source) = step.consumes() else {
            return;
        };
        let position = earlier
            .iter()
            .rposition(|s| s.id.as_deref() == Some(source));
        let Some(position) = position else {
            return;
        };
        let in_between = &earlier[position + 1..];
        if in_between.iter().any(|s| s.consumes() != Some(source)) {
            self.error(
                format!(
                    "a step that takes the records of `{source}` must come right after it (or after another step that takes them)"
                ),
                span,
            );
        }
    }

    fn for_each(&mut self, context: &StepContext<'_>, raw: Spanned<RawForEach>) -> Option<ForEach> {
        let span = raw.span();
        let raw = raw.into_inner();
        let source = match (raw.records_of, raw.items) {
            (Some(source), None) => {
                self.record_source(context, &source)?;
                ItemSource::Records(source.into_inner())
            }
            (None, Some(items)) => ItemSource::Items(self.template(
                &format!("{}.for_each.items", context.path),
                &items,
                &context.scope(&[]),
            )?),
            _ => {
                self.error(
                    "`for_each` needs exactly one of `records_of` or `items`",
                    span,
                );
                return None;
            }
        };
        let concurrency = match raw.concurrency {
            Some(n) if *n.get_ref() == 0 => {
                self.error("`concurrency` must be at least 1", n.span());
                return None;
            }
            Some(n) => n.into_inner(),
            None => DEFAULT_CONCURRENCY,
        };
        Some(ForEach {
            source,
            concurrency: concurrency as usize,
            on_error: match raw.on_error {
                None | Some(RawOnError::Stop) => OnError::Stop,
                Some(RawOnError::Continue) => OnError::Continue,
            },
        })
    }

    /// `records_of` must name an earlier `http` step with `records`.
    fn record_source(&mut self, context: &StepContext<'_>, source: &Spanned<String>) -> Option<()> {
        let name = source.get_ref();
        if context.record_sources.iter().any(|s| s == name) {
            return Some(());
        }
        if context.broken.iter().any(|s| s == name) {
            return None;
        }
        let hint = suggest::did_you_mean(name, context.record_sources.iter().map(String::as_str));
        let message = if context.earlier.contains(&name.as_str()) {
            format!("step `{name}` has no records: give it `http.records`")
        } else {
            format!("`records_of` names `{name}`, which is not an earlier step with records")
        };
        self.error_with_hint(message, source.span(), hint);
        None
    }

    fn step_kind(
        &mut self,
        context: &StepContext<'_>,
        command: Option<Spanned<RawCommand>>,
        http: Option<Spanned<RawHttp>>,
        output: Option<Spanned<RawOutput>>,
        span: Range<usize>,
        item_roots: &[&'static str],
    ) -> Option<StepKind> {
        let path = &context.path;
        match (command, http, output) {
            (Some(command), None, None) => self
                .command(
                    &format!("{path}.command"),
                    command,
                    &context.scope(item_roots),
                    context.left_out,
                )
                .map(StepKind::Command),
            (None, Some(http), None) => self
                .http(context, http, item_roots)
                .map(|http| StepKind::Http(Box::new(http))),
            (None, None, Some(output)) => self
                .output(context, output, item_roots)
                .map(StepKind::Output),
            // A kind whose settings are wrong has said so, and so has an unknown key (`htp`),
            // most likely the kind misspelt.
            (None, None, None)
                if context.left_out.any(STEP_KINDS) || context.left_out.unknown(COMMON_KEYS) =>
            {
                None
            }
            (None, None, None) => {
                self.error(
                    format!(
                        "step has no kind, expected one of {}",
                        suggest::list(STEP_KINDS.iter().copied())
                    ),
                    span,
                );
                None
            }
            _ => {
                self.error(
                    format!(
                        "a step has exactly one kind, one of {}",
                        suggest::list(STEP_KINDS.iter().copied())
                    ),
                    span,
                );
                None
            }
        }
    }

    /// Templates for each value of a table (`env`, `query`, `headers`, `form`).
    fn text_map(
        &mut self,
        path: &str,
        map: &IndexMap<String, Spanned<String>>,
        scope: &Scope<'_>,
    ) -> Option<Vec<(String, Text)>> {
        let mut texts = Vec::new();
        let mut ok = true;
        for (name, value) in map {
            match self.template(&format!("{path}.{name}"), value, scope) {
                Some(text) => texts.push((name.clone(), text)),
                None => ok = false,
            }
        }
        ok.then_some(texts)
    }

    /// A JSON body: every string in it is a template. TOML keeps no positions inside a value
    /// read whole, so problems point at the whole `json` value and name the key path.
    fn json_template(
        &mut self,
        path: &str,
        span: Range<usize>,
        value: &toml::Value,
        scope: &Scope<'_>,
    ) -> Option<JsonTemplate> {
        match value {
            toml::Value::String(text) => {
                let spanned = Spanned::new(span, text.clone());
                self.template(path, &spanned, scope).map(JsonTemplate::Text)
            }
            toml::Value::Array(items) => {
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    out.push(self.json_template(
                        &format!("{path}[{i}]"),
                        span.clone(),
                        item,
                        scope,
                    ));
                }
                out.into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(JsonTemplate::Array)
            }
            toml::Value::Table(table) => {
                let mut out = Vec::new();
                for (key, item) in table {
                    let item =
                        self.json_template(&format!("{path}.{key}"), span.clone(), item, scope);
                    out.push(item.map(|item| (key.clone(), item)));
                }
                out.into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(JsonTemplate::Object)
            }
            other => Some(JsonTemplate::Value(crate::params::toml_to_json(other))),
        }
    }
}

/// `when` and `stop_when` are expressions; `{{ … }}` around one is tolerated.
pub(super) fn when_expression(source: &str) -> String {
    let trimmed = source.trim();
    let inner = trimmed
        .strip_prefix("{{")
        .and_then(|s| s.strip_suffix("}}"))
        .unwrap_or(trimmed);
    format!("{{{{ {} }}}}", inner.trim())
}
