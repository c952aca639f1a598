//! The link door: a button or link in a web system runs an integration through
//! `GET`/`POST /run/NAME` on the listener. Without its required params a browser gets a form
//! generated from their types; with them the run is queued like any other, and the request
//! waits a while for it: an HTML page, a download, or Raynet's AJAX JSON.

mod page;
pub(crate) mod signed;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use chrono::{Local, Utc};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::answer::{read_body, refuse_quietly};
use crate::config::kinds::{Answer, Link, LinkAuth, RaynetCheck};
use crate::config::model::{Integration, Param, ParamDefault};
use crate::lifecycle::{self, OnFailure, ParamInput};
use crate::loaded::Loaded;
use crate::metrics::Metrics;
use crate::params::Unasked;
use crate::queue::{Finished, Prepared, Queue, Submitted, Wait};
use crate::scope::{DefaultScope, SecretScope};
use crate::signing;
use crate::store::Event;
use crate::template::context;
use crate::trigger::{LinkRequest, Trigger};

/// The most a form post may hold.
const MAX_FORM: usize = 64 << 10;

/// Headers on every answer: no scripts, no framing, no referrer, nothing cached.
const SAFETY: [(&str, &str); 5] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
    ("x-content-type-options", "nosniff"),
];

/// Every answer of the link door carries [`SAFETY`].
fn add_safety_headers(response: &mut Response) {
    for (name, value) in SAFETY {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
}

pub(crate) struct Door {
    queue: Arc<Queue>,
    metrics: Arc<Metrics>,
    /// For Raynet's `checktoken` call.
    http: reqwest::Client,
}

/// The key id of a token link's status URLs, signed with its key.
const STATUS_KID: &str = "status";

/// How long Raynet gets to confirm a button's token: within the 10 s a button waits.
const CHECKTOKEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Door {
    pub(crate) fn new(queue: Arc<Queue>, metrics: Arc<Metrics>) -> anyhow::Result<Door> {
        let http = reqwest::Client::builder()
            .timeout(CHECKTOKEN_TIMEOUT)
            .user_agent(concat!("integ/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Door {
            queue,
            metrics,
            http,
        })
    }

    /// Answers one request to `/run/NAME`.
    pub(crate) async fn handle(
        &self,
        name: &str,
        method: Method,
        headers: HeaderMap,
        query: Vec<(String, String)>,
        body: Body,
        remote: Option<&str>,
    ) -> Response {
        let origin = headers.get(header::ORIGIN).cloned();
        let preflight = method == Method::OPTIONS;
        let mut response = if preflight {
            StatusCode::NO_CONTENT.into_response()
        } else {
            self.answer(name, method, headers, query, body, remote)
                .await
        };
        add_safety_headers(&mut response);
        // A page on an origin the link lists may read its answer from a script.
        let loaded = self.queue.current();
        let listed = loaded
            .config
            .integrations
            .iter()
            .find(|i| i.name == name)
            .and_then(|i| i.link.as_ref())
            .is_some_and(|link| {
                origin
                    .as_ref()
                    .and_then(|o| o.to_str().ok())
                    .is_some_and(|o| link.cors_origins.iter().any(|listed| listed == o))
            });
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        if let (true, Some(origin)) = (listed, origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            if preflight {
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST"),
                );
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("content-type, authorization"),
                );
            }
        }
        response
    }

    async fn answer(
        &self,
        name: &str,
        method: Method,
        headers: HeaderMap,
        query: Vec<(String, String)>,
        body: Body,
        remote: Option<&str>,
    ) -> Response {
        let loaded = self.queue.current();
        let Some((integration, link)) = loaded
            .config
            .integrations
            .iter()
            .find(|i| i.name == name)
            .and_then(|i| i.link.as_ref().map(|link| (i, link)))
        else {
            return refused(
                &self.metrics,
                StatusCode::NOT_FOUND,
                format!("no link runs `{name}`"),
            );
        };
        if method != Method::GET && method != Method::POST {
            return refused(
                &self.metrics,
                StatusCode::METHOD_NOT_ALLOWED,
                "a link takes GET or POST".to_owned(),
            );
        }
        let Passed { fixed, key_id } =
            match authorised(&loaded, &format!("/run/{name}"), link, &headers, &query) {
                Ok(passed) => passed,
                Err((status, why)) => {
                    let mut response = refused(&self.metrics, status, why);
                    if matches!(link.auth, LinkAuth::Basic { .. }) {
                        response.headers_mut().insert(
                            header::WWW_AUTHENTICATE,
                            HeaderValue::from_static("Basic realm=\"integ\", charset=\"UTF-8\""),
                        );
                    }
                    return response;
                }
            };
        if let Some(check) = &link.raynet_checktoken
            && let Err(why) = self.raynet_token_checks(&loaded, check, &query).await
        {
            return refused(&self.metrics, StatusCode::FORBIDDEN, why);
        }
        self.metrics.link_requests.inc();
        // The key in the URL, a signature and its parts are the link's credential: never a
        // param, never stored. So is a Raynet button's one-time token.
        let mut credential: Vec<&str> = match &link.auth {
            LinkAuth::Token { query, .. } => vec![query.as_str()],
            LinkAuth::Signed { .. } => signed::RESERVED.to_vec(),
            LinkAuth::Basic { .. } | LinkAuth::None => Vec::new(),
        };
        if link.raynet_checktoken.is_some() {
            credential.push("token");
        }
        let query: Vec<(String, String)> = query
            .into_iter()
            .filter(|(key, _)| !credential.contains(&key.as_str()))
            .collect();
        let form = if method == Method::POST {
            match read_body(body, MAX_FORM, std::time::Duration::from_secs(10)).await {
                Ok(bytes) => form_urlencoded::parse(&bytes).into_owned().collect(),
                Err(refused) => return refused,
            }
        } else {
            Vec::new()
        };
        // What a signed link fixes stays fixed: the form cannot change it.
        if let Some((name, _)) = form
            .iter()
            .find(|(field, value)| fixed.iter().any(|(n, v)| n == field && v != value))
        {
            return refused(
                &self.metrics,
                StatusCode::FORBIDDEN,
                format!("param `{name}` is fixed by the signed link and cannot be changed"),
            );
        }
        let given = given(&loaded, integration, link, &query, &form);
        let missing = integration
            .params
            .iter()
            .any(|param| param.is_required() && !given.iter().any(|(n, _)| *n == param.name));
        if missing && link.answer != Answer::Ajax {
            return html(
                StatusCode::OK,
                page::form(integration, &given, &defaults(&loaded), None),
            );
        }
        let params = match lifecycle::resolve_params(
            &loaded.config,
            integration,
            ParamInput::Assignments {
                given: &given,
                prompt: &Unasked,
            },
            Local::now(),
            &loaded.env,
        ) {
            Ok(params) => params,
            Err(problem) => {
                let message = loaded.redactor.redact(&problem.message);
                return match link.answer {
                    Answer::Ajax => ajax(false, &message),
                    _ => {
                        let field = integration
                            .params
                            .iter()
                            .find(|p| message.contains(&format!("`{}`", p.name)))
                            .map_or("", |p| p.name.as_str());
                        html(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            page::form(
                                integration,
                                &given,
                                &defaults(&loaded),
                                Some((field, &message)),
                            ),
                        )
                    }
                };
            }
        };
        let request = LinkRequest {
            query: query.clone(),
            form: form.clone(),
            remote: remote.map(str::to_owned),
            key_id,
        };
        let trigger = Trigger::Link(request);
        let redactor = &loaded.redactor;
        let event = Event {
            run: crate::store::NewRun {
                id: uuid::Uuid::now_v7().to_string(),
                integration: integration.name.clone(),
                trigger: trigger.kind().to_owned(),
                params: redactor.redact_json(&json!(params)),
                started_at: Utc::now(),
                dry_run: false,
                window: None,
            },
            trigger_data: redactor.redact(&trigger.data().to_string()),
            dedupe: None,
        };
        // A page shows the output as it comes; the others answer once the run ended.
        let wait = match link.answer {
            Answer::Page => Wait::Live,
            Answer::Download | Answer::Ajax => Wait::End,
        };
        let (id, receiver, live) = match self.queue.submit(event, wait).await {
            Ok(Submitted::Queued {
                id,
                output: Some(receiver),
                live,
            }) => (id, receiver, live),
            Ok(_) | Err(_) => {
                return refused(
                    &self.metrics,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the run could not be stored".to_owned(),
                );
            }
        };
        if let Some(live) = live {
            return streamed(&integration.name, &id, live, receiver);
        }
        let filename = filename(&loaded, integration, link, &params);
        self.wait(&loaded, integration, link, &id, receiver, &filename)
            .await
    }

    /// Asks Raynet whether a button's `{token}` (for `{personId}`) is one it issued: it can be
    /// checked once, within a minute of the click.
    async fn raynet_token_checks(
        &self,
        loaded: &Loaded,
        check: &RaynetCheck,
        query: &[(String, String)],
    ) -> Result<(), String> {
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let token = get("token").ok_or("no `token` from the CRM in the URL")?;
        // Raynet's tokens and person ids are letters, digits, `-` and `_`; anything else is
        // not one, and never becomes part of the call.
        let plain = |value: &str| {
            !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        };
        if !plain(token) || get("personId").is_some_and(|person| !plain(person)) {
            return Err("the CRM's `token` or `personId` is not one Raynet issues".to_owned());
        }
        let (user, key) = (
            credential(loaded, &check.user)?,
            credential(loaded, &check.key)?,
        );
        let mut url = reqwest::Url::parse(&format!("{}/", check.api))
            .map_err(|err| format!("the Raynet API URL is not valid: {err}"))?;
        // The token and the person are data from the request: each is one path segment.
        url.path_segments_mut()
            .map_err(|()| "the Raynet API URL cannot have a path".to_owned())?
            .pop_if_empty()
            .extend(["security", "checktoken", token])
            .extend(get("personId"))
            .push("");
        let answer = self
            .http
            .get(url)
            .basic_auth(user, Some(key))
            .header("X-Instance-Name", &check.instance)
            .send()
            .await
            .map_err(|err| format!("Raynet's checktoken call failed: {}", err.without_url()))?;
        let status = answer.status();
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        if status.is_success() && body["data"] == Value::Bool(true) {
            Ok(())
        } else {
            Err(format!(
                "Raynet did not confirm the button's token ({status}): it is valid once, for a minute"
            ))
        }
    }

    /// Waits up to the link's `answer_within` for the run, and answers as the link says.
    async fn wait(
        &self,
        loaded: &Loaded,
        integration: &Integration,
        link: &Link,
        id: &str,
        receiver: oneshot::Receiver<Finished>,
        filename: &str,
    ) -> Response {
        match tokio::time::timeout(link.answer_within, receiver).await {
            Ok(Ok(Finished { error, output })) => ended(
                link,
                &integration.name,
                id,
                error.as_deref(),
                output,
                filename,
            ),
            _ => {
                self.queue.stop_waiting(id);
                let status_url = status_url(loaded, link, id);
                still_running(link, &integration.name, id, &status_url)
            }
        }
    }

    /// Answers `GET /runs/ID`: how a link's run stands, with the same credential as its link
    /// (a signed link's answer names a signed status URL).
    pub(crate) async fn status(
        &self,
        id: &str,
        headers: HeaderMap,
        query: Vec<(String, String)>,
    ) -> Response {
        let mut response = self.status_answer(id, headers, query).await;
        add_safety_headers(&mut response);
        response
    }

    async fn status_answer(
        &self,
        id: &str,
        headers: HeaderMap,
        query: Vec<(String, String)>,
    ) -> Response {
        let unknown = || {
            refused(
                &self.metrics,
                StatusCode::NOT_FOUND,
                format!("no run `{id}` of a link"),
            )
        };
        let run = match self.queue.run(id).await {
            Ok(crate::store::RunLookup::Found(run)) if run.id == id && run.trigger == "link" => run,
            _ => return unknown(),
        };
        let loaded = self.queue.current();
        let Some((integration, link)) = loaded
            .config
            .integrations
            .iter()
            .find(|i| i.name == run.integration)
            .and_then(|i| i.link.as_ref().map(|link| (i, link)))
        else {
            return unknown();
        };
        let path = format!("/runs/{id}");
        let passed = match &link.auth {
            // A token link's status URL is signed with its key, which it never carries.
            LinkAuth::Token { secret, .. } => credential(&loaded, secret)
                .map_err(|why| (StatusCode::UNAUTHORIZED, why))
                .and_then(|key| {
                    signed::verify(
                        &[(STATUS_KID.to_owned(), key.into_bytes())],
                        &path,
                        &query,
                        Utc::now().timestamp(),
                    )
                    .map_err(|refused| (StatusCode::FORBIDDEN, refused.message()))
                })
                .map(|_| ()),
            _ => authorised(&loaded, &path, link, &headers, &query).map(|_| ()),
        };
        if let Err((status, why)) = passed {
            return refused(&self.metrics, status, why);
        }
        use crate::store::RunStatus;
        match run.status {
            RunStatus::Queued | RunStatus::Running => {
                let status_url = status_url(&loaded, link, id);
                still_running(link, &integration.name, id, &status_url)
            }
            status => {
                let params: BTreeMap<String, Value> = match &run.params {
                    Value::Object(map) => map.clone().into_iter().collect(),
                    _ => BTreeMap::new(),
                };
                let filename = filename(&loaded, integration, link, &params);
                let error = match status {
                    RunStatus::Succeeded => None,
                    _ => Some(
                        run.error
                            .clone()
                            .unwrap_or_else(|| status.as_str().to_owned()),
                    ),
                };
                ended(
                    link,
                    &integration.name,
                    id,
                    error.as_deref(),
                    run.output.text,
                    &filename,
                )
            }
        }
    }
}

/// A page answer that shows the run's output as it comes — each piece escaped, sent as it
/// is written — and then how the run ended. The status line goes first, so the end is told in
/// the page itself.
fn streamed(
    name: &str,
    id: &str,
    mut live: tokio::sync::mpsc::UnboundedReceiver<String>,
    finished: oneshot::Receiver<Finished>,
) -> Response {
    let (pieces, body) = tokio::sync::mpsc::channel::<String>(64);
    let head = page::live_head(name, id);
    tokio::spawn(async move {
        if pieces.send(head).await.is_err() {
            return;
        }
        // The run's output closes when the run ends.
        while let Some(text) = live.recv().await {
            if pieces.send(page::escape(&text)).await.is_err() {
                return;
            }
        }
        let tail = match finished.await {
            Ok(Finished { error: None, .. }) => page::live_tail("succeeded", None),
            Ok(Finished {
                error: Some(error), ..
            }) => page::live_tail("failed", Some(error.lines().next().unwrap_or_default())),
            Err(_) => page::live_tail("gone: the listener stopped before it ended", None),
        };
        let _ = pieces.send(tail).await;
    });
    let stream = futures_util::stream::unfold(body, |mut body| async move {
        body.recv()
            .await
            .map(|piece| (Ok::<_, std::convert::Infallible>(piece), body))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        // Proxies pass it on as it comes (nginx buffers otherwise).
        .header("x-accel-buffering", "no")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

/// How a link's run that ended is answered, as its link says.
fn ended(
    link: &Link,
    name: &str,
    id: &str,
    error: Option<&str>,
    output: String,
    filename: &str,
) -> Response {
    match error {
        None => match link.answer {
            Answer::Page => html(
                StatusCode::OK,
                page::run_page(name, id, "succeeded", None, &output, None),
            ),
            Answer::Download => download(filename, output),
            Answer::Ajax => ajax(true, ""),
        },
        Some(error) => {
            let error = error.lines().next().unwrap_or_default();
            match link.answer {
                Answer::Page => html(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    page::run_page(name, id, "failed", Some(error), "", None),
                ),
                Answer::Download => plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("run {id} of `{name}` failed: {error}\n"),
                ),
                Answer::Ajax => ajax(false, &format!("run {id} failed: {error}")),
            }
        }
    }
}

/// How a link's run that goes on is answered: where to see it later.
fn still_running(link: &Link, name: &str, id: &str, status_url: &str) -> Response {
    let started = format!("started, run {id}");
    match link.answer {
        Answer::Page => html(
            StatusCode::ACCEPTED,
            page::run_page(name, id, "still running", None, "", Some(status_url)),
        ),
        Answer::Download => plain(
            StatusCode::ACCEPTED,
            format!("{started}; its file will be at {status_url}\n"),
        ),
        Answer::Ajax => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            json!({"success": true, "message": started, "status": status_url}).to_string(),
        )
            .into_response(),
    }
}

/// Where a link's run can be seen later, with the credential its link takes: a signed or token
/// link's is signed with its key, for a day.
fn status_url(loaded: &Loaded, link: &Link, id: &str) -> String {
    let path = format!("/runs/{id}");
    let render = |text| credential(loaded, text).ok();
    match &link.auth {
        LinkAuth::Signed { keys } => match keys
            .first()
            .and_then(|(kid, key)| Some((kid, render(key)?)))
        {
            Some((kid, key)) => {
                let exp = Utc::now().timestamp() + 86_400;
                format!(
                    "{path}?{}",
                    signed::sign(key.as_bytes(), kid, &path, &[], exp)
                )
            }
            None => path,
        },
        // Signed with the link's key rather than carrying it: an answer never holds a secret.
        LinkAuth::Token { secret, .. } => match render(secret) {
            Some(key) => {
                let exp = Utc::now().timestamp() + 86_400;
                format!(
                    "{path}?{}",
                    signed::sign(key.as_bytes(), STATUS_KID, &path, &[], exp)
                )
            }
            None => path,
        },
        LinkAuth::Basic { .. } | LinkAuth::None => path,
    }
}

/// A link's run as the queue starts it: its params checked again from the stored request.
pub(crate) fn prepare(
    loaded: &Loaded,
    integration: &Integration,
    request: &LinkRequest,
) -> Result<Prepared, String> {
    let Some(link) = &integration.link else {
        return Err(format!("`{}` no longer has a link", integration.name));
    };
    let given = given(loaded, integration, link, &request.query, &request.form);
    let params = lifecycle::resolve_params(
        &loaded.config,
        integration,
        ParamInput::Assignments {
            given: &given,
            prompt: &Unasked,
        },
        Local::now(),
        &loaded.env,
    )
    .map_err(|problem| loaded.redactor.redact(&problem.message))?;
    Ok(Prepared {
        params,
        on_failure: OnFailure::Fail,
    })
}

/// A run's params as a request gives them: the form's fields over the query's (the form posts
/// back to its own URL), then the link's `params` mapping for those not given by name.
fn given(
    loaded: &Loaded,
    integration: &Integration,
    link: &Link,
    query: &[(String, String)],
    form: &[(String, String)],
) -> Vec<(String, String)> {
    let mut given: Vec<(String, String)> = query
        .iter()
        .filter(|(name, _)| !form.iter().any(|(field, _)| field == name))
        .chain(form)
        .cloned()
        .collect();
    if link.params.is_empty() {
        return given;
    }
    let trigger = Trigger::Link(LinkRequest {
        query: query.to_vec(),
        ..LinkRequest::default()
    });
    let ctx = minijinja::context! { trigger => context(&trigger.scope()) };
    for (name, text) in &link.params {
        if given.iter().any(|(given, _)| given == name) {
            continue;
        }
        // A query without what the mapping reads leaves the param to its default or the form.
        if let Ok(value) = loaded.config.templates.render_str(text, &ctx)
            && !value.is_empty()
        {
            given.push((name.clone(), value));
        }
    }
    // With a mapping, the query also holds what the mapping reads (a CRM button's
    // `entityName`, `token`): only declared params are params.
    given.retain(|(name, _)| integration.param(name).is_some());
    given
}

/// What a request that passed its link's auth brings: the params a signed link fixes, and the
/// id of the key that signed it.
#[derive(Default)]
struct Passed {
    fixed: Vec<(String, String)>,
    key_id: Option<String>,
}

/// Whether the request carries the link's credential, compared in constant time; the params a
/// signed link fixes. Refused: the status and why.
fn authorised(
    loaded: &Loaded,
    path: &str,
    link: &Link,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<Passed, (StatusCode, String)> {
    let unauthorised = |why: String| (StatusCode::UNAUTHORIZED, why);
    let render = |text| credential(loaded, text).map_err(unauthorised);
    match &link.auth {
        LinkAuth::None => Ok(Passed::default()),
        LinkAuth::Signed { keys } => {
            let keys = keys
                .iter()
                .map(|(kid, key)| Ok((kid.clone(), render(key)?.into_bytes())))
                .collect::<Result<Vec<_>, _>>()?;
            signed::verify(&keys, path, query, Utc::now().timestamp())
                .map(|(fixed, kid)| Passed {
                    fixed,
                    key_id: Some(kid),
                })
                .map_err(|refused| {
                    let status = match refused {
                        signed::Refused::Expired(_) => StatusCode::GONE,
                        _ => StatusCode::FORBIDDEN,
                    };
                    (status, refused.message())
                })
        }
        LinkAuth::Token { query: key, secret } => {
            let expected = render(secret)?;
            match query.iter().find(|(name, _)| name == key) {
                Some((_, given)) if signing::equal(given.as_bytes(), expected.as_bytes()) => {
                    Ok(Passed::default())
                }
                Some(_) => Err(unauthorised(format!("a wrong `{key}` key"))),
                None => Err(unauthorised(format!("no `{key}` key in the URL"))),
            }
        }
        LinkAuth::Basic { user, password } => {
            let expected = format!("{}:{}", render(user)?, render(password)?);
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Basic "))
                .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
                .ok_or_else(|| unauthorised("no Basic credentials".to_owned()))?;
            if signing::equal(&given, expected.as_bytes()) {
                Ok(Passed::default())
            } else {
                Err(unauthorised("wrong Basic credentials".to_owned()))
            }
        }
    }
}

/// A credential the link takes (its key, a password), rendered with the file's secrets; an
/// error comes with every secret hidden.
pub(crate) fn credential(loaded: &Loaded, text: &crate::template::Text) -> Result<String, String> {
    let scope = context(&SecretScope {
        secrets: &loaded.secrets_in_templates,
        env: &loaded.env_in_templates,
    });
    loaded
        .config
        .templates
        .render_str(text, &scope)
        .map_err(|err| loaded.redactor.redact(&format!("{err:#}")))
}

/// How each param's default shows in the form: computed as a run now would get it.
fn defaults(loaded: &Loaded) -> impl Fn(&Param) -> Option<String> + '_ {
    let scope = DefaultScope::at(Local::now(), &loaded.env).context();
    move |param: &Param| match &param.default {
        None => None,
        Some(ParamDefault::Value(value)) => Some(page::field_value(value)),
        Some(ParamDefault::Template { source, text }) => {
            crate::params::computed_default(param, source, text, &loaded.config.templates, &scope)
                .ok()
                .map(|value| page::field_value(&value))
        }
    }
}

/// A download's file name: the link's template over the params, else the integration's name.
fn filename(
    loaded: &Loaded,
    integration: &Integration,
    link: &Link,
    params: &BTreeMap<String, Value>,
) -> String {
    link.filename
        .as_ref()
        .and_then(|name| {
            loaded
                .config
                .templates
                .render_str(name, &minijinja::context! { params => context(params) })
                .ok()
        })
        .unwrap_or_else(|| integration.name.clone())
}

fn html(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        text,
    )
        .into_response()
}

fn plain(status: StatusCode, text: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Raynet's AJAX contract: always 200, `success` says how it went.
fn ajax(success: bool, message: &str) -> Response {
    let body = if success && message.is_empty() {
        json!({"success": true})
    } else {
        json!({"success": success, "message": message})
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The output as a file to save, its type from its name.
fn download(filename: &str, output: String) -> Response {
    let kind = match filename.rsplit('.').next() {
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        Some("jsonl") => "application/jsonl",
        Some("txt") => "text/plain; charset=utf-8",
        Some("html") => "text/html; charset=utf-8",
        _ => "application/octet-stream",
    };
    // A plain ASCII name for old clients, the exact one percent-encoded (RFC 6266).
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // RFC 5987 allows no `*` there, which form encoding would leave as it is.
    let exact = crate::template::escape::percent_encoded(filename);
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}");
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, kind)
        .header(header::CONTENT_DISPOSITION, disposition)
        .body(Body::from(output))
        .expect("a valid response")
}

fn refused(metrics: &Metrics, status: StatusCode, why: String) -> Response {
    metrics.link_refusals.inc();
    let mut response = refuse_quietly(status, &why, "link", why.clone());
    *response.body_mut() = Body::from(page::page(
        "refused",
        &format!("<h1>Refused</h1>\n<p>{}</p>\n", page::escape(&why)),
    ));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
