//! Every allocator through allocator-api2's `Allocator` (allocate, grow,
//! shrink, deallocate, allocate_zeroed, reset, release) under the shared
//! checker; the first byte picks the allocator. A new allocator type joins
//! with one more arm.
#![no_main]

mod asan_options;

use std::cell::RefCell;

use anon_arena::{Arena, PageAllocator, StackArena, SyncArena};
use anon_arena_model::api::Session;
use libfuzzer_sys::fuzz_target;

thread_local! {
    // One of each for the whole run, reset and checked before each input.
    static ARENA: RefCell<Session<Arena>> = RefCell::new(Session::new());
    static SYNC: RefCell<Session<SyncArena>> = RefCell::new(Session::new());
    static STACK: RefCell<Session<StackArena>> = RefCell::new(Session::new());
    // No reset: each program frees what it leaves live.
    static PAGES: RefCell<Session<PageAllocator>> = RefCell::new(Session::new());
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&which, program)) = bytes.split_first() else {
        return;
    };
    let result = match which % 4 {
        0 => ARENA.with_borrow_mut(|session| session.run_bytes(program)),
        1 => SYNC.with_borrow_mut(|session| session.run_bytes(program)),
        2 => STACK.with_borrow_mut(|session| session.run_bytes(program)),
        _ => PAGES.with_borrow_mut(|session| session.run_bytes(program)),
    };
    if let Err(failure) = result {
        panic!("{failure}");
    }
});
