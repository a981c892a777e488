//! `LocalArena`, the per-thread handle on a `SyncArena`: disjoint blocks
//! across handles on many threads, exhaustion with leases near the end of
//! the capacity, zeroed memory after a reset, and the `Allocator` impl.

use std::alloc::Layout;

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec as AVec;
use anon_arena::{Error, SyncArena};

use crate::common::assert_disjoint;

/// Threads and allocations per thread: the 8 × 50k natively, a
/// token run under Miri.
const THREADS: usize = if cfg!(miri) { 3 } else { 8 };
const PER_THREAD: usize = if cfg!(miri) { 40 } else { 50_000 };

#[test]
fn eight_handles_on_eight_threads_get_disjoint_blocks_and_keep_their_values() {
    // Each thread may leave up to one 64 KiB lease partly unused.
    let arena = SyncArena::with_capacity(THREADS * PER_THREAD * 48 + THREADS * (64 << 10));
    let per_thread: Vec<Vec<(usize, usize)>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let local = arena.local();
                s.spawn(move || {
                    let mut stamps = Vec::with_capacity(PER_THREAD);
                    let mut words = Vec::new();
                    for i in 0..PER_THREAD {
                        stamps.push(local.alloc([t as u64, i as u64, (t ^ i) as u64]));
                        if i % 3 == 0 {
                            words.push(local.alloc_slice_fill_copy(1 + i % 4, (t * i) as u64));
                        }
                    }
                    for (i, stamp) in stamps.iter().enumerate() {
                        assert_eq!(**stamp, [t as u64, i as u64, (t ^ i) as u64]);
                    }
                    let mut spans: Vec<(usize, usize)> =
                        stamps.iter().map(|s| (s.as_ptr() as usize, 24)).collect();
                    for (k, w) in words.iter().enumerate() {
                        assert!(w.iter().all(|&x| x == (t * 3 * k) as u64), "slice changed");
                        spans.push((w.as_ptr() as usize, w.len() * 8));
                    }
                    spans
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut spans: Vec<(usize, usize)> = per_thread.into_iter().flatten().collect();
    assert_disjoint(&mut spans);
    let handed_out: usize = spans.iter().map(|&(_, len)| len).sum();
    assert!(
        arena.allocated_bytes() >= handed_out,
        "leases cover every block"
    );
    assert!(
        arena.allocated_bytes() <= handed_out + THREADS * (64 << 10),
        "at most one lease tail per thread is lost: {} vs {handed_out}",
        arena.allocated_bytes()
    );
}

#[test]
fn leases_near_the_end_shrink_exhaust_cleanly_and_tails_come_back() {
    let mut arena = SyncArena::with_capacity(8192);
    {
        let first = arena.local();
        let second = arena.local();
        first.alloc(1u64);
        assert_eq!(
            first.lease_remaining(),
            1024 - 8,
            "a lease takes at most an eighth of what is left"
        );
        second.alloc(2u64);
        assert_eq!(second.lease_remaining(), 896 - 8);
        // The first handle takes the rest, in ever smaller leases ...
        let mut taken = 8;
        while first.try_alloc(3u64).is_ok() {
            taken += 8;
        }
        assert_eq!(arena.remaining(), 0);
        assert_eq!(taken, 8192 - 896, "every byte but the second lease");
        // ... and the second still has the rest of its own, and nothing more.
        assert_eq!(second.alloc_slice_fill_copy(888 / 8, 7u64).len(), 111);
        assert!(matches!(
            second.try_alloc(3u64),
            Err(Error::Exhausted { remaining: 0, .. })
        ));
        let message = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| *first.alloc(4u64)))
            .unwrap_err()
            .downcast::<String>()
            .unwrap();
        assert!(
            message.starts_with("LocalArena: cannot allocate 8 bytes"),
            "{message}"
        );
        assert!(first.try_alloc(()).is_ok(), "zero-sized never fails");
    }
    arena.reset();
    // The newest lease's tail comes back when its handle goes.
    let third = arena.local();
    third.alloc(1u64);
    assert_eq!(arena.remaining(), 8192 - 1024);
    drop(third);
    assert_eq!(arena.remaining(), 8192 - 8);
    let fourth = arena.local();
    assert!(fourth.try_alloc([0u8; 8192]).is_err(), "more than is left");
    assert_eq!(fourth.alloc_slice_fill_copy(8192 - 8, 9u8).len(), 8184);
    assert_eq!(arena.remaining(), 0);
    assert!(fourth.try_alloc(0u8).is_err());
}

#[test]
fn a_lease_that_is_not_the_newest_keeps_its_tail_until_reset() {
    let mut arena = SyncArena::with_capacity(1 << 16);
    {
        let first = arena.local();
        let second = arena.local();
        first.alloc(1u64);
        second.alloc(2u64);
        drop(first); // not the newest lease: its tail stays lost
        assert_eq!(arena.allocated_bytes(), 8192);
        drop(second);
        assert_eq!(arena.allocated_bytes(), 4104);
    }
    arena.reset();
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn a_handle_after_reset_reuses_dirty_memory_and_zeroes_what_it_must() {
    let mut arena = SyncArena::with_capacity(1 << 16);
    let layout = Layout::from_size_align(3000, 8).unwrap();
    let mut first_start = None;
    for round in 0..3 {
        let local = arena.local();
        let block = (&local).allocate_zeroed(layout).unwrap().cast::<u8>();
        assert_eq!(*first_start.get_or_insert(block), block, "round {round}");
        // SAFETY: a live block of `layout.size()` bytes.
        let bytes = unsafe { std::slice::from_raw_parts_mut(block.as_ptr(), layout.size()) };
        assert!(bytes.iter().all(|&b| b == 0), "round {round}");
        bytes.fill(0xCD);
        // Growing it in place zeroes the added bytes, dirty ones included.
        let bigger = Layout::from_size_align(4000, 8).unwrap();
        // SAFETY: `block` is live for `layout`.
        let grown = unsafe { (&local).grow_zeroed(block, layout, bigger) }.unwrap();
        // SAFETY: a live block of `bigger.size()` bytes.
        let bytes = unsafe { grown.as_ref() };
        assert!(bytes[..3000].iter().all(|&b| b == 0xCD));
        assert!(bytes[3000..].iter().all(|&b| b == 0), "round {round}");
        // Dirty the whole first lease and more for the next round.
        local.alloc_slice_fill_copy(10_000, 0xEEu8);
        drop(local);
        if round == 0 {
            arena.reset();
        } else {
            arena.release();
        }
    }
}

#[test]
fn blocks_from_a_dropped_handle_stay_valid() {
    let arena = SyncArena::with_capacity(1 << 16);
    let kept: Vec<&mut u64> = (0..4u64)
        .map(|i| {
            let local = arena.local();
            local.alloc(i)
        })
        .collect();
    let more = arena.local();
    more.alloc_slice_fill_copy(100, u64::MAX);
    assert_eq!(kept.iter().map(|x| **x).collect::<Vec<_>>(), [0, 1, 2, 3]);
}

#[test]
fn vectors_grow_across_leases_and_past_the_direct_threshold() {
    // Room for every copy a doubling vector leaves behind on 8 threads.
    let arena = SyncArena::with_capacity(64 << 20);
    let n = if cfg!(miri) { 3000 } else { 200_000 };
    std::thread::scope(|s| {
        for t in 0..THREADS as u64 {
            let local = arena.local();
            s.spawn(move || {
                let mut v = AVec::new_in(&local);
                let mut small = AVec::new_in(&local);
                for i in 0..n {
                    v.push(t * 1_000_000 + i);
                    if i % 100 == 0 {
                        small.push(i as u8);
                    }
                }
                assert!(v
                    .iter()
                    .enumerate()
                    .all(|(i, &x)| x == t * 1_000_000 + i as u64));
                assert!(small.iter().enumerate().all(|(k, &x)| x == (k * 100) as u8));
                v.truncate(10);
                v.shrink_to_fit();
                assert_eq!(v[9], t * 1_000_000 + 9);
            });
        }
    });
}

#[test]
fn the_newest_block_frees_and_grows_in_place() {
    let arena = SyncArena::with_capacity(1 << 16);
    let local = arena.local();
    let word = Layout::new::<u64>();
    let a = (&local).allocate(word).unwrap().cast::<u8>();
    let b = (&local).allocate(word).unwrap().cast::<u8>();
    // SAFETY: `a` is live for a u64 and not used again.
    unsafe { (&local).deallocate(a, word) };
    assert_eq!(local.lease_remaining(), 4096 - 16, "an older block stays");
    // SAFETY: `b` is live for a u64; `grown` replaces it.
    let grown = unsafe { (&local).grow(b, word, Layout::new::<[u64; 4]>()) }
        .unwrap()
        .cast::<u8>();
    assert_eq!(grown, b);
    // SAFETY: `grown` is live for [u64; 4] and not used again.
    unsafe { (&local).deallocate(grown, Layout::new::<[u64; 4]>()) };
    assert_eq!(local.lease_remaining(), 4096 - 8);
}

#[test]
fn larger_alignments_are_honoured() {
    let arena = SyncArena::with_capacity(1 << 20);
    let local = arena.local();
    local.alloc(1u8);
    for align in [16, 64, 4096, 1 << 15] {
        let layout = Layout::from_size_align(24, align).unwrap();
        assert_eq!(local.alloc_layout(layout).as_ptr() as usize % align, 0);
    }
}
