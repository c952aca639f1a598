//! The link door's HTML: the form generated from an integration's params, and the page that
//! shows how a run went. No JavaScript; every value is escaped for HTML where it lands.

use std::fmt::Write as _;

use serde_json::Value;

use crate::config::model::{Integration, Param, ParamType};

/// Text for HTML, in element content and in quoted attribute values alike.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page around `body`.
pub(super) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\n<body>\n{body}</body></html>\n",
        title = escape(title)
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}\
label{display:block;margin-top:1rem;font-weight:600}.help{font-weight:400;color:#555}\
input,select,textarea{display:block;margin-top:.3rem;padding:.3rem;min-width:16rem}\
.error{color:#b00020}pre{background:#f4f4f4;padding:1rem;overflow:auto}\
button{margin-top:1.5rem;padding:.5rem 1.5rem}";

/// The form for a run's params: filled with what was given (or the defaults), each refused
/// value's reason beside its field.
pub(super) fn form(
    integration: &Integration,
    values: &[(String, String)],
    defaults: &dyn Fn(&Param) -> Option<String>,
    problem: Option<(&str, &str)>,
) -> String {
    let mut body = format!("<h1>{}</h1>\n", escape(&integration.name));
    if let Some(description) = &integration.description {
        let _ = writeln!(body, "<p>{}</p>", escape(description));
    }
    if let Some(("", message)) = problem {
        let _ = writeln!(body, "<p class=\"error\">{}</p>", escape(message));
    }
    body.push_str("<form method=\"post\">\n");
    // Read from the system's files, once a form, and only for a form with a datetime.
    let zone_name = std::cell::LazyCell::new(|| {
        crate::schedule::machine_zone().unwrap_or_else(|| "local".to_owned())
    });
    for param in &integration.params {
        let given: Vec<&str> = values
            .iter()
            .filter(|(name, _)| *name == param.name)
            .map(|(_, value)| value.as_str())
            .collect();
        let default = defaults(param);
        let value = given.first().map(|v| (*v).to_owned()).or(default);
        let id = format!("p-{}", escape(&param.name));
        let required = if param.is_required() { " required" } else { "" };
        let help = param
            .help
            .as_deref()
            .map(|h| format!(" <span class=\"help\">— {}</span>", escape(h)))
            .unwrap_or_default();
        let mark = if param.is_required() { " *" } else { "" };
        // A `datetime-local` control has no zone: say which one the time is read in.
        let zone = if param.kind == ParamType::Datetime {
            format!(
                " <span class=\"help\">(time in {})</span>",
                escape(&zone_name)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            body,
            "<label for=\"{id}\">{}{mark}{zone}{help}</label>",
            escape(&param.name)
        );
        let name = escape(&param.name);
        let shown = value.as_deref().map(escape).unwrap_or_default();
        let field = match &param.kind {
            ParamType::Boolean => format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"false\">\
                 <input id=\"{id}\" type=\"checkbox\" name=\"{name}\" value=\"true\"{}>",
                if value.as_deref() == Some("true") {
                    " checked"
                } else {
                    ""
                }
            ),
            ParamType::Choice(choices) => {
                let mut select = format!("<select id=\"{id}\" name=\"{name}\"{required}>");
                for choice in choices {
                    let selected = if value.as_deref() == Some(choice.as_str()) {
                        " selected"
                    } else {
                        ""
                    };
                    let _ = write!(
                        select,
                        "<option value=\"{0}\"{selected}>{0}</option>",
                        escape(choice)
                    );
                }
                select.push_str("</select>");
                select
            }
            ParamType::List => {
                let lines: Vec<String> = if given.is_empty() {
                    value
                        .iter()
                        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
                        .collect()
                } else {
                    given.iter().map(|v| (*v).to_owned()).collect()
                };
                format!(
                    "<textarea id=\"{id}\" name=\"{name}\" rows=\"4\"{required}>{}</textarea>\
                     <span class=\"help\">one per line</span>",
                    escape(&lines.join("\n"))
                )
            }
            kind => {
                let (input, extra) = match kind {
                    ParamType::Integer => ("number", " step=\"1\""),
                    ParamType::Number => ("number", " step=\"any\""),
                    ParamType::Date => ("date", ""),
                    ParamType::Datetime => ("datetime-local", ""),
                    _ => ("text", ""),
                };
                let max = param
                    .constraints
                    .max_length
                    .map(|n| format!(" maxlength=\"{n}\""))
                    .unwrap_or_default();
                format!(
                    "<input id=\"{id}\" type=\"{input}\" name=\"{name}\" value=\"{shown}\"{extra}{max}{required}>"
                )
            }
        };
        body.push_str(&field);
        body.push('\n');
        if let Some((field, message)) = problem
            && field == param.name
        {
            let _ = writeln!(body, "<p class=\"error\">{}</p>", escape(message));
        }
    }
    body.push_str("<button type=\"submit\">Run</button>\n</form>\n");
    page(&integration.name, &body)
}

/// The page of a run: how it ended (or that it goes on), then its output.
pub(super) fn run_page(
    name: &str,
    id: &str,
    state: &str,
    error: Option<&str>,
    output: &str,
    later: Option<&str>,
) -> String {
    let mut body = format!(
        "<h1>{}</h1>\n<p>Run <code>{}</code>: <strong>{}</strong></p>\n",
        escape(name),
        escape(id),
        escape(state)
    );
    if let Some(url) = later {
        let _ = writeln!(
            body,
            "<p>It goes on; <a href=\"{}\">see how it went</a> later.</p>",
            escape(url)
        );
    }
    if let Some(error) = error {
        let _ = writeln!(body, "<p class=\"error\">{}</p>", escape(error));
    }
    if !output.is_empty() {
        let _ = writeln!(body, "<pre>{}</pre>", escape(output));
    }
    page(name, &body)
}

/// The start of a page that shows a run's output as it comes: up to the open `<pre>`.
pub(super) fn live_head(name: &str, id: &str) -> String {
    let whole = page(
        name,
        &format!(
            "<h1>{}</h1>\n<p>Run <code>{}</code></p>\n<pre>",
            escape(name),
            escape(id)
        ),
    );
    // The page's end comes with the run's.
    whole
        .strip_suffix("</body></html>\n")
        .unwrap_or(&whole)
        .to_owned()
}

/// The end of a live page: how the run ended.
pub(super) fn live_tail(state: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>\n", escape(e)))
        .unwrap_or_default();
    format!(
        "</pre>\n<p>It <strong>{}</strong>.</p>\n{error}</body></html>\n",
        escape(state)
    )
}

/// A value as a form field holds it: text as it is, anything else as JSON.
pub(super) fn field_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(field_value).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn html_is_escaped_everywhere_a_value_lands() {
        assert_eq!(
            escape("<script>alert(\"x\")</script> & 'y'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
