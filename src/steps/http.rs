//! The `http` step: one request, or a series of pages whose records flow to the steps that take
//! them. Retries with exponential backoff and jitter on connection errors, 429 and 5xx, honouring
//! `Retry-After`; writes (POST, PATCH) are retried only when the step says so.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, anyhow, bail};
use reqwest::header::{CONTENT_TYPE, HeaderMap, LINK, RETRY_AFTER};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::backoff;
use crate::config::kinds::{Body, HttpAuth, HttpStep, JsonTemplate, PageMode, Rate};
use crate::run_log::RunStats;
use crate::steps::StepScope;
use crate::template::context;

/// The longest `Retry-After` we wait; a server asking for more gets an error instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How much of an unexpected response's body goes into the error.
const BODY_EXCERPT: usize = 300;

/// The HTTP clients of one run: one per connect timeout, sharing nothing else.
#[derive(Default)]
pub(crate) struct HttpClients {
    clients: Mutex<HashMap<Duration, Client>>,
}

impl HttpClients {
    fn get(&self, connect_timeout: Duration) -> anyhow::Result<Client> {
        let mut clients = self.clients.lock().expect("client lock is never poisoned");
        if let Some(client) = clients.get(&connect_timeout) {
            return Ok(client.clone());
        }
        let client = Client::builder()
            .user_agent(concat!("integ/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(connect_timeout)
            .build()
            .context("failed to set up the HTTP client")?;
        clients.insert(connect_timeout, client.clone());
        Ok(client)
    }
}

/// Spaces a step's requests out to its `rate`, across all its concurrent items.
pub(crate) struct RateLimiter {
    interval: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl RateLimiter {
    pub(crate) fn new(rate: Rate) -> Self {
        RateLimiter {
            interval: rate.interval(),
            next: tokio::sync::Mutex::new(Instant::now()),
        }
    }

    async fn wait(&self) {
        let mut next = self.next.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep_until((*next).into()).await;
        }
        *next = (*next).max(now) + self.interval;
    }
}

/// One response, as later steps see it: `status`, `headers`, `body`.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Map<String, Value>,
    /// Parsed JSON when the response says it is JSON, else text.
    pub body: Value,
    raw_headers: HeaderMap,
    is_json: bool,
    content_type: String,
}

impl Response {
    fn to_json(&self) -> Value {
        json!({ "status": self.status, "headers": self.headers, "body": self.body })
    }

    /// The template context for `records`, `paginate` and `stop_when`.
    fn context(&self, scope: &StepScope<'_>) -> minijinja::Value {
        let base = scope.context.clone();
        minijinja::context! {
            body => context(&self.body),
            headers => context(&self.headers),
            status => self.status,
            ..base
        }
    }
}

/// Runs the step: one request, its response (with `records` when the step names them).
pub(crate) async fn run(step: &HttpStep, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    if !step.is_read() && scope.dry_run {
        return dry_run(step, scope);
    }
    if step.paginate.is_some() {
        return all_pages(step, scope).await;
    }
    let response = send(step, scope, None, &[]).await?;
    let mut result = response.to_json();
    if step.records.is_some() {
        result["records"] = Value::Array(records(step, scope, &response)?);
    }
    Ok(result)
}

/// A paged step that no later step takes records from: its records are gathered for later
/// templates (`steps.<id>.records`). With a taker they stream instead (see the engine).
async fn all_pages(step: &HttpStep, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    let mut pager = Pager::new(step, scope);
    let mut all = Vec::new();
    let mut last = None;
    while let Some(page) = pager.next().await? {
        scope
            .observer
            .progress(scope.label, "pages", pager.pages(), None);
        all.extend(page.records);
        last = Some(page.response);
    }
    let mut result = last.map_or_else(|| json!({}), |response| response.to_json());
    result["pages"] = json!(pager.pages());
    result["records"] = Value::Array(all);
    Ok(result)
}

/// The most of a body a dry run's plan shows.
const PLANNED_BODY: usize = 4096;

/// Shows the request a write would make, without making it: its method, its whole URL (the
/// query too) and its body.
fn dry_run(step: &HttpStep, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    let mut url = scope.render(&step.url)?;
    let query = render_pairs(&step.query, scope)?;
    if !query.is_empty() {
        let mut parsed =
            reqwest::Url::parse(&url).with_context(|| format!("`{url}` is not a valid URL"))?;
        parsed.query_pairs_mut().extend_pairs(&query);
        url = parsed.to_string();
    }
    let body = match &step.body {
        Body::None => String::new(),
        Body::Json(template) => serde_json::to_string(&render_json(template, scope)?)?,
        Body::Form(fields) => form_text(&render_pairs(fields, scope)?),
        Body::Raw(text) => scope.render(text)?,
    };
    let body = match body.len() {
        0 => String::new(),
        n if n <= PLANNED_BODY => format!(" {body}"),
        n => format!(
            " {}… ({n} bytes in all)",
            &body[..body.floor_char_boundary(PLANNED_BODY)]
        ),
    };
    scope.plan(&format!("would send {} {url}{body}", step.method));
    Ok(crate::steps::unsent())
}

/// A form body as it goes on the wire.
fn form_text(pairs: &[(String, String)]) -> String {
    let mut form = reqwest::Url::parse("http://form.invalid/").expect("a valid URL");
    form.query_pairs_mut().extend_pairs(pairs);
    form.query().unwrap_or_default().to_owned()
}

/// The step's records, page by page, for the steps that take them (see [`crate::steps::Records`]).
pub(crate) struct HttpRecords<'s, 'a> {
    pager: Pager<'s, 'a>,
    records: u64,
    last: Option<Response>,
}

impl<'s, 'a> HttpRecords<'s, 'a> {
    pub(crate) fn open(step: &'s HttpStep, scope: &'s StepScope<'a>) -> anyhow::Result<Self> {
        if !step.is_read() && scope.dry_run {
            bail!(
                "a dry run does not send {}, so it has no records to give",
                step.method
            );
        }
        let url = scope.render(&step.url)?;
        scope.started(&format!("{} {url}, page by page", step.method));
        Ok(HttpRecords {
            pager: Pager::new(step, scope),
            records: 0,
            last: None,
        })
    }

    pub(crate) async fn next(&mut self) -> anyhow::Result<Option<Vec<Value>>> {
        let Some(page) = self.pager.next().await? else {
            return Ok(None);
        };
        let scope = self.pager.scope;
        scope
            .observer
            .progress(scope.label, "pages", self.pager.pages(), None);
        self.records += page.records.len() as u64;
        self.last = Some(page.response);
        Ok(Some(page.records))
    }

    /// The step's own result once every page was given: the last response's status and
    /// headers, and how many pages and records there were.
    pub(crate) fn finish(self) -> Value {
        let pages = self.pager.pages();
        self.pager
            .scope
            .note(&format!("{} records in {pages} pages", self.records));
        match &self.last {
            Some(response) => json!({
                "status": response.status,
                "headers": response.headers,
                "pages": pages,
                "records": self.records,
            }),
            None => json!({ "pages": 0, "records": 0 }),
        }
    }
}

/// Fetches a step's pages one at a time.
struct Pager<'s, 'a> {
    step: &'s HttpStep,
    scope: &'s StepScope<'a>,
    pages: u64,
    /// The next page's URL, when the API gives one.
    next_url: Option<String>,
    /// The next page's offset, page number or cursor, for the query.
    next_query: Option<(String, String)>,
    done: bool,
}

/// One page: the response and the records found in it.
struct Page {
    response: Response,
    records: Vec<Value>,
}

impl<'s, 'a> Pager<'s, 'a> {
    fn new(step: &'s HttpStep, scope: &'s StepScope<'a>) -> Self {
        let next_query = step
            .paginate
            .as_ref()
            .and_then(|paginate| match &paginate.mode {
                PageMode::Offset { offset_param, .. } => {
                    Some((offset_param.clone(), "0".to_owned()))
                }
                PageMode::PageNumber { param, start } => Some((param.clone(), start.to_string())),
                _ => None,
            });
        Pager {
            step,
            scope,
            pages: 0,
            next_url: None,
            next_query,
            done: false,
        }
    }

    fn pages(&self) -> u64 {
        self.pages
    }

    /// The next page, or `None` when there are no more.
    async fn next(&mut self) -> anyhow::Result<Option<Page>> {
        if self.done {
            return Ok(None);
        }
        let step = self.step;
        let mut query: Vec<(String, String)> = Vec::new();
        if let Some(PageMode::Offset {
            limit_param, limit, ..
        }) = step.paginate.as_ref().map(|p| &p.mode)
        {
            query.push((limit_param.clone(), limit.to_string()));
        }
        query.extend(self.next_query.clone());
        let response = send(step, self.scope, self.next_url.clone(), &query).await?;
        self.pages += 1;
        RunStats::add(&self.scope.log.stats.pages, 1);
        let records = records(step, self.scope, &response)?;
        self.advance(&response, &records)?;
        Ok(Some(Page { response, records }))
    }

    /// Works out where the next page is, or that there is none.
    fn advance(&mut self, response: &Response, records: &[Value]) -> anyhow::Result<()> {
        let Some(paginate) = &self.step.paginate else {
            self.done = true;
            return Ok(());
        };
        if paginate.max_pages.is_some_and(|max| self.pages >= max) {
            self.done = true;
            return Ok(());
        }
        let ctx = response.context(self.scope);
        if let Some(stop) = &paginate.stop_when {
            let with_records = minijinja::context! { records => context(&records), ..ctx.clone() };
            let stop = self.scope.templates.render_value(stop, &with_records)?;
            if truthy(&stop) {
                self.done = true;
                return Ok(());
            }
        }
        // Link-following modes: the next page is a URL, possibly relative to this one.
        let link = match &paginate.mode {
            PageMode::NextLink(next) => match self.scope.templates.render_value(next, &ctx)? {
                Value::String(url) if !url.is_empty() => Some(Some(url)),
                _ => Some(None),
            },
            PageMode::LinkHeader => Some(next_link(&response.raw_headers)),
            _ => None,
        };
        if let Some(link) = link {
            match link {
                Some(url) => {
                    let current = self.next_url.as_deref();
                    self.next_url = Some(resolve(current, self.step, self.scope, &url)?);
                }
                None => self.done = true,
            }
            return Ok(());
        }
        match &paginate.mode {
            PageMode::NextLink(_) | PageMode::LinkHeader => unreachable!("handled above"),
            PageMode::Offset {
                offset_param,
                limit,
                ..
            } => {
                let offset = self.pages * limit;
                self.done = records.is_empty() || (records.len() as u64) < *limit;
                self.next_query = Some((offset_param.clone(), offset.to_string()));
            }
            PageMode::PageNumber { param, start } => {
                self.done = records.is_empty();
                self.next_query = Some((param.clone(), (start + self.pages).to_string()));
            }
            PageMode::Cursor { param, next } => {
                match self.scope.templates.render_value(next, &ctx)? {
                    Value::Null => self.done = true,
                    Value::String(cursor) if cursor.is_empty() => self.done = true,
                    Value::String(cursor) => self.next_query = Some((param.clone(), cursor)),
                    other => self.next_query = Some((param.clone(), other.to_string())),
                }
            }
        }
        Ok(())
    }
}

/// The records of a response, from the step's `records` template.
fn records(
    step: &HttpStep,
    scope: &StepScope<'_>,
    response: &Response,
) -> anyhow::Result<Vec<Value>> {
    let Some(records) = &step.records else {
        return Ok(Vec::new());
    };
    if !response.is_json {
        bail!(
            "expected a JSON response to {} {}, got `{}`: {}",
            step.method,
            scope.redact(&scope.render(&step.url)?),
            response.content_type,
            excerpt(
                &response
                    .body
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_default()
            )
        );
    }
    match scope
        .templates
        .render_value(records, &response.context(scope))?
    {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        other => bail!("`records` gave {}, expected a list", kind_of(&other)),
    }
}

/// Sends one request (with retries) and reads its response.
async fn send(
    step: &HttpStep,
    scope: &StepScope<'_>,
    url: Option<String>,
    extra_query: &[(String, String)],
) -> anyhow::Result<Response> {
    let method = Method::from_bytes(step.method.as_bytes()).expect("methods are validated");
    let url = request_url(step, scope, url, extra_query)?;
    let headers = render_pairs(&step.headers, scope)?;
    let body = match &step.body {
        Body::None => PreparedBody::None,
        Body::Json(template) => PreparedBody::Json(render_json(template, scope)?),
        Body::Form(fields) => PreparedBody::Form(render_pairs(fields, scope)?),
        Body::Raw(text) => PreparedBody::Raw(scope.render(text)?),
    };
    let auth = match &step.auth {
        None => None,
        Some(HttpAuth::Basic { user, password }) => {
            let (user, password) = (scope.render(user)?, scope.render(password)?);
            // On the wire it is base64 of `user:password`, which a server may echo into an
            // error that reaches the log: credentials are hidden whole, in every form.
            scope.log.hide(&format!("{user}:{password}"));
            Some((user, Some(password)))
        }
        Some(HttpAuth::Bearer(token)) => {
            let token = scope.render(token)?;
            scope.log.hide(&token);
            Some((token, None))
        }
    };
    let shown = scope.redact(&format!("{method} {url}"));
    let client = scope.http.get(step.connect_timeout)?;
    let may_retry_failures = step.is_idempotent() || step.retry_writes;

    let mut attempt: u32 = 0;
    loop {
        if let Some(rate) = scope.rate {
            rate.wait().await;
        }
        RunStats::add(&scope.log.stats.requests, 1);
        // A `for_each` item's request is counted, not logged: there may be a hundred thousand.
        // Its retries and failures are logged.
        if scope.log_requests || attempt > 0 {
            scope.note(&format!(
                "{shown}{}",
                if attempt > 0 {
                    format!(" (retry {attempt})")
                } else {
                    String::new()
                }
            ));
        }
        let mut request = client
            .request(method.clone(), url.clone())
            .timeout(step.timeout);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        request = match &auth {
            Some((user, Some(password))) => request.basic_auth(user, Some(password)),
            Some((token, None)) => request.bearer_auth(token),
            None => request,
        };
        request = match &body {
            PreparedBody::None => request,
            PreparedBody::Json(value) => request.json(value),
            PreparedBody::Form(fields) => request.form(fields),
            PreparedBody::Raw(text) => request.body(text.clone()),
        };
        let retries_left = attempt < step.retries;
        let delay = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let retryable = status == StatusCode::TOO_MANY_REQUESTS
                    || (status.is_server_error() && may_retry_failures);
                if retryable && retries_left {
                    let wait = retry_after(response.headers())
                        .unwrap_or_else(|| backoff::jittered(step.backoff, attempt, MAX_BACKOFF));
                    if wait > MAX_RETRY_AFTER {
                        bail!(
                            "{shown} answered {status} and asks to wait {}s, longer than integ waits",
                            wait.as_secs()
                        );
                    }
                    scope.note(&format!(
                        "{shown} answered {status}; retrying in {}",
                        humantime::format_duration(round_ms(wait))
                    ));
                    wait
                } else {
                    return read(step, scope, &shown, response).await;
                }
            }
            Err(err) => {
                // A refused connection sent nothing, so any request may be retried; after a
                // timeout the server may have acted, so only what may be repeated is.
                let retryable = err.is_connect() || may_retry_failures;
                let reason = describe_error(&err);
                if !(retryable && retries_left) {
                    let tries = attempt + 1;
                    let after = if tries > 1 {
                        format!(" after {tries} attempts")
                    } else {
                        String::new()
                    };
                    bail!("{shown} failed{after}: {reason}");
                }
                let wait = backoff::jittered(step.backoff, attempt, MAX_BACKOFF);
                scope.note(&format!(
                    "{shown} failed: {reason}; retrying in {}",
                    humantime::format_duration(round_ms(wait))
                ));
                wait
            }
        };
        RunStats::add(&scope.log.stats.retries, 1);
        attempt += 1;
        tokio::time::sleep(delay).await;
    }
}

/// The URL one request goes to, its query included, so that the log shows what was sent. A
/// next-page link is followed as given: it carries its own query (the step's `query` went into
/// the first request, and an API's next link repeats what it needs of it).
fn request_url(
    step: &HttpStep,
    scope: &StepScope<'_>,
    next_link: Option<String>,
    extra_query: &[(String, String)],
) -> anyhow::Result<reqwest::Url> {
    let (text, step_query) = match next_link {
        Some(link) => (link, Vec::new()),
        None => (scope.render(&step.url)?, render_pairs(&step.query, scope)?),
    };
    let mut url = reqwest::Url::parse(&text)
        .with_context(|| format!("invalid URL `{}`", scope.redact(&text)))?;
    if !step_query.is_empty() || !extra_query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(step_query.iter().chain(extra_query));
    }
    Ok(url)
}

enum PreparedBody {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
    Raw(String),
}

/// Reads a response, failing on a status the step does not expect.
async fn read(
    step: &HttpStep,
    scope: &StepScope<'_>,
    shown: &str,
    response: reqwest::Response,
) -> anyhow::Result<Response> {
    let status = response.status();
    let raw_headers = response.headers().clone();
    let content_type = raw_headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = response.bytes().await.map_err(|err| {
        anyhow!(
            "{shown} failed while reading the response: {}",
            describe_error(&err)
        )
    })?;
    let expected = if step.expect.is_empty() {
        status.is_success()
    } else {
        step.expect.contains(&status.as_u16())
    };
    if !expected {
        bail!(
            "{shown} answered {status}: {}",
            scope.redact(&excerpt(&String::from_utf8_lossy(&bytes)))
        );
    }
    let is_json = content_type.contains("json");
    let body = if is_json && !bytes.is_empty() {
        serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{shown} answered with invalid JSON: {}",
                excerpt(&String::from_utf8_lossy(&bytes))
            )
        })?
    } else {
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    };
    let headers: Map<String, Value> = raw_headers
        .iter()
        .filter_map(|(name, value)| {
            Some((
                name.as_str().to_owned(),
                Value::String(value.to_str().ok()?.to_owned()),
            ))
        })
        .collect();
    Ok(Response {
        status: status.as_u16(),
        headers,
        body,
        raw_headers,
        is_json,
        content_type,
    })
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(SystemTime::now()).unwrap_or_default())
}

fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(duration.as_millis() as u64)
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(headers: &HeaderMap) -> Option<String> {
    headers.get_all(LINK).iter().find_map(|value| {
        value.to_str().ok()?.split(',').find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let is_next = params.split(';').any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            is_next.then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_owned()
            })
        })
    })
}

/// A next-page link may be relative to the current page. It must stay where the step's first
/// request went (scheme, host and port): the step's credentials go with it.
fn resolve(
    current: Option<&str>,
    step: &HttpStep,
    scope: &StepScope<'_>,
    link: &str,
) -> anyhow::Result<String> {
    let parse = |url: &str| {
        reqwest::Url::parse(url).with_context(|| format!("invalid URL `{}`", scope.redact(url)))
    };
    let first = parse(&scope.render(&step.url)?)?;
    let base = match current {
        Some(url) => parse(url)?,
        None => first.clone(),
    };
    let next = base
        .join(link)
        .with_context(|| format!("invalid next-page link `{}`", scope.redact(link)))?;
    if next.origin() != first.origin() {
        bail!(
            "the next-page link `{}` leads to `{}`, not to `{}` where the step's first request \
             went; integ follows links only there, since the step's credentials go with them",
            scope.redact(link),
            next.origin().ascii_serialization(),
            first.origin().ascii_serialization()
        );
    }
    Ok(next.to_string())
}

fn render_pairs(
    pairs: &[(String, crate::template::Text)],
    scope: &StepScope<'_>,
) -> anyhow::Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|(name, text)| Ok((name.clone(), scope.render(text)?)))
        .collect()
}

/// A JSON body: a string that is one expression keeps its type.
fn render_json(template: &JsonTemplate, scope: &StepScope<'_>) -> anyhow::Result<Value> {
    Ok(match template {
        JsonTemplate::Text(text) => scope.render_value(text)?,
        JsonTemplate::Value(value) => value.clone(),
        JsonTemplate::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_json(item, scope))
                .collect::<anyhow::Result<_>>()?,
        ),
        JsonTemplate::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, item)| Ok((key.clone(), render_json(item, scope)?)))
                .collect::<anyhow::Result<_>>()?,
        ),
    })
}

/// The start of a body, on one line, for error messages.
fn excerpt(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = flat.chars();
    let short: String = chars.by_ref().take(BODY_EXCERPT).collect();
    match (short.is_empty(), chars.next().is_some()) {
        (true, _) => "(empty body)".to_owned(),
        (false, true) => format!("{short}…"),
        (false, false) => short,
    }
}

/// reqwest's own message names the URL again; say what went wrong instead.
fn describe_error(err: &reqwest::Error) -> String {
    if err.is_timeout() {
        return "timed out".to_owned();
    }
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(err);
    let mut deepest = None;
    while let Some(cause) = source {
        deepest = Some(cause.to_string());
        source = cause.source();
    }
    match (err.is_connect(), deepest) {
        (true, Some(cause)) => format!("could not connect: {cause}"),
        (true, None) => "could not connect".to_owned(),
        (false, Some(cause)) => cause,
        (false, None) => err.to_string(),
    }
}

/// Jinja's idea of truth, for `when` and `stop_when`.
pub(crate) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::header::{HeaderMap, HeaderValue, LINK, RETRY_AFTER};

    use super::{next_link, retry_after};

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            retry_after(&headers),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn link_header_next() {
        let mut headers = HeaderMap::new();
        headers.insert(
            LINK,
            HeaderValue::from_static(
                r#"<https://x/items?page=1>; rel="prev", <https://x/items?page=3>; rel="next""#,
            ),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://x/items?page=3")
        );
        headers.insert(
            LINK,
            HeaderValue::from_static(r#"<https://x/items?page=1>; rel="prev""#),
        );
        assert_eq!(next_link(&headers), None);
    }
}
