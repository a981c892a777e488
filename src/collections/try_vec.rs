//! [`TryVec`]: growing allocator-api2's `Vec` with an [`Error`] that has
//! the numbers instead of an abort, and [`ReportsRemaining`], which lets
//! an allocator put what it had left into that error.
#![forbid(unsafe_code)]

/// An allocator that can say how large a block it could still hand out,
/// so that `TryVec` reports [`Error::Exhausted`](crate::Error::Exhausted)
/// with the numbers.
///
/// Implemented for every allocator of this crate (`&Arena`,
/// `&StackArena`, its scopes, `&SyncArena`, `&LocalArena`, `&Pool<T>`,
/// [`PageAllocator`](crate::PageAllocator)) and for allocator-api2's
/// `Global`. An allocator from another crate gets `TryVec` with one line,
/// `impl ReportsRemaining for MyAllocator {}`; its errors are then
/// [`Error::AllocFailed`](crate::Error::AllocFailed).
///
/// ```
/// use anon_arena::ReportsRemaining;
///
/// let arena = anon_arena::Arena::with_capacity(4096);
/// arena.alloc(1u64);
/// assert_eq!((&arena).remaining_bytes(), Some(4088));
/// assert_eq!(anon_arena::PageAllocator.remaining_bytes(), None);
/// ```
pub trait ReportsRemaining {
    /// The largest block the allocator could hand out now, in bytes, if it
    /// knows; `None` (the default) if it does not.
    #[must_use]
    fn remaining_bytes(&self) -> Option<usize> {
        None
    }
}

#[cfg(feature = "allocator-api2-02")]
impl ReportsRemaining for allocator_api2::alloc::Global {}

#[cfg(feature = "collections")]
pub use vec_ext::TryVec;

#[cfg(feature = "collections")]
mod vec_ext {
    use allocator_api2::alloc::Allocator;
    use allocator_api2::collections::{TryReserveError, TryReserveErrorKind};
    use allocator_api2::vec::Vec;

    use super::ReportsRemaining;
    use crate::error::Error;

    /// Growing allocator-api2's `Vec` without the abort: each method
    /// reserves room first and returns an [`Error`] when the allocator
    /// refuses, where `push` and friends would call `handle_alloc_error`
    /// and abort the process. For a harness or parser that treats a full
    /// arena as one more kind of bad input.
    ///
    /// The error is [`Error::Exhausted`] with the size of the block the
    /// `Vec` asked for and what the allocator had left (for this crate's
    /// allocators, see [`ReportsRemaining`]),
    /// [`Error::AllocFailed`] for an allocator that does not say, and
    /// [`Error::LayoutOverflow`] for a length past `isize::MAX` bytes. On
    /// an error the `Vec` is unchanged.
    ///
    /// The allocator is asked as usual, so under
    /// [`Exhausted::Panic`](crate::Exhausted::Panic) it panics before any
    /// error can be returned: `TryVec` goes with the default,
    /// [`Exhausted::Error`](crate::Exhausted::Error).
    ///
    /// ```
    /// use anon_arena::allocator_api2::vec::Vec;
    /// use anon_arena::{Arena, Error, TryVec};
    ///
    /// let arena = Arena::with_capacity(4096);
    /// let mut words: Vec<&str, _> = Vec::new_in(&arena);
    /// words.try_push("first")?;
    /// words.try_extend_from_slice(&["second", "third"])?;
    /// words.try_insert(0, "zeroth")?;
    /// assert_eq!(words, ["zeroth", "first", "second", "third"]);
    ///
    /// let mut big: Vec<u8, _> = Vec::new_in(&arena);
    /// let err = big.try_extend_from_slice(&[0; 5000]).unwrap_err();
    /// assert!(matches!(err, Error::Exhausted { requested: 5000, .. }), "{err}");
    /// assert!(big.is_empty());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub trait TryVec<T>: sealed::Sealed {
        /// `push`, or an error when there is no room for one more element.
        ///
        /// # Errors
        ///
        /// As described on the trait; the value is dropped.
        ///
        /// ```
        /// use anon_arena::TryVec;
        /// let arena = anon_arena::Arena::with_capacity(4096);
        /// let mut v = anon_arena::allocator_api2::vec::Vec::new_in(&arena);
        /// v.try_push(1u8)?;
        /// assert_eq!(v, [1]);
        /// # Ok::<(), anon_arena::Error>(())
        /// ```
        fn try_push(&mut self, value: T) -> Result<(), Error>;

        /// `extend_from_slice`, or an error when `items` do not fit; then
        /// nothing is added.
        ///
        /// # Errors
        ///
        /// As described on the trait.
        ///
        /// ```
        /// use anon_arena::TryVec;
        /// let arena = anon_arena::Arena::with_capacity(4096);
        /// let mut v = anon_arena::allocator_api2::vec::Vec::new_in(&arena);
        /// v.try_extend_from_slice(&[1u8, 2])?;
        /// assert!(v.try_extend_from_slice(&[0u8; 8192]).is_err());
        /// assert_eq!(v, [1, 2]);
        /// # Ok::<(), anon_arena::Error>(())
        /// ```
        fn try_extend_from_slice(&mut self, items: &[T]) -> Result<(), Error>
        where
            T: Clone;

        /// `insert`, or an error when there is no room for one more
        /// element.
        ///
        /// # Errors
        ///
        /// As described on the trait; the value is dropped.
        ///
        /// # Panics
        ///
        /// When `index > len`, as `insert` does.
        ///
        /// ```
        /// use anon_arena::TryVec;
        /// let arena = anon_arena::Arena::with_capacity(4096);
        /// let mut v = anon_arena::allocator_api2::vec::Vec::new_in(&arena);
        /// v.try_push('b')?;
        /// v.try_insert(0, 'a')?;
        /// assert_eq!(v, ['a', 'b']);
        /// # Ok::<(), anon_arena::Error>(())
        /// ```
        fn try_insert(&mut self, index: usize, value: T) -> Result<(), Error>;
    }

    impl<T, A: Allocator + ReportsRemaining> TryVec<T> for Vec<T, A> {
        #[inline]
        fn try_push(&mut self, value: T) -> Result<(), Error> {
            self.try_reserve(1)
                .map_err(|e| reserve_error(e, self.allocator()))?;
            self.push(value);
            Ok(())
        }

        #[inline]
        fn try_extend_from_slice(&mut self, items: &[T]) -> Result<(), Error>
        where
            T: Clone,
        {
            self.try_reserve(items.len())
                .map_err(|e| reserve_error(e, self.allocator()))?;
            self.extend_from_slice(items);
            Ok(())
        }

        #[inline]
        fn try_insert(&mut self, index: usize, value: T) -> Result<(), Error> {
            self.try_reserve(1)
                .map_err(|e| reserve_error(e, self.allocator()))?;
            self.insert(index, value);
            Ok(())
        }
    }

    /// The crate's error for a failed `try_reserve`, with what `allocator`
    /// had left.
    #[cold]
    #[inline(never)]
    fn reserve_error<A: ReportsRemaining>(error: TryReserveError, allocator: &A) -> Error {
        match error.kind() {
            TryReserveErrorKind::CapacityOverflow => Error::LayoutOverflow,
            TryReserveErrorKind::AllocError { layout, .. } => match allocator.remaining_bytes() {
                Some(remaining) => Error::Exhausted {
                    requested: layout.size(),
                    remaining,
                },
                None => Error::AllocFailed {
                    requested: layout.size(),
                },
            },
        }
    }

    mod sealed {
        /// Only allocator-api2's `Vec` implements `TryVec`, so methods can
        /// be added to it.
        pub trait Sealed {}
        impl<T, A: allocator_api2::alloc::Allocator> Sealed for allocator_api2::vec::Vec<T, A> {}
    }
}
