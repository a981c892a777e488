//! The parser: an explicit-stack state machine over the input bytes.
//!
//! Nesting is tracked in heap stacks instead of recursion so that deep input
//! is an error, never a stack overflow.  Finished children wait on shared
//! scratch stacks until their container closes; the container is then
//! made once, at its exact size, by the caller's [`Build`].

use crate::json::build::{Build, Seq, Text};
use crate::json::error::{ErrorKind, ParseError};
use crate::json::number::parse_number;
use crate::json::scan::find_special;
use crate::json::tree::{Member, Value};
use crate::json::unescape::escape_at;

/// Deepest container nesting accepted; one more level is an error.
pub const MAX_DEPTH: usize = 512;

/// The tree `B` builds.
pub type Tree<'t, B> = Value<'t, <B as Build<'t>>::Store>;

/// Parses one JSON document into a tree `build` makes (`Global`, `&Arena`,
/// `&Bump`).
pub fn parse<'t, B: Build<'t>>(src: &'t str, build: B) -> Result<Tree<'t, B>, ParseError> {
    Parser::new(src, build).document()
}

/// Like [`parse`] for bytes that are not yet known to be UTF-8.
pub fn parse_bytes<'t, B: Build<'t>>(src: &'t [u8], build: B) -> Result<Tree<'t, B>, ParseError> {
    match core::str::from_utf8(src) {
        Ok(text) => parse(text, build),
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

struct Parser<'t, B: Build<'t>> {
    src: &'t str,
    bytes: &'t [u8],
    pos: usize,
    build: B,
    frames: Vec<Frame>,
    items: Vec<Tree<'t, B>>,
    members: Vec<Member<'t, B::Store>>,
    // Names of the members whose values are still being parsed.
    keys: Vec<Text<'t, B>>,
    // Where a `Build` may decode an escaped string before copying it.
    scratch: String,
}

impl<'t, B: Build<'t>> Parser<'t, B> {
    fn new(src: &'t str, build: B) -> Self {
        Parser {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            build,
            frames: Vec::new(),
            items: Vec::new(),
            members: Vec::new(),
            keys: Vec::new(),
            scratch: String::new(),
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

    fn document(mut self) -> Result<Tree<'t, B>, ParseError> {
        let value = self.value()?;
        self.skip_whitespace();
        if self.pos != self.bytes.len() {
            return Err(self.error(ErrorKind::TrailingCharacters, self.pos));
        }
        Ok(value)
    }

    fn value(&mut self) -> Result<Tree<'t, B>, ParseError> {
        'value: loop {
            self.skip_whitespace();
            let mut done = match self.peek() {
                Some(b'"') => Value::String(self.string()?),
                Some(b'{') => {
                    self.open(Frame::Object(self.members.len()))?;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        self.frames.pop();
                        Value::Object(self.empty()?)
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
                        Value::Array(self.empty()?)
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

    fn literal(&mut self, word: &[u8], value: Tree<'t, B>) -> Result<Tree<'t, B>, ParseError> {
        if self.bytes[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error(ErrorKind::InvalidLiteral, self.pos))
        }
    }

    /// An empty container.
    fn empty<T: 't>(&self) -> Result<Seq<'t, B, T>, ParseError> {
        self.build
            .seq(core::iter::empty())
            .map_err(|()| self.error(ErrorKind::OutOfMemory, self.pos))
    }

    fn finish_items(&mut self, frame: Frame) -> Result<Seq<'t, B, Tree<'t, B>>, ParseError> {
        let (Frame::Array(start) | Frame::Object(start)) = frame;
        self.build
            .seq(self.items.drain(start..))
            .map_err(|()| ParseError::at(self.bytes, self.pos, ErrorKind::OutOfMemory))
    }

    fn finish(&mut self, frame: Frame) -> Result<Seq<'t, B, Member<'t, B::Store>>, ParseError> {
        let (Frame::Array(start) | Frame::Object(start)) = frame;
        self.build
            .seq(self.members.drain(start..))
            .map_err(|()| ParseError::at(self.bytes, self.pos, ErrorKind::OutOfMemory))
    }

    /// Parses a string whose opening quote is at `self.pos`.
    #[inline]
    fn string(&mut self) -> Result<Text<'t, B>, ParseError> {
        let open = self.pos;
        let start = open + 1;
        let end = find_special(self.bytes, start);
        match self.bytes.get(end) {
            Some(b'"') => {
                self.pos = end + 1;
                // Both ends sit next to ASCII quotes, so they are char
                // boundaries and the slice check cannot fail.
                Ok(self.build.borrowed(&self.src[start..end]))
            }
            Some(b'\\') => self.escaped_string(open, end),
            Some(_) => Err(self.error(ErrorKind::ControlCharacter, end)),
            None => Err(self.error(ErrorKind::UnterminatedString, open)),
        }
    }

    /// Slow path for a string with escapes; `first_escape` is the offset of
    /// its first backslash. Every escape is checked here, so that the
    /// `Build` can decode the contents without failing.
    #[cold]
    fn escaped_string(
        &mut self,
        open: usize,
        first_escape: usize,
    ) -> Result<Text<'t, B>, ParseError> {
        let bytes = self.bytes;
        let mut i = first_escape;
        loop {
            match bytes.get(i) {
                Some(b'"') => break,
                Some(b'\\') => {
                    i = escape_at(bytes, i)
                        .map_err(|(kind, at)| self.error(kind, at))?
                        .1
                }
                Some(_) => return Err(self.error(ErrorKind::ControlCharacter, i)),
                None => return Err(self.error(ErrorKind::UnterminatedString, open)),
            }
            i = find_special(bytes, i);
        }
        self.pos = i + 1;
        let raw = &self.src[open + 1..i];
        self.build
            .escaped(raw, &mut self.scratch)
            .map_err(|()| ParseError::at(bytes, open, ErrorKind::OutOfMemory))
    }
}
