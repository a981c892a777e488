//! The bumpalo-compatible allocation methods (`alloc`, `alloc_slice_copy`,
//! `alloc_str`, …), written once and stamped onto every bump allocator.
//!
//! [`alloc_methods!`] needs two inherent methods on the type it is used for:
//!
//! * `fn raw_alloc(&self, layout: Layout) -> Option<NonNull<u8>>` — a block
//!   valid for `layout`, disjoint from every live block, living as long as
//!   `&self` (or as long as `'a`, for `alloc_methods!(Type<'a>, ..)`);
//!   `None` when full;
//! * `fn alloc_error(&self, layout: Layout) -> Error` — why it was full.
//!
//! Each `try_` method and its panicking twin share one body: the panicking
//! form calls the `try_` form and sends an error to [`alloc_failed`], which
//! is cold so the fast path stays small.
//!
//! `unsafe` is allowed here because each method writes values into the raw
//! block `raw_alloc` returns and then hands out a reference to it.
#![allow(unsafe_code)]

use core::alloc::Layout;

use crate::error::Error;

/// Panics with a message saying which allocator, what was asked and why it
/// could not be served.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn alloc_failed(allocator: &str, layout: Layout, error: Error) -> ! {
    panic!(
        "{allocator}: cannot allocate {} bytes aligned to {}: {error}",
        layout.size(),
        layout.align()
    )
}

/// [`alloc_failed`] for a slice of `len` `T`s, whose layout may not exist:
/// the message gives the whole request even when its size overflows.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn alloc_slice_failed<T>(allocator: &str, len: usize, error: Error) -> ! {
    alloc_elements_failed(allocator, len, Layout::new::<T>(), error)
}

/// [`alloc_failed`] for `len` elements of the layout `element`.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn alloc_elements_failed(
    allocator: &str,
    len: usize,
    element: Layout,
    error: Error,
) -> ! {
    let whole = len
        .checked_mul(element.size())
        .and_then(|size| Layout::from_size_align(size, element.align()).ok());
    match whole {
        Some(layout) => alloc_failed(allocator, layout, error),
        None => panic!(
            "{allocator}: cannot allocate {len} elements of {} bytes ({} bytes) aligned to {}: {error}",
            element.size(),
            // Cannot overflow: both factors are below 2^64.
            len as u128 * element.size() as u128,
            element.align()
        ),
    }
}

/// Writes the inherent allocation methods for `$ty`, whose doc examples
/// create one with the expression `$new`.
///
/// `alloc_methods!(Arena, ..)` ties every returned reference to `&self`.
/// `alloc_methods!(LocalArena<'a>, ..)` ties them to `'a` instead: for a
/// handle that borrows its memory from something that outlives it.
macro_rules! alloc_methods {
    ($ty:ident, $new:literal) => {
        $crate::alloc_methods::alloc_methods!(@impl [] $ty [] '_, $new);
    };
    ($ty:ident<$lt:lifetime>, $new:literal) => {
        $crate::alloc_methods::alloc_methods!(@impl [$lt] $ty [<$lt>] $lt, $new);
    };
    (@impl [$($generics:tt)*] $ty:ident [$($args:tt)*] $out:lifetime, $new:literal) => {
        impl<$($generics)*> $ty $($args)* {
            #[doc = concat!("Moves `value` into the ", stringify!($ty), " and returns a mutable reference to it.")]
            ///
            /// The value is never dropped: its memory comes back on reset, but
            /// `Drop` does not run (as with bumpalo). Use
            /// [`ArenaBox::new_in(value, &arena)`](crate::ArenaBox::new_in)
            /// for values whose destructor must run.
            ///
            /// # Panics
            ///
            /// When the arena is full; the message says what was asked and
            /// what remained.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let x = arena.alloc(41u64);
            /// *x += 1;
            /// assert_eq!(*x, 42);
            /// ```
            #[inline(always)]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc<T>(&self, value: T) -> &$out mut T {
                self.alloc_with(|| value)
            }

            /// Like [`alloc`](Self::alloc), but returns an error instead of
            /// panicking when the arena is full.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted) when `T` does not fit.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(*arena.try_alloc('x')?, 'x');
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline(always)]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc<T>(&self, value: T) -> Result<&$out mut T, $crate::Error> {
                self.try_alloc_with(|| value)
            }

            /// Allocates room for a `T`, then calls `f` and writes its result
            /// straight into that room, so a large value can be built in place.
            /// `f` may allocate in the same arena. If `f` panics, the room
            /// goes back to the arena if it is still the newest block.
            ///
            /// # Panics
            ///
            /// When the arena is full.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let big = arena.alloc_with(|| [7u8; 4096]);
            /// assert_eq!(big[4095], 7);
            /// ```
            #[inline(always)]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_with<T, F: FnOnce() -> T>(&self, f: F) -> &$out mut T {
                match self.try_alloc_with(f) {
                    Ok(value) => value,
                    Err(error) => $crate::alloc_methods::alloc_failed(stringify!($ty), core::alloc::Layout::new::<T>(), error),
                }
            }

            /// Like [`alloc_with`](Self::alloc_with), but returns an error
            /// (without calling `f`) when the arena is full.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted) when `T` does not fit.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.try_alloc_with(|| 3 + 4)?, &7);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline(always)]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_with<T, F: FnOnce() -> T>(&self, f: F) -> Result<&$out mut T, $crate::Error> {
                $crate::fill::try_alloc_with(self, f)
            }

            /// Copies `src` into the arena.
            ///
            /// # Panics
            ///
            /// When the arena is full.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let s = arena.alloc_str("hello");
            /// s.make_ascii_uppercase();
            /// assert_eq!(s, "HELLO");
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_str(&self, src: &str) -> &$out mut str {
                let bytes = self.alloc_slice_copy(src.as_bytes());
                // SAFETY: the bytes are a copy of a `str`, so valid UTF-8.
                unsafe { core::str::from_utf8_unchecked_mut(bytes) }
            }

            /// Like [`alloc_str`](Self::alloc_str), but returns an error when
            /// the arena is full.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.try_alloc_str("hi")?, "hi");
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_str(&self, src: &str) -> Result<&$out mut str, $crate::Error> {
                let bytes = self.try_alloc_slice_copy(src.as_bytes())?;
                // SAFETY: the bytes are a copy of a `str`, so valid UTF-8.
                Ok(unsafe { core::str::from_utf8_unchecked_mut(bytes) })
            }

            /// Copies the slice `src` into the arena.
            ///
            /// # Panics
            ///
            /// When the arena is full.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.alloc_slice_copy(&[1, 2, 3]), &[1, 2, 3]);
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> &$out mut [T] {
                match self.try_alloc_slice_copy(src) {
                    Ok(slice) => slice,
                    Err(error) => $crate::alloc_methods::alloc_failed(stringify!($ty), core::alloc::Layout::for_value(src), error),
                }
            }

            /// Like [`alloc_slice_copy`](Self::alloc_slice_copy), but returns
            /// an error when the arena is full.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.try_alloc_slice_copy(b"abc")?, b"abc");
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_slice_copy<T: Copy>(&self, src: &[T]) -> Result<&$out mut [T], $crate::Error> {
                let layout = core::alloc::Layout::for_value(src);
                let Some(block) = self.raw_alloc(layout) else {
                    return Err(self.alloc_error(layout));
                };
                let block = block.cast::<T>();
                // SAFETY: the block holds `src.len()` `T`s, is aligned for
                // `T`, and is fresh, so it cannot overlap `src`.
                unsafe {
                    core::ptr::copy_nonoverlapping(src.as_ptr(), block.as_ptr(), src.len());
                    Ok(core::slice::from_raw_parts_mut(block.as_ptr(), src.len()))
                }
            }

            /// Clones every element of `src` into the arena.
            ///
            /// # Panics
            ///
            /// When the arena is full, or when a `clone` panics (the clones
            /// made so far are dropped and the block given back, as for
            /// [`alloc_slice_fill_with`](Self::alloc_slice_fill_with)).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let names = [String::from("a"), String::from("b")];
            /// assert_eq!(arena.alloc_slice_clone(&names), &names);
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_slice_clone<T: Clone>(&self, src: &[T]) -> &$out mut [T] {
                self.alloc_slice_fill_with(src.len(), |i| src[i].clone())
            }

            /// Like [`alloc_slice_clone`](Self::alloc_slice_clone), but returns
            /// an error when the arena is full.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.try_alloc_slice_clone(&[vec![1]])?, &[vec![1]]);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_slice_clone<T: Clone>(&self, src: &[T]) -> Result<&$out mut [T], $crate::Error> {
                self.try_alloc_slice_fill_with(src.len(), |i| src[i].clone())
            }

            /// A slice of `len` copies of `value`.
            ///
            /// # Panics
            ///
            /// When the arena is full or `len` copies overflow the address space.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.alloc_slice_fill_copy(3, 9u8), &[9, 9, 9]);
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_slice_fill_copy<T: Copy>(&self, len: usize, value: T) -> &$out mut [T] {
                match self.try_alloc_slice_fill_copy(len, value) {
                    Ok(slice) => slice,
                    Err(error) => $crate::alloc_methods::alloc_slice_failed::<T>(stringify!($ty), len, error),
                }
            }

            /// Like [`alloc_slice_fill_copy`](Self::alloc_slice_fill_copy), but
            /// returns an error instead of panicking.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted), or
            /// [`Error::LayoutOverflow`](crate::Error::LayoutOverflow) for an
            /// impossible `len`.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert!(arena.try_alloc_slice_fill_copy(usize::MAX, 0u64).is_err());
            /// ```
            #[inline]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_slice_fill_copy<T: Copy>(&self, len: usize, value: T) -> Result<&$out mut [T], $crate::Error> {
                let layout = core::alloc::Layout::array::<T>(len).map_err(|_| $crate::Error::LayoutOverflow)?;
                let Some(block) = self.raw_alloc(layout) else {
                    return Err(self.alloc_error(layout));
                };
                // SAFETY: a fresh block of `layout` (`len` `T`s), which
                // `raw_alloc` promises lives as long as the returned borrow.
                Ok(unsafe { $crate::fill::fill_copies(block, len, value) })
            }

            /// A slice of `len` clones of `value`.
            ///
            /// # Panics
            ///
            /// When the arena is full or `len` overflows.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let v = arena.alloc_slice_fill_clone(2, &String::from("x"));
            /// assert_eq!(v, &["x", "x"]);
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_slice_fill_clone<T: Clone>(&self, len: usize, value: &T) -> &$out mut [T] {
                self.alloc_slice_fill_with(len, |_| value.clone())
            }

            /// A slice of `len` elements, element `i` being `f(i)`. `f` may
            /// allocate in the same arena. If it panics, the elements made so
            /// far are dropped (bumpalo leaks them) and the block goes back to
            /// the arena if it is still the newest.
            ///
            /// # Panics
            ///
            /// When the arena is full or `len` overflows.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.alloc_slice_fill_with(4, |i| i * i), &[0, 1, 4, 9]);
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_slice_fill_with<T, F: FnMut(usize) -> T>(&self, len: usize, f: F) -> &$out mut [T] {
                match self.try_alloc_slice_fill_with(len, f) {
                    Ok(slice) => slice,
                    Err(error) => $crate::alloc_methods::alloc_slice_failed::<T>(stringify!($ty), len, error),
                }
            }

            /// Like [`alloc_slice_fill_with`](Self::alloc_slice_fill_with),
            /// but returns an error (calling `f` never) when the slice does
            /// not fit.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted) or
            /// [`Error::LayoutOverflow`](crate::Error::LayoutOverflow).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.try_alloc_slice_fill_with(2, |i| i)?, &[0, 1]);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_slice_fill_with<T, F: FnMut(usize) -> T>(
                &self,
                len: usize,
                f: F,
            ) -> Result<&$out mut [T], $crate::Error> {
                $crate::fill::try_fill_with(self, len, f).map_err(|refusal| refusal.error)
            }

            /// A slice of `len` default values.
            ///
            /// # Panics
            ///
            /// When the arena is full or `len` overflows.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.alloc_slice_fill_default::<u32>(3), &[0, 0, 0]);
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_slice_fill_default<T: Default>(&self, len: usize) -> &$out mut [T] {
                self.alloc_slice_fill_with(len, |_| T::default())
            }

            /// Like [`alloc_slice_fill_default`](Self::alloc_slice_fill_default),
            /// but returns an error instead of panicking.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted) or
            /// [`Error::LayoutOverflow`](crate::Error::LayoutOverflow).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.try_alloc_slice_fill_default::<bool>(1)?, &[false]);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_slice_fill_default<T: Default>(&self, len: usize) -> Result<&$out mut [T], $crate::Error> {
                self.try_alloc_slice_fill_with(len, |_| T::default())
            }

            /// A slice of the items of an iterator that knows its length. Room
            /// for `len()` items is reserved first, so the iterator may itself
            /// allocate in this arena; if it yields fewer items than it said,
            /// the slice is shorter (and the slack is given back); extra items
            /// are not taken. If the iterator panics, the items taken so far
            /// are dropped and the block goes back to the arena if it is still
            /// the newest. For iterators of unknown length, see
            /// [`alloc_iter`](Self::alloc_iter).
            ///
            /// # Panics
            ///
            /// When the arena is full.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let squares = arena.alloc_slice_fill_iter((1..4).map(|i| i * i));
            /// assert_eq!(squares, &[1, 4, 9]);
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_slice_fill_iter<T, I>(&self, iter: I) -> &$out mut [T]
            where
                I: IntoIterator<Item = T>,
                I::IntoIter: ExactSizeIterator,
            {
                let iter = iter.into_iter();
                let len = iter.len();
                match self.try_alloc_slice_fill_iter(iter) {
                    Ok(slice) => slice,
                    Err(error) => $crate::alloc_methods::alloc_slice_failed::<T>(stringify!($ty), len, error),
                }
            }

            /// Like [`alloc_slice_fill_iter`](Self::alloc_slice_fill_iter),
            /// but returns an error instead of panicking.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted) or
            /// [`Error::LayoutOverflow`](crate::Error::LayoutOverflow).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(arena.try_alloc_slice_fill_iter([1, 2])?, &[1, 2]);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_slice_fill_iter<T, I>(&self, iter: I) -> Result<&$out mut [T], $crate::Error>
            where
                I: IntoIterator<Item = T>,
                I::IntoIter: ExactSizeIterator,
            {
                $crate::fill::try_fill_iter(self, iter).map_err(|refusal| refusal.error)
            }

            /// Allocates an uninitialised block for `layout`, aligned to
            /// `max(8, layout.align())`.
            ///
            /// # Panics
            ///
            /// When the arena is full.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let layout = core::alloc::Layout::from_size_align(100, 64).unwrap();
            /// let block = arena.alloc_layout(layout);
            /// assert_eq!(block.as_ptr() as usize % 64, 0);
            /// ```
            #[inline(always)]
            #[track_caller]
            pub fn alloc_layout(&self, layout: core::alloc::Layout) -> core::ptr::NonNull<u8> {
                match self.raw_alloc(layout) {
                    Some(block) => block,
                    None => $crate::alloc_methods::alloc_failed(stringify!($ty), layout, self.alloc_error(layout)),
                }
            }

            /// Like [`alloc_layout`](Self::alloc_layout), but returns an error
            /// when the arena is full.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let huge = core::alloc::Layout::from_size_align(isize::MAX as usize - 7, 8).unwrap();
            /// assert!(arena.try_alloc_layout(huge).is_err());
            /// ```
            #[inline(always)]
            pub fn try_alloc_layout(&self, layout: core::alloc::Layout) -> Result<core::ptr::NonNull<u8>, $crate::Error> {
                match self.raw_alloc(layout) {
                    Some(block) => Ok(block),
                    None => Err(self.alloc_error(layout)),
                }
            }
        }
        $crate::bump_methods::bump_methods!([$($generics)*] $ty [$($args)*] $out, $new);
    };
}
pub(crate) use alloc_methods;
