#!/usr/bin/env bash
# Runs the loom models of the lock-free protocols: the atomic cursor's
# allocate, free-newest and grow/shrink-newest (src/raw/loom_tests.rs),
# LocalArena's lease claim and tail hand-back (src/sync/loom_tests.rs),
# the same through &SyncArena's per-thread cached leases, with a reset and
# a dropped arena (src/sync/loom_thread_cache.rs), and
# the region cache's slots and on/off switch (src/cache/loom_tests.rs).
# They are the library's unit tests named `loom_*`, which exist only in a
# build with `--cfg loom`; there the modules take their atomics from loom
# (src/sync_prims.rs), and each model explores every interleaving of its
# three threads with up to LOOM_MAX_PREEMPTIONS preemptions (4 here by
# default, 3 in .ci/run and when the models run without this script) and
# prints how many executions
# that took. Clippy checks the models first (ci/check.sh never builds
# them). The build has its own target directory, so it does not
# invalidate the ordinary one. The first argument narrows the filter,
# e.g. `ci/loom.sh loom_switch`.
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-4}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/loom"
cargo clippy --release --lib --tests -- -D warnings
# Release: loom runs each model hundreds of thousands of times.
cargo test --release --lib "${1:-loom_}" -- --nocapture
