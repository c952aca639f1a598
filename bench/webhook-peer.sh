#!/usr/bin/env bash
# Side by side on loopback with the same load generator: adnanh/webhook (Debian package
# `webhook`) and `integ serve-hook`, both driven by ../shared/bench/webhook-peer/run.sh.
# Needs webhook, wrk, curl, openssl, sqlite3 (Debian packages).
#
#   1. webhook: the sustained loads (a, c, c_badsig) and the burst (1,000 x `sleep 1`);
#   2. integ, runs going on while it accepts (--workers ${WORKERS:-4}; each hook's
#      `concurrency` is 4, as many as the workers), then the burst with 100 workers;
#   3. integ's ingest ceiling: the same loads with --workers 0 (events stored, none run).
#
# After each integ part, the store says what became of every accepted event: wrk's request
# count (all answered 2xx) against the runs in the store, by integration and status.
set -euo pipefail
cd "$(dirname "$0")/.."
peer="${PEER_DIR:-../shared/bench/webhook-peer}"
cargo build --release --quiet --bin integ
integ="$PWD/target/release/integ"
config="$PWD/bench/webhook-peer.toml"
secret=bench-secret-not-for-production
states=$(mktemp -d)
trap 'rm -rf "$states"' EXIT

# integ_part NAME WORKERS SCENARIOS: one run of the harness against a fresh state directory.
integ_part() {
    local name=$1 workers=$2 scenarios=$3
    local state="$states/$name"
    mkdir -p "$state"
    echo "== integ serve-hook: $name (--workers $workers)"
    BENCH_SECRET=$secret INTEG_STATE_DIR="$state" \
    SERVER_CMD="$integ --config $config serve-hook --listen 127.0.0.1:9302 --workers $workers" \
    SERVER_VERSION_CMD="$integ --version" READY_PATH=/healthz PORT=9302 PATH_C_CHECK= \
    SIG_HEADER=X-Signature SIG_PREFIX=sha256= SECRET=$secret SCENARIOS="$scenarios" \
        "$peer/run.sh"
    echo "-- what the store holds (integration | status | runs); the sanity requests add one each"
    sqlite3 "$state/integ.db" \
        "SELECT integration, status, count(*) FROM runs GROUP BY 1, 2 ORDER BY 1, 2"
}

echo "== adnanh/webhook"
PORT=9301 SCENARIOS="${WEBHOOK_SCENARIOS:-a c c_badsig burst_async}" PATH_C_CHECK= "$peer/run.sh"

integ_part with-runs "${WORKERS:-4}" "a c c_badsig"
integ_part burst 100 "burst_async"
integ_part ceiling 0 "a c"
