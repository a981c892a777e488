//! Compact serialisation, used to check that parsing round-trips.

use core::fmt::Write;

use crate::json::tree::{Store, Value};

/// Serialises `value` as compact JSON.
pub fn to_string<'t, S: Store<'t>>(value: &Value<'t, S>) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

/// Appends `value` as compact JSON to `out`.
///
/// Numbers are written so that parsing them gives back the same `f64`:
/// Rust's `Debug` for floats prints the shortest round-tripping form, and
/// its syntax (`1e-7`, `-0.0`, `2.5`) is valid JSON for finite values, which
/// are the only ones the parser produces.
pub fn write_value<'t, S: Store<'t>>(value: &Value<'t, S>, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => {
            // Integral values print without ".0" because that is how such
            // numbers usually appear in JSON; the bound keeps `i64` exact.
            if n.fract() == 0.0 && n.abs() < 1e15 && !(*n == 0.0 && n.is_sign_negative()) {
                let _ = write!(out, "{}", *n as i64);
            } else {
                let _ = write!(out, "{n:?}");
            }
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

/// Appends `s` as a JSON string literal, escaping only what RFC 8259
/// requires.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut run_start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[run_start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        run_start = i + 1;
    }
    out.push_str(&s[run_start..]);
    out.push('"');
}
