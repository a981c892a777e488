//! Every allocator through allocator-api2's `Allocator` (allocate, grow,
//! shrink, deallocate, allocate_zeroed, reset, release) under the shared
//! checker; the first byte picks the allocator. A new allocator type joins
//! with one more arm.
#![no_main]

use anon_arena::{Arena, StackArena, SyncArena};
use anon_arena_model::api::run_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Some((&which, program)) = bytes.split_first() else {
        return;
    };
    let result = match which % 3 {
        0 => run_bytes::<Arena>(program),
        1 => run_bytes::<SyncArena>(program),
        _ => run_bytes::<StackArena>(program),
    };
    if let Err(failure) = result {
        panic!("{failure}");
    }
});
