//! The hardening options of [`Builder`]: kernel flags on the mapping
//! (every type), and `secret()` (the arenas, which know what they wrote
//! and so can zero it). The crate docs' "Keeping secrets and freezing
//! data" section is the overview.

use crate::region::Hardening;
use crate::{Arena, Builder, StackArena, SyncArena};

impl<K> Builder<K> {
    /// Leaves the mapping out of core dumps: `madvise(MADV_DONTDUMP)`
    /// (Linux 3.4), one call at creation; `VmFlags` shows `dd`. Off by
    /// default.
    ///
    /// ```
    /// let arena = anon_arena::Arena::builder().capacity(1 << 20).dont_dump(true).build()?;
    /// arena.alloc_str("api-token");
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn dont_dump(mut self, on: bool) -> Self {
        self.options.hardening.dont_dump = on;
        self
    }

    /// A child forked afterwards sees the whole mapping zeroed, while the
    /// parent keeps its bytes: `madvise(MADV_WIPEONFORK)` (Linux 4.14), one
    /// call at creation; `VmFlags` shows `wf`. Off by default.
    ///
    /// # Errors
    ///
    /// `build` returns [`Error::Unsupported`](crate::Error::Unsupported)
    /// for memory that is not private and anonymous (a `SharedArena`, a
    /// shared `Region`, [`Backing::DevZero`](crate::Backing::DevZero)),
    /// which the kernel cannot wipe.
    ///
    /// ```
    /// let arena = anon_arena::Arena::builder().capacity(1 << 20).wipe_on_fork(true).build()?;
    /// arena.alloc_str("session key");
    /// assert!(anon_arena::SharedArena::builder().wipe_on_fork(true).build().is_err());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn wipe_on_fork(mut self, on: bool) -> Self {
        self.options.hardening.wipe_on_fork = on;
        self
    }

    /// A child forked afterwards has no mapping here at all:
    /// `madvise(MADV_DONTFORK)`, one call at creation; `VmFlags` shows
    /// `dc`. Off by default.
    ///
    /// The child still has the allocator's handle, pointing at addresses it
    /// does not have: it must not allocate through it (another mapping of
    /// the child's may lie there by then). Dropping it is safe: the region
    /// remembers the process that made it, and in any other it neither
    /// wipes nor unmaps.
    ///
    /// ```
    /// let arena = anon_arena::Arena::builder().capacity(1 << 20).dont_fork(true).build()?;
    /// arena.alloc_str("not for children");
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn dont_fork(mut self, on: bool) -> Self {
        self.options.hardening.dont_fork = on;
        self
    }

    /// Keeps every page in RAM (never swapped) from its first touch on:
    /// `mlock2(MLOCK_ONFAULT)` (Linux 4.4) over the usable pages, one call
    /// at creation; `VmFlags` shows `lo` (and `lf`). Pages untouched cost
    /// nothing, but the kernel counts the **whole** mapping against
    /// `RLIMIT_MEMLOCK` at once, and that limit is small by default (often
    /// 8 MiB for a user, unlimited with `CAP_IPC_LOCK`): give a capacity
    /// that fits. Off by default.
    ///
    /// `release` then hands pages back with `MADV_DONTNEED_LOCKED` (Linux
    /// 5.18), as plain `MADV_DONTNEED` refuses locked pages; on older
    /// kernels they stay resident.
    ///
    /// # Errors
    ///
    /// `build` returns [`Error::LockFailed`](crate::Error::LockFailed),
    /// with the bytes asked for and the limit, when the kernel refuses.
    ///
    /// ```
    /// use anon_arena::{Arena, Error};
    ///
    /// match Arena::builder().capacity(1 << 20).lock(true).build() {
    ///     Ok(arena) => assert_eq!(arena.capacity(), 1 << 20),
    ///     // A limit below 1 MiB (or already used up) refuses it.
    ///     Err(Error::LockFailed { requested, limit, .. }) => {
    ///         assert_eq!(requested, 1 << 20);
    ///         assert!(limit.is_some());
    ///     }
    ///     Err(other) => panic!("{other}"),
    /// }
    /// ```
    pub fn lock(mut self, on: bool) -> Self {
        self.options.hardening.lock = on;
        self
    }
}

/// Writes `secret()` for the arena types: they know which prefix of the
/// mapping they wrote, and zero it.
macro_rules! secret {
    ($($ty:ident),*) => {$(
        impl Builder<$ty> {
            /// For key material and tokens: every hardening option
            /// ([`dont_dump`](Builder::dont_dump),
            /// [`wipe_on_fork`](Builder::wipe_on_fork),
            /// [`dont_fork`](Builder::dont_fork), [`lock`](Builder::lock)),
            /// plus zeroing: before `reset` and `release` return, and
            /// before the arena's drop unmaps the mapping, the bytes it
            /// wrote are overwritten with zeros by volatile writes the
            /// compiler cannot remove. The mapping is never recycled to
            /// another arena.
            ///
            /// The zeroing costs a pass over what was written (up to the
            /// high-water mark, not the capacity). It happens on `reset`,
            /// `release` and drop only: what a scope's end, `reset_to` or
            /// a freed newest block gives back keeps its bytes until it is
            /// written again or one of those runs. Because of the lock,
            /// the capacity must fit in `RLIMIT_MEMLOCK` (see
            /// [`lock`](Builder::lock)); because of `wipe_on_fork`, the
            /// memory must be anonymous (not
            /// [`Backing::DevZero`](crate::Backing::DevZero)).
            ///
            /// ```
            #[doc = concat!("let mut arena = anon_arena::", stringify!($ty), "::builder().capacity(64 << 10).secret().build()?;")]
            /// let key = arena.alloc_slice_copy(b"0123456789abcdef");
            /// assert_eq!(key.len(), 16);
            /// arena.reset(); // the 16 bytes are zero again
            /// assert!(arena.alloc_slice_fill_default::<u8>(16).iter().all(|&b| b == 0));
            /// # Ok::<(), anon_arena::Error>(())
            /// ```
            pub fn secret(mut self) -> Self {
                self.options.hardening = Hardening::SECRET;
                self
            }
        }
    )*};
}

secret!(Arena, StackArena, SyncArena);
