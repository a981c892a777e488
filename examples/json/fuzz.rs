//! A libFuzzer-style entry point, for `fuzz/` targets and the unit tests.

use allocator_api2::alloc::Global;
use anon_arena::Arena;

use crate::json::{parse, parse_bytes, to_string};

/// Parses arbitrary bytes and checks the parser's invariants, panicking on
/// a violation so a fuzzer records the input.
///
/// Checked: parsing never panics; bytes that are not UTF-8 are rejected;
/// the global-heap, `Arena` and `bumpalo` trees (or errors) agree; and a
/// parsed document, serialised and parsed again, gives an equal tree.
pub fn fuzz_one(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        assert!(parse_bytes(data, Global).is_err(), "accepted invalid UTF-8");
        let arena = Arena::new();
        assert!(
            parse_bytes(data, &arena).is_err(),
            "arena accepted invalid UTF-8"
        );
        return;
    };
    let arena = Arena::new();
    let bump = bumpalo::Bump::new();
    let in_heap = parse(text, Global);
    let in_arena = parse(text, &arena);
    let in_bump = parse(text, &bump);
    match (&in_heap, &in_arena, &in_bump) {
        (Ok(a), Ok(b), Ok(c)) => {
            assert!(a == b && a == c, "allocators disagree on {text:?}")
        }
        (Err(a), Err(b), Err(c)) => {
            assert!(
                a == b && a == c,
                "allocators disagree on the error for {text:?}"
            );
            // Display must not panic either.
            let _ = a.to_string();
        }
        _ => panic!("allocators disagree on success for {text:?}"),
    }
    if let Ok(value) = in_heap {
        let json = to_string(&value);
        let again = parse(&json, Global);
        match &again {
            Ok(again) => assert!(*again == value, "round trip changed {text:?} into {json:?}"),
            Err(e) => panic!("serialised {text:?} as unparsable {json:?}: {e}"),
        }
    }
}
