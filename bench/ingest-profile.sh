#!/usr/bin/env bash
# Where the two receivers of bench/ingest.sh spend their time, from short wrk runs under perf:
#   1. `perf stat`: CPU used, context switches, fsyncs (one per commit, plus checkpoints), and so
#      events per commit;
#   2. the commit cycle, from syscall tracepoints: the time from a commit's fsync returning to the
#      next commit's first write to the WAL, that is, how long the store waits for its next batch;
#   3. a flat CPU profile (`perf record -F 999`, no call graphs: the release build has no frame
#      pointers), grouped by crate, in µs of CPU per event.
# Each is a separate `wrk -t2 -c16 -d5s` run per receiver, floor then integ. The machine's other
# load moves every figure; compare the receivers within one run of this script.
# Needs perf (root or kernel.perf_event_paranoid <= 1), wrk, curl, python3. Writes
# ingest-profile.md (to bench/results/ with SAVE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
for tool in perf wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
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
seconds=5

# start NAME STATE: the receiver on a free port; sets $server and $addr (as in bench/ingest.sh).
start() {
    case $1 in
        floor) "$floor" --listen 127.0.0.1:0 --state-dir "$2" > "$work/out" 2> "$work/err" & ;;
        integ) "$integ" --config bench/ingest.toml --state-dir "$2" serve-hook \
            --listen 127.0.0.1:0 --workers 0 > "$work/out" 2> "$work/err" & ;;
    esac
    server=$!
    for _ in $(seq 100); do
        addr=$(sed -n 's|.* listening on http://||p' "$work/out")
        [[ -n $addr ]] && return
        sleep 0.1
    done
    echo "bench: $1 did not start:" >&2
    cat "$work/err" >&2
    exit 1
}

# under NAME KIND PERF-ARGS...: one wrk run with perf attached to the receiver.
under() {
    local name=$1 kind=$2 state=$work/$1-$2
    shift 2
    mkdir -p "$state"
    start "$name" "$state"
    perf "$@" -p "$server" -- sleep $((seconds + 1)) > /dev/null 2>&1 &
    local perf=$!
    sleep 0.2
    wrk -t2 -c16 -d${seconds}s -s bench/ingest.lua "http://$addr/hooks/ingest" |
        sed -n 's/^INGEST //p' > "$work/$name-$kind.wrk"
    wait "$perf"
    kill -TERM "$server"
    wait "$server" || true
    server=
    echo "$name, $kind: $(cat "$work/$name-$kind.wrk")" >&2
}

# Measurement by measurement, floor then integ, so that each pair sees the machine alike.
for name in floor integ; do
    under "$name" stat stat -x, -o "$work/$name.stat" \
        -e task-clock,context-switches,syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync
done
for name in floor integ; do
    under "$name" cycle record -o "$work/$name.cycle" \
        -e syscalls:sys_enter_pwrite64,syscalls:sys_enter_fsync,syscalls:sys_exit_fsync
    perf script -i "$work/$name.cycle" -F tid,time,event > "$work/$name.cycle.txt" 2> /dev/null
done
for name in floor integ; do
    under "$name" profile record -F 999 -o "$work/$name.profile"
    perf report -i "$work/$name.profile" --no-children --sort dso,sym -g none --stdio \
        --percent-limit 0 > "$work/$name.profile.txt" 2> /dev/null
    perf script -i "$work/$name.profile" -F period > "$work/$name.periods" 2> /dev/null
done

results=$(bench_results)
commit="$(git rev-parse --short HEAD) (src/ and Cargo files as of $(git log -1 --format=%h -- src Cargo.toml Cargo.lock))"
python3 - "$work" "$commit" "$seconds" > "$results/ingest-profile.md" <<'PY'
import collections, os, re, statistics, sys
work, commit, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
names = ("floor", "integ")

def wrk(name, kind):
    text = open(os.path.join(work, f"{name}-{kind}.wrk")).read()
    return {k: float(v) for k, v in (f.split("=") for f in text.split())}

def stat(name):
    found = {}
    for line in open(os.path.join(work, f"{name}.stat")):
        fields = line.strip().split(",")
        if len(fields) > 2 and fields[0].replace(".", "").isdigit():
            found[fields[2].split(":")[-1]] = float(fields[0])
    return found

def cycle(name):
    events = []
    for line in open(os.path.join(work, f"{name}.cycle.txt")):
        fields = line.split()
        if len(fields) >= 3:
            events.append((float(fields[1].rstrip(":")), fields[0], fields[2].rstrip(":").split(":")[-1]))
    events.sort()
    fsyncs, waits, entered, ended, writers = [], [], None, None, set()
    for at, tid, event in events:
        if event == "sys_enter_fsync":
            entered = at
            writers.add(tid)
        elif event == "sys_exit_fsync" and entered is not None:
            fsyncs.append(at - entered)
            ended = at
        elif event == "sys_enter_pwrite64" and ended is not None:
            waits.append(at - ended)
            ended = None
    span = events[-1][0] - events[0][0] if events else 0
    return fsyncs, waits, span, len(writers)

# First match wins; symbols that match none are "other".
GROUPS = [
    ("kernel", r"\[k\]"),
    ("minijinja", r"minijinja"),
    ("serde_json", r"serde_json"),
    ("Rust BTreeMap", r"collections::btree"),
    ("sqlite", r"sqlite3|^wal|pcache|Btree|Vdbe|vdbe|^unix|[Pp]ager|balance_|yy_"),
    ("mimalloc", r"^_?mi_|mimalloc"),
    ("libc mem*/str*", r"^__mem|^__str|^mem|^str"),
    ("tokio", r"tokio"),
    ("hyper, http", r"hyper|\bhttp|httparse"),
    ("axum, tower", r"axum|tower|matchit"),
    ("chrono, uuid, clock", r"chrono|uuid|clock_gettime"),
    ("integ's own code", r"integ::"),
    ("floor's own code", r"ingest_floor::"),
]

def profile(name):
    cpu = sum(int(l) for l in open(os.path.join(work, f"{name}.periods")) if l.strip()) / 1e9
    groups = collections.Counter()
    for line in open(os.path.join(work, f"{name}.profile.txt")):
        m = re.match(r"\s+([0-9.]+)%\s+(\S+)\s+(\[.\])\s+(.*)", line)
        if not m:
            continue
        share, kind, symbol = float(m.group(1)) / 100, m.group(3), m.group(4)
        text = "[k]" if kind == "[k]" else symbol
        group = next((g for g, rx in GROUPS if re.search(rx, text)), "other")
        groups[group] += share
    return cpu, groups

out = []
say = out.append
say("# Ingest: where each receiver's time goes\n")
say(f"`bash bench/ingest-profile.sh` at commit `{commit}`: `wrk -t2 -c16 -d{seconds}s -s bench/ingest.lua` "
    "against each receiver of `bench/ingest.sh`, once per measurement below, perf attached to the "
    "receiver. The machine is shared: compare the two columns, not one run with another.\n")
say("```sh")
say("perf stat -x, -e task-clock,context-switches,syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync -p PID")
say("perf record -e syscalls:sys_enter_pwrite64,syscalls:sys_enter_fsync,syscalls:sys_exit_fsync -p PID")
say("perf record -F 999 -p PID   # then perf report --no-children --sort dso,sym -g none")
say("```\n")
say("| | floor | integ |")
say("| --- | ---: | ---: |")
s = {n: (stat(n), wrk(n, "stat")) for n in names}
row = lambda label, f: say(f"| {label} | " + " | ".join(f(*s[n]) for n in names) + " |")
row("req/s (under perf stat)", lambda c, w: f"{w['rps']:,.0f}")
row("CPUs used", lambda c, w: f"{c['task-clock'] / 1000 / float(seconds):.2f}")
row("CPU per event, µs", lambda c, w: f"{c['task-clock'] * 1000 / w['requests']:.0f}")
row("context switches per event", lambda c, w: f"{c['context-switches'] / w['requests']:.2f}")
row("fsyncs per second", lambda c, w: f"{(c['sys_enter_fsync'] + c['sys_enter_fdatasync']) / float(seconds):,.0f}")
row("events per fsync", lambda c, w: f"{w['requests'] / max(c['sys_enter_fsync'] + c['sys_enter_fdatasync'], 1):.1f}")
cycles = {n: cycle(n) for n in names}
us = lambda x: f"{x * 1e6:.0f}"
pct = lambda values, q: sorted(values)[int(q * (len(values) - 1))]
say("| req/s (under the tracepoints) | " + " | ".join(f"{wrk(n, 'cycle')['rps']:,.0f}" for n in names) + " |")
say("| fsync, median µs | " + " | ".join(us(statistics.median(cycles[n][0])) for n in names) + " |")
say("| fsync returned → next commit's first write, median µs | " + " | ".join(us(statistics.median(cycles[n][1])) for n in names) + " |")
say("| the same, p90 µs | " + " | ".join(us(pct(cycles[n][1], 0.9)) for n in names) + " |")
say("| time in fsync / waiting for the next batch, share of the run | " + " | ".join(
    f"{sum(cycles[n][0]) / cycles[n][2]:.0%} / {sum(cycles[n][1]) / cycles[n][2]:.0%}" for n in names) + " |")
say("| threads that called fsync | " + " | ".join(str(cycles[n][3]) for n in names) + " |")

profiles = {n: profile(n) for n in names}
say("\nCPU per event by crate, from the flat profile (µs; the profiled run's CPU over its requests):\n")
say("| | floor | integ | integ − floor |")
say("| --- | ---: | ---: | ---: |")
per = {n: {g: share * profiles[n][0] / wrk(n, "profile")["requests"] * 1e6
           for g, share in profiles[n][1].items()} for n in names}
total = {n: profiles[n][0] / wrk(n, "profile")["requests"] * 1e6 for n in names}
groups = sorted(set(per["floor"]) | set(per["integ"]), key=lambda g: -per["integ"].get(g, 0))
for g in groups:
    f, i = per["floor"].get(g, 0), per["integ"].get(g, 0)
    say(f"| {g} | {f:.1f} | {i:.1f} | {i - f:+.1f} |")
say(f"| **all** | {total['floor']:.1f} | {total['integ']:.1f} | {total['integ'] - total['floor']:+.1f} |")
print("\n".join(out))
PY
cat "$results/ingest-profile.md"
bench_saved "$results"
