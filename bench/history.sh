#!/usr/bin/env bash
# `integ history` (no name: the newest 20 of every integration) and `integ history NAME` with
# 100,000 runs stored, and `integ prune --dry-run` counting over them; then the same store
# pruned to 90 days. The runs are written with sqlite3 into a store integ created (the real
# schema and indexes), spread over 200 days and 20 integrations, each with a 400-byte log.
# Needs hyperfine and sqlite3 (Debian: apt-get install hyperfine sqlite3). Prints medians;
# writes history-100k.md (to bench/results/ with SAVE=1).
#   RUNS=100000 bash bench/history.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
for tool in hyperfine sqlite3; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is missing (apt-get install $tool)" >&2; exit 2; }
done
runs=${RUNS:-100000}

cargo build --release --quiet --bin integ
integ="$(bench_target)/release/integ"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$(bench_results)

python3 - "$work/integrations.toml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write('retention = "90d"\n')
    for i in range(20):
        f.write(f'\n[integration.sync-{i:02}]\n[[integration.sync-{i:02}.steps]]\ncommand.argv = ["true"]\n')
PY
export INTEG_STATE_DIR="$work/state"
cfg=(--config "$work/integrations.toml")
# A first run creates the store, with the schema of this build.
"$integ" "${cfg[@]}" run sync-00 -q --dry-run
sqlite3 "$work/state/integ.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $runs)
INSERT INTO runs (id, integration, trigger, params, status, started_at, ended_at, log, ran_at)
SELECT printf('bench-%08d', i),
       printf('sync-%02d', i % 20),
       'schedule', '{}',
       CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'succeeded' END,
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d seconds', (($runs - i) * 200 * 86400) / $runs)),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d seconds', (($runs - i) * 200 * 86400) / $runs - 1)),
       printf('%.400c', 'x'),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', printf('-%d seconds', (($runs - i) * 200 * 86400) / $runs))
FROM n;
SQL
stored=$(sqlite3 "$work/state/integ.db" 'SELECT count(*) FROM runs')
size() { du -k "$work/state/integ.db" | cut -f1; }
echo "bench: $stored runs stored, integ.db $(size) KiB"

hyperfine --warmup 3 --runs 30 -N \
    --export-markdown "$results/history-100k.md" --export-json "$work/history.json" \
    -n "integ history ($stored runs)" "$integ ${cfg[*]} history" \
    -n "integ history sync-07 ($stored runs)" "$integ ${cfg[*]} history sync-07" \
    -n "integ history --failed ($stored runs)" "$integ ${cfg[*]} history --failed" \
    -n "integ prune --dry-run ($stored runs)" "$integ ${cfg[*]} prune --dry-run -q"

start=$(date +%s.%N)
"$integ" "${cfg[@]}" prune
end=$(date +%s.%N)
left=$(sqlite3 "$work/state/integ.db" 'SELECT count(*) FROM runs')
echo "bench: integ prune deleted $((stored - left)) runs in $(python3 -c "print(f'{$end - $start:.2f}')") s; $left left, integ.db $(size) KiB (freed pages are reused)"

python3 - "$work/history.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print(f"{r['command']}: median {r['median'] * 1000:.1f} ms (min {r['min'] * 1000:.1f}, max {r['max'] * 1000:.1f})")
PY
bench_saved "$results"
