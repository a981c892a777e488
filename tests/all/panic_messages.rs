//! The panicking `alloc_slice_*` forms name the request they could not
//! serve, also when its size overflows the address space (where no
//! `Layout` for it exists).

use std::panic::{catch_unwind, AssertUnwindSafe};

use anon_arena::{Arena, SharedArena, StackArena, SyncArena};

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the request must panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .expect("a formatted message")
}

/// What every overflowing request of `usize::MAX` `u64`s must say.
#[track_caller]
fn names_the_whole_request(allocator: &str, message: String) {
    let expected = format!(
        "{allocator}: cannot allocate 18446744073709551615 elements of 8 bytes \
         (147573952589676412920 bytes) aligned to 8: size or alignment overflows"
    );
    assert!(message.starts_with(&expected), "{message}");
}

/// Every panicking `alloc_slice_*` form of a bump type, asked for
/// `usize::MAX` `u64`s.
macro_rules! every_slice_form {
    ($name:literal, $arena:expr) => {{
        let arena = $arena;
        names_the_whole_request(
            $name,
            panic_message(|| {
                arena.alloc_slice_fill_default::<u64>(usize::MAX);
            }),
        );
        names_the_whole_request(
            $name,
            panic_message(|| {
                arena.alloc_slice_fill_copy(usize::MAX, 0u64);
            }),
        );
        names_the_whole_request(
            $name,
            panic_message(|| {
                arena.alloc_slice_fill_clone(usize::MAX, &0u64);
            }),
        );
        names_the_whole_request(
            $name,
            panic_message(|| {
                arena.alloc_slice_fill_with(usize::MAX, |i| i as u64);
            }),
        );
        names_the_whole_request(
            $name,
            panic_message(|| {
                arena.alloc_slice_fill_iter((0..usize::MAX).map(|i| i as u64));
            }),
        );
    }};
}

#[test]
fn overflowing_slices_name_the_request_in_every_bump_type() {
    every_slice_form!("Arena", Arena::with_capacity(4096));
    every_slice_form!("StackArena", StackArena::with_capacity(4096));
    every_slice_form!("SyncArena", SyncArena::with_capacity(4096));
    let sync = SyncArena::with_capacity(4096);
    every_slice_form!("LocalArena", sync.local());
}

#[test]
fn overflowing_shared_slices_name_the_request() {
    let shared = SharedArena::with_capacity(4096).unwrap();
    names_the_whole_request(
        "SharedArena",
        panic_message(|| {
            shared.alloc_slice_fill_copy(usize::MAX, 0u64);
        }),
    );
}

#[test]
fn slices_that_do_not_fit_keep_the_layout_message() {
    let arena = Arena::with_capacity(4096);
    let message = panic_message(|| {
        arena.alloc_slice_fill_default::<u64>(1000);
    });
    assert!(
        message.starts_with("Arena: cannot allocate 8000 bytes aligned to 8: out of capacity"),
        "{message}"
    );
}
