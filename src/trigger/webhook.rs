//! The webhook listener: `POST /hooks/<path>` authenticates the sender, maps the request to the
//! integration's params, stores the event durably, answers at once (202 and the run id), and a
//! bounded pool of workers runs the queued events. Nothing that was answered 202 is lost: the
//! queue is in the store, and a crashed run goes back to it.

mod auth;
mod connections;
mod dispatch;
mod metrics;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use chrono::{Local, Utc};
use serde_json::{Value, json};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::config::model::{Config, Integration};
use crate::engine::TriggerKind;
use crate::output::Printer;
use crate::params;
use crate::steps::http::truthy;
use crate::store::{DedupeKey, Enqueued, Event, NewRun, Store};
use crate::template::context;
use auth::Verifier;
use metrics::Metrics;

/// Everything the listener needs, shared by the server and the workers.
pub struct Listener {
    pub config: Arc<Config>,
    pub secrets: Arc<BTreeMap<String, String>>,
    pub store: Arc<dyn Store>,
    pub workers: usize,
    pub max_body: usize,
    pub max_connections: usize,
    /// A request that has not arrived whole by then is answered 408: slow senders cannot hold
    /// connections (and memory) for long.
    pub read_timeout: Duration,
    pub grace: Duration,
}

struct Shared {
    listener: Listener,
    /// What is served now; SIGHUP replaces it with a fresh load of the file.
    current: RwLock<Arc<Served>>,
    env: BTreeMap<String, String>,
    /// Wakes the dispatcher: an event was queued, or a run ended.
    queued: Notify,
    running: dispatch::Running,
    metrics: Metrics,
    /// Requests of `respond = "output"` hooks waiting for their run, by run id.
    waiters: Mutex<HashMap<String, oneshot::Sender<Finished>>>,
    /// Events on their way into the store; see [`intake`].
    intake: mpsc::Sender<Ticket>,
}

/// Runs a store call on the blocking pool: the store waits on the disk and on other writers.
async fn in_store<T: Send + 'static>(
    store: &Arc<dyn Store>,
    job: impl FnOnce(&dyn Store) -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || job(store.as_ref()))
        .await
        .context("a store task failed")?
}

/// An event to store, and where to say how it went.
type Ticket = (Event, oneshot::Sender<Result<Enqueued, String>>);

/// The most events one commit takes.
const MAX_BATCH: usize = 512;

/// Stores events as they come, all the events that arrived during one commit in the next:
/// group commit. One sync to disk serves many requests, and each still gets its answer only
/// once its event is on disk.
async fn intake(store: Arc<dyn Store>, mut tickets: mpsc::Receiver<Ticket>) {
    while let Some(first) = tickets.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match tickets.try_recv() {
                Ok(ticket) => batch.push(ticket),
                Err(_) => break,
            }
        }
        let (events, replies): (Vec<Event>, Vec<_>) = batch.into_iter().unzip();
        match in_store(&store, move |store| store.enqueue_all(&events)).await {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(error) => {
                let error = format!("{error:#}");
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// How a run that a request waits for ended.
struct Finished {
    error: Option<String>,
    output: String,
}

impl Shared {
    fn current(&self) -> Arc<Served> {
        Arc::clone(&self.current.read().expect("served lock is never poisoned"))
    }
}

/// One loaded file, ready to serve.
struct Served {
    config: Arc<Config>,
    secrets: Arc<BTreeMap<String, String>>,
    /// Integration name by webhook path.
    routes: HashMap<String, String>,
    /// Each hook's sender check, by integration name.
    verifiers: HashMap<String, Verifier>,
    /// `secrets` and `env` for templates, converted once per load rather than per request.
    scope: minijinja::Value,
}

impl Served {
    fn new(
        config: Arc<Config>,
        secrets: Arc<BTreeMap<String, String>>,
        env: &BTreeMap<String, String>,
    ) -> anyhow::Result<Served> {
        let mut routes = HashMap::new();
        let mut verifiers = HashMap::new();
        let scope = secret_context(&secrets, env);
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
        Ok(Served {
            config,
            secrets,
            routes,
            verifiers,
            scope,
        })
    }
}

/// Serves until SIGTERM or SIGINT, then drains.
pub async fn serve(listener: Listener, addr: SocketAddr, printer: &Printer) -> anyhow::Result<()> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let served = Served::new(
        Arc::clone(&listener.config),
        Arc::clone(&listener.secrets),
        &env,
    )?;
    let waiting = in_store(&listener.store, |store| store.recover()).await?;
    let (tickets, arrivals) = mpsc::channel(4 * MAX_BATCH);
    tokio::spawn(intake(Arc::clone(&listener.store), arrivals));
    let shared = Arc::new(Shared {
        current: RwLock::new(Arc::new(served)),
        env,
        queued: Notify::new(),
        running: dispatch::Running::default(),
        metrics: Metrics::new(),
        waiters: Mutex::new(HashMap::new()),
        intake: tickets,
        listener,
    });

    let app = Router::new()
        .route("/hooks/{*path}", any(hook))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .with_state(Arc::clone(&shared));
    // Signals are caught from before the address is printed: whoever reads it may signal at once.
    let hangup = signal(SignalKind::hangup()).context("failed to catch SIGHUP")?;
    let terminate = signal(SignalKind::terminate()).context("failed to catch SIGTERM")?;
    let interrupt = signal(SignalKind::interrupt()).context("failed to catch SIGINT")?;
    let socket = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("failed to listen on {addr}"))?;
    let bound = socket.local_addr()?;
    // The address goes to stdout (port 0 picks a free one; scripts and tests read it there).
    printer.data(&format!("integ serve-hook listening on http://{bound}"));
    if waiting > 0 {
        tracing::warn!("{waiting} accepted events are waiting from before; running them now");
    }
    // Under systemd `Type=notify`; nothing happens without NOTIFY_SOCKET.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);

    warn_unserved(&shared).await;
    tokio::spawn(reload_on_sighup(Arc::clone(&shared), hangup));
    let (stop, stopped) = watch::channel(false);
    let dispatcher = tokio::spawn(dispatch::dispatch(Arc::clone(&shared), stopped));

    let limits = connections::Limits {
        max_connections: shared.listener.max_connections,
        header_timeout: shared.listener.read_timeout,
        grace: shared.listener.grace,
    };
    connections::serve(socket, app, limits, shutdown_signal(terminate, interrupt)).await;

    // Stop taking new events; the dispatcher lets the running ones finish within the grace
    // period.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let _ = stop.send(true);
    dispatcher.await.context("the dispatcher failed")?;
    Ok(())
}

/// Queued events of integrations the file no longer has wait for them to come back; say so
/// rather than leave them waiting in silence.
async fn warn_unserved(shared: &Shared) {
    let config = Arc::clone(&shared.current().config);
    match in_store(&shared.listener.store, |store| store.queued()).await {
        Ok(queued) => {
            for (name, count) in queued {
                if config.integration(&name).is_err() {
                    tracing::warn!(
                        "{count} queued events of `{name}` wait: the file has no such integration"
                    );
                }
            }
        }
        Err(err) => tracing::error!("failed to read the queue: {err:#}"),
    }
}

/// SIGHUP: load the file again. An invalid file is refused, its problems logged, and the old
/// one keeps serving; runs already queued keep the params they were accepted with.
async fn reload_on_sighup(shared: Arc<Shared>, mut hangup: Signal) {
    while hangup.recv().await.is_some() {
        let path = shared.current().config.path.clone();
        let loaded = crate::config::load(&path).and_then(|config| {
            let secrets = crate::secrets::read(&config, config.secrets.keys())
                .map_err(|problems| anyhow::anyhow!("{}", problems.join("; ")))?;
            Served::new(Arc::new(config), Arc::new(secrets), &shared.env)
        });
        match loaded {
            Ok(served) => {
                let hooks = served.routes.len();
                *shared
                    .current
                    .write()
                    .expect("served lock is never poisoned") = Arc::new(served);
                tracing::warn!("reloaded `{}`: {hooks} webhooks", path.display());
                warn_unserved(&shared).await;
                // Integrations may have come back or gained room.
                shared.queued.notify_one();
            }
            Err(err) => tracing::error!(
                "refused to reload `{}`, still serving the previous version: {err:#}",
                path.display()
            ),
        }
    }
}

async fn shutdown_signal(mut terminate: Signal, mut interrupt: Signal) {
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}

fn secret_context(
    secrets: &BTreeMap<String, String>,
    env: &BTreeMap<String, String>,
) -> minijinja::Value {
    context(&json!({ "secrets": secrets, "env": env }))
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Why a request was refused, carried to [`hook`], which counts and logs every refusal.
#[derive(Clone)]
struct Refusal {
    /// The `reason` label of the rejected-events metric.
    metric: &'static str,
    /// For the log.
    detail: String,
}

/// A refusal the sender can act on: the detail in the answer and in the log.
fn refuse(status: StatusCode, metric: &'static str, detail: String) -> Response {
    let mut response = answer(status, json!({ "error": detail }));
    response.extensions_mut().insert(Refusal { metric, detail });
    response
}

/// `POST /hooks/<path>`, timed.
async fn hook(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    method: Method,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
    body: Body,
) -> Response {
    let started = std::time::Instant::now();
    let response = hook_inner(&shared, &path, method, headers, query, body).await;
    shared
        .metrics
        .latency
        .observe(started.elapsed().as_secs_f64());
    if let Some(Refusal { metric, detail }) = response.extensions().get() {
        shared.metrics.reject(metric);
        let status = response.status();
        // A sender that cannot authenticate is worth a warning; a bad request, a note.
        if status == StatusCode::UNAUTHORIZED {
            tracing::warn!("refused a request to /hooks/{path} ({status}): {detail}");
        } else {
            tracing::info!("refused a request to /hooks/{path} ({status}): {detail}");
        }
    }
    response
}

/// The request body, whole, within `--read-timeout` and `--max-body`. Only the body is timed:
/// a `respond = "output"` answer may wait longer for its run.
async fn read_body(listener: &Listener, body: Body) -> Result<Bytes, Response> {
    let limit = listener.max_body;
    match tokio::time::timeout(listener.read_timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => {
            let too_large = std::error::Error::source(&err)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            Err(if too_large {
                refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!("the body is larger than {limit} bytes (--max-body)"),
                )
            } else {
                refuse(
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    format!("failed to read the body: {err}"),
                )
            })
        }
        Err(_) => Err(refuse(
            StatusCode::REQUEST_TIMEOUT,
            "timeout",
            format!(
                "the body did not arrive within {} (--read-timeout)",
                humantime::format_duration(listener.read_timeout)
            ),
        )),
    }
}

/// `GET /metrics`: Prometheus text.
async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    if let Ok(queued) = in_store(&shared.listener.store, |store| store.queued()).await {
        let total: u64 = queued.values().sum();
        shared
            .metrics
            .queued
            .set(i64::try_from(total).unwrap_or(i64::MAX));
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        shared.metrics.render(),
    )
        .into_response()
}

async fn hook_inner(
    shared: &Arc<Shared>,
    path: &str,
    method: Method,
    headers: HeaderMap,
    query: BTreeMap<String, String>,
    body: Body,
) -> Response {
    let path = path.trim_matches('/');
    let served = shared.current();
    let Some(name) = served.routes.get(path) else {
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
    let body = match read_body(&shared.listener, body).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let integration = served
        .config
        .integration(name)
        .expect("routes name integrations of the file");
    if let Err(reason) = served.verifiers[name].verify(&headers, &body) {
        // The sender learns nothing of what was wrong; the log says it (never the secret).
        let mut response = answer(StatusCode::UNAUTHORIZED, json!({"error": "unauthorized"}));
        response.extensions_mut().insert(Refusal {
            metric: "auth",
            detail: reason.to_string(),
        });
        return response;
    }
    match accept(shared, &served, integration, &headers, &query, &body).await {
        Ok(response) => response,
        Err(err) => {
            shared.metrics.reject("store");
            tracing::error!("failed to accept a webhook for `{name}`: {err:#}");
            answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "the event could not be stored"}),
            )
        }
    }
}

/// Checks and stores an authenticated event.
async fn accept(
    shared: &Arc<Shared>,
    served: &Served,
    integration: &Integration,
    headers: &HeaderMap,
    query: &BTreeMap<String, String>,
    body: &Bytes,
) -> anyhow::Result<Response> {
    let hook = integration
        .webhook
        .as_ref()
        .expect("routed integrations have a webhook");
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(value) => value,
            Err(err) => {
                return Ok(refuse(
                    StatusCode::BAD_REQUEST,
                    "malformed",
                    format!("malformed JSON: {err}"),
                ));
            }
        }
    };
    let header_map: BTreeMap<String, String> = headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let trigger = json!({ "kind": "webhook", "body": body, "headers": header_map, "query": query });
    let now = Local::now();
    let ctx = minijinja::context! {
        trigger => context(&trigger),
        today => now.format("%Y-%m-%d").to_string(),
        now => now.to_rfc3339(),
        ..served.scope.clone()
    };
    let templates = &served.config.templates;

    if let Some(when) = &hook.when {
        match templates.render_value(when, &ctx) {
            Ok(value) if truthy(&value) => {}
            Ok(_) => {
                shared.metrics.ignored.inc();
                return Ok(answer(
                    StatusCode::OK,
                    json!({"status": "ignored", "reason": "`when` is false"}),
                ));
            }
            Err(err) => {
                return Ok(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    format!("`when` failed: {err:#}"),
                ));
            }
        }
    }
    let mut mapped = BTreeMap::new();
    for (name, text) in &hook.params {
        match templates.render_value(text, &ctx) {
            Ok(value) => {
                mapped.insert(name.clone(), value);
            }
            Err(err) => {
                return Ok(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    format!("param `{name}` cannot be taken from the request: {err:#}"),
                ));
            }
        }
    }
    let params = match params::resolve_values(integration, mapped, templates, &ctx) {
        Ok(params) => params,
        Err(err) => {
            return Ok(refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                err.to_string(),
            ));
        }
    };
    let dedupe = match &hook.dedupe {
        Some(text) => match templates.render_str(text, &ctx) {
            Ok(key) if !key.is_empty() => Some(key),
            Ok(_) => None,
            Err(err) => {
                return Ok(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    format!("`dedupe` failed: {err:#}"),
                ));
            }
        },
        None => None,
    };

    let accepted_at = Utc::now();
    let dedupe = dedupe.map(|key| DedupeKey {
        key,
        since: accepted_at
            - chrono::Duration::from_std(hook.dedupe_for).unwrap_or(chrono::Duration::MAX),
    });
    let run = NewRun {
        id: uuid::Uuid::now_v7().to_string(),
        integration: integration.name.clone(),
        trigger: TriggerKind::Webhook.as_str().to_owned(),
        params: serde_json::to_value(&params)?,
        started_at: accepted_at,
    };
    // A request that waits for its run registers before the run can start.
    let waiter = hook.respond_with_output.map(|limit| {
        let (sender, receiver) = oneshot::channel();
        shared
            .waiters
            .lock()
            .expect("waiters lock is never poisoned")
            .insert(run.id.clone(), sender);
        (receiver, limit)
    });
    let run_id = run.id.clone();
    let event = Event {
        run,
        trigger_data: trigger,
        dedupe,
    };
    let (reply, answered) = oneshot::channel();
    let enqueued = match shared.intake.send((event, reply)).await {
        Ok(()) => answered
            .await
            .unwrap_or_else(|_| Err("the intake stopped".to_owned())),
        Err(_) => Err("the intake stopped".to_owned()),
    };
    if waiter.is_some() && !matches!(enqueued, Ok(Enqueued::New(_))) {
        shared
            .waiters
            .lock()
            .expect("waiters lock is never poisoned")
            .remove(&run_id);
    }
    Ok(match enqueued.map_err(anyhow::Error::msg)? {
        Enqueued::New(id) => {
            shared.metrics.accepted.inc();
            shared.queued.notify_one();
            match waiter {
                None => answer(
                    StatusCode::ACCEPTED,
                    json!({"run_id": id, "status": "queued"}),
                ),
                Some((receiver, limit)) => wait_for_output(shared, &id, receiver, limit).await,
            }
        }
        Enqueued::Duplicate(id) => {
            shared.metrics.deduplicated.inc();
            answer(StatusCode::OK, json!({"run_id": id, "status": "duplicate"}))
        }
    })
}

/// `respond = "output"`: the run's output as the answer, or 202 when it takes too long (the
/// run goes on; its id is in the answer).
async fn wait_for_output(
    shared: &Shared,
    id: &str,
    receiver: oneshot::Receiver<Finished>,
    limit: Duration,
) -> Response {
    match tokio::time::timeout(limit, receiver).await {
        Ok(Ok(Finished {
            error: None,
            output,
        })) => {
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
            json!({"run_id": id, "status": "failed", "error": error}),
        ),
        _ => {
            shared
                .waiters
                .lock()
                .expect("waiters lock is never poisoned")
                .remove(id);
            answer(
                StatusCode::ACCEPTED,
                json!({"run_id": id, "status": "running", "reason": "it did not finish in time"}),
            )
        }
    }
}
