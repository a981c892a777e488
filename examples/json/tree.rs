//! The document tree.

use allocator_api2::alloc::Allocator;
use allocator_api2::boxed::Box;
use core::fmt;
use core::mem::size_of;

/// A JSON string: borrowed from the input when it had no escapes, otherwise
/// decoded into the tree's allocator.
pub struct Str<'src, A: Allocator> {
    repr: Repr<'src, A>,
}

enum Repr<'src, A: Allocator> {
    Borrowed(&'src str),
    // Bytes rather than `Box<str, A>` because allocator_api2 0.2 offers no
    // way to build the latter; the UTF-8 invariant is upheld by `owned`.
    Owned(Box<[u8], A>),
}

impl<'src, A: Allocator> Str<'src, A> {
    /// A string that points into the input.
    pub fn borrowed(s: &'src str) -> Self {
        Str {
            repr: Repr::Borrowed(s),
        }
    }

    /// A string that owns its bytes in an allocator.
    pub fn owned(bytes: Box<[u8], A>) -> Result<Self, core::str::Utf8Error> {
        core::str::from_utf8(&bytes)?;
        Ok(Str {
            repr: Repr::Owned(bytes),
        })
    }

    /// Wraps bytes the parser decoded itself.
    ///
    /// # Safety
    /// `bytes` must be valid UTF-8.
    pub(crate) unsafe fn owned_unchecked(bytes: Box<[u8], A>) -> Self {
        Str {
            repr: Repr::Owned(bytes),
        }
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.repr {
            Repr::Borrowed(s) => s,
            // SAFETY: every constructor of `Owned` checks or guarantees UTF-8,
            // and the bytes are never handed out mutably.
            Repr::Owned(bytes) => unsafe { core::str::from_utf8_unchecked(bytes) },
        }
    }

    /// Whether the text still points into the input (it had no escapes).
    pub fn is_borrowed(&self) -> bool {
        matches!(self.repr, Repr::Borrowed(_))
    }
}

impl<A: Allocator> core::ops::Deref for Str<'_, A> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<A: Allocator, B: Allocator> PartialEq<Str<'_, B>> for Str<'_, A> {
    fn eq(&self, other: &Str<'_, B>) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<A: Allocator> fmt::Debug for Str<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// An object member: name and value.
pub type Member<'src, A> = (Str<'src, A>, Value<'src, A>);

/// One JSON value.
///
/// Containers are boxed slices rather than vectors: the parser knows each
/// container's final length when it allocates it, and dropping the
/// capacity word makes every node smaller.
pub enum Value<'src, A: Allocator> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Any number; JSON does not distinguish integers.
    Number(f64),
    /// A string.
    String(Str<'src, A>),
    /// An array, in document order.
    Array(Box<[Value<'src, A>], A>),
    /// An object's members in document order; duplicate names are kept, as
    /// RFC 8259 leaves their meaning to the application.
    Object(Box<[Member<'src, A>], A>),
}

impl<'src, A: Allocator> Value<'src, A> {
    /// The first member called `key`, if this is an object that has one.
    pub fn get(&self, key: &str) -> Option<&Value<'src, A>> {
        match self {
            Value::Object(members) => members
                .iter()
                .find(|(k, _)| k.as_str() == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Counts nodes and the bytes they requested from the allocator.
    pub fn stats(&self) -> TreeStats {
        let mut stats = TreeStats::default();
        self.add_stats(&mut stats);
        stats
    }

    fn add_stats(&self, stats: &mut TreeStats) {
        stats.values += 1;
        match self {
            Value::String(s) => stats.add_str(s),
            Value::Array(items) => {
                stats.bytes += items.len() * size_of::<Value<'src, A>>();
                items.iter().for_each(|v| v.add_stats(stats));
            }
            Value::Object(members) => {
                stats.bytes += members.len() * size_of::<Member<'src, A>>();
                for (k, v) in members.iter() {
                    stats.add_str(k);
                    v.add_stats(stats);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// Size figures of a tree, independent of which allocator holds it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TreeStats {
    /// Values, object keys not included.
    pub values: usize,
    /// Strings (values and keys) that had to be copied out of the input.
    pub owned_strings: usize,
    /// Bytes requested from the allocator for the whole tree.
    pub bytes: usize,
}

impl TreeStats {
    fn add_str<A: Allocator>(&mut self, s: &Str<'_, A>) {
        if !s.is_borrowed() {
            self.owned_strings += 1;
            self.bytes += s.len();
        }
    }
}

impl<A: Allocator, B: Allocator> PartialEq<Value<'_, B>> for Value<'_, A> {
    /// Structural equality across allocators, so a tree in an arena can be
    /// checked against one in the global heap.
    fn eq(&self, other: &Value<'_, B>) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x == y)
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|((ka, va), (kb, vb))| ka == kb && va == vb)
            }
            _ => false,
        }
    }
}

impl<A: Allocator> fmt::Debug for Value<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Number(n) => write!(f, "Number({n:?})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::Array(items) => f.debug_list().entries(items.iter()).finish(),
            Value::Object(members) => f
                .debug_map()
                .entries(members.iter().map(|(k, v)| (k, v)))
                .finish(),
        }
    }
}
