//! The constructors every region-backed arena shares (`new`,
//! `with_capacity`, `try_with_capacity`, `builder`, `recycle_into`, and
//! the builder's `capacity`, `recycle`, `cache`, `on_exhausted`, `build`
//! and `build_in`), written once and stamped onto each arena type.
//!
//! [`arena_constructors!`] needs two associated functions on the type:
//! `fn from_mapped(Mapped<C>) -> Self`, which wraps a cursor over a
//! mapping, and `fn into_mapped(self) -> Mapped<C>`, its inverse.
//!
//! The macro writes one `unsafe` block into the arena's module, which
//! allows it: giving a consumed arena's mapping back to a cache.
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
            #[must_use]
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
            #[must_use]
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

            /// Whether the mapping may come from and go back to a
            /// [`RegionCache`](crate::RegionCache): on by default, for
            /// private anonymous mappings without `populate` or hardening (see
            /// [Recycling](crate#recycling)). `recycle(false)` maps anew and
            /// unmaps on drop.
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
                self.recycle = on;
                self
            }

            /// The cache `build` takes a mapping from and the arena parks
            /// its mapping in when it drops, instead of the process-wide
            /// one.
            ///
            /// ```
            /// static CACHE: anon_arena::RegionCache = anon_arena::RegionCache::new();
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::builder()")]
            ///     .capacity(1 << 20)
            ///     .cache(&CACHE)
            ///     .build()?;
            /// drop(arena);
            /// assert_eq!(CACHE.len(), 1);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            pub fn cache(mut self, cache: &'static $crate::RegionCache) -> Self {
                self.cache = cache;
                self
            }

            /// What the `Allocator` impl does with a request that does not
            /// fit: return `AllocError` ([`Exhausted::Error`](crate::Exhausted::Error),
            /// the default), or panic with the numbers
            /// ([`Exhausted::Panic`](crate::Exhausted::Panic)), so that a
            /// collection growing past the capacity (or the allocation
            /// limit) unwinds instead of aborting the process. The `alloc*`
            /// and `try_alloc*` methods are not affected.
            ///
            /// ```
            /// use anon_arena::allocator_api2::vec::Vec;
            /// use anon_arena::Exhausted;
            ///
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::builder()")]
            ///     .capacity(4096)
            ///     .on_exhausted(Exhausted::Panic)
            ///     .build()?;
            /// let mut v: Vec<u8, _> = Vec::new_in(&arena);
            /// let full = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ///     v.extend_from_slice(&[7; 10_000])
            /// }));
            /// assert!(full.is_err());
            /// v.push(1); // still a valid, usable Vec
            /// assert_eq!(v, [1]);
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            pub fn on_exhausted(mut self, on_exhausted: $crate::Exhausted) -> Self {
                self.on_exhausted = on_exhausted;
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
                $crate::mapped::Mapped::build(&self, None).map($ty::from_mapped)
            }

            #[doc = concat!("Like [`build`](Self::build), but takes the mapping from `cache`, which need not be `'static`; the `", stringify!($ty), "` unmaps it when dropped unless given back with [`recycle_into`](", stringify!($ty), "::recycle_into).")]
            ///
            /// # Errors
            ///
            /// As for [`build`](Self::build).
            ///
            /// ```
            /// let cache = anon_arena::RegionCache::new();
            /// for _ in 0..3 {
            #[doc = concat!("    let arena = anon_arena::", stringify!($ty), "::builder().capacity(1 << 20).build_in(&cache)?;")]
            ///     arena.alloc(1u64);
            ///     arena.recycle_into(&cache);
            /// }
            /// assert_eq!(cache.len(), 1);
            /// drop(cache); // unmaps the mapping
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            pub fn build_in(self, cache: &$crate::RegionCache) -> Result<$ty, Error> {
                $crate::mapped::Mapped::build(&self, Some(cache)).map($ty::from_mapped)
            }
        }

        impl $ty {
            /// Drops the arena and parks its mapping in `cache`, for the
            /// next arena built there (see
            /// [`Builder::build_in`](crate::Builder::build_in)); unmaps it
            /// instead if its options do not allow reuse.
            ///
            /// ```
            /// let cache = anon_arena::RegionCache::new();
            #[doc = concat!("let arena = anon_arena::", stringify!($ty), "::with_capacity(1 << 20);")]
            /// arena.recycle_into(&cache);
            /// assert_eq!(cache.len(), 1);
            /// ```
            pub fn recycle_into(self, cache: &$crate::RegionCache) {
                // SAFETY: the arena is consumed, and every block borrows it,
                // so none is used again.
                unsafe { $ty::into_mapped(self).recycle_into(cache) }
            }
        }
    };
}
pub(crate) use arena_constructors;
