//! With the `asan` feature under AddressSanitizer, a stale reference into
//! an arena is reported instead of silently reading reused memory. Only
//! compiled when `build.rs` emits `cfg(asan)`; run by `ci/asan.sh`:
//!
//! ```sh
//! RUSTFLAGS=-Zsanitizer=address cargo +nightly test \
//!     --target x86_64-unknown-linux-gnu --features asan --test all asan
//! ```
#![cfg(asan)]

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};

use anon_arena::{Arena, Pool, SyncArena};

use crate::common::{in_child, ChildEnd};

/// Runs `body` in a forked child with its stderr sent to a file; returns
/// how the child ended and what it wrote (ASan's report, if any).
fn child_report(body: impl FnOnce()) -> (ChildEnd, String) {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let name = format!("anon-arena-asan-{}-{call}", std::process::id());
    let path = std::env::temp_dir().join(name);
    let file = std::fs::File::create(&path).expect("temporary file for the child's stderr");
    let end = in_child(|| {
        // SAFETY: both descriptors are open; the child's stderr becomes the file.
        unsafe { libc::dup2(file.as_raw_fd(), 2) };
        body();
        0
    });
    // Read by path: the child shared the descriptor's offset and moved it.
    let report = std::fs::read_to_string(&path).expect("read the child's stderr");
    std::fs::remove_file(&path).ok();
    (end, report)
}

#[test]
fn a_read_through_a_reference_kept_across_reset_is_reported() {
    let (end, report) = child_report(|| {
        let mut arena = Arena::with_capacity(1 << 20);
        let stale: *const u64 = arena.alloc(42u64);
        arena.reset();
        // SAFETY: none — this is the bug ASan must catch.
        let value = unsafe { stale.read_volatile() };
        eprintln!("read {value} after reset unnoticed");
    });
    assert_ne!(end, ChildEnd::Exited(0), "{report}");
    assert!(report.contains("use-after-poison"), "{report}");
}

#[test]
fn a_read_past_the_end_of_a_block_is_reported() {
    let (end, report) = child_report(|| {
        let arena = Arena::with_capacity(1 << 20);
        let block = arena.alloc([1u8; 3]).as_ptr();
        // SAFETY: none — byte 5 is rounding padding, not part of the block.
        let value = unsafe { block.add(5).read_volatile() };
        eprintln!("read {value} past the block unnoticed");
    });
    assert_ne!(end, ChildEnd::Exited(0), "{report}");
    assert!(report.contains("use-after-poison"), "{report}");
}

#[test]
fn a_read_into_a_block_given_back_is_reported() {
    // A box handed to `dealloc`, the slack `alloc_iter` gave back past its
    // last item, and the block of an initialiser that failed.
    let (end, report) = child_report(|| {
        let arena = Arena::with_capacity(1 << 20);
        let boxed = anon_arena::ArenaBox::new_in(7u64, &arena);
        let stale: *const u64 = &*boxed;
        arena.dealloc(boxed);
        // SAFETY: none — this is the bug ASan must catch.
        let value = unsafe { stale.read_volatile() };
        eprintln!("read {value} after dealloc unnoticed");
    });
    assert_ne!(end, ChildEnd::Exited(0), "{report}");
    assert!(report.contains("use-after-poison"), "{report}");
    let (end, report) = child_report(|| {
        let arena = Arena::with_capacity(1 << 20);
        let items = arena.alloc_iter((0..3u64).filter(|_| true));
        // SAFETY: none — the block grew to 8 items and ends at 3 now.
        let value = unsafe { items.as_ptr().add(4).read_volatile() };
        eprintln!("read {value} past the items unnoticed");
    });
    assert_ne!(end, ChildEnd::Exited(0), "{report}");
    assert!(report.contains("use-after-poison"), "{report}");
    let (end, report) = child_report(|| {
        let arena = Arena::with_capacity(1 << 20);
        let mut stale: *const [u8; 64] = core::ptr::null();
        let failed = arena.alloc_try_with(|| {
            stale = arena.alloc([1u8; 64]);
            Err::<u8, ()>(())
        });
        assert!(failed.is_err());
        // SAFETY: the closure's block is live: it keeps the failed block
        // (below it) from being given back, and nothing reused either.
        let ok = unsafe { stale.read_volatile() };
        assert_eq!(ok, [1u8; 64]);
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}

#[test]
fn live_blocks_and_reused_space_are_not_reported() {
    let (end, report) = child_report(|| {
        let mut arena = Arena::with_capacity(1 << 20);
        for round in 0..3u8 {
            let block = arena.alloc_slice_fill_copy(100_000, round);
            assert!(block.iter().all(|&b| b == round));
            let mut v = allocator_api2::vec::Vec::new_in(&arena);
            v.extend(0..10_000u32);
            assert_eq!(v.iter().sum::<u32>(), 49_995_000);
            drop(v);
            arena.reset();
        }
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}

/// Maps a new region of `len` bytes and reads all of it, which ASan must
/// not report even where an earlier mapping at the same address was
/// poisoned; returns whether the region covers `old`.
fn new_region_reads_clean(len: usize, old: usize) -> bool {
    let region = anon_arena::Region::new(len).unwrap();
    let base = region.as_ptr() as usize;
    // SAFETY: the whole region is fresh, readable memory.
    let bytes = unsafe { std::slice::from_raw_parts(region.as_ptr(), region.len()) };
    assert!(bytes.iter().all(|&b| b == 0));
    (base..base + region.len()).contains(&old)
}

#[test]
fn a_new_mapping_where_a_dropped_arena_was_is_not_poisoned() {
    let (end, report) = child_report(|| {
        let mut reused = false;
        for round in 0..8 {
            // Unmapped at once, or parked (poisoned) and then trimmed.
            let recycle = round % 2 == 1;
            let arena = Arena::builder()
                .capacity(1 << 20)
                .recycle(recycle)
                .build()
                .unwrap();
            let old = arena.alloc_slice_fill_copy(1000, 1u8).as_ptr() as usize;
            drop(arena);
            anon_arena::trim();
            // The kernel tends to hand the same addresses out again.
            reused |= new_region_reads_clean(1 << 20, old);
        }
        eprintln!("addresses reused: {reused}");
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}

/// Asserts that the child was stopped by ASan's report of a poisoned access.
fn assert_reported((end, report): (ChildEnd, String)) {
    assert_ne!(end, ChildEnd::Exited(0), "{report}");
    assert!(report.contains("use-after-poison"), "{report}");
}

#[test]
fn a_read_through_a_dropped_pool_box_is_reported() {
    assert_reported(child_report(|| {
        let pool = Pool::with_capacity(16);
        let _before = pool.alloc(1u64);
        let boxed = pool.alloc(2u64);
        let stale: *const u64 = &*boxed;
        drop(boxed);
        // SAFETY: none — the slot was freed with its box.
        let value = unsafe { stale.read_volatile() };
        eprintln!("read {value} from a freed slot unnoticed");
    }));
}

#[test]
fn a_read_of_a_listed_slots_link_word_is_reported() {
    assert_reported(child_report(|| {
        let pool = Pool::with_capacity(16);
        let first = pool.alloc(1u64);
        let second = pool.alloc(2u64);
        let stale: *const u64 = &*first;
        drop(first);
        // The second free moves the first slot onto the list: its first
        // word now holds the link.
        drop(second);
        // SAFETY: none — the slot is free and holds the list link.
        let value = unsafe { stale.read_volatile() };
        eprintln!("read the link {value:#x} unnoticed");
    }));
}

#[test]
fn a_read_of_a_never_allocated_pool_slot_is_reported() {
    assert_reported(child_report(|| {
        let pool = Pool::<u64>::with_capacity(1 << 20);
        let only = pool.alloc(1);
        // SAFETY: none — the next slot was never handed out.
        let value = unsafe { (&*only as *const u64).add(1).read_volatile() };
        eprintln!("read {value} from a fresh slot unnoticed");
    }));
}

#[test]
fn pool_churn_and_a_reused_mapping_are_not_reported() {
    let (end, report) = child_report(|| {
        for _ in 0..4 {
            let pool = Pool::with_capacity(100_000);
            let mut live: Vec<_> = (0..50_000u64).map(|i| pool.alloc([i; 4])).collect();
            for round in 0..3u64 {
                for (i, slot) in live.iter_mut().enumerate().step_by(3) {
                    *slot = pool.alloc([round + i as u64; 4]);
                }
            }
            assert!(live.iter().all(|b| b[0] == b[3]));
            let list = allocator_api2::boxed::Box::new_in([7u64; 4], &pool);
            assert_eq!(list[2], 7);
            let old = &*live[0] as *const _ as usize;
            drop((list, live));
            drop(pool);
            eprintln!("reused: {}", new_region_reads_clean(16 << 20, old));
        }
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}

#[test]
fn a_read_through_a_sync_arena_reference_kept_across_reset_is_reported() {
    assert_reported(child_report(|| {
        let mut arena = SyncArena::with_capacity(1 << 20);
        let stale: *const u64 = arena.alloc(42u64);
        arena.reset();
        // SAFETY: none — this is the bug ASan must catch.
        let value = unsafe { stale.read_volatile() };
        eprintln!("read {value} after reset unnoticed");
    }));
}

#[test]
fn a_read_past_a_sync_arena_block_is_reported() {
    assert_reported(child_report(|| {
        let arena = SyncArena::with_capacity(1 << 20);
        let block = arena.alloc([1u8; 3]).as_ptr();
        // SAFETY: none — byte 5 is rounding padding, and the cursor's free
        // space follows.
        let value = unsafe { block.add(5).read_volatile() };
        eprintln!("read {value} past the block unnoticed");
    }));
}

#[test]
fn a_read_of_a_local_arena_leases_unused_tail_is_reported() {
    assert_reported(child_report(|| {
        let arena = SyncArena::with_capacity(1 << 20);
        let local = arena.local();
        let block: *const u64 = local.alloc(1u64);
        assert!(local.lease_remaining() > 64);
        // SAFETY: none — the lease's tail has not been handed out.
        let value = unsafe { block.add(4).read_volatile() };
        eprintln!("read {value} from the lease's tail unnoticed");
    }));
}

#[test]
fn a_lease_tail_left_behind_stays_poisoned() {
    assert_reported(child_report(|| {
        let arena = SyncArena::with_capacity(1 << 20);
        let local = arena.local();
        let block: *const u64 = local.alloc(1u64);
        // A claim after the lease keeps its tail from going back to the
        // arena when the handle drops: the tail is lost, and dead.
        arena.alloc(2u64);
        drop(local);
        // SAFETY: none — the tail was never handed out.
        let value = unsafe { block.add(4).read_volatile() };
        eprintln!("read {value} from an abandoned lease tail unnoticed");
    }));
}

#[test]
fn a_read_of_a_threads_lease_tail_is_reported() {
    assert_reported(child_report(|| {
        let arena = SyncArena::with_capacity(1 << 20);
        let block: *const u64 = arena.alloc(1u64);
        assert!(arena.lease_remaining() > 64);
        // SAFETY: none — the rest of this thread's lease is not handed out.
        let value = unsafe { block.add(4).read_volatile() };
        eprintln!("read {value} from the thread's lease unnoticed");
    }));
}

#[test]
fn an_evicted_lease_tail_stays_poisoned() {
    assert_reported(child_report(|| {
        let arenas: Vec<SyncArena> = (0..3).map(|_| SyncArena::with_capacity(1 << 20)).collect();
        let block: *const u64 = arenas[0].alloc(1u64);
        // Two other arenas on this thread evict the first one's lease.
        arenas[1].alloc(2u64);
        arenas[2].alloc(3u64);
        assert_eq!(arenas[0].lease_remaining(), 0);
        // SAFETY: none — the evicted lease's tail was never handed out.
        let value = unsafe { block.add(4).read_volatile() };
        eprintln!("read {value} from an evicted lease tail unnoticed");
    }));
}

/// A false report here means one thread poisoned a block another had just
/// been handed. The race is probabilistic: publishing the frontier before
/// poisoning it (the bug this guards against) fails about two runs in three.
#[test]
fn threads_racing_on_a_sync_arena_are_not_reported() {
    let (end, report) = child_report(|| {
        let mut arena = SyncArena::with_capacity(64 << 20);
        for round in 0..3u8 {
            std::thread::scope(|s| {
                for t in 0..4u8 {
                    let arena = &arena;
                    s.spawn(move || {
                        // Shared-cursor blocks, lease blocks and big direct
                        // blocks interleave across many poisoning chunks.
                        let local = arena.local();
                        for i in 0..20_000u32 {
                            let fill = round ^ t ^ i as u8;
                            let a = arena.alloc_slice_fill_copy(7 + (i % 50) as usize, fill);
                            let b = local.alloc_slice_fill_copy(1 + (i % 90) as usize, fill);
                            assert!(a.iter().chain(b.iter()).all(|&x| x == fill));
                            if i % 2000 == 0 {
                                let big = local.alloc_slice_fill_copy(40_000, fill);
                                assert!(big.iter().all(|&x| x == fill));
                            }
                        }
                        let mut v = allocator_api2::vec::Vec::new_in(&local);
                        v.extend(0..10_000u32);
                        assert_eq!(v.iter().sum::<u32>(), 49_995_000);
                    });
                }
            });
            arena.reset();
        }
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}

#[test]
fn a_new_mapping_where_a_dropped_sync_arena_was_is_not_poisoned() {
    let (end, report) = child_report(|| {
        for round in 0..8 {
            // Unmapped at once, or parked (poisoned) and then trimmed.
            let arena = SyncArena::builder()
                .capacity(1 << 20)
                .recycle(round % 2 == 1)
                .build()
                .unwrap();
            let local = arena.local();
            let old = local.alloc_slice_fill_copy(1000, 1u8).as_ptr() as usize;
            drop(local);
            arena.alloc_slice_fill_copy(1000, 1u8);
            drop(arena);
            anon_arena::trim();
            eprintln!("reused: {}", new_region_reads_clean(1 << 20, old));
        }
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}

#[test]
fn a_read_through_a_pointer_into_a_dropped_arena_is_reported() {
    let (end, report) = child_report(|| {
        let arena = Arena::with_capacity(1 << 20);
        let stale: *const u64 = arena.alloc(42u64);
        // Parked for reuse, not unmapped: the read would succeed silently.
        drop(arena);
        // SAFETY: none — this is the bug ASan must catch.
        let value = unsafe { stale.read_volatile() };
        eprintln!("read {value} after drop unnoticed");
    });
    assert_ne!(end, ChildEnd::Exited(0), "{report}");
    assert!(report.contains("use-after-poison"), "{report}");
}

/// A dropped arena's written bytes stay poisoned while its mapping is
/// parked: all of them, not only the first few MiB that stay resident.
#[test]
fn reads_into_what_a_dropped_arena_wrote_are_reported_at_any_offset() {
    for offset in [4096, 12 << 20] {
        assert_reported(child_report(|| {
            let arena = Arena::with_capacity(64 << 20);
            let written = arena.alloc_slice_fill_copy(16 << 20, 1u8).as_ptr();
            // Parked for reuse, not unmapped: the read would succeed silently.
            drop(arena);
            // SAFETY: none — this is the bug ASan must catch.
            let value = unsafe { written.add(offset).read_volatile() };
            eprintln!("read {value} at offset {offset} after drop unnoticed");
        }));
    }
}

/// The next arena takes the whole poisoned prefix unpoisoned: nothing is
/// reported when it uses the mapping, nor when the mapping, parked again
/// and trimmed, is followed by a new one at the same address.
#[test]
fn a_parked_mapping_taken_again_then_trimmed_is_not_poisoned() {
    let (end, report) = child_report(|| {
        let first = Arena::with_capacity(64 << 20);
        let old = first.alloc_slice_fill_copy(16 << 20, 1u8).as_ptr() as usize;
        drop(first);
        let second = Arena::with_capacity(64 << 20);
        let block = second.alloc_slice_fill_copy(1 << 20, 2u8);
        assert_eq!(block.as_ptr() as usize, old, "the parked mapping was taken");
        drop(second);
        anon_arena::trim();
        eprintln!("reused: {}", new_region_reads_clean(64 << 20, old));
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}

/// A `secret()` arena unpoisons what it wrote to zero it, and poisons it
/// again: a reference kept across its reset is still reported, and a new
/// mapping where a dropped one was reads clean.
#[test]
fn a_secret_arena_wipes_without_losing_its_poison() {
    assert_reported(child_report(|| {
        let mut arena = Arena::builder().capacity(1 << 20).secret().build().unwrap();
        let stale: *const u64 = arena.alloc(42u64);
        arena.reset();
        // SAFETY: none — this is the bug ASan must catch.
        let value = unsafe { stale.read_volatile() };
        eprintln!("read {value} after a secret reset unnoticed");
    }));
    let (end, report) = child_report(|| {
        let mut reused = false;
        for _ in 0..4 {
            let mut arena = Arena::builder().capacity(1 << 20).secret().build().unwrap();
            let old = arena.alloc_slice_fill_copy(1000, 1u8).as_ptr() as usize;
            arena.reset();
            arena.alloc_slice_fill_copy(100, 2u8);
            drop(arena);
            reused |= new_region_reads_clean(1 << 20, old);
        }
        eprintln!("addresses reused: {reused}");
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}
