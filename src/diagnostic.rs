//! Problems found in `integrations.toml`, and the one renderer that shows them all the same
//! way: `error:` (or `warning:`), `file:line:col`, the line, a caret, an optional `hint:`.
//! Errors make the file invalid; warnings only say something looks risky.

use std::fmt;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// Whether a diagnostic makes the file invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Severity {
    Error,
    /// The file is valid, but something in it looks risky.
    Warning,
}

/// One problem at one place of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// Byte range in the file; `None` when the problem is about the file as a whole.
    pub span: Option<Range<usize>>,
    pub hint: Option<String>,
    /// Another place the problem involves (where a table was first defined), with a label.
    pub related: Option<(Range<usize>, String)>,
}

impl Diagnostic {
    /// An error at `span`.
    pub(crate) fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span: Some(span),
            hint: None,
            related: None,
        }
    }

    /// A warning at `span`.
    pub(crate) fn warning(message: impl Into<String>, span: Range<usize>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::new(message, span)
        }
    }

    pub(crate) fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Points at another place too, such as where something was first defined.
    pub(crate) fn with_related(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        self.related = Some((span, label.into()));
        self
    }
}

/// Every problem found in one file, with the text needed to show them.
#[derive(Debug, Clone)]
pub(crate) struct Diagnostics {
    pub path: String,
    pub source: String,
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Renders all problems, separated by blank lines, ending in a count.
    pub(crate) fn render(&self, color: bool) -> String {
        let renderer = if color {
            Renderer::styled()
        } else {
            Renderer::plain()
        };
        let mut out = String::new();
        for item in &self.items {
            out.push_str(&render_one(&renderer, &self.path, &self.source, item));
            out.push_str("\n\n");
        }
        let errors = self.items.iter().filter(|item| item.is_error()).count();
        let warnings = self.items.len() - errors;
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        out.push_str(&match (errors, warnings) {
            (0, _) => format!(
                "warning: `{}` has {warnings} warning{}",
                self.path,
                plural(warnings)
            ),
            (_, 0) => format!(
                "error: `{}` has {errors} problem{}",
                self.path,
                plural(errors)
            ),
            _ => format!(
                "error: `{}` has {errors} problem{} and {warnings} warning{}",
                self.path,
                plural(errors),
                plural(warnings)
            ),
        });
        out
    }

    /// `file:line:col` of a diagnostic, for one-line logs.
    pub(crate) fn locate(&self, item: &Diagnostic) -> String {
        match &item.span {
            Some(span) => {
                let (line, col) = line_col(&self.source, span.start);
                format!("{}:{line}:{col}", self.path)
            }
            None => self.path.clone(),
        }
    }
}

impl fmt::Display for Diagnostics {
    /// One line per problem, for logs (serve-hook reloads) and error chains.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            let warning = if item.is_error() { "" } else { "warning: " };
            write!(f, "{}: {warning}{}", self.locate(item), item.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

fn render_one(renderer: &Renderer, path: &str, source: &str, item: &Diagnostic) -> String {
    let level = match item.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let title = level.primary_title(item.message.as_str());
    let hint = item
        .hint
        .as_deref()
        .map(|hint| Group::with_title(Level::HELP.with_name("hint").secondary_title(hint)));
    let group = match &item.span {
        Some(span) => {
            let span = clamp(source, span.clone());
            let related = item
                .related
                .as_ref()
                .map(|(related, label)| (clamp(source, related.clone()), label.as_str()));
            let start = related
                .as_ref()
                .map_or(span.start, |(related, _)| related.start.min(span.start));
            let end = related
                .as_ref()
                .map_or(span.end, |(related, _)| related.end.max(span.end));
            // Hand the renderer only the lines involved: it scans what it is given, and a file
            // of thousands of lines with many problems would be read once per problem. Lines
            // between two places are folded away.
            let first = source[..start].rfind('\n').map_or(0, |i| i + 1);
            let last = source[end..].find('\n').map_or(source.len(), |i| end + i);
            let (line, _) = line_col(source, first);
            let mut snippet = Snippet::source(&source[first..last])
                .line_start(line)
                .path(path)
                .fold(true)
                .annotation(AnnotationKind::Primary.span(span.start - first..span.end - first));
            if let Some((related, label)) = related {
                snippet = snippet.annotation(
                    AnnotationKind::Context
                        .span(related.start - first..related.end - first)
                        .label(label),
                );
            }
            title.element(snippet)
        }
        None => title.element(annotate_snippets::Origin::path(path)),
    };
    let mut report = vec![group];
    report.extend(hint);
    renderer.render(&report)
}

/// Keeps a span inside the text and never empty, so the caret always has something to point at.
fn clamp(source: &str, span: Range<usize>) -> Range<usize> {
    let start = span.start.min(source.len());
    let end = span.end.clamp(start, source.len());
    if start == end && end < source.len() {
        return start..next_char_boundary(source, start + 1);
    }
    start..end
}

fn next_char_boundary(source: &str, mut index: usize) -> usize {
    while index < source.len() && !source.is_char_boundary(index) {
        index += 1;
    }
    index
}

/// How much of a value a message shows.
const SHOWN_CHARS: usize = 60;

/// A value from outside as a message shows it: control characters escaped, a long one cut.
pub(crate) fn shown_value(value: &str) -> String {
    let mut out = escaped(value.chars().take(SHOWN_CHARS));
    if value.chars().nth(SHOWN_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Text that holds values from outside as a log line writes it: whole, its control characters
/// escaped, so a percent-encoded newline in a request cannot start a forged line.
pub(crate) fn log_safe(text: &str) -> String {
    escaped(text.chars())
}

fn escaped(chars: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    for c in chars {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::{Diagnostic, Diagnostics, line_col};

    #[test]
    fn warnings_render_as_warnings_and_are_counted_apart() {
        let mut diagnostics = Diagnostics {
            path: "integrations.toml".into(),
            source: "[x]\nargv = 5\n".into(),
            items: vec![Diagnostic::warning("risky `argv`", 4..8).with_hint("add `--`")],
        };
        let text = diagnostics.render(false);
        assert!(text.starts_with("warning: risky `argv`\n"), "{text}");
        assert!(text.contains("hint: add `--`"), "{text}");
        assert!(
            text.ends_with("warning: `integrations.toml` has 1 warning"),
            "{text}"
        );
        assert_eq!(
            diagnostics.to_string(),
            "integrations.toml:2:1: warning: risky `argv`"
        );
        diagnostics.items.push(Diagnostic::new("bad", 0..3));
        assert!(
            diagnostics
                .render(false)
                .ends_with("error: `integrations.toml` has 1 problem and 1 warning")
        );
    }

    #[test]
    fn a_related_place_is_shown_with_its_label_and_the_lines_between_folded() {
        let source = "[a]\nx = 1\n\n\n\n\n\n[b]\n[a]\n";
        let second = source.rfind("[a]").unwrap();
        let diagnostics = Diagnostics {
            path: "integrations.toml".into(),
            source: source.into(),
            items: vec![
                Diagnostic::new("table `a` is defined twice", second..second + 3)
                    .with_related(0..3, "first defined here"),
            ],
        };
        let text = diagnostics.render(false);
        let expected = "error: table `a` is defined twice
 --> integrations.toml:9:1
  |
1 | [a]
  | --- first defined here
...
9 | [a]
  | ^^^
";
        assert!(text.starts_with(expected), "{text}");
    }

    #[test]
    fn line_col_counts_from_one() {
        let text = "a = 1\nbc = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 8), (2, 3));
    }

    #[test]
    fn renders_location_line_caret_and_hint() {
        let diagnostics = Diagnostics {
            path: "integrations.toml".into(),
            source: "[x]\ntimout = 5\n".into(),
            items: vec![
                Diagnostic::new("unknown field `timout`", 4..10)
                    .with_hint("did you mean `timeout`?"),
            ],
        };
        let text = diagnostics.render(false);
        assert!(text.contains("error: unknown field `timout`"), "{text}");
        assert!(text.contains("--> integrations.toml:2:1"), "{text}");
        assert!(text.contains("timout = 5"), "{text}");
        assert!(text.contains("^^^^^^"), "{text}");
        assert!(text.contains("hint: did you mean `timeout`?"), "{text}");
        assert_eq!(
            diagnostics.to_string(),
            "integrations.toml:2:1: unknown field `timout`"
        );
    }
}
