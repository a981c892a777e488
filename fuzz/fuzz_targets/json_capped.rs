#![no_main]
//! The json demo's parser (examples/json) on any bytes, into an arena
//! capped at 16 KiB and reset per input: malformed, deeply nested and huge
//! documents must each end in a `ParseError` (out of memory, for what
//! outgrows the cap), never in a panic or an abort.

mod asan_options;

use std::cell::RefCell;

use anon_arena::Arena;
use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)] // the demo's module, of which this uses the parser
#[path = "../../examples/json/mod.rs"]
mod json;

/// The most one document may allocate in the arena.
const CAP: usize = 16 << 10;

thread_local! {
    static ARENA: RefCell<Arena> = RefCell::new(Arena::with_capacity(1 << 20));
}

fuzz_target!(|data: &[u8]| {
    ARENA.with_borrow_mut(|arena| {
        arena.reset();
        arena.set_allocation_limit(Some(CAP));
        if let Err(error) = json::parse_bytes(data, &*arena) {
            let _ = error.to_string();
        }
    });
});
