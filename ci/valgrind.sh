#!/usr/bin/env bash
# Runs the integration tests under valgrind's memcheck on stable: invalid
# reads and writes, uses of uninitialised bytes and bad frees are errors.
# Fewer property-test cases than natively (valgrind is ~30x slower).
# Prints SKIP and exits 0 when valgrind is not installed.
# Extra arguments go to the test binary, e.g. `ci/valgrind.sh model`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIP valgrind: not installed"
    exit 0
fi

binary=$(cargo test --test all --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
test -x "$binary" || { echo "FAIL valgrind: no test binary"; exit 1; }

export PROPTEST_CASES="${PROPTEST_CASES:-16}"
# Forked children (guard-page and resident-memory tests) stay under
# memcheck. The "Process terminating with default action of signal 11"
# reports they print are the guard-page tests' expected faults. Leaks are
# left to LeakSanitizer in ci/asan.sh.
# valgrind does not implement mlock2 (syscall 325: "Function not
# implemented"), so the tests of locked and secret arenas run natively and
# under ASan only.
# The switch-off race's reproduction writes 2 GB (ten 200 MiB arenas):
# over ten minutes under memcheck, which has nothing to find there that
# the smaller recycling tests do not cover.
skips=(--skip harden::a_locked_arena --skip harden::every_builder_hardens
    --skip harden::lock_ --skip harden::secret_
    --skip recycle::after_the_switch_goes_off_no_mapping_passes_to_another_arena)
memcheck() {
    valgrind --error-exitcode=1 --quiet --leak-check=no "$binary" "$@"
}
if [ $# -gt 0 ]; then
    memcheck --test-threads=2 "${skips[@]}" "$@"
    exit 0
fi
# valgrind runs one thread at a time, so the tests go to one memcheck per
# core: every other test name to each, by exact name.
jobs="${VALGRIND_JOBS:-$(nproc)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$binary" --list "${skips[@]}" | sed -n 's/: test$//p' >"$work/names"
[ -s "$work/names" ] || { echo "FAIL valgrind: no tests listed"; exit 1; }
pids=()
for i in $(seq 0 $((jobs - 1))); do
    mapfile -t names < <(awk -v n="$jobs" -v i="$i" 'NR % n == i' "$work/names")
    memcheck --test-threads=1 --exact "${names[@]}" >"$work/$i.log" 2>&1 &
    pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed=1
    cat "$work/$i.log"
done
exit "$failed"
