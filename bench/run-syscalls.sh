#!/usr/bin/env bash
# The syscalls behind `integ run noop -q` that cost time on a real disk or touch the state dir:
# fsync, fdatasync, fcntl (SQLite's locks), flock (run slots), openat. Counted with `strace -f -c`
# for the first run on a fresh state directory and for the run after it on the same directory;
# then, for each case again, which files they went to (`strace -y`).
# Needs strace. Prints the tables; writes run-syscalls.md (to bench/results/ with SAVE=1).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
command -v strace >/dev/null || { echo "bench: strace is missing (apt-get install strace)" >&2; exit 2; }

cargo build --release --quiet --bin integ
target=$(bench_target)
integ=$target/release/integ
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/one.toml" <<'TOML'
[integration.noop]
[[integration.noop.steps]]
command.argv = ["true"]
TOML
calls=fsync,fdatasync,fcntl,flock,openat

# trace CASE STATE: one run under `strace -c`, into $work/CASE.count; STATE-y gets the same
# case traced call by call with file names, into $work/CASE.log.
trace() {
    strace -f -c -e trace=$calls -o "$work/$1.count" \
        "$integ" --config "$work/one.toml" --state-dir "$2" run noop -q
    strace -f -y -e trace=$calls -o "$work/$1.log" \
        "$integ" --config "$work/one.toml" --state-dir "$2-y" run noop -q
}
trace first "$work/state"
trace repeated "$work/state"

results=$(bench_results)
commit="$(git rev-parse --short HEAD) (src/ and Cargo files as of $(git log -1 --format=%h -- src Cargo.toml Cargo.lock))"
git diff --quiet HEAD -- src Cargo.toml Cargo.lock || commit="$commit, with uncommitted changes to them"
python3 - "$work" "$commit" "$calls" > "$results/run-syscalls.md" <<'PY'
import collections, os, re, sys
work, commit, calls = sys.argv[1], sys.argv[2], sys.argv[3].split(",")

def counts(case):
    found = {}
    for line in open(os.path.join(work, f"{case}.count")):
        fields = line.split()
        # % time, seconds, usecs/call, calls, [errors], syscall
        if fields and fields[-1] in calls:
            errors = int(fields[4]) if len(fields) == 6 else 0
            found[fields[-1]] = (int(fields[3]), errors)
    return found

def where(case):
    """(syscall, file) -> count; the file is the fd's path (-y) or openat's path argument."""
    seen = collections.Counter()
    for line in open(os.path.join(work, f"{case}.log")):
        m = re.match(r"\d+\s+(\w+)\((.*)", line)
        if not m or m.group(1) not in calls:
            continue
        call, args = m.groups()
        if call == "openat":
            path = re.search(r'"([^"]*)"', args)
            name = path.group(1) if path else "?"
        else:
            fd = re.match(r"\d+<([^>]*)>", args)
            name = fd.group(1) if fd else "?"
        name = name.replace(work, "$WORK")
        name = re.sub(r"/state-y\b", "/STATE", name)
        name = re.sub(r"/running/[0-9a-f-]+", "/running/RUN_ID", name)
        seen[(call, name)] += 1
    return seen

out = []
say = out.append
say("# Syscalls of one `integ run noop -q`\n")
say(f"`bash bench/run-syscalls.sh` at commit `{commit}`. The integration is one `command` step")
say("running `true`; \"first\" is the run on a fresh state directory (the store is created),")
say("\"repeated\" the run after it on the same directory.\n")
say("```sh")
say(f"strace -f -c -e trace={','.join(calls)} target/release/integ --config one.toml --state-dir STATE run noop -q")
say("```\n")
first, repeated = counts("first"), counts("repeated")
say("| syscall | first run | repeated run |")
say("| --- | ---: | ---: |")
for call in calls:
    cell = lambda c: f"{c[call][0]}" + (f" ({c[call][1]} failed)" if c[call][1] else "") if call in c else "0"
    say(f"| {call} | {cell(first)} | {cell(repeated)} |")
total = lambda c: sum(n for n, _ in c.values())
say(f"| **total** | {total(first)} | {total(repeated)} |")
for case in ("first", "repeated"):
    say(f"\nBy file, {case} run (a second trace with `strace -y`, same case):\n")
    say("| syscall | file | calls |")
    say("| --- | --- | ---: |")
    for (call, name), n in sorted(where(case).items()):
        say(f"| {call} | `{name}` | {n} |")
print("\n".join(out))
PY
cat "$results/run-syscalls.md"
bench_saved "$results"
