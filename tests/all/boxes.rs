//! `ArenaBox`: one pointer, runs `Drop` exactly once, gives its block back
//! only through `dealloc`, in every bump type.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::mem::size_of;
use std::panic::{catch_unwind, AssertUnwindSafe};

use anon_arena::collections::{String, Vec};
use anon_arena::{Arena, ArenaBox, SyncArena};

use crate::every_bump::{in_every_bump, Drops};

#[test]
fn a_box_is_one_pointer() {
    assert_eq!(size_of::<ArenaBox<'_, u64>>(), size_of::<usize>());
    assert_eq!(size_of::<Option<ArenaBox<'_, u64>>>(), size_of::<usize>());
    assert_eq!(size_of::<ArenaBox<'_, [u8]>>(), 2 * size_of::<usize>());
    assert_eq!(size_of::<ArenaBox<'_, str>>(), 2 * size_of::<usize>());
}

#[test]
fn every_value_is_dropped_exactly_once() {
    let drops = Drops::default();
    in_every_bump!(|arena, used, kind| {
        let _ = used;
        let a = ArenaBox::new_in(drops.value(1), arena);
        let b = ArenaBox::new_in(drops.value(2), arena);
        let c = ArenaBox::new_in(drops.value(3), arena);
        let d = ArenaBox::try_new_in(drops.value(4), arena).unwrap();
        drop(a);
        assert_eq!(drops.dropped(), [1], "{kind}");
        let moved = ArenaBox::into_inner(b);
        assert_eq!(
            drops.dropped(),
            [1],
            "{kind}: into_inner moves, does not drop"
        );
        drop(moved);
        assert_eq!(drops.dropped(), [1, 2], "{kind}");
        let leaked = ArenaBox::leak(c);
        assert_eq!(leaked.id, 3);
        arena.dealloc(d);
        assert_eq!(
            drops.dropped(),
            [1, 2, 4],
            "{kind}: leak never drops, dealloc does"
        );

        // Boxes alive while something panics are dropped by the unwinding.
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            let _e = ArenaBox::new_in(drops.value(5), arena);
            let _f = ArenaBox::new_in([drops.value(6), drops.value(7)], arena);
            panic!("with boxes alive");
        }));
        assert!(unwound.is_err());
        assert_eq!(drops.dropped(), [1, 2, 4, 5, 6, 7], "{kind}");
        drops.clear();
    });
}

#[test]
fn a_value_that_does_not_fit_is_dropped_once() {
    let drops = Drops::default();
    let arena = Arena::with_capacity(4096);
    let refused = ArenaBox::try_new_in(([0u8; 8192], drops.value(9)), &arena);
    assert!(refused.is_err());
    assert_eq!(drops.dropped(), [9]);
}

#[test]
fn dealloc_gives_back_only_the_newest_block() {
    in_every_bump!(|arena, used, kind| {
        let before = used();
        let first = ArenaBox::new_in(1u64, arena);
        let second = ArenaBox::new_in(2u64, arena);
        arena.dealloc(first); // not the newest: dropped, block kept
        assert_eq!(used() - before, 16, "{kind}");
        arena.dealloc(second);
        assert_eq!(used() - before, 8, "{kind}");
        let slice = ArenaBox::from_iter_in((0..10u32).filter(|_| true), arena);
        assert_eq!(used() - before, 48, "{kind}");
        arena.dealloc(slice);
        assert_eq!(used() - before, 8, "{kind}");
        arena.dealloc(ArenaBox::new_in((), arena)); // zero-sized: nothing to give
        assert_eq!(used() - before, 8, "{kind}");
    });
}

#[test]
fn dealloc_of_another_arenas_box_only_drops_it() {
    let drops = Drops::default();
    let mine = Arena::with_capacity(4096);
    let other = Arena::with_capacity(4096);
    let boxed = ArenaBox::new_in(drops.value(1), &other);
    mine.alloc(0u64);
    mine.dealloc(boxed);
    assert_eq!(drops.dropped(), [1]);
    assert_eq!((mine.allocated_bytes(), other.allocated_bytes()), (8, 16));

    // Nor does a box from one handle move another handle's lease.
    let sync = SyncArena::with_capacity(1 << 16);
    let (one, two) = (sync.local(), sync.local());
    let boxed = ArenaBox::new_in(4u64, &one);
    two.alloc(0u8);
    let lease = two.lease_remaining();
    two.dealloc(boxed);
    one.dealloc(ArenaBox::new_in(5u64, &two));
    assert_eq!(two.lease_remaining(), lease - 8);
}

#[test]
fn boxes_from_a_handle_outlive_the_handle() {
    let sync = SyncArena::with_capacity(1 << 16);
    let boxed = {
        let local = sync.local();
        ArenaBox::new_in(std::string::String::from("outlives"), &local)
    };
    assert_eq!(*boxed, "outlives");
    // A box may cross threads when its value may.
    let len = std::thread::scope(|s| s.spawn(move || boxed.len()).join().unwrap());
    assert_eq!(len, 8);
}

#[test]
fn unsized_boxes_come_from_copies_fills_iterators_and_strings() {
    let drops = Drops::default();
    in_every_bump!(|arena, used, kind| {
        let _ = used;
        let copied = ArenaBox::from_slice_copy_in(&[1u16, 2, 3], arena);
        assert_eq!(*copied, [1, 2, 3], "{kind}");
        let filled = ArenaBox::from_fn_in(3, |i| i * 10, arena);
        assert_eq!(*filled, [0, 10, 20], "{kind}");
        let collected = ArenaBox::from_iter_in("a-b".split('-'), arena);
        assert_eq!(*collected, ["a", "b"], "{kind}");
        let text = ArenaBox::from_str_in("boxed", arena);
        assert_eq!(&*text, "boxed", "{kind}");
        let mut string = String::new_in(arena);
        string.push_str("from a String");
        let from_string: ArenaBox<'_, str> = string.into();
        assert_eq!(&*from_string, "from a String", "{kind}");
        let mut vec = Vec::with_capacity_in(10, arena);
        vec.push(drops.value(1));
        vec.push(drops.value(2));
        let from_vec = ArenaBox::from(vec);
        assert_eq!(from_vec.len(), 2, "{kind}");
        let clones = ArenaBox::from_slice_clone_in(&from_vec, arena);
        drop((from_vec, clones));
        assert_eq!(drops.dropped(), [1, 1, 2, 2], "{kind}");
        drops.clear();
    });
}

#[test]
fn a_vec_handed_to_a_box_keeps_no_slack() {
    let arena = Arena::with_capacity(4096);
    let mut vec = Vec::with_capacity_in(100, &arena);
    vec.extend_from_slice(&[1u64, 2, 3]);
    let boxed = ArenaBox::from(vec);
    assert_eq!(arena.allocated_bytes(), 24);
    arena.dealloc(boxed);
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn traits_go_to_the_value() {
    let arena = Arena::with_capacity(4096);
    let hash = |value: &dyn Fn(&mut DefaultHasher)| {
        let mut hasher = DefaultHasher::new();
        value(&mut hasher);
        hasher.finish()
    };
    let mut a = ArenaBox::new_in(5, &arena);
    let b = ArenaBox::new_in(7, &arena);
    *a += 1;
    assert_eq!(format!("{a} {b:?}"), "6 7");
    assert!(a < b && a != b && a == ArenaBox::new_in(6, &arena));
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Less);
    assert_eq!(hash(&|h| a.hash(h)), hash(&|h| 6.hash(h)));
    let s = ArenaBox::from_str_in("text", &arena);
    assert_eq!(format!("{s}|{s:?}"), "text|\"text\"");
    let as_ref: &str = s.as_ref();
    assert_eq!(as_ref, "text");
}

#[test]
#[should_panic(expected = "Arena: cannot allocate 8192 bytes aligned to 1")]
fn a_full_arena_panics_with_the_numbers() {
    let arena = Arena::with_capacity(4096);
    ArenaBox::new_in([0u8; 8192], &arena);
}
