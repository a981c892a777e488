//! [`LocalArena`]: a per-thread handle on a [`SyncArena`] that bumps
//! without atomics, inside leases of the arena (see [`LeaseCursor`]).
//!
//! `unsafe` is allowed here for the `Send` and `RawAllocator` impls, and
//! for the lease cursor's operations, whose owner the handle's borrow of
//! its arena pins.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::fmt;
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::ptr::NonNull;

use crate::alloc_api::impl_allocator;
use crate::alloc_methods::alloc_methods;
use crate::collections::ReportsRemaining;
use crate::error::Error;
use crate::raw::RawAllocator;
use crate::sync::lease::LeaseCursor;
use crate::sync::SyncArena;

/// A handle for one thread on a [`SyncArena`]: the same allocation surface
/// (`alloc`, `alloc_str`, `alloc_slice_*`, `alloc_layout`, their `try_`
/// forms, and `Allocator` for `&LocalArena`), served from a private lease
/// of the arena without any atomic operation, so almost as fast as
/// [`Arena`](crate::Arena).
///
/// Make one per thread with [`SyncArena::local`]. The handle is `Send` (it
/// may move to the thread that uses it) but not `Sync`. Blocks live as
/// long as the borrow of the arena (`'a`), not the handle: references from
/// a dropped handle stay valid until the arena is reset.
///
/// The trade-off: a lease's unused tail is lost until the next reset when
/// the handle moves to a new lease or is dropped — unless nothing was
/// claimed after it, in which case it is given back. The arena's
/// [`allocated_bytes`](SyncArena::allocated_bytes) counts whole leases, so
/// it runs ahead of what the handles have handed out, and near the end of
/// the capacity one handle's lease may hold bytes another thread needs.
///
/// ```
/// use anon_arena::SyncArena;
///
/// let arena = SyncArena::with_capacity(1 << 20);
/// let sums: Vec<u64> = std::thread::scope(|s| {
///     let workers: Vec<_> = (0..4u64)
///         .map(|t| {
///             let local = arena.local();
///             s.spawn(move || local.alloc_slice_fill_with(100, |i| i as u64 * t).iter().sum())
///         })
///         .collect();
///     workers.into_iter().map(|w| w.join().unwrap()).collect()
/// });
/// assert_eq!(sums, [0, 4950, 9900, 14850]);
/// ```
///
/// A handle is not `Sync`: threads cannot share one.
///
/// ```compile_fail,E0277
/// fn shared<T: Sync>(_: &T) {}
/// let arena = anon_arena::SyncArena::with_capacity(4096);
/// shared(&arena.local());
/// ```
///
/// And it borrows the arena, so the arena cannot be reset under it.
///
/// ```compile_fail,E0502
/// let mut arena = anon_arena::SyncArena::with_capacity(4096);
/// let local = arena.local();
/// let x = local.alloc(1u64);
/// arena.reset();
/// *x += 1;
/// ```
// Aligned (and so sized) to two cache lines: its bump pointer is written
// on every allocation, and handles moved into neighbouring heap blocks
// (`thread::spawn` closures) would otherwise bounce one line between cores.
#[repr(align(128))]
pub struct LocalArena<'a> {
    /// The arena the leases come from, and big blocks directly.
    arena: &'a SyncArena,
    /// Bumps inside leases of `arena`'s cursor, which owns it (started
    /// over on it, and `arena` cannot be reset while borrowed).
    leases: LeaseCursor,
}

// SAFETY: the handle's lease cursor points into a lease no other handle or
// thread allocates from, so moving the handle to another thread moves the
// only access to the lease with it; the blocks already handed out belong
// to their callers. It stays `!Sync` (through the cursor's cells): two
// threads bumping one cursor would race.
unsafe impl Send for LocalArena<'_> {}

// As for `SyncArena`: no user code runs while a lease is renewed or a
// block bumped out, so a panic leaves the handle whole.
impl UnwindSafe for LocalArena<'_> {}
impl RefUnwindSafe for LocalArena<'_> {}

impl SyncArena {
    /// A handle for one thread: allocates from leases of this arena
    /// without atomics (see [`LocalArena`]).
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(1 << 20);
    /// let x = {
    ///     let local = arena.local();
    ///     local.alloc(42u64)
    /// };
    /// assert_eq!(*x, 42); // blocks outlive the handle
    /// ```
    #[must_use]
    pub fn local(&self) -> LocalArena<'_> {
        let leases = LeaseCursor::new();
        leases.start_over(self.cursor());
        let local = LocalArena {
            arena: self,
            leases,
        };
        local.leases.debug_assert_invariants(self.cursor());
        local
    }
}

impl<'a> LocalArena<'a> {
    /// The arena this handle allocates from.
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(4096);
    /// assert!(std::ptr::eq(arena.local().arena(), &arena));
    /// ```
    #[must_use]
    pub fn arena(&self) -> &'a SyncArena {
        self.arena
    }

    /// Bytes left in the current lease: what the handle can still hand out
    /// before it claims another.
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(1 << 20);
    /// let local = arena.local();
    /// assert_eq!(local.lease_remaining(), 0); // no lease before the first block
    /// local.alloc(1u64);
    /// assert_eq!(local.lease_remaining(), 4096 - 8);
    /// assert_eq!(arena.allocated_bytes(), 4096); // the arena counts the lease
    /// ```
    #[must_use]
    #[inline]
    pub fn lease_remaining(&self) -> usize {
        self.leases.remaining()
    }

    #[inline(always)]
    fn raw_alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        // SAFETY: the arena's cursor owns the lease cursor: it was started
        // over on it, and the arena cannot be reset while borrowed.
        unsafe { self.leases.allocate(self.arena.cursor(), layout) }
    }

    #[cold]
    #[inline(never)]
    fn alloc_error(&self, layout: Layout) -> Error {
        self.arena.cursor().exhausted(layout)
    }
}

// The examples shadow the arena with a handle on it.
alloc_methods!(
    LocalArena<'a>,
    "anon_arena::SyncArena::with_capacity(1 << 20); let arena = arena.local()"
);

impl Drop for LocalArena<'_> {
    fn drop(&mut self) {
        // SAFETY: as in `raw_alloc`; the lease is not used again.
        unsafe { self.leases.give_back_tail(self.arena.cursor()) };
    }
}

impl fmt::Debug for LocalArena<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalArena")
            .field("lease_remaining", &self.lease_remaining())
            .field("arena", &self.arena)
            .finish()
    }
}

// SAFETY: blocks come from the current lease (disjoint, as `RawCursor`
// hands them out) or from the shared cursor (claimed by one CAS each);
// frees and resizes of blocks outside the lease follow the shared
// cursor's rules (see `LeaseCursor`). Blocks live for `'a`: a reset needs
// `&mut SyncArena`. Every call below relies on the arena's cursor owning
// the lease cursor, as in `raw_alloc`.
unsafe impl RawAllocator for LocalArena<'_> {
    #[inline(always)]
    fn allocate(&self, layout: Layout) -> Option<NonNull<u8>> {
        self.raw_alloc(layout)
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Option<NonNull<u8>> {
        // SAFETY: see the impl comment.
        unsafe { self.leases.allocate_zeroed(self.arena.cursor(), layout) }
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: forwarded caller contract; see the impl comment.
        unsafe { self.leases.deallocate(self.arena.cursor(), ptr, layout) }
    }

    #[inline]
    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        // SAFETY: forwarded caller contract; see the impl comment.
        unsafe { self.leases.grow(self.arena.cursor(), ptr, old, new, zeroed) }
    }

    #[inline]
    unsafe fn shrink(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Option<NonNull<u8>> {
        // SAFETY: forwarded caller contract; see the impl comment.
        unsafe { self.leases.shrink(self.arena.cursor(), ptr, old, new) }
    }

    #[inline]
    fn refused(&self, layout: Layout) {
        self.arena.refuse_as("LocalArena", layout);
    }
}

impl_allocator!(['h, 'a] &'h LocalArena<'a>);

/// What the current lease has left, or failing that the arena: the larger
/// is the largest block the handle can still hand out.
impl ReportsRemaining for &LocalArena<'_> {
    #[inline]
    fn remaining_bytes(&self) -> Option<usize> {
        Some(self.lease_remaining().max(self.arena.remaining()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn is_send_and_has_its_own_cache_lines() {
        assert_send::<LocalArena<'static>>();
        assert_eq!(core::mem::align_of::<LocalArena<'static>>(), 128);
        assert_eq!(core::mem::size_of::<LocalArena<'static>>(), 128);
    }
}
