//! [`CollectIn`] and [`FromIteratorIn`]: `collect` into a collection that
//! lives in a given allocator, with bumpalo's names and shapes.

use allocator_api2::alloc::Allocator;
use allocator_api2::vec::Vec;

use crate::collections::String;

/// A collection that can be built from an iterator in a given allocator:
/// `FromIterator` with an allocator argument (bumpalo's trait of the same
/// name).
///
/// ```
/// use anon_arena::{collections::Vec, Arena, FromIteratorIn};
/// let arena = Arena::with_capacity(4096);
/// let v = Vec::from_iter_in(std::iter::repeat(5).take(3), &arena);
/// assert_eq!(v, [5, 5, 5]);
/// ```
pub trait FromIteratorIn<T> {
    /// The allocator the collection is built in.
    type Alloc;

    /// Builds the collection from `iter` in `alloc`.
    fn from_iter_in<I: IntoIterator<Item = T>>(iter: I, alloc: Self::Alloc) -> Self;
}

/// `collect` for collections parameterised by an allocator:
/// `iter.collect_in::<Vec<_, _>>(&arena)`. Implemented for every iterator.
///
/// ```
/// use anon_arena::{collections::{String, Vec}, Arena, CollectIn};
/// let arena = Arena::with_capacity(4096);
/// let squares: Vec<u32, _> = (1..=3).map(|i| i * i).collect_in(&arena);
/// let word: String<_> = ['o', 'k'].into_iter().collect_in(&arena);
/// assert_eq!((&squares[..], word.as_str()), (&[1, 4, 9][..], "ok"));
/// ```
pub trait CollectIn: Iterator + Sized {
    /// Collects every item into a `C` built in `alloc`.
    fn collect_in<C: FromIteratorIn<Self::Item>>(self, alloc: C::Alloc) -> C {
        C::from_iter_in(self, alloc)
    }
}

impl<I: Iterator> CollectIn for I {}

impl<T, A: Allocator> FromIteratorIn<T> for Vec<T, A> {
    type Alloc = A;

    fn from_iter_in<I: IntoIterator<Item = T>>(iter: I, alloc: A) -> Self {
        let mut vec = Vec::new_in(alloc);
        vec.extend(iter);
        vec
    }
}

impl<A: Allocator> FromIteratorIn<char> for String<A> {
    type Alloc = A;

    fn from_iter_in<I: IntoIterator<Item = char>>(iter: I, alloc: A) -> Self {
        let mut string = String::new_in(alloc);
        string.extend(iter);
        string
    }
}

impl<'s, A: Allocator> FromIteratorIn<&'s str> for String<A> {
    type Alloc = A;

    fn from_iter_in<I: IntoIterator<Item = &'s str>>(iter: I, alloc: A) -> Self {
        let mut string = String::new_in(alloc);
        string.extend(iter);
        string
    }
}

/// `None` if any item is `None`, as `Option`'s `FromIterator` does.
///
/// ```
/// use anon_arena::{collections::Vec, Arena, CollectIn};
/// let arena = Arena::with_capacity(4096);
/// let all: Option<Vec<u8, _>> = [Some(1), Some(2)].into_iter().collect_in(&arena);
/// let gap: Option<Vec<u8, _>> = [Some(1), None].into_iter().collect_in(&arena);
/// assert_eq!((all.as_deref(), gap), (Some(&[1, 2][..]), None));
/// ```
impl<T, V: FromIteratorIn<T>> FromIteratorIn<Option<T>> for Option<V> {
    type Alloc = V::Alloc;

    fn from_iter_in<I: IntoIterator<Item = Option<T>>>(iter: I, alloc: Self::Alloc) -> Self {
        let mut missing = false;
        let collected = iter
            .into_iter()
            .map_while(|item| {
                missing |= item.is_none();
                item
            })
            .collect_in(alloc);
        (!missing).then_some(collected)
    }
}

/// The first `Err`, or every `Ok` value, as `Result`'s `FromIterator` does.
///
/// ```
/// use anon_arena::{collections::Vec, Arena, CollectIn};
/// let arena = Arena::with_capacity(4096);
/// let parsed: Result<Vec<u8, _>, _> = ["1", "x"].iter().map(|s| s.parse::<u8>()).collect_in(&arena);
/// assert!(parsed.is_err());
/// ```
impl<T, E, V: FromIteratorIn<T>> FromIteratorIn<Result<T, E>> for Result<V, E> {
    type Alloc = V::Alloc;

    fn from_iter_in<I: IntoIterator<Item = Result<T, E>>>(iter: I, alloc: Self::Alloc) -> Self {
        let mut failed = None;
        let collected = iter
            .into_iter()
            .map_while(|item| item.map_err(|error| failed = Some(error)).ok())
            .collect_in(alloc);
        match failed {
            Some(error) => Err(error),
            None => Ok(collected),
        }
    }
}
