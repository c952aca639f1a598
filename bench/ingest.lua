-- wrk script for bench/ingest.sh: POST one small JSON event with the token header, then print
-- one line that the script reads (latencies in ms; non2xx is wrk's count of statuses >= 400).
-- Env: BENCH_TOKEN (required).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Bench-Token"] = assert(os.getenv("BENCH_TOKEN"), "set BENCH_TOKEN")
wrk.body = '{"record":{"id":"0031U00001abcXYZ"},"event":{"type":"contact.updated"},"changed":["email"]}'

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "INGEST requests=%d non2xx=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f socket_errors=%d\n",
    summary.requests, errors.status, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    errors.connect + errors.read + errors.write + errors.timeout))
end
