#!/usr/bin/env bash
# Side by side on loopback with the same load generator: adnanh/webhook (Debian package
# `webhook`) and `integ serve-hook`, driven by ../shared/bench/webhook-peer/run.sh.
# Needs webhook, wrk, curl, openssl (Debian packages). SCENARIOS picks what runs (default: the
# sustained-load ones; add burst_async for the 1,000 x `sleep 1` burst).
set -euo pipefail
cd "$(dirname "$0")/.."
peer="${PEER_DIR:-../shared/bench/webhook-peer}"
scenarios="${SCENARIOS:-a c c_badsig}"
cargo build --release --quiet --bin integ
integ="$PWD/target/release/integ"
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT

echo "== adnanh/webhook"
PORT=9301 SCENARIOS="$scenarios" PATH_C_CHECK= "$peer/run.sh"

echo "== integ serve-hook"
BENCH_SECRET=bench-secret-not-for-production INTEG_STATE_DIR="$state" \
SERVER_CMD="$integ --config $PWD/bench/webhook-peer.toml serve-hook --listen 127.0.0.1:9302 --workers ${WORKERS:-4}" \
SERVER_VERSION_CMD="$integ --version" READY_PATH=/healthz PORT=9302 \
PATH_C_CHECK= SIG_HEADER=X-Signature SIG_PREFIX=sha256= SECRET=bench-secret-not-for-production \
SCENARIOS="$scenarios" "$peer/run.sh"
