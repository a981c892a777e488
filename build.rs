//! Emits `cfg(asan)` when the `asan` feature is on and the crate is built
//! with AddressSanitizer (`RUSTFLAGS=-Zsanitizer=address`, as `cargo fuzz`
//! does by default). `cfg(sanitize = "address")` itself needs a nightly
//! feature gate; Cargo's `CARGO_CFG_SANITIZE` works on every toolchain. The
//! feature without the sanitizer does nothing, so `--all-features` builds
//! stay linkable on stable.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let feature = std::env::var_os("CARGO_FEATURE_ASAN").is_some();
    let sanitizers = std::env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    if feature && sanitizers.split(',').any(|s| s == "address") {
        println!("cargo::rustc-cfg=asan");
    }
}
