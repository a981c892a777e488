//! With the `asan` feature under AddressSanitizer, a stale reference into
//! an arena is reported instead of silently reading reused memory. Only
//! compiled when `build.rs` emits `cfg(asan)`; run by `ci/asan.sh`:
//!
//! ```sh
//! RUSTFLAGS=-Zsanitizer=address cargo +nightly test \
//!     --target x86_64-unknown-linux-gnu --features asan --test all asan
//! ```
#![cfg(asan)]

use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};

use anon_arena::Arena;

use crate::common::{in_child, ChildEnd};

/// Runs `body` in a forked child with its stderr sent to a file; returns
/// how the child ended and what it wrote (ASan's report, if any).
fn child_report(body: impl FnOnce()) -> (ChildEnd, String) {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let name = format!("anon-arena-asan-{}-{call}", std::process::id());
    let path = std::env::temp_dir().join(name);
    let file = std::fs::File::create(&path).expect("temporary file for the child's stderr");
    let end = in_child(|| {
        // SAFETY: both descriptors are open; the child's stderr becomes the file.
        unsafe { libc::dup2(file.as_raw_fd(), 2) };
        body();
        0
    });
    // Read by path: the child shared the descriptor's offset and moved it.
    let report = std::fs::read_to_string(&path).expect("read the child's stderr");
    std::fs::remove_file(&path).ok();
    (end, report)
}

#[test]
fn a_read_through_a_reference_kept_across_reset_is_reported() {
    let (end, report) = child_report(|| {
        let mut arena = Arena::with_capacity(1 << 20);
        let stale: *const u64 = arena.alloc(42u64);
        arena.reset();
        // SAFETY: none — this is the bug ASan must catch.
        let value = unsafe { stale.read_volatile() };
        eprintln!("read {value} after reset unnoticed");
    });
    assert_ne!(end, ChildEnd::Exited(0), "{report}");
    assert!(report.contains("use-after-poison"), "{report}");
}

#[test]
fn a_read_past_the_end_of_a_block_is_reported() {
    let (end, report) = child_report(|| {
        let arena = Arena::with_capacity(1 << 20);
        let block = arena.alloc([1u8; 3]).as_ptr();
        // SAFETY: none — byte 5 is rounding padding, not part of the block.
        let value = unsafe { block.add(5).read_volatile() };
        eprintln!("read {value} past the block unnoticed");
    });
    assert_ne!(end, ChildEnd::Exited(0), "{report}");
    assert!(report.contains("use-after-poison"), "{report}");
}

#[test]
fn live_blocks_and_reused_space_are_not_reported() {
    let (end, report) = child_report(|| {
        let mut arena = Arena::with_capacity(1 << 20);
        for round in 0..3u8 {
            let block = arena.alloc_slice_fill_copy(100_000, round);
            assert!(block.iter().all(|&b| b == round));
            let mut v = allocator_api2::vec::Vec::new_in(&arena);
            v.extend(0..10_000u32);
            assert_eq!(v.iter().sum::<u32>(), 49_995_000);
            drop(v);
            arena.reset();
        }
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}

#[test]
fn a_new_mapping_where_a_dropped_arena_was_is_not_poisoned() {
    let (end, report) = child_report(|| {
        let mut reused = false;
        for _ in 0..4 {
            let arena = Arena::with_capacity(1 << 20);
            let old = arena.alloc_slice_fill_copy(1000, 1u8).as_ptr() as usize;
            drop(arena);
            // The kernel tends to hand the same addresses out again.
            let region = anon_arena::Region::new(1 << 20).unwrap();
            let base = region.as_ptr() as usize;
            reused |= (base..base + region.len()).contains(&old);
            // SAFETY: the whole region is fresh, readable memory.
            let bytes = unsafe { std::slice::from_raw_parts(region.as_ptr(), region.len()) };
            assert!(bytes.iter().all(|&b| b == 0));
        }
        eprintln!("addresses reused: {reused}");
    });
    assert_eq!(end, ChildEnd::Exited(0), "{report}");
}
