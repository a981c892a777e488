#![no_main]

use std::cell::RefCell;

use anon_arena::allocator_api2::vec::Vec;
use anon_arena::{Arena, Error, TryVec};
use libfuzzer_sys::fuzz_target;

/// The most one input may allocate: past it, the input is rejected.
const CAP: usize = 16 << 10;

thread_local! {
    // One mapping for the whole run, reset for each input.
    static ARENA: RefCell<Arena> = RefCell::new(Arena::with_capacity(1 << 20));
}

/// The code under test: the input's lines, upper-cased into the arena and
/// sorted. A full arena is an error like any other.
fn sorted_lines<'a>(input: &str, arena: &'a Arena) -> Result<Vec<&'a str, &'a Arena>, Error> {
    let mut lines = Vec::new_in(arena);
    for line in input.lines() {
        let copy = arena.try_alloc_str(line)?;
        copy.make_ascii_uppercase();
        lines.try_push(&*copy)?;
    }
    lines.sort_unstable();
    Ok(lines)
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    ARENA.with_borrow_mut(|arena| {
        arena.reset();
        arena.set_allocation_limit(Some(CAP));
        match sorted_lines(input, arena) {
            Ok(lines) => assert!(lines.is_sorted()),
            Err(Error::Exhausted { .. }) => {} // over the cap: rejected
            Err(other) => panic!("{other}"),
        }
    });
});
