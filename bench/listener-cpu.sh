#!/usr/bin/env bash
# The listener's own CPU per run: a backlog of events is stored first (`--workers 0`, wrk
# against bench/webhook-peer.toml's `a-true-async`, a `/bin/true` step), then a listener with
# `--workers 4` runs it to the end; its user + system time (not its children's) over that
# drain, divided by the runs, is what each run costs the listener (target: at most 0.4 ms).
# Needs wrk, sqlite3. Prints the figures.   FILL=3s ROUNDS=2 bash bench/listener-cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
for tool in wrk sqlite3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install $tool)" >&2; exit 2; }
done
cargo build --release --quiet --bin integ
target=$(bench_target)
integ=$target/release/integ
work=$(mktemp -d)
pid=
cleanup() {
    if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
export BENCH_SECRET=bench-secret-not-for-production
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"record":{"id":"0031U00001abcXYZ"},"event":{"type":"contact.updated"}}'
LUA

serve() {   # STATE WORKERS: starts a listener; sets $pid and $addr
    "$integ" --config bench/webhook-peer.toml --state-dir "$1" -q serve-hook \
        --listen 127.0.0.1:0 --workers "$2" > "$work/out" 2> "$work/err" &
    pid=$!
    for _ in $(seq 100); do
        addr=$(sed -n 's|.* listening on http://||p' "$work/out")
        [[ -n $addr ]] && return
        sleep 0.1
    done
    cat "$work/err" >&2
    exit 1
}
count() {   # STATE STATUS
    sqlite3 -cmd ".timeout 10000" "$1/integ.db" "SELECT count(*) FROM runs WHERE status = '$2'"
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

for round in $(seq "${ROUNDS:-2}"); do
    state=$work/state-$round
    mkdir -p "$state"
    serve "$state" 0
    wrk -t2 -c16 "-d${FILL:-3s}" -s "$work/post.lua" "http://$addr/hooks/a-true-async" > /dev/null
    kill -TERM "$pid"; wait "$pid" || true; pid=
    queued=$(count "$state" queued)
    serve "$state" 4
    start_ticks=$(ticks "$pid")
    started=$(date +%s.%N)
    while [[ $(count "$state" queued) -gt 0 || $(count "$state" running) -gt 0 ]]; do
        sleep 0.2
    done
    end_ticks=$(ticks "$pid")
    ended=$(date +%s.%N)
    kill -TERM "$pid"; wait "$pid" || true; pid=
    succeeded=$(count "$state" succeeded)
    python3 - "$queued" "$succeeded" "$start_ticks" "$end_ticks" "$hz" "$started" "$ended" <<'PY'
import sys
queued, ok, t0, t1, hz, s0, s1 = map(float, sys.argv[1:])
cpu_ms = (t1 - t0) / hz * 1000
print(f"{int(queued)} events queued, {int(ok)} runs succeeded in {float(s1) - float(s0):.1f} s; "
      f"listener CPU {cpu_ms:.0f} ms = {cpu_ms / max(ok, 1):.3f} ms per run (target <= 0.4)")
PY
done
