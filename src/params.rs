//! Typed params: what each type accepts, and how a run's values are gathered from the command
//! line, defaults and prompts. A wrong value is refused before anything runs, naming the param,
//! the expected type (or the broken constraint) and the value given.

use std::collections::BTreeMap;

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone as _};
use serde_json::Value;

use crate::config::model::{Integration, Param, ParamDefault, ParamType};
use crate::diagnostic::shown_value;
use crate::suggest;
use crate::template::Templates;
use crate::usage::UsageError;

impl ParamType {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
            ParamType::Date => "date",
            ParamType::Datetime => "datetime",
            ParamType::Choice(_) => "choice",
            ParamType::List => "list",
        }
    }

    /// What a valid value looks like, for error messages.
    pub(crate) fn expected(&self) -> String {
        match self {
            ParamType::String => "a string".into(),
            ParamType::Integer => "an integer".into(),
            ParamType::Number => "a number".into(),
            ParamType::Boolean => "a boolean (true/false, yes/no, 1/0)".into(),
            ParamType::Date => "a date (YYYY-MM-DD)".into(),
            ParamType::Datetime => {
                "a datetime (RFC 3339, or YYYY-MM-DD HH:MM[:SS] local time)".into()
            }
            ParamType::Choice(values) => {
                format!(
                    "one of {}",
                    suggest::list(values.iter().map(String::as_str))
                )
            }
            ParamType::List => "a list".into(),
        }
    }

    /// Parses a value typed by a person (command line, prompt, form field).
    pub(crate) fn parse_text(&self, text: &str) -> Option<Value> {
        match self {
            ParamType::String => Some(Value::String(text.to_owned())),
            ParamType::Integer => text.trim().parse::<i64>().ok().map(Value::from),
            ParamType::Number => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Value::from),
            ParamType::Boolean => match text.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" | "on" => Some(Value::Bool(true)),
                "false" | "no" | "n" | "0" | "off" => Some(Value::Bool(false)),
                _ => None,
            },
            ParamType::Date => NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .ok()
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string())),
            ParamType::Datetime => parse_datetime(text.trim()).map(Value::String),
            ParamType::Choice(values) => values
                .iter()
                .any(|v| v == text)
                .then(|| Value::String(text.to_owned())),
            ParamType::List => Some(Value::Array(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(|item| Value::String(item.to_owned()))
                    .collect(),
            )),
        }
    }

    /// Checks a value that already has a type (a TOML default, a template's result).
    pub(crate) fn coerce(&self, value: &Value) -> Option<Value> {
        match (self, value) {
            (ParamType::String, Value::String(_)) => Some(value.clone()),
            (ParamType::Integer, Value::Number(n)) if n.is_i64() => Some(value.clone()),
            (ParamType::Number, Value::Number(_)) => Some(value.clone()),
            (ParamType::Boolean, Value::Bool(_)) => Some(value.clone()),
            (ParamType::List, Value::Array(_)) => Some(value.clone()),
            // Dates, datetimes, choices and numbers written as text go through the text parser.
            (_, Value::String(text)) => self.parse_text(text),
            _ => None,
        }
    }
}

impl Param {
    /// Checks a value of the param's type against its `pattern` and `max_length`; a list's
    /// items each.
    pub(crate) fn check_constraints(&self, value: &Value) -> Result<(), UsageError> {
        match self.broken_constraint(value) {
            None => Ok(()),
            Some((item, why)) => Err(UsageError::new(format!(
                "invalid value `{}` for param `{}`: {why}",
                shown_value(&item),
                self.name
            ))),
        }
    }

    /// The first value (or list item) that breaks a constraint, and how.
    pub(crate) fn broken_constraint(&self, value: &Value) -> Option<(String, String)> {
        let constraints = &self.constraints;
        if constraints.pattern.is_none() && constraints.max_length.is_none() {
            return None;
        }
        let items = match value {
            Value::Array(items) => items.as_slice(),
            single => std::slice::from_ref(single),
        };
        items.iter().filter_map(Value::as_str).find_map(|text| {
            let length = text.chars().count();
            let why = match (&constraints.pattern, constraints.max_length) {
                // The length first: it is cheap, and bounds what the pattern reads.
                (_, Some(max)) if length > max => {
                    format!("{length} characters, more than its `max_length` of {max}")
                }
                (Some(pattern), _) if !pattern.regex.is_match(text) => {
                    format!("it does not match its `pattern` `{}`", pattern.source)
                }
                _ => return None,
            };
            Some((text.to_owned(), why))
        })
    }
}

fn parse_datetime(text: &str) -> Option<String> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.to_rfc3339());
    }
    [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .and_then(|naive| Local.from_local_datetime(&naive).earliest())
    .map(|dt| dt.to_rfc3339())
}

/// Turns a TOML value into JSON, for defaults. Dates written as TOML dates become text.
pub(crate) fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(dt) => Value::String(dt.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

/// Splits `-p NAME=VALUE` arguments, keeping their order.
pub(crate) fn split_assignments(args: &[String]) -> Result<Vec<(String, String)>, UsageError> {
    args.iter()
        .map(|arg| match arg.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), value.to_owned()))
            }
            _ => Err(UsageError::new(format!(
                "invalid param `{arg}`: expected NAME=VALUE"
            ))),
        })
        .collect()
}

/// Asks a person for a required param's value; `None` when nobody can be asked.
pub(crate) trait Prompt {
    fn ask(&self, param: &Param) -> Option<std::io::Result<String>>;

    /// Tells the person why their answer was refused; they are asked again next.
    fn refused(&self, param: &Param, why: &str);
}

/// Nobody to ask: a param not given stays missing (a link's form asks for it instead).
pub(crate) struct Unasked;

impl Prompt for Unasked {
    fn ask(&self, _param: &Param) -> Option<std::io::Result<String>> {
        None
    }

    fn refused(&self, _param: &Param, _why: &str) {}
}

/// Gathers one run's params: given values, then defaults, then prompts; every value checked.
pub(crate) fn resolve(
    integration: &Integration,
    given: &[(String, String)],
    templates: &Templates,
    default_context: &minijinja::Value,
    prompt: &dyn Prompt,
) -> Result<BTreeMap<String, Value>, UsageError> {
    let mut values: BTreeMap<String, Value> = BTreeMap::new();
    for (name, text) in given {
        let Some(param) = integration.param(name) else {
            let names = integration.params.iter().map(|p| p.name.as_str());
            return Err(UsageError::new(format!(
                "integration `{}` has no param `{name}`",
                integration.name
            ))
            .with_hint(suggest::did_you_mean(name, names).or_else(|| {
                (integration.params.is_empty())
                    .then(|| "it takes no params".to_owned())
                    .or_else(|| {
                        let all = integration.params.iter().map(|p| p.name.as_str());
                        Some(format!("its params are {}", suggest::list(all)))
                    })
            })));
        };
        let value = param
            .kind
            .parse_text(text)
            .ok_or_else(|| invalid_value(param, text))?;
        param.check_constraints(&value)?;
        tracing::debug!(
            "param `{name}` = {} (given)",
            shown_value(&value.to_string())
        );
        match (values.get_mut(name), value) {
            (Some(Value::Array(existing)), Value::Array(more)) => existing.extend(more),
            (Some(_), _) => {
                return Err(UsageError::new(format!("param `{name}` is given twice")));
            }
            (None, value) => {
                values.insert(name.clone(), value);
            }
        }
    }
    fill_defaults(integration, values, templates, default_context, |param| {
        ask(param, prompt)
    })
}

/// Gathers a run's params from typed values (a webhook's mapping): each checked against its
/// param's type, defaults for the rest; a missing required param is an error.
pub(crate) fn resolve_values(
    integration: &Integration,
    given: BTreeMap<String, Value>,
    templates: &Templates,
    default_context: &minijinja::Value,
) -> Result<BTreeMap<String, Value>, UsageError> {
    let mut values = BTreeMap::new();
    for (name, value) in given {
        let Some(param) = integration.param(&name) else {
            return Err(UsageError::new(format!(
                "integration `{}` has no param `{name}`",
                integration.name
            )));
        };
        let checked = param.kind.coerce(&value).ok_or_else(|| {
            UsageError::new(format!(
                "invalid value {value} for param `{name}`: expected {}",
                param.kind.expected()
            ))
        })?;
        param.check_constraints(&checked)?;
        values.insert(name, checked);
    }
    fill_defaults(integration, values, templates, default_context, |param| {
        Err(UsageError::new(format!(
            "missing required param `{}` ({})",
            param.name,
            param.kind.expected()
        )))
    })
}

/// Completes `values` with each missing param's default; `required` decides about a missing
/// param without one (ask, or refuse).
fn fill_defaults(
    integration: &Integration,
    mut values: BTreeMap<String, Value>,
    templates: &Templates,
    default_context: &minijinja::Value,
    required: impl Fn(&Param) -> Result<Value, UsageError>,
) -> Result<BTreeMap<String, Value>, UsageError> {
    for param in &integration.params {
        if values.contains_key(&param.name) {
            continue;
        }
        let (value, from) = match &param.default {
            Some(ParamDefault::Value(value)) => (value.clone(), "its default".to_owned()),
            Some(ParamDefault::Template { source, text }) => (
                computed_default(param, source, text, templates, default_context)?,
                format!("its default `{source}`"),
            ),
            None => (required(param)?, "asked for".to_owned()),
        };
        tracing::debug!(
            "param `{}` = {} ({from})",
            param.name,
            shown_value(&value.to_string())
        );
        values.insert(param.name.clone(), value);
    }
    Ok(values)
}

fn ask(param: &Param, prompt: &dyn Prompt) -> Result<Value, UsageError> {
    loop {
        let Some(answer) = prompt.ask(param) else {
            return Err(UsageError::new(format!(
                "missing required param `{}` ({})",
                param.name,
                param.kind.expected()
            ))
            .with_hint(format!("pass it with `-p {}=VALUE`", param.name)));
        };
        let answer = answer.map_err(|err| {
            UsageError::new(format!("failed to read param `{}`: {err}", param.name))
        })?;
        let why = if answer.trim().is_empty() {
            format!("param `{}` is required: type a value", param.name)
        } else {
            match param.kind.parse_text(&answer) {
                None => invalid_value(param, &answer).message,
                Some(value) => match param.check_constraints(&value) {
                    Ok(()) => return Ok(value),
                    Err(err) => err.message,
                },
            }
        };
        // A person can retype; only a closed terminal ends the loop (through `ask`).
        prompt.refused(param, &why);
    }
}

/// A default computed per run (`{{ today | start_of_month }}`), checked against its type.
pub(crate) fn computed_default(
    param: &Param,
    source: &str,
    text: &crate::template::Text,
    templates: &Templates,
    default_context: &minijinja::Value,
) -> Result<Value, UsageError> {
    let computed = templates
        .render_value(text, default_context)
        .map_err(|err| {
            UsageError::new(format!(
                "failed to compute the default of param `{}`: {err:#}",
                param.name
            ))
        })?;
    let value = param.kind.coerce(&computed).ok_or_else(|| {
        UsageError::new(format!(
            "the default of param `{}` (`{source}`) gave {computed}, expected {}",
            param.name,
            param.kind.expected()
        ))
    })?;
    match param.broken_constraint(&value) {
        Some((item, why)) => Err(UsageError::new(format!(
            "the default of param `{}` (`{source}`) gave `{}`: {why}",
            param.name,
            shown_value(&item)
        ))),
        None => Ok(value),
    }
}

fn invalid_value(param: &Param, text: &str) -> UsageError {
    UsageError::new(format!(
        "invalid value `{}` for param `{}`: expected {}",
        shown_value(text),
        param.name,
        param.kind.expected()
    ))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::VecDeque;

    use serde_json::json;

    use super::{ParamType, Prompt, ask};
    use crate::config::model::{Constraints, Param, Pattern};

    /// A person who gives these answers, in order, then closes the terminal.
    struct Script {
        answers: RefCell<VecDeque<&'static str>>,
        /// What they were told, and what they were asked, in order.
        seen: RefCell<Vec<String>>,
    }

    impl Script {
        fn new(answers: &[&'static str]) -> Self {
            Script {
                answers: RefCell::new(answers.iter().copied().collect()),
                seen: RefCell::default(),
            }
        }
    }

    impl Prompt for Script {
        fn ask(&self, param: &Param) -> Option<std::io::Result<String>> {
            self.seen.borrow_mut().push(format!("ask `{}`", param.name));
            let answer = self.answers.borrow_mut().pop_front()?;
            Some(Ok(answer.to_owned()))
        }

        fn refused(&self, _param: &Param, why: &str) {
            self.seen.borrow_mut().push(why.to_owned());
        }
    }

    fn param(name: &str, kind: ParamType, pattern: Option<&str>) -> Param {
        constrained(name, kind, pattern, None)
    }

    fn constrained(
        name: &str,
        kind: ParamType,
        pattern: Option<&str>,
        max_length: Option<usize>,
    ) -> Param {
        Param {
            name: name.into(),
            kind,
            default: None,
            help: None,
            constraints: Constraints {
                pattern: pattern.map(|source| Pattern {
                    source: source.into(),
                    regex: regex::Regex::new(&format!("^(?:{source})$")).unwrap(),
                }),
                max_length,
            },
        }
    }

    #[test]
    fn a_refused_answer_says_why_before_asking_again() {
        let count = param("count", ParamType::Integer, None);
        let script = Script::new(&["many", "", "7"]);
        assert_eq!(ask(&count, &script).unwrap(), json!(7));
        assert_eq!(
            *script.seen.borrow(),
            [
                "ask `count`",
                "invalid value `many` for param `count`: expected an integer",
                "ask `count`",
                "param `count` is required: type a value",
                "ask `count`",
            ]
        );

        let code = param("code", ParamType::String, Some("[A-Z]+"));
        let script = Script::new(&["abc\u{1b}[2J", "ABC"]);
        assert_eq!(ask(&code, &script).unwrap(), json!("ABC"));
        assert_eq!(
            script.seen.borrow()[1],
            "invalid value `abc\\u{1b}[2J` for param `code`: it does not match its `pattern` `[A-Z]+`"
        );

        // A closed terminal ends the questions with the usual error.
        let script = Script::new(&["soon"]);
        let err = ask(&count, &script).unwrap_err();
        assert_eq!(err.message, "missing required param `count` (an integer)");
        assert_eq!(script.seen.borrow().len(), 3);
    }

    #[test]
    fn parses_text_per_type() {
        let choice = ParamType::Choice(vec!["csv".into(), "json".into()]);
        let cases: Vec<(ParamType, &str, Option<serde_json::Value>)> = vec![
            (ParamType::Integer, "42", Some(json!(42))),
            (ParamType::Integer, "4.2", None),
            (ParamType::Number, "4.5", Some(json!(4.5))),
            (ParamType::Number, "NaN", None),
            (ParamType::Boolean, "yes", Some(json!(true))),
            (ParamType::Boolean, "maybe", None),
            (ParamType::Date, "2026-10-01", Some(json!("2026-10-01"))),
            (ParamType::Date, "2026-13-01", None),
            (
                ParamType::Datetime,
                "2026-10-01T08:00:00Z",
                Some(json!("2026-10-01T08:00:00+00:00")),
            ),
            (ParamType::Datetime, "yesterday", None),
            (choice.clone(), "csv", Some(json!("csv"))),
            (choice, "xml", None),
            (ParamType::List, "a, b,c", Some(json!(["a", "b", "c"]))),
        ];
        for (kind, text, expected) in cases {
            assert_eq!(kind.parse_text(text), expected, "{} {text}", kind.name());
        }
    }

    #[test]
    fn constraints_hold_for_the_whole_value_and_each_item() {
        let param = |kind: ParamType, pattern: Option<&str>, max_length: Option<usize>| {
            constrained("p", kind, pattern, max_length)
        };
        let code = param(ParamType::String, Some("[A-Z0-9-]+"), Some(5));
        let ids = param(ParamType::List, Some("[0-9]+"), None);
        let free = param(ParamType::String, None, None);
        let cases = [
            (&code, json!("AB-1"), None),
            (&code, json!("xAB-1"), Some("xAB-1")),
            (&code, json!("AB-1\n"), Some("AB-1\n")),
            (&code, json!("ABCDEF"), Some("ABCDEF")),
            (&code, json!("ŽŽ"), Some("ŽŽ")),
            (&ids, json!(["1", "22"]), None),
            (&ids, json!(["1", "2x", "y"]), Some("2x")),
            (&free, json!("-o/etc/passwd"), None),
        ];
        for (param, value, broken) in cases {
            assert_eq!(
                param
                    .broken_constraint(&value)
                    .map(|(item, _)| item)
                    .as_deref(),
                broken,
                "{value}"
            );
        }
        let err = code.check_constraints(&json!("ABCDEFG")).unwrap_err();
        assert_eq!(
            err.message,
            "invalid value `ABCDEFG` for param `p`: 7 characters, more than its `max_length` of 5"
        );
    }

    #[test]
    fn coerces_typed_values() {
        assert_eq!(ParamType::Integer.coerce(&json!(3)), Some(json!(3)));
        assert_eq!(ParamType::Integer.coerce(&json!("3")), Some(json!(3)));
        assert_eq!(ParamType::Integer.coerce(&json!(true)), None);
        assert_eq!(
            ParamType::Date.coerce(&json!("2026-01-31")),
            Some(json!("2026-01-31"))
        );
    }
}
