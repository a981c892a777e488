//! `Arena` used as a newcomer would, plus its edge cases.

use std::alloc::Layout;
use std::panic::{catch_unwind, AssertUnwindSafe};

use anon_arena::{Arena, Backing, Error};

use crate::common::{in_child, resident_bytes, resident_in, ChildEnd};

#[test]
fn a_newcomer_builds_a_tree() {
    #[derive(Debug)]
    enum Expr<'a> {
        Num(i64),
        Add(&'a Expr<'a>, &'a Expr<'a>),
        Name(&'a str),
    }
    fn eval(e: &Expr<'_>) -> i64 {
        match e {
            Expr::Num(n) => *n,
            Expr::Add(a, b) => eval(a) + eval(b),
            Expr::Name(name) => name.len() as i64,
        }
    }
    let arena = Arena::new();
    let one = arena.alloc(Expr::Num(1));
    let name = arena.alloc(Expr::Name(arena.alloc_str("four")));
    let sum = arena.alloc(Expr::Add(one, name));
    assert_eq!(eval(sum), 5);
    assert!(arena.allocated_bytes() > 0);
    assert_eq!(
        arena.allocated_bytes() + arena.remaining(),
        arena.capacity()
    );
}

#[test]
fn new_reserves_at_least_a_gibibyte() {
    let arena = Arena::new();
    if cfg!(not(miri)) {
        assert!(arena.capacity() >= 1 << 30);
    }
}

#[test]
fn every_try_method_errs_when_full_and_the_panicking_form_panics() {
    let arena = Arena::with_capacity(4096);
    arena.alloc_layout(Layout::from_size_align(4096, 8).unwrap());
    assert_eq!(arena.remaining(), 0);
    let full = |r: Result<(), Error>| {
        assert!(
            matches!(r, Err(Error::Exhausted { remaining: 0, .. })),
            "{r:?}"
        )
    };
    full(arena.try_alloc(1u8).map(drop));
    full(arena.try_alloc_with(|| 1u8).map(drop));
    full(arena.try_alloc_str("x").map(drop));
    full(arena.try_alloc_slice_copy(&[1u8]).map(drop));
    full(arena.try_alloc_slice_clone(&[String::new()]).map(drop));
    full(arena.try_alloc_slice_fill_copy(1, 0u8).map(drop));
    full(arena.try_alloc_slice_fill_with(1, |_| 0u8).map(drop));
    full(arena.try_alloc_slice_fill_default::<u8>(1).map(drop));
    full(arena.try_alloc_slice_fill_iter([1u8]).map(drop));
    full(arena.try_alloc_layout(Layout::new::<u8>()).map(drop));

    let panics = |f: &dyn Fn()| {
        let message = catch_unwind(AssertUnwindSafe(f)).unwrap_err();
        let message = message
            .downcast_ref::<String>()
            .expect("a formatted message");
        assert!(message.starts_with("Arena: cannot allocate"), "{message}");
        assert!(message.contains("0 bytes remaining"), "{message}");
    };
    panics(&|| {
        let _ = arena.alloc(1u8);
    });
    panics(&|| {
        let _ = arena.alloc_with(|| 1u8);
    });
    panics(&|| {
        let _ = arena.alloc_str("x");
    });
    panics(&|| {
        let _ = arena.alloc_slice_copy(&[1u8]);
    });
    panics(&|| {
        let _ = arena.alloc_slice_clone(&[1u8]);
    });
    panics(&|| {
        let _ = arena.alloc_slice_fill_copy(1, 0u8);
    });
    panics(&|| {
        let _ = arena.alloc_slice_fill_clone(1, &0u8);
    });
    panics(&|| {
        let _ = arena.alloc_slice_fill_with(1, |_| 0u8);
    });
    panics(&|| {
        let _ = arena.alloc_slice_fill_default::<u8>(1);
    });
    panics(&|| {
        let _ = arena.alloc_slice_fill_iter([1u8]);
    });
    panics(&|| {
        let _ = arena.alloc_layout(Layout::new::<u8>());
    });
    // Zero-sized requests still succeed.
    assert!(arena.try_alloc(()).is_ok());
    assert!(arena.try_alloc_slice_copy::<u8>(&[]).is_ok());
}

#[test]
fn absurd_layouts_fail_cleanly() {
    let arena = Arena::with_capacity(1 << 16);
    let huge = Layout::from_size_align(isize::MAX as usize - 4095, 4096).unwrap();
    assert!(matches!(
        arena.try_alloc_layout(huge),
        Err(Error::Exhausted { .. })
    ));
    let huge8 = Layout::from_size_align(isize::MAX as usize - 7, 8).unwrap();
    assert!(arena.try_alloc_layout(huge8).is_err());
    assert_eq!(
        arena
            .try_alloc_slice_fill_copy(usize::MAX, 0u64)
            .unwrap_err(),
        Error::LayoutOverflow
    );
    assert_eq!(
        arena
            .try_alloc_slice_fill_default::<u16>(usize::MAX / 2)
            .unwrap_err(),
        Error::LayoutOverflow
    );
    let message = catch_unwind(AssertUnwindSafe(|| arena.alloc_layout(huge))).unwrap_err();
    assert!(message
        .downcast_ref::<String>()
        .unwrap()
        .contains("cannot allocate"));
    assert_eq!(
        arena.allocated_bytes(),
        0,
        "failed requests consume nothing"
    );
    assert!(Arena::try_with_capacity(usize::MAX).is_err());
    assert!(catch_unwind(|| Arena::with_capacity(usize::MAX)).is_err());
}

#[test]
fn large_alignments_are_honoured() {
    let arena = Arena::with_capacity(1 << 16);
    for align in [16, 64, 256, 4096] {
        arena.alloc(1u8);
        let block = arena.alloc_layout(Layout::from_size_align(3, align).unwrap());
        assert_eq!(block.as_ptr() as usize % align, 0, "align {align}");
        assert_eq!(arena.allocated_bytes() % 8, 0);
    }
}

#[test]
fn zero_sized_allocations_use_no_space() {
    let arena = Arena::with_capacity(4096);
    for _ in 0..1000 {
        arena.alloc(());
        arena.alloc_layout(Layout::from_size_align(0, 4096).unwrap());
        arena.alloc_slice_copy::<u64>(&[]);
    }
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn reset_reuses_space_from_the_same_start() {
    let mut arena = Arena::with_capacity(1 << 16);
    let first: Vec<usize> = (0..10)
        .map(|i| arena.alloc(i) as *mut i32 as usize)
        .collect();
    arena.reset();
    assert_eq!(arena.allocated_bytes(), 0);
    let second: Vec<usize> = (0..10)
        .map(|i| arena.alloc(i) as *mut i32 as usize)
        .collect();
    assert_eq!(first, second);
}

#[test]
fn fill_iter_survives_an_iterator_that_allocates_in_the_same_arena() {
    let arena = Arena::with_capacity(1 << 16);
    let names =
        arena.alloc_slice_fill_iter((0..100).map(|i| &*arena.alloc_str(&format!("name{i}"))));
    for (i, name) in names.iter().enumerate() {
        assert_eq!(*name, format!("name{i}"));
    }
}

#[test]
fn fill_iter_takes_what_a_lying_iterator_yields() {
    struct Liar(u32);
    impl Iterator for Liar {
        type Item = u32;
        fn next(&mut self) -> Option<u32> {
            self.0 += 1;
            (self.0 <= 3).then_some(self.0)
        }
    }
    impl ExactSizeIterator for Liar {
        fn len(&self) -> usize {
            10
        }
    }
    let arena = Arena::with_capacity(4096);
    assert_eq!(arena.alloc_slice_fill_iter(Liar(0)), &[1, 2, 3]);
}

#[test]
fn a_panicking_fill_closure_leaves_the_arena_consistent() {
    let arena = Arena::with_capacity(4096);
    let result = catch_unwind(AssertUnwindSafe(|| {
        arena.alloc_slice_fill_with(10, |i| if i == 5 { panic!("boom") } else { i as u64 })
    }));
    assert!(result.is_err());
    assert_eq!(
        arena.allocated_bytes() + arena.remaining(),
        arena.capacity()
    );
    assert_eq!(*arena.alloc(7u64), 7);
    let result = catch_unwind(AssertUnwindSafe(|| {
        arena.alloc_with(|| -> u64 { panic!("boom") })
    }));
    assert!(result.is_err());
    assert_eq!(arena.alloc_slice_copy(&[1, 2]), &[1, 2]);
}

#[test]
fn alloc_with_may_allocate_inside_the_closure() {
    let arena = Arena::with_capacity(4096);
    let pair = arena.alloc_with(|| (arena.alloc(1u32) as &u32, arena.alloc(2u32) as &u32));
    assert_eq!((*pair.0, *pair.1), (1, 2));
}

#[test]
fn builder_options_compose() {
    // Under Miri each byte of the fill and the check below costs about
    // 0.1 ms: half a megabyte took over five minutes.
    let len = if cfg!(miri) { 16 << 10 } else { 1 << 19 };
    for backing in [Backing::Anonymous, Backing::DevZero] {
        let arena = Arena::builder()
            .capacity(1 << 20)
            .guard_pages(true)
            .populate(true)
            .backing(backing)
            .build()
            .unwrap();
        assert_eq!(arena.capacity(), 1 << 20);
        assert!(arena
            .alloc_slice_fill_default::<u8>(len)
            .iter()
            .all(|&b| b == 0));
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot fork and does not apply guard pages")]
fn a_write_past_a_guarded_arena_kills_the_child() {
    let end = in_child(|| {
        let arena = Arena::builder()
            .capacity(4096)
            .guard_pages(true)
            .build()
            .unwrap();
        let all = arena.alloc_layout(Layout::from_size_align(arena.capacity(), 8).unwrap());
        // SAFETY: deliberately none: one byte past the arena is the guard page.
        unsafe { all.as_ptr().add(arena.capacity()).write_volatile(1) };
        0
    });
    assert_eq!(end, ChildEnd::Signaled(libc::SIGSEGV));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri cannot fork and has no resident-memory accounting"
)]
fn release_returns_memory_to_the_os() {
    let end = in_child(|| {
        // A new mapping, not a recycled one with pages already resident.
        let mut arena = Arena::builder()
            .capacity(256 << 20)
            .recycle(false)
            .build()
            .unwrap();
        let before = resident_bytes();
        arena.alloc_slice_fill_copy(64 << 20, 1u8);
        let filled = resident_bytes();
        arena.release();
        let released = resident_bytes();
        let grew = filled > before + (60 << 20);
        let fell = released + (60 << 20) < filled;
        let zero = arena
            .alloc_slice_fill_default::<u8>(64 << 20)
            .iter()
            .all(|&b| b == 0);
        if grew && fell && zero {
            0
        } else {
            1
        }
    });
    assert_eq!(end, ChildEnd::Exited(0));
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no /proc/self/smaps")]
fn an_eight_gib_arena_costs_under_a_mebibyte() {
    // A new mapping: a parked one would bring its resident pages along.
    let arena = Arena::builder()
        .capacity(8 << 30)
        .recycle(false)
        .build()
        .unwrap();
    // The first block of a fresh arena is at the start of its region.
    let start = arena.alloc(1u64) as *mut u64 as usize;
    let resident = resident_in(start, arena.capacity());
    assert!(resident < 1 << 20, "8 GiB arena costs {resident} bytes");
}

#[test]
fn arena_moves_to_another_thread() {
    let arena = Arena::with_capacity(4096);
    arena.alloc(1u8);
    let used = std::thread::spawn(move || arena.allocated_bytes())
        .join()
        .unwrap();
    assert_eq!(used, 8);
}
