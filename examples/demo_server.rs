//! A small demo of the systems integ talks to, on 127.0.0.1: a CRM shaped like Raynet's API
//! (HTTP Basic auth with the key `demo`, `X-Instance-Name`, offset/limit paging of at most 1000)
//! and an accounting system that takes invoices. It also serves the benchmark's record source
//! and sink.
//!
//!   cargo run --example demo_server                 # listens on 127.0.0.1:8088
//!   cargo run --example demo_server -- 127.0.0.1:0  # any free port; the address is printed
//!
//! As the CRM it also sends Raynet-style webhooks (ids only, the token in a header):
//!   curl -X POST 'http://127.0.0.1:8088/crm/simulate/deal/42?to=http://127.0.0.1:8090/hooks/raynet/deal&token=demo-token'

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

const COMPANIES: u64 = 2_500;
const DEALS: u64 = 120;
const CRM_KEY: &str = "demo";

#[derive(Default)]
struct Demo {
    invoices: Mutex<Vec<Value>>,
    sunk: AtomicU64,
}

#[tokio::main]
async fn main() {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8088".to_owned());
    let demo = Arc::new(Demo::default());
    let app = Router::new()
        .route("/crm/api/v2/company/", get(companies))
        .route("/crm/api/v2/businessCase/", get(deals))
        .route("/crm/api/v2/businessCase/{id}/", get(deal))
        .route("/crm/simulate/deal/{id}", post(simulate_change))
        .route("/crm/deal/{id}", get(deal_page))
        .route(
            "/accounting/invoices",
            post(create_invoice).get(list_invoices),
        )
        .route("/bench/records", get(bench_records))
        .route("/bench/sink", post(bench_sink))
        .route("/stats", get(stats))
        .with_state(demo);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .unwrap_or_else(|err| panic!("cannot listen on {listen}: {err}"));
    println!(
        "demo server listening on http://{}",
        listener.local_addr().unwrap()
    );
    axum::serve(listener, app).await.unwrap();
}

/// The CRM's check: Basic auth with the demo key, and an instance name.
/// A refused request: its status and JSON message.
type Refusal = (StatusCode, Json<Value>);

fn crm_auth(headers: &HeaderMap) -> Result<(), Refusal> {
    use base64::Engine as _;
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .ok()
        })
        .and_then(|decoded| String::from_utf8(decoded).ok());
    let authorized =
        basic.is_some_and(|pair| pair.split_once(':').is_some_and(|(_, key)| key == CRM_KEY));
    if !authorized {
        return Err((
            StatusCode::UNAUTHORIZED,
            Json(json!({"success": false, "message": "bad credentials"})),
        ));
    }
    if headers.get("x-instance-name").is_none() {
        return Err((
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "message": "X-Instance-Name is missing"})),
        ));
    }
    Ok(())
}

/// A number from the query string, or `default` when it is missing or not a number.
fn number(params: &HashMap<String, String>, name: &str, default: u64) -> u64 {
    params
        .get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn page(params: &HashMap<String, String>, total: u64) -> Result<(u64, u64), Refusal> {
    let offset = number(params, "offset", 0);
    let limit = number(params, "limit", 100);
    if limit > 1000 {
        return Err((
            StatusCode::BAD_REQUEST,
            Json(json!({"success": false, "message": "limit is at most 1000"})),
        ));
    }
    Ok((offset.min(total), (offset + limit).min(total)))
}

fn company(id: u64) -> Value {
    let city = ["Praha", "Brno", "Ostrava"][(id % 3) as usize];
    json!({
        "id": id,
        "name": format!("Company {id:04} s.r.o."),
        "regNumber": format!("{:08}", 10_000_000 + id * 7),
        "primaryAddress": {"address": {"city": city}},
        "rowInfo": {"lastModifiedAt": format!("2026-11-{:02} 10:00", 1 + id % 28)},
    })
}

fn deal_record(id: u64) -> Value {
    json!({
        "id": id,
        "name": format!("Deal {id}"),
        "totalAmount": 1000 + (id * 137) % 9000,
        "currency": "CZK",
        "validFrom": format!("2026-{:02}-{:02}", 1 + id % 11, 1 + id % 28),
        "company": {"id": id % COMPANIES, "name": format!("Company {:04} s.r.o.", id % COMPANIES)},
        "businessCaseStatus": if id.is_multiple_of(4) { "E_LOST" } else { "E_WIN" },
    })
}

async fn companies(headers: HeaderMap, Query(params): Query<HashMap<String, String>>) -> Response {
    if let Err(refusal) = crm_auth(&headers) {
        return refusal.into_response();
    }
    // Raynet's "changed since" filters, `yyyy-MM-dd HH:mm`: text order is time order.
    let since = params.get("rowInfo.lastModifiedAt[GE]");
    let before = params.get("rowInfo.lastModifiedAt[LT]");
    let matching: Vec<Value> = (0..COMPANIES)
        .map(company)
        .filter(|c| {
            let at = c["rowInfo"]["lastModifiedAt"].as_str().unwrap_or_default();
            since.is_none_or(|s| at >= s.as_str()) && before.is_none_or(|b| at < b.as_str())
        })
        .collect();
    let total = matching.len() as u64;
    match page(&params, total) {
        Ok((from, to)) => Json(json!({
            "success": true,
            "totalCount": total,
            "data": matching[from as usize..to as usize],
        }))
        .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn deals(headers: HeaderMap, Query(params): Query<HashMap<String, String>>) -> Response {
    if let Err(refusal) = crm_auth(&headers) {
        return refusal.into_response();
    }
    let from_date = params.get("validFrom[GE]").cloned().unwrap_or_default();
    let to_date = params
        .get("validFrom[LE]")
        .cloned()
        .unwrap_or_else(|| "9999".into());
    let matching: Vec<Value> = (1..=DEALS)
        .map(deal_record)
        .filter(|d| {
            let date = d["validFrom"].as_str().unwrap_or_default();
            date >= from_date.as_str() && date <= to_date.as_str()
        })
        .collect();
    match page(&params, matching.len() as u64) {
        Ok((from, to)) => Json(json!({
            "success": true,
            "totalCount": matching.len(),
            "data": matching[from as usize..to as usize],
        }))
        .into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn deal(headers: HeaderMap, Path(id): Path<u64>) -> Response {
    if let Err(refusal) = crm_auth(&headers) {
        return refusal.into_response();
    }
    if id == 0 || id > DEALS {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"success": false, "message": "no such deal"})),
        )
            .into_response();
    }
    Json(json!({"success": true, "data": deal_record(id)})).into_response()
}

/// The CRM's page of deal `id`, with a custom button as Raynet draws one: its URL template
/// (`?button=`) with `{entityId}` and `{entityName}` filled in.
async fn deal_page(Path(id): Path<u64>, Query(params): Query<HashMap<String, String>>) -> Response {
    let Some(template) = params.get("button") else {
        return (
            StatusCode::BAD_REQUEST,
            "pass ?button=<the button's URL template, with {entityId}>",
        )
            .into_response();
    };
    let url = template
        .replace("{entityId}", &id.to_string())
        .replace("{entityName}", "BusinessCase");
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Deal {id}</title></head>\
         <body><h1>Deal {id}</h1><p>{}</p><a href=\"{}\">Deal sheet</a></body></html>",
        escape(deal_record(id)["name"].as_str().unwrap_or_default()),
        escape(&url)
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// Plays the CRM noticing a change of deal `id`: sends the webhook Raynet would send.
async fn simulate_change(
    Path(id): Path<u64>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let (Some(to), Some(token)) = (params.get("to"), params.get("token")) else {
        return (
            StatusCode::BAD_REQUEST,
            "pass ?to=<webhook URL>&token=<X-RAYNETCRM-Token>",
        )
            .into_response();
    };
    static EVENTS: AtomicU64 = AtomicU64::new(1);
    let event = json!({
        "eventId": format!("evt-{}", EVENTS.fetch_add(1, Ordering::Relaxed)),
        "createdAt": "2026-11-28T10:00:00Z",
        "type": "record.updated",
        "source": {"name": "web", "description": "a salesperson"},
        "data": {"entityName": "BusinessCase", "entityId": id, "extIds": []},
    });
    match reqwest::Client::new()
        .post(to)
        .header("X-RAYNETCRM-Token", token)
        .json(&event)
        .send()
        .await
    {
        Ok(answer) => {
            let status = answer.status().as_u16();
            let body = answer.text().await.unwrap_or_default();
            println!("crm: sent the webhook for deal {id}, got {status} {body}");
            (
                StatusCode::OK,
                Json(json!({"sent": event, "status": status, "answer": body})),
            )
                .into_response()
        }
        Err(err) => (StatusCode::BAD_GATEWAY, format!("could not send: {err}")).into_response(),
    }
}

async fn create_invoice(State(demo): State<Arc<Demo>>, Json(invoice): Json<Value>) -> Response {
    if invoice.get("customer").and_then(Value::as_str).is_none() || !invoice["amount"].is_number() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "an invoice needs `customer` (text) and `amount` (a number)"})),
        )
            .into_response();
    }
    let mut invoices = demo.invoices.lock().unwrap();
    let id = invoices.len() + 1;
    println!(
        "accounting: invoice {id} for {} ({} CZK)",
        invoice["customer"], invoice["amount"]
    );
    invoices.push(invoice);
    (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
}

async fn list_invoices(State(demo): State<Arc<Demo>>) -> Json<Value> {
    Json(json!(*demo.invoices.lock().unwrap()))
}

/// `total` generated records, `offset`/`limit` paged, for the benchmark.
async fn bench_records(Query(params): Query<HashMap<String, String>>) -> Response {
    let total = number(&params, "total", 100_000);
    let offset = number(&params, "offset", 0);
    let limit = number(&params, "limit", 1000);
    let to = (offset + limit).min(total);
    let data: Vec<Value> = (offset.min(to)..to)
        .map(|id| json!({"id": id, "name": format!("record {id}"), "amount": id % 1000}))
        .collect();
    Json(json!({"data": data})).into_response()
}

async fn bench_sink(State(demo): State<Arc<Demo>>, Json(_record): Json<Value>) -> StatusCode {
    demo.sunk.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

async fn stats(State(demo): State<Arc<Demo>>) -> Json<Value> {
    Json(json!({
        "invoices": demo.invoices.lock().unwrap().len(),
        "sunk": demo.sunk.load(Ordering::Relaxed),
    }))
}
