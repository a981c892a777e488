#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/, in one of two modes:
#
#   ci/fuzz.sh [SECONDS]              CI: every target for SECONDS (default
#                                     20), from its committed seeds, which
#                                     stay as they are.
#   ci/fuzz.sh --campaign MINUTES [TARGET...]
#                                     every target (or those named) for
#                                     MINUTES each, FUZZ_JOBS at once
#                                     (default 1); then each target's
#                                     committed seeds and what the run found
#                                     are merged and minimized (`cargo fuzz
#                                     cmin`) into fuzz/corpus/TARGET.
#
# Both print, per target, executions, executions per second, coverage
# (libFuzzer's cov / ft) and peak RSS; FUZZ_LOGS=DIR keeps each target's
# libFuzzer log there (a campaign's status lines give the numbers at any
# moment: elapsed seconds = executions / exec/s). A finding fails the script and names
# the crash file under fuzz/artifacts/, which replays with `cargo +nightly
# fuzz run TARGET FILE` (or as bytes through `anon_arena_model::*` in a
# unit test). fuzz/README.md says why the limits below are what they are.
# Nightly only (cargo-fuzz needs `-Zsanitizer`); prints SKIP without it.
set -euo pipefail
cd "$(dirname "$0")/.."

campaign=""
if [ "${1:-}" = "--campaign" ]; then
    campaign="${2:?usage: ci/fuzz.sh --campaign MINUTES [TARGET...]}"
    shift 2
    seconds=$((campaign * 60))
else
    seconds="${1:-20}"
    shift $(($# > 0 ? 1 : 0))
fi
jobs="${FUZZ_JOBS:-1}"
# A minimized corpus of more than this many KB is minimized again by edges
# only (-use_counters=0).
corpus_kb="${FUZZ_CORPUS_KB:-400}"
# The arenas' poisoning does not need ASan's 256 MB heap quarantine; the
# model targets set the same default themselves (fuzz_targets/asan_options.rs).
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=32}"

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

# Longest input per target: a model program of 256 bytes is 20-40
# operations, which fill the model's 8 KiB arena (or 16-slot pool) many
# times over; the harnesses over a 16 KiB cap need documents larger than it.
max_len() {
    case "$1" in
        *_ops | allocator_api) echo 256 ;;
        *) echo 4096 ;;
    esac
}

cargo +nightly fuzz build
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
scratch="$(mktemp -d)"
keep_logs() {
    if [ -n "${FUZZ_LOGS:-}" ]; then
        mkdir -p "$FUZZ_LOGS"
        cp "$scratch"/*.log "$FUZZ_LOGS"/ 2>/dev/null || true
    fi
    rm -rf "$scratch"
}
trap keep_logs EXIT

# Runs one target; its log is $scratch/$target.log, its finds in
# $scratch/$target/.
run() {
    local target="$1" log="$scratch/$1.log"
    # libFuzzer writes new inputs into the first corpus directory only.
    local corpus=("$scratch/$target")
    mkdir -p "$scratch/$target"
    if [ -d "fuzz/corpus/$target" ]; then
        corpus+=("$PWD/fuzz/corpus/$target")
    fi
    cargo +nightly fuzz run "$target" "${corpus[@]}" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$target")" \
        -rss_limit_mb=512 -print_final_stats=1 >"$log" 2>&1
}

# Reads cov and ft from a libFuzzer status line ("#N ... cov: C ft: F ...").
coverage_of() {
    cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' <<<"$1")
    ft=$(sed -n 's/.* ft: \([0-9]*\) .*/\1/p' <<<"$1")
}

# Reads a finished run's numbers from its log into runs, rate, rss, cov, ft.
numbers() {
    local log="$scratch/$1.log"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log")
    coverage_of "$(grep -E '^#[0-9]+' "$log" | tail -n 1)"
}

# Reads the status line of a run's log at about $2 seconds (the last one
# whose executions / exec/s is not past it) into runs, rate, rss, cov, ft.
numbers_at() {
    local log="$scratch/$1.log" at
    at=$(awk -v limit="$2" '/^#[0-9]+/ {
            runs = substr($1, 2); rate = 0
            for (i = 2; i < NF; i++) if ($i == "exec/s:") rate = $(i + 1)
            if (rate > 0 && runs / rate <= limit) line = $0
        } END { print line }' "$log")
    runs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$at")
    rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$at")
    rss=$(sed -n 's/.* rss: \([0-9]*\)Mb.*/\1/p' <<<"$at")
    coverage_of "$at"
}

# Merges what a campaign found into fuzz/corpus/TARGET, minimized.
keep() {
    local target="$1" into="$scratch/$1.merged" bytes
    mkdir -p "$into"
    cp "$scratch/$target"/* "$into"/ 2>/dev/null || true
    if [ -d "fuzz/corpus/$target" ]; then
        cp "fuzz/corpus/$target"/* "$into"/ 2>/dev/null || true
    fi
    cargo +nightly fuzz cmin "$target" "$into" -- -max_len="$(max_len "$target")" \
        >"$scratch/$target.cmin.log" 2>&1
    bytes=$(cat "$into"/* | wc -c)
    if [ "$bytes" -gt $((corpus_kb * 1024)) ]; then
        cargo +nightly fuzz cmin "$target" "$into" -- -max_len="$(max_len "$target")" \
            -use_counters=0 >>"$scratch/$target.cmin.log" 2>&1
    fi
    rm -rf "fuzz/corpus/$target"
    mv "$into" "fuzz/corpus/$target"
    echo "corpus $target: $(find "fuzz/corpus/$target" -type f | wc -l) files," \
        "$(cat "fuzz/corpus/$target"/* | wc -c) bytes"
}

failed=()
pids=()
names=()
# Waits for the oldest running target; records a failure.
reap() {
    if ! wait "${pids[0]}"; then
        failed+=("${names[0]}")
        tail -n 60 "$scratch/${names[0]}.log"
        echo "FAIL fuzz ${names[0]}: see the crash file above"
    elif [ -z "$campaign" ]; then
        local target="${names[0]}" from="no seeds"
        if [ -d "fuzz/corpus/$target" ]; then
            from="$(find "fuzz/corpus/$target" -type f | wc -l) committed seeds"
        fi
        numbers "$target"
        echo "fuzz $target: $runs executions in ${seconds}s ($rate exec/s," \
            "cov $cov ft $ft, peak RSS ${rss} MB) from $from, no finding"
    fi
    pids=("${pids[@]:1}")
    names=("${names[@]:1}")
}
for target in "${targets[@]}"; do
    run "$target" &
    pids+=($!)
    names+=("$target")
    if [ ${#pids[@]} -ge "$jobs" ]; then
        reap
    fi
done
while [ ${#pids[@]} -gt 0 ]; do
    reap
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAIL fuzz: ${failed[*]}"
    exit 1
fi
if [ -n "$campaign" ]; then
    for target in "${targets[@]}"; do
        keep "$target"
    done
    echo
    echo "campaign: ${campaign} min per target, $jobs at once"
    printf '%-14s %12s %8s %6s %6s %9s\n' target executions exec/s cov ft "peak RSS"
    for target in "${targets[@]}"; do
        numbers "$target"
        printf '%-14s %12s %8s %6s %6s %6s MB\n' "$target" "$runs" "$rate" "$cov" "$ft" "$rss"
    done
    echo
    echo "the same runs after their first 240 s (from the status lines)"
    printf '%-14s %12s %8s %6s %6s %9s\n' target executions exec/s cov ft RSS
    for target in "${targets[@]}"; do
        numbers_at "$target" 240
        printf '%-14s %12s %8s %6s %6s %6s MB\n' "$target" "$runs" "$rate" "$cov" "$ft" "$rss"
    done
fi
