#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a few seconds each (the first
# argument, default 20) and prints its executions and executions per
# second. Each target starts from its committed seeds in fuzz/corpus/TARGET
# when that directory exists; they are only read (what the run finds goes
# to a scratch directory), so the committed corpus stays as it is. A
# finding fails the script and names the crash file under fuzz/artifacts/,
# which replays with `cargo +nightly fuzz run TARGET FILE` (or as bytes
# through `anon_arena_model::*::run_bytes` in a unit test).
# Nightly only (cargo-fuzz needs `-Zsanitizer`); prints SKIP without it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "SKIP fuzz: no nightly toolchain"
    exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked >/dev/null 2>&1 || {
        echo "SKIP fuzz: cargo-fuzz cannot be installed"
        exit 0
    }
fi

cargo +nightly fuzz build
log="$(mktemp)"
scratch="$(mktemp -d)"
trap 'rm -rf "$log" "$scratch"' EXIT
for target in $(cargo +nightly fuzz list); do
    # libFuzzer writes new inputs into the first corpus directory only.
    corpus=("$scratch/$target")
    mkdir -p "$scratch/$target"
    seeds="fuzz/corpus/$target"
    from="no seeds"
    if [ -d "$seeds" ]; then
        corpus+=("$PWD/$seeds")
        from="$(find "$seeds" -type f | wc -l) committed seeds"
    fi
    if ! cargo +nightly fuzz run "$target" "${corpus[@]}" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "FAIL fuzz $target: see the crash file above"
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    echo "fuzz $target: $runs executions in ${seconds}s ($rate exec/s) from $from, no finding"
done
