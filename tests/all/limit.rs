//! `set_allocation_limit`: a cap below the capacity, without a new
//! mapping, for every bump type; `remaining()` honours it.

use std::alloc::Layout;

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;
use anon_arena::{Arena, Error, SharedArena, StackArena, SyncArena};

use crate::common::{in_child, ChildEnd};

#[test]
fn the_limit_caps_allocation_and_remaining() {
    let mut arena = Arena::with_capacity(1 << 16);
    assert_eq!(arena.allocation_limit(), None);
    arena.set_allocation_limit(Some(1003));
    assert_eq!(arena.allocation_limit(), Some(1003));
    assert_eq!(arena.remaining(), 1000, "rounded down to 8");
    arena.alloc_slice_fill_copy(990, 0u8); // 992 bytes
    assert_eq!(arena.remaining(), 8);
    assert_eq!(
        arena.try_alloc([0u8; 9]),
        Err(Error::Exhausted {
            requested: 16,
            remaining: 8
        })
    );
    arena.alloc(1u8);
    assert_eq!(
        arena.try_alloc(1u8),
        Err(Error::Exhausted {
            requested: 8,
            remaining: 0
        })
    );
    arena.reset();
    assert_eq!(arena.remaining(), 1000, "the limit stays across reset");
    arena.set_allocation_limit(None);
    assert_eq!(arena.remaining(), 1 << 16);
    assert!(arena.try_alloc([0u8; 4096]).is_ok());
}

#[test]
fn a_limit_past_the_capacity_is_the_capacity_and_max_is_none() {
    let arena = Arena::with_capacity(4096);
    arena.set_allocation_limit(Some(1 << 30));
    assert_eq!(arena.allocation_limit(), Some(1 << 30));
    assert_eq!(arena.remaining(), 4096);
    arena.alloc([0u8; 4096]);
    assert!(arena.try_alloc(1u8).is_err());
    arena.set_allocation_limit(Some(usize::MAX));
    assert_eq!(arena.allocation_limit(), None);
}

#[test]
fn a_limit_below_the_top_refuses_until_enough_is_freed() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.alloc([0u8; 4000]);
    arena.set_allocation_limit(Some(1024));
    assert_eq!(arena.remaining(), 0);
    assert_eq!(
        arena.allocated_bytes(),
        4000,
        "nothing handed out is taken back"
    );
    assert!(arena.try_alloc(1u8).is_err());
    assert!(arena
        .try_alloc_layout(Layout::from_size_align(8, 64).unwrap())
        .is_err());
    // Zero-sized requests never fail, aligned or not.
    assert!(arena.try_alloc(()).is_ok());
    assert!(arena
        .try_alloc_layout(Layout::from_size_align(0, 64).unwrap())
        .is_ok());
    assert!((&arena).allocate(Layout::new::<()>()).is_ok());
    arena.reset();
    assert_eq!(arena.remaining(), 1024);
    let mark = arena.mark();
    arena.alloc([0u8; 1024]);
    assert!(arena.try_alloc(1u8).is_err());
    arena.reset_to(mark);
    assert!(arena.try_alloc(1u8).is_ok());
}

#[test]
fn a_vec_grows_in_place_only_up_to_the_limit() {
    let arena = StackArena::with_capacity(1 << 16);
    arena.set_allocation_limit(Some(4096));
    let mut v: Vec<u8, _> = Vec::with_capacity_in(1024, &arena);
    v.resize(1024, 1);
    assert!(v.try_reserve_exact(4096 - 1024).is_ok(), "up to the limit");
    assert_eq!(arena.allocated_bytes(), 4096);
    v.resize(4096, 2);
    assert!(v.try_reserve_exact(1).is_err(), "one byte past it");
    assert_eq!(v.len(), 4096);
    assert!(v[..1024].iter().all(|&b| b == 1) && v[1024..].iter().all(|&b| b == 2));
    v.truncate(8);
    v.shrink_to_fit();
    assert_eq!(
        arena.allocated_bytes(),
        8,
        "shrinking under the limit works"
    );
}

#[test]
fn scopes_count_from_the_start_of_the_arena() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.alloc([0u8; 1000]);
    arena.set_allocation_limit(Some(2000));
    arena.scope(|mut outer| {
        assert_eq!(outer.remaining(), 1000);
        outer.alloc([0u8; 500]);
        outer.scope(|inner| {
            assert!(inner.try_alloc([0u8; 600]).is_err());
            inner.alloc([0u8; 496]);
        });
    });
    assert_eq!(arena.remaining(), 1000);
}

#[test]
fn a_sync_arena_and_its_handles_honour_the_limit() {
    let mut arena = SyncArena::with_capacity(1 << 20);
    arena.set_allocation_limit(Some(10_000));
    assert_eq!(arena.allocation_limit(), Some(10_000));
    assert_eq!(arena.remaining(), 10_000);
    assert!(arena.try_alloc([0u8; 10_008]).is_err());
    arena.alloc([0u8; 1000]);
    {
        let local = arena.local();
        // Leases are claimed under the limit: 4 KiB, then what is left.
        let mut total = 0;
        while local.try_alloc([0u8; 512]).is_ok() {
            total += 512;
        }
        assert_eq!(total, 8704, "1000 + 8704 + the lost tail stay under 10 000");
        assert!(arena.allocated_bytes() <= 10_000);
        assert!(local.try_alloc(()).is_ok(), "zero-sized never fails");
    }
    arena.reset();
    arena.set_allocation_limit(Some(8));
    assert!(arena.try_alloc(1u64).is_ok());
    assert!(arena.try_alloc(1u8).is_err());
    let over = Layout::from_size_align(8, 64).unwrap();
    assert!(arena.try_alloc_layout(over).is_err());
    arena.set_allocation_limit(None);
    assert_eq!(arena.remaining(), (1 << 20) - 8);
}

#[test]
fn a_sync_arena_grows_the_newest_block_only_up_to_the_limit() {
    let arena = SyncArena::with_capacity(1 << 16);
    arena.set_allocation_limit(Some(2048));
    let mut v: Vec<u8, _> = Vec::with_capacity_in(1024, &arena);
    v.resize(1024, 1);
    assert!(v.try_reserve_exact(1024).is_ok());
    assert_eq!(arena.allocated_bytes(), 2048, "grown in place");
    assert!(v.try_reserve_exact(1025).is_err());
    assert!(v.iter().all(|&b| b == 1));
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork")]
fn a_shared_arena_limit_holds_for_every_process() {
    let arena = SharedArena::with_capacity(1 << 16).unwrap();
    let end = in_child(|| {
        arena.set_allocation_limit(Some(64));
        arena.alloc([0u64; 8]);
        0
    });
    assert_eq!(end, ChildEnd::Exited(0));
    assert_eq!(arena.allocation_limit(), Some(64), "set by the child");
    assert!(arena.try_alloc(1u8).is_err());
    let stats = arena.stats();
    assert_eq!(
        (stats.allocated, stats.remaining, stats.high_water),
        (64, 0, 64)
    );
    arena.set_allocation_limit(None);
    assert!(arena.try_alloc(1u8).is_ok());
}
