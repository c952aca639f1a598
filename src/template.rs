//! `{{ … }}` templates in the strings of `integrations.toml`: compiled once when the file is
//! loaded, rendered per run. Undefined names are errors, never empty strings, and a string that
//! is exactly one expression keeps the expression's type (a number stays a number in JSON).

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::{Arc, RwLock};

use anyhow::{Context as _, anyhow};
use chrono::{Datelike, Duration, Months, NaiveDate};
use minijinja::value::{Serde, Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

/// Turns a single expression's value into JSON text, refusing undefined values (which
/// MiniJinja's own `tojson` would let through as `null`, even in strict mode).
const VALUE_FILTER: &str = "integ_value_json";

/// A string from the file, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// No template syntax: used as it is.
    Literal(String),
    /// A compiled template, registered under `name` (the key path in the file).
    Template {
        name: String,
        /// The whole string was one `{{ expression }}`: it renders to the expression's value.
        typed: bool,
    },
}

/// A template that did not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    /// Byte range inside the template's source, when the engine knows it.
    pub range: Option<Range<usize>>,
}

/// The template engine for one file. Templates are checked when the file is loaded, but compiled
/// for rendering only when first rendered: a run uses one integration's templates, and `list`
/// and `check` none, so a file of a thousand integrations loads fast.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    /// What to compile under each name (for single expressions, the wrapped form).
    sources: Arc<RwLock<HashMap<String, String>>>,
    /// The names each distinct source reads: files repeat `{{ params.from }}` and the like
    /// many times, and checking a template means compiling it.
    checked: HashMap<String, BTreeSet<String>>,
}

/// A checked template and the names it reads, with attribute paths: `params.from`,
/// `steps.deal.body`.
#[derive(Debug)]
pub struct Checked {
    pub text: Text,
    pub variables: BTreeSet<String>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // URLs, argv and JSON bodies are not HTML: escaping is the step's business, not ours.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        // Values are printed the way the systems we talk to spell them: `true`, not Python's
        // `True`; a JSON null as nothing.
        env.set_formatter(|out, state, value| match value.kind() {
            ValueKind::Bool => {
                out.write_str(if value.is_true() { "true" } else { "false" })?;
                Ok(())
            }
            ValueKind::None => Ok(()),
            _ => minijinja::escape_formatter(out, state, value),
        });
        env.add_filter(VALUE_FILTER, |value: Value| -> Result<String, Error> {
            if value.is_undefined() {
                return Err(Error::from(ErrorKind::UndefinedError));
            }
            serde_json::to_string(&value).map_err(|err| invalid(err.to_string()))
        });
        register_date_filters(&mut env);
        let sources: Arc<RwLock<HashMap<String, String>>> = Arc::default();
        let lookup = Arc::clone(&sources);
        env.set_loader(move |name| {
            Ok(lookup
                .read()
                .expect("template sources lock is never poisoned")
                .get(name)
                .cloned())
        });
        Templates {
            env,
            sources,
            checked: HashMap::new(),
        }
    }

    /// Checks `source` and registers it under `name` (unique per file: the key path).
    pub fn compile(&mut self, name: &str, source: &str) -> Result<Checked, SyntaxError> {
        if !has_template_syntax(source) {
            return Ok(Checked {
                text: Text::Literal(source.to_owned()),
                variables: BTreeSet::new(),
            });
        }
        let variables = match self.checked.get(source) {
            Some(variables) => variables.clone(),
            None => {
                let template = self
                    .env
                    .template_from_str(source)
                    .map_err(|err| SyntaxError {
                        message: describe(&err),
                        range: err.range(),
                    })?;
                let variables: BTreeSet<String> = template
                    .undeclared_variables(true)
                    .into_iter()
                    .filter(|var| !is_builtin_global(var))
                    .collect();
                self.checked.insert(source.to_owned(), variables.clone());
                variables
            }
        };
        let (compiled, typed) = match single_expression(source) {
            // The wrapper turns the value into JSON text, which `render_value` parses back;
            // that keeps numbers, booleans, lists and objects as they are.
            Some(expr) => (format!("{{{{ ({expr}) | {VALUE_FILTER} }}}}"), true),
            None => (source.to_owned(), false),
        };
        self.sources
            .write()
            .expect("template sources lock is never poisoned")
            .insert(name.to_owned(), compiled);
        Ok(Checked {
            text: Text::Template {
                name: name.to_owned(),
                typed,
            },
            variables,
        })
    }

    /// Renders to a string; a typed expression that is not a string becomes its JSON text.
    pub fn render_str(&self, text: &Text, context: &Value) -> anyhow::Result<String> {
        match text {
            Text::Literal(s) => Ok(s.clone()),
            Text::Template { typed: false, name } => self.render_raw(name, context),
            Text::Template { typed: true, .. } => match self.render_value(text, context)? {
                serde_json::Value::String(s) => Ok(s),
                other => Ok(other.to_string()),
            },
        }
    }

    /// Renders to a value: the expression's own type for a single expression, else a string.
    pub fn render_value(&self, text: &Text, context: &Value) -> anyhow::Result<serde_json::Value> {
        match text {
            Text::Literal(s) => Ok(serde_json::Value::String(s.clone())),
            Text::Template { typed: false, name } => {
                Ok(serde_json::Value::String(self.render_raw(name, context)?))
            }
            Text::Template { typed: true, name } => {
                let json = self.render_raw(name, context)?;
                serde_json::from_str(&json)
                    .with_context(|| format!("template `{name}` did not produce a value"))
            }
        }
    }

    fn render_raw(&self, name: &str, context: &Value) -> anyhow::Result<String> {
        let template = self
            .env
            .get_template(name)
            .map_err(|err| anyhow!("template `{name}` is not compiled: {}", describe(&err)))?;
        template
            .render(context)
            .map_err(|err| anyhow!("failed to render `{name}`: {}", describe(&err)))
    }
}

/// Builds a template context from anything serializable.
pub fn context<T: serde::Serialize>(value: &T) -> Value {
    Value::from(Serde(value))
}

fn has_template_syntax(source: &str) -> bool {
    source.contains("{{") || source.contains("{%") || source.contains("{#")
}

/// The inner expression when the whole string is one `{{ expression }}`.
fn single_expression(source: &str) -> Option<&str> {
    let inner = source.strip_prefix("{{")?.strip_suffix("}}")?;
    let whitespace_control = inner.starts_with(['-', '+']) || inner.ends_with(['-', '+']);
    let only_one = !inner.contains("{{") && !inner.contains("{%") && !inner.contains("{#");
    (only_one && !whitespace_control && !inner.trim().is_empty()).then_some(inner)
}

fn is_builtin_global(var: &str) -> bool {
    matches!(var, "range" | "dict" | "namespace" | "debug")
}

/// The engine's message without the template name, which callers put in context themselves.
fn describe(err: &Error) -> String {
    let mut message = err.kind().to_string();
    if let Some(detail) = err.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    message
}

/// Date filters over `YYYY-MM-DD` strings (a datetime's date part is used), returning dates.
fn register_date_filters(env: &mut Environment<'static>) {
    env.add_filter("start_of_month", |d: String| -> Result<String, Error> {
        Ok(fmt(parse_date(&d)?.with_day(1).expect("day 1 exists")))
    });
    env.add_filter("end_of_month", |d: String| -> Result<String, Error> {
        let first = parse_date(&d)?.with_day(1).expect("day 1 exists");
        let next = first + Months::new(1);
        Ok(fmt(next - Duration::days(1)))
    });
    env.add_filter("start_of_week", |d: String| -> Result<String, Error> {
        let date = parse_date(&d)?;
        let back = i64::from(date.weekday().num_days_from_monday());
        Ok(fmt(date - Duration::days(back)))
    });
    env.add_filter("start_of_year", |d: String| -> Result<String, Error> {
        let date = parse_date(&d)?;
        Ok(fmt(
            NaiveDate::from_ymd_opt(date.year(), 1, 1).expect("1 January exists")
        ))
    });
    env.add_filter("add_days", |d: String, n: i64| -> Result<String, Error> {
        let date = parse_date(&d)?;
        date.checked_add_signed(Duration::days(n))
            .map(fmt)
            .ok_or_else(|| invalid(format!("`{d}` plus {n} days is out of range")))
    });
    env.add_filter("add_months", |d: String, n: i32| -> Result<String, Error> {
        let date = parse_date(&d)?;
        let months = Months::new(n.unsigned_abs());
        let moved = if n >= 0 {
            date.checked_add_months(months)
        } else {
            date.checked_sub_months(months)
        };
        moved
            .map(fmt)
            .ok_or_else(|| invalid(format!("`{d}` plus {n} months is out of range")))
    });
    env.add_filter(
        "format_date",
        |d: String, format: String| -> Result<String, Error> {
            use std::fmt::Write as _;
            let date = parse_date(&d)?;
            let mut out = String::new();
            write!(out, "{}", date.format(&format))
                .map_err(|_| invalid(format!("`{format}` is not a valid date format")))?;
            Ok(out)
        },
    );
}

fn parse_date(text: &str) -> Result<NaiveDate, Error> {
    let date_part = text.get(..10).unwrap_or(text);
    NaiveDate::parse_from_str(date_part, "%Y-%m-%d")
        .map_err(|_| invalid(format!("`{text}` is not a date (expected YYYY-MM-DD)")))
}

fn fmt(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Templates, Text, context};

    fn render(source: &str, ctx: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let mut templates = Templates::new();
        let text = templates.compile("t", source).expect("compiles").text;
        templates.render_value(&text, &context(&ctx))
    }

    #[test]
    fn plain_strings_are_literals() {
        let mut templates = Templates::new();
        assert_eq!(
            templates.compile("t", "echo").unwrap().text,
            Text::Literal("echo".into())
        );
    }

    #[test]
    fn single_expression_keeps_its_type() {
        let ctx = json!({"params": {"n": 5, "ok": true, "ids": [1, 2]}});
        assert_eq!(render("{{ params.n }}", ctx.clone()).unwrap(), json!(5));
        assert_eq!(render("{{ params.ok }}", ctx.clone()).unwrap(), json!(true));
        assert_eq!(
            render("{{ params.ids }}", ctx.clone()).unwrap(),
            json!([1, 2])
        );
        assert_eq!(
            render("n={{ params.n }}", ctx.clone()).unwrap(),
            json!("n=5")
        );
        assert_eq!(render("{{ params.ok }}!", ctx).unwrap(), json!("true!"));
        assert_eq!(render("[{{ none }}]", json!({})).unwrap(), json!("[]"));
    }

    #[test]
    fn undefined_names_are_errors() {
        let err = render("x{{ params.missing }}", json!({"params": {}})).unwrap_err();
        assert!(err.to_string().contains("undefined"), "{err}");
        let err = render("{{ params.missing }}", json!({"params": {}})).unwrap_err();
        assert!(err.to_string().contains("undefined"), "{err}");
    }

    #[test]
    fn date_filters() {
        let cases = [
            ("{{ d | start_of_month }}", "2026-11-01"),
            ("{{ d | end_of_month }}", "2026-11-30"),
            ("{{ d | start_of_month | add_months(-1) }}", "2026-10-01"),
            ("{{ d | start_of_week }}", "2026-11-23"),
            ("{{ d | start_of_year }}", "2026-01-01"),
            ("{{ d | add_days(3) }}", "2026-12-01"),
            ("{{ d | format_date('%d.%m.%Y') }}", "28.11.2026"),
        ];
        for (source, expected) in cases {
            assert_eq!(
                render(source, json!({"d": "2026-11-28"})).unwrap(),
                json!(expected),
                "{source}"
            );
        }
    }

    #[test]
    fn syntax_errors_are_reported() {
        let mut templates = Templates::new();
        let err = templates.compile("t", "{{ params.x | }}").unwrap_err();
        assert!(err.message.contains("syntax error"), "{}", err.message);
    }

    #[test]
    fn variables_are_dotted_paths() {
        let mut templates = Templates::new();
        let checked = templates
            .compile("t", "{{ params.a }}-{{ steps.s.stdout }}-{{ range(3) }}")
            .unwrap();
        let vars: Vec<_> = checked.variables.into_iter().collect();
        assert_eq!(vars, ["params.a", "steps.s.stdout"]);
    }
}
