//! `alloc_iter` for any iterator, `alloc_slice_fill_iter`, and
//! `collect_in`, in every bump type.

use std::panic::{catch_unwind, AssertUnwindSafe};

use anon_arena::collections::{String, Vec};
use anon_arena::{Arena, CollectIn, FromIteratorIn, StackArena};

use crate::every_bump::{in_every_bump, Drops};

#[test]
fn alloc_iter_takes_iterators_without_a_size_hint() {
    in_every_bump!(|arena, used, kind| {
        let before = used();
        let evens = arena.alloc_iter((0..200u64).filter(|n| n % 2 == 0));
        assert_eq!(evens.len(), 100, "{kind}");
        assert!(evens.iter().enumerate().all(|(i, &n)| n == 2 * i as u64));
        // One block, ending at the last element.
        assert_eq!(used() - before, 800, "{kind}");
        let empty = arena.alloc_iter(std::iter::empty::<u64>());
        assert!(empty.is_empty());
        assert_eq!(used() - before, 800, "{kind}: nothing for nothing");
    });
}

#[test]
fn alloc_iter_ends_at_the_last_element_whatever_the_hint() {
    /// Claims at least 100 items, yields 3.
    struct Overpromises(u64);
    impl Iterator for Overpromises {
        type Item = u64;
        fn next(&mut self) -> Option<u64> {
            self.0 += 1;
            (self.0 <= 3).then_some(self.0)
        }
        fn size_hint(&self) -> (usize, Option<usize>) {
            (100, None)
        }
    }
    let arena = Arena::with_capacity(4096);
    assert_eq!(arena.alloc_iter(Overpromises(0)), &[1, 2, 3]);
    assert_eq!(arena.allocated_bytes(), 24);
    // An exact-size iterator that yields fewer than it said gives the rest
    // back too.
    struct Liar(u64);
    impl Iterator for Liar {
        type Item = u64;
        fn next(&mut self) -> Option<u64> {
            self.0 += 1;
            (self.0 <= 2).then_some(self.0)
        }
    }
    impl ExactSizeIterator for Liar {
        fn len(&self) -> usize {
            10
        }
    }
    assert_eq!(arena.alloc_slice_fill_iter(Liar(0)), &[1, 2]);
    assert_eq!(arena.allocated_bytes(), 24 + 16);
}

#[test]
fn alloc_slice_fill_iter_takes_no_more_than_the_iterator_said() {
    /// Says 2, has 5.
    struct Underpromises(std::ops::Range<u64>);
    impl Iterator for Underpromises {
        type Item = u64;
        fn next(&mut self) -> Option<u64> {
            self.0.next()
        }
    }
    impl ExactSizeIterator for Underpromises {
        fn len(&self) -> usize {
            2
        }
    }
    let arena = Arena::with_capacity(4096);
    let mut items = Underpromises(0..5);
    assert_eq!(arena.alloc_slice_fill_iter(&mut items), &[0, 1]);
    assert_eq!(items.next(), Some(2), "the rest is not taken");
    let failed = arena.alloc_slice_try_fill_iter(Underpromises(0..5).map(Ok::<_, ()>));
    assert_eq!(failed, Ok(&mut [0, 1][..]));
    assert_eq!(arena.allocated_bytes(), 32);
}

#[test]
fn alloc_iter_survives_an_iterator_that_allocates_in_the_same_arena() {
    in_every_bump!(|arena, used, kind| {
        let _ = used;
        let refs = arena.alloc_iter((0..50u32).map(|i| &*arena.alloc(i * 3)));
        assert_eq!(refs.len(), 50, "{kind}");
        assert!(
            refs.iter().enumerate().all(|(i, &&n)| n == 3 * i as u32),
            "{kind}"
        );
        let nested = arena.alloc_iter((0..4).map(|i| &*arena.alloc_iter(0..i)));
        assert_eq!(
            nested,
            &[&[][..], &[0][..], &[0, 1][..], &[0, 1, 2][..]],
            "{kind}"
        );
    });
}

#[test]
fn alloc_iter_drops_every_item_once_when_it_panics_midway() {
    let drops = Drops::default();
    let arena = StackArena::with_capacity(1 << 16);
    let before = arena.allocated_bytes();
    let unwound = catch_unwind(AssertUnwindSafe(|| {
        arena.alloc_iter((0..1000).filter(|i| i % 3 == 0).map(|i| {
            assert!(i < 300, "item 300");
            drops.value(i)
        }))
    }));
    assert!(unwound.is_err());
    let expected: std::vec::Vec<u32> = (0..300).filter(|i| i % 3 == 0).collect();
    assert_eq!(drops.dropped(), expected, "each earlier item dropped once");
    assert_eq!(arena.allocated_bytes(), before);
    // And items that made it are never dropped (arena values are not).
    drops.clear();
    let kept = arena.alloc_iter((0..5).map(|i| drops.value(i)));
    assert_eq!(kept.len(), 5);
    assert_eq!(drops.count(), 0);
}

#[test]
fn alloc_iter_of_zero_sized_items_takes_no_room() {
    let arena = Arena::with_capacity(4096);
    let units = arena.alloc_iter((0..10_000).map(|_| ()));
    assert_eq!(units.len(), 10_000);
    let none = arena.alloc_iter((0..10).filter(|_| false).map(|_| ()));
    assert!(none.is_empty());
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn collect_in_builds_vecs_and_strings_in_every_bump() {
    in_every_bump!(|arena, used, kind| {
        let _ = used;
        let squares: Vec<u64, _> = (1..=4u64).map(|i| i * i).collect_in(arena);
        assert_eq!(squares, [1, 4, 9, 16], "{kind}");
        let word: String<_> = "pars".chars().chain(['e']).collect_in(arena);
        assert_eq!(word, "parse", "{kind}");
        let joined: String<_> = ["a", "b", "c"].into_iter().collect_in(arena);
        assert_eq!(joined, "abc", "{kind}");
        let all: Option<Vec<u8, _>> = [Some(1), Some(2)].into_iter().collect_in(arena);
        assert_eq!(all.as_deref(), Some(&[1, 2][..]), "{kind}");
        let gap: Option<Vec<u8, _>> = [Some(1), None, Some(3)].into_iter().collect_in(arena);
        assert!(gap.is_none(), "{kind}");
        let parsed: Result<Vec<u8, _>, _> = ["1", "2", "x", "4"]
            .iter()
            .map(|s| s.parse::<u8>())
            .collect_in(arena);
        assert!(parsed.is_err(), "{kind}");
        let v = Vec::from_iter_in(0..3, arena);
        assert_eq!(v, [0, 1, 2], "{kind}");
    });
}

#[test]
fn collect_in_works_with_the_global_heap() {
    let v: Vec<u8> = (1..=3).collect_in(allocator_api2::alloc::Global);
    assert_eq!(v, [1, 2, 3]);
}
