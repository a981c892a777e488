//! Every allocator through allocator-api2's `Allocator` (allocate, grow,
//! shrink, deallocate, allocate_zeroed, reset, release) under the shared
//! checker. A new allocator type joins with one more `run_bytes` line.
#![no_main]

use anon_arena::Arena;
use anon_arena_model::api::run_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(failure) = run_bytes::<Arena>(bytes) {
        panic!("{failure}");
    }
});
