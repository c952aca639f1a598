//! The HTTP listener, `integ serve-hook`: it binds, bounds its connections, routes requests to
//! the doors it serves (`/hooks/…` to the webhook door), answers `/healthz` and `/metrics`,
//! reloads the file on SIGHUP, and on SIGTERM stops accepting and lets the queue drain. The
//! doors turn requests into events; the queue runs them.

mod connections;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use tokio::signal::unix::{Signal, SignalKind, signal};
use tokio::sync::watch;

use crate::answer::{Refusal, Taken};
use crate::config::model::Integration;
use crate::diagnostic::log_safe;
use crate::door::{link, webhook};
use crate::lifecycle::in_store;
use crate::loaded::Loaded;
use crate::metrics::Metrics;
use crate::output::Printer;
use crate::queue::{self, Doors, Prepared, Queue};
use crate::retention;
use crate::store::Store;
use crate::trigger::Trigger;

/// How the listener is set up (`integ serve-hook`'s options).
pub(crate) struct Settings {
    pub(crate) listen: SocketAddr,
    pub(crate) workers: usize,
    pub(crate) max_body: usize,
    pub(crate) max_connections: usize,
    /// A request that has not arrived whole by then is answered 408 (its headers: the
    /// connection is closed): slow senders cannot hold connections (and memory) for long.
    pub(crate) read_timeout: Duration,
    pub(crate) grace: Duration,
}

/// The listener's address cannot be bound (in use, or not this machine's): nothing was served.
#[derive(Debug)]
pub(crate) struct CannotListen {
    addr: SocketAddr,
    source: std::io::Error,
}

impl std::fmt::Display for CannotListen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed to listen on {}: {}", self.addr, self.source)
    }
}

impl std::error::Error for CannotListen {}

/// What the request handlers share.
struct Served {
    webhook: webhook::Door,
    link: link::Door,
    queue: Arc<Queue>,
    metrics: Arc<Metrics>,
}

/// The doors this listener serves, as the queue asks them to prepare their runs.
struct ServedDoors;

impl Doors for ServedDoors {
    fn prepare(
        &self,
        loaded: &Loaded,
        integration: &Integration,
        trigger: &Trigger,
    ) -> Result<Prepared, String> {
        match trigger {
            Trigger::Webhook(request) => webhook::prepare(loaded, integration, request),
            Trigger::Link(request) => link::prepare(loaded, integration, request),
            Trigger::Manual | Trigger::Schedule => Err(format!(
                "a {} run is never queued; this one cannot run",
                trigger.kind()
            )),
        }
    }
}

/// Serves until SIGTERM or SIGINT, then drains.
pub(crate) async fn serve(
    loaded: Loaded,
    store: Arc<dyn Store>,
    settings: Settings,
    printer: &Printer,
) -> anyhow::Result<()> {
    let waiting = in_store(&store, |store| store.recover()).await?;
    let metrics = Arc::new(Metrics::new());
    let path = loaded.config.path.clone();
    let env = Arc::clone(&loaded.env);
    let queue = Queue::start(Arc::clone(&store), loaded.clone(), Arc::clone(&metrics))?;
    tokio::spawn(prune_now_and_then(store, Arc::clone(&queue)));
    let served = Arc::new(Served {
        webhook: webhook::Door::new(
            &loaded,
            Arc::clone(&queue),
            Arc::clone(&metrics),
            settings.max_body,
            settings.read_timeout,
        )?,
        link: link::Door::new(Arc::clone(&queue), Arc::clone(&metrics))?,
        queue: Arc::clone(&queue),
        metrics,
    });

    let app = Router::new()
        .route("/hooks/{*path}", any(hook))
        .route("/run/{name}", any(run_link))
        .route("/runs/{id}", get(run_status))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics_text))
        .with_state(Arc::clone(&served));
    // Signals are caught from before the address is printed: whoever reads it may signal at once.
    let hangup = signal(SignalKind::hangup()).context("failed to catch SIGHUP")?;
    let terminate = signal(SignalKind::terminate()).context("failed to catch SIGTERM")?;
    let interrupt = signal(SignalKind::interrupt()).context("failed to catch SIGINT")?;
    let socket = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| CannotListen {
            addr: settings.listen,
            source,
        })?;
    let bound = socket.local_addr()?;
    // The address goes to stdout (port 0 picks a free one; scripts and tests read it there).
    printer.data(&format!("integ serve-hook listening on http://{bound}"));
    if waiting > 0 {
        tracing::warn!("{waiting} accepted events are waiting from before; running them now");
    }
    // Under systemd `Type=notify`; nothing happens without NOTIFY_SOCKET.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);

    warn_unserved(&queue).await;
    tokio::spawn(reload_on_sighup(Arc::clone(&served), path, env, hangup));
    let (stop, stopped) = watch::channel(false);
    let dispatcher = queue::run_apart(
        Arc::clone(&queue),
        settings.workers,
        settings.grace,
        Arc::new(ServedDoors),
        stopped,
    )?;

    let limits = connections::Limits {
        max_connections: settings.max_connections,
        header_timeout: settings.read_timeout,
        grace: settings.grace,
    };
    let grace = settings.grace;
    let stopping = async {
        shutdown_signal(terminate, interrupt).await;
        tracing::info!(
            "shutting down: no new requests; running runs have {} to finish",
            humantime::format_duration(grace)
        );
    };
    connections::serve(socket, app, limits, stopping).await;

    // Stop taking new events; the dispatcher lets the running ones finish within the grace
    // period.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let _ = stop.send(true);
    dispatcher
        .await
        .context("the dispatcher stopped without a word")?;
    match queue.waiting().await {
        Ok(queued) => tracing::info!(
            "shut down: {} queued events wait for the next start",
            queued.values().sum::<u64>()
        ),
        Err(err) => tracing::error!("shut down, but failed to read the queue: {err:#}"),
    }
    Ok(())
}

/// Queued events of integrations the file no longer has wait for them to come back; say so
/// rather than leave them waiting in silence.
async fn warn_unserved(queue: &Queue) {
    let config = Arc::clone(&queue.current().config);
    match queue.waiting().await {
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
/// one keeps serving; events already queued keep their stored request.
async fn reload_on_sighup(
    served: Arc<Served>,
    path: std::path::PathBuf,
    env: Arc<BTreeMap<String, String>>,
    mut hangup: Signal,
) {
    while hangup.recv().await.is_some() {
        let loaded = Loaded::load(&path, Arc::clone(&env)).and_then(|loaded| {
            let hooks = served.webhook.load(&loaded)?;
            Ok((loaded, hooks))
        });
        match loaded {
            Ok((loaded, hooks)) => {
                served.queue.load(loaded);
                tracing::info!("reloaded `{}`: {hooks} webhooks", path.display());
                warn_unserved(&served.queue).await;
            }
            Err(err) => tracing::error!(
                "refused to reload `{}`, still serving the previous version: {err:#}",
                path.display()
            ),
        }
    }
}

/// Prunes the history whenever a prune is due (see `retention::every`), by the rules of the file
/// in force. Each step is a bounded prune on the blocking pool, which lets the store's lock go
/// between small transactions: events are accepted meanwhile, and a shutdown waits for one
/// step at most.
async fn prune_now_and_then(store: Arc<dyn Store>, queue: Arc<Queue>) {
    loop {
        let config = Arc::clone(&queue.current().config);
        let every = retention::every(&config);
        let mut due = true;
        while due {
            let config = Arc::clone(&config);
            let step = in_store(&store, move |store| {
                retention::prune_if_due(store, &config, Some(retention::LISTENER_STEP))
            });
            due = match step.await {
                Ok(pruned) => pruned.is_some_and(|pruned| pruned.more),
                Err(err) => {
                    tracing::warn!("failed to prune the history: {err:#}");
                    false
                }
            };
        }
        // Often enough to notice soon that a prune is due (another process may have pruned
        // a while ago); each look is one read.
        tokio::time::sleep(every.min(Duration::from_secs(60))).await;
    }
}

async fn shutdown_signal(mut terminate: Signal, mut interrupt: Signal) {
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}

/// `/hooks/<path>`, timed; every refusal is counted and logged here.
async fn hook(
    State(served): State<Arc<Served>>,
    Path(path): Path<String>,
    method: Method,
    headers: HeaderMap,
    Query(query): Query<BTreeMap<String, String>>,
    body: Body,
) -> Response {
    let started = std::time::Instant::now();
    let response = served
        .webhook
        .handle(&path, method, headers, query, body)
        .await;
    served
        .metrics
        .latency
        .observe(started.elapsed().as_secs_f64());
    let status = response.status();
    // The path and the details hold what the request said.
    let path = log_safe(&path);
    // One line for every event received, whatever became of it.
    if let Some(Taken { detail }) = response.extensions().get() {
        let detail = log_safe(detail);
        tracing::info!("took a request to /hooks/{path} ({status}): {detail}");
    }
    if let Some(Refusal { metric, detail }) = response.extensions().get() {
        served.metrics.reject(metric);
        let detail = log_safe(detail);
        // A sender that cannot authenticate is worth a warning; a bad request, a note.
        if status == StatusCode::UNAUTHORIZED {
            tracing::warn!("refused a request to /hooks/{path} ({status}): {detail}");
        } else {
            tracing::info!("refused a request to /hooks/{path} ({status}): {detail}");
        }
    }
    response
}

/// `GET`/`POST /run/NAME`: a button or link.
async fn run_link(
    State(served): State<Arc<Served>>,
    Path(name): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    method: Method,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let query = query_pairs(query);
    let remote = peer.map(|Extension(ConnectInfo(addr))| addr.to_string());
    let from = remote.as_deref().unwrap_or("an unknown address");
    let response = served
        .link
        .handle(&name, method, headers, query, body, remote.as_deref())
        .await;
    let status = response.status();
    let name = log_safe(&name);
    if let Some(Refusal { detail, .. }) = response.extensions().get() {
        let detail = log_safe(detail);
        tracing::warn!("refused a request to /run/{name} from {from} ({status}): {detail}");
    } else {
        tracing::info!("took a request to /run/{name} from {from} ({status})");
    }
    response
}

/// A query string as its pairs, in order, each name as often as it was given.
fn query_pairs(query: Option<String>) -> Vec<(String, String)> {
    query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// `GET /runs/ID`: how a link's run stands, and its output once it ended.
async fn run_status(
    State(served): State<Arc<Served>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query_pairs(query);
    served.link.status(&id, headers, query).await
}

/// `GET /metrics`: Prometheus text.
async fn metrics_text(State(served): State<Arc<Served>>) -> Response {
    if let Ok(queued) = served.queue.waiting().await {
        let total: u64 = queued.values().sum();
        served
            .metrics
            .queued
            .set(i64::try_from(total).unwrap_or(i64::MAX));
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        served.metrics.render(),
    )
        .into_response()
}
