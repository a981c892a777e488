//! The constructors every region-backed arena shares (`new`,
//! `with_capacity`, `try_with_capacity`, `builder`, and the builder's
//! `capacity` and `build`), written once and stamped onto each arena type.
//!
//! [`arena_constructors!`] needs one associated function on the type:
//! `fn from_region((Region, usize)) -> Self`, which wraps a mapping whose
//! bytes past the `usize` are zero (what `builder::map_region` returns).
#![forbid(unsafe_code)]

/// Writes the constructors of `$ty`; `$what` names it in the docs ("An
/// arena", "A stack arena").
macro_rules! arena_constructors {
    ($ty:ident, $what:literal) => {
        impl $ty {
            #[doc = concat!($what, " reserving a large address range (4 GiB on 64-bit")]
            /// targets, less where the OS refuses that much), which costs no
            /// memory until it is used.
            ///
            /// # Panics
            ///
            /// When no mapping of any of the default sizes can be made.
            ///
            /// ```
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::new();")]
            /// assert!(arena.capacity() >= 64 << 20);
            /// ```
            #[track_caller]
            pub fn new() -> $ty {
                match $ty::builder().build() {
                    Ok(arena) => arena,
                    Err(error) => panic!(
                        concat!(stringify!($ty), "::new: cannot reserve address space: {}"),
                        error
                    ),
                }
            }

            #[doc = concat!($what, " of `bytes` capacity (rounded up to whole pages).")]
            ///
            /// # Panics
            ///
            /// When the mapping cannot be made; the message names the size
            /// and the OS error.
            ///
            /// ```
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::with_capacity(10_000);")]
            /// assert_eq!(arena.capacity(), 12_288); // three 4 KiB pages
            /// ```
            #[track_caller]
            pub fn with_capacity(bytes: usize) -> $ty {
                match $ty::try_with_capacity(bytes) {
                    Ok(arena) => arena,
                    Err(error) => panic!(
                        concat!(stringify!($ty), "::with_capacity({}): {}"),
                        bytes, error
                    ),
                }
            }

            #[doc = concat!("Like [`with_capacity`](", stringify!($ty), "::with_capacity), but")]
            /// returns an error when the mapping cannot be made.
            ///
            /// # Errors
            ///
            /// [`Error::MapFailed`] or [`Error::LayoutOverflow`].
            ///
            /// ```
            #[doc = concat!("use anon_arena::", stringify!($ty), ";")]
            #[doc = concat!("assert!(", stringify!($ty), "::try_with_capacity(1 << 20).is_ok());")]
            #[doc = concat!("assert!(", stringify!($ty), "::try_with_capacity(usize::MAX).is_err());")]
            /// ```
            pub fn try_with_capacity(bytes: usize) -> Result<$ty, Error> {
                $ty::builder().capacity(bytes).build()
            }

            /// A [`Builder`] with region options (guard page, huge pages,
            /// populate, `/dev/zero` backing, recycling).
            ///
            /// ```
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::builder()")]
            ///     .capacity(1 << 20)
            ///     .guard_pages(true)
            ///     .build()?;
            /// assert_eq!(arena.capacity(), 1 << 20);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            pub fn builder() -> Builder<$ty> {
                Builder::new()
            }
        }

        impl Default for $ty {
            #[doc = concat!("[`", stringify!($ty), "::new`].")]
            fn default() -> Self {
                $ty::new()
            }
        }

        impl Builder<$ty> {
            /// The capacity in bytes, rounded up to whole pages. Without it
            #[doc = concat!("the builder reserves [`", stringify!($ty), "::new`]'s default.")]
            ///
            /// ```
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::builder().capacity(5000).build()?;")]
            /// assert_eq!(arena.capacity(), 8192);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            pub fn capacity(mut self, bytes: usize) -> Self {
                self.size = Some(bytes);
                self
            }

            /// Whether the mapping may be parked for reuse when the arena
            /// drops (on by default; only private anonymous mappings without
            /// `populate`).
            ///
            /// A dropped arena leaves its mapping, with up to about 8 MiB
            /// still resident, to the next arena whose capacity (rounded to
            /// pages) and options are the same, which then starts on those
            /// pages without faults, as `malloc` hands a freed block to the
            /// next request. Like `malloc`'s memory, a block the new arena
            /// hands out uninitialised may hold the old arena's bytes;
            /// `allocate_zeroed` and the `alloc*` methods never show them. At
            /// most four mappings wait; [`trim`](crate::trim) unmaps them and
            /// [`set_recycling`](crate::set_recycling) switches recycling off
            /// for the whole process. `recycle(false)` unmaps this arena's
            /// mapping when it drops and never takes a parked one: for memory
            /// that held secrets, or to make every page fault visible.
            ///
            /// ```
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::builder()")]
            ///     .capacity(1 << 20)
            ///     .recycle(false)
            ///     .build()?;
            /// drop(arena); // unmapped here
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            pub fn recycle(mut self, on: bool) -> Self {
                self.options.recycle = on;
                self
            }

            #[doc = concat!("Maps the region (or takes a parked one) and makes the `", stringify!($ty), "`.")]
            ///
            /// # Errors
            ///
            /// [`Error::MapFailed`] when the kernel refuses the mapping (for
            /// the default size: every default size),
            /// [`Error::LayoutOverflow`] for a capacity that cannot be
            /// rounded to pages.
            ///
            /// ```
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::builder().build()?;")]
            /// assert!(arena.capacity() > 0);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            pub fn build(self) -> Result<$ty, Error> {
                $crate::builder::map_region(&self).map($ty::from_region)
            }
        }
    };
}
pub(crate) use arena_constructors;
