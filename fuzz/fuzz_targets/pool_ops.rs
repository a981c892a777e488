//! `Pool<T>`'s boxes (`try_alloc`, drop, `into_inner`) and `Allocator`
//! blocks (allocate, grow, shrink, deallocate) under the shared checker's
//! slot and count rules.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(failure) = anon_arena_model::pool_ops::run_bytes(bytes) {
        panic!("{failure}");
    }
});
