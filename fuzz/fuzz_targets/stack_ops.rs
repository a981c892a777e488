//! `StackArena`'s marks, nested scopes (`scope_guard`) and LIFO pop / grow /
//! shrink through the `Allocator` trait, under the shared checker's scope
//! rule.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(failure) = anon_arena_model::stack_ops::run_bytes(bytes) {
        panic!("{failure}");
    }
});
