//! `stats()`: allocated, remaining, limit, capacity, high-water mark and
//! bytes released, for every type that has it, and their `Display`.

use allocator_api2::boxed::Box;
use allocator_api2::vec::Vec;
use anon_arena::{Arena, Pool, RegionCache, StackArena, SyncArena};

/// An arena on a new mapping: one taken from the process-wide cache may
/// come with another test's written bytes, which `release` hands back too.
fn fresh_arena(bytes: usize) -> Arena {
    Arena::builder()
        .capacity(bytes)
        .recycle(false)
        .build()
        .unwrap()
}

#[test]
fn the_high_water_mark_survives_frees_resets_and_releases() {
    let mut arena = fresh_arena(1 << 20);
    let mut v: Vec<u8, _> = Vec::new_in(&arena);
    v.extend_from_slice(&[1; 30_000]);
    drop(v); // the newest block pops: allocated falls to 0
    let stats = arena.stats();
    assert_eq!((stats.allocated, stats.high_water), (0, 30_000));
    arena.alloc([0u8; 100]);
    arena.reset();
    arena.alloc_slice_fill_copy(40_000, 0u8);
    assert_eq!(arena.stats().high_water, 40_000, "the current top counts");
    arena.release();
    arena.alloc(1u64);
    let stats = arena.stats();
    assert_eq!((stats.allocated, stats.high_water), (8, 40_000));
    assert_eq!(stats.released, 40_960, "ten pages");
    arena.alloc_slice_fill_copy(5000, 0u8);
    arena.release();
    assert_eq!(arena.stats().released, 40_960 + 8192, "summed");
}

#[test]
fn a_reused_mapping_starts_with_a_clean_high_water_mark() {
    let cache = RegionCache::new();
    let first = Arena::builder().capacity(1 << 20).build_in(&cache).unwrap();
    first.alloc_slice_fill_copy(100_000, 0xAAu8);
    first.recycle_into(&cache);
    let second = Arena::builder().capacity(1 << 20).build_in(&cache).unwrap();
    assert_eq!(cache.len(), 0, "the mapping was reused");
    let stats = second.stats();
    assert_eq!(
        (stats.allocated, stats.high_water, stats.released),
        (0, 0, 0)
    );
}

#[test]
fn every_bump_type_reports_its_numbers() {
    let mut stack = StackArena::with_capacity(1 << 16);
    stack.set_allocation_limit(Some(1 << 12));
    stack.scope(|mut scope| {
        scope.alloc([0u8; 1000]);
        scope.scope(|inner| {
            inner.alloc([0u8; 2000]);
        });
    });
    let stats = stack.stats();
    assert_eq!(
        (
            stats.allocated,
            stats.remaining,
            stats.limit,
            stats.capacity,
            stats.high_water
        ),
        (0, 4096, Some(4096), 1 << 16, 3000)
    );

    let sync = SyncArena::with_capacity(1 << 16);
    {
        let local = sync.local();
        local.alloc(1u8);
    }
    assert_eq!(
        sync.stats().allocated,
        8,
        "the handle gave its lease's tail back"
    );
    let big = Box::new_in([0u8; 10_000], &sync);
    drop(big); // the newest block of this thread's lease: back in the lease
    let stats = sync.stats();
    assert_eq!(sync.lease_remaining(), 10_000);
    assert_eq!(stats.allocated, 10_008, "the arena counts the lease");
    assert_eq!(stats.high_water, 10_008);
    assert_eq!((stats.limit, stats.capacity), (None, 1 << 16));
}

#[test]
fn display_is_one_line_with_every_number() {
    let mut arena = fresh_arena(1 << 16);
    arena.alloc_slice_fill_copy(10_000, 0u8);
    arena.release();
    arena.alloc([0u8; 24]);
    assert_eq!(
        arena.stats().to_string(),
        "24 bytes allocated, 65512 remaining, capacity 65536, high-water mark 10000, \
         12288 released"
    );
    arena.set_allocation_limit(Some(100));
    assert_eq!(
        arena.stats().to_string(),
        "24 bytes allocated, 72 remaining (limit 100), capacity 65536, \
         high-water mark 10000, 12288 released"
    );
}

#[test]
fn a_pool_counts_slots() {
    let pool = Pool::<[u64; 3]>::with_capacity(50);
    let boxes: std::vec::Vec<_> = (0..7).map(|i| pool.alloc([i; 3])).collect();
    drop(boxes);
    let kept = pool.alloc([9; 3]);
    let stats = pool.stats();
    assert_eq!(
        (stats.live, stats.capacity, stats.touched, stats.slot_size),
        (1, 50, 7, 24)
    );
    assert_eq!(
        stats.to_string(),
        "1 of 50 slots live (24 bytes each), 7 touched"
    );
    drop(kept);
    let zst = Pool::<()>::with_capacity(0);
    let _unit = zst.alloc(());
    assert_eq!(zst.stats().live, 1);
    assert_eq!(zst.stats().touched, 0);
}
