//! Unit tests, grouped by what they check.

mod accept;
mod reject;
mod roundtrip;

use allocator_api2::alloc::Global;

use crate::json::{parse, Heap, ParseError, Slices, Value};

/// Parses with the global allocator, panicking with the error on failure.
fn ok(src: &str) -> Value<'_, Heap> {
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
/// An arena tree's members are smaller than the heap tree's: a name is a
/// `&str`, not a borrowed-or-owned string.
#[test]
fn nodes_stay_small() {
    use crate::json::Member;
    use core::mem::size_of;
    assert_eq!(size_of::<Value<'_, Heap>>(), 24);
    assert_eq!(size_of::<Value<'_, Slices>>(), 24);
    assert_eq!(size_of::<Member<'_, Heap>>(), 48);
    assert_eq!(size_of::<Member<'_, Slices>>(), 40);
}
