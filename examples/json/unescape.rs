//! JSON string escapes: reading one (the parser checks every escape of a
//! string with it before the string is built) and decoding a whole checked
//! string, as a `Display` value so that it can be formatted straight into
//! an arena or written into a scratch buffer.

use core::fmt;

use crate::json::error::ErrorKind;

/// What one escape stands for.
pub enum Escaped {
    /// A one-byte escape such as `\n`.
    Ascii(u8),
    /// A `\uXXXX` escape (or a surrogate pair of them).
    Char(char),
}

/// Reads the escape whose backslash is at `at`: what it stands for and the
/// offset after it, or the error and where it is.
pub fn escape_at(bytes: &[u8], at: usize) -> Result<(Escaped, usize), (ErrorKind, usize)> {
    let ascii = match bytes.get(at + 1) {
        Some(b'"') => b'"',
        Some(b'\\') => b'\\',
        Some(b'/') => b'/',
        Some(b'b') => 0x08,
        Some(b'f') => 0x0c,
        Some(b'n') => b'\n',
        Some(b'r') => b'\r',
        Some(b't') => b'\t',
        Some(b'u') => return unicode_escape(bytes, at),
        Some(_) => return Err((ErrorKind::InvalidEscape, at)),
        None => return Err((ErrorKind::UnexpectedEof, at + 1)),
    };
    Ok((Escaped::Ascii(ascii), at + 2))
}

/// Decodes `\uXXXX` at `at`, pairing surrogates.
fn unicode_escape(bytes: &[u8], at: usize) -> Result<(Escaped, usize), (ErrorKind, usize)> {
    let first = hex4(bytes, at)?;
    let (code, end) = match first {
        0xD800..=0xDBFF => {
            let is_pair = bytes.get(at + 6..at + 8) == Some(b"\\u");
            let second = if is_pair { hex4(bytes, at + 6)? } else { 0 };
            if !(0xDC00..=0xDFFF).contains(&second) {
                return Err((ErrorKind::LoneSurrogate, at));
            }
            (
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00),
                at + 12,
            )
        }
        0xDC00..=0xDFFF => return Err((ErrorKind::LoneSurrogate, at)),
        _ => (first, at + 6),
    };
    match char::from_u32(code) {
        Some(c) => Ok((Escaped::Char(c), end)),
        None => Err((ErrorKind::LoneSurrogate, at)),
    }
}

/// The four hex digits after the `\u` that starts at `at`.
fn hex4(bytes: &[u8], at: usize) -> Result<u32, (ErrorKind, usize)> {
    let digits = bytes
        .get(at + 2..at + 6)
        .ok_or((ErrorKind::InvalidUnicodeEscape, at))?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let nibble = (d as char)
            .to_digit(16)
            .ok_or((ErrorKind::InvalidUnicodeEscape, at))?;
        Ok(acc << 4 | nibble)
    })
}

/// The text of a string's contents (between its quotes) whose escapes the
/// parser has checked: formatting it writes the decoded text, one run or
/// escape at a time.
pub struct Unescaped<'s>(pub &'s str);

impl fmt::Display for Unescaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        decode_into(self.0, f)
    }
}

/// Writes the decoded text of checked string contents `raw` to `out`.
pub fn decode_into(raw: &str, out: &mut impl fmt::Write) -> fmt::Result {
    let bytes = raw.as_bytes();
    let mut run = 0;
    while let Some(offset) = bytes[run..].iter().position(|&b| b == b'\\') {
        let at = run + offset;
        out.write_str(&raw[run..at])?;
        // Checked by the parser, so never an error here.
        let (escaped, end) = escape_at(bytes, at).map_err(|_| fmt::Error)?;
        match escaped {
            Escaped::Ascii(b) => out.write_char(b as char)?,
            Escaped::Char(c) => out.write_char(c)?,
        }
        run = end;
    }
    out.write_str(&raw[run..])
}
