//! Validating a `command` step: `argv` or `shell`, its environment, and the values that may
//! begin a program's argument.

use toml::Spanned;

use super::super::{ArgvValue, Scope, Validator, inner_span};
use super::LeftOut;
use crate::config::kinds::{CommandStep, Program};
use crate::config::raw::{RawCommand, RawStdout};
use crate::template::{Kind, Text};

impl Validator<'_> {
    pub(super) fn command(
        &mut self,
        path: &str,
        raw: Spanned<RawCommand>,
        scope: &Scope<'_>,
        left_out: &LeftOut,
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
                texts
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(Program::Argv)
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
                Some(Program::Shell(shell.into_inner()))
            }
            (None, None) if left_out.any(&["command.argv", "command.shell"]) => None,
            _ => {
                self.error("a command needs exactly one of `argv` or `shell`", span);
                None
            }
        };
        let env = self.text_map(&format!("{path}.env"), &raw.env, scope);
        let stdin = raw
            .stdin
            .and_then(|s| self.template(&format!("{path}.stdin"), &s, scope));
        let dir = raw
            .dir
            .and_then(|s| self.template_as(&format!("{path}.dir"), &s, scope, Kind::Path));
        let timeout = raw.timeout.and_then(|t| self.duration(&t));
        Some(CommandStep {
            program: program?,
            env: env?,
            stdin,
            dir,
            timeout,
            stdout_json: raw.stdout == Some(RawStdout::Json),
            inherit_env: raw.inherit_env,
        })
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
                let span = inner_span(self.source, value.span(), source, at..at + var.len());
                self.argv_values.push(ArgvValue {
                    param: param.to_owned(),
                    span,
                });
            }
        }
        Some(text)
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
