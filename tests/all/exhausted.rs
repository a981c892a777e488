//! `Builder::on_exhausted`: with `Exhausted::Panic` a collection growing
//! past the cap (`Vec`, `hashbrown::HashMap`, the crate's `String`, `Box`)
//! unwinds with the allocator's numbers and stays valid; with
//! the default, `Exhausted::Error`, the `Allocator` impl returns
//! `AllocError`, which a collection's infallible methods turn into an
//! abort (run in a process of its own here, so the test documents it).

use std::alloc::Layout;
use std::fmt::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};

use allocator_api2::alloc::Allocator;
use allocator_api2::boxed::Box;
use allocator_api2::vec::Vec;
use anon_arena::{Arena, Exhausted, Pool, StackArena, SyncArena};
use hashbrown::HashMap;

use crate::common::{alone, panic_message, run_alone};

/// A 16 KiB arena that panics when full.
fn panicking_arena() -> Arena {
    Arena::builder()
        .capacity(16 << 10)
        .on_exhausted(Exhausted::Panic)
        .build()
        .unwrap()
}

/// Pushes onto `v` until the allocator panics; returns the message.
fn push_until_panic<A: Allocator>(v: &mut Vec<u64, A>) -> String {
    let caught = catch_unwind(AssertUnwindSafe(|| {
        for i in v.len() as u64.. {
            v.push(i);
        }
    }));
    panic_message(caught.unwrap_err())
}

/// A `Vec` whose growth panicked: every element still there, and it pops,
/// truncates, shrinks, grows within its capacity and drops as usual.
fn assert_vec_intact<A: Allocator>(mut v: Vec<u64, A>) {
    let len = v.len();
    assert!(len > 0);
    assert!(v.iter().copied().eq(0..len as u64), "contents intact");
    assert_eq!(v.pop(), Some(len as u64 - 1));
    v.push(len as u64 - 1); // within capacity: no allocation
    v.truncate(len / 2);
    v.shrink_to_fit();
    assert!(v.iter().copied().eq(0..(len / 2) as u64));
    drop(v);
}

#[test]
fn a_vec_outgrowing_a_panicking_arena_unwinds_with_the_numbers() {
    let mut arena = panicking_arena();
    arena.set_allocation_limit(Some(12_000));
    let mut v = Vec::new_in(&arena);
    let message = push_until_panic(&mut v);
    assert!(
        message.starts_with("Arena: cannot allocate 16384 bytes aligned to 8 through `Allocator`"),
        "{message}"
    );
    assert!(
        message.ends_with(
            "out of capacity: 16384 bytes requested, 3808 bytes remaining \
             (capacity 16384 bytes, allocation limit 12000 bytes)"
        ),
        "{message}"
    );
    assert_eq!(v.len(), 1024, "the 8 KiB buffer is full");
    assert_vec_intact(v);
    arena.reset();
    assert_eq!(*arena.alloc(5u64), 5, "the arena is usable afterwards");
}

#[test]
fn a_hash_map_outgrowing_a_panicking_arena_unwinds_and_keeps_its_entries() {
    let arena = panicking_arena();
    let mut map = HashMap::new_in(&arena);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        for i in 0u64.. {
            map.insert(i, i * i);
        }
    }));
    let message = panic_message(caught.unwrap_err());
    assert!(message.starts_with("Arena: cannot allocate"), "{message}");
    assert!(message.contains("(capacity 16384 bytes)"), "{message}");
    let len = map.len() as u64;
    assert!(len > 100);
    assert!(
        (0..len).all(|i| map.get(&i) == Some(&(i * i))),
        "entries intact"
    );
    assert_eq!(map.iter().count() as u64, len);
    *map.get_mut(&1).unwrap() = 7;
    assert_eq!(map.remove(&0), Some(0));
    assert_eq!((map.len() as u64, map[&1]), (len - 1, 7));
    drop(map);
}

#[test]
fn a_string_outgrowing_a_panicking_arena_unwinds_and_keeps_its_text() {
    let arena = panicking_arena();
    let mut text = anon_arena::collections::String::new_in(&arena);
    let caught = catch_unwind(AssertUnwindSafe(|| {
        for i in 0u32.. {
            write!(text, "{i},").unwrap();
        }
    }));
    let message = panic_message(caught.unwrap_err());
    assert!(message.starts_with("Arena: cannot allocate"), "{message}");
    // In the heap: the arena is full.
    let numbers: std::vec::Vec<u32> = text
        .split_terminator(',')
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(
        numbers.iter().copied().eq(0..numbers.len() as u32),
        "text intact"
    );
    text.truncate(2);
    text.push('!');
    assert_eq!(text, "0,!");
}

#[test]
fn boxes_and_vectors_of_every_arena_type_unwind() {
    let stack = StackArena::builder()
        .capacity(8192)
        .on_exhausted(Exhausted::Panic)
        .build()
        .unwrap();
    let mut v = Vec::new_in(&stack);
    assert!(push_until_panic(&mut v).starts_with("StackArena: cannot allocate"));
    assert_vec_intact(v);

    let mut stack = stack;
    stack.scope(|scope| {
        let mut v = Vec::new_in(&scope);
        assert!(push_until_panic(&mut v).starts_with("Scope: cannot allocate"));
        assert_vec_intact(v);
    });
    let guard = stack.scope_guard();
    let mut v = Vec::new_in(&guard);
    assert!(push_until_panic(&mut v).starts_with("StackArena: cannot allocate"));
    assert_vec_intact(v);
    drop(guard);

    let sync = SyncArena::builder()
        .capacity(8192)
        .on_exhausted(Exhausted::Panic)
        .build()
        .unwrap();
    let mut v = Vec::new_in(&sync);
    assert!(push_until_panic(&mut v).starts_with("SyncArena: cannot allocate"));
    assert_vec_intact(v);
    let mut sync = sync;
    sync.reset();
    let local = sync.local();
    let mut v = Vec::new_in(&local);
    assert!(push_until_panic(&mut v).starts_with("LocalArena: cannot allocate"));
    assert_vec_intact(v);
}

#[test]
fn a_full_pool_and_an_oversized_request_panic_under_panic() {
    let pool = Pool::<[u64; 2]>::builder()
        .slots(2)
        .on_exhausted(Exhausted::Panic)
        .build()
        .unwrap();
    let a = Box::new_in([1u64, 2], &pool);
    let b = Box::new_in([3u64, 4], &pool);
    let full = catch_unwind(AssertUnwindSafe(|| Box::new_in([0u64; 2], &pool)));
    let message = panic_message(full.unwrap_err());
    assert_eq!(
        message,
        "Pool<[u64; 2]>: cannot allocate 16 bytes aligned to 8 through `Allocator`: \
         out of capacity: 16 bytes requested, 0 bytes remaining (capacity 2 slots)"
    );
    drop(a);
    let too_big = catch_unwind(AssertUnwindSafe(|| Box::new_in([0u64; 4], &pool)));
    let message = panic_message(too_big.unwrap_err());
    assert!(
        message.contains("32 bytes requested, 16 bytes remaining"),
        "{message}"
    );
    assert_eq!((*b, pool.len()), ([3, 4], 1));
}

#[test]
fn the_default_returns_alloc_error_from_every_allocator() {
    let too_big = Layout::from_size_align(1 << 20, 8).unwrap();
    let arena = Arena::with_capacity(4096);
    assert!((&arena).allocate(too_big).is_err());
    let mut stack = StackArena::with_capacity(4096);
    assert!((&stack).allocate(too_big).is_err());
    stack.scope(|scope| assert!((&scope).allocate(too_big).is_err()));
    assert!((&stack.scope_guard()).allocate(too_big).is_err());
    let sync = SyncArena::with_capacity(4096);
    assert!((&sync).allocate(too_big).is_err());
    assert!((&sync.local()).allocate(too_big).is_err());
    let pool = Pool::<u64>::with_capacity(1);
    assert!((&pool).allocate(too_big).is_err());
}

#[test]
fn panic_mode_leaves_the_alloc_and_try_methods_as_they_were() {
    let arena = panicking_arena();
    assert!(arena.try_alloc([0u8; 20_000]).is_err(), "try_ still errs");
    let message = catch_unwind(AssertUnwindSafe(|| arena.alloc([0u8; 20_000])));
    assert!(panic_message(message.unwrap_err()).starts_with("Arena: cannot allocate 20000"));
    let mut v: Vec<u8, _> = Vec::new_in(&arena);
    let reserve = catch_unwind(AssertUnwindSafe(|| v.try_reserve(20_000)));
    assert!(
        reserve.is_err(),
        "the allocator panics before try_reserve can err"
    );
}

/// Run alone by the test below: aborts the process.
#[test]
#[ignore = "aborts the process: run by by_default_a_vec_outgrowing_the_arena_aborts"]
fn a_vec_outgrows_a_default_arena() {
    if alone("exhausted::a_vec_outgrows_a_default_arena") {
        let arena = Arena::with_capacity(4096);
        let mut v: Vec<u64, _> = Vec::new_in(&arena);
        v.extend(0..10_000);
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot start processes")]
fn by_default_a_vec_outgrowing_the_arena_aborts() {
    use std::os::unix::process::ExitStatusExt;
    let child = run_alone("exhausted::a_vec_outgrows_a_default_arena");
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert_eq!(child.status.signal(), Some(libc::SIGABRT), "{stderr}");
    assert!(
        stderr.contains("memory allocation of 80000 bytes failed"),
        "{stderr}"
    );
}
