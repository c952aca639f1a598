//! The webhook door: `POST /hooks/<path>` authenticates the sender, turns the request into an
//! event (its params mapped, its dedupe key, credentials left out) and submits it to the
//! queue, which stores it durably before the answer: 202 and the run id.

mod auth;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Local, Utc};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::answer::{answer, read_body, refuse, refuse_quietly, taken};
use crate::config::model::{Config, Integration, Webhook};
use crate::lifecycle::{self, OnFailure, ParamInput};
use crate::loaded::Loaded;
use crate::metrics::Metrics;
use crate::queue::{Finished, Prepared, Queue, Submitted, Wait};
use crate::run_log::Redactor;
use crate::scope::{HookScope, SecretScope};
use crate::steps::http::truthy;
use crate::store::{DedupeKey, Event};
use crate::template::context;
use crate::trigger::{Request, Trigger};
use auth::Verifier;

/// How deep a JSON body may nest. The store keeps it inside the event, one level deeper, and
/// must be able to read it back (serde_json stops at 128).
const MAX_DEPTH: usize = 64;

/// The webhooks of the file in force.
pub(crate) struct Door {
    hooks: RwLock<Arc<Hooks>>,
    queue: Arc<Queue>,
    metrics: Arc<Metrics>,
    max_body: usize,
    read_timeout: Duration,
}

/// One loaded file's webhooks, ready to serve.
struct Hooks {
    /// The file, its secrets and their redactor.
    loaded: Loaded,
    /// Integration name by webhook path.
    routes: HashMap<String, String>,
    /// Each hook's sender check, by integration name.
    verifiers: HashMap<String, Verifier>,
}

impl Hooks {
    fn new(loaded: &Loaded) -> anyhow::Result<Hooks> {
        let config = &loaded.config;
        let scope = context(&SecretScope {
            secrets: &loaded.secrets_in_templates,
            env: &loaded.env_in_templates,
        });
        let mut routes = HashMap::new();
        let mut verifiers = HashMap::new();
        for integration in &config.integrations {
            if let Some(hook) = &integration.webhook {
                routes.insert(hook.path.clone(), integration.name.clone());
                let verifier =
                    Verifier::new(&hook.auth, &config.templates, &scope).with_context(|| {
                        format!(
                            "failed to prepare the webhook auth of `{}`",
                            integration.name
                        )
                    })?;
                verifiers.insert(integration.name.clone(), verifier);
            }
        }
        Ok(Hooks {
            loaded: loaded.clone(),
            routes,
            verifiers,
        })
    }
}

impl Door {
    pub(crate) fn new(
        loaded: &Loaded,
        queue: Arc<Queue>,
        metrics: Arc<Metrics>,
        max_body: usize,
        read_timeout: Duration,
    ) -> anyhow::Result<Door> {
        Ok(Door {
            hooks: RwLock::new(Arc::new(Hooks::new(loaded)?)),
            queue,
            metrics,
            max_body,
            read_timeout,
        })
    }

    /// Serves the webhooks of `loaded` from now on; returns how many there are.
    pub(crate) fn load(&self, loaded: &Loaded) -> anyhow::Result<usize> {
        let hooks = Hooks::new(loaded)?;
        let count = hooks.routes.len();
        *self.hooks.write().expect("hooks lock is never poisoned") = Arc::new(hooks);
        Ok(count)
    }

    fn hooks(&self) -> Arc<Hooks> {
        Arc::clone(&self.hooks.read().expect("hooks lock is never poisoned"))
    }

    /// A request to `/hooks/<path>`.
    pub(crate) async fn handle(
        &self,
        path: &str,
        method: Method,
        headers: HeaderMap,
        query: BTreeMap<String, String>,
        body: Body,
    ) -> Response {
        let path = path.trim_matches('/');
        let hooks = self.hooks();
        let Some(name) = hooks.routes.get(path) else {
            return refuse(
                StatusCode::NOT_FOUND,
                "unknown_path",
                format!("no webhook at /hooks/{path}"),
            );
        };
        if method != Method::POST {
            let mut response = refuse(
                StatusCode::METHOD_NOT_ALLOWED,
                "method",
                "webhooks take POST".to_owned(),
            );
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
            return response;
        }
        let body = match read_body(body, self.max_body, self.read_timeout).await {
            Ok(body) => body,
            Err(refused) => return refused,
        };
        let integration = hooks
            .loaded
            .config
            .integration(name)
            .expect("routes name integrations of the file");
        let verifier = &hooks.verifiers[name];
        if let Err(reason) = verifier.verify(&headers, &body) {
            // The sender learns nothing of what was wrong; the log says it (never the secret).
            let mut response = refuse_quietly(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "auth",
                reason.to_string(),
            );
            if let Some(challenge) = verifier.challenge() {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static(challenge),
                );
            }
            return response;
        }
        let request = match request_of(&headers, query, &body) {
            Ok(request) => request.without_credentials(&verifier.credential_headers()),
            Err(malformed) => return refuse(StatusCode::BAD_REQUEST, "malformed", malformed),
        };
        self.accept(&hooks, integration, request).await
    }

    /// Checks and stores an authenticated event.
    async fn accept(&self, hooks: &Hooks, integration: &Integration, request: Request) -> Response {
        let hook = integration
            .webhook
            .as_ref()
            .expect("routed integrations have a webhook");
        let redactor = &hooks.loaded.redactor;
        let now = Local::now();
        let ctx = context(&HookScope {
            trigger: Trigger::Webhook(request.clone()).scope(),
            env: &hooks.loaded.env_in_templates,
            secrets: &hooks.loaded.secrets_in_templates,
            today: crate::scope::today(now),
            now: crate::scope::now(now),
        });
        let templates = &hooks.loaded.config.templates;
        if let Some(when) = &hook.when {
            match templates.render_value(when, &ctx) {
                Ok(value) if truthy(&value) => {}
                Ok(_) => {
                    self.metrics.ignored.inc();
                    return taken(
                        answer(
                            StatusCode::OK,
                            json!({"status": "ignored", "reason": "`when` is false"}),
                        ),
                        format!("ignored for `{}`: `when` is false", integration.name),
                    );
                }
                Err(err) => return invalid(redactor, format!("`when` failed: {err:#}")),
            }
        }
        // Mapped now to refuse a bad request at once; mapped again from the stored request
        // when the run starts (the store never keeps a param that may hold a secret).
        let params = match mapped_params(
            &hooks.loaded.config,
            integration,
            hook,
            &ctx,
            now,
            &hooks.loaded.env,
        ) {
            Ok(params) => params,
            Err(problem) => return invalid(redactor, problem),
        };
        let dedupe = match &hook.dedupe {
            Some(text) => match templates.render_str(text, &ctx) {
                Ok(key) if !key.is_empty() => Some(key),
                Ok(_) => None,
                Err(err) => return invalid(redactor, format!("`dedupe` failed: {err:#}")),
            },
            None => None,
        };
        let accepted_at = Utc::now();
        let trigger = Trigger::Webhook(request);
        let run = crate::store::NewRun {
            id: uuid::Uuid::now_v7().to_string(),
            integration: integration.name.clone(),
            trigger: trigger.kind().to_owned(),
            params: redactor.redact_json(&json!(params)),
            started_at: accepted_at,
            dry_run: false,
            window: None,
        };
        let event = Event {
            run,
            trigger_data: redacted_text(redactor, &trigger.data()),
            dedupe: dedupe.map(|key| DedupeKey {
                key: redactor.redact(&key),
                since: accepted_at
                    - chrono::Duration::from_std(hook.dedupe_for).unwrap_or(chrono::Duration::MAX),
            }),
        };
        match self
            .queue
            .submit(
                event,
                if hook.respond_with_output.is_some() {
                    Wait::End
                } else {
                    Wait::No
                },
            )
            .await
        {
            Ok(Submitted::Queued {
                id, output: None, ..
            }) => {
                self.metrics.accepted.inc();
                taken(
                    answer(
                        StatusCode::ACCEPTED,
                        json!({"run_id": id, "status": "queued"}),
                    ),
                    format!("queued as run {id} of `{}`", integration.name),
                )
            }
            Ok(Submitted::Queued {
                id,
                output: Some(output),
                ..
            }) => {
                self.metrics.accepted.inc();
                let limit = hook.respond_with_output.unwrap_or_default();
                let response = self.wait_for_output(&id, output, limit, redactor).await;
                let answered = match response.status() {
                    StatusCode::OK => "answered with its output",
                    StatusCode::ACCEPTED => "it did not finish in time and goes on",
                    _ => "it failed",
                };
                taken(
                    response,
                    format!("queued as run {id} of `{}`: {answered}", integration.name),
                )
            }
            Ok(Submitted::Duplicate(id)) => {
                self.metrics.deduplicated.inc();
                taken(
                    answer(StatusCode::OK, json!({"run_id": id, "status": "duplicate"})),
                    format!(
                        "a duplicate of run {id} of `{}` (its dedupe key was seen before): nothing new runs",
                        integration.name
                    ),
                )
            }
            Err(err) => {
                self.metrics.reject("store");
                tracing::error!(
                    "failed to accept a webhook for `{}`: {err}",
                    integration.name
                );
                answer(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "the event could not be stored"}),
                )
            }
        }
    }

    /// `respond = "output"`: the run's output as the answer, or 202 when it takes too long
    /// (the run goes on; its id is in the answer).
    async fn wait_for_output(
        &self,
        id: &str,
        receiver: oneshot::Receiver<Finished>,
        limit: Duration,
        redactor: &Redactor,
    ) -> Response {
        match tokio::time::timeout(limit, receiver).await {
            Ok(Ok(Finished {
                error: None,
                output,
            })) => {
                let output = redactor.redact(&output);
                let content_type = if serde_json::from_str::<Value>(&output).is_ok() {
                    "application/json"
                } else {
                    "text/plain; charset=utf-8"
                };
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, content_type)],
                    output,
                )
                    .into_response()
            }
            Ok(Ok(Finished {
                error: Some(error), ..
            })) => answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"run_id": id, "status": "failed", "error": redactor.redact(&error)}),
            ),
            _ => {
                self.queue.stop_waiting(id);
                answer(
                    StatusCode::ACCEPTED,
                    json!({
                        "run_id": id,
                        "status": "running",
                        "reason": "it did not finish in time; its output is kept with the run",
                        "output": format!("integ output {id}"),
                    }),
                )
            }
        }
    }
}

/// What a queued webhook event runs with: its params mapped again from the stored request,
/// and the hook's retries.
pub(crate) fn prepare(
    loaded: &Loaded,
    integration: &Integration,
    request: &Request,
) -> Result<Prepared, String> {
    let Some(hook) = &integration.webhook else {
        return Err(format!("`{}` no longer has a webhook", integration.name));
    };
    let now = Local::now();
    // The request as templates see it, only for a hook that maps params from it.
    let ctx = if hook.params.is_empty() {
        minijinja::Value::UNDEFINED
    } else {
        context(&HookScope {
            trigger: Trigger::Webhook(request.clone()).scope(),
            env: &loaded.env_in_templates,
            secrets: &loaded.secrets_in_templates,
            today: crate::scope::today(now),
            now: crate::scope::now(now),
        })
    };
    // The reason is logged and stored: a value mapped from a secret stays hidden in it.
    let params = mapped_params(&loaded.config, integration, hook, &ctx, now, &loaded.env)
        .map_err(|problem| loaded.redactor.redact(&problem))?;
    Ok(Prepared {
        params,
        on_failure: OnFailure::Retry {
            retries: hook.retries,
            backoff: hook.backoff,
        },
    })
}

/// The hook's `params` mapping rendered against the request, then resolved like any run's
/// params (types checked, defaults filled).
fn mapped_params(
    config: &Config,
    integration: &Integration,
    hook: &Webhook,
    ctx: &minijinja::Value,
    now: chrono::DateTime<Local>,
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Value>, String> {
    let mut mapped = BTreeMap::new();
    for param in &hook.params {
        let name = &param.name;
        let err = match config.templates.render_value(&param.text, ctx) {
            Ok(value) => {
                mapped.insert(name.clone(), value);
                continue;
            }
            Err(err) => err,
        };
        // A request without what the mapping reads: the param's default, or say what is
        // missing (the template engine's "undefined value" does not).
        let Some(missing) = param.reads.iter().find(|path| is_absent(ctx, path)) else {
            return Err(format!(
                "param `{name}` cannot be taken from the request: {err:#}"
            ));
        };
        let has_default = integration
            .params
            .iter()
            .any(|declared| &declared.name == name && declared.default.is_some());
        if !has_default {
            return Err(format!(
                "param `{name}` cannot be taken from the request: it has no `{missing}`"
            ));
        }
    }
    lifecycle::resolve_params(config, integration, ParamInput::Mapped(mapped), now, env)
        .map_err(|err| err.to_string())
}

/// Whether a dotted path (`trigger.body.data.entityId`) leads to nothing in `ctx`.
fn is_absent(ctx: &minijinja::Value, path: &str) -> bool {
    let mut value = ctx.clone();
    for key in path.split('.') {
        match value.get_attr(key) {
            Ok(next) if !next.is_undefined() => value = next,
            _ => return true,
        }
    }
    false
}

/// The request as a run sees it: a form-encoded body (Slack's slash commands) as an object of
/// its fields, any other as JSON. A body that is neither (or nests too deep) is refused with
/// the reason.
fn request_of(
    headers: &HeaderMap,
    query: BTreeMap<String, String>,
    body: &Bytes,
) -> Result<Request, String> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    let body: Value = if body.is_empty() {
        Value::Null
    } else if is_form {
        form_fields(body)?
    } else {
        serde_json::from_slice(body).map_err(|err| format!("malformed JSON: {err}"))?
    };
    if depth(&body) > MAX_DEPTH {
        return Err(format!(
            "the JSON body nests deeper than {MAX_DEPTH} levels"
        ));
    }
    let headers = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    Ok(Request {
        body,
        headers,
        query,
    })
}

/// A form-encoded body as an object of strings. A field given twice is refused, not folded
/// into one value a run would then read as if it were the only one.
fn form_fields(body: &[u8]) -> Result<Value, String> {
    let mut fields = serde_json::Map::new();
    for pair in body
        .split(|byte| *byte == b'&')
        .filter(|pair| !pair.is_empty())
    {
        let (name, value) = match pair.iter().position(|byte| *byte == b'=') {
            Some(at) => (&pair[..at], &pair[at + 1..]),
            None => (pair, &[][..]),
        };
        let shown = String::from_utf8_lossy(&form_decode(name)).into_owned();
        let text = |part: &[u8]| {
            String::from_utf8(form_decode(part))
                .map_err(|_| format!("malformed form body: the field `{shown}` is not UTF-8"))
        };
        let (name, value) = (text(name)?, text(value)?);
        if fields.insert(name, Value::String(value)).is_some() {
            return Err(format!(
                "malformed form body: the field `{shown}` is given more than once"
            ));
        }
    }
    Ok(Value::Object(fields))
}

/// One name or value of a form: `+` is a space, `%XX` a byte; a `%` not followed by two hex
/// digits stays as it is (as browsers and the WHATWG URL standard have it).
fn form_decode(part: &[u8]) -> Vec<u8> {
    let hex = |byte: Option<&u8>| byte.and_then(|byte| (*byte as char).to_digit(16));
    let mut decoded = Vec::with_capacity(part.len());
    let mut i = 0;
    while i < part.len() {
        match (part[i], hex(part.get(i + 1)), hex(part.get(i + 2))) {
            (b'%', Some(high), Some(low)) => {
                decoded.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => decoded.push(b' '),
            (byte, _, _) => decoded.push(byte),
        }
        i += 1;
    }
    decoded
}

/// How many arrays and objects deep a value goes (a scalar is 0).
fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut open = vec![(value, 0)];
    while let Some((value, level)) = open.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        deepest = deepest.max(level + 1);
        open.extend(children.map(|child| (child, level + 1)));
    }
    deepest
}

/// `value` as JSON text with every secret hidden, as the store keeps it: serialised once, and
/// redacted string by string only when it holds a secret (most hold none).
fn redacted_text(redactor: &Redactor, value: &Value) -> String {
    let text = value.to_string();
    if redactor.finds(&text) {
        redactor.redact_json(value).to_string()
    } else {
        text
    }
}

/// A request whose values do not fit the integration: 422 with the reason, secrets hidden.
fn invalid(redactor: &Redactor, detail: String) -> Response {
    refuse(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
        redactor.redact(&detail),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{depth, form_fields};

    #[test]
    fn form_bodies_are_decoded_field_by_field() {
        let cases: &[(&[u8], Result<serde_json::Value, &str>)] = &[
            (
                b"command=%2Fweather&text=94070+%C3%BAnor&empty=&bare",
                Ok(
                    json!({"command": "/weather", "text": "94070 \u{fa}nor", "empty": "", "bare": ""}),
                ),
            ),
            (
                b"a=100%&b=%zz&c=%4",
                Ok(json!({"a": "100%", "b": "%zz", "c": "%4"})),
            ),
            (b"a%20b=1&&", Ok(json!({"a b": "1"}))),
            (
                b"text=a&text=b",
                Err("malformed form body: the field `text` is given more than once"),
            ),
            (
                b"text=%FF",
                Err("malformed form body: the field `text` is not UTF-8"),
            ),
            (
                b"t%FFx=1",
                Err("malformed form body: the field `t\u{fffd}x` is not UTF-8"),
            ),
        ];
        for (body, expected) in cases {
            let got = form_fields(body);
            assert_eq!(
                got,
                expected.clone().map_err(str::to_owned),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn depth_counts_arrays_and_objects() {
        assert_eq!(depth(&json!(1)), 0);
        assert_eq!(depth(&json!({"a": 1})), 1);
        assert_eq!(depth(&json!({"a": [1, {"b": []}]})), 4);
    }
}
