//! Serde structs that mirror `integrations.toml` as written. Unknown keys are errors, and every
//! value we may complain about later keeps its span. Steps are externally tagged
//! (`command = { … }`), never `untagged`, `flatten` or `tag = "…"`: those lose error locations.
//!
//! The file is read piece by piece (each secret, integration, param and step on its own) so that
//! one mistake does not hide the next: `integ check` reports them all.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

/// `[secrets] name = { env = "VAR" }` or `{ file = "/path" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecret {
    pub env: Option<Spanned<String>>,
    pub file: Option<Spanned<String>>,
}

/// `[integration.NAME]`, without its params and steps. Its keys are read one by one (see
/// `validate`), so a typo in one does not hide a mistake in the next.
#[derive(Debug, Default)]
pub(crate) struct RawIntegration {
    pub description: Option<String>,
    pub timeout: Option<Spanned<String>>,
    pub overlap: Option<RawOverlap>,
    pub concurrency: Option<Spanned<u32>>,
    pub schedule: Option<Spanned<String>>,
}

/// The keys of `[integration.NAME]`, for "expected one of" messages.
pub(crate) const INTEGRATION_KEYS: &[&str] = &[
    "description",
    "timeout",
    "overlap",
    "concurrency",
    "schedule",
    "params",
    "steps",
    "webhook",
];

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawOverlap {
    Skip,
    Wait,
    Fail,
}

/// `params.NAME = { type = "date", default = "{{ today }}", help = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawParam {
    #[serde(rename = "type")]
    pub kind: RawParamType,
    pub default: Option<Spanned<toml::Value>>,
    pub required: Option<Spanned<bool>>,
    pub help: Option<String>,
    /// The allowed values of a `choice` param.
    pub values: Option<Spanned<Vec<String>>>,
    /// A regex a string (or each item of a list) must match, whole.
    pub pattern: Option<Spanned<String>>,
    /// The most characters a string (or each item of a list) may have.
    pub max_length: Option<Spanned<u64>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawParamType {
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
pub(crate) struct RawStep {
    pub id: Option<Spanned<String>>,
    /// An expression (`params.send and item.total > 0`); `{{ … }}` around it is allowed.
    pub when: Option<Spanned<String>>,
    pub for_each: Option<Spanned<RawForEach>>,
    pub command: Option<Spanned<RawCommand>>,
    pub http: Option<Spanned<RawHttp>>,
    pub output: Option<Spanned<RawOutput>>,
}

/// `for_each = { records_of = "fetch", concurrency = 16 }` or `{ items = "{{ params.ids }}" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawForEach {
    pub records_of: Option<Spanned<String>>,
    pub items: Option<Spanned<String>>,
    pub concurrency: Option<Spanned<u32>>,
    pub on_error: Option<RawOnError>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawOnError {
    Stop,
    Continue,
}

/// `http = { get = "…" }`: the method is the key of the URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttp {
    pub get: Option<Spanned<String>>,
    pub post: Option<Spanned<String>>,
    pub put: Option<Spanned<String>>,
    pub patch: Option<Spanned<String>>,
    pub delete: Option<Spanned<String>>,
    pub head: Option<Spanned<String>>,
    #[serde(default)]
    pub query: IndexMap<String, Spanned<String>>,
    #[serde(default)]
    pub headers: IndexMap<String, Spanned<String>>,
    pub json: Option<Spanned<toml::Value>>,
    pub form: Option<Spanned<IndexMap<String, Spanned<String>>>>,
    pub body: Option<Spanned<String>>,
    pub auth: Option<Spanned<RawAuth>>,
    pub expect: Option<Spanned<Vec<u16>>>,
    pub timeout: Option<Spanned<String>>,
    pub connect_timeout: Option<Spanned<String>>,
    pub retries: Option<u32>,
    pub retry_writes: Option<bool>,
    pub backoff: Option<Spanned<String>>,
    /// `10/s`, `100/min`, `1000/h`.
    pub rate: Option<Spanned<String>>,
    pub records: Option<Spanned<String>>,
    pub paginate: Option<Spanned<RawPaginate>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAuth {
    pub basic: Option<RawBasic>,
    pub bearer: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBasic {
    pub user: Spanned<String>,
    pub password: Spanned<String>,
}

/// Exactly one of `next_link`, `link_header`, `offset`, `page`, `cursor`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPaginate {
    pub next_link: Option<Spanned<String>>,
    pub link_header: Option<bool>,
    pub offset: Option<RawOffset>,
    pub page: Option<RawPage>,
    pub cursor: Option<RawCursor>,
    pub max_pages: Option<u64>,
    pub stop_when: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOffset {
    pub param: Option<String>,
    pub limit_param: Option<String>,
    pub limit: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPage {
    pub param: Option<String>,
    pub start: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCursor {
    pub param: String,
    pub next: Spanned<String>,
}

/// `output = { format = "csv", records_of = "fetch", to = "contacts.csv" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOutput {
    pub format: RawFormat,
    pub to: Option<Spanned<String>>,
    pub records_of: Option<Spanned<String>>,
    pub value: Option<Spanned<String>>,
    /// CSV: the columns, in order (dotted paths reach into nested objects).
    pub columns: Option<Vec<String>>,
    /// CSV: write a header row (default true).
    pub header: Option<bool>,
    /// Text: the whole report, rendered once.
    pub template: Option<Spanned<String>>,
    /// Text over records: before the rows, one per record (as `item`), after them.
    pub before: Option<Spanned<String>>,
    pub row: Option<Spanned<String>>,
    pub after: Option<Spanned<String>>,
    /// What an output of records writes when there are none: its header and footer
    /// (`write`, the default) or nothing at all (`skip`).
    pub if_empty: Option<Spanned<RawIfEmpty>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawIfEmpty {
    Write,
    Skip,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawFormat {
    Json,
    Jsonl,
    Csv,
    Text,
}

/// `command = { argv = […] }` or `command = { shell = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCommand {
    pub argv: Option<Spanned<Vec<Spanned<String>>>>,
    pub shell: Option<Spanned<String>>,
    #[serde(default)]
    pub env: IndexMap<String, Spanned<String>>,
    pub stdin: Option<Spanned<String>>,
    pub dir: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub stdout: Option<RawStdout>,
    #[serde(default)]
    pub inherit_env: bool,
}

/// How later steps see a command's stdout.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawStdout {
    Text,
    Json,
}

/// `[integration.NAME.webhook]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    pub path: Spanned<String>,
    pub auth: Option<Spanned<RawHookAuth>>,
    #[serde(default)]
    pub params: IndexMap<String, Spanned<String>>,
    pub dedupe: Option<Spanned<String>>,
    /// How long a dedupe key is remembered (default 30d).
    pub dedupe_for: Option<Spanned<String>>,
    pub when: Option<Spanned<String>>,
    /// Further attempts after a failed run (default 3).
    pub retries: Option<u32>,
    /// The wait before the first retry, doubling with each (default 30s).
    pub backoff: Option<Spanned<String>>,
    /// `"output"`: wait for the run and answer with its output (default: answer at once).
    pub respond: Option<RawRespond>,
    /// How long a `respond = "output"` answer waits for the run (default 10s).
    pub respond_timeout: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawRespond {
    Queued,
    Output,
}

/// Exactly one of `token`, `bearer`, `basic`, `hmac` or `none = true`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHookAuth {
    pub token: Option<RawTokenAuth>,
    pub bearer: Option<RawBearerAuth>,
    pub basic: Option<RawBasic>,
    pub hmac: Option<RawHmac>,
    pub signed: Option<RawSigned>,
    pub none: Option<bool>,
}

/// `auth.signed = { style = "stripe", secret = "…", tolerance = "5m" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSigned {
    pub style: RawSignedStyle,
    pub secret: Option<Spanned<String>>,
    pub secrets: Option<Vec<Spanned<String>>>,
    pub tolerance: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawSignedStyle {
    Stripe,
    Slack,
    Standard,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTokenAuth {
    pub header: String,
    pub secret: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBearerAuth {
    pub secret: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHmac {
    pub header: String,
    pub prefix: Option<String>,
    pub algorithm: Option<RawHmacAlgorithm>,
    pub encoding: Option<RawSignatureEncoding>,
    pub secret: Option<Spanned<String>>,
    /// Several secrets, for rotation: a signature by any of them is accepted.
    pub secrets: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawHmacAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawSignatureEncoding {
    Hex,
    Base64,
}
