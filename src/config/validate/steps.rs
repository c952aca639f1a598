//! Validating `steps`: the common keys (`id`, `when`, `for_each`) and each step kind's settings.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::DeValue;

use super::{Scope, Validator, is_identifier};
use crate::config::kinds::{
    Body, CommandStep, ForEach, HttpAuth, HttpStep, ItemSource, JsonTemplate, OnError,
    OutputFormat, OutputStep, PageMode, Paginate, Program, Rate,
};
use crate::config::model::{Step, StepKind};
use crate::config::raw::{
    RawCommand, RawForEach, RawFormat, RawHttp, RawOnError, RawOutput, RawPaginate, RawStdout,
    RawStep,
};
use crate::suggest;
use crate::template::{Kind, Text};

const STEP_KINDS: &[&str] = &["command", "http", "output"];
use crate::scope::RUN_ROOTS as STEP_ROOTS;
/// What a response template (`records`, `paginate`) can read besides the step's own names.
const RESPONSE_ROOTS: &[&str] = &["body", "headers", "status"];
const ITEM_ROOTS: &[&str] = &["item", "index"];
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_RETRIES: u32 = 3;
const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
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
}

impl StepContext<'_> {
    fn scope(&self, extra: &[&'static str]) -> Scope<'_> {
        let mut roots = STEP_ROOTS.to_vec();
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
        let span = value.span();
        let items = match value.into_inner() {
            DeValue::Array(items) => items,
            other => {
                self.error(
                    format!(
                        "`steps` of `{integration}` must be an array of tables, found {}",
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
        for (index, item) in items.into_iter().enumerate() {
            let step_span = item.span();
            let Some(raw) = self.de::<RawStep>(item) else {
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
                path: format!("integration.{integration}.steps[{index}]"),
                params,
                secrets,
                earlier: ids[..index].iter().flatten().map(String::as_str).collect(),
                later: ids[index..].iter().flatten().map(String::as_str).collect(),
                record_sources: &record_sources,
            };
            let for_each = raw
                .for_each
                .and_then(|for_each| self.for_each(&context, for_each));
            let item_roots: &[&'static str] = if for_each.is_some() { ITEM_ROOTS } else { &[] };
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
                )
                .map(StepKind::Command),
            (None, Some(http), None) => self
                .http(context, http, item_roots)
                .map(|http| StepKind::Http(Box::new(http))),
            (None, None, Some(output)) => self
                .output(context, output, item_roots)
                .map(StepKind::Output),
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

    fn command(
        &mut self,
        path: &str,
        raw: Spanned<RawCommand>,
        scope: &Scope<'_>,
    ) -> Option<CommandStep> {
        let span = raw.span();
        let raw = raw.into_inner();
        let program = match (raw.argv, raw.shell) {
            (Some(argv), None) => {
                if argv.get_ref().is_empty() {
                    self.error("`argv` must name a program", argv.span());
                    return None;
                }
                let mut texts = Vec::new();
                let mut after_dashes = false;
                for (i, arg) in argv.into_inner().iter().enumerate() {
                    let name = format!("{path}.argv[{i}]");
                    texts.push(self.argv_element(&name, arg, scope, after_dashes));
                    after_dashes |= arg.get_ref() == "--";
                }
                Program::Argv(texts.into_iter().collect::<Option<Vec<_>>>()?)
            }
            (None, Some(shell)) => {
                if shell.get_ref().contains("{{") || shell.get_ref().contains("{%") {
                    self.error_with_hint(
                        "a `shell` script is not templated, so values cannot be injected into it",
                        shell.span(),
                        Some("use `$PARAM_<NAME>` for params, or pass values through `env`".into()),
                    );
                    return None;
                }
                Program::Shell(shell.into_inner())
            }
            _ => {
                self.error("a command needs exactly one of `argv` or `shell`", span);
                return None;
            }
        };
        let env = self.text_map(&format!("{path}.env"), &raw.env, scope)?;
        let stdin = raw
            .stdin
            .and_then(|s| self.template(&format!("{path}.stdin"), &s, scope));
        let dir = raw
            .dir
            .and_then(|s| self.template_as(&format!("{path}.dir"), &s, scope, Kind::Path));
        let timeout = raw.timeout.and_then(|t| self.duration(&t));
        Some(CommandStep {
            program,
            env,
            stdin,
            dir,
            timeout,
            stdout_json: raw.stdout == Some(RawStdout::Json),
            inherit_env: raw.inherit_env,
        })
    }

    fn http(
        &mut self,
        context: &StepContext<'_>,
        raw: Spanned<RawHttp>,
        item_roots: &[&'static str],
    ) -> Option<HttpStep> {
        let span = raw.span();
        let raw = raw.into_inner();
        let path = format!("{}.http", context.path);
        let scope = context.scope(item_roots);
        let methods = [
            ("GET", raw.get),
            ("POST", raw.post),
            ("PUT", raw.put),
            ("PATCH", raw.patch),
            ("DELETE", raw.delete),
            ("HEAD", raw.head),
        ];
        let mut given = methods
            .into_iter()
            .filter_map(|(m, url)| url.map(|url| (m, url)));
        let (Some((method, url)), None) = (given.next(), given.next()) else {
            self.error_with_hint(
                "an `http` step needs exactly one method with its URL",
                span,
                Some("e.g. `http.get = \"https://api.example.com/items\"`".into()),
            );
            return None;
        };
        let url = self.url(
            &format!("{path}.{}", method.to_ascii_lowercase()),
            &url,
            &scope,
        );
        let query = self.text_map(&format!("{path}.query"), &raw.query, &scope);
        let headers = self.text_map(&format!("{path}.headers"), &raw.headers, &scope);
        let body = match (raw.json, raw.form, raw.body) {
            (None, None, None) => Some(Body::None),
            (Some(json), None, None) => self
                .json_template(&format!("{path}.json"), json.span(), json.get_ref(), &scope)
                .map(Body::Json),
            (None, Some(form), None) => self
                .text_map(&format!("{path}.form"), form.get_ref(), &scope)
                .map(Body::Form),
            (None, None, Some(raw_body)) => self
                .template(&format!("{path}.body"), &raw_body, &scope)
                .map(Body::Raw),
            _ => {
                self.error(
                    "an `http` step has at most one of `json`, `form` or `body`",
                    span.clone(),
                );
                None
            }
        };
        let auth = match raw.auth.map(Spanned::into_inner) {
            None => Some(None),
            Some(auth) => match (auth.basic, auth.bearer) {
                (Some(basic), None) => {
                    let user =
                        self.template(&format!("{path}.auth.basic.user"), &basic.user, &scope);
                    let password = self.template(
                        &format!("{path}.auth.basic.password"),
                        &basic.password,
                        &scope,
                    );
                    user.zip(password)
                        .map(|(user, password)| Some(HttpAuth::Basic { user, password }))
                }
                (None, Some(token)) => self
                    .template(&format!("{path}.auth.bearer"), &token, &scope)
                    .map(|token| Some(HttpAuth::Bearer(token))),
                _ => {
                    self.error(
                        "`auth` needs exactly one of `basic` or `bearer`",
                        span.clone(),
                    );
                    None
                }
            },
        };
        let expect = raw.expect.map(Spanned::into_inner).unwrap_or_default();
        let timeout = match raw.timeout {
            Some(t) => self.duration(&t),
            None => Some(DEFAULT_TIMEOUT),
        };
        let connect_timeout = match raw.connect_timeout {
            Some(t) => self.duration(&t),
            None => Some(DEFAULT_CONNECT_TIMEOUT),
        };
        let backoff = match raw.backoff {
            Some(t) => self.duration(&t),
            None => Some(DEFAULT_BACKOFF),
        };
        let rate = match raw.rate {
            Some(rate) => Some(self.rate(&rate)?),
            None => None,
        };
        let mut response_roots = item_roots.to_vec();
        response_roots.extend_from_slice(RESPONSE_ROOTS);
        let response_scope = context.scope(&response_roots);
        let records = raw
            .records
            .and_then(|r| self.template(&format!("{path}.records"), &r, &response_scope));
        let paginate = match raw.paginate {
            None => Some(None),
            Some(paginate) => {
                if records.is_none() {
                    self.error(
                        "`paginate` needs `records`: where the records sit in each page",
                        paginate.span(),
                    );
                }
                self.paginate(&path, paginate, &response_scope).map(Some)
            }
        };
        Some(HttpStep {
            method: method.to_owned(),
            url: url?,
            query: query?,
            headers: headers?,
            body: body?,
            auth: auth?,
            expect,
            timeout: timeout?,
            connect_timeout: connect_timeout?,
            retries: raw.retries.unwrap_or(DEFAULT_RETRIES),
            retry_writes: raw.retry_writes.unwrap_or(false),
            backoff: backoff?,
            rate,
            records,
            paginate: paginate?,
        })
    }

    fn paginate(
        &mut self,
        path: &str,
        raw: Spanned<RawPaginate>,
        scope: &Scope<'_>,
    ) -> Option<Paginate> {
        let span = raw.span();
        let raw = raw.into_inner();
        let mut modes = Vec::new();
        if let Some(next) = raw.next_link {
            modes.push(
                self.template(&format!("{path}.paginate.next_link"), &next, scope)
                    .map(PageMode::NextLink),
            );
        }
        if raw.link_header == Some(true) {
            modes.push(Some(PageMode::LinkHeader));
        }
        if let Some(offset) = raw.offset {
            modes.push(Some(PageMode::Offset {
                offset_param: offset.param.unwrap_or_else(|| "offset".into()),
                limit_param: offset.limit_param.unwrap_or_else(|| "limit".into()),
                limit: offset.limit.max(1),
            }));
        }
        if let Some(page) = raw.page {
            modes.push(Some(PageMode::PageNumber {
                param: page.param.unwrap_or_else(|| "page".into()),
                start: page.start.unwrap_or(1),
            }));
        }
        if let Some(cursor) = raw.cursor {
            modes.push(
                self.template(&format!("{path}.paginate.cursor.next"), &cursor.next, scope)
                    .map(|next| PageMode::Cursor {
                        param: cursor.param,
                        next,
                    }),
            );
        }
        if modes.len() != 1 {
            self.error(
                "`paginate` needs exactly one of `next_link`, `link_header`, `offset`, `page` or `cursor`",
                span,
            );
            return None;
        }
        let mode = modes.pop().flatten()?;
        let stop_when = match raw.stop_when {
            Some(stop) => {
                let expression = Spanned::new(stop.span(), when_expression(stop.get_ref()));
                let mut roots = scope.roots.clone();
                roots.push("records");
                let stop_scope = Scope {
                    roots,
                    ..scope.clone()
                };
                Some(self.template(
                    &format!("{path}.paginate.stop_when"),
                    &expression,
                    &stop_scope,
                )?)
            }
            None => None,
        };
        Some(Paginate {
            mode,
            max_pages: raw.max_pages,
            stop_when,
        })
    }

    fn output(
        &mut self,
        context: &StepContext<'_>,
        raw: Spanned<RawOutput>,
        item_roots: &[&'static str],
    ) -> Option<OutputStep> {
        let span = raw.span();
        let raw = raw.into_inner();
        let path = format!("{}.output", context.path);
        let scope = context.scope(item_roots);
        if let Some(source) = &raw.records_of {
            self.record_source(context, source)?;
        }
        if raw.records_of.is_some() == raw.value.is_some() && raw.template.is_none() {
            self.error("an `output` step needs exactly one of `records_of` or `value` (or a text `template`)", span.clone());
            return None;
        }
        let value = raw
            .value
            .as_ref()
            .map(|v| self.template(&format!("{path}.value"), v, &scope));
        let to = raw
            .to
            .as_ref()
            .map(|to| self.template_as(&format!("{path}.to"), to, &scope, Kind::Path));
        let row_scope = context.scope(ITEM_ROOTS);
        let format = match raw.format {
            RawFormat::Json => OutputFormat::Json,
            RawFormat::Jsonl => OutputFormat::JsonLines,
            RawFormat::Csv => match raw.columns {
                Some(columns) if !columns.is_empty() => OutputFormat::Csv {
                    columns,
                    header: raw.header.unwrap_or(true),
                },
                _ => {
                    self.error(
                        "a `csv` output needs `columns`: the fields to write, in order",
                        span,
                    );
                    return None;
                }
            },
            RawFormat::Text => {
                let mut text = |key: &str, value: &Option<Spanned<String>>, scope: &Scope<'_>| {
                    value
                        .as_ref()
                        .map(|v| self.template(&format!("{path}.{key}"), v, scope))
                };
                let template = text("template", &raw.template, &scope);
                let before = text("before", &raw.before, &scope);
                let row = text("row", &raw.row, &row_scope);
                let after = text("after", &raw.after, &scope);
                if template.is_none() && row.is_none() {
                    self.error(
                        "a `text` output needs a `template`, or a `row` for each record",
                        span,
                    );
                    return None;
                }
                OutputFormat::Text {
                    template: template.flatten(),
                    header: before.flatten(),
                    row: row.flatten(),
                    footer: after.flatten(),
                }
            }
        };
        Some(OutputStep {
            format,
            to: match to {
                Some(to) => Some(to?),
                None => None,
            },
            records_of: raw.records_of.map(Spanned::into_inner),
            value: match value {
                Some(value) => Some(value?),
                None => None,
            },
        })
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

    /// A step's URL: its values are encoded as data, so one that would set the scheme or host
    /// fails every run; say so now.
    fn url(&mut self, name: &str, value: &Spanned<String>, scope: &Scope<'_>) -> Option<Text> {
        let text = self.template_as(name, value, scope, Kind::Url)?;
        if let Some(range) = crate::template::value_in_authority(value.get_ref()) {
            let expression = &value.get_ref()[range.clone()];
            let span = super::inner_span(self.source, value.span(), value.get_ref(), range);
            self.error_with_hint(
                format!("the URL's scheme and host would come from a value, `{expression}`"),
                span,
                Some(format!(
                    "values in a URL are data, refused there; write the start of the URL in the \
                     file, or mark a value that is a whole base URL `| safe`: `{}`",
                    safe_form(expression)
                )),
            );
            return None;
        }
        Some(text)
    }

    /// An `argv` element. The params whose values may begin it (read before its first literal
    /// character, and with no `--` earlier in `argv`) are noted: one a webhook fills could pass
    /// the program an option.
    fn argv_element(
        &mut self,
        name: &str,
        value: &Spanned<String>,
        scope: &Scope<'_>,
        after_dashes: bool,
    ) -> Option<Text> {
        let (text, variables) = self.template_reading(name, value, scope, Kind::Plain)?;
        let source = value.get_ref();
        let start = &source[..leading_tags_end(source)];
        if after_dashes || start.is_empty() {
            return Some(text);
        }
        for var in &variables {
            let Some(param) = var.strip_prefix("params.") else {
                continue;
            };
            let param = param.split('.').next().unwrap_or(param);
            if let Some(at) = start.find(var.as_str()) {
                let span = super::inner_span(self.source, value.span(), source, at..at + var.len());
                self.argv_values.push(super::ArgvValue {
                    param: param.to_owned(),
                    span,
                });
            }
        }
        Some(text)
    }

    fn rate(&mut self, value: &Spanned<String>) -> Option<Rate> {
        let parsed = value.get_ref().split_once('/').and_then(|(count, unit)| {
            let count: u32 = count.trim().parse().ok().filter(|n| *n > 0)?;
            let per = match unit.trim() {
                "s" | "sec" | "second" => Duration::from_secs(1),
                "m" | "min" | "minute" => Duration::from_secs(60),
                "h" | "hour" => Duration::from_secs(3600),
                _ => return None,
            };
            Some(Rate { count, per })
        });
        if parsed.is_none() {
            self.error(
                format!(
                    "invalid rate `{}`: expected e.g. `10/s`, `100/min` or `1000/h`",
                    value.get_ref()
                ),
                value.span(),
            );
        }
        parsed
    }
}

/// Where the template tags at the start of `source` end: what a value there prints comes
/// before any of the template's own text.
fn leading_tags_end(source: &str) -> usize {
    let mut at = 0;
    loop {
        let rest = &source[at..];
        let close = match rest.get(..2) {
            Some("{{") => "}}",
            Some("{%") => "%}",
            Some("{#") => "#}",
            _ => return at,
        };
        match rest.find(close) {
            Some(end) => at += end + 2,
            None => return source.len(),
        }
    }
}

/// `{{ expr }}` as `{{ expr | safe }}`, for a hint.
fn safe_form(expression: &str) -> String {
    let inner = expression
        .trim_start_matches("{{")
        .trim_end_matches("}}")
        .trim();
    format!("{{{{ {inner} | safe }}}}")
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
