//! `{{ … }}` templates in the strings of `integrations.toml`: compiled once when the file is
//! loaded, rendered per run. Undefined names are errors, never empty strings, and a string that
//! is exactly one expression keeps the expression's type (a number stays a number in JSON).
//!
//! URL and file path templates are compiled in their own [`Kind`]: the values they substitute
//! are data, encoded for the place they land in or refused there (see [`escape`]), the way an
//! HTML template engine escapes what it substitutes.

mod dates;
pub(crate) mod escape;

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::{Arc, RwLock};

use anyhow::{Context as _, anyhow};
use minijinja::value::{Kwargs, Serde, Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, State, UndefinedBehavior};

pub(crate) use escape::value_in_authority;

/// Turns a single expression's value into JSON text, refusing undefined values (which
/// MiniJinja's own `tojson` would let through as `null`, even in strict mode).
const VALUE_FILTER: &str = "integ_value_json";
/// The auto-escape mode of URL and path templates: the formatter marks each value it prints.
const MARK_VALUES: &str = "integ-mark-values";

/// Where a template's result goes, which decides what a substituted value may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Argv elements, bodies, headers, messages: values are inserted as they are, and a string
    /// that is one expression keeps the expression's type.
    Plain,
    /// A URL: a value in the path is one segment, in the query one value, and never the scheme,
    /// host or port.
    Url,
    /// A file path: a value is one file or directory name.
    Path,
}

/// A string from the file, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Text {
    /// No template syntax: used as it is.
    Literal(String),
    /// A compiled template, registered under `name` (the key path in the file).
    Template {
        name: String,
        /// The whole string was one `{{ expression }}`: it renders to the expression's value.
        typed: bool,
        kind: Kind,
    },
}

/// A template that did not compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub message: String,
    /// Byte range inside the template's source, when the engine knows it.
    pub range: Option<Range<usize>>,
}

/// The template engine for one file. Templates are checked when the file is loaded, but compiled
/// for rendering only when first rendered: a run uses one integration's templates, and `list`
/// and `check` none, so a file of a thousand integrations loads fast.
#[derive(Debug)]
pub(crate) struct Templates {
    env: Environment<'static>,
    /// What to compile under each name (for single expressions, the wrapped form).
    sources: Arc<RwLock<HashMap<String, Source>>>,
    /// The names each distinct source reads: files repeat `{{ params.from }}` and the like
    /// many times, and checking a template means compiling it.
    checked: HashMap<String, BTreeSet<String>>,
}

/// A checked template and the names it reads, with attribute paths: `params.from`,
/// `steps.deal.body`.
#[derive(Debug)]
pub(crate) struct Checked {
    pub text: Text,
    pub variables: BTreeSet<String>,
}

/// A registered template's text and kind.
#[derive(Debug)]
struct Source {
    text: String,
    kind: Kind,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

impl Templates {
    pub(crate) fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        // Values are printed the way the systems we talk to spell them: `true`, not Python's
        // `True`; a JSON null as nothing. In a URL or a path each value is marked, for
        // `escape` to find after rendering; a value marked `| safe` is the template's own.
        env.set_formatter(|out, state, value| {
            if marks_values(state) && !value.is_safe() {
                return escape::mark(out, &plain_text(value)).map_err(Error::from);
            }
            match value.kind() {
                ValueKind::Bool | ValueKind::None => {
                    out.write_str(&plain_text(value))?;
                    Ok(())
                }
                _ => minijinja::escape_formatter(out, state, value),
            }
        });
        env.add_filter(VALUE_FILTER, |value: Value| -> Result<String, Error> {
            if value.is_undefined() {
                return Err(Error::from(ErrorKind::UndefinedError));
            }
            serde_json::to_string(&value).map_err(|err| invalid(err.to_string()))
        });
        // MiniJinja's `tojson` gives text marked safe (for HTML); in a URL or a path, JSON
        // text is a value like any other.
        env.add_filter(
            "tojson",
            |state: &State, value: &Value, indent: Option<Value>, args: Kwargs| {
                let json = minijinja::filters::tojson(value, indent, args)?;
                Ok::<_, Error>(match (marks_values(state), json.as_str()) {
                    (true, Some(text)) => Value::from(text),
                    _ => json,
                })
            },
        );
        dates::register(&mut env);
        let sources: Arc<RwLock<HashMap<String, Source>>> = Arc::default();
        let lookup = Arc::clone(&sources);
        env.set_loader(move |name| {
            Ok(lookup
                .read()
                .expect("template sources lock is never poisoned")
                .get(name)
                .map(|source| source.text.clone()))
        });
        // URLs, argv and JSON bodies are not HTML: only URL and path templates escape, in
        // their own way.
        let kinds = Arc::clone(&sources);
        env.set_auto_escape_callback(move |name| {
            let kind = kinds
                .read()
                .expect("template sources lock is never poisoned")
                .get(name)
                .map_or(Kind::Plain, |source| source.kind);
            match kind {
                Kind::Plain => AutoEscape::None,
                Kind::Url | Kind::Path => AutoEscape::Custom(Cow::Borrowed(MARK_VALUES)),
            }
        });
        Templates {
            env,
            sources,
            checked: HashMap::new(),
        }
    }

    /// Checks `source` and registers it under `name` (unique per file: the key path), for a
    /// template whose result is a `kind` of text (which decides how its values are encoded).
    pub(crate) fn compile_as(
        &mut self,
        name: &str,
        source: &str,
        kind: Kind,
    ) -> Result<Checked, SyntaxError> {
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
        if kind != Kind::Plain && escape::has_marks(source) {
            return Err(SyntaxError {
                message: "a URL or a path cannot contain the noncharacters U+FDD0 or U+FDD1"
                    .to_owned(),
                range: None,
            });
        }
        // A URL or a path that is one expression is still a value in it, not a typed result.
        let single = single_expression(source).filter(|_| kind == Kind::Plain);
        let (compiled, typed) = match single {
            // The wrapper turns the value into JSON text, which `render_value` parses back;
            // that keeps numbers, booleans, lists and objects as they are.
            Some(expr) => (format!("{{{{ ({expr}) | {VALUE_FILTER} }}}}"), true),
            None => (source.to_owned(), false),
        };
        self.sources
            .write()
            .expect("template sources lock is never poisoned")
            .insert(
                name.to_owned(),
                Source {
                    text: compiled,
                    kind,
                },
            );
        Ok(Checked {
            text: Text::Template {
                name: name.to_owned(),
                typed,
                kind,
            },
            variables,
        })
    }

    /// Renders to a string; a typed expression that is not a string becomes its JSON text.
    pub(crate) fn render_str(&self, text: &Text, context: &Value) -> anyhow::Result<String> {
        match text {
            Text::Literal(s) => Ok(s.clone()),
            Text::Template {
                typed: false,
                name,
                kind,
            } => {
                let rendered = self.render_raw(name, context)?;
                let finished = match kind {
                    Kind::Plain => return Ok(rendered),
                    Kind::Url => escape::finish_url(&rendered),
                    Kind::Path => escape::finish_path(&rendered),
                };
                finished.map_err(|message| anyhow!("failed to render `{name}`: {message}"))
            }
            Text::Template { typed: true, .. } => match self.render_value(text, context)? {
                serde_json::Value::String(s) => Ok(s),
                other => Ok(other.to_string()),
            },
        }
    }

    /// Renders to a value: the expression's own type for a single expression, else a string.
    pub(crate) fn render_value(
        &self,
        text: &Text,
        context: &Value,
    ) -> anyhow::Result<serde_json::Value> {
        match text {
            Text::Literal(s) => Ok(serde_json::Value::String(s.clone())),
            Text::Template { typed: false, .. } => {
                Ok(serde_json::Value::String(self.render_str(text, context)?))
            }
            Text::Template {
                typed: true, name, ..
            } => {
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

/// Whether the value being printed lands in a URL or a path.
fn marks_values(state: &State) -> bool {
    matches!(state.auto_escape(), AutoEscape::Custom(mode) if mode == MARK_VALUES)
}

/// A value as text, the way the systems we talk to spell it.
fn plain_text(value: &Value) -> String {
    match value.kind() {
        ValueKind::Bool => (if value.is_true() { "true" } else { "false" }).to_owned(),
        ValueKind::None => String::new(),
        _ => value.to_string(),
    }
}

/// Builds a template context from anything serializable.
pub(crate) fn context<T: serde::Serialize>(value: &T) -> Value {
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

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Kind, Templates, Text, context};

    fn render(source: &str, ctx: serde_json::Value) -> anyhow::Result<serde_json::Value> {
        let mut templates = Templates::new();
        let text = templates
            .compile_as("t", source, Kind::Plain)
            .expect("compiles")
            .text;
        templates.render_value(&text, &context(&ctx))
    }

    #[test]
    fn plain_strings_are_literals() {
        let mut templates = Templates::new();
        assert_eq!(
            templates.compile_as("t", "echo", Kind::Plain).unwrap().text,
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
    fn syntax_errors_are_reported() {
        let mut templates = Templates::new();
        let err = templates
            .compile_as("t", "{{ params.x | }}", Kind::Plain)
            .unwrap_err();
        assert!(err.message.contains("syntax error"), "{}", err.message);
    }

    #[test]
    fn variables_are_dotted_paths() {
        let mut templates = Templates::new();
        let checked = templates
            .compile_as(
                "t",
                "{{ params.a }}-{{ steps.s.stdout }}-{{ range(3) }}",
                Kind::Plain,
            )
            .unwrap();
        let vars: Vec<_> = checked.variables.into_iter().collect();
        assert_eq!(vars, ["params.a", "steps.s.stdout"]);
    }

    fn render_as(kind: Kind, source: &str, ctx: serde_json::Value) -> Result<String, String> {
        let mut templates = Templates::new();
        let text = templates
            .compile_as("t", source, kind)
            .expect("compiles")
            .text;
        templates
            .render_str(&text, &context(&ctx))
            .map_err(|err| format!("{err:#}"))
    }

    #[test]
    fn url_templates_encode_each_value_for_its_place() {
        let ctx = json!({
            "code": "../../accounting/invoices?all=1&x=",
            "base": "http://127.0.0.1:8088/crm",
            "list": ["a/b", "c"],
            "n": 7,
            "yes": true,
        });
        let cases = [
            (
                "http://h/company/{{ code }}/",
                "http://h/company/..%2F..%2Faccounting%2Finvoices%3Fall%3D1%26x%3D/",
            ),
            (
                "{{ base | safe }}/api/{{ n }}",
                "http://127.0.0.1:8088/crm/api/7",
            ),
            (
                "http://h/{{ yes }}?q={{ code }}",
                "http://h/true?q=..%2F..%2Faccounting%2Finvoices%3Fall%3D1%26x%3D",
            ),
            // Filters that give MiniJinja's "safe" text are values all the same.
            (
                "http://h/{{ code | tojson }}",
                "http://h/%22..%2F..%2Faccounting%2Finvoices%3Fall%3D1%5Cu0026x%3D%22",
            ),
            (
                "http://h/{{ code | e }}",
                "http://h/..%2F..%2Faccounting%2Finvoices%3Fall%3D1%26x%3D",
            ),
            ("http://h/{{ list | join('/') }}", "http://h/a%2Fb%2Fc"),
            (
                "http://h/{% for x in list %}{{ x }}/{% endfor %}",
                "http://h/a%2Fb/c/",
            ),
            (
                "http://h/{{ 'x/' | safe ~ code }}",
                "http://h/x/..%2F..%2Faccounting%2Finvoices%3Fall%3D1%26x%3D",
            ),
            (
                "{% set u %}http://h/{{ code }}{% endset %}{{ u }}",
                "http://h/..%2F..%2Faccounting%2Finvoices%3Fall%3D1%26x%3D",
            ),
        ];
        for (source, expected) in cases {
            assert_eq!(
                render_as(Kind::Url, source, ctx.clone()).as_deref(),
                Ok(expected),
                "{source}"
            );
        }
    }

    #[test]
    fn a_url_that_is_one_value_must_be_marked_safe() {
        let ctx = json!({"base": "http://127.0.0.1:8088/crm", "dots": ".."});
        let err = render_as(Kind::Url, "{{ base }}", ctx.clone()).unwrap_err();
        assert!(err.contains("failed to render `t`: value `http://127.0.0.1:8088/crm` would set the URL's scheme, host or port (at the start of the URL)"), "{err}");
        assert_eq!(
            render_as(Kind::Url, "{{ base | safe }}", ctx.clone()).as_deref(),
            Ok("http://127.0.0.1:8088/crm")
        );
        let err = render_as(Kind::Url, "http://h/a/{{ dots }}/b", ctx).unwrap_err();
        assert!(err.contains("path segment `..`"), "{err}");
    }

    #[test]
    fn path_templates_keep_each_value_one_name() {
        let ctx = json!({"name": "../../pwned", "ok": "acme", "nothing": null});
        assert_eq!(
            render_as(Kind::Path, "exports/{{ ok }}.json", ctx.clone()).as_deref(),
            Ok("exports/acme.json")
        );
        assert_eq!(
            render_as(Kind::Path, "{{ name | safe }}.json", ctx.clone()).as_deref(),
            Ok("../../pwned.json")
        );
        let err = render_as(Kind::Path, "exports/{{ name }}.json", ctx.clone()).unwrap_err();
        assert!(err.contains("value `../../pwned` contains `/`"), "{err}");
        let err = render_as(Kind::Path, "exports/{{ nothing }}", ctx).unwrap_err();
        assert!(err.contains("an empty value"), "{err}");
    }

    #[test]
    fn plain_templates_leave_values_alone() {
        let ctx = json!({"code": "../a?b&c", "n": 3});
        assert_eq!(
            render_as(Kind::Plain, "x {{ code }}", ctx.clone()).as_deref(),
            Ok("x ../a?b&c")
        );
        assert_eq!(render("{{ n }}", ctx).unwrap(), json!(3));
    }

    #[test]
    fn marks_in_a_url_template_are_refused() {
        let mut templates = Templates::new();
        let err = templates
            .compile_as("t", "http://h/\u{FDD0}{{ x }}", Kind::Url)
            .unwrap_err();
        assert!(err.message.contains("U+FDD0"), "{}", err.message);
    }
}
