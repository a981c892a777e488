//! `secret()`'s zeroing, seen from inside: which bytes each of `reset`,
//! `release`, `recycle_into` and drop wipes (through the region's wipe
//! hook, which runs while the bytes are still mapped), and what a block
//! handed out afterwards reads. These run under Miri too.

use core::alloc::Layout;

use crate::region::wiped_by;
use crate::{Arena, RegionCache, StackArena, SyncArena};

const SECRET: &[u8] = b"key material";

/// What the next block of the secret's length reads, uninitialised: the
/// bytes a reset arena hands out again.
fn next_bytes(block: core::ptr::NonNull<u8>) -> Vec<u8> {
    // SAFETY: a fresh block of `SECRET.len()` bytes from the arena, whose
    // memory is always initialised (zero or written before).
    unsafe { core::slice::from_raw_parts(block.as_ptr(), SECRET.len()) }.to_vec()
}

fn layout() -> Layout {
    Layout::for_value(SECRET)
}

/// Bytes the secret takes in an arena: rounded to the 8-byte minimum.
const WRITTEN: usize = 16;

/// Bytes a `SyncArena` counts as written after the secret: with the thread
/// cache, this thread's whole first lease, all of which it may have
/// written and all of which is wiped.
#[cfg(thread_cache)]
const SYNC_WRITTEN: usize = crate::sync::FIRST_LEASE;
#[cfg(not(thread_cache))]
const SYNC_WRITTEN: usize = WRITTEN;

macro_rules! secret_tests {
    ($module:ident, $ty:ident, $written:expr) => {
        mod $module {
            use super::*;

            fn secret() -> $ty {
                $ty::builder().capacity(1 << 16).secret().build().unwrap()
            }

            #[test]
            fn reset_zeroes_what_was_written() {
                let mut arena = secret();
                arena.alloc_slice_copy(SECRET);
                assert_eq!(wiped_by(|| arena.reset()), [$written]);
                assert_eq!(next_bytes(arena.alloc_layout(layout())), [0; 12]);
                assert_eq!(wiped_by(|| arena.reset()), [$written], "the block above");
            }

            /// The control: without `secret()`, a reset keeps the bytes, and
            /// the block after it shows them (so the test above could fail).
            #[test]
            fn a_plain_reset_keeps_the_bytes() {
                let mut arena = $ty::builder()
                    .capacity(1 << 16)
                    .recycle(false)
                    .build()
                    .unwrap();
                arena.alloc_slice_copy(SECRET);
                assert!(wiped_by(|| arena.reset()).is_empty());
                assert_eq!(next_bytes(arena.alloc_layout(layout())), SECRET);
            }

            #[test]
            fn release_zeroes_before_the_pages_go() {
                let mut arena = secret();
                arena.alloc_slice_copy(SECRET);
                assert_eq!(wiped_by(|| arena.release()), [$written]);
                assert_eq!(next_bytes(arena.alloc_layout(layout())), [0; 12]);
            }

            #[test]
            fn drop_zeroes_before_the_unmap() {
                let arena = secret();
                arena.alloc_slice_copy(SECRET);
                assert_eq!(wiped_by(|| drop(arena)), [$written]);
            }

            #[test]
            fn recycle_into_zeroes_and_parks_nothing() {
                let cache = RegionCache::new();
                let arena = $ty::builder()
                    .capacity(1 << 16)
                    .secret()
                    .build_in(&cache)
                    .unwrap();
                arena.alloc_slice_copy(SECRET);
                assert_eq!(wiped_by(|| arena.recycle_into(&cache)), [$written]);
                assert!(cache.is_empty(), "a secret mapping is never parked");
            }
        }
    };
}

secret_tests!(arena, Arena, WRITTEN);
secret_tests!(stack, StackArena, WRITTEN);
secret_tests!(sync, SyncArena, SYNC_WRITTEN);

/// Any hardening keeps a mapping out of every cache, in and out: a
/// hardened arena neither parks its mapping nor takes a parked one.
#[test]
fn hardened_mappings_are_never_recycled() {
    let cache = RegionCache::new();
    let plain = Arena::builder().capacity(1 << 16).build_in(&cache).unwrap();
    plain.recycle_into(&cache);
    assert_eq!(cache.len(), 1);
    for harden in [
        |b: crate::Builder<Arena>| b.dont_dump(true),
        |b: crate::Builder<Arena>| b.wipe_on_fork(true),
        |b: crate::Builder<Arena>| b.dont_fork(true),
        |b: crate::Builder<Arena>| b.lock(true),
    ] {
        let arena = harden(Arena::builder().capacity(1 << 16))
            .build_in(&cache)
            .unwrap();
        assert_eq!(cache.len(), 1, "took the plain mapping");
        arena.recycle_into(&cache);
        assert_eq!(cache.len(), 1, "parked a hardened mapping");
    }
}
