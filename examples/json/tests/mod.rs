//! Unit tests, grouped by what they check.

mod accept;
mod reject;
mod roundtrip;

use allocator_api2::alloc::Global;

use crate::json::{parse, ParseError, Value};

/// Parses with the global allocator, panicking with the error on failure.
fn ok(src: &str) -> Value<'_, Global> {
    parse(src, Global).unwrap_or_else(|e| panic!("{src:?}: {e}"))
}

/// Parses expecting failure.
fn err(src: &str) -> ParseError {
    match parse(src, Global) {
        Ok(v) => panic!("{src:?} parsed as {v:?}"),
        Err(e) => e,
    }
}

/// Node size drives memory traffic; this guards the niche-packed layout.
#[test]
fn nodes_stay_small() {
    use core::mem::size_of;
    assert_eq!(size_of::<Value<'_, Global>>(), 24);
    assert_eq!(size_of::<Value<'_, &bumpalo::Bump>>(), 32);
    assert_eq!(size_of::<Value<'_, &anon_arena::Arena>>(), 32);
}
