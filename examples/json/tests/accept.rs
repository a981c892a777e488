//! Every construct of RFC 8259 that must be accepted.

use allocator_api2::alloc::Global;

use super::ok;
use crate::json::{parse, Str, Value, MAX_DEPTH};

fn string(src: &str) -> String {
    match ok(src) {
        Value::String(s) => s.to_string(),
        other => panic!("{src:?} gave {other:?}"),
    }
}

fn number(src: &str) -> f64 {
    match ok(src) {
        Value::Number(n) => n,
        other => panic!("{src:?} gave {other:?}"),
    }
}

#[test]
fn literals() {
    assert!(matches!(ok("null"), Value::Null));
    assert!(matches!(ok("true"), Value::Bool(true)));
    assert!(matches!(ok("false"), Value::Bool(false)));
}

#[test]
fn numbers() {
    for (src, want) in [
        ("0", 0.0f64),
        ("-0", -0.0),
        ("7", 7.0),
        ("-42", -42.0),
        ("3.5", 3.5),
        ("-0.25", -0.25),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("1e+3", 1000.0),
        ("25e-1", 2.5),
        ("0.5E-1", 0.05),
        ("123456789012345678901234", 1.2345678901234568e23),
        ("1e-400", 0.0),
    ] {
        assert_eq!(number(src).to_bits(), want.to_bits(), "{src}");
    }
}

#[test]
fn plain_strings_borrow_from_input() {
    let src = r#""hello wörld""#;
    match ok(src) {
        Value::String(s) => {
            assert_eq!(&*s, "hello wörld");
            assert!(matches!(s, Str::Borrowed(_)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(string(r#""""#), "");
    // DEL and non-ASCII need no escaping.
    assert_eq!(string("\"\u{7f}日本\""), "\u{7f}日本");
}

#[test]
fn every_escape() {
    assert_eq!(
        string(r#""\" \\ \/ \b \f \n \r \t""#),
        "\" \\ / \u{8} \u{c} \n \r \t"
    );
    assert_eq!(string(r#""\u0041\u00e9\u4E2D""#), "Aé中");
    assert_eq!(string(r#""\u0000""#), "\0");
    assert_eq!(string(r#""\ud83d\ude00!""#), "😀!");
    assert_eq!(string(r#""\uDBFF\uDFFF""#), "\u{10FFFF}");
    assert!(matches!(ok(r#""a\nb""#), Value::String(Str::Owned(_))));
}

#[test]
fn long_strings_cross_scan_words() {
    for len in 0..40 {
        let body = "x".repeat(len);
        assert_eq!(string(&format!("\"{body}\"")), body);
        assert_eq!(
            string(&format!("\"{body}\\n{body}\"")),
            format!("{body}\n{body}")
        );
    }
}

#[test]
fn arrays_and_objects() {
    let v = ok(r#" { "a" : [1, 2, {"b": null}], "c": {}, "d": [], "a": true } "#);
    let Value::Object(members) = &v else {
        panic!("{v:?}")
    };
    let keys: Vec<&str> = members.iter().map(|(k, _)| &**k).collect();
    // Order and duplicates are preserved.
    assert_eq!(keys, ["a", "c", "d", "a"]);
    assert!(matches!(v.get("a"), Some(Value::Array(items)) if items.len() == 3));
    assert!(matches!(v.get("c"), Some(Value::Object(m)) if m.is_empty()));
    assert!(matches!(v.get("d"), Some(Value::Array(a)) if a.is_empty()));
    assert!(v.get("zzz").is_none());
}

#[test]
fn all_whitespace_kinds() {
    assert!(matches!(ok(" \t\r\n[ \t\r\n1 \t\r\n, 2 ] \n"), Value::Array(a) if a.len() == 2));
}

#[test]
fn nesting_up_to_the_limit() {
    let deep = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
    ok(&deep);
    let deep_objects = r#"{"k":"#.repeat(MAX_DEPTH) + "0" + &"}".repeat(MAX_DEPTH);
    ok(&deep_objects);
}

#[test]
fn parses_in_a_bump_arena() {
    let bump = bumpalo::Bump::new();
    let src = r#"{"list": [1, "two\n", {"three": [3.0]}], "x": "\u00e9"}"#;
    let in_bump = parse(src, &bump).unwrap();
    let in_heap = parse(src, Global).unwrap();
    assert!(in_bump == in_heap);
    assert!(bump.allocated_bytes() > 0);
    assert_eq!(crate::json::distinct_keys(&in_bump, &bump), 3);
    assert_eq!(crate::json::distinct_keys(&in_heap, Global), 3);

    let arena = anon_arena::Arena::with_capacity(1 << 16);
    let in_arena = parse(src, &arena).unwrap();
    assert!(in_arena == in_heap);
    assert_eq!(crate::json::distinct_keys(&in_arena, &arena), 3);
}
