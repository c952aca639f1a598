#!/usr/bin/env bash
# The HTTP benchmark: integ syncs 100,000 records (pages of 1,000 from a local server, each
# POSTed to a local sink, 16 at a time) side by side with a minimal hand-written tokio + reqwest
# program making the same requests (examples/bench_floor.rs). Then integ's peak memory at
# 10,000 and at 100,000 records. Needs hyperfine and GNU time (Debian: hyperfine, time).
# Writes http-sync.md (to bench/results/ with SAVE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing (apt-get install time)" >&2; exit 2; }

cargo build --release --quiet --bin integ --example demo_server --example bench_floor
target=$(bench_target)
integ="$target/release/integ"
work=$(mktemp -d)
"$target/release/examples/demo_server" 127.0.0.1:0 > "$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
until grep -q listening "$work/server.log"; do sleep 0.1; done
url=$(awk '{print $NF}' "$work/server.log")
results=$(bench_results)
export BENCH_URL="$url" INTEG_STATE_DIR="$work/state"

BENCH_TOTAL=100000 hyperfine --warmup 1 --runs "${RUNS:-5}" -N \
    --export-markdown "$results/http-sync.md" --export-json "$work/sync.json" \
    -n 'integ (100,000 records)' "$integ --config bench/http-sync.toml run sync -q" \
    -n 'floor: tokio + reqwest' "$target/release/examples/bench_floor $url 100000"

peak() { # peak RSS in MB of integ syncing $1 records
    BENCH_TOTAL=$1 /usr/bin/time -f '%M' "$integ" --config bench/http-sync.toml run sync -q 2>&1 | tail -1 | awk '{printf "%.1f", $1/1024}'
}
rss10=$(peak 10000)
rss100=$(peak 100000)

python3 - "$work/sync.json" "$rss10" "$rss100" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
integ, floor = r["integ (100,000 records)"]["median"], r["floor: tokio + reqwest"]["median"]
print(f"\nmedian wall: integ {integ:.2f} s, floor {floor:.2f} s -> {integ / floor:.2f}x the floor (target <= 1.3x)")
print(f"peak RSS: {sys.argv[2]} MB at 10,000 records, {sys.argv[3]} MB at 100,000"
      f" -> +{float(sys.argv[3]) - float(sys.argv[2]):.1f} MB (target within 20 MB)")
PY
bench_saved "$results"
