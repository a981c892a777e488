//! `Scope`: the handle `StackArena::scope` lends its closure. It allocates
//! for the whole scope, opens nested scopes, and is an `Allocator`; what an
//! outer scope allocated stays usable across the inner ones.

use std::panic::{catch_unwind, AssertUnwindSafe};

use allocator_api2::boxed::Box;
use allocator_api2::vec::Vec;
use anon_arena::{Exhausted, Scope, StackArena};

use crate::common::panic_message;

#[test]
fn outer_allocations_survive_inner_scopes_and_inner_ones_are_freed() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.alloc(0xAAu64);
    arena.scope(|mut outer| {
        let kept = outer.alloc_slice_fill_copy(4, 1u64);
        let label = outer.alloc_str("outer");
        let height = outer.allocated_bytes();
        for round in 0..3u64 {
            let sum = outer.scope(|mut inner| {
                let scratch = inner.alloc_slice_fill_with(100, |i| i as u64 + round);
                let deeper = inner.scope(|deepest| *deepest.alloc(scratch[99]));
                assert_eq!(inner.allocated_bytes(), height + 800);
                scratch.iter().sum::<u64>() + deeper
            });
            assert_eq!(outer.allocated_bytes(), height, "round {round} freed");
            kept[round as usize] = sum;
        }
        assert_eq!(&kept[..3], &[5049, 5150, 5251]);
        assert_eq!(&*label, "outer");
    });
    assert_eq!(arena.allocated_bytes(), 8);
}

#[test]
fn an_inner_scope_reuses_the_same_space_each_time() {
    let mut arena = StackArena::with_capacity(1 << 16);
    let mut scope = arena.as_scope();
    scope.alloc(1u8);
    let first = scope.scope(|inner| inner.alloc(0u64) as *mut u64 as usize);
    let second = scope.scope(|inner| inner.alloc(0u64) as *mut u64 as usize);
    assert_eq!(first, second);
}

#[test]
fn a_scope_is_an_allocator_whose_collections_pop() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.scope(|mut outer| {
        let before = outer.allocated_bytes();
        let mut v: Vec<u32, _> = Vec::with_capacity_in(1, &outer);
        let start = v.as_ptr();
        v.extend(0..1000);
        assert_eq!(v.as_ptr(), start, "grown in place at the top");
        drop(v);
        assert_eq!(outer.allocated_bytes(), before, "popped");
        let boxed = Box::new_in(5u64, &outer);
        assert_eq!(*boxed, 5);
        drop(boxed);
        let map = outer.scope(|inner| {
            let mut map = hashbrown::HashMap::new_in(&inner);
            map.extend((0..100).map(|i| (i, i * 2)));
            map.values().sum::<i32>()
        });
        assert_eq!(map, 9900);
    });
}

#[test]
fn a_panic_in_a_nested_scope_closes_it_and_keeps_the_outer_one() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.scope(|mut outer| {
        let kept = outer.alloc(41u64);
        let height = outer.allocated_bytes();
        let caught = catch_unwind(AssertUnwindSafe(|| {
            outer.scope(|inner| {
                inner.alloc([0u8; 1000]);
                panic!("inner failed");
            })
        }));
        assert_eq!(panic_message(caught.unwrap_err()), "inner failed");
        assert_eq!(outer.allocated_bytes(), height);
        *kept += 1;
        // The floor came back: the outer scope's newest block pops again.
        let popped = Box::new_in(0u64, &outer);
        drop(popped);
        assert_eq!(outer.allocated_bytes(), height);
        assert_eq!(*kept, 42);
    });
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn a_scope_cannot_pop_what_its_parent_allocated() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.scope(|mut outer| {
        let parent: Box<[u64; 4], &Scope<'_>> = Box::new_in([7; 4], &outer);
        let (raw, _) = Box::into_raw_with_allocator(parent);
        let height = outer.allocated_bytes();
        outer.scope(|inner| {
            // SAFETY: the parent's block, handed to the inner scope's
            // allocator: its free must be a no-op (the block is below the
            // inner scope's floor), and it is not used afterwards.
            drop(unsafe { Box::from_raw_in(raw, &inner) });
            assert_eq!(inner.allocated_bytes(), height, "not popped");
            let child = inner.alloc([9u64; 4]);
            assert_eq!(child.as_ptr() as usize, raw as usize + 32);
        });
    });
}

#[test]
fn guards_and_scopes_mix() {
    let mut arena = StackArena::with_capacity(1 << 16);
    let mut guard = arena.scope_guard();
    let in_guard = guard.alloc(1u64) as *mut u64;
    let n = guard.scope(|mut scope| {
        let a = scope.alloc(2u64);
        scope.scope(|inner| *inner.alloc(3u64)) + *a
    });
    assert_eq!(n, 5);
    let mut v: Vec<u8, _> = Vec::new_in(&guard);
    v.push(1);
    assert_eq!(guard.allocated_bytes(), 16);
    drop(v);
    let mut handle = guard.as_scope();
    let x = handle.alloc(4u64);
    handle.scope(|inner| *x += *inner.alloc(1u64));
    assert_eq!(*x, 5);
    // SAFETY: allocated in the guard's scope, which is still open.
    assert_eq!(unsafe { *in_guard }, 1);
    drop(guard);
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn a_scope_under_panic_policy_unwinds_from_its_collections() {
    let mut arena = StackArena::builder()
        .capacity(4096)
        .on_exhausted(Exhausted::Panic)
        .build()
        .unwrap();
    arena.scope(|mut outer| {
        let kept = outer.alloc_str("kept");
        let caught = catch_unwind(AssertUnwindSafe(|| {
            outer.scope(|inner| {
                let mut v: Vec<u64, _> = Vec::new_in(&inner);
                v.extend(0..10_000);
            })
        }));
        let message = panic_message(caught.unwrap_err());
        assert!(message.starts_with("Scope: cannot allocate"), "{message}");
        assert_eq!(&*kept, "kept");
        assert_eq!(outer.allocated_bytes(), 8);
    });
}
