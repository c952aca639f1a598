# Sourced by the bench scripts (after `cd` to the repository); needs nothing outside it.
#
#   bench_target   where cargo puts binaries: `cargo metadata`'s target directory, so
#                  CARGO_TARGET_DIR (and a `.cargo/config.toml` build.target-dir) is honoured;
#   bench_results  where a script writes its results: a new temporary directory, left in place
#                  and printed at the end, unless SAVE=1 is set, which writes the committed
#                  bench/results/ instead. A trial run so never rewrites committed figures.

bench_target() {
    cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

bench_results() {
    if [[ ${SAVE:-} == 1 ]]; then
        mkdir -p bench/results
        echo bench/results
    else
        mktemp -d -t integ-bench-results.XXXXXX
    fi
}

# bench_saved: says where the results went, as the script's last line.
bench_saved() {
    if [[ ${SAVE:-} == 1 ]]; then
        echo "bench: results written to $1/ (committed; review the diff)" >&2
    else
        echo "bench: results in $1/ (SAVE=1 writes bench/results/)" >&2
    fi
}
