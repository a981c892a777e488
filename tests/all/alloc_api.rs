//! Collections living in an `Arena` through allocator-api2.

use std::alloc::Layout;

use allocator_api2::alloc::Allocator;
use allocator_api2::boxed::Box;
use allocator_api2::vec::Vec;
use anon_arena::Arena;

#[test]
fn vec_box_and_hashmap_live_in_an_arena() {
    let arena = Arena::with_capacity(1 << 20);
    let mut v: Vec<u32, &Arena> = Vec::new_in(&arena);
    v.extend(0..1000);
    assert_eq!(v.iter().sum::<u32>(), 499_500);
    let b = Box::new_in([1u64; 16], &arena);
    assert_eq!(b.iter().sum::<u64>(), 16);
    let mut map = hashbrown::HashMap::new_in(&arena);
    for i in 0..1000 {
        map.insert(i, i * 2);
    }
    assert_eq!(map[&500], 1000);
    let mut s = allocator_api2::vec::Vec::new_in(&arena);
    s.extend_from_slice("hello".as_bytes());
    assert_eq!(&s[..], b"hello");
}

#[test]
fn a_vec_at_the_top_grows_in_place() {
    let arena = Arena::with_capacity(64 << 20);
    let mut v: Vec<u32, &Arena> = Vec::with_capacity_in(1, &arena);
    v.push(0);
    let start = v.as_ptr();
    // Miri interprets every push; a smaller count still crosses many doublings.
    let pushes = if cfg!(miri) { 5_000 } else { 1_000_000 };
    for i in 1..pushes {
        v.push(i);
    }
    assert_eq!(
        v.as_ptr(),
        start,
        "the newest allocation grows without moving"
    );
    assert!(v.iter().enumerate().all(|(i, &x)| x == i as u32));
}

#[test]
fn deallocating_the_newest_block_gives_its_space_back() {
    let arena = Arena::with_capacity(4096);
    let a = arena.alloc(1u64) as *mut u64;
    let before = arena.allocated_bytes();
    let b = Box::new_in(5u64, &arena);
    assert_eq!(arena.allocated_bytes(), before + 8);
    drop(b);
    assert_eq!(arena.allocated_bytes(), before);
    // SAFETY: `a` points to a live `u64` below the popped block.
    assert_eq!(unsafe { *a }, 1);
}

#[test]
fn deallocating_an_older_block_is_harmless() {
    let arena = Arena::with_capacity(4096);
    let older = Box::new_in(1u64, &arena);
    let newer = Box::new_in(2u64, &arena);
    let used = arena.allocated_bytes();
    drop(older);
    assert_eq!(arena.allocated_bytes(), used);
    assert_eq!(*newer, 2);
}

#[test]
fn growing_an_older_block_copies_exactly_its_bytes() {
    let arena = Arena::with_capacity(4096);
    let old = Layout::from_size_align(24, 8).unwrap();
    let block = (&arena).allocate(old).unwrap().cast::<u8>();
    // SAFETY: a live 24-byte block.
    unsafe {
        block
            .as_ptr()
            .copy_from(b"0123456789abcdefghijklmn".as_ptr(), 24)
    };
    let _newer = arena.alloc(0u64);
    let new = Layout::from_size_align(64, 8).unwrap();
    // SAFETY: `block` is live for `old`, and `new` is larger.
    let grown = unsafe { (&arena).grow(block, old, new) }
        .unwrap()
        .cast::<u8>();
    assert_ne!(grown, block);
    // SAFETY: the grown block is live for 64 bytes, the first 24 copied.
    let bytes = unsafe { std::slice::from_raw_parts(grown.as_ptr(), 24) };
    assert_eq!(bytes, b"0123456789abcdefghijklmn");
}

#[test]
fn allocate_zeroed_reads_zero_even_after_reuse() {
    let mut arena = Arena::with_capacity(1 << 16);
    arena.alloc_slice_fill_copy(10_000, 0xEEu8);
    arena.reset();
    let layout = Layout::from_size_align(20_000, 8).unwrap();
    let block = (&arena).allocate_zeroed(layout).unwrap();
    // SAFETY: a live 20 000-byte block.
    let bytes = unsafe { block.as_ref() };
    assert!(bytes.iter().all(|&b| b == 0));
}

#[test]
fn grow_zeroed_in_place_zeroes_reused_bytes() {
    let mut arena = Arena::with_capacity(1 << 16);
    arena.alloc_slice_fill_copy(512, 0xEEu8);
    arena.reset();
    let old = Layout::from_size_align(8, 8).unwrap();
    let block = (&arena).allocate(old).unwrap().cast::<u8>();
    let new = Layout::from_size_align(256, 8).unwrap();
    // SAFETY: the newest block, live for `old`.
    let grown = unsafe { (&arena).grow_zeroed(block, old, new) }.unwrap();
    assert_eq!(grown.cast::<u8>(), block, "in place");
    // SAFETY: live for 256 bytes.
    let bytes = unsafe { grown.as_ref() };
    assert!(bytes[8..].iter().all(|&b| b == 0));
}

#[test]
fn shrinking_the_newest_block_returns_the_tail() {
    let arena = Arena::with_capacity(4096);
    let mut v: Vec<u8, &Arena> = Vec::with_capacity_in(1000, &arena);
    v.extend_from_slice(&[1, 2, 3]);
    v.shrink_to_fit();
    assert_eq!(arena.allocated_bytes(), 8);
    assert_eq!(&v[..], &[1, 2, 3]);
}

#[test]
fn exhaustion_through_the_trait_is_an_alloc_error() {
    let arena = Arena::with_capacity(4096);
    let mut v: Vec<u8, &Arena> = Vec::new_in(&arena);
    assert!(v.try_reserve(8192).is_err());
    assert!((&arena)
        .allocate(Layout::from_size_align(isize::MAX as usize - 7, 8).unwrap())
        .is_err());
}
