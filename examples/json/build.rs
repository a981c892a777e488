//! How each allocator's users build the tree's parts: the parser hands a
//! [`Build`] the finished containers and strings, and each implementation
//! does what its own users would write.
//!
//! * `Global`: `Box<[T]>` and `Box<str>` (a [`Heap`] tree).
//! * `&Arena`: `alloc_iter` for containers, `alloc_fmt` to decode an
//!   escaped string straight into the arena (a [`Slices`] tree).
//! * `&bumpalo::Bump`: `collections::Vec::into_bump_slice` for containers,
//!   `alloc_str` of a decoded scratch copy for escaped strings (a
//!   [`Slices`] tree too).

use allocator_api2::alloc::Global;
use anon_arena::Arena;
use bumpalo::Bump;

use crate::json::tree::{Heap, Slices, Store, Str};
use crate::json::unescape::{decode_into, Unescaped};

/// The text type of `B`'s tree.
pub type Text<'t, B> = <<B as Build<'t>>::Store as Store<'t>>::Text;
/// The container type of `B`'s tree.
pub type Seq<'t, B, T> = <<B as Build<'t>>::Store as Store<'t>>::Seq<T>;

/// Makes the parts of a tree whose strings and nodes live for `'t`. `Err`
/// means the allocator is out of memory.
pub trait Build<'t>: Copy {
    /// The tree's shape.
    type Store: Store<'t>;

    /// A container holding `items`, exactly sized.
    fn seq<T: 't>(self, items: impl ExactSizeIterator<Item = T>) -> Result<Seq<'t, Self, T>, ()>;

    /// A string without escapes, borrowed from the input.
    fn borrowed(self, text: &'t str) -> Text<'t, Self>;

    /// A string with escapes: `raw` is its checked contents, `scratch` a
    /// buffer the implementation may decode into first.
    fn escaped(self, raw: &str, scratch: &mut String) -> Result<Text<'t, Self>, ()>;
}

impl<'t> Build<'t> for Global {
    type Store = Heap;

    fn seq<T: 't>(self, items: impl ExactSizeIterator<Item = T>) -> Result<Box<[T]>, ()> {
        let mut vec = Vec::new();
        vec.try_reserve_exact(items.len()).map_err(drop)?;
        vec.extend(items);
        Ok(vec.into_boxed_slice())
    }

    fn borrowed(self, text: &'t str) -> Str<'t> {
        Str::Borrowed(text)
    }

    fn escaped(self, raw: &str, scratch: &mut String) -> Result<Str<'t>, ()> {
        scratch.clear();
        decode_into(raw, scratch).map_err(drop)?;
        Ok(Str::Owned(scratch.as_str().into()))
    }
}

impl<'t> Build<'t> for &'t Arena {
    type Store = Slices;

    fn seq<T: 't>(self, items: impl ExactSizeIterator<Item = T>) -> Result<&'t [T], ()> {
        match self.try_alloc_iter(items) {
            Ok(slice) => Ok(slice),
            Err(_) => Err(()),
        }
    }

    fn borrowed(self, text: &'t str) -> &'t str {
        text
    }

    fn escaped(self, raw: &str, _: &mut String) -> Result<&'t str, ()> {
        match self.try_alloc_fmt(format_args!("{}", Unescaped(raw))) {
            Ok(text) => Ok(text),
            Err(_) => Err(()),
        }
    }
}

impl<'t> Build<'t> for &'t Bump {
    type Store = Slices;

    fn seq<T: 't>(self, items: impl ExactSizeIterator<Item = T>) -> Result<&'t [T], ()> {
        let mut vec = bumpalo::collections::Vec::new_in(self);
        vec.try_reserve_exact(items.len()).map_err(drop)?;
        vec.extend(items);
        Ok(vec.into_bump_slice())
    }

    fn borrowed(self, text: &'t str) -> &'t str {
        text
    }

    fn escaped(self, raw: &str, scratch: &mut String) -> Result<&'t str, ()> {
        scratch.clear();
        decode_into(raw, scratch).map_err(drop)?;
        match self.try_alloc_str(scratch) {
            Ok(text) => Ok(text),
            Err(_) => Err(()),
        }
    }
}
