#!/usr/bin/env bash
# Which lines of src/ the committed fuzz corpus reaches: `cargo fuzz
# coverage` of every target (or those named) over fuzz/corpus/TARGET, then
# llvm-cov's line counts joined over the targets (a line counts as reached
# if any target ran it). Prints, per file of src/, the instrumented lines,
# those reached and the unreached line ranges; fuzz/README.md's "Coverage"
# section summarises the output. Not part of CI (a coverage build of every
# target takes minutes); run it after a campaign remade the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup component add llvm-tools --toolchain nightly >/dev/null 2>&1
llvm_bin="$(rustc +nightly --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

for target in "${targets[@]}"; do
    cargo +nightly fuzz coverage "$target" "fuzz/corpus/$target" \
        >"$scratch/$target.log" 2>&1 || {
        tail -n 30 "$scratch/$target.log"
        echo "FAIL coverage $target"
        exit 1
    }
    binary="$(find target fuzz/target -path '*/coverage/*/release/*' -name "$target" -type f -perm -u+x 2>/dev/null | head -n 1)"
    "$llvm_bin/llvm-cov" export -format=lcov \
        -instr-profile="fuzz/coverage/$target/coverage.profdata" "$binary" \
        >"$scratch/$target.lcov"
    echo "coverage $target: done"
done

python3 - "$PWD/src/" "$scratch"/*.lcov <<'EOF'
import os
import sys
from collections import defaultdict

src, lcovs = sys.argv[1], sys.argv[2:]
# file -> line -> reached by any target
lines = defaultdict(dict)
for lcov in lcovs:
    path = None
    for row in open(lcov):
        if row.startswith("SF:"):
            # The model compiles src/math.rs in by a relative #[path].
            path = os.path.normpath(row[3:].strip())
        elif row.startswith("DA:") and path and path.startswith(src):
            number, count = row[3:].split(",")[:2]
            seen = lines[path[len(src):]]
            seen[int(number)] = seen.get(int(number), False) or int(count) > 0


def ranges(numbers):
    """Consecutive runs of line numbers as "a-b" (or "a")."""
    runs = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in runs)


total = reached = 0
print(f"{'src/':<32} {'lines':>6} {'reached':>8}  unreached lines")
for path in sorted(lines):
    seen = lines[path]
    hit = sum(seen.values())
    total += len(seen)
    reached += hit
    missed = [n for n, ok in seen.items() if not ok]
    print(f"{path:<32} {len(seen):>6} {hit:>8}  {ranges(missed)}")
print(f"{'all of src/':<32} {total:>6} {reached:>8}  ({100 * reached / max(total, 1):.1f} %)")
EOF
