//! The README's "Fuzzing and property testing" section: its cargo-fuzz
//! target is the one in `fuzz/`, and its proptest test, given inputs that
//! outgrow the cap, fails with a shrunk input and the arena's message
//! instead of aborting. (The README's blocks themselves run as doctests.)

use std::cell::RefCell;

use anon_arena::allocator_api2::vec::Vec;
use anon_arena::{Arena, Exhausted};
use proptest::prelude::*;
use proptest::test_runner::Config;

const README: &str = include_str!("../../README.md");
const FUZZ_TARGET: &str = include_str!("../../fuzz/fuzz_targets/capped_lines.rs");

#[test]
fn the_readme_fuzz_target_is_the_one_in_fuzz() {
    let start = README
        .find("```rust\n#![no_main]")
        .expect("the README shows the fuzz target");
    let block = &README[start + "```rust\n".len()..];
    let block = &block[..block.find("```").expect("the block ends")];
    let shown: String = block
        .lines()
        .filter(|line| !(line.starts_with("# ") || *line == "#"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(
        shown, FUZZ_TARGET,
        "README and fuzz/fuzz_targets/capped_lines.rs differ"
    );
}

/// The README's code under test.
fn running_max<'a>(values: &[u32], arena: &'a Arena) -> Vec<u32, &'a Arena> {
    let mut maxima = Vec::new_in(arena);
    let mut max = 0;
    for &value in values {
        max = max.max(value);
        maxima.push(max);
    }
    maxima
}

#[test]
#[cfg_attr(miri, ignore = "shrinking runs thousands of cases")]
#[should_panic(expected = "minimal failing input")]
fn an_input_past_the_cap_is_a_shrunk_failure_with_the_arena_message() {
    let arena = Arena::builder()
        .capacity(1 << 20)
        .on_exhausted(Exhausted::Panic)
        .build()
        .unwrap();
    let arena = RefCell::new(arena);
    let config = Config {
        failure_persistence: None,
        // Enough to shrink the length to the smallest that fails; the
        // values need not all reach 0.
        max_shrink_iters: 10_000,
        ..Config::default()
    };
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        proptest!(config, |(values in prop::collection::vec(any::<u32>(), 0..5000))| {
            let mut arena = arena.borrow_mut();
            arena.reset();
            arena.set_allocation_limit(Some(16 << 10));
            let maxima = running_max(&values, &arena);
            prop_assert_eq!(maxima.len(), values.len());
        });
    }));
    let message = crate::common::panic_message(run.unwrap_err());
    println!("{message}");
    assert!(
        message.starts_with(
            "Test failed: Arena: cannot allocate 32768 bytes aligned to 4 through `Allocator`: \
             out of capacity: 32768 bytes requested, 0 bytes remaining \
             (capacity 1048576 bytes, allocation limit 16384 bytes)"
        ),
        "{message}"
    );
    let (_, input) = message
        .split_once("minimal failing input: values = [")
        .expect("a shrunk input");
    let values = input.lines().filter(|line| line.ends_with(',')).count();
    assert_eq!(values, 4097, "shrunk to one value more than 16 KiB holds");
    std::panic::resume_unwind(Box::new(message));
}
