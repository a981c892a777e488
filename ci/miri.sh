#!/usr/bin/env bash
# Runs the library's unit and integration tests under Miri with strict
# provenance and symbolic alignment: the whole suite under Stacked Borrows
# (Miri's default, what users run their own code with), then the unit tests
# and the regression tests that drive every allocator through `Vec`
# (tests/all/vec_drive.rs) under Tree Borrows. A second full pass would
# take longer than the first (Tree Borrows is the slower model), more than
# CI's time allows to spend on it.
# Tests Miri cannot model (fork, guard pages, resident-memory readings,
# huge runs) are ignored with a reason. Prints SKIP and exits 0 when no
# nightly toolchain with Miri can be had. Extra arguments replace the
# selection and go to both passes, e.g. `ci/miri.sh -- vec_drive`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal >/dev/null 2>&1 || { echo "SKIP miri: no nightly toolchain"; exit 0; }
fi
if ! cargo +nightly miri --version >/dev/null 2>&1; then
    rustup component add miri rust-src --toolchain nightly >/dev/null 2>&1 || { echo "SKIP miri: component unavailable"; exit 0; }
fi
cargo +nightly miri setup >/dev/null 2>&1 || { echo "SKIP miri: setup failed"; exit 0; }

export MIRIFLAGS="${MIRIFLAGS:--Zmiri-strict-provenance -Zmiri-symbolic-alignment-check}"
export PROPTEST_CASES="${PROPTEST_CASES:-4}"
# Doc tests are examples of the API, already run natively; under Miri each
# would be a separate slow interpreter start.
echo "--- Miri, Stacked Borrows"
cargo +nightly miri test --lib --tests "$@"
echo "--- Miri, Tree Borrows"
export MIRIFLAGS="$MIRIFLAGS -Zmiri-tree-borrows"
if [ $# -gt 0 ]; then
    cargo +nightly miri test --lib --tests "$@"
else
    cargo +nightly miri test --lib
    cargo +nightly miri test --test all vec_drive
fi
