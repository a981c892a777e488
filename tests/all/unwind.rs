//! `Arena`, `StackArena` and `SyncArena` are `UnwindSafe` and
//! `RefUnwindSafe`: `catch_unwind` takes closures that borrow them without
//! `AssertUnwindSafe`, and an arena seen after a caught panic is whole.

use std::panic::{catch_unwind, RefUnwindSafe, UnwindSafe};

use anon_arena::{Arena, LocalArena, Pool, StackArena, SyncArena};

use crate::common::panic_message;

fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

#[test]
fn the_arenas_and_references_to_them_are_unwind_safe() {
    unwind_safe::<Arena>();
    unwind_safe::<StackArena>();
    unwind_safe::<SyncArena>();
    unwind_safe::<&Arena>();
    unwind_safe::<&StackArena>();
    unwind_safe::<&SyncArena>();
    unwind_safe::<LocalArena<'static>>();
    unwind_safe::<Pool<u64>>();
    unwind_safe::<&Pool<String>>();
}

#[test]
fn a_panicking_initialiser_leaves_an_arena_usable() {
    let mut arena = Arena::with_capacity(1 << 16);
    arena.alloc(1u64);
    let caught = catch_unwind(|| {
        arena.alloc_slice_fill_with(100, |i| {
            assert!(i < 50, "element {i} refused");
            i as u64
        })
    });
    assert_eq!(panic_message(caught.unwrap_err()), "element 50 refused");
    let before = arena.allocated_bytes();
    assert!(
        before == 8 || before == 808,
        "the block was kept or given back"
    );
    assert!(arena.allocated_bytes() + arena.remaining() <= arena.capacity());
    let after = arena.alloc_slice_fill_copy(10, 7u16);
    assert_eq!(after, &[7; 10]);
    let full = catch_unwind(|| arena.alloc_slice_fill_copy(1 << 20, 0u8).len());
    assert!(panic_message(full.unwrap_err()).starts_with("Arena: cannot allocate"));
    arena.reset();
    assert_eq!(arena.allocated_bytes(), 0);
    assert_eq!(*arena.alloc(3u8), 3);
}

#[test]
fn a_panic_in_a_scope_or_on_another_thread_leaves_the_arena_whole() {
    let mut stack = StackArena::with_capacity(1 << 16);
    stack.alloc(1u64);
    let caught = catch_unwind(std::panic::AssertUnwindSafe(|| {
        stack.scope(|mut outer| {
            outer.alloc([0u8; 100]);
            outer.scope(|inner| {
                inner.alloc_slice_fill_with(10, |i| -> u8 { panic!("at {i}") });
            });
        })
    }));
    assert_eq!(panic_message(caught.unwrap_err()), "at 0");
    assert_eq!(
        stack.allocated_bytes(),
        8,
        "both scopes closed on the way out"
    );
    assert!(catch_unwind(|| stack.alloc_with(|| -> u64 { panic!("in alloc_with") })).is_err());
    stack.reset();
    assert_eq!(stack.stats().allocated, 0);

    let sync = SyncArena::with_capacity(1 << 16);
    let result = std::thread::scope(|s| {
        s.spawn(|| sync.alloc_slice_fill_with(10, |_| -> u8 { panic!("worker") }))
            .join()
    });
    assert!(result.is_err());
    let caught = catch_unwind(|| sync.alloc_with(|| -> u32 { panic!("here") }));
    assert!(caught.is_err());
    assert_eq!(*sync.alloc(5u32), 5);
    assert!(sync.allocated_bytes() + sync.remaining() <= sync.capacity());
}
