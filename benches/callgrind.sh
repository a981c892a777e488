#!/usr/bin/env bash
# Instructions per operation, counted by valgrind's callgrind: wall time is
# noisy on a shared machine, instruction counts are exact and repeatable.
#
#   benches/callgrind.sh          # the table
#   benches/callgrind.sh --asm    # also the hot loops of Arena and bumpalo
#
# Each workload of benches/instructions.rs runs twice, with N1 and N2
# operations; (instructions(N2) - instructions(N1)) / (N2 - N1) is the cost
# of one operation with setup, teardown and process start cancelled out.
# For `small` that is one `alloc(u64)` plus its loop step and the
# `black_box` that keeps it alive; for `vec` one `push(u32)`, growth included.
set -euo pipefail
cd "$(dirname "$0")/.."

N1=100000
N2=1100000

command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 0; }

bin=$(cargo bench --bench instructions --no-run 2>&1 \
    | sed -n 's/.*Executable benches\/instructions.rs (\(.*\))/\1/p')
[ -x "$bin" ] || { echo "cannot find the instructions binary"; exit 1; }

count() { # workload n -> instructions
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

printf '%-20s %14s\n' workload "instr/op"
for w in small/floor small/arena small/sync small/local small/bumpalo small/bumpalo8 small/bump_scope \
         small/bump_scope8 vec/arena vec/sync vec/local vec/bumpalo vec/bump_scope vec/std; do
    a=$(count "$w" "$N1")
    b=$(count "$w" "$N2")
    printf '%-20s %14s\n' "$w" "$(python3 -c "print(f'{($b - $a) / ($N2 - $N1):.2f}')")"
done

if [ "${1:-}" = "--asm" ]; then
    for f in small_floor small_arena small_sync small_local small_bumpalo8 small_bump_scope8; do
        echo
        echo "=== instructions::$f"
        objdump -d --no-show-raw-insn -C "$bin" \
            | awk -v f="<instructions::$f>:" 'index($0, f) {p = 1} p && /^$/ {p = 0} p'
    done
fi
