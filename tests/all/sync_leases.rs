//! `&SyncArena` served from each thread's cached lease (the `std` path):
//! threads sharing the arena get disjoint blocks round after round of
//! resets; one thread alternating between arenas keeps a lease of the
//! last two; a reset (on any thread) or a drop makes a cached lease stale,
//! even for a new arena at the same address; blocks freed on another
//! thread follow the shared cursor's rules.

use std::alloc::Layout;

use allocator_api2::boxed::Box as ABox;
use allocator_api2::vec::Vec as AVec;
use anon_arena::{RegionCache, SyncArena};

use crate::common::{assert_disjoint, join_disjoint};

const THREADS: usize = if cfg!(miri) { 3 } else { 4 };
const PER_THREAD: usize = if cfg!(miri) { 300 } else { 20_000 };
/// A thread's first lease, and the largest.
const FIRST_LEASE: usize = 4096;
const MAX_LEASE: usize = 64 << 10;

/// Where `arena`'s memory starts: a new handle's zero-sized block sits
/// there.
fn start_of(arena: &SyncArena) -> usize {
    arena.local().alloc_layout(Layout::new::<()>()).as_ptr() as usize
}

#[test]
fn threads_sharing_the_arena_get_disjoint_blocks_round_after_round() {
    let mut arena = SyncArena::with_capacity(THREADS * PER_THREAD * 32 + THREADS * MAX_LEASE);
    let start = start_of(&arena);
    for round in 0..3u64 {
        let spans = std::thread::scope(|s| {
            let workers: Vec<_> = (0..THREADS as u64)
                .map(|t| {
                    let arena = &arena;
                    s.spawn(move || {
                        let stamp = |i: u64| round << 48 | t << 32 | i;
                        let mut words = Vec::with_capacity(PER_THREAD);
                        let mut pairs = Vec::new();
                        for i in 0..PER_THREAD as u64 {
                            words.push(arena.alloc(stamp(i)));
                            if i % 5 == 0 {
                                pairs.push(arena.alloc([stamp(i); 2]));
                            }
                        }
                        assert!(arena.lease_remaining() < MAX_LEASE);
                        for (i, word) in words.iter().enumerate() {
                            assert_eq!(**word, stamp(i as u64), "a value changed");
                        }
                        let pairs_intact = pairs
                            .iter()
                            .enumerate()
                            .all(|(k, pair)| **pair == [stamp(5 * k as u64); 2]);
                        assert!(pairs_intact, "a pair changed");
                        let mut spans: Vec<(usize, usize)> = words
                            .iter()
                            .map(|w| (&**w as *const u64 as usize, 8))
                            .collect();
                        spans.extend(pairs.iter().map(|p| (p.as_ptr() as usize, 16)));
                        spans
                    })
                })
                .collect();
            join_disjoint(workers)
        });
        let bytes: usize = spans.iter().map(|&(_, len)| len).sum();
        let allocated = arena.allocated_bytes();
        assert!(
            (bytes..=bytes + THREADS * MAX_LEASE).contains(&allocated),
            "round {round}: {bytes} bytes in blocks, {allocated} allocated"
        );
        assert!(spans
            .iter()
            .all(|&(at, len)| at >= start && at + len <= start + allocated));
        arena.reset();
        assert_eq!(arena.lease_remaining(), 0, "a reset ends every lease");
        let first = arena.alloc(round) as *mut u64 as usize;
        assert_eq!(
            first, start,
            "round {round}: the lease after a reset starts the arena"
        );
        arena.reset();
    }
}

#[test]
fn two_arenas_alternating_on_one_thread_keep_both_leases() {
    let a = SyncArena::with_capacity(1 << 20);
    let b = SyncArena::with_capacity(1 << 20);
    let (mut last_a, mut last_b) = (0, 0);
    for i in 0..100u64 {
        let x = a.alloc(i) as *mut u64 as usize;
        let y = b.alloc(i) as *mut u64 as usize;
        if i > 0 {
            assert_eq!(
                (x, y),
                (last_a + 8, last_b + 8),
                "each bumps on in its lease"
            );
        }
        (last_a, last_b) = (x, y);
    }
    assert_eq!(
        (a.allocated_bytes(), b.allocated_bytes()),
        (FIRST_LEASE, FIRST_LEASE),
        "one lease each, claimed once"
    );
    assert_eq!(a.lease_remaining(), FIRST_LEASE - 800);
    // A third arena evicts the lease of the one used least recently (`a`):
    // its tail is lost, and `a`'s next block starts a new lease.
    let c = SyncArena::with_capacity(1 << 20);
    b.alloc(0u8);
    c.alloc(0u8);
    assert_eq!(a.lease_remaining(), 0, "evicted");
    assert_eq!(b.lease_remaining(), FIRST_LEASE - 808, "kept");
    let x = a.alloc(7u64) as *mut u64 as usize;
    assert_eq!(x, start_of(&a) + FIRST_LEASE, "past the old lease");
    assert_eq!(a.allocated_bytes(), 2 * FIRST_LEASE);
    assert_eq!(a.lease_remaining(), FIRST_LEASE - 8, "a first lease again");
}

#[test]
fn a_reset_on_another_thread_makes_this_threads_lease_stale() {
    let mut arena = SyncArena::with_capacity(1 << 20);
    let start = start_of(&arena);
    assert_eq!(arena.alloc(1u64) as *mut u64 as usize, start);
    arena = std::thread::spawn(move || {
        arena.reset();
        arena
    })
    .join()
    .unwrap();
    assert_eq!(arena.lease_remaining(), 0, "the old lease is stale");
    let next = arena.alloc(2u64) as *mut u64 as usize;
    assert_eq!(
        next, start,
        "a new lease from the start, not the old one's next word"
    );
    assert_eq!(arena.allocated_bytes(), FIRST_LEASE);
}

#[test]
fn a_new_arena_at_a_dropped_ones_address_gets_no_stale_lease() {
    static CACHE: RegionCache = RegionCache::new();
    let make = || {
        SyncArena::builder()
            .capacity(1 << 20)
            .cache(&CACHE)
            .build()
            .unwrap()
    };
    let old = make();
    let old_start = start_of(&old);
    old.alloc_slice_fill_copy(100, 0xAAu8);
    let old_next = old.alloc(0u64) as *mut u64 as usize;
    drop(old);
    let new = make();
    assert_eq!(start_of(&new), old_start, "the parked mapping was reused");
    assert_eq!(
        new.lease_remaining(),
        0,
        "the dropped arena's lease is not the new one's"
    );
    let first = new.alloc(1u64) as *mut u64 as usize;
    assert_ne!(first, old_next + 8);
    assert_eq!(first, old_start, "a new lease from the start");
    assert_eq!(new.allocated_bytes(), FIRST_LEASE);
}

#[test]
fn a_block_freed_on_another_thread_follows_the_shared_cursors_rules() {
    let arena = SyncArena::with_capacity(1 << 20);
    // Fill this thread's first lease exactly: its last block ends where
    // the arena's cursor stands.
    let words = arena.alloc_slice_fill_copy(FIRST_LEASE / 8 - 1, 0u64);
    let last = ABox::new_in(7u64, &arena);
    assert_eq!(arena.lease_remaining(), 0);
    let at = &*last as *const u64 as usize;
    let reused = std::thread::scope(|s| {
        s.spawn(|| {
            // Not in this thread's lease (it has none): the shared cursor
            // frees it in place, as nothing was claimed after it ...
            drop(last);
            assert_eq!(arena.allocated_bytes(), FIRST_LEASE - 8);
            // ... and this thread's first lease starts where it was.
            arena.alloc(8u64) as *mut u64 as usize
        })
        .join()
        .unwrap()
    });
    assert_eq!(reused, at);
    // This thread's lease is full: its next block comes from a new lease,
    // past the other thread's.
    let next = arena.alloc(9u64) as *mut u64 as usize;
    assert_eq!(next, at + FIRST_LEASE);
    assert!(words.iter().all(|&w| w == 0));
}

#[test]
fn vectors_pushed_on_many_threads_grow_in_their_leases() {
    let arena = SyncArena::with_capacity(64 << 20);
    let n = if cfg!(miri) { 2000 } else { 200_000 };
    let spans: Vec<(usize, usize)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS as u64)
            .map(|t| {
                let arena = &arena;
                s.spawn(move || {
                    let mut v = AVec::new_in(arena);
                    let mut small = AVec::new_in(arena);
                    for i in 0..n {
                        v.push(t << 32 | i);
                        if i % 100 == 0 {
                            small.push(i as u16);
                        }
                    }
                    assert!(v.iter().enumerate().all(|(i, &x)| x == t << 32 | i as u64));
                    let small_ok = small
                        .iter()
                        .enumerate()
                        .all(|(k, &x)| x == (k * 100) as u16);
                    assert!(small_ok);
                    v.truncate(10);
                    v.shrink_to_fit();
                    assert_eq!(v[9], t << 32 | 9);
                    let spans = [
                        (v.as_ptr() as usize, v.len() * 8),
                        (small.as_ptr() as usize, small.len() * 2),
                    ];
                    // The blocks stay until the reset.
                    core::mem::forget((v, small));
                    spans
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    let mut spans = spans;
    assert_disjoint(&mut spans);
}

#[test]
fn a_limit_bounds_every_threads_leases() {
    // Not a multiple of any lease size, so the last leases are cut to fit.
    let limit: usize = if cfg!(miri) { 20_000 } else { 1_000_000 };
    let arena = SyncArena::with_capacity(4 * limit);
    let start = start_of(&arena);
    arena.set_allocation_limit(Some(limit));
    let spans = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2u64)
            .map(|t| {
                let arena = &arena;
                s.spawn(move || {
                    let mut spans = Vec::new();
                    while let Ok(word) = arena.try_alloc(t) {
                        spans.push((&*word as *const u64 as usize, 8));
                    }
                    assert_eq!(arena.lease_remaining(), 0, "refused with room left");
                    spans
                })
            })
            .collect();
        join_disjoint(workers)
    });
    assert!(
        spans
            .iter()
            .all(|&(at, len)| at >= start && at + len <= start + limit),
        "a block past the limit"
    );
    // Every block is a word, so no lease tail is ever stranded: the two
    // threads filled the arena exactly up to the limit.
    assert_eq!(spans.len() * 8, limit);
    assert_eq!((arena.allocated_bytes(), arena.remaining()), (limit, 0));
    assert!(arena.try_alloc(0u8).is_err(), "this thread is refused too");
    arena.set_allocation_limit(None);
    assert_eq!(
        arena.remaining(),
        arena.capacity() - limit,
        "lifted, the rest is free"
    );
}

#[test]
fn a_lease_that_cannot_be_claimed_falls_back_to_the_exact_block() {
    let arena = SyncArena::with_capacity(1 << 20);
    let start = start_of(&arena);
    // Room for one 64-byte block aligned to 64 at the arena's start, but
    // not for a lease with the slack that alignment asks wherever it lands.
    arena.set_allocation_limit(Some(64));
    let layout = Layout::from_size_align(64, 64).unwrap();
    let block = arena
        .try_alloc_layout(layout)
        .expect("the exact block fits");
    assert_eq!(block.as_ptr() as usize, start);
    assert_eq!((arena.allocated_bytes(), arena.remaining()), (64, 0));
}

/// A block another thread handed out *inside* this thread's current lease
/// (after a cross-thread free rewound the shared cursor into it) is freed
/// here by the lease's rules: the bytes pass to this thread's lease, and
/// the other thread never hands them out again (the one-owner rule of
/// `LeaseCursor`'s docs).
#[test]
fn a_block_another_thread_made_inside_this_threads_full_lease_joins_it_when_freed() {
    let arena = SyncArena::with_capacity(1 << 20);
    let words = arena.alloc_slice_fill_copy(4096 / 8 - 1, 0u64);
    let last = ABox::new_in(7u64, &arena);
    assert_eq!(arena.lease_remaining(), 0);
    let at = &*last as *const u64 as usize;
    let (tx, rx) = std::sync::mpsc::channel::<ABox<u64, &SyncArena>>();
    let (back_tx, back_rx) = std::sync::mpsc::channel::<()>();
    let arena_ref = &arena;
    std::thread::scope(|s| {
        s.spawn(move || {
            let arena = arena_ref;
            drop(last); // shared rewind to `at`, inside the main thread's lease
            let foreign = ABox::new_in(0xF00Du64, arena);
            assert_eq!(&*foreign as *const u64 as usize, at);
            tx.send(foreign).unwrap();
            back_rx.recv().unwrap();
            // This thread keeps bumping in its lease (at + 8 ..).
            let mine: Vec<&mut u64> = (0..100).map(|i| arena.alloc(i)).collect();
            for (i, m) in mine.iter().enumerate() {
                assert!(**m as usize == i);
                assert_ne!(&**m as *const u64 as usize, at);
            }
        });
        let foreign = rx.recv().unwrap();
        assert_eq!(*foreign, 0xF00D);
        drop(foreign); // starts in this thread's lease, ends at its end
        assert_eq!(arena.lease_remaining(), 8, "the bytes joined this lease");
        let mine = arena.alloc(0xAAAAu64);
        assert_eq!(mine as *mut u64 as usize, at);
        back_tx.send(()).unwrap();
        for _ in 0..100 {
            *mine += 1;
        }
    });
    assert!(words.iter().all(|&w| w == 0));
}
