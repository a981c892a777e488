//! `SyncArena`'s surface from the arena (through this thread's cached
//! lease, which other arenas move aside or evict) and from `LocalArena`
//! handles, single-threaded, with resets between, under the shared checker.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(failure) = anon_arena_model::sync_ops::run_bytes(bytes) {
        panic!("{failure}");
    }
});
