//! The allocation methods every bump type has besides `alloc_methods!`'s:
//! iterators of any length (`alloc_iter`), formatting (`alloc_fmt`),
//! fallible initialisers (`alloc_try_with`, `alloc_slice_try_fill_*`),
//! `try_alloc_slice_fill_clone`, and `dealloc` for an [`ArenaBox`].
//!
//! [`bump_methods!`] is invoked by `alloc_methods!` for each type, so the
//! types get these from one place too. Each method is a thin wrapper over
//! one generic body in [`fill`](crate::fill) or
//! [`alloc_fmt`](crate::alloc_fmt), which work through [`BumpRef`]; the
//! macro also implements `BumpRef` for references to the type.
//!
//! [`ArenaBox`]: crate::ArenaBox
//! [`BumpRef`]: crate::BumpRef

/// Writes the methods for `$ty`, whose doc examples create one with `$new`;
/// the arguments are `alloc_methods!`'s.
macro_rules! bump_methods {
    ([$($generics:tt)*] $ty:ident [$($args:tt)*] $out:lifetime, $new:literal) => {
        $crate::bump_ref::impl_bump_ref!([$($generics)*] $ty [$($args)*]);

        impl<$($generics)*> $ty $($args)* {
            /// Collects the items of any iterator into a slice in the arena.
            ///
            /// The items are written at the top of the arena into one block
            /// that grows in place (sized by the iterator's lower size hint
            /// first), and the block ends at the last item: nothing is left
            /// past it. If the iterator allocates in this arena itself, the
            /// block is copied when it grows (the old copies stay until
            /// reset). If the iterator panics, the items taken so far are
            /// dropped (bumpalo leaks them) and the block goes back to the
            /// arena if it is still the newest.
            ///
            /// # Panics
            ///
            /// When the arena is full (the items taken so far are dropped),
            /// or when the iterator panics.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let odd = arena.alloc_iter((1..10).filter(|n| n % 2 == 1));
            /// assert_eq!(odd, &[1, 3, 5, 7, 9]);
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_iter<T, I: IntoIterator<Item = T>>(&self, iter: I) -> &$out mut [T] {
                match $crate::fill::try_alloc_iter(self, iter) {
                    Ok(slice) => slice,
                    Err(refusal) => refusal.panic(stringify!($ty)),
                }
            }

            /// Like [`alloc_iter`](Self::alloc_iter), but returns an error
            /// when the arena is full; the items taken so far are then
            /// dropped and the block given back.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted), with the
            /// bytes the items so far needed and what was free before the
            /// call, or [`Error::LayoutOverflow`](crate::Error::LayoutOverflow).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let words = arena.try_alloc_iter("a b c".split(' '))?;
            /// assert_eq!(words, &["a", "b", "c"]);
            /// assert!(arena.try_alloc_iter(0..u64::MAX).is_err());
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_iter<T, I: IntoIterator<Item = T>>(&self, iter: I) -> Result<&$out mut [T], $crate::Error> {
                $crate::fill::try_alloc_iter(self, iter).map_err(|refusal| refusal.error)
            }

            /// Formats `args` straight into the arena, with no temporary
            /// string: `arena.alloc_fmt(format_args!("{x}:{y}"))`.
            ///
            /// The text is written into one block at the top of the arena,
            /// grown in place as it is written (copied only if the
            /// formatting code allocates in this arena itself), then shrunk
            /// to the text's length, which gives the slack back. If
            /// formatting panics, the block goes back to the arena if it is
            /// still the newest.
            ///
            /// # Panics
            ///
            /// When the arena is full, or a formatting trait implementation
            /// returns an error (as `format!` does).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let (line, column) = (3, 14);
            /// let at = arena.alloc_fmt(format_args!("{line}:{column}"));
            /// assert_eq!(at, "3:14");
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_fmt(&self, args: core::fmt::Arguments<'_>) -> &$out mut str {
                match $crate::alloc_fmt::try_alloc_fmt(self, args) {
                    Ok(text) => text,
                    Err(refusal) => refusal.panic(stringify!($ty)),
                }
            }

            /// Like [`alloc_fmt`](Self::alloc_fmt), but returns an error
            /// when the arena is full (the block is then given back).
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted), with the
            /// bytes the text needed so far and what was free before the
            /// call.
            ///
            /// # Panics
            ///
            /// When a formatting trait implementation returns an error by
            /// itself, as `format!` does.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let n = 255u8;
            /// assert_eq!(arena.try_alloc_fmt(format_args!("{n:#x}"))?, "0xff");
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_fmt(&self, args: core::fmt::Arguments<'_>) -> Result<&$out mut str, $crate::Error> {
                $crate::alloc_fmt::try_alloc_fmt(self, args).map_err(|refusal| refusal.error)
            }

            /// Makes room for a `Result<T, E>`, writes `f()` into it (so a
            /// large `T` can be built in place) and returns the `T`. If `f`
            /// returns `Err` (or panics), the room goes back to the arena if
            /// it is still the newest, and the error is returned.
            ///
            /// # Errors
            ///
            /// `f`'s error.
            ///
            /// # Panics
            ///
            /// When the arena has no room for a `Result<T, E>`; `f` is then
            /// not called.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let n = arena.alloc_try_with(|| "42".parse::<u32>())?;
            /// assert_eq!(*n, 42);
            /// assert!(arena.alloc_try_with(|| "x".parse::<u32>()).is_err());
            /// # Ok::<(), std::num::ParseIntError>(())
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_try_with<T, E, F: FnOnce() -> Result<T, E>>(&self, f: F) -> Result<&$out mut T, E> {
                match $crate::fill::try_alloc_try_with(self, f) {
                    Ok(value) => Ok(value),
                    Err($crate::fill::Failed::Init(error)) => Err(error),
                    Err($crate::fill::Failed::Refused(refusal)) => refusal.panic(stringify!($ty)),
                }
            }

            /// Like [`alloc_try_with`](Self::alloc_try_with), but a full
            /// arena is an error too.
            ///
            /// # Errors
            ///
            /// [`AllocOrInitError::Alloc`](crate::AllocOrInitError::Alloc)
            /// when there is no room (`f` is not called), or
            /// [`AllocOrInitError::Init`](crate::AllocOrInitError::Init)
            /// with `f`'s error.
            ///
            /// ```
            /// use anon_arena::AllocOrInitError;
            #[doc = concat!("let arena = ", $new, ";")]
            /// assert_eq!(*arena.try_alloc_try_with(|| Ok::<_, ()>(7))?, 7);
            /// assert_eq!(arena.try_alloc_try_with(|| Err::<u8, _>("no")), Err(AllocOrInitError::Init("no")));
            /// # Ok::<(), AllocOrInitError<()>>(())
            /// ```
            #[inline]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_try_with<T, E, F: FnOnce() -> Result<T, E>>(
                &self,
                f: F,
            ) -> Result<&$out mut T, $crate::AllocOrInitError<E>> {
                match $crate::fill::try_alloc_try_with(self, f) {
                    Ok(value) => Ok(value),
                    Err($crate::fill::Failed::Init(error)) => Err($crate::AllocOrInitError::Init(error)),
                    Err($crate::fill::Failed::Refused(refusal)) => Err($crate::AllocOrInitError::Alloc(refusal.error)),
                }
            }

            /// A slice of `len` elements, element `i` being `f(i)`, stopping
            /// at the first `Err`: the elements made so far are then dropped,
            /// the block goes back to the arena if it is still the newest,
            /// and the error is returned.
            ///
            /// # Errors
            ///
            /// `f`'s first error.
            ///
            /// # Panics
            ///
            /// When the slice does not fit (`f` is then not called).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let ok: Result<&mut [u32], ()> = arena.alloc_slice_try_fill_with(3, |i| Ok(i as u32 * 2));
            /// assert_eq!(ok, Ok(&mut [0, 2, 4][..]));
            /// let failed = arena.alloc_slice_try_fill_with(3, |i| if i < 2 { Ok(i) } else { Err(i) });
            /// assert_eq!(failed, Err(2));
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_slice_try_fill_with<T, E, F: FnMut(usize) -> Result<T, E>>(
                &self,
                len: usize,
                f: F,
            ) -> Result<&$out mut [T], E> {
                match $crate::fill::try_fill_try_with(self, len, f) {
                    Ok(slice) => Ok(slice),
                    Err($crate::fill::Failed::Init(error)) => Err(error),
                    Err($crate::fill::Failed::Refused(refusal)) => refusal.panic(stringify!($ty)),
                }
            }

            /// A slice of the `Ok` items of an iterator that knows its
            /// length, stopping at the first `Err` as
            /// [`alloc_slice_try_fill_with`](Self::alloc_slice_try_fill_with)
            /// does. Room for `len()` items is made first; if the iterator
            /// yields fewer, the slice is shorter.
            ///
            /// # Errors
            ///
            /// The first `Err` item.
            ///
            /// # Panics
            ///
            /// When the slice does not fit.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let numbers = arena.alloc_slice_try_fill_iter(["1", "2"].iter().map(|s| s.parse::<u8>()));
            /// assert_eq!(numbers, Ok(&mut [1, 2][..]));
            /// assert!(arena.alloc_slice_try_fill_iter(["1", "x"].iter().map(|s| s.parse::<u8>())).is_err());
            /// ```
            #[inline]
            #[track_caller]
            #[allow(clippy::mut_from_ref)]
            pub fn alloc_slice_try_fill_iter<T, E, I>(&self, iter: I) -> Result<&$out mut [T], E>
            where
                I: IntoIterator<Item = Result<T, E>>,
                I::IntoIter: ExactSizeIterator,
            {
                let iter = iter.into_iter();
                match $crate::fill::try_fill_try_iter(self, iter.len(), iter) {
                    Ok(slice) => Ok(slice),
                    Err($crate::fill::Failed::Init(error)) => Err(error),
                    Err($crate::fill::Failed::Refused(refusal)) => refusal.panic(stringify!($ty)),
                }
            }

            /// Like [`alloc_slice_fill_clone`](Self::alloc_slice_fill_clone),
            /// but returns an error instead of panicking when the slice does
            /// not fit.
            ///
            /// # Errors
            ///
            /// [`Error::Exhausted`](crate::Error::Exhausted) or
            /// [`Error::LayoutOverflow`](crate::Error::LayoutOverflow).
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let v = arena.try_alloc_slice_fill_clone(2, &String::from("x"))?;
            /// assert_eq!(v, &["x", "x"]);
            /// assert!(arena.try_alloc_slice_fill_clone(usize::MAX, &String::new()).is_err());
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            #[inline]
            #[allow(clippy::mut_from_ref)]
            pub fn try_alloc_slice_fill_clone<T: Clone>(&self, len: usize, value: &T) -> Result<&$out mut [T], $crate::Error> {
                self.try_alloc_slice_fill_with(len, |_| value.clone())
            }

            /// Drops the value `boxed` owns and gives its block back to the
            /// arena if it is the newest block (above the open scope's
            /// start, for a `StackArena`); otherwise the block stays until
            /// reset. A box from another arena is only dropped. bump-scope's
            /// `dealloc`; see [`ArenaBox`](crate::ArenaBox) for why dropping
            /// a box does not free its block.
            ///
            /// ```
            #[doc = concat!("let arena = ", $new, ";")]
            /// let first = anon_arena::ArenaBox::new_in(String::from("first"), &arena);
            /// let at = &*first as *const String;
            /// arena.dealloc(first);
            /// let second = anon_arena::ArenaBox::new_in(String::from("second"), &arena);
            /// assert_eq!(&*second as *const String, at, "the block was reused");
            /// ```
            #[inline]
            pub fn dealloc<T: ?Sized>(&self, boxed: $crate::ArenaBox<'_, T>) {
                $crate::collections::dealloc(self, boxed);
            }
        }
    };
}
pub(crate) use bump_methods;
