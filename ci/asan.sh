#!/usr/bin/env bash
# Runs the unit and integration tests under AddressSanitizer with the
# `asan` feature, so free arena space is poisoned and any access outside a
# live block (use after reset, reads past a block) is an error; the
# `asan::` tests prove such accesses are reported. Nightly only (the
# sanitizer flag is unstable); prints SKIP and exits 0 without it.
# Extra arguments go to `cargo test`, e.g. `ci/asan.sh -- model`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "SKIP asan: no nightly toolchain"
    exit 0
fi
host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
case "$host" in
    x86_64-unknown-linux-gnu | aarch64-unknown-linux-gnu) ;;
    *) echo "SKIP asan: no AddressSanitizer for $host"; exit 0 ;;
esac

# `--target` keeps the sanitizer flags off build scripts and proc macros.
export RUSTFLAGS="${RUSTFLAGS:-} -Zsanitizer=address"
# handle_segv=0: the guard-page tests expect the child to die of SIGSEGV,
# not of ASan's report of it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:handle_segv=0}"
# Doc tests are examples, already run natively; under ASan they would
# need `-Zdoctest-xcompile` for the explicit target.
cargo +nightly test --target "$host" --features asan --lib --tests "$@"
