//! `Arena`'s own surface (`alloc*`, `try_*`, reset, release) against the
//! exact cursor model and the shared checker.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(failure) = anon_arena_model::arena_ops::run_bytes(bytes) {
        panic!("{failure}");
    }
});
