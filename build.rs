//! Emits `cfg(asan)` when the `asan` feature is on and the crate is built
//! with AddressSanitizer (`RUSTFLAGS=-Zsanitizer=address`, as `cargo fuzz`
//! does by default). `cfg(sanitize = "address")` itself needs a nightly
//! feature gate; Cargo's `CARGO_CFG_SANITIZE` works on every toolchain. The
//! feature without the sanitizer does nothing, so `--all-features` builds
//! stay linkable on stable.
//!
//! Also emits `cfg(thread_cache)` when `&SyncArena` may serve each thread
//! from a cached lease (`src/sync/thread_cache.rs`): that needs `std`'s
//! `thread_local!` and 64-bit atomics for its never-reused arena keys.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let feature = std::env::var_os("CARGO_FEATURE_ASAN").is_some();
    let sanitizers = std::env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    if feature && sanitizers.split(',').any(|s| s == "address") {
        println!("cargo::rustc-cfg=asan");
    }
    let std = std::env::var_os("CARGO_FEATURE_STD").is_some();
    let atomics = std::env::var("CARGO_CFG_TARGET_HAS_ATOMIC").unwrap_or_default();
    if std && atomics.split(',').any(|width| width == "64") {
        println!("cargo::rustc-cfg=thread_cache");
    }
}
