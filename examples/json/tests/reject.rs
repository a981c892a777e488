//! Malformed input and error positions.

use allocator_api2::alloc::Global;

use super::err;
use crate::json::{parse_bytes, ErrorKind, MAX_DEPTH};

#[test]
fn malformed_inputs_are_rejected_with_the_right_kind() {
    use ErrorKind::*;
    let table: &[(&str, ErrorKind)] = &[
        ("", UnexpectedEof),
        ("   ", UnexpectedEof),
        ("[", UnexpectedEof),
        ("[1,", UnexpectedEof),
        ("{\"a\":1", UnexpectedEof),
        ("[1 2]", ExpectedCommaOrBracket),
        ("[1,]", ExpectedValue),
        ("[,1]", ExpectedValue),
        ("{\"a\":1,}", ExpectedKey),
        ("{\"a\" 1}", ExpectedColon),
        ("{a:1}", ExpectedKey),
        ("{\"a\":1 \"b\":2}", ExpectedCommaOrBrace),
        ("{'a':1}", ExpectedKey),
        ("tru", InvalidLiteral),
        ("nul", InvalidLiteral),
        ("True", ExpectedValue),
        ("01", LeadingZero),
        ("-01", LeadingZero),
        ("1.", InvalidNumber),
        (".5", ExpectedValue),
        ("-", InvalidNumber),
        ("1e", InvalidNumber),
        ("1e+", InvalidNumber),
        ("+1", ExpectedValue),
        ("NaN", ExpectedValue),
        ("1e999", NumberOutOfRange),
        ("0x10", TrailingCharacters),
        ("\"abc", UnterminatedString),
        ("\"a\tb\"", ControlCharacter),
        ("\"a\nb\"", ControlCharacter),
        ("\"\\x\"", InvalidEscape),
        ("\"\\u12\"", InvalidUnicodeEscape),
        ("\"\\u12g4\"", InvalidUnicodeEscape),
        ("\"\\ud800\"", LoneSurrogate),
        ("\"\\udc00\"", LoneSurrogate),
        ("\"\\ud800\\u0041\"", LoneSurrogate),
        ("\"\\ud800\\n\"", LoneSurrogate),
        ("\"abc\\", UnexpectedEof),
        ("1 2", TrailingCharacters),
        ("{} x", TrailingCharacters),
        ("[1]]", TrailingCharacters),
        ("\u{feff}1", ExpectedValue),
    ];
    for &(src, kind) in table {
        assert_eq!(err(src).kind, kind, "{src:?}");
    }
}

#[test]
fn error_positions_are_line_and_character_column() {
    let e = err("{\n  \"a\": [1, 2,\n    3 4]\n}");
    assert_eq!(
        (e.line, e.column, e.kind),
        (3, 7, ErrorKind::ExpectedCommaOrBracket)
    );
    assert_eq!(e.to_string(), "expected ',' or ']' at line 3, column 7");

    // Columns count characters, not bytes.
    let e = err("[\"é\", x]");
    assert_eq!((e.line, e.column), (1, 7));

    let e = err("\"abc");
    assert_eq!((e.line, e.column), (1, 1), "points at the opening quote");

    let e = err("[1,\n");
    assert_eq!(e.to_string(), "unexpected end of input at line 2, column 1");
}

#[test]
fn depth_limit_is_an_error_not_a_crash() {
    let too_deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
    let e = err(&too_deep);
    assert_eq!(
        (e.kind, e.column),
        (ErrorKind::DepthLimitExceeded, MAX_DEPTH + 1)
    );
    // Far deeper input must also fail cleanly.
    let levels = if cfg!(miri) { 2_000 } else { 100_000 };
    assert_eq!(
        err(&"[{\"a\":".repeat(levels)).kind,
        ErrorKind::DepthLimitExceeded
    );
}

#[test]
fn invalid_utf8_is_rejected_at_the_bad_byte() {
    let e = parse_bytes(b"[\"ab\xff\"]", Global).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::InvalidUtf8, 4));
}

#[test]
fn allocator_exhaustion_is_an_error_not_an_abort() {
    let full = anon_arena::Arena::with_capacity(4096);
    full.alloc_slice_fill_copy(4096, 0u8);
    let e = crate::json::parse("[1, 2]", &full).unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutOfMemory);
    let e = crate::json::parse("\"a\\nb\"", &full).unwrap_err();
    assert_eq!(e.kind, ErrorKind::OutOfMemory);
    assert!(crate::json::parse("{\"k\": \"plain\"}", &full).is_err());
    // Empty containers and unescaped strings need no allocation.
    assert!(crate::json::parse("[]", &full).is_ok());
    assert!(crate::json::parse("\"plain\"", &full).is_ok());
}
