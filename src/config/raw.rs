//! Serde structs that mirror `integrations.toml` as written. Unknown keys are errors, and every
//! value we may complain about later keeps its span. Steps are externally tagged
//! (`command = { … }`), never `untagged`, `flatten` or `tag = "…"`: those lose error locations.
//!
//! The file is read piece by piece (each secret, integration, param and step on its own) so that
//! one mistake does not hide the next: `integ check` reports them all.

use std::fmt;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Unexpected, Visitor};
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
    pub schedule: Option<Spanned<RawSchedule>>,
    /// `ping = "https://hc-ping.com/{{ secrets.hc_uuid }}"`.
    pub ping: Option<Spanned<String>>,
    pub retention: Option<Spanned<String>>,
}

/// `schedule = "0 2 * * *"`, or a table with the cron expression and how windows are covered.
#[derive(Debug)]
pub(crate) enum RawSchedule {
    Cron(String),
    Table(RawScheduleTable),
}

/// `[integration.NAME.schedule]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScheduleTable {
    pub cron: Spanned<String>,
    /// An IANA zone (`Europe/Prague`); default: the machine's.
    pub timezone: Option<Spanned<String>>,
    pub catch_up: Option<RawCatchUp>,
    pub max_catch_up: Option<Spanned<u32>>,
    pub first_window: Option<Spanned<String>>,
    pub max_window: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawCatchUp {
    Merge,
    Each,
    Latest,
}

impl<'de> Deserialize<'de> for RawSchedule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Schedule;
        impl<'de> Visitor<'de> for Schedule {
            type Value = RawSchedule;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a cron expression such as \"0 2 * * *\", or a table with `cron`")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RawSchedule, E> {
                Ok(RawSchedule::Cron(text.to_owned()))
            }

            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<RawSchedule, A::Error> {
                RawScheduleTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawSchedule::Table)
            }
        }
        deserializer.deserialize_any(Schedule)
    }
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
    "link",
    "ping",
    "on_failure",
    "retention",
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
    pub expect: Option<Spanned<StatusCodes>>,
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

/// `expect = [200, 201]`, or one status code alone (`expect = 201`).
#[derive(Debug, Default)]
pub(crate) struct StatusCodes(pub Vec<u16>);

/// What `expect` is written with; serde's own would say "expected u16".
const STATUS_CODE: &str = "a status code such as 201";

impl<'de> Deserialize<'de> for StatusCodes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Codes;
        impl<'de> Visitor<'de> for Codes {
            type Value = StatusCodes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{STATUS_CODE}, or a list of them")
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<StatusCodes, E> {
                status_code(n).map(|code| StatusCodes(vec![code]))
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<StatusCodes, E> {
                self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusCodes, A::Error> {
                let mut codes = Vec::new();
                while let Some(StatusCode(code)) = seq.next_element()? {
                    codes.push(code);
                }
                Ok(StatusCodes(codes))
            }
        }
        deserializer.deserialize_any(Codes)
    }
}

/// One item of `expect`.
struct StatusCode(u16);

impl<'de> Deserialize<'de> for StatusCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Code;
        impl Visitor<'_> for Code {
            type Value = StatusCode;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(STATUS_CODE)
            }

            fn visit_i64<E: de::Error>(self, n: i64) -> Result<StatusCode, E> {
                status_code(n).map(StatusCode)
            }

            fn visit_u64<E: de::Error>(self, n: u64) -> Result<StatusCode, E> {
                self.visit_i64(i64::try_from(n).unwrap_or(i64::MAX))
            }
        }
        deserializer.deserialize_any(Code)
    }
}

/// An HTTP status code: 100 to 599.
fn status_code<E: de::Error>(n: i64) -> Result<u16, E> {
    u16::try_from(n)
        .ok()
        .filter(|code| (100..=599).contains(code))
        .ok_or_else(|| {
            E::invalid_value(
                Unexpected::Signed(n),
                &"a status code from 100 to 599, such as 201",
            )
        })
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
    /// Required; optional here so that a step without one still has its templates checked.
    pub format: Option<RawFormat>,
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

/// `[integration.NAME.link]`: a button or link in a web system runs it (`/run/NAME`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    pub auth: Option<Spanned<RawLinkAuth>>,
    /// `page` (default), `download` or `ajax`.
    pub answer: Option<RawAnswer>,
    /// A download's file name, a template over `params`.
    pub filename: Option<Spanned<String>>,
    /// How long the request waits for the run before it answers "started" (default 8s).
    pub answer_within: Option<Spanned<String>>,
    /// Params from the link's query, as templates over `trigger.query` (a CRM button's
    /// `entityId`): `params.deal_id = "{{ trigger.query.entityId }}"`.
    #[serde(default)]
    pub params: IndexMap<String, Spanned<String>>,
    /// Web pages on these origins may call the link from their scripts (an AJAX button):
    /// `["https://app.raynet.cz"]`.
    #[serde(default)]
    pub cors_origins: Vec<Spanned<String>>,
    /// A Raynet button's `{token}` is confirmed with Raynet's `checktoken` call before it runs.
    pub raynet_checktoken: Option<RawRaynetCheck>,
}

/// `raynet_checktoken = { api = "https://app.raynet.cz/api/v2", user = "…", key = "{{ secrets.raynet_key }}", instance = "acme" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRaynetCheck {
    pub api: Spanned<String>,
    pub user: Spanned<String>,
    pub key: Spanned<String>,
    pub instance: String,
}

/// Exactly one of `signed`, `token`, `basic` or `none = true`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLinkAuth {
    pub signed: Option<RawLinkSigned>,
    pub token: Option<RawLinkToken>,
    pub basic: Option<RawBasic>,
    pub none: Option<bool>,
}

/// `auth.signed = { secret = "{{ secrets.link_key }}", key_id = "2026-12" }`: links made by
/// `integ link`, expiring; `previous = { "2026-06" = "{{ secrets.old_link_key }}" }` keeps
/// accepting links of an earlier key while they last.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLinkSigned {
    pub secret: Spanned<String>,
    pub key_id: Option<Spanned<String>>,
    #[serde(default)]
    pub previous: IndexMap<String, Spanned<String>>,
}

/// `auth.token = { query = "k", secret = "{{ secrets.button_key }}" }`: a static key in the URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLinkToken {
    pub query: Spanned<String>,
    pub secret: Spanned<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawAnswer {
    Page,
    Download,
    Ajax,
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

#[cfg(test)]
mod tests {
    use super::StatusCodes;

    #[test]
    fn expect_takes_status_codes_and_says_so() {
        let parse = |value: &str| -> Result<Vec<u16>, String> {
            toml::from_str::<toml::Table>(&format!("expect = {value}"))
                .expect("valid TOML")
                .remove("expect")
                .expect("the key")
                .try_into::<StatusCodes>()
                .map(|codes| codes.0)
                .map_err(|err| err.message().to_owned())
        };
        let expected = "a status code such as 201";
        let cases: Vec<(&str, Result<Vec<u16>, String>)> = vec![
            ("[200, 201]", Ok(vec![200, 201])),
            ("201", Ok(vec![201])),
            ("[]", Ok(vec![])),
            (
                "[\"201\"]",
                Err(format!("invalid type: string \"201\", expected {expected}")),
            ),
            (
                "\"200\"",
                Err(format!(
                    "invalid type: string \"200\", expected {expected}, or a list of them"
                )),
            ),
            (
                "[99]",
                Err("invalid value: integer `99`, expected a status code from 100 to 599, such as 201".into()),
            ),
            (
                "70000",
                Err("invalid value: integer `70000`, expected a status code from 100 to 599, such as 201".into()),
            ),
            (
                "[2.5]",
                Err(format!("invalid type: floating point `2.5`, expected {expected}")),
            ),
        ];
        for (value, result) in cases {
            assert_eq!(parse(value), result, "{value}");
        }
    }
}
