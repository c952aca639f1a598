#!/usr/bin/env bash
# Whole-process timings of integ, side by side in one hyperfine run each:
#   1. `integ run` of a one-step `true` command versus `sh -c true` (the overhead integ adds).
#      `true` is a builtin of sh, so a third command, `sh -c '/bin/true; :'`, also starts the
#      program as a child, which integ must do too: the difference to it is integ's own cost;
#   2. `integ check` and `integ list` on a generated file of 1,000 integrations.
# Needs hyperfine (Debian: apt-get install hyperfine). Prints medians; writes run-overhead.md and
# check-list-1000.md (to bench/results/ with SAVE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)" >&2; exit 2; }

cargo build --release --quiet
integ="$(bench_target)/release/integ"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$(bench_results)

cat > "$work/one.toml" <<'TOML'
[integration.noop]
[[integration.noop.steps]]
command.argv = ["true"]
TOML
python3 bench/gen.py 1000 > "$work/many.toml"
export INTEG_STATE_DIR="$work/state" BENCH_CRM_KEY=bench
"$integ" --config "$work/many.toml" check

hyperfine --warmup 5 --runs 200 -N \
    --export-markdown "$results/run-overhead.md" --export-json "$work/run.json" \
    -n 'sh -c true' 'sh -c true' \
    -n 'sh -c /bin/true' "sh -c '/bin/true; :'" \
    -n 'integ run noop' "$integ --config $work/one.toml run noop -q"

hyperfine --warmup 3 --runs 50 -N \
    --export-markdown "$results/check-list-1000.md" --export-json "$work/many.json" \
    -n 'integ check (1,000)' "$integ --config $work/many.toml check -q" \
    -n 'integ list (1,000)' "$integ --config $work/many.toml list"

python3 - "$work/run.json" "$work/many.json" <<'PY'
import json, sys
run = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
many = {r["command"]: r for r in json.load(open(sys.argv[2]))["results"]}
ms = lambda r: r["median"] * 1000
added = ms(run["integ run noop"]) - ms(run["sh -c true"])
own = ms(run["integ run noop"]) - ms(run["sh -c /bin/true"])
print(f"\nmedian: sh -c true {ms(run['sh -c true']):.2f} ms, sh -c /bin/true {ms(run['sh -c /bin/true']):.2f} ms,"
      f" integ run noop {ms(run['integ run noop']):.2f} ms")
print(f"integ adds {added:.2f} ms to sh -c true (target < 5 ms); {own:.2f} ms to a shell that starts the same child")
for name, r in many.items():
    print(f"median: {name} {ms(r):.2f} ms (target < 50 ms)")
PY
bench_saved "$results"
