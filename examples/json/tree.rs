//! The document tree, in two shapes: owning (`Box`es, for the global heap)
//! and borrowed from an arena (`&'t` slices and strings, for
//! `anon_arena::Arena` and `bumpalo::Bump`), chosen by a [`Store`].

use core::fmt;
use core::mem::size_of;
use core::ops::Deref;

/// How a tree holds its containers and the strings it had to copy.
pub trait Store<'t>: 't {
    /// A finished container of `T`s.
    type Seq<T: 't>: Deref<Target = [T]> + 't;
    /// A string value or member name.
    type Text: Deref<Target = str> + 't;
}

/// A tree that owns its nodes: what a global-heap user builds. Strings
/// without escapes borrow from the input.
pub struct Heap;

impl<'t> Store<'t> for Heap {
    type Seq<T: 't> = Box<[T]>;
    type Text = Str<'t>;
}

/// A tree in an arena: containers are `&'t [T]` and strings `&'t str`
/// (into the input, or into the arena when they had escapes), so a node
/// carries no allocator and nothing needs dropping.
pub struct Slices;

impl<'t> Store<'t> for Slices {
    type Seq<T: 't> = &'t [T];
    type Text = &'t str;
}

/// A string of a [`Heap`] tree: borrowed from the input when it had no
/// escapes, otherwise decoded into a `Box<str>`.
pub enum Str<'t> {
    /// Points into the input.
    Borrowed(&'t str),
    /// Decoded from an escaped string.
    Owned(Box<str>),
}

impl Deref for Str<'_> {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        match self {
            Str::Borrowed(s) => s,
            Str::Owned(s) => s,
        }
    }
}

/// An object member: name and value.
pub type Member<'t, S> = (<S as Store<'t>>::Text, Value<'t, S>);

/// One JSON value.
///
/// Containers are exactly sized slices rather than vectors: the parser
/// knows each container's final length when it makes it, and dropping the
/// capacity word makes every node smaller.
pub enum Value<'t, S: Store<'t>> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Any number; JSON does not distinguish integers.
    Number(f64),
    /// A string.
    String(S::Text),
    /// An array, in document order.
    Array(S::Seq<Value<'t, S>>),
    /// An object's members in document order; duplicate names are kept, as
    /// RFC 8259 leaves their meaning to the application.
    Object(S::Seq<Member<'t, S>>),
}

impl<'t, S: Store<'t>> Value<'t, S> {
    /// The first member called `key`, if this is an object that has one.
    pub fn get(&self, key: &str) -> Option<&Value<'t, S>> {
        match self {
            Value::Object(members) => members.iter().find(|(k, _)| &**k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Counts nodes and the bytes they requested from the allocator, for a
    /// tree parsed from `input` (strings outside it were copied).
    pub fn stats(&self, input: &str) -> TreeStats {
        let mut stats = TreeStats::default();
        let input = input.as_bytes().as_ptr_range();
        let mut pending = vec![self];
        while let Some(value) = pending.pop() {
            stats.values += 1;
            match value {
                Value::String(s) => stats.add_str(s, &input),
                Value::Array(items) => {
                    stats.bytes += items.len() * size_of::<Value<'t, S>>();
                    pending.extend(items.iter());
                }
                Value::Object(members) => {
                    stats.bytes += members.len() * size_of::<Member<'t, S>>();
                    for (k, v) in members.iter() {
                        stats.add_str(k, &input);
                        pending.push(v);
                    }
                }
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
        stats
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
    fn add_str(&mut self, s: &str, input: &core::ops::Range<*const u8>) {
        if !s.is_empty() && !input.contains(&s.as_ptr()) {
            self.owned_strings += 1;
            self.bytes += s.len();
        }
    }
}

impl<'a, 'b, S: Store<'a>, R: Store<'b>> PartialEq<Value<'b, R>> for Value<'a, S> {
    /// Structural equality across stores, so a tree in an arena can be
    /// checked against one in the global heap.
    fn eq(&self, other: &Value<'b, R>) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => **a == **b,
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x == y)
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b.iter())
                        .all(|((ka, va), (kb, vb))| **ka == **kb && va == vb)
            }
            _ => false,
        }
    }
}

impl<'t, S: Store<'t>> fmt::Debug for Value<'t, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Number(n) => write!(f, "Number({n:?})"),
            Value::String(s) => write!(f, "String({:?})", &**s),
            Value::Array(items) => f.debug_list().entries(items.iter()).finish(),
            Value::Object(members) => f
                .debug_map()
                .entries(members.iter().map(|(k, v)| (&**k, v)))
                .finish(),
        }
    }
}
