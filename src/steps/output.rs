//! The `output` step: records or a rendered value, as JSON, JSON lines, CSV or a text report,
//! to stdout or a file. Files are written to a temporary file beside the target and renamed
//! into place at the end, so a reader never sees half a report.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::config::kinds::{OutputFormat, OutputStep};
use crate::steps::StepScope;

/// Runs an `output` step that writes a value or a text template (not records of a step).
pub(crate) async fn run(step: &OutputStep, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    let mut writer = OutputWriter::open(step, scope)?;
    match (&step.value, &step.format) {
        (Some(value), _) => match scope.render_value(value)? {
            Value::Array(items) => writer.records(&items)?,
            other => writer.value(&other)?,
        },
        (
            None,
            OutputFormat::Text {
                template: Some(template),
                ..
            },
        ) => {
            let text = scope.render(template)?;
            writer.wrote_value = true;
            writer.start()?;
            writer.write(&text)?;
        }
        (None, _) => bail!("this output has nothing to write"),
    }
    writer.finish()
}

/// Where an output goes.
enum Sink {
    Stdout,
    File {
        temp: tempfile::NamedTempFile,
        path: PathBuf,
    },
    /// A dry run: count, write nothing.
    Nowhere {
        path: PathBuf,
    },
}

/// Writes records as they come (page by page), then finishes the file.
pub(crate) struct OutputWriter<'s, 'a> {
    step: &'s OutputStep,
    scope: &'s StepScope<'a>,
    sink: Sink,
    records: u64,
    /// The header (a CSV's, a text report's `before`), written before the first record or at
    /// the end; never with `if_empty = "skip"` and no records.
    header: Option<String>,
    /// Something that is not a record was written: the output is not empty.
    wrote_value: bool,
    /// What was written (or, in a dry run, would be), in bytes.
    bytes: u64,
}

impl<'s, 'a> OutputWriter<'s, 'a> {
    pub(crate) fn open(step: &'s OutputStep, scope: &'s StepScope<'a>) -> anyhow::Result<Self> {
        let sink = match &step.to {
            None => Sink::Stdout,
            Some(to) => {
                let target = scope.render(to)?;
                if target == "-" {
                    Sink::Stdout
                } else {
                    let path = scope.dir.join(&target);
                    if scope.dry_run {
                        Sink::Nowhere { path }
                    } else {
                        let dir = path.parent().unwrap_or(scope.dir);
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("failed to create `{}`", dir.display()))?;
                        // An ordinary file's mode (0666 less the umask, as a shell's `>`
                        // gives), not the 0600 a temporary file gets by default: the file is
                        // renamed into place with the mode it was created with.
                        let temp = tempfile::Builder::new()
                            .prefix(".integ-")
                            .permissions(std::fs::Permissions::from_mode(0o666))
                            .tempfile_in(dir)
                            .with_context(|| {
                                format!("failed to create a file in `{}`", dir.display())
                            })?;
                        Sink::File { temp, path }
                    }
                }
            }
        };
        let header = match &step.format {
            OutputFormat::Csv {
                columns,
                header: true,
            } if step.value.is_some() || step.records_of.is_some() => {
                Some(csv_row(columns.iter().map(String::as_str))?)
            }
            OutputFormat::Text {
                header: Some(before),
                ..
            } => Some(scope.render(before)?),
            _ => None,
        };
        Ok(OutputWriter {
            step,
            scope,
            sink,
            records: 0,
            header,
            wrote_value: false,
            bytes: 0,
        })
    }

    /// Whether the output ends with nothing written: no records, and `if_empty = "skip"`.
    fn skipped(&self) -> bool {
        self.step.skip_empty && self.records == 0 && !self.wrote_value
    }

    /// Writes the header, once, before what comes after it.
    fn start(&mut self) -> anyhow::Result<()> {
        match self.header.take() {
            Some(header) => self.write(&header),
            None => Ok(()),
        }
    }

    /// Writes a batch of records (a page).
    pub(crate) fn records(&mut self, records: &[Value]) -> anyhow::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        self.start()?;
        let mut out = String::new();
        for record in records {
            match &self.step.format {
                OutputFormat::Json => {
                    out.push_str(if self.records == 0 { "[\n  " } else { ",\n  " });
                    out.push_str(&serde_json::to_string(record)?);
                }
                OutputFormat::JsonLines => {
                    out.push_str(&serde_json::to_string(record)?);
                    out.push('\n');
                }
                OutputFormat::Csv { columns, .. } => {
                    let cells: Vec<String> =
                        columns.iter().map(|c| cell(lookup(record, c))).collect();
                    out.push_str(&csv_row(cells.iter().map(String::as_str))?);
                }
                OutputFormat::Text { row, .. } => {
                    if let Some(row) = row {
                        let scope = self.scope.with(minijinja::context! {
                            item => crate::template::context(record),
                            index => self.records,
                        });
                        out.push_str(&scope.render(row)?);
                    }
                }
            }
            self.records += 1;
        }
        self.write(&out)
    }

    /// Writes one value that is not a list of records.
    fn value(&mut self, value: &Value) -> anyhow::Result<()> {
        self.wrote_value = true;
        self.start()?;
        let text = match &self.step.format {
            OutputFormat::Json => format!("{}\n", serde_json::to_string_pretty(value)?),
            OutputFormat::JsonLines => format!("{}\n", serde_json::to_string(value)?),
            OutputFormat::Csv { .. } => return self.records(std::slice::from_ref(value)),
            OutputFormat::Text { .. } => match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        };
        self.write(&text)
    }

    fn write(&mut self, text: &str) -> anyhow::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        self.bytes += text.len() as u64;
        // What integ writes never holds a secret, the run's product included. Each piece
        // written is a whole record or text, so a secret is never split between two.
        let text = &self.scope.redact(text);
        match &mut self.sink {
            Sink::Stdout => self.scope.data(text),
            Sink::File { temp, path } => temp
                .write_all(text.as_bytes())
                .with_context(|| format!("failed to write `{}`", path.display()))?,
            Sink::Nowhere { .. } => {}
        }
        Ok(())
    }

    /// Closes the output: ends a JSON list, writes a text footer, moves the file into place —
    /// or, empty with `if_empty = "skip"`, leaves everything as it was.
    pub(crate) fn finish(mut self) -> anyhow::Result<Value> {
        let records = self.records;
        if self.skipped() {
            let place = match &self.sink {
                Sink::Stdout => "stdout".to_owned(),
                Sink::File { path, .. } | Sink::Nowhere { path } => format!("`{}`", path.display()),
            };
            // A temporary file is removed as it is dropped: the target stays as it was.
            self.scope.note(&format!(
                "no records: nothing written to {place} (`if_empty = \"skip\"`)"
            ));
            return Ok(json!({ "records": 0, "path": null }));
        }
        self.start()?;
        match &self.step.format {
            OutputFormat::Json if self.step.records_of.is_some() || self.records > 0 => {
                let end = if self.records == 0 { "[]\n" } else { "\n]\n" };
                self.write(end)?;
            }
            OutputFormat::Text {
                footer: Some(after),
                ..
            } => {
                let text = self.scope.render(after)?;
                self.write(&text)?;
            }
            _ => {}
        }
        let what = match (records, self.wrote_value) {
            (0, true) => bytes(self.bytes),
            (1, _) => format!("1 record ({})", bytes(self.bytes)),
            (n, _) => format!("{n} records ({})", bytes(self.bytes)),
        };
        let path = match self.sink {
            Sink::Stdout => None,
            Sink::File { temp, path } => {
                temp.persist(&path).with_context(|| {
                    format!("failed to move the output into `{}`", path.display())
                })?;
                self.scope
                    .note(&format!("wrote {what} to `{}`", path.display()));
                Some(path)
            }
            Sink::Nowhere { path } => {
                self.scope
                    .plan(&format!("would write {what} to `{}`", path.display()));
                Some(path)
            }
        };
        Ok(json!({ "records": records, "path": path }))
    }
}

/// A size as a person reads it: `1 byte`, `312 bytes`, `4.1 KiB`, `2.0 MiB`.
fn bytes(n: u64) -> String {
    match n {
        1 => "1 byte".to_owned(),
        0..1024 => format!("{n} bytes"),
        1024..1_048_576 => format!("{:.1} KiB", n as f64 / 1024.0),
        _ => format!("{:.1} MiB", n as f64 / 1_048_576.0),
    }
}

/// A dotted path into a record: `company.name`.
fn lookup<'v>(record: &'v Value, path: &str) -> &'v Value {
    path.split('.')
        .try_fold(record, |value, key| value.get(key))
        .unwrap_or(&Value::Null)
}

/// A CSV cell: text as it is, nothing for null, JSON for anything nested.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn csv_row<'a>(cells: impl IntoIterator<Item = &'a str>) -> anyhow::Result<String> {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    writer.write_record(cells)?;
    let bytes = writer
        .into_inner()
        .map_err(|err| anyhow::anyhow!("{}", err.error()))?;
    Ok(String::from_utf8(bytes)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{cell, csv_row, lookup};

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(
            csv_row(["a", "b,c", "say \"hi\""]).unwrap(),
            "a,\"b,c\",\"say \"\"hi\"\"\"\n"
        );
    }

    #[test]
    fn cells_from_dotted_paths() {
        let record = json!({"id": 7, "company": {"name": "ACME"}, "tags": ["x"], "none": null});
        assert_eq!(cell(lookup(&record, "id")), "7");
        assert_eq!(cell(lookup(&record, "company.name")), "ACME");
        assert_eq!(cell(lookup(&record, "tags")), "[\"x\"]");
        assert_eq!(cell(lookup(&record, "none")), "");
        assert_eq!(cell(lookup(&record, "missing.deep")), "");
    }
}
