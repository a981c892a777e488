//! Parse errors carrying a human-readable position.

use core::fmt;

/// What went wrong; the position is kept separately in [`ParseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Input ended where more JSON was required.
    UnexpectedEof,
    /// Something other than a value start where a value was required.
    ExpectedValue,
    /// Inside an array, after an element.
    ExpectedCommaOrBracket,
    /// Inside an object, after a member.
    ExpectedCommaOrBrace,
    /// Inside an object, where a member name must start.
    ExpectedKey,
    /// After an object member name.
    ExpectedColon,
    /// A word starting like `true`, `false` or `null` but not one of them.
    InvalidLiteral,
    /// A number that does not follow the RFC 8259 grammar.
    InvalidNumber,
    /// A number with a superfluous leading zero, such as `01`.
    LeadingZero,
    /// A number too large to be represented as a finite `f64`.
    NumberOutOfRange,
    /// A raw byte below U+0020 inside a string.
    ControlCharacter,
    /// A backslash followed by a character that is not an escape.
    InvalidEscape,
    /// `\u` not followed by four hex digits.
    InvalidUnicodeEscape,
    /// A `\u` surrogate without its partner.
    LoneSurrogate,
    /// A string whose closing quote never came.
    UnterminatedString,
    /// Non-whitespace after the top-level value.
    TrailingCharacters,
    /// Containers nested deeper than [`crate::json::MAX_DEPTH`].
    DepthLimitExceeded,
    /// Byte input that is not UTF-8.
    InvalidUtf8,
    /// The allocator refused memory for the tree.
    OutOfMemory,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnexpectedEof => "unexpected end of input",
            Self::ExpectedValue => "expected a value",
            Self::ExpectedCommaOrBracket => "expected ',' or ']'",
            Self::ExpectedCommaOrBrace => "expected ',' or '}'",
            Self::ExpectedKey => "expected a string key",
            Self::ExpectedColon => "expected ':'",
            Self::InvalidLiteral => "invalid literal",
            Self::InvalidNumber => "invalid number",
            Self::LeadingZero => "leading zero in number",
            Self::NumberOutOfRange => "number out of range",
            Self::ControlCharacter => "control character in string",
            Self::InvalidEscape => "invalid escape",
            Self::InvalidUnicodeEscape => "invalid \\u escape",
            Self::LoneSurrogate => "lone surrogate in \\u escape",
            Self::UnterminatedString => "unterminated string",
            Self::TrailingCharacters => "trailing characters",
            Self::DepthLimitExceeded => "nesting too deep",
            Self::InvalidUtf8 => "invalid UTF-8",
            Self::OutOfMemory => "out of memory",
        })
    }
}

/// A parse failure at a 1-based line and column.
///
/// The column counts Unicode scalar values, not bytes, so it matches what
/// an editor shows for non-ASCII input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset into the input, for programs that want to slice it.
    pub offset: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl ParseError {
    /// Builds an error for byte `offset` of `input`.
    ///
    /// Line and column are derived here rather than tracked while parsing
    /// because errors are rare and the hot loop should not pay for them.
    #[cold]
    pub fn at(input: &[u8], offset: usize, kind: ErrorKind) -> Self {
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        // Counting non-continuation bytes counts characters; it stays
        // meaningful even on the invalid-UTF-8 path.
        let column = 1 + before[line_start..]
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80)
            .count();
        ParseError {
            line,
            column,
            offset,
            kind,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.kind, self.line, self.column
        )
    }
}

impl std::error::Error for ParseError {}
