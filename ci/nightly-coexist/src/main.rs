//! anon-arena's `nightly` next to another crate's `allocator-api2/nightly`:
//! both make allocator-api2 0.2's `Allocator` the standard library's, so
//! `&Arena` implements that one trait once, and std's `Vec` and
//! allocator-api2's `Vec` (the same type now) both take it.
#![feature(allocator_api)]

use anon_arena::{Arena, TryVec};

fn main() {
    let arena = Arena::with_capacity(1 << 16);
    let mut std_vec: Vec<u32, &Arena> = Vec::new_in(&arena);
    std_vec.extend(0..100);
    let mut api2_vec: allocator_api2::vec::Vec<u32, &Arena> = std_vec;
    api2_vec.try_push(100).expect("room for one more");
    let err = api2_vec.try_extend_from_slice(&[0; 1 << 16]).unwrap_err();
    assert_eq!(api2_vec.len(), 101);
    println!("nightly-coexist: one Allocator impl, std's; {} u32 in the arena; {err}", api2_vec.len());
}
