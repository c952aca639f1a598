//! Answers to HTTP callers, the same at every door: JSON bodies, refusals that carry their
//! metric label and events taken that carry what became of them (the listener counts and logs
//! each one in one place), and the request body read within its size and time limits.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub(crate) fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Why a request was refused, for the listener's count and log.
#[derive(Clone)]
pub(crate) struct Refusal {
    /// The `reason` label of the rejected-events metric.
    pub(crate) metric: &'static str,
    /// For the log (never a secret).
    pub(crate) detail: String,
}

/// What became of an event that was taken (queued, a duplicate, ignored), for the listener's
/// log: every event it receives gets a line, refused or not.
#[derive(Clone)]
pub(crate) struct Taken {
    pub(crate) detail: String,
}

/// `response`, marked for the log with what became of its event.
pub(crate) fn taken(mut response: Response, detail: String) -> Response {
    response.extensions_mut().insert(Taken { detail });
    response
}

/// A refusal the sender can act on: the detail in the answer and in the log.
pub(crate) fn refuse(status: StatusCode, metric: &'static str, detail: String) -> Response {
    refuse_quietly(status, &detail.clone(), metric, detail)
}

/// A refusal that tells the sender nothing (a failed authentication); the log has `detail`.
pub(crate) fn refuse_quietly(
    status: StatusCode,
    public: &str,
    metric: &'static str,
    detail: String,
) -> Response {
    let mut response = answer(status, json!({ "error": public }));
    response.extensions_mut().insert(Refusal { metric, detail });
    response
}

/// The request body, whole, within `timeout` and `limit` bytes. Only the body is timed: an
/// answer may wait longer for its run.
pub(crate) async fn read_body(
    body: Body,
    limit: usize,
    timeout: Duration,
) -> Result<Bytes, Response> {
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
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
                humantime::format_duration(timeout)
            ),
        )),
    }
}
