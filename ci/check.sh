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
    # `nightly` alone (core's trait), and with allocator-api2 0.2, whose
    # trait it then makes core's: one impl, no E0119.
    cargo +nightly build --no-default-features --features nightly
    cargo +nightly build --features nightly,allocator-api2-03,allocator-api2-04
    # Another crate turning allocator-api2/nightly on next to ours.
    cargo +nightly run --quiet --manifest-path ci/nightly-coexist/Cargo.toml
    # What docs.rs builds: every impl, marked with its feature.
    RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo +nightly doc --no-deps \
        --features allocator-api2-03,allocator-api2-04,nightly
else
    echo "SKIP nightly feature build: no nightly toolchain"
fi
