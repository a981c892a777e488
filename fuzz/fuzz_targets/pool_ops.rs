//! `Pool<T>`'s boxes (`try_alloc`, drop, `into_inner`) and `Allocator`
//! blocks (allocate, grow, shrink, deallocate) under the shared checker's
//! slot and count rules.
#![no_main]

mod asan_options;

use std::cell::RefCell;

use anon_arena_model::pool_ops::Session;
use libfuzzer_sys::fuzz_target;

thread_local! {
    // One pool for the whole run, emptied after and checked before each
    // input.
    static SESSION: RefCell<Session> = RefCell::new(Session::new());
}

fuzz_target!(|bytes: &[u8]| {
    if let Err(failure) = SESSION.with_borrow_mut(|session| session.run_bytes(bytes)) {
        panic!("{failure}");
    }
});
