//! [`LocalArena`]: a per-thread handle on a [`SyncArena`] that bumps
//! without atomics.
//!
//! A handle claims a *lease* — a range of the arena, 4 KiB at first,
//! doubling up to 64 KiB — from the shared atomic cursor with one
//! compare-and-swap, then hands out blocks inside it with the plain
//! single-threaded [`RawCursor`], the same fast path as `Arena`'s. The
//! arena stays one region with one lock-free cursor; only the number of
//! atomic operations changes (one per lease instead of one per block).
//!
//! `unsafe` is allowed here to build a `RawCursor` over each lease (whose
//! contract the lease meets), to replace it when the lease runs out, and
//! for the `Send` and `RawAllocator` impls.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::ptr::{self, NonNull};

use crate::alloc_api::impl_allocator;
use crate::alloc_methods::alloc_methods;
use crate::collections::ReportsRemaining;
use crate::error::Error;
use crate::math::{self, MIN_ALIGN};
use crate::raw::{RawAllocator, RawCursor};
use crate::sync::SyncArena;

/// The first lease a handle claims: small, so that short-lived handles
/// waste little.
const FIRST_LEASE: usize = 4 << 10;
/// The largest lease: each lease doubles the last one up to this.
const MAX_LEASE: usize = 64 << 10;
/// Requests needing more than this skip the lease and take their block
/// straight from the shared cursor (one compare-and-swap is cheap next to
/// filling that many bytes, and the lease's tail is not thrown away).
const DIRECT_ABOVE: usize = MAX_LEASE / 4;

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
    /// Bumps inside the current lease, a range claimed from `arena`'s
    /// cursor that this handle alone allocates from; an empty range at
    /// the arena's start before the first claim. Replaced (never while
    /// borrowed) by [`renew`](Self::renew).
    lease: UnsafeCell<RawCursor>,
    /// The size of the next lease: a multiple of [`MIN_ALIGN`] in
    /// `FIRST_LEASE..=MAX_LEASE`.
    next_lease: Cell<usize>,
}

// SAFETY: the handle's `RawCursor` points into a lease no other handle or
// thread allocates from, so moving the handle to another thread moves the
// only access to the lease with it; the blocks already handed out belong
// to their callers. It stays `!Sync` (through `Cell`/`UnsafeCell`): two
// threads bumping one `RawCursor` would race.
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
        // SAFETY: zero bytes at the region's start: nothing is ever read or
        // written through this cursor, which only makes zero-sized blocks.
        let empty = unsafe { RawCursor::new(self.cursor().start(), 0) };
        let local = LocalArena {
            arena: self,
            lease: UnsafeCell::new(empty),
            next_lease: Cell::new(FIRST_LEASE),
        };
        local.debug_assert_invariants();
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
        self.lease().remaining()
    }

    /// The current lease's cursor.
    #[inline(always)]
    fn lease(&self) -> &RawCursor {
        // SAFETY: only `renew` writes the cell, and it holds no reference
        // from here while it does; the handle is `!Sync`.
        unsafe { &*self.lease.get() }
    }

    #[inline(always)]
    fn raw_alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        match self.lease().allocate(layout) {
            Some(block) => Some(block),
            None => self.alloc_elsewhere(layout, false),
        }
    }

    #[cold]
    #[inline(never)]
    fn alloc_error(&self, layout: Layout) -> Error {
        self.arena.cursor().exhausted(layout)
    }

    /// Serves a request the current lease cannot: from the shared cursor
    /// directly when it is big, from a new lease otherwise. Cold: once per
    /// lease (thousands of small blocks), and kept out of the fast path.
    #[cold]
    #[inline(never)]
    fn alloc_elsewhere(&self, layout: Layout, zeroed: bool) -> Option<NonNull<u8>> {
        // Room for the block wherever an 8-aligned lease starts.
        let needed = math::round_to_min_align(layout.size())?
            .checked_add(layout.align().max(MIN_ALIGN) - MIN_ALIGN)?;
        let shared = self.arena.cursor();
        if needed > DIRECT_ABOVE {
            return if zeroed {
                shared.allocate_zeroed(layout)
            } else {
                shared.allocate(layout)
            };
        }
        self.renew(needed)?;
        let lease = self.lease();
        let block = if zeroed {
            lease.allocate_zeroed(layout)
        } else {
            lease.allocate(layout)
        };
        debug_assert!(block.is_some(), "a fresh lease holds what it was sized for");
        block
    }

    /// Gives back the current lease's tail (if it is the newest claim) and
    /// claims a new lease of at least `needed` bytes. `None` when the arena
    /// has fewer left; the handle then keeps its old lease, or an empty one
    /// if the tail went back (a tail that went back is the arena's again).
    fn renew(&self, needed: usize) -> Option<()> {
        let shared = self.arena.cursor();
        if self.give_back_tail() {
            // The tail is the arena's again: stop bumping into it, even if
            // the claim below fails.
            // SAFETY: as in `SyncArena::local`; no reference to the old
            // cursor is alive.
            unsafe { *self.lease.get() = RawCursor::new(shared.start(), 0) };
        }
        let lease = shared.claim(needed, self.next_lease.get())?;
        self.next_lease
            .set((self.next_lease.get() * 2).min(MAX_LEASE));
        // SAFETY: the lease is `lease.len` bytes of the arena's mapping,
        // 8-aligned, claimed by us alone, zero from `lease.dirty` on, and
        // valid for `'a` (the mapping outlives the borrow; a reset needs
        // `&mut SyncArena`). The old cursor's blocks stay valid: their bytes
        // are never claimed again before a reset. No reference to the old
        // cursor is alive: `lease()` borrows end before we get here.
        unsafe {
            *self.lease.get() = RawCursor::over_lease(lease.start, lease.len, lease.dirty);
        }
        self.debug_assert_invariants();
        Some(())
    }

    /// Hands the unused tail of the current lease back to the arena if no
    /// lease or block was claimed after it (one compare-and-swap that
    /// fails otherwise, leaving the tail lost until the next reset);
    /// returns whether it did. The caller stops using the tail if so.
    fn give_back_tail(&self) -> bool {
        let lease = self.lease();
        let tail = lease.remaining();
        // SAFETY: `pos..pos + tail` is the end of a lease the shared cursor
        // handed out, no block lives in it, and the caller stops using it
        // when it goes back.
        tail > 0 && unsafe { self.arena.cursor().give_back(lease.pos(), tail) }
    }

    /// Does `block` start inside the current lease? A zero-sized block at
    /// its very end counts as the shared cursor's, whose rules suit it.
    #[inline]
    fn in_lease(&self, block: NonNull<u8>) -> bool {
        let lease = self.lease();
        let start = lease.start().addr().get();
        block.addr().get().wrapping_sub(start) < lease.capacity()
    }

    /// Checks the invariants listed on the fields (debug builds only).
    fn debug_assert_invariants(&self) {
        let lease = self.lease();
        lease.debug_assert_invariants();
        let region = self.arena.cursor().start().addr().get();
        let start = lease.start().addr().get();
        debug_assert!(
            start >= region && start - region + lease.capacity() <= self.arena.capacity(),
            "lease outside the arena"
        );
        let next = self.next_lease.get();
        debug_assert!(
            (FIRST_LEASE..=MAX_LEASE).contains(&next) && next % MIN_ALIGN == 0,
            "lease size out of range"
        );
    }
}

// The examples shadow the arena with a handle on it.
alloc_methods!(
    LocalArena<'a>,
    "anon_arena::SyncArena::with_capacity(1 << 20); let arena = arena.local()"
);

impl Drop for LocalArena<'_> {
    fn drop(&mut self) {
        self.give_back_tail();
    }
}

impl fmt::Debug for LocalArena<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalArena")
            .field("lease_remaining", &self.lease_remaining())
            .field("next_lease", &self.next_lease.get())
            .field("arena", &self.arena)
            .finish()
    }
}

// SAFETY: blocks come from the current lease (disjoint, as `RawCursor`
// hands them out) or from the shared cursor (claimed by one CAS each).
// A block outside the current lease was handed out by the shared cursor,
// directly or as part of an earlier lease that nothing allocates from any
// more, so its frees and resizes are the shared cursor's: they act in
// place only when the block ends at the shared offset, i.e. nothing live
// lies after it. Blocks live for `'a`: a reset needs `&mut SyncArena`.
unsafe impl RawAllocator for LocalArena<'_> {
    #[inline(always)]
    fn allocate(&self, layout: Layout) -> Option<NonNull<u8>> {
        self.raw_alloc(layout)
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Option<NonNull<u8>> {
        match self.lease().allocate_zeroed(layout) {
            Some(block) => Some(block),
            None => self.alloc_elsewhere(layout, true),
        }
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if self.in_lease(ptr) {
            // SAFETY: forwarded caller contract; the block is the lease's.
            unsafe { self.lease().deallocate(ptr, layout) }
        } else {
            // SAFETY: forwarded caller contract; the block is the shared
            // cursor's (see the impl comment).
            unsafe { self.arena.cursor().deallocate(ptr, layout) }
        }
    }

    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        if !self.in_lease(ptr) {
            // SAFETY: forwarded caller contract; the block is the shared
            // cursor's (see the impl comment).
            return unsafe { RawAllocator::grow(self.arena.cursor(), ptr, old, new, zeroed) };
        }
        // SAFETY: forwarded caller contract; the block is the lease's.
        if let Some(block) = unsafe { RawAllocator::grow(self.lease(), ptr, old, new, zeroed) } {
            return Some(block);
        }
        let moved = self.alloc_elsewhere(new, zeroed)?;
        // SAFETY: the old block is live for `old.size()` bytes (an old
        // lease's bytes are never claimed again before a reset), the new
        // one is fresh and at least as large.
        unsafe { ptr::copy_nonoverlapping(ptr.as_ptr(), moved.as_ptr(), old.size()) };
        Some(moved)
    }

    unsafe fn shrink(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Option<NonNull<u8>> {
        if !self.in_lease(ptr) {
            // SAFETY: forwarded caller contract; the block is the shared
            // cursor's (see the impl comment).
            return unsafe { RawAllocator::shrink(self.arena.cursor(), ptr, old, new) };
        }
        // SAFETY: forwarded caller contract; the block is the lease's.
        if let Some(block) = unsafe { RawAllocator::shrink(self.lease(), ptr, old, new) } {
            return Some(block);
        }
        // Only a larger alignment than the lease has room for gets here.
        let moved = self.alloc_elsewhere(new, false)?;
        // SAFETY: `new.size() <= old.size()` live bytes into a fresh block.
        unsafe { ptr::copy_nonoverlapping(ptr.as_ptr(), moved.as_ptr(), new.size()) };
        Some(moved)
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

    #[test]
    fn leases_double_up_to_the_cap_and_follow_each_other() {
        let arena = SyncArena::with_capacity(1 << 20);
        let local = arena.local();
        let first = local.alloc(0u64) as *mut u64 as usize;
        local.alloc_slice_fill_copy(FIRST_LEASE / 8 - 1, 0u64);
        assert_eq!(local.lease_remaining(), 0);
        let second = local.alloc(0u64) as *mut u64 as usize;
        assert_eq!(
            second,
            first + FIRST_LEASE,
            "an exhausted lease is not skipped"
        );
        assert_eq!(local.lease_remaining(), 2 * FIRST_LEASE - 8);
        for _ in 0..8 {
            local.renew(8).unwrap();
        }
        assert_eq!(local.next_lease.get(), MAX_LEASE);
    }

    #[test]
    fn renewal_gives_back_the_newest_tail() {
        let arena = SyncArena::with_capacity(1 << 20);
        let local = arena.local();
        let first = local.alloc(1u64) as *mut u64 as usize;
        // A request that does not fit the rest of the first lease.
        let block = local.alloc([0u8; FIRST_LEASE]) as *mut _ as usize;
        assert_eq!(block, first + 8, "the tail came back and was re-leased");
        assert_eq!(arena.allocated_bytes(), 8 + 2 * FIRST_LEASE);
    }

    #[test]
    fn big_requests_skip_the_lease() {
        let arena = SyncArena::with_capacity(1 << 20);
        let local = arena.local();
        local.alloc(1u8);
        let lease_left = local.lease_remaining();
        local.alloc_slice_fill_copy(DIRECT_ABOVE + 8, 0u8);
        assert_eq!(local.lease_remaining(), lease_left, "the lease was kept");
        assert_eq!(arena.allocated_bytes(), FIRST_LEASE + DIRECT_ABOVE + 8);
    }
}
