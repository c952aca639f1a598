#!/usr/bin/env bash
# The store's size over a long run of webhook events with retention on: `integ serve-hook`
# (bench/retention.toml: each event keyed, run, kept for `retention = "1m"`, its key for
# `dedupe_for = "30s"`) takes a steady RATE of events a second for DURATION seconds from a
# keep-alive client, while the size of integ.db (and its WAL) and the runs it holds are
# sampled every 15 s. With retention on, both level off after the first minute; without it
# they would grow with every event.
# Needs curl, sqlite3, python3. Prints the samples; writes retention-size.md (to bench/results/
# with SAVE=1).
#   RATE=200 DURATION=300 bash bench/retention.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
for tool in curl sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install $tool)" >&2; exit 2; }
done
rate=${RATE:-200}
duration=${DURATION:-300}

cargo build --release --quiet --bin integ
integ="$(bench_target)/release/integ"
work=$(mktemp -d)
server=
load=
cleanup() {
    for pid in $server $load; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
results=$(bench_results)
export INTEG_STATE_DIR="$work/state"

"$integ" --config bench/retention.toml serve-hook --listen 127.0.0.1:0 --workers 4 \
    > "$work/addr" 2> "$work/listener.log" &
server=$!
until grep -q listening "$work/addr" 2>/dev/null; do sleep 0.1; done
addr=$(sed -n 's|.*listening on http://||p' "$work/addr")

python3 - "$addr" "$rate" "$duration" > "$work/load.log" <<'PY' &
import http.client, json, sys, time
host, port = sys.argv[1].split(":")
rate, duration = int(sys.argv[2]), int(sys.argv[3])
conn = http.client.HTTPConnection(host, int(port))
start, sent, refused, waits = time.monotonic(), 0, 0, []
while (now := time.monotonic()) - start < duration:
    # A steady rate: catch up to where the clock says we should be, then wait.
    due = int((now - start) * rate)
    while sent < due:
        body = json.dumps({"id": f"evt-{sent}", "record": {"id": sent % 1000}})
        asked = time.monotonic()
        conn.request("POST", "/hooks/events", body, {"Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        waits.append(time.monotonic() - asked)
        refused += answer.status != 202
        sent += 1
    time.sleep(0.005)
waits.sort()
ms = lambda q: waits[min(len(waits) - 1, int(q * len(waits)))] * 1000
print(f"sent {sent} events, {refused} not answered 202; answered in p50 {ms(0.5):.2f} ms, "
      f"p99 {ms(0.99):.2f} ms, p99.9 {ms(0.999):.2f} ms, max {waits[-1] * 1000:.1f} ms")
PY
load=$!

samples="$work/samples"
echo "| elapsed | runs stored | integ.db | integ.db-wal |" > "$samples"
echo "| ---: | ---: | ---: | ---: |" >> "$samples"
kib() { if [[ -f $1 ]]; then echo "$(( $(stat -c %s "$1") / 1024 )) KiB"; else echo "0 KiB"; fi; }
elapsed=0
while kill -0 "$load" 2>/dev/null; do
    sleep 15
    elapsed=$((elapsed + 15))
    stored=$(sqlite3 "file:$work/state/integ.db?mode=ro" 'SELECT count(*) FROM runs' 2>/dev/null || echo '?')
    line="| ${elapsed} s | $stored | $(kib "$work/state/integ.db") | $(kib "$work/state/integ.db-wal") |"
    echo "$line" >> "$samples"
    echo "bench: $line"
done
wait "$load" || true
cat "$work/load.log"
grep -c "pruned the history" "$work/listener.log" | sed 's/^/bench: prunes logged: /'
{
    echo "RATE=$rate events/s for $duration s; retention 1m, dedupe_for 30s, prunes every 15 s"
    echo
    cat "$samples"
    echo
    cat "$work/load.log"
} > "$results/retention-size.md"
bench_saved "$results"
