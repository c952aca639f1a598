//! The floor for the HTTP benchmark: the least a program can do to make the same requests as
//! `bench/http-sync.toml` — fetch pages of 1,000 records with offset/limit, and POST each record
//! to the sink, 16 at a time, page by page. Written by hand with tokio and reqwest.
//!
//!   cargo run --release --example bench_floor -- http://127.0.0.1:8088 100000

use futures_util::StreamExt as _;
use serde_json::Value;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let base = args.next().expect("usage: bench_floor BASE_URL TOTAL");
    let total: u64 = args
        .next()
        .and_then(|t| t.parse().ok())
        .expect("usage: bench_floor BASE_URL TOTAL");
    let client = reqwest::Client::new();
    let mut offset = 0;
    let mut posted = 0u64;
    loop {
        let page: Value = client
            .get(format!("{base}/bench/records"))
            .query(&[("total", total), ("offset", offset), ("limit", 1000)])
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        let records = page["data"].as_array().cloned().unwrap_or_default();
        if records.is_empty() {
            break;
        }
        let count = records.len() as u64;
        let sink = format!("{base}/bench/sink");
        let mut posts = futures_util::stream::iter(records)
            .map(|record| {
                let request = client.post(&sink).json(&record);
                async move { request.send().await.unwrap().error_for_status().unwrap() }
            })
            .buffered(16);
        while posts.next().await.is_some() {
            posted += 1;
        }
        offset += count;
        if count < 1000 {
            break;
        }
    }
    eprintln!("posted {posted} records");
}
