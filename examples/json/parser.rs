//! The parser: an explicit-stack state machine over the input bytes.
//!
//! Nesting is tracked in heap stacks instead of recursion so that deep input
//! is an error, never a stack overflow.  Finished children wait on shared
//! scratch stacks until their container closes; the container is then
//! allocated once, at its exact size, in the caller's allocator.

use allocator_api2::alloc::Allocator;
use allocator_api2::boxed::Box;
use allocator_api2::vec::Vec as AVec;

use crate::json::error::{ErrorKind, ParseError};
use crate::json::number::parse_number;
use crate::json::scan::find_special;
use crate::json::tree::{Member, Str, Value};

/// Deepest container nesting accepted; one more level is an error.
pub const MAX_DEPTH: usize = 512;

/// Parses one JSON document, allocating the tree in `alloc`.
pub fn parse<'src, A: Allocator + Copy>(
    src: &'src str,
    alloc: A,
) -> Result<Value<'src, A>, ParseError> {
    Parser::new(src, alloc).document()
}

/// Like [`parse`] for bytes that are not yet known to be UTF-8.
pub fn parse_bytes<A: Allocator + Copy>(src: &[u8], alloc: A) -> Result<Value<'_, A>, ParseError> {
    match core::str::from_utf8(src) {
        Ok(text) => parse(text, alloc),
        Err(e) => Err(ParseError::at(src, e.valid_up_to(), ErrorKind::InvalidUtf8)),
    }
}

/// An open container; the index says where its children start on the
/// matching scratch stack.
#[derive(Clone, Copy)]
enum Frame {
    Array(usize),
    Object(usize),
}

struct Parser<'src, A: Allocator + Copy> {
    src: &'src str,
    bytes: &'src [u8],
    pos: usize,
    alloc: A,
    frames: Vec<Frame>,
    items: Vec<Value<'src, A>>,
    members: Vec<Member<'src, A>>,
    // Names of the members whose values are still being parsed.
    keys: Vec<Str<'src, A>>,
    // Escaped strings are decoded here first so their final allocation
    // is exact.
    unescaped: Vec<u8>,
}

impl<'src, A: Allocator + Copy> Parser<'src, A> {
    fn new(src: &'src str, alloc: A) -> Self {
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            alloc,
            frames: Vec::new(),
            items: Vec::new(),
            members: Vec::new(),
            keys: Vec::new(),
            unescaped: Vec::new(),
        }
    }

    #[cold]
    fn error(&self, kind: ErrorKind, at: usize) -> ParseError {
        ParseError::at(self.bytes, at, kind)
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            if b > b' ' || !(b == b' ' || b == b'\n' || b == b'\r' || b == b'\t') {
                break;
            }
            self.pos += 1;
        }
    }

    /// An error for "wanted something here": end of input gets its own kind
    /// because "expected ',' at <one past the end>" reads badly.
    #[cold]
    fn unexpected(&self, kind: ErrorKind) -> ParseError {
        if self.pos >= self.bytes.len() {
            self.error(ErrorKind::UnexpectedEof, self.pos)
        } else {
            self.error(kind, self.pos)
        }
    }

    fn document(mut self) -> Result<Value<'src, A>, ParseError> {
        let value = self.value()?;
        self.skip_whitespace();
        if self.pos != self.bytes.len() {
            return Err(self.error(ErrorKind::TrailingCharacters, self.pos));
        }
        Ok(value)
    }

    fn value(&mut self) -> Result<Value<'src, A>, ParseError> {
        'value: loop {
            self.skip_whitespace();
            let mut done = match self.peek() {
                Some(b'"') => Value::String(self.string()?),
                Some(b'{') => {
                    self.open(Frame::Object(self.members.len()))?;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        self.frames.pop();
                        Value::Object(AVec::new_in(self.alloc).into_boxed_slice())
                    } else {
                        self.key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.open(Frame::Array(self.items.len()))?;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        self.frames.pop();
                        Value::Array(AVec::new_in(self.alloc).into_boxed_slice())
                    } else {
                        continue 'value;
                    }
                }
                Some(b'-' | b'0'..=b'9') => {
                    let (n, end) =
                        parse_number(self.src, self.pos).map_err(|(k, at)| self.error(k, at))?;
                    self.pos = end;
                    Value::Number(n)
                }
                Some(b't') => self.literal(b"true", Value::Bool(true))?,
                Some(b'f') => self.literal(b"false", Value::Bool(false))?,
                Some(b'n') => self.literal(b"null", Value::Null)?,
                _ => return Err(self.unexpected(ErrorKind::ExpectedValue)),
            };
            // Hand the finished value to its container; closing that may
            // finish the container itself, and so on upwards.
            loop {
                let Some(&frame) = self.frames.last() else {
                    return Ok(done);
                };
                self.skip_whitespace();
                match frame {
                    Frame::Array(_) => {
                        self.items.push(done);
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                continue 'value;
                            }
                            Some(b']') => self.pos += 1,
                            _ => return Err(self.unexpected(ErrorKind::ExpectedCommaOrBracket)),
                        }
                        self.frames.pop();
                        done = Value::Array(self.finish_items(frame)?);
                    }
                    Frame::Object(_) => {
                        let Some(key) = self.keys.pop() else {
                            unreachable!("an object frame always has a pending key");
                        };
                        self.members.push((key, done));
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.key()?;
                                continue 'value;
                            }
                            Some(b'}') => self.pos += 1,
                            _ => return Err(self.unexpected(ErrorKind::ExpectedCommaOrBrace)),
                        }
                        self.frames.pop();
                        done = Value::Object(self.finish(frame)?);
                    }
                }
            }
        }
    }

    /// Consumes an opening bracket and enters its container.
    fn open(&mut self, frame: Frame) -> Result<(), ParseError> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(self.error(ErrorKind::DepthLimitExceeded, self.pos));
        }
        self.frames.push(frame);
        self.pos += 1;
        self.skip_whitespace();
        Ok(())
    }

    /// Parses `"name" :` and parks the name until its value is done.
    fn key(&mut self) -> Result<(), ParseError> {
        self.skip_whitespace();
        if self.peek() != Some(b'"') {
            return Err(self.unexpected(ErrorKind::ExpectedKey));
        }
        let key = self.string()?;
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return Err(self.unexpected(ErrorKind::ExpectedColon));
        }
        self.pos += 1;
        self.keys.push(key);
        Ok(())
    }

    fn literal(
        &mut self,
        word: &[u8],
        value: Value<'src, A>,
    ) -> Result<Value<'src, A>, ParseError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error(ErrorKind::InvalidLiteral, self.pos))
        }
    }

    fn finish_items(&mut self, frame: Frame) -> Result<Box<[Value<'src, A>], A>, ParseError> {
        let (Frame::Array(start) | Frame::Object(start)) = frame;
        move_into(self.alloc, &mut self.items, start)
            .map_err(|()| self.error(ErrorKind::OutOfMemory, self.pos))
    }

    fn finish(&mut self, frame: Frame) -> Result<Box<[Member<'src, A>], A>, ParseError> {
        let (Frame::Array(start) | Frame::Object(start)) = frame;
        move_into(self.alloc, &mut self.members, start)
            .map_err(|()| self.error(ErrorKind::OutOfMemory, self.pos))
    }

    /// Parses a string whose opening quote is at `self.pos`.
    #[inline]
    fn string(&mut self) -> Result<Str<'src, A>, ParseError> {
        let open = self.pos;
        let start = open + 1;
        let end = find_special(self.bytes, start);
        match self.bytes.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                // Both ends sit next to ASCII quotes, so they are char
                // boundaries and the slice check cannot fail.
                Ok(Str::borrowed(&self.src[start..end]))
            }
            Some(b'\\') => self.escaped_string(open, end),
            Some(_) => Err(self.error(ErrorKind::ControlCharacter, end)),
            None => Err(self.error(ErrorKind::UnterminatedString, open)),
        }
    }

    /// Slow path for a string with escapes; `first_escape` is the offset of
    /// its first backslash.
    #[cold]
    fn escaped_string(
        &mut self,
        open: usize,
        first_escape: usize,
    ) -> Result<Str<'src, A>, ParseError> {
        let bytes = self.bytes;
        self.unescaped.clear();
        self.unescaped
            .extend_from_slice(&bytes[open + 1..first_escape]);
        let mut i = first_escape;
        loop {
            match bytes.get(i) {
                Some(b'"') => break,
                Some(b'\\') => i = self.escape(i)?,
                Some(_) => return Err(self.error(ErrorKind::ControlCharacter, i)),
                None => return Err(self.error(ErrorKind::UnterminatedString, open)),
            }
            let run_end = find_special(bytes, i);
            self.unescaped.extend_from_slice(&bytes[i..run_end]);
            i = run_end;
        }
        self.pos = i + 1;
        let mut owned = AVec::new_in(self.alloc);
        owned
            .try_reserve_exact(self.unescaped.len())
            .map_err(|_| self.error(ErrorKind::OutOfMemory, open))?;
        owned.extend_from_slice(&self.unescaped);
        // SAFETY: the buffer holds whole UTF-8 sequences copied from a
        // `str` between ASCII delimiters, plus `char`s encoded by
        // `encode_utf8`, so it is valid UTF-8.
        Ok(unsafe { Str::owned_unchecked(owned.into_boxed_slice()) })
    }

    /// Decodes the escape at `at` (a backslash) and returns the offset after it.
    fn escape(&mut self, at: usize) -> Result<usize, ParseError> {
        let decoded = match self.bytes.get(at + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => return self.unicode_escape(at),
            Some(_) => return Err(self.error(ErrorKind::InvalidEscape, at)),
            None => return Err(self.error(ErrorKind::UnexpectedEof, at + 1)),
        };
        self.unescaped.push(decoded);
        Ok(at + 2)
    }

    /// Decodes `\uXXXX`, pairing surrogates, and returns the offset after it.
    fn unicode_escape(&mut self, at: usize) -> Result<usize, ParseError> {
        let first = self.hex4(at)?;
        let (code, end) = match first {
            0xD800..=0xDBFF => {
                let is_pair = self.bytes.get(at + 6..at + 8) == Some(b"\\u");
                let second = if is_pair { self.hex4(at + 6)? } else { 0 };
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error(ErrorKind::LoneSurrogate, at));
                }
                (
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00),
                    at + 12,
                )
            }
            0xDC00..=0xDFFF => return Err(self.error(ErrorKind::LoneSurrogate, at)),
            _ => (first, at + 6),
        };
        let Some(c) = char::from_u32(code) else {
            return Err(self.error(ErrorKind::LoneSurrogate, at));
        };
        let mut buf = [0u8; 4];
        self.unescaped
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(end)
    }

    /// The four hex digits after the `\u` that starts at `at`.
    fn hex4(&self, at: usize) -> Result<u32, ParseError> {
        let digits = self
            .bytes
            .get(at + 2..at + 6)
            .ok_or_else(|| self.error(ErrorKind::InvalidUnicodeEscape, at))?;
        digits.iter().try_fold(0u32, |acc, &d| {
            let nibble = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.error(ErrorKind::InvalidUnicodeEscape, at))?;
            Ok(acc << 4 | nibble)
        })
    }
}

/// Moves `stack[start..]` into one exactly sized allocation in `alloc`.
#[inline]
fn move_into<T, A: Allocator>(
    alloc: A,
    stack: &mut Vec<T>,
    start: usize,
) -> Result<Box<[T], A>, ()> {
    let mut out = AVec::new_in(alloc);
    out.try_reserve_exact(stack.len() - start).map_err(|_| ())?;
    out.extend(stack.drain(start..));
    Ok(out.into_boxed_slice())
}
