//! `SyncArena` shared by many threads: disjoint blocks, intact values,
//! exhaustion under contention, and the `Allocator` impl.

use std::alloc::Layout;

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec as AVec;
use anon_arena::{Backing, Error, SyncArena};

use crate::common::{assert_disjoint, join_disjoint};

/// Threads and allocations per thread: the 8 × 50k natively, a
/// token run under Miri.
const THREADS: usize = if cfg!(miri) { 3 } else { 8 };
const PER_THREAD: usize = if cfg!(miri) { 40 } else { 50_000 };

/// A value whose every word says who made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    thread: u32,
    index: u32,
    check: u64,
}

impl Stamp {
    fn new(thread: usize, index: usize) -> Stamp {
        let (thread, index) = (thread as u32, index as u32);
        Stamp {
            thread,
            index,
            check: u64::from(thread) << 32 | u64::from(index) ^ 0x5A5A_5A5A,
        }
    }
}

#[test]
fn eight_threads_get_disjoint_blocks_and_keep_their_values() {
    let arena = SyncArena::with_capacity(THREADS * PER_THREAD * 48);
    let spans = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let arena = &arena;
                s.spawn(move || {
                    let mut stamps = Vec::with_capacity(PER_THREAD);
                    let mut words = Vec::new();
                    for i in 0..PER_THREAD {
                        // Mixed sizes: a 16-byte stamp, and every third time
                        // a slice of 1..=3 words as well.
                        stamps.push(arena.alloc(Stamp::new(t, i)));
                        if i % 3 == 0 {
                            words.push(arena.alloc_slice_fill_copy(1 + i % 4, (t * i) as u64));
                        }
                    }
                    for (i, stamp) in stamps.iter().enumerate() {
                        assert_eq!(**stamp, Stamp::new(t, i), "value changed");
                    }
                    let mut spans: Vec<(usize, usize)> = stamps
                        .iter()
                        .map(|s| (&**s as *const Stamp as usize, size_of::<Stamp>()))
                        .collect();
                    for (k, w) in words.iter().enumerate() {
                        let i = 3 * k;
                        assert!(w.iter().all(|&x| x == (t * i) as u64), "slice changed");
                        spans.push((w.as_ptr() as usize, w.len() * 8));
                    }
                    spans
                })
            })
            .collect();
        join_disjoint(workers)
    });
    let bytes: usize = spans.iter().map(|&(_, len)| len).sum();
    // No padding for 8-byte sizes; with `std`, each thread's last lease
    // and the tails of leases others claimed after are counted too.
    assert!(
        (bytes..=arena.capacity()).contains(&arena.allocated_bytes()),
        "{bytes} handed out, {} allocated",
        arena.allocated_bytes()
    );
}

#[test]
fn contention_at_the_end_never_overlaps_or_overshoots() {
    let arena = SyncArena::with_capacity(if cfg!(miri) { 4096 } else { 1 << 16 });
    let mut spans: Vec<(usize, usize)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let arena = &arena;
                s.spawn(move || {
                    // Sizes 8..=64 so that the last requests do not all fit.
                    let mut spans = Vec::new();
                    let mut n = 0;
                    loop {
                        let size = 8 * (1 + (t + n) % 8);
                        let layout = Layout::from_size_align(size, 8).unwrap();
                        match arena.try_alloc_layout(layout) {
                            Ok(block) => spans.push((block.as_ptr() as usize, size)),
                            Err(Error::Exhausted { .. }) if size == 8 => break,
                            Err(Error::Exhausted { .. }) => {}
                            Err(other) => panic!("{other}"),
                        }
                        n += 1;
                    }
                    assert_eq!(arena.lease_remaining(), 0, "refused with room in the lease");
                    spans
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_disjoint(&mut spans);
    let granted: usize = spans.iter().map(|&(_, size)| size).sum();
    // With `std`, lease tails lost to later claims count as allocated.
    assert!((granted..=arena.capacity()).contains(&arena.allocated_bytes()));
    assert_eq!(arena.remaining(), 0, "8-byte requests fill the last gap");
}

#[test]
fn vectors_on_many_threads_grow_without_losing_elements() {
    let arena = SyncArena::with_capacity(16 << 20);
    let n = if cfg!(miri) { 50 } else { 20_000 };
    std::thread::scope(|s| {
        for t in 0..THREADS as u64 {
            let arena = &arena;
            s.spawn(move || {
                let mut v = AVec::new_in(arena);
                for i in 0..n {
                    v.push(t * 1_000_000 + i);
                }
                assert!(v
                    .iter()
                    .enumerate()
                    .all(|(i, &x)| x == t * 1_000_000 + i as u64));
            });
        }
    });
}

#[test]
fn the_newest_block_frees_and_grows_in_place_and_older_frees_are_no_ops() {
    let arena = SyncArena::with_capacity(1 << 16);
    // Bytes this thread has taken: its lease's unused rest is not counted.
    let used = || arena.allocated_bytes() - arena.lease_remaining();
    let a = (&arena)
        .allocate(Layout::new::<u64>())
        .unwrap()
        .cast::<u8>();
    let b = (&arena)
        .allocate(Layout::new::<u64>())
        .unwrap()
        .cast::<u8>();
    // SAFETY: `a` is live for a u64 and not used again.
    unsafe { (&arena).deallocate(a, Layout::new::<u64>()) };
    assert_eq!(used(), 16, "an older block stays");
    // SAFETY: `b` is live for a u64; `grown` replaces it.
    let grown = unsafe { (&arena).grow(b, Layout::new::<u64>(), Layout::new::<[u64; 4]>()) }
        .unwrap()
        .cast::<u8>();
    assert_eq!(grown, b);
    assert_eq!(used(), 40);
    // SAFETY: `grown` is live for [u64; 4]; `shrunk` replaces it.
    let shrunk = unsafe { (&arena).shrink(grown, Layout::new::<[u64; 4]>(), Layout::new::<u64>()) }
        .unwrap()
        .cast::<u8>();
    assert_eq!((shrunk, used()), (b, 16));
    // SAFETY: `shrunk` is live for a u64 and not used again.
    unsafe { (&arena).deallocate(shrunk, Layout::new::<u64>()) };
    assert_eq!(used(), 8);
}

#[test]
fn zeroed_allocations_read_zero_after_reset_and_release() {
    let mut arena = SyncArena::with_capacity(1 << 16);
    let layout = Layout::from_size_align(4000, 8).unwrap();
    for round in 0..3 {
        let block = (&arena).allocate_zeroed(layout).unwrap();
        // SAFETY: a live block of `layout.size()` bytes.
        let bytes = unsafe { block.as_ref() };
        assert!(bytes.iter().all(|&b| b == 0), "round {round}");
        // SAFETY: as above; dirtied for the next round.
        unsafe { block.cast::<u8>().as_ptr().write_bytes(0xCD, layout.size()) };
        if round == 0 {
            arena.reset();
        } else {
            arena.release();
        }
    }
}

#[test]
fn reset_reuses_the_same_start() {
    let mut arena = SyncArena::with_capacity(4096);
    let first = arena.alloc(1u32) as *mut u32;
    arena.alloc_str("more");
    arena.reset();
    assert_eq!(arena.allocated_bytes(), 0);
    assert_eq!(arena.alloc(2u32) as *mut u32, first);
}

#[test]
fn larger_alignments_are_honoured() {
    let arena = SyncArena::with_capacity(1 << 16);
    arena.alloc(1u8);
    for align in [16, 64, 4096] {
        let layout = Layout::from_size_align(24, align).unwrap();
        assert_eq!(arena.alloc_layout(layout).as_ptr() as usize % align, 0);
    }
}

#[test]
fn builder_and_errors() {
    let arena = SyncArena::builder()
        .capacity(8192)
        .backing(Backing::DevZero)
        .build()
        .unwrap();
    assert_eq!(arena.capacity(), 8192);
    assert!(matches!(
        arena.try_alloc([0u8; 10_000]),
        Err(Error::Exhausted {
            requested: 10_000,
            remaining: 8192
        })
    ));
    assert!(SyncArena::try_with_capacity(usize::MAX).is_err());
    let message = std::panic::catch_unwind(|| SyncArena::with_capacity(usize::MAX))
        .unwrap_err()
        .downcast::<String>()
        .unwrap();
    assert!(
        message.starts_with("SyncArena::with_capacity("),
        "{message}"
    );
}
