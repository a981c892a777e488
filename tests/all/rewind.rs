//! The rewinding rule, for every bump type: an initialiser that panics or
//! returns `Err` gives its block back when it is still the newest, and the
//! values made so far are dropped exactly once.

use std::panic::{catch_unwind, AssertUnwindSafe};

use anon_arena::{AllocOrInitError, Arena, Error, SyncArena};

use crate::every_bump::{in_every_bump, Drops};

/// Runs `f`, which must panic.
fn panics<R>(f: impl FnOnce() -> R) {
    assert!(catch_unwind(AssertUnwindSafe(f)).is_err(), "did not panic");
}

#[test]
fn a_panicking_alloc_with_gives_its_block_back() {
    in_every_bump!(|arena, used, kind| {
        let before = used();
        panics(|| arena.alloc_with(|| -> [u64; 4] { panic!("initialiser") }));
        assert_eq!(used(), before, "{kind}");
        panics(|| arena.try_alloc_with(|| -> u64 { panic!("initialiser") }));
        assert_eq!(used(), before, "{kind}");
    });
}

#[test]
fn a_failing_alloc_try_with_gives_its_block_back() {
    in_every_bump!(|arena, used, kind| {
        let before = used();
        assert_eq!(arena.alloc_try_with(|| Err::<[u8; 40], _>(3)), Err(3));
        assert_eq!(used(), before, "{kind}");
        let failed = arena.try_alloc_try_with(|| Err::<u64, _>("bad"));
        assert_eq!(failed, Err(AllocOrInitError::Init("bad")));
        assert_eq!(used(), before, "{kind}");
        panics(|| arena.alloc_try_with(|| -> Result<u64, ()> { panic!("initialiser") }));
        assert_eq!(used(), before, "{kind}");
        assert_eq!(*arena.alloc_try_with(|| Ok::<_, ()>(9u64)).unwrap(), 9);
        assert!(used() > before, "{kind}: a success keeps its block");
    });
}

#[test]
fn a_failing_try_with_drops_its_error_once_and_its_value_never() {
    let drops = Drops::default();
    in_every_bump!(|arena, used, kind| {
        let before = used();
        let failed = arena.alloc_try_with(|| Err::<u64, _>(drops.value(1)));
        assert_eq!(
            drops.count(),
            0,
            "{kind}: the error is moved out, not dropped"
        );
        drop(failed);
        assert_eq!(drops.dropped(), [1], "{kind}");
        assert_eq!(used(), before, "{kind}");
        let kept = arena
            .alloc_try_with(|| Ok::<_, ()>(drops.value(2)))
            .unwrap();
        assert_eq!(kept.id, 2);
        assert_eq!(
            drops.dropped(),
            [1],
            "{kind}: arena values are never dropped"
        );
        drops.clear();
    });
}

#[test]
fn a_full_arena_does_not_call_the_initialiser() {
    let arena = Arena::with_capacity(4096);
    let failed = arena.try_alloc_try_with(|| -> Result<[u8; 8192], ()> { unreachable!() });
    assert!(matches!(
        failed,
        Err(AllocOrInitError::Alloc(Error::Exhausted {
            requested: 8200,
            remaining: 4096
        }))
    ));
    let failed = arena.try_alloc_slice_fill_with(1000, |_| -> [u8; 8] { unreachable!() });
    assert!(failed.is_err());
    let message = catch_unwind(AssertUnwindSafe(|| {
        arena.alloc_slice_try_fill_with(1000, |_| -> Result<u64, ()> { unreachable!() })
    }))
    .unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with("Arena: cannot allocate 8000 bytes aligned to 8"),
        "{message}"
    );
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn a_panicking_fill_drops_what_it_made_and_gives_the_block_back() {
    let drops = Drops::default();
    in_every_bump!(|arena, used, kind| {
        let before = used();
        panics(|| {
            arena.alloc_slice_fill_with(10, |i| {
                assert!(i < 3, "element 3");
                drops.value(i as u32)
            })
        });
        assert_eq!(drops.dropped(), [0, 1, 2], "{kind}");
        assert_eq!(used(), before, "{kind}");
        drops.clear();

        let source = [drops.value(7), drops.value(8)];
        panics(|| {
            let mut clones = 0;
            arena.alloc_slice_fill_with(2, |i| {
                clones += 1;
                assert!(clones < 2, "second clone");
                source[i].clone()
            })
        });
        assert_eq!(drops.dropped(), [7], "{kind}: the one clone made");
        assert_eq!(used(), before, "{kind}");
        drop(source);
        drops.clear();
    });
}

#[test]
fn a_failing_try_fill_drops_what_it_made_and_gives_the_block_back() {
    let drops = Drops::default();
    in_every_bump!(|arena, used, kind| {
        let before = used();
        let failed = arena.alloc_slice_try_fill_with(10, |i| {
            if i < 4 {
                Ok(drops.value(i as u32))
            } else {
                Err(i)
            }
        });
        assert_eq!(failed.unwrap_err(), 4);
        assert_eq!(drops.dropped(), [0, 1, 2, 3], "{kind}");
        assert_eq!(used(), before, "{kind}");
        drops.clear();

        let items = (0..6).map(|i| {
            if i == 2 {
                Err("two")
            } else {
                Ok(drops.value(i))
            }
        });
        assert_eq!(arena.alloc_slice_try_fill_iter(items).unwrap_err(), "two");
        assert_eq!(drops.dropped(), [0, 1], "{kind}");
        assert_eq!(used(), before, "{kind}");
        drops.clear();

        let all = arena
            .alloc_slice_try_fill_iter((0..3).map(Ok::<_, ()>))
            .unwrap();
        assert_eq!(all, &[0, 1, 2]);
    });
}

#[test]
fn a_panicking_iterator_drops_what_it_gave_and_gives_the_block_back() {
    let drops = Drops::default();
    in_every_bump!(|arena, used, kind| {
        let before = used();
        let items = (0..10).map(|i| {
            assert!(i < 5, "item 5");
            drops.value(i)
        });
        panics(|| arena.alloc_slice_fill_iter(items));
        assert_eq!(drops.dropped(), [0, 1, 2, 3, 4], "{kind}");
        assert_eq!(used(), before, "{kind}");
        drops.clear();

        // No size hint: the block grows as it goes, then goes back.
        let items = (0..100).filter(|i| i % 2 == 0).map(|i| {
            assert!(i < 60, "item 60");
            drops.value(i)
        });
        panics(|| arena.alloc_iter(items));
        assert_eq!(
            drops.dropped(),
            (0..30).map(|i| i * 2).collect::<Vec<_>>(),
            "{kind}"
        );
        assert_eq!(used(), before, "{kind}");
        drops.clear();
    });
}

#[test]
fn panicking_formatting_gives_the_text_block_back() {
    struct Fails;
    impl std::fmt::Display for Fails {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&"x".repeat(300))?;
            panic!("Display")
        }
    }
    in_every_bump!(|arena, used, kind| {
        let before = used();
        panics(|| arena.alloc_fmt(format_args!("{}{}", 1, Fails)));
        assert_eq!(used(), before, "{kind}");
    });
}

#[test]
fn an_initialiser_that_keeps_an_allocation_leaves_its_block() {
    let arena = Arena::with_capacity(4096);
    let mut kept = None;
    panics(|| {
        arena.alloc_with(|| -> u64 {
            kept = Some(arena.alloc(5u64));
            panic!("after allocating")
        })
    });
    assert_eq!(kept.as_deref(), Some(&5));
    assert_eq!(
        arena.allocated_bytes(),
        16,
        "neither block is the newest free one"
    );
    let sync = SyncArena::with_capacity(4096);
    let failed = sync.alloc_slice_try_fill_with(4, |i| {
        sync.alloc(i);
        if i == 1 {
            Err(())
        } else {
            Ok(i)
        }
    });
    assert!(failed.is_err());
    assert_eq!(
        sync.allocated_bytes() - sync.lease_remaining(),
        32 + 16,
        "the slice stays below the closure's blocks"
    );
}

#[test]
fn exhaustion_midway_reports_the_numbers_from_before_the_call() {
    let arena = Arena::with_capacity(4096);
    arena.alloc([0u8; 96]);
    let failed = arena.try_alloc_iter((0..1000u64).filter(|_| true));
    // 501 items (4008 bytes) did not fit in the 4000 that were free.
    assert_eq!(
        failed,
        Err(Error::Exhausted {
            requested: 4008,
            remaining: 4000
        })
    );
    assert_eq!(arena.allocated_bytes(), 96);
    let text = "y".repeat(5000);
    let failed = arena.try_alloc_fmt(format_args!("{}", text));
    assert!(matches!(
        failed,
        Err(Error::Exhausted {
            remaining: 4000,
            ..
        })
    ));
    assert_eq!(arena.allocated_bytes(), 96);
}
