//! Generated documents, serialisation round trips and a mini fuzz loop.

use allocator_api2::alloc::Global;

use crate::json::generate::Rng;
use crate::json::{fuzz_one, generate, parse, to_string, Value};
use anon_arena::Arena;

/// Document size for the generated-input tests: large enough to exercise
/// every construct, small enough for Miri to interpret.
const DOC: usize = if cfg!(miri) { 8 << 10 } else { 1 << 20 };

#[test]
fn generated_document_round_trips_in_every_allocator() {
    let doc = generate(DOC, 7);
    assert!(doc.len() >= DOC);
    let heap = parse(&doc, Global).unwrap();
    let bump = bumpalo::Bump::new();
    let in_bump = parse(&doc, &bump).unwrap();
    assert!(heap == in_bump);
    let arena = Arena::new();
    let in_arena = parse(&doc, &arena).unwrap();
    assert!(heap == in_arena);
    // The tree asks for the same bytes whatever holds it; the arena adds
    // only rounding to 8 per block.
    let stats = in_arena.stats(&doc);
    assert!(arena.allocated_bytes() >= stats.bytes);
    assert!(arena.allocated_bytes() <= stats.bytes + 8 * stats.values);

    assert_eq!(heap.stats(&doc).owned_strings, stats.owned_strings);
    assert_eq!(
        in_bump.stats(&doc),
        stats,
        "the two arena trees have one shape"
    );
    assert!(stats.owned_strings > 0, "generator must exercise escapes");
    let Value::Array(records) = &heap else {
        panic!("top level is an array")
    };
    assert!(records.len() > DOC / 10_000);

    let json = to_string(&heap);
    let again = parse(&json, Global).unwrap();
    assert!(again == heap);
    // Serialising is deterministic, so a second trip is byte-identical.
    assert_eq!(to_string(&again), json);
}

#[test]
fn generator_is_deterministic() {
    assert_eq!(generate(10_000, 1), generate(10_000, 1));
    assert_ne!(generate(10_000, 1), generate(10_000, 2));
}

#[test]
fn serializer_escapes_what_it_must() {
    let v = parse(r#"["a\"b\\c\u0001\n\u2028é"]"#, Global).unwrap();
    assert_eq!(to_string(&v), "[\"a\\\"b\\\\c\\u0001\\n\u{2028}é\"]");
}

#[test]
fn fuzz_entry_survives_mutated_documents() {
    let seeds = [
        generate(2_000, 3),
        r#"{"a":[1,-2.5e-3,"\ud83d\ude00",true,null,{}],"b":"x\ty"}"#.to_owned(),
    ];
    let mut rng = Rng::new(11);
    for seed in &seeds {
        fuzz_one(seed.as_bytes());
        // Each round maps an arena and parses three times; Miri gets a taste.
        for _ in 0..if cfg!(miri) { 20 } else { 2_000 } {
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..1 + rng.below(4) {
                let at = rng.below(bytes.len());
                match rng.below(4) {
                    0 => bytes[at] = rng.next_u64() as u8,
                    1 => {
                        let tokens = b"{}[]\",:\\-0eE.u";
                        bytes[at] = tokens[rng.below(tokens.len())];
                    }
                    2 => {
                        bytes.remove(at);
                    }
                    _ => bytes.truncate(at),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            fuzz_one(&bytes);
        }
    }
}

#[test]
fn fuzz_entry_accepts_odd_inputs() {
    for input in [
        &b""[..],
        b"\xff",
        b"\"\xc3\"",
        b"-0",
        b"1E-5",
        b"1e22",
        b"123456789e-30",
        b"[\"\\u0000\"]",
        b"\"\\u007f\\u001f\"",
    ] {
        fuzz_one(input);
    }
}

#[test]
fn reset_arena_parses_the_next_document_in_the_same_memory() {
    let first = generate(DOC / 16, 1);
    let second = generate(DOC / 16, 2);
    let mut arena = Arena::with_capacity(4 << 20);
    let used_first = {
        let tree = parse(&first, &arena).unwrap();
        assert!(tree == parse(&first, Global).unwrap());
        arena.allocated_bytes()
    };
    arena.reset();
    let tree = parse(&second, &arena).unwrap();
    assert!(tree == parse(&second, Global).unwrap());
    assert!(used_first > 0 && arena.allocated_bytes() > 0);
}

#[test]
fn a_full_arena_is_a_parse_error_not_a_panic() {
    let doc = generate(16 << 10, 5);
    let arena = Arena::with_capacity(4096);
    let e = parse(&doc, &arena).unwrap_err();
    assert_eq!(e.kind, crate::json::ErrorKind::OutOfMemory);
    assert!(e.to_string().starts_with("out of memory at line "));
}
