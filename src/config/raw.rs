//! Serde structs that mirror `integrations.toml` as written. Unknown keys are errors, and every
//! value we may complain about later keeps its span. Steps are externally tagged
//! (`command = { … }`), never `untagged`, `flatten` or `tag = "…"`: those lose error locations.
//!
//! The file is read piece by piece (each secret, integration, param and step on its own) so that
//! one mistake does not hide the next: `integ check` reports them all.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// `[secrets] name = { env = "VAR" }` or `{ file = "/path" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecret {
    pub env: Option<Spanned<String>>,
    pub file: Option<Spanned<String>>,
}

/// `[integration.NAME]`, without its params and steps. Its keys are read one by one (see
/// `validate`), so a typo in one does not hide a mistake in the next.
#[derive(Debug, Default)]
pub struct RawIntegration {
    pub description: Option<String>,
    pub timeout: Option<Spanned<String>>,
    pub overlap: Option<RawOverlap>,
    pub schedule: Option<Spanned<String>>,
}

/// The keys of `[integration.NAME]`, for "expected one of" messages.
pub const INTEGRATION_KEYS: &[&str] = &[
    "description",
    "timeout",
    "overlap",
    "schedule",
    "params",
    "steps",
];

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawOverlap {
    Skip,
    Wait,
    Fail,
}

/// `params.NAME = { type = "date", default = "{{ today }}", help = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParam {
    #[serde(rename = "type")]
    pub kind: RawParamType,
    pub default: Option<Spanned<toml::Value>>,
    pub required: Option<Spanned<bool>>,
    pub help: Option<String>,
    /// The allowed values of a `choice` param.
    pub values: Option<Spanned<Vec<String>>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawParamType {
    String,
    Integer,
    Number,
    Boolean,
    Date,
    Datetime,
    Choice,
    List,
}

/// One `[[integration.NAME.steps]]` entry: common keys plus exactly one step kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub id: Option<Spanned<String>>,
    pub command: Option<Spanned<RawCommand>>,
}

/// `command = { argv = […] }` or `command = { shell = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommand {
    pub argv: Option<Spanned<Vec<Spanned<String>>>>,
    pub shell: Option<Spanned<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, Spanned<String>>,
    pub stdin: Option<Spanned<String>>,
    pub dir: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub stdout: Option<RawStdout>,
}

/// How later steps see a command's stdout.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawStdout {
    Text,
    Json,
}
