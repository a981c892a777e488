//! `collections::String`, `format!`, `vec!` and `alloc_fmt`, in every bump
//! type and in the global heap.

use std::collections::hash_map::DefaultHasher;
use std::fmt::{self, Write as _};
use std::hash::{Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};

use allocator_api2::alloc::{Allocator, Global};
use anon_arena::collections::{String, Vec};
use anon_arena::{Arena, Error, StackArena};

use crate::every_bump::in_every_bump;

/// Writes `0,1,2,…` up to `n - 1`: `n` formatting arguments, each its own
/// write.
struct Numbers(u32);

impl fmt::Display for Numbers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..self.0 {
            write!(f, "{i},")?;
        }
        Ok(())
    }
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Every `String` method, in allocator `alloc`.
fn exercise<A: Allocator + Clone>(alloc: A) {
    let mut s = String::new_in(alloc.clone());
    assert!(s.is_empty() && s.capacity() == 0);
    s.push_str("hello");
    s.push(',');
    s.push('é');
    assert_eq!(s, "hello,é");
    assert_eq!(s.len(), 8);
    s.insert_str(0, "¡");
    assert_eq!(s.as_str(), "¡hello,é");
    assert_eq!(s.pop(), Some('é'));
    assert_eq!(s.pop(), Some(','));
    s.truncate(3);
    assert_eq!(s, "¡h");
    s.as_mut_str().make_ascii_uppercase();
    assert_eq!(&*s, "¡H");
    s.make_ascii_lowercase(); // through DerefMut
    assert_eq!(s, "¡h");
    s.clear();
    assert!(s.is_empty() && s.capacity() >= 8);
    s.reserve(100);
    assert!(s.capacity() >= 100);
    assert!(s.try_reserve(usize::MAX).is_err());
    let (name, number) = ("x", 7);
    write!(s, "{name}-{number:03}").unwrap();
    assert_eq!(s, "x-007");
    s.extend(['a', 'b']);
    s.extend(&['c']);
    s.extend(["de", "f"]);
    assert_eq!(s, "x-007abcdef");
    assert_eq!(format!("{s}|{s:?}"), "x-007abcdef|\"x-007abcdef\"");

    let t = String::from_str_in("x-007abcdef", alloc.clone());
    assert_eq!(s, t);
    assert_eq!(s, "x-007abcdef");
    assert_eq!("x-007abcdef", s);
    assert_eq!(*"x-007abcdef", s);
    assert_eq!(hash_of(&s), hash_of(&"x-007abcdef"));
    let smaller = String::from_str_in("a", alloc.clone());
    assert!(smaller < s && s.cmp(&t) == std::cmp::Ordering::Equal);
    assert_eq!(s.clone(), s);

    let bytes = s.into_bytes();
    assert_eq!(&bytes[..3], b"x-0");
    let back = String::from_utf8(bytes).unwrap();
    assert_eq!(back, t);
    let mut broken = Vec::new_in(alloc.clone());
    broken.extend_from_slice(&[b'o', b'k', 0xC0]);
    let error = String::from_utf8(broken).unwrap_err();
    assert_eq!(error.utf8_error().valid_up_to(), 2);
    assert_eq!(error.into_bytes(), [b'o', b'k', 0xC0]);

    let formatted = String::from_fmt_in(format_args!("{}", Numbers(3)), alloc.clone());
    assert_eq!(formatted, "0,1,2,");
    let macro_made = anon_arena::format!(in alloc.clone(), "{}+{}", 1, 2);
    assert_eq!(macro_made, "1+2");
    assert_eq!(macro_made.capacity(), 3, "no slack");
}

#[test]
fn a_string_works_in_every_bump_and_in_the_global_heap() {
    in_every_bump!(|arena, used, kind| {
        let _ = kind;
        exercise(arena);
        let before = used();
        let leaked: &mut str = String::from_str_in("kept", arena).leak();
        assert_eq!(leaked, "kept");
        assert_eq!(used() - before, 8, "the arena keeps the bytes");
    });
    exercise(Global);
}

#[test]
#[should_panic(expected = "not a char boundary")]
fn insert_str_refuses_the_middle_of_a_char() {
    let arena = Arena::with_capacity(4096);
    let mut s = String::from_str_in("é", &arena);
    s.insert_str(1, "x");
}

#[test]
fn format_with_ten_thousand_arguments_grows_one_block_in_place() {
    // Fewer under Miri, which interprets every write.
    let n = if cfg!(miri) { 1000 } else { 10_000 };
    let arena = Arena::with_capacity(1 << 20);
    let text = anon_arena::format!(in &arena, "{}", Numbers(n));
    let expected: std::string::String = (0..n).map(|i| format!("{i},")).collect();
    assert_eq!(text, expected.as_str());
    assert_eq!(arena.allocated_bytes(), text.len().next_multiple_of(8));
    let start = text.as_ptr();
    drop(text); // the newest block pops
    assert_eq!(arena.allocated_bytes(), 0);

    let at = arena.alloc_fmt(format_args!("{}", Numbers(n)));
    assert_eq!(at, expected.as_str());
    assert_eq!(at.as_ptr(), start, "the same one block, from the start");
    assert_eq!(arena.allocated_bytes(), at.len().next_multiple_of(8));
}

#[test]
fn alloc_fmt_works_in_every_bump() {
    in_every_bump!(|arena, used, kind| {
        let before = used();
        let text = arena.alloc_fmt(format_args!("{kind}:{}", Numbers(20)));
        assert!(text.starts_with(kind) && text.ends_with("19,"), "{kind}");
        assert_eq!(used() - before, text.len().next_multiple_of(8), "{kind}");
        let literal = arena.try_alloc_fmt(format_args!("plain")).unwrap();
        assert_eq!(literal, "plain");
        let empty = arena.alloc_fmt(format_args!("{}", ""));
        assert_eq!(empty, "");
    });
}

#[test]
fn alloc_fmt_survives_formatting_that_allocates_in_the_same_arena() {
    struct Allocates<'a>(&'a StackArena);
    impl fmt::Display for Allocates<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for i in 0..50u64 {
                let kept = self.0.alloc(i);
                write!(f, "[{kept}]")?;
            }
            Ok(())
        }
    }
    let arena = StackArena::with_capacity(1 << 16);
    let text = arena.alloc_fmt(format_args!("{}", Allocates(&arena)));
    let expected: std::string::String = (0..50).map(|i| format!("[{i}]")).collect();
    assert_eq!(text, expected.as_str());
}

#[test]
fn a_formatting_error_panics_like_format_and_gives_the_block_back() {
    struct Refuses;
    impl fmt::Display for Refuses {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("partial")?;
            Err(fmt::Error)
        }
    }
    let arena = Arena::with_capacity(4096);
    let message = catch_unwind(AssertUnwindSafe(|| {
        arena.try_alloc_fmt(format_args!("{}", Refuses))
    }))
    .unwrap_err();
    assert!(message
        .downcast_ref::<&str>()
        .is_some_and(|m| m.contains("formatting trait implementation returned an error")));
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn a_full_arena_refuses_formatting_with_the_numbers() {
    let arena = Arena::with_capacity(4096);
    let refused = arena.try_alloc_fmt(format_args!("{}", Numbers(2000)));
    assert!(
        matches!(refused, Err(Error::Exhausted { remaining: 4096, requested }) if requested > 4096)
    );
    assert_eq!(arena.allocated_bytes(), 0);
    let message = catch_unwind(AssertUnwindSafe(|| {
        arena.alloc_fmt(format_args!("{}", Numbers(2000)))
    }))
    .unwrap_err();
    let message = message.downcast_ref::<std::string::String>().unwrap();
    assert!(message.starts_with("Arena: cannot allocate"), "{message}");
}

#[test]
fn vec_macro_builds_in_the_given_allocator() {
    let arena = Arena::with_capacity(4096);
    let empty: Vec<u8, _> = anon_arena::vec![in &arena];
    assert!(empty.is_empty());
    let listed = anon_arena::vec![in &arena; 1u64, 2, 3];
    assert_eq!((listed.len(), listed.capacity()), (3, 3));
    assert_eq!(arena.allocated_bytes(), 24);
    let filled = anon_arena::vec![in &arena; String::from_str_in("x", Global); 2];
    assert_eq!(
        filled,
        [
            String::from_str_in("x", Global),
            String::from_str_in("x", Global)
        ]
    );
}

#[test]
fn a_string_in_a_scope_grows_in_place_and_goes_with_the_scope() {
    let mut arena = StackArena::with_capacity(1 << 16);
    arena.alloc(1u64);
    let len = arena.scope(|scope| {
        let mut s = String::with_capacity_in(1, &scope);
        let first = s.as_ptr();
        for i in 0..1000 {
            write!(s, "{i}").unwrap();
        }
        assert_eq!(s.as_ptr(), first, "grown in place");
        s.len()
    });
    assert_eq!(len, 2890);
    assert_eq!(arena.allocated_bytes(), 8);
}

#[test]
fn a_leaked_handle_string_outlives_nothing_it_should_not() {
    let sync = anon_arena::SyncArena::with_capacity(1 << 16);
    let local = sync.local();
    let text: &str = anon_arena::format!(in &local, "{}", 42).leak();
    assert_eq!(text, "42");
    // `alloc_fmt` ties the text to the arena's borrow, not the handle's.
    let kept: &str = {
        let other = sync.local();
        other.alloc_fmt(format_args!("{}", 43))
    };
    assert_eq!(kept, "43");
}
