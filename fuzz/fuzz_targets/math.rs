//! The crate's private `src/math.rs` (alignment, bumping, resizing, byte
//! counts; compiled into the model by path) on absurd sizes and
//! alignments, against a `u128` reference.
#![no_main]

mod asan_options;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(failure) = anon_arena_model::math::run_bytes(bytes) {
        panic!("{failure}");
    }
});
