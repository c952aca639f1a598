//! The validated settings of each step kind, and of `for_each`. The engine trusts them: every
//! template here has been checked against the names it may read.

use std::time::Duration;

use crate::template::Text;

/// `command`: a program with an argv list, or an explicit shell script.
#[derive(Debug)]
pub(crate) struct CommandStep {
    pub program: Program,
    pub env: Vec<(String, Text)>,
    pub stdin: Option<Text>,
    pub dir: Option<Text>,
    pub timeout: Option<Duration>,
    /// Parse stdout as JSON for later steps (and do not show it as output).
    pub stdout_json: bool,
    /// Give the command integ's whole environment, not the minimal one.
    pub inherit_env: bool,
}

#[derive(Debug)]
pub(crate) enum Program {
    Argv(Vec<Text>),
    /// Run by `sh -c`; not templated, so nothing can be injected into it.
    Shell(String),
}

/// `http`: one request, or a series of pages.
#[derive(Debug)]
pub(crate) struct HttpStep {
    /// Upper case: `GET`, `POST`, ….
    pub method: String,
    pub url: Text,
    pub query: Vec<(String, Text)>,
    pub headers: Vec<(String, Text)>,
    pub body: Body,
    pub auth: Option<HttpAuth>,
    /// Statuses that count as success; empty means any 2xx.
    pub expect: Vec<u16>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Further attempts after the first, on connection errors, 429 and 5xx.
    pub retries: u32,
    /// Retry POST and PATCH too (they are not idempotent, so only when the step says so).
    pub retry_writes: bool,
    /// The wait before the first retry; it doubles with each one (plus jitter).
    pub backoff: Duration,
    pub rate: Option<Rate>,
    /// Where the records sit in each response (`{{ body.data }}`); makes the step a record
    /// source for `for_each` and `output` steps.
    pub records: Option<Text>,
    pub paginate: Option<Paginate>,
}

impl HttpStep {
    /// GET and HEAD only read: a dry run still makes them.
    pub(crate) fn is_read(&self) -> bool {
        matches!(self.method.as_str(), "GET" | "HEAD")
    }

    /// PUT and DELETE may be repeated safely; POST and PATCH may not.
    pub(crate) fn is_idempotent(&self) -> bool {
        !matches!(self.method.as_str(), "POST" | "PATCH")
    }
}

#[derive(Debug)]
pub(crate) enum Body {
    None,
    Json(JsonTemplate),
    Form(Vec<(String, Text)>),
    Raw(Text),
}

#[derive(Debug)]
pub(crate) enum HttpAuth {
    Basic { user: Text, password: Text },
    Bearer(Text),
}

/// At most `count` requests per `per`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// The least time between two requests.
    pub(crate) fn interval(&self) -> Duration {
        self.per / self.count.max(1)
    }
}

/// How to get the next page.
#[derive(Debug)]
pub(crate) struct Paginate {
    pub mode: PageMode,
    /// A safety stop for APIs that never say "no more".
    pub max_pages: Option<u64>,
    /// Stop when this is true (evaluated after each page, with `body`, `headers`, `records`).
    pub stop_when: Option<Text>,
}

#[derive(Debug)]
pub(crate) enum PageMode {
    /// The next page's URL is in the body (a template over `body` and `headers`).
    NextLink(Text),
    /// The next page's URL is the `Link` header's `rel="next"`.
    LinkHeader,
    /// `?offset=N&limit=M`, stepping by the page size until a page has no records.
    Offset {
        offset_param: String,
        limit_param: String,
        limit: u64,
    },
    /// `?page=N` from `start` until a page has no records.
    PageNumber { param: String, start: u64 },
    /// `?cursor=…` taken from each response until it is empty.
    Cursor { param: String, next: Text },
}

/// A JSON body with templates in its strings.
#[derive(Debug)]
pub(crate) enum JsonTemplate {
    Text(Text),
    Value(serde_json::Value),
    Array(Vec<JsonTemplate>),
    Object(Vec<(String, JsonTemplate)>),
}

/// `output`: records or a rendered value, to stdout or a file.
#[derive(Debug)]
pub(crate) struct OutputStep {
    pub format: OutputFormat,
    /// A file (written atomically) or, when `None`, stdout.
    pub to: Option<Text>,
    /// Write the records of this earlier step, page by page.
    pub records_of: Option<String>,
    /// Write this value instead (a list is written as records).
    pub value: Option<Text>,
    /// No records: write nothing at all — no header, no file (`if_empty = "skip"`).
    pub skip_empty: bool,
}

#[derive(Debug)]
pub(crate) enum OutputFormat {
    Json,
    JsonLines,
    Csv {
        columns: Vec<String>,
        header: bool,
    },
    /// A text report: `template` once, or `header`, `row` per record and `footer`.
    Text {
        template: Option<Text>,
        header: Option<Text>,
        row: Option<Text>,
        footer: Option<Text>,
    },
}

/// `for_each`: run the step once per item, at most `concurrency` at a time, results in order.
#[derive(Debug)]
pub(crate) struct ForEach {
    pub source: ItemSource,
    pub concurrency: usize,
    pub on_error: OnError,
}

#[derive(Debug)]
pub(crate) enum ItemSource {
    /// The records of an earlier step, streamed page by page.
    Records(String),
    /// A list from a template (`{{ params.ids }}`).
    Items(Text),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnError {
    /// The first failed item fails the step.
    Stop,
    /// Every item runs; the step fails at the end, naming the failed items.
    Continue,
}

/// `webhook`: how `integ serve-hook` starts the integration when a system posts to
/// `/hooks/<path>`.
#[derive(Debug)]
pub(crate) struct Webhook {
    pub path: String,
    pub auth: HookAuth,
    /// Params from the request: templates over `trigger.body`, `trigger.headers`,
    /// `trigger.query`.
    pub params: Vec<MappedParam>,
    /// A key that makes a re-delivered event a duplicate (`{{ trigger.body.eventId }}`).
    pub dedupe: Option<Text>,
    /// How long a key makes a re-delivery a duplicate; after that it runs again.
    pub dedupe_for: Duration,
    /// Events for which this is false are answered 200 and dropped.
    pub when: Option<Text>,
    /// Further attempts after a failed run; after the last one the run stays failed (and
    /// `integ retry` queues it again).
    pub retries: u32,
    /// The wait before the first retry; it doubles with each.
    pub backoff: Duration,
    /// Wait this long for the run and answer with its output; `None`: answer 202 at once.
    pub respond_with_output: Option<Duration>,
}

/// How a button or link runs an integration: `GET`/`POST /run/NAME` on the listener.
#[derive(Debug)]
pub(crate) struct Link {
    pub auth: LinkAuth,
    pub answer: Answer,
    /// A download's file name (a template over `params`); else the integration's name.
    pub filename: Option<Text>,
    /// How long a request waits for its run before it answers "started, run <id>".
    pub answer_within: Duration,
    /// Params taken from the query by templates over `trigger.query`; a param the request
    /// names itself wins.
    pub params: Vec<(String, Text)>,
    /// Origins whose pages may call the link from a script (CORS).
    pub cors_origins: Vec<String>,
    /// Confirm a Raynet button's `{token}` with Raynet before running.
    pub raynet_checktoken: Option<RaynetCheck>,
}

/// Raynet's `GET {api}/security/checktoken/{token}/{personId}/`, with the API's credentials.
#[derive(Debug)]
pub(crate) struct RaynetCheck {
    pub api: String,
    pub user: Text,
    pub key: Text,
    pub instance: String,
}

#[derive(Debug)]
pub(crate) enum LinkAuth {
    /// Declared explicitly with `auth.none = true`.
    None,
    /// Links signed by `integ link`: the key that signs them first, then earlier ones still
    /// accepted, each with its id.
    Signed { keys: Vec<(String, Text)> },
    /// A static key in a query parameter (a CRM button's URL).
    Token { query: String, secret: Text },
    /// HTTP Basic.
    Basic { user: Text, password: Text },
}

/// What a link's request is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// An HTML page with the run's output and how it ended.
    Page,
    /// The output as a file to save.
    Download,
    /// Raynet's AJAX contract: 200 with `{"success": true}` or `{"success": false, "message"}`.
    Ajax,
}

/// A param a webhook takes from its request.
#[derive(Debug)]
pub(crate) struct MappedParam {
    pub name: String,
    pub text: Text,
    /// The `trigger.…` paths the template reads (`trigger.body.data.entityId`): a request
    /// without one of them leaves the param to its default, or is refused naming the path.
    pub reads: Vec<String>,
}

/// How a webhook's sender proves who it is.
#[derive(Debug)]
pub(crate) enum HookAuth {
    /// Declared explicitly with `auth.none = true`.
    None,
    /// A shared secret sent as it is in a header (Raynet's `X-RAYNETCRM-Token`).
    Token {
        header: String,
        secret: Text,
    },
    Bearer {
        secret: Text,
    },
    Basic {
        user: Text,
        password: Text,
    },
    /// An HMAC of the raw body in a header; several secrets allow rotation.
    Hmac {
        header: String,
        prefix: String,
        algorithm: HmacAlgorithm,
        encoding: SignatureEncoding,
        secrets: Vec<Text>,
    },
    /// A timestamped HMAC in one of the common schemes; requests older (or newer) than
    /// `tolerance` are refused as replays.
    Signed {
        style: SignedStyle,
        secrets: Vec<Text>,
        tolerance: Duration,
    },
}

/// Timestamped signature schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignedStyle {
    /// `Stripe-Signature: t=…,v1=<hex HMAC-SHA256 of "t.body">`.
    Stripe,
    /// `X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:t:body">`.
    Slack,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
    /// HMAC-SHA256 of "id.t.body">`, the secret `whsec_<base64>`.
    Standard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HmacAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureEncoding {
    Hex,
    Base64,
}
