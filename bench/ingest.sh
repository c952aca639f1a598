#!/usr/bin/env bash
# integ's ingest ceiling against a hand-written floor, on loopback with the same wrk load:
# `integ serve-hook --workers 0` (bench/ingest.toml: a token-checked hook mapping two params
# from the body; events stored, none run) and examples/ingest_floor.rs (axum + rusqlite doing the
# same work: token, JSON, the same row, group commit with synchronous = FULL).
#
# Each round starts each receiver on a fresh state directory, checks it once by hand (a good
# request is answered 202, a wrong token 401), runs `wrk -t2 -c16 -d8s` against it, stops it,
# and counts the rows it stored against wrk's 2xx answers. Round 1 measures the floor first,
# round 2 integ first, so that a machine getting busier or quieter favours neither.
# Needs wrk, curl, sqlite3, python3. Prints the figures; writes ingest-floor.md (to
# bench/results/ with SAVE=1).
#   ROUNDS=2 DURATION=8s bash bench/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
for tool in wrk curl sqlite3 python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install $tool)" >&2; exit 2; }
done
rounds=${ROUNDS:-2}
duration=${DURATION:-8s}
load=(-t2 -c16 "-d$duration" --latency)

# Two builds: an example brings in the dev-dependencies' features, and integ is measured as
# `cargo build --release` makes it.
cargo build --release --quiet --bin integ
cargo build --release --quiet --example ingest_floor
target=$(bench_target)
integ=$target/release/integ
floor=$target/release/examples/ingest_floor
work=$(mktemp -d)
server=
cleanup() {
    if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
export BENCH_TOKEN=bench-token-not-for-production
sanity_body='{"record":{"id":"sanity"},"event":{"type":"contact.updated"}}'

# start NAME COMMAND...: starts a receiver on a free port; sets $server (its pid) and $addr.
start() {
    local name=$1
    shift
    "$@" > "$work/$name.out" 2> "$work/$name.err" &
    server=$!
    for _ in $(seq 100); do
        addr=$(sed -n 's|.* listening on http://||p' "$work/$name.out")
        [[ -n $addr ]] && return
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    echo "bench: $name did not start:" >&2
    cat "$work/$name.err" >&2
    exit 1
}

post() {   # URL TOKEN: the HTTP status of one event
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' \
        -H "X-Bench-Token: $2" -d "$sanity_body" "$1"
}

cpu_ticks() {   # PID: user + system time so far, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# measure NAME ROUND: one receiver, one wrk run; appends a line to $work/figures.
measure() {
    local name=$1 round=$2 state=$work/$1-$2
    mkdir -p "$state"
    case $name in
        floor) start "$name" "$floor" --listen 127.0.0.1:0 --state-dir "$state" ;;
        integ) start "$name" "$integ" --config bench/ingest.toml --state-dir "$state" \
            serve-hook --listen 127.0.0.1:0 --workers 0 ;;
    esac
    local url=http://$addr/hooks/ingest good bad
    good=$(post "$url" "$BENCH_TOKEN")
    bad=$(post "$url" wrong-token)
    if [[ $good != 202 || $bad != 401 ]]; then
        echo "bench: $name answered $good to a good event and $bad to a wrong token (expected 202, 401)" >&2
        exit 1
    fi
    local busy before after
    busy=$(cut -d' ' -f1 /proc/loadavg)
    before=$(cpu_ticks "$server")
    timeout 120 wrk "${load[@]}" -s bench/ingest.lua "$url" > "$work/$name-$round.wrk"
    after=$(cpu_ticks "$server")
    kill -TERM "$server"
    wait "$server" || true
    server=
    local rows figures
    rows=$(sqlite3 -cmd '.timeout 10000' "$state/integ.db" 'SELECT count(*) FROM runs')
    figures=$(sed -n 's/^INGEST //p' "$work/$name-$round.wrk")
    [[ -n $figures ]] || { echo "bench: wrk printed no figures:" >&2; cat "$work/$name-$round.wrk" >&2; exit 1; }
    echo "name=$name round=$round $figures rows=$rows cpu_ticks=$((after - before)) load=$busy" >> "$work/figures"
    # The newest row, to show that both store the same thing.
    sqlite3 -json "$state/integ.db" \
        "SELECT integration, trigger, params, status, trigger_data, dedupe_key, from_queue
         FROM runs ORDER BY started_at DESC LIMIT 1" > "$work/$name-$round.row"
    echo "$name, round $round: $figures rows=$rows" >&2
}

for round in $(seq "$rounds"); do
    if (( round % 2 )); then order=(floor integ); else order=(integ floor); fi
    for name in "${order[@]}"; do
        measure "$name" "$round"
    done
done

results=$(bench_results)
commit="$(git rev-parse --short HEAD) (src/ and Cargo files as of $(git log -1 --format=%h -- src Cargo.toml Cargo.lock))"
git diff --quiet HEAD -- src Cargo.toml Cargo.lock || commit="$commit, with uncommitted changes to them"
python3 - "$work" "$commit" "$duration" "$(getconf CLK_TCK)" > "$results/ingest-floor.md" <<'PY'
import json, os, platform, sys
work, commit, duration, tick = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
runs = []
for line in open(os.path.join(work, "figures")):
    run = dict(field.split("=", 1) for field in line.split())
    for key in ("rps", "p50_ms", "p99_ms", "max_ms"):
        run[key] = float(run[key])
    for key in ("round", "requests", "non2xx", "rows", "cpu_ticks", "socket_errors"):
        run[key] = int(run[key])
    run["ok"] = run["requests"] - run["non2xx"]
    run["cpu_us"] = run["cpu_ticks"] / tick / max(run["requests"], 1) * 1e6
    runs.append(run)
by = {(r["name"], r["round"]): r for r in runs}
rounds = sorted({r["round"] for r in runs})
uname = platform.uname()

out = []
say = out.append
say("# Ingest: `integ serve-hook --workers 0` against a hand-written floor\n")
say(f"`bash bench/ingest.sh` at commit `{commit}`, on {os.cpu_count()} CPUs ({uname.system} "
    f"{uname.release}); loopback, each receiver on a fresh state directory.\n")
say("```sh")
say("floor: target/release/examples/ingest_floor --listen 127.0.0.1:0 --state-dir STATE")
say("integ: target/release/integ --config bench/ingest.toml --state-dir STATE serve-hook --listen 127.0.0.1:0 --workers 0")
say(f"load:  BENCH_TOKEN=… wrk -t2 -c16 -d{duration} --latency -s bench/ingest.lua http://ADDR/hooks/ingest")
say("```\n")
say("Both check the token header, parse the JSON body, take `record.id` and `event.type` from it,")
say("and commit the same `runs` row (WAL, `synchronous = FULL`, group commit of up to 512) before")
say("answering 202. \"CPU/event\" is the receiver's user + system time during the load divided by")
say("the requests wrk counted; \"load\" is the 1-minute load average just before (the machine is")
say("shared, so compare within a round). Rows = every row in the store, including one sanity event")
say("sent before the load; an event answered after wrk stopped counting is stored but not counted.\n")
say("| round | receiver | req/s | p50 ms | p99 ms | CPU/event µs | load | wrk 2xx | rows stored |")
say("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for n in rounds:
    for name in ("floor", "integ"):
        r = by.get((name, n))
        if r:
            say(f"| {n} | {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                f"{r['cpu_us']:.0f} | {r['load']} | {r['ok']:,} | {r['rows']:,} |")
say("")
for n in rounds:
    f, i = by.get(("floor", n)), by.get(("integ", n))
    if f and i:
        say(f"- round {n}: integ/floor req/s {i['rps'] / f['rps']:.2f}, p99 {i['p99_ms'] / f['p99_ms']:.2f}, "
            f"CPU/event {i['cpu_us'] / f['cpu_us']:.2f}")
for r in runs:
    if r["rows"] < r["ok"] + 1:
        say(f"- {r['name']} round {r['round']}: LOST EVENTS: {r['rows']:,} rows for {r['ok']:,} 2xx answers + 1 sanity event")
bad = [r for r in runs if r["non2xx"] or r["socket_errors"]]
for r in bad:
    say(f"- {r['name']} round {r['round']}: {r['non2xx']} non-2xx answers, {r['socket_errors']} socket errors")
say("\nThe newest row each stored in round 1 (only the `host` header's port differs):\n")
say("```")
for name in ("floor", "integ"):
    path = os.path.join(work, f"{name}-1.row")
    if os.path.exists(path):
        say(f"{name}: {json.dumps(json.load(open(path))[0], ensure_ascii=False)}")
say("```")
print("\n".join(out))
PY
cat "$results/ingest-floor.md"
bench_saved "$results"
