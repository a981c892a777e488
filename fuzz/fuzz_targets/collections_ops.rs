//! The crate's collections (`String`, `Vec` through `TryVec`,
//! `collect_in`, leaks) in an `Arena` under an allocation limit the
//! program moves, each against a `std` twin, under the shared checks.
#![no_main]

mod asan_options;

use std::cell::RefCell;

use anon_arena_model::collections_ops::Session;
use libfuzzer_sys::fuzz_target;

thread_local! {
    // One arena for the whole run, reset and checked before each input.
    static SESSION: RefCell<Session> = RefCell::new(Session::new());
}

fuzz_target!(|bytes: &[u8]| {
    if let Err(failure) = SESSION.with_borrow_mut(|session| session.run_bytes(bytes)) {
        panic!("{failure}");
    }
});
