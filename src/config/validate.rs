//! From the file's text to a valid [`Config`], collecting every problem on the way: TOML syntax,
//! unknown keys, wrong types, template syntax, names that templates use but nothing defines,
//! cron expressions. Each problem keeps the place in the file it is about.

mod link;
mod steps;
mod webhook;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Local;
use croner::parser::{CronParser, Seconds, Year};
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::config::model::{
    CatchUp, Config, Constraints, Integration, Overlap, Param, ParamDefault, ParamType, Pattern,
    Retention, Schedule, Secret, SecretSource,
};
use crate::config::raw::{
    INTEGRATION_KEYS, RawCatchUp, RawIntegration, RawOverlap, RawParam, RawParamType, RawSchedule,
    RawSecret,
};
use crate::diagnostic::{Diagnostic, Diagnostics, Severity, shown_value};
use crate::params::{self, toml_to_json};
use crate::schedule::{self, Clash};
use crate::suggest;
use crate::template::{Kind, Templates, Text};

use crate::scope::{
    DEFAULT_ROOTS, DefaultScope, FAILED_RUN_FIELDS, RUN_FIELDS, SECRET_ROOTS, WINDOW_FIELDS,
};
use crate::trigger::{MANUAL_FIELDS, WEBHOOK_FIELDS};

/// `catch_up = "each"` fails a run that owes more intervals than this, unless told otherwise.
const DEFAULT_MAX_CATCH_UP: u32 = 10;

/// Parses and validates `source`, the text of the file at `path` (`display` is how to name it).
/// Warnings are left to `integ check`.
pub(crate) fn validate(
    path: PathBuf,
    display: String,
    source: String,
) -> Result<Config, Diagnostics> {
    validate_inner(path, display, source, false).map(|(config, _)| config)
}

/// Like [`validate`], and also reports every secret that cannot be read (for `integ check`);
/// with the valid file come its warnings, if it has any.
pub(crate) fn validate_with_secrets(
    path: PathBuf,
    display: String,
    source: String,
) -> Result<(Config, Option<Diagnostics>), Diagnostics> {
    validate_inner(path, display, source, true)
}

fn validate_inner(
    path: PathBuf,
    display: String,
    source: String,
    checking: bool,
) -> Result<(Config, Option<Diagnostics>), Diagnostics> {
    let dir = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    let mut validator = Validator {
        source: &source,
        display: &display,
        items: Vec::new(),
        templates: Templates::new(),
        checking,
        dir: dir.clone(),
        secrets_used: BTreeSet::new(),
        request_read: None,
        scheduled: false,
        trigger_fields: MANUAL_FIELDS,
        run_fields: RUN_FIELDS,
        crons: HashMap::new(),
        argv_values: Vec::new(),
        hook_params: Vec::new(),
        hook_paths: HashMap::new(),
        retention: Retention::DEFAULT,
    };
    let (root, syntax_errors) = DeTable::parse_recoverable(&source);
    let mut config = None;
    if syntax_errors.is_empty() {
        config = validator.document(root.into_inner());
    } else {
        validator.syntax_errors(&syntax_errors);
    }
    let Validator {
        mut items,
        templates,
        retention,
        ..
    } = validator;
    // Pieces are read in groups (secrets first); report in file order.
    items.sort_by_key(|item| item.span.as_ref().map_or(0, |span| span.start));
    let diagnostics = |items| Diagnostics {
        path: display,
        source,
        items,
    };
    match config {
        Some((secrets, integrations)) if !items.iter().any(Diagnostic::is_error) => {
            let config = Config {
                path,
                dir,
                secrets,
                integrations,
                templates,
                retention,
            };
            Ok((config, (!items.is_empty()).then(|| diagnostics(items))))
        }
        _ => Err(diagnostics(items)),
    }
}

type Secrets = BTreeMap<String, Secret>;

struct Validator<'s> {
    source: &'s str,
    /// How to name the file in a diagnostic's text.
    display: &'s str,
    items: Vec<Diagnostic>,
    templates: Templates,
    /// `integ check`: also read every secret, and compute the defaults that can be computed
    /// offline.
    checking: bool,
    /// Relative paths in the file start here.
    dir: PathBuf,
    /// The secrets read by the templates of the integration being validated.
    secrets_used: BTreeSet<String>,
    /// The first field of a webhook's request (`trigger.body.id`) one of its steps reads.
    request_read: Option<String>,
    /// The integration being validated has a schedule, so its runs have a `window`.
    pub(super) scheduled: bool,
    /// What `trigger` holds in the runs of the integration being validated: more when it has
    /// a webhook.
    pub(super) trigger_fields: &'static [&'static str],
    /// What `run` holds where templates are being checked: more in `on_failure` steps.
    run_fields: &'static [&'static str],
    /// Cron expressions parsed so far.
    crons: HashMap<String, croner::Cron>,
    /// The params read at the start of an `argv` element, in the integration being validated.
    argv_values: Vec<ArgvValue>,
    /// The params its webhook takes from the request.
    hook_params: Vec<String>,
    /// Each webhook path seen so far: the integration that has it, and where.
    hook_paths: HashMap<String, (String, Range<usize>)>,
    /// The file's `retention`: what an integration without its own keeps.
    retention: Retention,
}

/// A param whose value may begin an argument of a program: a value such as `-o/some/file`
/// would be read as an option.
struct ArgvValue {
    param: String,
    /// Where the param is named in the `argv` element.
    span: Range<usize>,
}

/// The names a template may use at one place of the file.
#[derive(Clone)]
struct Scope<'a> {
    roots: Vec<&'static str>,
    params: Vec<&'a str>,
    secrets: Vec<&'a str>,
    earlier_steps: Vec<&'a str>,
    later_steps: Vec<&'a str>,
}

impl<'a> Scope<'a> {
    /// What a template outside the steps reads (a webhook's, a link's): `roots`, with the
    /// integration's params and the file's secrets.
    fn outside_steps(roots: &[&'static str], params: &'a [String], secrets: &'a [String]) -> Self {
        Scope {
            roots: roots.to_vec(),
            params: params.iter().map(String::as_str).collect(),
            secrets: secrets.iter().map(String::as_str).collect(),
            earlier_steps: Vec::new(),
            later_steps: Vec::new(),
        }
    }
}

impl<'s> Validator<'s> {
    fn error(&mut self, message: impl Into<String>, span: Range<usize>) {
        self.items.push(Diagnostic::new(message, span));
    }

    fn warning_with_hint(&mut self, message: impl Into<String>, span: Range<usize>, hint: String) {
        self.items
            .push(Diagnostic::warning(message, span).with_hint(hint));
    }

    fn error_with_hint(
        &mut self,
        message: impl Into<String>,
        span: Range<usize>,
        hint: Option<String>,
    ) {
        let mut item = Diagnostic::new(message, span);
        item.hint = hint;
        self.items.push(item);
    }

    fn toml_error(&mut self, err: &toml::de::Error, fallback: Option<Range<usize>>) {
        self.items.push(Diagnostic {
            severity: Severity::Error,
            message: in_toml_terms(err.message().trim_end()),
            span: err.span().or(fallback),
            hint: None,
            related: None,
        });
    }

    /// TOML syntax errors. A table defined twice is one problem, shown at both places; the
    /// "duplicate key" the parser then reports for each key of the second table is not another.
    fn syntax_errors(&mut self, errors: &[toml::de::Error]) {
        // The bodies of tables defined a second time.
        let mut again: Vec<Range<usize>> = Vec::new();
        for err in errors {
            let duplicate = err.message().trim_end() == "duplicate key";
            let span = err.span().filter(|_| duplicate);
            let Some(span) = span else {
                self.toml_error(err, None);
                continue;
            };
            if again.iter().any(|body| body.contains(&span.start)) {
                continue;
            }
            let Some(header) = Header::at(self.source, span.start) else {
                let key = self.source.get(span.clone()).unwrap_or_default();
                self.error(format!("duplicate key `{key}`"), span);
                continue;
            };
            again.push(header.span.end..header.body_end(self.source));
            let (message, hint) = match header.path.as_slice() {
                [root, name] if root == "integration" => (
                    format!("integration `{name}` is defined twice"),
                    "merge the two tables, or give the second integration another name",
                ),
                path => (
                    format!("table `{}` is defined twice", path.join(".")),
                    "merge the two tables into one",
                ),
            };
            let mut item = Diagnostic::new(message, header.span.clone()).with_hint(hint);
            if let Some(first) = Header::first(self.source, &header.path, header.span.start) {
                item = item.with_related(first.span, "first defined here");
            }
            self.items.push(item);
        }
    }

    /// Deserializes one piece of the file, recording its error if it has one.
    fn de<T: DeserializeOwned>(&mut self, value: Spanned<DeValue<'_>>) -> Option<T> {
        let span = value.span();
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(parsed) => Some(parsed),
            Err(err) => {
                self.toml_error(&err, Some(span));
                None
            }
        }
    }

    /// Deserializes a table, reporting each key whose value is wrong and reading the rest again
    /// without it: serde stops at the first mistake, and one mistake must not hide the next.
    /// Comes back with the keys left out, so callers can hold back what their absence alone
    /// would make them say.
    fn de_each<T: DeserializeOwned>(
        &mut self,
        value: Spanned<DeValue<'_>>,
    ) -> Option<(T, Vec<String>)> {
        let span = value.span();
        let mut table = match value.into_inner() {
            DeValue::Table(table) => table,
            other => {
                return self
                    .de(Spanned::new(span, other))
                    .map(|parsed| (parsed, Vec::new()));
            }
        };
        let mut left_out: Vec<String> = Vec::new();
        loop {
            let attempt = Spanned::new(span.clone(), DeValue::Table(table.clone()));
            let err = match T::deserialize(ValueDeserializer::from(attempt)) {
                Ok(parsed) => return Some((parsed, left_out)),
                Err(err) => err,
            };
            // A key left out for its wrong value is not missing as well.
            let missing =
                |key: &String| err.message().starts_with(&format!("missing field `{key}`"));
            if left_out.iter().any(missing) {
                return None;
            }
            self.toml_error(&err, Some(span.clone()));
            let culprit = err.span().and_then(|at| {
                table
                    .iter()
                    .find(|(key, value)| covers(&key.span(), value, at.start))
                    .map(|(key, _)| key.get_ref().to_string())
            });
            let culprit = culprit?;
            table.remove(culprit.as_str());
            left_out.push(culprit);
        }
    }

    fn document(&mut self, root: DeTable<'_>) -> Option<(Secrets, Vec<Integration>)> {
        let mut secrets_value = None;
        let mut integrations_value = None;
        for (key, value) in root {
            match key.get_ref().as_ref() {
                "secrets" => secrets_value = Some(value),
                "integration" => integrations_value = Some(value),
                "retention" => {
                    if let Some(retention) = self
                        .de::<Spanned<String>>(value)
                        .and_then(|value| self.retention(&value))
                    {
                        self.retention = retention;
                    }
                }
                other => self.error_with_hint(
                    format!(
                        "unknown top-level key `{other}`, expected `retention`, `secrets` or `integration`"
                    ),
                    key.span(),
                    suggest::did_you_mean(other, ["retention", "secrets", "integration"]),
                ),
            }
        }
        let secret_names = secrets_value.as_ref().map(keys).unwrap_or_default();
        let secrets = secrets_value.map(|v| self.secrets(v)).unwrap_or_default();
        let integrations = match integrations_value {
            Some(value) => self.integrations(value, &secret_names),
            None => Vec::new(),
        };
        Some((secrets, integrations))
    }

    fn table<'i>(&mut self, value: Spanned<DeValue<'i>>, what: &str) -> Option<DeTable<'i>> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Table(table) => Some(table),
            other => {
                self.error(
                    format!("{what} must be a table, found {}", other.type_str()),
                    span,
                );
                None
            }
        }
    }

    fn secrets(&mut self, value: Spanned<DeValue<'_>>) -> Secrets {
        let mut secrets = BTreeMap::new();
        let Some(table) = self.table(value, "`secrets`") else {
            return secrets;
        };
        for (key, value) in table {
            let name = key.get_ref().to_string();
            let span = key.span().start..value.span().end;
            let Some(raw) = self.de::<RawSecret>(value) else {
                continue;
            };
            let source = match (raw.env, raw.file) {
                (Some(var), None) if !var.get_ref().is_empty() => {
                    SecretSource::Env(var.into_inner())
                }
                (None, Some(file)) if !file.get_ref().is_empty() => {
                    SecretSource::File(self.dir.join(file.into_inner()))
                }
                _ => {
                    self.error(
                        format!("secret `{name}` needs exactly one of `env` or `file`"),
                        span,
                    );
                    continue;
                }
            };
            let secret = Secret { name, source, span };
            if let Some(problem) = self
                .checking
                .then(|| crate::secrets::problem(&secret))
                .flatten()
            {
                self.error(problem, secret.span.clone());
            }
            secrets.insert(secret.name.clone(), secret);
        }
        secrets
    }

    fn integrations(
        &mut self,
        value: Spanned<DeValue<'_>>,
        secrets: &[String],
    ) -> Vec<Integration> {
        let mut integrations = Vec::new();
        let Some(table) = self.table(value, "`integration`") else {
            return integrations;
        };
        for (key, value) in table {
            let name = key.get_ref().to_string();
            if !is_name(&name) {
                self.error(
                    format!("invalid integration name `{name}`: use letters, digits, `-` and `_`"),
                    key.span(),
                );
            }
            if let Some(integration) = self.integration(name, key.span(), value, secrets) {
                integrations.push(integration);
            }
        }
        integrations
    }

    fn integration(
        &mut self,
        name: String,
        name_span: Range<usize>,
        value: Spanned<DeValue<'_>>,
        secrets: &[String],
    ) -> Option<Integration> {
        self.secrets_used.clear();
        self.request_read = None;
        self.argv_values.clear();
        self.hook_params.clear();
        let table = self.table(value, &format!("integration `{name}`"))?;
        let mut params_value = None;
        let mut steps_value = None;
        let mut webhook_value = None;
        let mut link_value = None;
        let mut on_failure_value = None;
        let mut raw = RawIntegration::default();
        for (key, value) in table {
            match key.get_ref().as_ref() {
                "description" => raw.description = self.de(value),
                "timeout" => raw.timeout = self.de(value),
                "overlap" => raw.overlap = self.de(value),
                "concurrency" => raw.concurrency = self.de(value),
                "schedule" => raw.schedule = self.de(value),
                "params" => params_value = Some(value),
                "steps" => steps_value = Some(value),
                "webhook" => webhook_value = Some(value),
                "link" => link_value = Some(value),
                "ping" => raw.ping = self.de(value),
                "retention" => raw.retention = self.de(value),
                "on_failure" => on_failure_value = Some(value),
                other => self.error_with_hint(
                    format!(
                        "unknown field `{other}`, expected one of {}",
                        suggest::list(INTEGRATION_KEYS.iter().copied())
                    ),
                    key.span(),
                    suggest::did_you_mean(other, INTEGRATION_KEYS.iter().copied()),
                ),
            }
        }
        // Templates are checked against every declared name, valid or not, so one mistake in a
        // param's definition is not reported again at each use.
        let param_names = params_value.as_ref().map(keys).unwrap_or_default();
        self.scheduled = raw.schedule.is_some();
        self.trigger_fields = if webhook_value.is_some() {
            WEBHOOK_FIELDS
        } else {
            MANUAL_FIELDS
        };
        let params = params_value
            .map(|v| self.params(&name, v))
            .unwrap_or_default();
        let steps = match steps_value {
            Some(v) => self.steps(&name, v, &param_names, secrets),
            None => {
                self.error(format!("integration `{name}` has no steps"), name_span);
                Vec::new()
            }
        };
        let on_failure = on_failure_value
            .map(|v| self.on_failure_steps(&name, v, &param_names, secrets))
            .unwrap_or_default();
        let ping = raw.ping.and_then(|ping| self.ping(&name, &ping, secrets));
        let timeout = raw.timeout.and_then(|t| self.duration(&t));
        let retention = raw
            .retention
            .and_then(|r| self.retention(&r))
            .unwrap_or(self.retention);
        let concurrency = match raw.concurrency {
            Some(n) if *n.get_ref() == 0 => {
                self.error("`concurrency` must be at least 1", n.span());
                1
            }
            Some(n) => n.into_inner() as usize,
            None => 1,
        };
        let schedule = raw.schedule.and_then(|s| self.schedule(&s));
        let webhook = webhook_value.and_then(|v| self.webhook(&name, v, &param_names, secrets));
        let link = link_value.and_then(|v| self.link(&name, v, &param_names, secrets));
        self.warn_of_options_from_webhooks(&params);
        let secrets_used = std::mem::take(&mut self.secrets_used);
        let reads_request = self.request_read.take();
        Some(Integration {
            name,
            description: raw.description,
            params,
            steps,
            timeout,
            overlap: match raw.overlap {
                None | Some(RawOverlap::Skip) => Overlap::Skip,
                Some(RawOverlap::Wait) => Overlap::Wait,
                Some(RawOverlap::Fail) => Overlap::Fail,
            },
            concurrency,
            schedule,
            webhook,
            link,
            on_failure,
            ping,
            retention,
            secrets_used,
            reads_request,
        })
    }

    fn params(&mut self, integration: &str, value: Spanned<DeValue<'_>>) -> Vec<Param> {
        let mut params = Vec::new();
        let Some(table) = self.table(value, &format!("`params` of `{integration}`")) else {
            return params;
        };
        for (key, value) in table {
            let name = key.get_ref().to_string();
            let name_span = key.span();
            if !is_identifier(&name) {
                self.error(
                    format!("invalid param name `{name}`: use letters, digits and `_`, not starting with a digit"),
                    name_span.clone(),
                );
            }
            let Some((raw, _)) = self.de_each::<RawParam>(value) else {
                continue;
            };
            if let Some(param) = self.param(integration, name, name_span, raw) {
                params.push(param);
            }
        }
        params
    }

    fn param(
        &mut self,
        integration: &str,
        name: String,
        name_span: Range<usize>,
        raw: RawParam,
    ) -> Option<Param> {
        let kind = match (raw.kind, raw.values) {
            (RawParamType::Choice, Some(values)) if !values.get_ref().is_empty() => {
                ParamType::Choice(values.into_inner())
            }
            (RawParamType::Choice, _) => {
                self.error(
                    format!("choice param `{name}` needs a non-empty `values` list"),
                    name_span,
                );
                return None;
            }
            (_, Some(values)) => {
                self.error("`values` only goes with `type = \"choice\"`", values.span());
                return None;
            }
            (kind, None) => match kind {
                RawParamType::String => ParamType::String,
                RawParamType::Integer => ParamType::Integer,
                RawParamType::Number => ParamType::Number,
                RawParamType::Boolean => ParamType::Boolean,
                RawParamType::Date => ParamType::Date,
                RawParamType::Datetime => ParamType::Datetime,
                RawParamType::List => ParamType::List,
                RawParamType::Choice => unreachable!("handled above"),
            },
        };
        let constraints = self.constraints(&name, &kind, raw.pattern, raw.max_length);
        // `required` only restates what a missing `default` already says; it must agree.
        if let Some(required) = &raw.required {
            match (*required.get_ref(), raw.default.is_some()) {
                (true, true) => self.error(
                    format!("param `{name}` is required, so it cannot have a `default`"),
                    required.span(),
                ),
                (false, false) => self.error(
                    format!("param `{name}` is optional, so it needs a `default`"),
                    required.span(),
                ),
                _ => {}
            }
        }
        let mut default_span = None;
        // A computed default to compute now, where it is and what it reads.
        let mut computed = None;
        let default = match raw.default {
            None => None,
            Some(default) => {
                let span = default.span();
                let value = default.into_inner();
                match &value {
                    toml::Value::String(text) if text.contains("{{") || text.contains("{%") => {
                        let spanned = Spanned::new(span.clone(), text.clone());
                        let scope = Scope::for_default();
                        let name_path = format!("integration.{integration}.params.{name}.default");
                        let (compiled, reads) =
                            self.template_reading(&name_path, &spanned, &scope, Kind::Plain)?;
                        // What `env` holds at run time is not known here (cron's is not the
                        // shell's); `today` and `now` differ only in value, not in kind.
                        let offline = reads.iter().all(|var| !var.starts_with("env"));
                        if self.checking && offline {
                            computed = Some((span, reads));
                        }
                        Some(ParamDefault::Template {
                            source: text.clone(),
                            text: compiled,
                        })
                    }
                    _ => match kind.coerce(&toml_to_json(&value)) {
                        Some(checked) => {
                            default_span = Some(span);
                            Some(ParamDefault::Value(checked))
                        }
                        None => {
                            self.error(
                                format!(
                                    "invalid default {} for param `{name}`: expected {}",
                                    shown_default(&value),
                                    kind.expected()
                                ),
                                span,
                            );
                            return None;
                        }
                    },
                }
            }
        };
        let param = Param {
            name,
            kind,
            default,
            help: raw.help,
            constraints: constraints?,
        };
        if let (Some(ParamDefault::Value(value)), Some(span)) = (&param.default, default_span)
            && let Some((item, why)) = param.broken_constraint(value)
        {
            self.error(
                format!("invalid default `{item}` for param `{}`: {why}", param.name),
                span,
            );
        }
        if let Some((span, reads)) = computed {
            self.compute_default(&param, span, &reads);
        }
        Some(param)
    }

    /// Computes a default as a run would (with the time now), and reports a value the param
    /// refuses: the kind of value `today` and `now` give is known, whatever the day.
    fn compute_default(&mut self, param: &Param, span: Range<usize>, reads: &BTreeSet<String>) {
        let Some(ParamDefault::Template { source, text }) = &param.default else {
            return;
        };
        let env = BTreeMap::new();
        let scope = DefaultScope::at(Local::now(), &env);
        let Err(err) =
            params::computed_default(param, source, text, &self.templates, &scope.context())
        else {
            return;
        };
        let reads = |root: &str| reads.iter().any(|var| var == root);
        let hint = match &param.kind {
            ParamType::Date if reads("now") => Some(
                "`now` is a datetime; a date comes from `today`, or `now | format_date('%Y-%m-%d')`"
                    .to_owned(),
            ),
            ParamType::Datetime if reads("today") => {
                Some("`today` is a date; a datetime comes from `now`".to_owned())
            }
            _ => None,
        };
        self.error_with_hint(err.message, span, hint);
    }

    /// A string param a webhook fills from the request, with nothing to narrow its values,
    /// that may begin a program's argument: the sender can pass the program an option.
    fn warn_of_options_from_webhooks(&mut self, params: &[Param]) {
        let argv_values = std::mem::take(&mut self.argv_values);
        for value in argv_values {
            let Some(param) = params.iter().find(|p| p.name == value.param) else {
                continue;
            };
            if param.kind != ParamType::String
                || param.is_constrained()
                || !self.hook_params.contains(&param.name)
            {
                continue;
            }
            self.warning_with_hint(
                format!(
                    "param `{}` comes from a webhook's request and may begin a program's argument: a value such as `-o/some/file` would be read as an option",
                    param.name
                ),
                value.span,
                format!(
                    "constrain `{}` (`pattern`, `max_length`, or `type = \"choice\"`), or put `\"--\"` before it in `argv`",
                    param.name
                ),
            );
        }
    }

    /// `pattern` and `max_length`: only on string and list params; the pattern must compile.
    fn constraints(
        &mut self,
        name: &str,
        kind: &ParamType,
        pattern: Option<Spanned<String>>,
        max_length: Option<Spanned<u64>>,
    ) -> Option<Constraints> {
        let mut ok = true;
        let takes_constraints = matches!(kind, ParamType::String | ParamType::List);
        for (key, span) in [
            ("pattern", pattern.as_ref().map(Spanned::span)),
            ("max_length", max_length.as_ref().map(Spanned::span)),
        ] {
            if let Some(span) = span
                && !takes_constraints
            {
                self.error(
                    format!(
                        "`{key}` only goes with `type = \"string\"` or `\"list\"`, and param `{name}` is {} {}",
                        if kind.name().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" },
                        kind.name()
                    ),
                    span,
                );
                ok = false;
            }
        }
        let max_length = match max_length {
            Some(max) if *max.get_ref() == 0 => {
                self.error("`max_length` must be at least 1", max.span());
                ok = false;
                None
            }
            Some(max) => Some(usize::try_from(max.into_inner()).unwrap_or(usize::MAX)),
            None => None,
        };
        let pattern = match pattern {
            Some(source) => match compile_pattern(source.get_ref()) {
                Ok(regex) => Some(Pattern {
                    source: source.into_inner(),
                    regex,
                }),
                Err(problem) => {
                    self.error(
                        format!("invalid `pattern` for param `{name}`: {problem}"),
                        source.span(),
                    );
                    ok = false;
                    None
                }
            },
            None => None,
        };
        ok.then_some(Constraints {
            pattern,
            max_length,
        })
    }

    /// Compiles a templated string and checks every name it reads against `scope`.
    fn template(&mut self, name: &str, value: &Spanned<String>, scope: &Scope<'_>) -> Option<Text> {
        self.template_as(name, value, scope, Kind::Plain)
    }

    /// Like [`Validator::template`], for a URL or a file path.
    fn template_as(
        &mut self,
        name: &str,
        value: &Spanned<String>,
        scope: &Scope<'_>,
        kind: Kind,
    ) -> Option<Text> {
        self.template_reading(name, value, scope, kind)
            .map(|(text, _)| text)
    }

    /// Like [`Validator::template_as`], with the names the template reads.
    fn template_reading(
        &mut self,
        name: &str,
        value: &Spanned<String>,
        scope: &Scope<'_>,
        kind: Kind,
    ) -> Option<(Text, BTreeSet<String>)> {
        let checked = match self.templates.compile_as(name, value.get_ref(), kind) {
            Ok(checked) => checked,
            Err(err) => {
                let span = match err.range {
                    Some(range) => inner_span(self.source, value.span(), value.get_ref(), range),
                    None => value.span(),
                };
                self.error(format!("invalid template: {}", err.message), span);
                return None;
            }
        };
        let mut ok = true;
        for var in &checked.variables {
            if let Some(secret) = var.strip_prefix("secrets.") {
                let secret = secret.split('.').next().unwrap_or(secret);
                self.secrets_used.insert(secret.to_owned());
            }
            // `window` first: without a schedule, it says where `window` exists.
            let checked = self
                .check_window(var)
                .and_then(|()| scope.check(var))
                .and_then(|()| self.check_trigger(var))
                .and_then(|()| self.check_run(var));
            let member = var
                .strip_prefix("trigger.")
                .map(|m| m.split('.').next().unwrap_or(m));
            if checked.is_ok()
                && (name.contains(".steps[") || name.contains(".on_failure["))
                && member.is_some_and(|member| WEBHOOK_FIELDS.contains(&member))
                && self.request_read.is_none()
            {
                self.request_read = Some(var.clone());
            }
            if let Err((message, hint)) = checked {
                // Point at the name inside the string when it can be found there.
                let span = match value.get_ref().find(var.as_str()) {
                    Some(at) => inner_span(
                        self.source,
                        value.span(),
                        value.get_ref(),
                        at..at + var.len(),
                    ),
                    None => value.span(),
                };
                self.error_with_hint(message, span, hint);
                ok = false;
            }
        }
        ok.then_some((checked.text, checked.variables))
    }

    /// Is `var`, when it is `window` or a member of it, one that the integration's runs have?
    fn check_window(&self, var: &str) -> Result<(), (String, Option<String>)> {
        let mut parts = var.split('.');
        if parts.next() != Some("window") {
            return Ok(());
        }
        if !self.scheduled {
            return Err((
                "unknown name `window` in template".to_owned(),
                Some(
                    "`window` (the period a scheduled run covers) exists only in an integration with a `schedule`"
                        .to_owned(),
                ),
            ));
        }
        match parts.next() {
            Some(member) if !WINDOW_FIELDS.contains(&member) => Err((
                format!("unknown window field `{member}` in template"),
                suggest::did_you_mean(member, WINDOW_FIELDS.iter().copied())
                    .or_else(|| Some("`window` holds `start` and `end`".to_owned())),
            )),
            _ => Ok(()),
        }
    }

    /// Is `var`, when it is a member of `trigger`, one that the integration's runs have?
    fn check_trigger(&self, var: &str) -> Result<(), (String, Option<String>)> {
        let mut parts = var.split('.');
        let (Some("trigger"), Some(member)) = (parts.next(), parts.next()) else {
            return Ok(());
        };
        if self.trigger_fields.contains(&member) {
            return Ok(());
        }
        let hint = if WEBHOOK_FIELDS.contains(&member) {
            Some(format!(
                "`trigger.{member}` exists only in runs started by a webhook, and this integration has no `webhook`"
            ))
        } else {
            suggest::did_you_mean(member, self.trigger_fields.iter().copied()).or_else(|| {
                Some(format!(
                    "`trigger` holds {}",
                    suggest::list(self.trigger_fields.iter().copied())
                ))
            })
        };
        Err((
            format!("unknown trigger field `{member}` in template"),
            hint,
        ))
    }

    /// Is `var`, when it is a member of `run`, one that this place has? `run.error` and
    /// `run.log_tail` exist only in `on_failure` steps.
    fn check_run(&self, var: &str) -> Result<(), (String, Option<String>)> {
        let mut parts = var.split('.');
        let (Some("run"), Some(member)) = (parts.next(), parts.next()) else {
            return Ok(());
        };
        if self.run_fields.contains(&member) {
            return Ok(());
        }
        Err((
            format!("unknown run field `{member}` in template"),
            Some(format!(
                "`run.{member}` exists only in `on_failure` steps, after the run failed"
            )),
        ))
    }

    /// `ping`: a URL that may read secrets and the environment, nothing of a run.
    fn ping(
        &mut self,
        integration: &str,
        value: &Spanned<String>,
        secrets: &[String],
    ) -> Option<Text> {
        let scope = Scope::outside_steps(SECRET_ROOTS, &[], secrets);
        let text = self.template_as(
            &format!("integration.{integration}.ping"),
            value,
            &scope,
            Kind::Url,
        )?;
        if let Text::Literal(url) = &text
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            self.error(
                format!("invalid `ping` URL `{url}`: expected `https://…` (or `http://…`)"),
                value.span(),
            );
            return None;
        }
        Some(text)
    }

    fn duration(&mut self, value: &Spanned<String>) -> Option<Duration> {
        match humantime::parse_duration(value.get_ref()) {
            Ok(duration) if !duration.is_zero() => Some(duration),
            _ => {
                self.error(
                    format!(
                        "invalid duration `{}`: expected e.g. `30s`, `10m` or `1h 30m`",
                        value.get_ref()
                    ),
                    value.span(),
                );
                None
            }
        }
    }

    /// `retention = "90d"` or `"forever"`.
    fn retention(&mut self, value: &Spanned<String>) -> Option<Retention> {
        let text = value.get_ref().trim();
        if text == "forever" {
            return Some(Retention::Forever);
        }
        match humantime::parse_duration(text) {
            Ok(duration) if !duration.is_zero() => Some(Retention::For(duration)),
            _ => {
                self.error(
                    format!(
                        "invalid retention `{}`: expected how long runs are kept, e.g. `90d`, `12w` or `48h`, or `forever`",
                        value.get_ref()
                    ),
                    value.span(),
                );
                None
            }
        }
    }

    fn schedule(&mut self, value: &Spanned<RawSchedule>) -> Option<Schedule> {
        let (expression, table) = match value.get_ref() {
            RawSchedule::Cron(expression) => (Spanned::new(value.span(), expression.clone()), None),
            RawSchedule::Table(table) => (table.cron.clone(), Some(table)),
        };
        let cron = self.cron(&expression);
        let Some(table) = table else {
            self.dst_warnings(&expression, cron.as_ref(), None);
            return Some(Schedule {
                expression: expression.into_inner(),
                cron: cron?,
                timezone: None,
                catch_up: CatchUp::Merge,
                max_catch_up: DEFAULT_MAX_CATCH_UP,
                first_window: None,
                max_window: None,
            });
        };
        let timezone = table.timezone.as_ref().and_then(|zone| {
            match zone.get_ref().parse::<chrono_tz::Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    let hint = suggest::did_you_mean(
                        zone.get_ref(),
                        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()),
                    )
                    .or_else(|| {
                        Some("an IANA zone name such as `Europe/Prague` or `UTC`".to_owned())
                    });
                    self.error_with_hint(
                        format!("unknown time zone `{}`", zone.get_ref()),
                        zone.span(),
                        hint,
                    );
                    None
                }
            }
        });
        let timezone_ok = table.timezone.is_none() || timezone.is_some();
        let first_window = table.first_window.as_ref().map(|d| self.duration(d));
        let max_window = table.max_window.as_ref().map(|d| self.duration(d));
        let max_catch_up = match &table.max_catch_up {
            Some(n) if *n.get_ref() == 0 => {
                self.error("`max_catch_up` must be at least 1", n.span());
                None
            }
            Some(n) => Some(*n.get_ref()),
            None => Some(DEFAULT_MAX_CATCH_UP),
        };
        let catch_up = match table.catch_up {
            None | Some(RawCatchUp::Merge) => CatchUp::Merge,
            Some(RawCatchUp::Each) => CatchUp::Each,
            Some(RawCatchUp::Latest) => CatchUp::Latest,
        };
        if !timezone_ok {
            return None;
        }
        self.dst_warnings(&expression, cron.as_ref(), timezone);
        Some(Schedule {
            expression: expression.into_inner(),
            cron: cron?,
            timezone,
            catch_up,
            max_catch_up: max_catch_up?,
            first_window: first_window.map_or(Some(None), |d| d.map(Some))?,
            max_window: max_window.map_or(Some(None), |d| d.map(Some))?,
        })
    }

    /// Warns of each fixed time of the schedule that its zone's DST change skips or repeats.
    /// Only `integ check` shows warnings: a run does not scan the year ahead of every schedule.
    fn dst_warnings(
        &mut self,
        expression: &Spanned<String>,
        cron: Option<&croner::Cron>,
        zone: Option<chrono_tz::Tz>,
    ) {
        let (Some(cron), true) = (cron, self.checking) else {
            return;
        };
        let today = Local::now().date_naive();
        let named = match zone {
            Some(zone) => format!("`{}`", zone.name()),
            None => match schedule::machine_zone() {
                Some(machine) => format!("the machine's zone (`{machine}`)"),
                None => "the machine's zone".to_owned(),
            },
        };
        for clash in schedule::dst_clashes(expression.get_ref(), cron, zone, today) {
            self.warning_with_hint(
                clash.message(expression.get_ref(), &named),
                expression.span(),
                Clash::hint(),
            );
        }
    }

    /// A cron expression, parsed once however often the file repeats it; `@reboot`, a seconds
    /// field and an expression that never fires are refused.
    fn cron(&mut self, value: &Spanned<String>) -> Option<croner::Cron> {
        let expression = value.get_ref();
        if expression.trim().eq_ignore_ascii_case("@reboot") {
            self.error_with_hint(
                "`@reboot` is not a schedule: it names no times, so no window between runs",
                value.span(),
                Some("start `integ run NAME` from your own `@reboot` crontab line or a systemd unit; a `schedule` needs times, e.g. `30 2 * * *`".into()),
            );
            return None;
        }
        // Parsing a cron expression is costly (tens of microseconds) and files repeat a few
        // schedules many times, so each distinct one is parsed once.
        if let Some(cron) = self.crons.get(expression) {
            return Some(cron.clone());
        }
        let parser = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build();
        match parser.parse(expression) {
            // croner's search for a next time gives up on a date that never comes (`31 2`).
            Ok(cron)
                if cron
                    .find_next_occurrence(&chrono::Utc::now(), false)
                    .is_err() =>
            {
                self.error_with_hint(
                    format!("cron expression `{expression}` never fires: no date matches it"),
                    value.span(),
                    Some(
                        "check the day-of-month against the month: February has no 30th or 31st"
                            .into(),
                    ),
                );
                None
            }
            Ok(cron) => {
                self.crons.insert(expression.clone(), cron.clone());
                Some(cron)
            }
            Err(_) if expression.split_whitespace().count() == 6 => {
                self.error_with_hint(
                    format!("invalid cron expression `{expression}`: a seconds field is not supported, cron starts runs at most once a minute"),
                    value.span(),
                    Some("five fields: minute hour day-of-month month day-of-week, e.g. `30 2 * * *`".into()),
                );
                None
            }
            Err(err) => {
                self.error_with_hint(
                    format!(
                        "invalid cron expression `{}`: {}",
                        value.get_ref(),
                        err.to_string().trim_end_matches('.').to_lowercase()
                    ),
                    value.span(),
                    Some("five fields: minute hour day-of-month month day-of-week, e.g. `30 2 * * *`".into()),
                );
                None
            }
        }
    }
}

impl Scope<'_> {
    fn for_default() -> Self {
        Scope {
            roots: DEFAULT_ROOTS.to_vec(),
            params: Vec::new(),
            secrets: Vec::new(),
            earlier_steps: Vec::new(),
            later_steps: Vec::new(),
        }
    }

    /// Is `var` (a dotted path like `params.from`) something this place can read?
    fn check(&self, var: &str) -> Result<(), (String, Option<String>)> {
        let mut parts = var.split('.');
        let root = parts.next().unwrap_or(var);
        let member = parts.next();
        if !self.roots.contains(&root) {
            return Err((
                format!(
                    "unknown name `{root}` in template, expected one of {}",
                    suggest::list(self.roots.iter().copied())
                ),
                suggest::did_you_mean(root, self.roots.iter().copied()),
            ));
        }
        let Some(member) = member else {
            return Ok(());
        };
        let known = |what: &str, names: &[&str]| -> Result<(), (String, Option<String>)> {
            if names.contains(&member) {
                return Ok(());
            }
            let hint = suggest::did_you_mean(member, names.iter().copied()).or_else(|| {
                (!names.is_empty())
                    .then(|| format!("known {what}s: {}", suggest::list(names.iter().copied())))
            });
            Err((format!("unknown {what} `{member}` in template"), hint))
        };
        match root {
            "params" => known("param", &self.params),
            "secrets" => known("secret", &self.secrets),
            // Which of them this place has is `Validator::check_run`'s to say.
            "run" => known("run field", FAILED_RUN_FIELDS),
            "steps"
                if self.later_steps.contains(&member) && !self.earlier_steps.contains(&member) =>
            {
                Err((
                    format!("step `{member}` is not run yet at this point"),
                    Some("a step can only read the results of steps before it".into()),
                ))
            }
            "steps" => known("step", &self.earlier_steps),
            _ => Ok(()),
        }
    }
}

/// A param's `pattern`, made to match whole values. It is checked on its own first: wrapped
/// in `^(?:…)$`, a pattern such as `a)|(b` would compile and match far more than it says.
fn compile_pattern(source: &str) -> Result<regex::Regex, String> {
    let describe = |err: regex::Error| match err {
        // The parser's message draws the pattern with a caret; its last line says what is wrong.
        regex::Error::Syntax(text) => text
            .lines()
            .last()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned(),
        other => other.to_string().to_lowercase(),
    };
    regex::Regex::new(source).map_err(describe)?;
    regex::Regex::new(&format!("^(?:{source})$")).map_err(describe)
}

/// A default as a message shows it: text in backticks, other values as TOML writes them.
fn shown_default(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => format!("`{}`", shown_value(text)),
        other => format!("`{}`", shown_value(&other.to_string())),
    }
}

/// serde's names for what it expected (`u64`, `a sequence`), in the words of a TOML file.
fn in_toml_terms(message: &str) -> String {
    // What toml says of a value that is not a string where one of a few names goes (`type`,
    // `overlap`, `format`): none of those names takes a table.
    if message == "wanted string or table" {
        return "invalid type: expected a string, one of the names this key takes".to_owned();
    }
    const TERMS: &[(&str, &str)] = &[
        ("expected u8", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected i64", "expected an integer"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
    ];
    TERMS
        .iter()
        .find_map(|(serde, toml)| {
            message
                .strip_suffix(serde)
                .map(|start| format!("{start}{toml}"))
        })
        .unwrap_or_else(|| message.to_owned())
}

/// A `[table]` header line, found in the text to say where a table was defined.
struct Header {
    /// The dotted path it opens: `integration`, `a`.
    path: Vec<String>,
    /// The header, brackets included.
    span: Range<usize>,
}

impl Header {
    /// The `[table]` header on the line of `offset`, if that line is one.
    fn at(source: &str, offset: usize) -> Option<Header> {
        let start = source[..offset].rfind('\n').map_or(0, |i| i + 1);
        let end = source[offset..]
            .find('\n')
            .map_or(source.len(), |i| offset + i);
        Header::parse(source, start..end)
    }

    /// The first header for `path` before `before`.
    fn first(source: &str, path: &[String], before: usize) -> Option<Header> {
        let mut start = 0;
        source[..before].split_inclusive('\n').find_map(|line| {
            let range = start..start + line.trim_end().len();
            start += line.len();
            Header::parse(source, range).filter(|header| header.path == path)
        })
    }

    fn parse(source: &str, line: Range<usize>) -> Option<Header> {
        let text = &source[line.clone()];
        let trimmed = text.trim_start();
        if !trimmed.starts_with('[') || trimmed.starts_with("[[") {
            return None;
        }
        let table = DeTable::parse(text).ok()?.into_inner();
        let mut path = Vec::new();
        let mut level = &table;
        while let [(key, value)] = level.iter().collect::<Vec<_>>().as_slice() {
            path.push(key.get_ref().to_string());
            match value.get_ref() {
                DeValue::Table(inner) => level = inner,
                _ => return None,
            }
        }
        let from = line.start + (text.len() - trimmed.len());
        let to = from + trimmed.find(']')? + 1;
        (!path.is_empty() && level.is_empty()).then_some(Header {
            path,
            span: from..to,
        })
    }

    /// Where the table's keys end: at the next line that opens a table, or the end of the file.
    fn body_end(&self, source: &str) -> usize {
        let mut at = self.span.end;
        for line in source[self.span.end..].split_inclusive('\n') {
            if at > self.span.end && line.trim_start().starts_with('[') {
                return at;
            }
            at += line.len();
        }
        source.len()
    }
}

/// Whether `at` is in an entry of a table: its key or its value, and for a table written with
/// dotted keys (`command.argv = …`, whose span is only its key's), any of its own entries.
fn covers(key: &Range<usize>, value: &Spanned<DeValue<'_>>, at: usize) -> bool {
    key.contains(&at)
        || value.span().contains(&at)
        || match value.get_ref() {
            DeValue::Table(table) => table
                .iter()
                .any(|(key, value)| covers(&key.span(), value, at)),
            _ => false,
        }
}

/// The keys of a table (none for anything else).
fn keys(value: &Spanned<DeValue<'_>>) -> Vec<String> {
    value
        .get_ref()
        .as_table()
        .map(|table| {
            table
                .iter()
                .map(|(key, _)| key.get_ref().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The span of `range` inside a TOML string value, when the value is written without escapes;
/// otherwise the whole value.
fn inner_span(source: &str, span: Range<usize>, value: &str, range: Range<usize>) -> Range<usize> {
    let Some(raw) = source.get(span.clone()) else {
        return span;
    };
    let quote = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
        3
    } else if raw.starts_with(['"', '\'']) {
        1
    } else {
        return span;
    };
    if raw.len() >= 2 * quote
        && raw.get(quote..raw.len() - quote) == Some(value)
        && range.end <= value.len()
    {
        span.start + quote + range.start..span.start + quote + range.end.max(range.start + 1)
    } else {
        span
    }
}

fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_identifier(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
