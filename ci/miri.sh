#!/usr/bin/env bash
# Runs the library's unit and integration tests under Miri with strict
# provenance and symbolic alignment: the whole suite under Stacked Borrows
# (Miri's default, what users run their own code with), then the unit tests
# and the regression tests that drive every allocator through `Vec`
# (tests/all/vec_drive.rs) under Tree Borrows. A second full pass would
# take longer than the first (Tree Borrows is the slower model), more than
# CI's time allows to spend on it.
#
# Miri interprets on one core, so the work is cut into pieces (the unit
# tests, each example, each module of tests/all, vec_drive per allocator)
# that MIRI_JOBS workers (default: the cores) take from one queue, biggest
# first; each piece runs its tests by exact name and prints one line.
# Tests Miri cannot model (fork, guard pages, resident-memory readings,
# huge runs) are ignored with a reason. Prints SKIP and exits 0 when no
# nightly toolchain with Miri can be had. Arguments replace the selection
# and go to both passes in one process each, e.g. `ci/miri.sh -- vec_drive`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || { echo "SKIP miri: no nightly toolchain"; exit 0; }
fi
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    rustup component add miri rust-src --toolchain nightly >/dev/null 2>&1 || { echo "SKIP miri: component unavailable"; exit 0; }
fi
cargo +nightly miri setup >/dev/null 2>&1 || { echo "SKIP miri: setup failed"; exit 0; }

stacked="${MIRIFLAGS:--Zmiri-strict-provenance -Zmiri-symbolic-alignment-check}"
tree="$stacked -Zmiri-tree-borrows"
export PROPTEST_CASES="${PROPTEST_CASES:-4}"
# Doc tests are examples of the API, already run natively; under Miri each
# would be a separate slow interpreter start.

if [ $# -gt 0 ]; then
    echo "--- Miri, Stacked Borrows"
    MIRIFLAGS="$stacked" cargo +nightly miri test --lib --tests "$@"
    echo "--- Miri, Tree Borrows"
    MIRIFLAGS="$tree" cargo +nightly miri test --lib --tests "$@"
    exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The pieces, one a line: the model, a label, the cargo target, then exact
# test names (none: the whole target). The names come from a native
# listing, which has the same tests (none is cfg'd on Miri alone).
cargo test -q --test all -- --list 2>/dev/null | sed -n 's/: test$//p' >"$work/names"
[ -s "$work/names" ] || { echo "FAIL miri: no tests listed in tests/all"; exit 1; }
piece() { # model label: the tests/all names that start with the label
    echo "$1 $2 --test=all $(grep "^$2" "$work/names" | tr '\n' ' ')"
}
{
    for alloc in $(sed -n 's/^vec_drive::\([^:]*\)::.*/\1/p' "$work/names" | sort -u); do
        piece stacked "vec_drive::$alloc::"
        piece tree "vec_drive::$alloc::"
    done
    echo "stacked json --example=json"
    echo "stacked lib --lib"
    echo "tree lib --lib"
    for module in $(grep -v '^vec_drive::' "$work/names" | sed 's/::.*//' | sort -u); do
        piece stacked "$module::"
    done
    echo "stacked bumpalo_port --example=bumpalo_port"
    # vec_drive's tests that are not per allocator (the issue's reproducer).
    others="$(grep -E '^vec_drive::[^:]+$' "$work/names" | tr '\n' ' ')"
    echo "stacked vec_drive::(reproducers) --test=all $others"
    echo "tree vec_drive::(reproducers) --test=all $others"
} >"$work/queue"
pieces=$(wc -l <"$work/queue")

# Builds once, so the workers only run.
MIRIFLAGS="$stacked" cargo +nightly miri test --lib --tests --no-run -q

# Prints and removes the first line of the queue; nothing when it is empty.
# (sed -i replaces the file, so the lock is a file of its own).
take() {
    [ -e "$work/failed" ] && return 0
    flock "$work/lock" sh -c 'head -n 1 "$1"; sed -i 1d "$1"' _ "$work/queue"
}
worker() {
    local n=0 piece model label target names log start result
    while piece="$(take)" && [ -n "$piece" ]; do
        n=$((n + 1))
        read -r model label target names <<<"$piece"
        log="$work/$1.$n.log"
        start=$SECONDS
        local flags="$stacked"
        [ "$model" = tree ] && flags="$tree"
        # shellcheck disable=SC2086 # names are words
        if ! MIRIFLAGS="$flags" cargo +nightly miri test -q "$target" -- --exact $names >"$log" 2>&1; then
            cat "$log"
            echo "FAIL miri ($model borrows): $label"
            touch "$work/failed"
            return 1
        fi
        result="$(grep -o 'ok\. [0-9]* passed; 0 failed; [0-9]* ignored' "$log" | tail -n 1)"
        printf '%-8s %-34s %5ds  %s\n' "$model" "$label" $((SECONDS - start)) "$result"
        if [ "$target" = --test=all ]; then
            echo "$model $(sed 's/ok\. \([0-9]*\) passed; 0 failed; \([0-9]*\) ignored/\1 \2/' <<<"$result")" >>"$work/counts"
        fi
    done
}
echo "--- $pieces pieces: Stacked Borrows, everything; Tree Borrows, unit tests and vec_drive"
pids=()
for i in $(seq "${MIRI_JOBS:-$(nproc)}"); do
    worker "$i" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid" || true
done
if [ -e "$work/failed" ]; then
    exit 1
fi
# Every test of tests/all ran (or was ignored) under Stacked Borrows: a name
# no piece matched would otherwise drop out silently.
ran=$(awk '$1 == "stacked" { n += $2 + $3 } END { print n + 0 }' "$work/counts")
if [ "$ran" -ne "$(wc -l <"$work/names")" ]; then
    echo "FAIL miri: $ran of $(wc -l <"$work/names") tests of tests/all ran"
    exit 1
fi
echo "--- Miri: all $pieces pieces passed"
