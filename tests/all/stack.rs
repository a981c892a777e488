//! `StackArena`: last-in-first-out freeing, marks, scopes and guards, used
//! through the public API only.

use std::alloc::Layout;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use allocator_api2::alloc::Allocator;
use allocator_api2::boxed::Box;
use allocator_api2::vec::Vec;
use anon_arena::{Error, StackArena};

use crate::common::panic_message;

#[test]
fn a_vec_at_the_top_keeps_its_buffer_for_a_million_pushes() {
    let pushes: u32 = if cfg!(miri) { 20_000 } else { 1_000_000 };
    let arena = StackArena::with_capacity(64 << 20);
    let mut v: Vec<u32, &StackArena> = Vec::with_capacity_in(1, &arena);
    v.push(0);
    let first = v.as_ptr();
    for i in 1..pushes {
        v.push(i);
        assert_eq!(v.as_ptr(), first, "moved at push {i}");
    }
    assert!(v.iter().enumerate().all(|(i, &x)| x == i as u32));
    assert_eq!(arena.allocated_bytes(), v.capacity() * 4);
    drop(v);
    assert_eq!(
        arena.allocated_bytes(),
        0,
        "dropping the newest vector pops it"
    );
}

#[test]
fn a_vec_built_and_dropped_in_a_scope_leaves_the_arena_as_it_found_it() {
    let mut arena = StackArena::with_capacity(1 << 20);
    let header = arena.alloc(0xABCD_u64) as *mut u64;
    let before = arena.allocated_bytes();
    let next_before = arena.mark();
    let sum = arena.scope(|scope| {
        let mut v: Vec<u64, _> = Vec::new_in(&scope);
        v.extend(0..10_000);
        v.shrink_to_fit();
        v.iter().sum::<u64>()
    });
    assert_eq!(sum, 49_995_000);
    assert_eq!(arena.allocated_bytes(), before);
    assert_eq!(arena.mark(), next_before);
    // SAFETY: `header` was allocated before the scope and is still live.
    assert_eq!(unsafe { *header }, 0xABCD);
}

#[test]
fn a_scope_frees_on_return_and_on_panic() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.alloc(1u64);
    arena.scope(|scope| {
        scope.alloc_slice_fill_copy(100, 3u32);
    });
    assert_eq!(arena.allocated_bytes(), 8);

    let unwound = catch_unwind(AssertUnwindSafe(|| {
        arena.scope(|scope| {
            scope.alloc_slice_fill_copy(100, 3u32);
            panic!("in the scope");
        })
    }));
    assert_eq!(panic_message(unwound.unwrap_err()), "in the scope");
    assert_eq!(arena.allocated_bytes(), 8);
    // The floor came back down too: the block below the scope pops again.
    let popped = Box::new_in(5u64, &arena);
    assert_eq!(arena.allocated_bytes(), 16);
    drop(popped);
    assert_eq!(arena.allocated_bytes(), 8);
}

#[test]
fn a_guard_frees_on_drop_and_on_panic() {
    let mut arena = StackArena::with_capacity(1 << 16);
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        let scope = arena.scope_guard();
        scope.alloc([0u8; 100]);
        panic!("with a guard open");
    }));
    assert!(unwound.is_err());
    assert_eq!(arena.allocated_bytes(), 0);
    let mark = arena.mark();
    arena.alloc(1u8);
    arena.reset_to(mark); // the floor is back at the start
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn scopes_nest() {
    let mut arena = StackArena::with_capacity(1 << 16);
    let outer_value = arena.alloc(1u64) as *mut u64;
    arena.scope(|_| ());
    let mut level1 = arena.scope_guard();
    let one = level1.alloc(10u64) as *mut u64;
    let heights = level1.scope(|level2| {
        let two = level2.alloc_slice_fill_copy(3, 20u64);
        assert_eq!(two.as_ptr() as usize, one as usize + 8);
        let inner = level2.allocated_bytes();
        let mut v = Vec::new_in(&level2);
        v.extend([30u64; 5]);
        (inner, level2.allocated_bytes())
    });
    assert_eq!(heights, (40, 80));
    assert_eq!(level1.allocated_bytes(), 16);
    {
        let mut level2 = level1.scope_guard();
        level2.alloc(99u64);
        let level3 = level2.scope_guard();
        level3.alloc([0u8; 64]);
        assert_eq!(level3.allocated_bytes(), 88);
    }
    assert_eq!(level1.allocated_bytes(), 16);
    // SAFETY: both blocks were allocated outside the inner scopes and live.
    unsafe { assert_eq!((*outer_value, *one), (1, 10)) };
    drop(level1);
    assert_eq!(arena.allocated_bytes(), 8);
}

#[test]
fn reset_to_rewinds_in_last_in_first_out_order() {
    let mut arena = StackArena::with_capacity(4096);
    let m0 = arena.mark();
    arena.alloc(1u64);
    let m1 = arena.mark();
    let at_m1 = arena.alloc([2u64; 2]) as *mut [u64; 2] as usize;
    let m2 = arena.mark();
    arena.alloc([3u64; 3]);
    assert_eq!(arena.allocated_bytes(), 48);
    arena.reset_to(m2);
    assert_eq!(arena.allocated_bytes(), m2.allocated_bytes());
    arena.reset_to(m2); // the top itself is a valid mark
    arena.reset_to(m1);
    assert_eq!(arena.allocated_bytes(), 8);
    assert_eq!(arena.alloc(0u8) as *mut u8 as usize, at_m1, "space reused");
    arena.reset_to(m0);
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn a_mark_from_another_arena_is_refused() {
    let mut arena = StackArena::with_capacity(4096);
    let other = StackArena::with_capacity(4096);
    other.alloc(1u64);
    assert_eq!(arena.try_reset_to(other.mark()), Err(Error::ForeignMark));
    // Even a foreign mark whose offset would be in range.
    let empty_other = StackArena::with_capacity(4096);
    assert_eq!(
        arena.try_reset_to(empty_other.mark()),
        Err(Error::ForeignMark)
    );
    let refused = catch_unwind(AssertUnwindSafe(|| arena.reset_to(other.mark()))).unwrap_err();
    assert_eq!(
        panic_message(refused),
        "StackArena::reset_to: mark refused: the mark was taken from a different StackArena"
    );
}

#[test]
fn a_mark_above_the_top_is_refused() {
    let mut arena = StackArena::with_capacity(4096);
    let low = arena.mark();
    arena.alloc([0u8; 40]);
    let high = arena.mark();
    arena.reset_to(low);
    assert_eq!(
        arena.try_reset_to(high),
        Err(Error::MarkOutOfRange {
            mark: 40,
            floor: 0,
            top: 0
        })
    );
    let popped = arena.mark();
    drop(Box::new_in(1u64, &arena));
    assert_eq!(arena.try_reset_to(popped), Ok(()));
    let boxed = Box::new_in(1u64, &arena);
    let above_box = arena.mark();
    drop(boxed);
    assert!(matches!(
        arena.try_reset_to(above_box),
        Err(Error::MarkOutOfRange {
            mark: 8,
            top: 0,
            ..
        })
    ));
    let refused = catch_unwind(AssertUnwindSafe(|| arena.reset_to(high))).unwrap_err();
    assert_eq!(
        panic_message(refused),
        "StackArena::reset_to: mark refused: stale mark at byte 40: \
         the stack top is at byte 0, the mark's space was freed"
    );
    assert_eq!(arena.allocated_bytes(), 0, "a refused mark changes nothing");
}

#[test]
fn a_mark_from_before_a_scope_is_refused_inside_it() {
    let mut arena = StackArena::with_capacity(4096);
    let before = arena.mark();
    arena.alloc(1u64);
    let mut scope = arena.scope_guard();
    scope.alloc(2u64);
    assert_eq!(
        scope.try_reset_to(before),
        Err(Error::MarkOutOfRange {
            mark: 0,
            floor: 8,
            top: 16
        })
    );
    let refused = catch_unwind(AssertUnwindSafe(|| scope.reset_to(before))).unwrap_err();
    assert_eq!(
        panic_message(refused),
        "StackArena::reset_to: mark refused: mark at byte 0 lies below the open scope's start at byte 8"
    );
    assert_eq!(scope.allocated_bytes(), 16);
    drop(scope);
    arena.reset_to(before);
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn a_forgotten_guard_leaks_its_scope_until_reset() {
    let mut arena = StackArena::with_capacity(4096);
    let start = arena.mark();
    arena.alloc(1u64);
    let guard = arena.scope_guard();
    guard.alloc(2u64);
    std::mem::forget(guard);
    assert_eq!(arena.allocated_bytes(), 16);
    assert!(matches!(
        arena.try_reset_to(start),
        Err(Error::MarkOutOfRange { floor: 8, .. })
    ));
    arena.reset();
    arena.alloc(3u64);
    assert_eq!(arena.try_reset_to(start), Ok(()));
}

#[test]
fn dropping_boxes_pops_them_newest_first() {
    let arena = StackArena::with_capacity(4096);
    let a = Box::new_in(1u64, &arena);
    let b = Box::new_in([2u64; 2], &arena);
    let c = Box::new_in([3u64; 3], &arena);
    assert_eq!(arena.allocated_bytes(), 48);
    drop(b); // not the newest: its space waits for `c`
    assert_eq!(arena.allocated_bytes(), 48);
    drop(c);
    assert_eq!(arena.allocated_bytes(), 24);
    assert_eq!(*a, 1);
    drop(a);
    assert_eq!(arena.allocated_bytes(), 24, "b's hole stays until a reset");
}

#[test]
fn values_in_collections_are_dropped_and_the_arena_is_restored() {
    struct Counted<'a>(&'a Cell<u32>);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let drops = Cell::new(0);
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.scope(|scope| {
        let mut v = Vec::new_in(&scope);
        v.extend((0..10).map(|_| Counted(&drops)));
        let mut map = hashbrown::HashMap::new_in(&scope);
        for i in 0..100 {
            map.insert(i, Box::new_in(Counted(&drops), &scope));
        }
    });
    assert_eq!(drops.get(), 110);
    assert_eq!(arena.allocated_bytes(), 0);
}

/// The bump-scope bug this guards against: an allocation of an enclosing
/// scope freed (or shrunk, or grown) from a child scope moved the top below
/// the child's start, so the child's next allocation overwrote live data.
#[test]
fn a_scope_cannot_move_the_top_below_its_start() {
    let mut arena = StackArena::with_capacity(1 << 16);
    let below = Box::into_raw(Box::new_in([0x11u64; 4], &arena));
    let newest = Box::into_raw(Box::new_in([0x22u64; 4], &arena));
    let layout = Layout::new::<[u64; 4]>();
    let scope_start = arena.allocated_bytes();
    let scope_base = newest as usize + 32;

    arena.scope(|scope| {
        let alloc: &StackArena = &scope;
        let block = NonNull::new(newest).unwrap().cast::<u8>();
        // Shrinking the older newest block in place must not give its tail back.
        let smaller = Layout::new::<[u64; 1]>();
        // SAFETY: `block` is live for `layout`, made by this same arena.
        let shrunk = unsafe { alloc.shrink(block, layout, smaller) }.unwrap();
        assert_eq!(shrunk.cast::<u8>(), block);
        assert_eq!(scope.allocated_bytes(), scope_start, "shrink moved the top");
        let child = scope.alloc([0x33u64; 2]) as *mut [u64; 2] as usize;
        assert_eq!(child, scope_base, "the child's block starts at the scope");
    });

    arena.scope(|scope| {
        let alloc: &StackArena = &scope;
        // Freeing the enclosing scope's newest block from the child is a no-op.
        let block = NonNull::new(newest).unwrap().cast::<u8>();
        // SAFETY: `block` is live for `[u64; 1]` since the shrink above.
        unsafe { alloc.deallocate(block, Layout::new::<[u64; 1]>()) };
        assert_eq!(
            scope.allocated_bytes(),
            scope_start,
            "dealloc moved the top"
        );
        let child = scope.alloc([0x44u64; 4]) as *mut [u64; 4] as usize;
        assert!(
            child >= scope_base,
            "the child's block overlaps the parent's"
        );

        // Growing the parent's block from the child copies it above the scope.
        let older = NonNull::new(below).unwrap().cast::<u8>();
        let larger = Layout::new::<[u64; 8]>();
        // SAFETY: `older` is live for `layout`, made by this same arena.
        let grown = unsafe { alloc.grow(older, layout, larger) }.unwrap();
        assert!(grown.cast::<u8>().as_ptr() as usize >= scope_base);
        // SAFETY: the first 32 bytes of the grown block are the copied ones.
        let copied = unsafe { grown.cast::<[u64; 4]>().read() };
        assert_eq!(copied, [0x11; 4]);
        assert!(scope.allocated_bytes() >= scope_start);
    });
    assert_eq!(arena.allocated_bytes(), scope_start);
}

#[test]
fn a_scope_cannot_pop_a_vec_made_before_it() {
    let mut arena = StackArena::with_capacity(1 << 16);
    let mut outer: Vec<u32, &StackArena> = Vec::with_capacity_in(16, &arena);
    outer.extend(0..16);
    let (ptr, len, cap) = outer.into_raw_parts();
    let scope_start = arena.allocated_bytes();
    arena.scope(|scope| {
        // SAFETY: the parts come from a vector of this arena, given up here.
        let mut v = unsafe { Vec::from_raw_parts_in(ptr, len, cap, &*scope) };
        v.truncate(2);
        v.shrink_to_fit();
        assert_eq!(scope.allocated_bytes(), scope_start);
        v.extend(100..200);
        assert!(
            v.as_ptr() as usize >= ptr as usize + cap * 4,
            "the parent's block grows by moving above the scope"
        );
        assert!(v[..2] == [0, 1] && v[2..].iter().copied().eq(100..200));
        let grown_top = scope.allocated_bytes();
        drop(v);
        assert_eq!(
            scope.allocated_bytes(),
            scope_start,
            "the child's vector pops"
        );
        assert!(grown_top > scope_start);
    });
    assert_eq!(arena.allocated_bytes(), scope_start);
}

#[test]
fn allocated_bytes_comes_back_after_each_kind_of_free() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.alloc(1u8);
    let base = arena.allocated_bytes();
    drop(Box::new_in([0u8; 100], &arena));
    assert_eq!(arena.allocated_bytes(), base, "pop");
    let mut v: Vec<u8, _> = Vec::new_in(&arena);
    v.extend_from_slice(&[1; 1000]);
    v.truncate(10);
    v.shrink_to_fit();
    assert_eq!(arena.allocated_bytes(), base + 16, "shrink");
    drop(v);
    assert_eq!(arena.allocated_bytes(), base, "vec drop");
    let mark = arena.mark();
    arena.alloc_str("abc");
    arena.reset_to(mark);
    assert_eq!(arena.allocated_bytes(), base, "reset_to");
    arena.scope(|scope| scope.alloc_slice_fill_default::<u64>(50).len());
    assert_eq!(arena.allocated_bytes(), base, "scope");
    let mut guard = arena.scope_guard();
    guard.alloc(1u64);
    guard.reset();
    assert_eq!(guard.allocated_bytes(), base, "guard reset");
    drop(guard);
    assert_eq!(arena.allocated_bytes(), base, "guard drop");
}

#[test]
fn alignment_exhaustion_and_zeroing_hold_as_in_arena() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.scope(|scope| {
        for align in [16, 64, 256, 4096] {
            scope.alloc(1u8);
            let block = scope.alloc_layout(Layout::from_size_align(3, align).unwrap());
            assert_eq!(block.as_ptr() as usize % align, 0, "align {align}");
            assert_eq!(scope.allocated_bytes() % 8, 0);
        }
    });
    // Reused memory is zeroed on request: dirty it in one scope, read it in the next.
    arena.scope(|scope| scope.alloc_slice_fill_copy(4096, 0xFFu8).len());
    arena.scope(|scope| {
        let zeroed = (&scope).allocate_zeroed(Layout::array::<u8>(8192).unwrap());
        // SAFETY: a live 8192-byte block.
        let bytes = unsafe { zeroed.unwrap().as_ref() };
        assert!(bytes.iter().all(|&b| b == 0));
    });
    let full = arena.capacity() + 8;
    assert!(matches!(
        arena.try_alloc_layout(Layout::from_size_align(full, 8).unwrap()),
        Err(Error::Exhausted { .. })
    ));
    let message = catch_unwind(AssertUnwindSafe(|| {
        arena.scope(|scope| {
            scope.alloc([0u8; 4096]);
            scope.alloc_slice_fill_copy(1 << 16, 0u8).len()
        })
    }))
    .unwrap_err();
    let message = panic_message(message);
    assert!(
        message.starts_with("Scope: cannot allocate 65536 bytes aligned to 1"),
        "{message}"
    );
    assert!(message.contains("61440 bytes remaining"), "{message}");
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn reset_release_and_builder_work_as_in_arena() {
    let mut arena = StackArena::builder()
        .capacity(1 << 20)
        .guard_pages(true)
        .build()
        .unwrap();
    assert_eq!(arena.capacity(), 1 << 20);
    let first = arena.alloc_slice_fill_copy(1000, 7u8).as_ptr() as usize;
    let mark = arena.mark();
    arena.reset();
    assert_eq!(arena.alloc(0u8) as *mut u8 as usize, first);
    arena.release();
    assert_eq!(arena.allocated_bytes(), 0);
    assert!(arena.try_reset_to(mark).is_err());
    assert!(arena
        .alloc_slice_fill_default::<u8>(1000)
        .iter()
        .all(|&b| b == 0));
    assert!(StackArena::try_with_capacity(usize::MAX).is_err());
    assert!(format!("{arena:?}").starts_with("StackArena"));
}

#[test]
fn a_stack_arena_moves_to_another_thread() {
    let arena = StackArena::with_capacity(4096);
    let mark = arena.mark();
    arena.alloc(1u8);
    let mut arena = std::thread::spawn(move || {
        assert_eq!(arena.allocated_bytes(), 8);
        arena
    })
    .join()
    .unwrap();
    arena.reset_to(mark);
    assert_eq!(arena.allocated_bytes(), 0);
}
