#!/usr/bin/env bash
# Side by side on loopback with the same load generator: adnanh/webhook (Debian package
# `webhook`) and `integ serve-hook`, both driven by bench/webhook-peer/run.sh
# (copied from the team's shared harness; PEER_DIR points at another copy).
# Needs webhook, wrk, curl, openssl, sqlite3 (Debian packages).
#
#   1. webhook: the sustained loads (a, c, c_badsig) and the burst (1,000 x `sleep 1`);
#   2. integ with runs going on while it accepts: --workers ${WORKERS:-4}, each hook at its
#      `concurrency` (the default, 1, unless CONCURRENCY says otherwise); then the burst with
#      100 workers (the sleep hook's concurrency is 100);
#   3. integ's ingest ceiling: the same loads with --workers 0 (events stored, none run).
#
# Each integ scenario gets a fresh state directory. Events still queued when the harness
# stops the listener are then run by a fresh listener, timed, and the store says what became
# of every accepted event (wrk's count of 2xx answers against the runs in the store).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
peer="${PEER_DIR:-bench/webhook-peer}"
cargo build --release --quiet --bin integ
integ="$(bench_target)/release/integ"
secret=bench-secret-not-for-production
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
config="$work/webhook-peer.toml"
if [[ -n ${CONCURRENCY:-} ]]; then
    sed -E "s/^\[integration\.(a-true-async|b-true-sync|c-signed-env)\]$/&\nconcurrency = $CONCURRENCY/" \
        bench/webhook-peer.toml > "$config"
else
    cp bench/webhook-peer.toml "$config"
fi

count() {   # STATE SQL
    sqlite3 -cmd ".timeout 10000" "$1/integ.db" "$2"
}

# integ_part NAME WORKERS SCENARIO: one scenario of the harness against a fresh state directory.
integ_part() {
    local name=$1 workers=$2 scenario=$3 state="$work/$1-$3"
    mkdir -p "$state"
    echo "== integ serve-hook: $name, scenario $scenario (--workers $workers)"
    BENCH_SECRET=$secret INTEG_STATE_DIR="$state" DRAIN_MAX_S=${DRAIN_MAX_S:-30} \
    SERVER_CMD="$integ --config $config serve-hook --listen 127.0.0.1:9302 --workers $workers" \
    SERVER_VERSION_CMD="$integ --version" READY_PATH=/healthz PORT=9302 PATH_C_CHECK= \
    SIG_HEADER=X-Signature SIG_PREFIX=sha256= SECRET=$secret SCENARIOS="$scenario" \
        "$peer/run.sh"
    local left
    left=$(count "$state" "SELECT count(*) FROM runs WHERE status IN ('queued', 'running')")
    if [[ $workers -gt 0 && $left -gt 0 ]]; then
        echo "-- $left accepted events were still queued at the listener's stop; a new one runs them"
        local started=$SECONDS
        BENCH_SECRET=$secret INTEG_STATE_DIR="$state" "$integ" --config "$config" serve-hook \
            --listen 127.0.0.1:9303 --workers "$workers" > /dev/null 2>&1 &
        local pid=$!
        while [[ $(count "$state" "SELECT count(*) FROM runs WHERE status IN ('queued', 'running')") -gt 0 ]]; do
            sleep 1
        done
        kill -TERM "$pid"
        wait "$pid" || true
        echo "-- drained in $((SECONDS - started)) s"
    fi
    echo "-- the store (integration | status | runs); the sanity requests add one to a, b and c"
    count "$state" "SELECT integration, status, count(*) FROM runs GROUP BY 1, 2 ORDER BY 1, 2"
}

# ONLY=a runs scenario a alone on both sides (with runs going on; no burst, no ceiling): a
# side-by-side figure in about a minute instead of ten.
if [[ -n ${ONLY:-} ]]; then
    echo "== adnanh/webhook"
    PORT=9301 SCENARIOS="$ONLY" PATH_C_CHECK= "$peer/run.sh"
    for scenario in $ONLY; do
        integ_part with-runs "${WORKERS:-4}" "$scenario"
    done
    exit 0
fi

echo "== adnanh/webhook"
PORT=9301 SCENARIOS="${WEBHOOK_SCENARIOS:-a c c_badsig burst_async}" PATH_C_CHECK= "$peer/run.sh"

for scenario in a c c_badsig; do
    integ_part with-runs "${WORKERS:-4}" "$scenario"
done
integ_part burst 100 burst_async
for scenario in a c; do
    integ_part ceiling 0 "$scenario"
done
