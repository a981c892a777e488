//! [`String`]: a growable UTF-8 string over allocator-api2's `Vec<u8, A>`,
//! in any allocator: an arena (`String<&Arena>`), a `StackArena` scope, a
//! `LocalArena` handle, or the global heap.
//!
//! `unsafe` is allowed here for the one invariant the type adds to its
//! `Vec`: its bytes are UTF-8, so they may be viewed as `str` unchecked.
#![allow(unsafe_code)]

use core::borrow::Borrow;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::{Deref, DerefMut};
use core::str::Utf8Error;

use allocator_api2::alloc::{Allocator, Global};
use allocator_api2::collections::TryReserveError;
use allocator_api2::vec::Vec;

/// A UTF-8 string whose bytes live in the allocator `A`; bumpalo's
/// `collections::String`, for every allocator-api2 0.2 allocator.
///
/// It dereferences to `str`, writes with [`core::fmt::Write`] (so
/// `write!` works), and [`leak`](String::leak) hands the text over to the
/// arena for as long as the arena's borrow (bumpalo's `into_bump_str`).
/// Build one with [`format!`](crate::format!) or
/// [`collect_in`](crate::CollectIn::collect_in) too.
///
/// ```
/// use anon_arena::{collections::String, Arena};
///
/// let arena = Arena::with_capacity(4096);
/// let mut s = String::new_in(&arena);
/// s.push_str("hello");
/// s.push(',');
/// s.insert_str(0, "[");
/// s.extend([" ", "world", "]"]);
/// assert_eq!(s, "[hello, world]");
/// let kept: &mut str = s.leak(); // the arena keeps the bytes
/// assert_eq!(kept, "[hello, world]");
/// ```
#[derive(Clone)]
pub struct String<A: Allocator = Global> {
    /// The bytes; always valid UTF-8.
    vec: Vec<u8, A>,
}

/// The error of [`String::from_utf8`]: the bytes were not UTF-8. It gives
/// them back.
///
/// ```
/// use anon_arena::{collections::{String, Vec}, Arena};
/// let arena = Arena::with_capacity(4096);
/// let mut bytes = Vec::new_in(&arena);
/// bytes.extend_from_slice(&[b'a', 0xFF]);
/// let error = String::from_utf8(bytes).unwrap_err();
/// assert_eq!(error.utf8_error().valid_up_to(), 1);
/// assert_eq!(error.into_bytes(), [b'a', 0xFF]);
/// ```
#[derive(Clone)]
pub struct FromUtf8Error<A: Allocator = Global> {
    bytes: Vec<u8, A>,
    error: Utf8Error,
}

impl<A: Allocator> FromUtf8Error<A> {
    /// The bytes that were not UTF-8.
    pub fn into_bytes(self) -> Vec<u8, A> {
        self.bytes
    }

    /// Where and why decoding failed.
    pub fn utf8_error(&self) -> Utf8Error {
        self.error
    }
}

impl<A: Allocator> fmt::Debug for FromUtf8Error<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromUtf8Error")
            .field("bytes", &&self.bytes[..])
            .field("error", &self.error)
            .finish()
    }
}

impl<A: Allocator> fmt::Display for FromUtf8Error<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl<A: Allocator> String<A> {
    /// An empty string; allocates nothing until something is pushed.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let s = anon_arena::collections::String::new_in(&arena);
    /// assert!(s.is_empty() && s.capacity() == 0);
    /// ```
    #[inline]
    pub fn new_in(alloc: A) -> Self {
        String {
            vec: Vec::new_in(alloc),
        }
    }

    /// An empty string with room for `capacity` bytes.
    ///
    /// # Panics
    ///
    /// When the allocator cannot provide them.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let s = anon_arena::collections::String::with_capacity_in(100, &arena);
    /// assert!(s.capacity() >= 100);
    /// ```
    #[inline]
    pub fn with_capacity_in(capacity: usize, alloc: A) -> Self {
        String {
            vec: Vec::with_capacity_in(capacity, alloc),
        }
    }

    /// A copy of `s` (bumpalo's `String::from_str_in`).
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let s = anon_arena::collections::String::from_str_in("copied", &arena);
    /// assert_eq!((s.as_str(), s.capacity()), ("copied", 6));
    /// ```
    #[inline]
    pub fn from_str_in(s: &str, alloc: A) -> Self {
        let mut string = String::with_capacity_in(s.len(), alloc);
        string.push_str(s);
        string
    }

    /// The text `args` formats to, with no slack past its end: what
    /// [`format!`](crate::format!) expands to.
    ///
    /// # Panics
    ///
    /// When the allocator fails, or a formatting trait implementation
    /// returns an error, as `std::format!` does.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let s = anon_arena::collections::String::from_fmt_in(format_args!("{}-{}", 1, 2), &arena);
    /// assert_eq!(s, "1-2");
    /// ```
    pub fn from_fmt_in(args: fmt::Arguments<'_>, alloc: A) -> Self {
        let mut string = String::new_in(alloc);
        if fmt::Write::write_fmt(&mut string, args).is_err() {
            panic!("a formatting trait implementation returned an error when the underlying stream did not");
        }
        string.shrink_to_fit();
        string
    }

    /// Checks that `vec` holds UTF-8 and takes it over, with no copy.
    ///
    /// # Errors
    ///
    /// [`FromUtf8Error`], which gives the bytes back.
    ///
    /// ```
    /// use anon_arena::{collections::{String, Vec}, Arena};
    /// let arena = Arena::with_capacity(4096);
    /// let mut bytes = Vec::new_in(&arena);
    /// bytes.extend_from_slice("ok".as_bytes());
    /// assert_eq!(String::from_utf8(bytes).unwrap(), "ok");
    /// ```
    pub fn from_utf8(vec: Vec<u8, A>) -> Result<Self, FromUtf8Error<A>> {
        match core::str::from_utf8(&vec) {
            Ok(_) => Ok(String { vec }),
            Err(error) => Err(FromUtf8Error { bytes: vec, error }),
        }
    }

    /// The bytes, with their allocation.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let s = anon_arena::collections::String::from_str_in("ab", &arena);
    /// assert_eq!(s.into_bytes(), [b'a', b'b']);
    /// ```
    #[inline]
    pub fn into_bytes(self) -> Vec<u8, A> {
        self.vec
    }

    /// The text.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let s = anon_arena::collections::String::from_str_in("ab", &arena);
    /// assert_eq!(s.as_str(), "ab");
    /// ```
    #[inline]
    pub fn as_str(&self) -> &str {
        // SAFETY: the bytes are UTF-8 (the type's invariant).
        unsafe { core::str::from_utf8_unchecked(&self.vec) }
    }

    /// The text, mutably (`str`'s methods keep it UTF-8).
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::from_str_in("ab", &arena);
    /// s.as_mut_str().make_ascii_uppercase();
    /// assert_eq!(s, "AB");
    /// ```
    #[inline]
    pub fn as_mut_str(&mut self) -> &mut str {
        // SAFETY: the bytes are UTF-8, and safe code cannot break that
        // through `&mut str`.
        unsafe { core::str::from_utf8_unchecked_mut(&mut self.vec) }
    }

    /// Appends `s`.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::new_in(&arena);
    /// s.push_str("a");
    /// s.push_str("bc");
    /// assert_eq!(s, "abc");
    /// ```
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        self.vec.extend_from_slice(s.as_bytes());
    }

    /// Appends `c`.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::new_in(&arena);
    /// s.push('é');
    /// assert_eq!((s.as_str(), s.len()), ("é", 2));
    /// ```
    #[inline]
    pub fn push(&mut self, c: char) {
        match c.len_utf8() {
            1 => self.vec.push(c as u8),
            _ => self.push_str(c.encode_utf8(&mut [0; 4])),
        }
    }

    /// Inserts `s` at byte `index`, moving what follows.
    ///
    /// # Panics
    ///
    /// When `index` is not a char boundary of the text.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::from_str_in("ad", &arena);
    /// s.insert_str(1, "bc");
    /// assert_eq!(s, "abcd");
    /// ```
    pub fn insert_str(&mut self, index: usize, s: &str) {
        assert!(
            self.is_char_boundary(index),
            "String::insert_str: byte {index} is not a char boundary"
        );
        let old_len = self.len();
        self.vec.extend_from_slice(s.as_bytes());
        // Two block copies (a `memmove` of the tail, a `memcpy` of `s`), as
        // `std`'s `insert_str` does, rather than a general rotation.
        self.vec.copy_within(index..old_len, index + s.len());
        self.vec[index..index + s.len()].copy_from_slice(s.as_bytes());
    }

    /// Removes the last char and returns it.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::from_str_in("aé", &arena);
    /// assert_eq!((s.pop(), s.pop(), s.pop()), (Some('é'), Some('a'), None));
    /// ```
    pub fn pop(&mut self) -> Option<char> {
        let c = self.chars().next_back()?;
        self.vec.truncate(self.len() - c.len_utf8());
        Some(c)
    }

    /// Shortens the text to `new_len` bytes; a no-op when it is shorter.
    ///
    /// # Panics
    ///
    /// When `new_len` is not a char boundary of the text.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::from_str_in("abc", &arena);
    /// s.truncate(1);
    /// assert_eq!(s, "a");
    /// ```
    pub fn truncate(&mut self, new_len: usize) {
        if new_len < self.len() {
            assert!(
                self.is_char_boundary(new_len),
                "String::truncate: byte {new_len} is not a char boundary"
            );
            self.vec.truncate(new_len);
        }
    }

    /// Empties the text, keeping the capacity.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::from_str_in("abc", &arena);
    /// s.clear();
    /// assert!(s.is_empty() && s.capacity() == 3);
    /// ```
    #[inline]
    pub fn clear(&mut self) {
        self.vec.clear();
    }

    /// Bytes the string can hold without growing.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// assert_eq!(anon_arena::collections::String::with_capacity_in(10, &arena).capacity(), 10);
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.vec.capacity()
    }

    /// Makes room for at least `additional` more bytes (in place when the
    /// string is the arena's newest block).
    ///
    /// # Panics
    ///
    /// When the allocator cannot provide them.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::new_in(&arena);
    /// s.reserve(50);
    /// assert!(s.capacity() >= 50);
    /// ```
    #[inline]
    pub fn reserve(&mut self, additional: usize) {
        self.vec.reserve(additional);
    }

    /// Like [`reserve`](Self::reserve), but returns an error when the
    /// allocator refuses.
    ///
    /// # Errors
    ///
    /// allocator-api2's `TryReserveError`.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::new_in(&arena);
    /// assert!(s.try_reserve(8192).is_err());
    /// assert!(s.try_reserve(10).is_ok());
    /// ```
    #[inline]
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.vec.try_reserve(additional)
    }

    /// Gives back the capacity past the text (in place in a bump arena:
    /// the tail returns to the arena when the string is its newest block).
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let mut s = anon_arena::collections::String::with_capacity_in(100, &arena);
    /// s.push_str("abc");
    /// s.shrink_to_fit();
    /// assert_eq!((s.capacity(), arena.allocated_bytes()), (3, 8));
    /// ```
    #[inline]
    pub fn shrink_to_fit(&mut self) {
        self.vec.shrink_to_fit();
    }

    /// The allocator the bytes live in.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// let s = anon_arena::collections::String::new_in(&arena);
    /// assert!(std::ptr::eq(*s.allocator(), &arena));
    /// ```
    #[inline]
    pub fn allocator(&self) -> &A {
        self.vec.allocator()
    }

    /// Hands the text over to the allocator: it is never freed, and the
    /// reference lives as long as the allocator (for `String<&'a Arena>`,
    /// as long as the arena's borrow). bumpalo's `into_bump_str`. The
    /// capacity past the text stays allocated; call
    /// [`shrink_to_fit`](Self::shrink_to_fit) first to give it back.
    ///
    /// ```
    /// fn name<'a>(arena: &'a anon_arena::Arena, id: u32) -> &'a str {
    ///     anon_arena::format!(in arena, "node{id}").leak()
    /// }
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// assert_eq!(name(&arena, 7), "node7");
    /// ```
    #[inline]
    pub fn leak<'a>(self) -> &'a mut str
    where
        A: 'a,
    {
        // SAFETY: the bytes are UTF-8 (the type's invariant).
        unsafe { core::str::from_utf8_unchecked_mut(self.vec.leak()) }
    }
}

impl<A: Allocator> Deref for String<A> {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<A: Allocator> DerefMut for String<A> {
    #[inline]
    fn deref_mut(&mut self) -> &mut str {
        self.as_mut_str()
    }
}

impl<A: Allocator> AsRef<str> for String<A> {
    fn as_ref(&self) -> &str {
        self
    }
}

impl<A: Allocator> AsRef<[u8]> for String<A> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl<A: Allocator> Borrow<str> for String<A> {
    fn borrow(&self) -> &str {
        self
    }
}

impl<A: Allocator> fmt::Write for String<A> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }

    #[inline]
    fn write_char(&mut self, c: char) -> fmt::Result {
        self.push(c);
        Ok(())
    }
}

impl<A: Allocator> fmt::Display for String<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl<A: Allocator> fmt::Debug for String<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<A: Allocator, B: Allocator> PartialEq<String<B>> for String<A> {
    fn eq(&self, other: &String<B>) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<A: Allocator> Eq for String<A> {}

impl<A: Allocator> PartialEq<str> for String<A> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl<A: Allocator> PartialEq<&str> for String<A> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl<A: Allocator> PartialEq<String<A>> for str {
    fn eq(&self, other: &String<A>) -> bool {
        self == other.as_str()
    }
}

impl<A: Allocator> PartialEq<String<A>> for &str {
    fn eq(&self, other: &String<A>) -> bool {
        *self == other.as_str()
    }
}

impl<A: Allocator> PartialOrd for String<A> {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<A: Allocator> Ord for String<A> {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl<A: Allocator> Hash for String<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl<A: Allocator> Extend<char> for String<A> {
    fn extend<I: IntoIterator<Item = char>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.reserve(iter.size_hint().0);
        iter.for_each(|c| self.push(c));
    }
}

impl<'c, A: Allocator> Extend<&'c char> for String<A> {
    fn extend<I: IntoIterator<Item = &'c char>>(&mut self, iter: I) {
        self.extend(iter.into_iter().copied());
    }
}

impl<'s, A: Allocator> Extend<&'s str> for String<A> {
    fn extend<I: IntoIterator<Item = &'s str>>(&mut self, iter: I) {
        iter.into_iter().for_each(|s| self.push_str(s));
    }
}
