//! `TryVec`: growing allocator-api2's `Vec` with an `Error` that has the
//! numbers, for this crate's allocators and for others.

use std::alloc::Layout;
use std::cell::Cell;
use std::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator, Global};
use allocator_api2::vec::Vec;
use anon_arena::{
    Arena, Error, PageAllocator, Pool, ReportsRemaining, StackArena, SyncArena, TryVec,
};

#[test]
fn a_full_arena_is_an_error_with_the_numbers_and_the_vec_is_unchanged() {
    let arena = Arena::with_capacity(4096);
    arena.alloc([0u8; 96]);
    let mut v: Vec<u32, _> = Vec::new_in(&arena);
    let mut pushed = 0;
    let err = loop {
        match v.try_push(pushed) {
            Ok(()) => pushed += 1,
            Err(err) => break err,
        }
    };
    // The Vec doubles from 4 elements: 16, 32, .., 2048 bytes, all newest
    // and grown in place; 4000 bytes were free, 4096 are asked for.
    assert_eq!(
        err,
        Error::Exhausted {
            requested: 4096,
            remaining: 4000 - 2048
        }
    );
    assert_eq!((v.len(), pushed), (512, 512));
    assert!(v.iter().copied().eq(0..512));
    assert_eq!(
        v.try_extend_from_slice(&[0; 1000]),
        Err(Error::Exhausted {
            requested: 6048,
            remaining: 1952
        })
    );
    assert_eq!(
        v.try_insert(3, 7),
        Err(Error::Exhausted {
            requested: 4096,
            remaining: 1952
        })
    );
    assert_eq!(v.len(), 512, "unchanged by the failures");
    v.truncate(10);
    v.try_insert(0, 99).unwrap();
    v.try_extend_from_slice(&[5, 6]).unwrap();
    assert_eq!(v, [99, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 5, 6]);
}

#[test]
fn the_limit_counts_as_the_end() {
    let arena = Arena::with_capacity(1 << 20);
    arena.set_allocation_limit(Some(1024));
    let mut v: Vec<u8, _> = Vec::new_in(&arena);
    assert_eq!(
        v.try_extend_from_slice(&[0; 2000]),
        Err(Error::Exhausted {
            requested: 2000,
            remaining: 1024
        })
    );
}

#[test]
fn every_allocator_of_the_crate_reports_what_it_had_left() {
    let mut stack = StackArena::with_capacity(4096);
    let mut v: Vec<u8, _> = Vec::new_in(&stack);
    assert!(matches!(
        v.try_extend_from_slice(&[0; 5000]),
        Err(Error::Exhausted {
            requested: 5000,
            remaining: 4096
        })
    ));
    drop(v);
    stack.scope(|scope| {
        scope.alloc(1u64);
        let mut v: Vec<u8, _> = Vec::new_in(&scope);
        assert!(matches!(
            v.try_extend_from_slice(&[0; 5000]),
            Err(Error::Exhausted {
                requested: 5000,
                remaining: 4088
            })
        ));
    });
    let guard = stack.scope_guard();
    let mut v: Vec<u8, _> = Vec::new_in(&guard);
    assert!(v.try_push(1).is_ok());
    drop(v);
    drop(guard);

    let sync = SyncArena::with_capacity(4096);
    let mut v: Vec<u8, _> = Vec::new_in(&sync);
    assert!(matches!(
        v.try_extend_from_slice(&[0; 5000]),
        Err(Error::Exhausted {
            requested: 5000,
            remaining: 4096
        })
    ));
    let local = sync.local();
    let mut v: Vec<u8, _> = Vec::new_in(&local);
    assert!(matches!(
        v.try_extend_from_slice(&[0; 5000]),
        Err(Error::Exhausted {
            requested: 5000,
            remaining: 4096
        })
    ));

    let pool = Pool::<[u8; 16]>::with_capacity(2);
    let mut v: Vec<u8, _> = Vec::new_in(&pool);
    v.try_extend_from_slice(&[1; 16]).unwrap();
    assert_eq!(
        v.try_push(2),
        Err(Error::Exhausted {
            requested: 32,
            remaining: 16
        }),
        "larger than a slot; one slot is free"
    );
    let _other = Vec::<u8, _>::with_capacity_in(16, &pool);
    assert_eq!((&pool).remaining_bytes(), Some(0), "every slot is live");
}

/// An allocator from another crate: refuses everything past `budget`.
struct Budget(Cell<usize>);

// SAFETY: blocks come from `Global` and go back to it.
unsafe impl Allocator for &Budget {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let left = self.0.get().checked_sub(layout.size()).ok_or(AllocError)?;
        self.0.set(left);
        Global.allocate(layout)
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        self.0.set(self.0.get() + layout.size());
        // SAFETY: forwarded: `ptr` came from `Global` for `layout`.
        unsafe { Global.deallocate(ptr, layout) }
    }
}

impl ReportsRemaining for &Budget {}

#[test]
fn an_allocator_that_does_not_say_gives_alloc_failed() {
    let budget = Budget(Cell::new(100));
    let mut v: Vec<u8, _> = Vec::new_in(&budget);
    v.try_extend_from_slice(&[1; 60]).unwrap();
    assert_eq!(
        v.try_extend_from_slice(&[2; 60]),
        Err(Error::AllocFailed { requested: 120 })
    );
    assert_eq!(
        Error::AllocFailed { requested: 120 }.to_string(),
        "allocation of 120 bytes failed"
    );
    assert_eq!(v.len(), 60);
}

#[test]
fn an_impossible_length_is_layout_overflow() {
    let arena = Arena::with_capacity(4096);
    let mut units: Vec<(), _> = Vec::new_in(&arena);
    // SAFETY: `()` takes no memory and needs no initialisation.
    unsafe { units.set_len(usize::MAX) };
    assert_eq!(units.try_push(()), Err(Error::LayoutOverflow));
    assert_eq!(
        units.try_extend_from_slice(&[()]),
        Err(Error::LayoutOverflow)
    );
    assert_eq!(units.try_insert(0, ()), Err(Error::LayoutOverflow));
    // SAFETY: as above.
    unsafe { units.set_len(0) };
}

#[test]
fn the_heap_and_the_page_allocator_say_nothing_but_work() {
    assert_eq!(PageAllocator.remaining_bytes(), None);
    assert_eq!(Global.remaining_bytes(), None);
    let mut pages: Vec<u64, _> = Vec::new_in(PageAllocator);
    pages.try_extend_from_slice(&[1; 1000]).unwrap();
    let mut heap: Vec<u64, Global> = Vec::new_in(Global);
    heap.try_push(1).unwrap();
    assert_eq!((pages.len(), heap.len()), (1000, 1));
}
