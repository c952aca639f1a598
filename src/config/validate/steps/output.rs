//! Validating an `output` step: its format, what it writes and where.

use toml::Spanned;

use super::super::{Scope, Validator};
use super::{ITEM_ROOTS, StepContext};
use crate::config::kinds::{OutputFormat, OutputStep};
use crate::config::raw::{RawFormat, RawIfEmpty, RawOutput};
use crate::template::Kind;

impl Validator<'_> {
    pub(super) fn output(
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
        let left_out = |keys: &[&str]| context.left_out.any(keys);
        if raw.records_of.is_some() == raw.value.is_some()
            && raw.template.is_none()
            && !left_out(&["output.records_of", "output.value", "output.template"])
        {
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
        let skip_empty = match &raw.if_empty {
            Some(choice) if *choice.get_ref() == RawIfEmpty::Skip => {
                if raw.records_of.is_none() && raw.value.is_none() {
                    self.error(
                        "`if_empty` is for an output of records (`records_of` or `value`); this one writes its `template` once",
                        choice.span(),
                    );
                }
                true
            }
            _ => false,
        };
        let row_scope = context.scope(ITEM_ROOTS);
        let Some(format) = raw.format else {
            if !left_out(&["output.format"]) {
                self.error_with_hint(
                    "an `output` step needs a `format`",
                    span,
                    Some("one of `json`, `jsonl`, `csv` or `text`".to_owned()),
                );
            }
            return None;
        };
        let format = match format {
            RawFormat::Json => OutputFormat::Json,
            RawFormat::Jsonl => OutputFormat::JsonLines,
            RawFormat::Csv => match raw.columns {
                Some(columns) if !columns.is_empty() => OutputFormat::Csv {
                    columns,
                    header: raw.header.unwrap_or(true),
                },
                _ if left_out(&["output.columns"]) => return None,
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
                    if left_out(&["output.template", "output.row"]) {
                        return None;
                    }
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
            skip_empty,
        })
    }
}
