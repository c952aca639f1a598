//! The floor for the ingest benchmark (`bench/ingest.sh`): the least a webhook receiver can do
//! to promise what `integ serve-hook --workers 0` promises — an event is on disk before its 202.
//! Written by hand: axum; the token header checked; the body parsed as JSON and two params taken
//! from it; the same `runs` row as integ's (same schema and indexes) committed in SQLite (WAL,
//! `synchronous = FULL`) by one writer thread that puts every event waiting during one commit
//! into the next (group commit, at most 512), each request answered only after its commit.
//!
//!   BENCH_TOKEN=t cargo run --release --example ingest_floor -- --listen 127.0.0.1:9310 --state-dir DIR
//!
//! The state directory may also come from `INTEG_STATE_DIR`. It serves `POST /hooks/ingest`
//! with the token in `X-Bench-Token` and prints `ingest_floor listening on http://ADDR`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt as _;
use chrono::{SecondsFormat, Utc};
use rusqlite::{Connection, TransactionBehavior, params};
use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, oneshot};

// As integ's binary, so that the difference measured is code, not allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The most rows one commit takes (integ's `MAX_BATCH`).
const MAX_BATCH: usize = 512;
const TOKEN_HEADER: &str = "x-bench-token";
const INTEGRATION: &str = "ingest";

/// integ's `runs` table at schema version 5, with its indexes (each one costs a b-tree insert
/// per row, so the floor keeps them all).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id              TEXT PRIMARY KEY,
    integration     TEXT NOT NULL,
    trigger         TEXT NOT NULL,
    params          TEXT NOT NULL,
    status          TEXT NOT NULL,
    started_at      TEXT NOT NULL,
    ended_at        TEXT,
    error           TEXT,
    log             TEXT NOT NULL DEFAULT '',
    trigger_data    TEXT NOT NULL DEFAULT '{}',
    dedupe_key      TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    from_queue      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS runs_by_integration ON runs (integration, started_at);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status);
CREATE UNIQUE INDEX IF NOT EXISTS runs_by_dedupe_key ON runs (integration, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_queue ON runs (integration, coalesce(next_attempt_at, started_at), id) WHERE status = 'queued';
";

/// One accepted event, as its row.
struct Row {
    id: String,
    params: String,
    started_at: String,
    trigger_data: String,
}

type Ticket = (Row, oneshot::Sender<Result<(), String>>);

struct App {
    token: String,
    rows: mpsc::Sender<Ticket>,
}

#[tokio::main]
async fn main() {
    let mut listen: SocketAddr = "127.0.0.1:9310".parse().expect("a valid address");
    let mut state_dir = std::env::var_os("INTEG_STATE_DIR").map(PathBuf::from);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => {
                listen = args
                    .next()
                    .and_then(|a| a.parse().ok())
                    .expect("--listen takes ADDR:PORT");
            }
            "--state-dir" => state_dir = args.next().map(PathBuf::from),
            other => panic!(
                "unknown argument `{other}`; usage: ingest_floor [--listen ADDR] [--state-dir DIR]"
            ),
        }
    }
    let state_dir = state_dir.expect("give --state-dir DIR or INTEG_STATE_DIR");
    let token = std::env::var("BENCH_TOKEN").expect("BENCH_TOKEN holds the token senders give");

    std::fs::create_dir_all(&state_dir).expect("the state directory can be created");
    let db = open(&state_dir.join("integ.db")).expect("the database opens");
    let (rows, arrivals) = mpsc::channel(4 * MAX_BATCH);
    // A thread of its own rather than the blocking pool: the floor pays for no hand-over
    // per batch.
    let writer = std::thread::spawn(move || write_rows(db, arrivals));

    let app = Router::new()
        .route("/hooks/ingest", post(hook))
        .with_state(Arc::new(App { token, rows }));
    let socket = tokio::net::TcpListener::bind(listen)
        .await
        .expect("the address can be bound");
    let bound = socket.local_addr().expect("a bound socket has an address");
    // As integ: small answers leave at once.
    let socket = socket.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    println!("ingest_floor listening on http://{bound}");
    axum::serve(socket, app)
        .with_graceful_shutdown(stopped())
        .await
        .expect("the server runs");
    // Every answered row is committed already; the join only closes the database cleanly.
    writer.join().expect("the writer does not panic");
}

fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let db = Connection::open(path)?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    db.pragma_update(None, "synchronous", "FULL")?;
    // integ's setting: the WAL is written over from its start after each checkpoint.
    db.pragma_update(None, "journal_size_limit", 64 << 20)?;
    db.execute_batch(SCHEMA)?;
    Ok(db)
}

async fn stopped() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM can be caught");
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// `POST /hooks/ingest`: the checks any correct receiver makes, then the row, then 202.
async fn hook(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    if headers.get(TOKEN_HEADER).map(|v| v.as_bytes()) != Some(app.token.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "unauthorized"})),
        )
            .into_response();
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(err) => {
            let error = format!("malformed JSON: {err}");
            return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": error}))).into_response();
        }
    };
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
    let (Some(record_id), Some(event_type)) = (text("/record/id"), text("/event/type")) else {
        let error = "`record.id` and `event.type` must be strings";
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": error})),
        )
            .into_response();
    };
    let params = json!({"event_type": event_type, "record_id": record_id}).to_string();
    // What integ keeps of the request: body, headers but the credential one, query.
    let kept: Map<String, Value> = headers
        .iter()
        .filter(|(name, _)| name.as_str() != TOKEN_HEADER)
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.into())))
        .collect();
    let trigger_data = json!({"body": body, "headers": kept, "query": {}}).to_string();
    let id = uuid::Uuid::now_v7().to_string();
    let row = Row {
        id: id.clone(),
        params,
        started_at: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        trigger_data,
    };
    let (reply, answered) = oneshot::channel();
    let stored = match app.rows.send((row, reply)).await {
        Ok(()) => answered
            .await
            .unwrap_or_else(|_| Err("the writer stopped".to_owned())),
        Err(_) => Err("the writer stopped".to_owned()),
    };
    match stored {
        Ok(()) => (
            StatusCode::ACCEPTED,
            axum::Json(json!({"run_id": id, "status": "queued"})),
        )
            .into_response(),
        Err(error) => {
            eprintln!("failed to store an event: {error}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"error": "the event could not be stored"})),
            )
                .into_response()
        }
    }
}

/// The writer: takes what is waiting (at least one row, at most [`MAX_BATCH`]), commits it in
/// one transaction, answers each row's request, again.
fn write_rows(mut db: Connection, mut arrivals: mpsc::Receiver<Ticket>) {
    while let Some(first) = arrivals.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match arrivals.try_recv() {
                Ok(ticket) => batch.push(ticket),
                Err(_) => break,
            }
        }
        let stored = insert(&mut db, &batch).map_err(|err| err.to_string());
        for (_, reply) in batch {
            let _ = reply.send(stored.clone());
        }
    }
}

fn insert(db: &mut Connection, batch: &[Ticket]) -> rusqlite::Result<()> {
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut statement = tx.prepare_cached(
            "INSERT INTO runs (id, integration, trigger, params, status, started_at, trigger_data, dedupe_key, from_queue)
             VALUES (?1, ?2, 'webhook', ?3, 'queued', ?4, ?5, NULL, 1)",
        )?;
        for (row, _) in batch {
            statement.execute(params![
                row.id,
                INTEGRATION,
                row.params,
                row.started_at,
                row.trigger_data
            ])?;
        }
    }
    tx.commit()
}
