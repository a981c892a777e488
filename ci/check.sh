#!/usr/bin/env bash
# Static gates: formatting, clippy (warnings are errors), rustdoc (warnings
# are errors), and the no_std build with each feature on its own.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo clippy -p anon-arena-model --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps
cargo build --no-default-features
cargo build --no-default-features --features allocator-api2-03
cargo build --no-default-features --features allocator-api2-04
cargo build --features allocator-api2-03,allocator-api2-04
cargo build --features asan # without -Zsanitizer=address: a no-op that links
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    cargo +nightly build --features nightly
else
    echo "SKIP nightly feature build: no nightly toolchain"
fi
