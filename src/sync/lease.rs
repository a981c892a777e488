//! [`LeaseCursor`]: the single-threaded cursor over successive leases of a
//! [`SyncArena`](super::SyncArena)'s shared cursor, behind both a
//! [`LocalArena`](super::LocalArena) handle and a thread's cached lease
//! for `&SyncArena` (`thread_cache`).
//!
//! A lease — a range of the arena, 4 KiB at first, doubling up to
//! 64 KiB — is claimed from the shared atomic cursor with one
//! compare-and-swap; blocks inside it come from the plain single-threaded
//! [`RawCursor`], the same fast path as `Arena`'s. When a lease runs out,
//! its unused tail goes back to the arena if nothing was claimed after it.
//!
//! A `LeaseCursor` does not know its arena: every operation takes the
//! shared cursor, and the caller promises it is the one the leases came
//! from, since its last reset (see [`LeaseCursor`]'s safety rule). The
//! handle keeps that promise with a borrow, the thread cache with the
//! arena's key.
//!
//! `unsafe` is allowed here to build a `RawCursor` over each lease (whose
//! contract the lease meets), to replace it when the lease runs out, and
//! because every operation relies on the caller's promise above.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::cell::{Cell, UnsafeCell};
use core::ptr::{self, NonNull};

use crate::math::{self, MIN_ALIGN};
use crate::raw::{RawAllocator, RawAtomicCursor, RawCursor};

/// The first lease a cursor claims: small, so that short-lived handles
/// (and threads that allocate little) waste little.
pub(crate) const FIRST_LEASE: usize = 4 << 10;
/// The largest lease: each lease doubles the last one up to this.
pub(crate) const MAX_LEASE: usize = 64 << 10;
/// Requests needing more than this skip the lease and take their block
/// straight from the shared cursor (one compare-and-swap is cheap next to
/// filling that many bytes, and the lease's tail is not thrown away).
pub(crate) const DIRECT_ABOVE: usize = MAX_LEASE / 4;

/// Bump allocation inside leases of one shared cursor.
///
/// A block that does not lie inside the current lease is the shared
/// cursor's business: it was handed out by the shared cursor directly, or
/// inside a lease (an older one of this cursor, or another cursor's), and
/// its frees and resizes follow the shared cursor's rules: in place only
/// when it ends at the shared offset, i.e. nothing was claimed after it,
/// so no lease's free bytes lie past it. A block that lies inside the
/// current lease goes to the lease's cursor, which acts in place only on a
/// block ending exactly at its position.
///
/// Such a block is usually this cursor's, but need not be: another thread
/// may free this lease's newest block through the shared cursor (it ends
/// at the shared offset), rewinding the shared cursor into the lease's
/// range, and a later lease may then hand out blocks there. What keeps
/// blocks apart is not who handed a block out but that every free byte has
/// exactly one owner — the shared cursor (from its offset on), one
/// lease's unused tail (from that lease cursor's position to the lease's
/// end), or nobody until the next reset — and that an in-place free or
/// resize only moves bytes between a live block and the free bytes right
/// after it, which the acting cursor owns when the block ends at its
/// position. Leases are claimed whole, so their tails are disjoint; blocks
/// of an earlier epoch are dead.
///
/// **The safety rule of every `unsafe` method** (called "`shared` owns
/// `self`" below): `shared` is the cursor every lease this `LeaseCursor`
/// holds or held was claimed from, and it has not been reset since the
/// first of them — or the `LeaseCursor` has been [`start_over`](Self::start_over)ed
/// on `shared` since. Its blocks then live as long as `shared`'s memory
/// and the epoch.
pub(crate) struct LeaseCursor {
    /// Bumps inside the current lease, a range claimed from the shared
    /// cursor that this `LeaseCursor` alone allocates from; an empty range
    /// before the first claim. Replaced (never while borrowed) by
    /// [`renew`](Self::renew) and [`start_over`](Self::start_over).
    lease: UnsafeCell<RawCursor>,
    /// The size of the next lease: a multiple of [`MIN_ALIGN`] in
    /// `FIRST_LEASE..=MAX_LEASE`.
    next_lease: Cell<usize>,
}

impl LeaseCursor {
    /// A cursor with no lease, owned by no shared cursor yet: it must be
    /// [`start_over`](Self::start_over)ed before anything else.
    pub(crate) const fn new() -> LeaseCursor {
        LeaseCursor {
            lease: UnsafeCell::new(RawCursor::empty()),
            next_lease: Cell::new(FIRST_LEASE),
        }
    }

    /// Forgets the current lease (whose tail is lost until `shared`'s next
    /// reset) and makes `shared` own this cursor: it holds an empty lease
    /// at the start of `shared`'s memory, and the next lease is a first
    /// one.
    pub(crate) fn start_over(&self, shared: &RawAtomicCursor) {
        // SAFETY: zero bytes at the memory's start: nothing is ever read or
        // written through this cursor, which only makes zero-sized blocks.
        let empty = unsafe { RawCursor::new(shared.start(), 0) };
        // SAFETY: no reference to the old cursor is alive (`lease()`
        // borrows end before the callers get here).
        unsafe { *self.lease.get() = empty };
        self.next_lease.set(FIRST_LEASE);
    }

    /// Drops the current lease for an empty one (keeping the size of the
    /// next, unlike [`start_over`](Self::start_over)): no block is in it
    /// any more, and every block it handed out is the shared cursor's
    /// business from here on.
    fn forget_lease(&self, shared: &RawAtomicCursor) {
        // SAFETY: zero bytes at the memory's start, as in `start_over`.
        let empty = unsafe { RawCursor::new(shared.start(), 0) };
        // SAFETY: no reference to the old cursor is alive (`lease()`
        // borrows end before the callers get here).
        unsafe { *self.lease.get() = empty };
    }

    /// The current lease's cursor.
    #[inline(always)]
    fn lease(&self) -> &RawCursor {
        // SAFETY: only `renew`, `start_over`, `forget_lease` and `swap`
        // write the cell, and none holds a reference from here while it
        // does; the type is `!Sync`.
        unsafe { &*self.lease.get() }
    }

    /// Bytes left in the current lease.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.lease().remaining()
    }

    /// The size of the next lease this cursor will ask for.
    #[cfg(test)]
    pub(crate) fn next_lease(&self) -> usize {
        self.next_lease.get()
    }

    /// A block for `layout`: from the current lease, else from a new lease
    /// or (when big) straight from `shared`.
    ///
    /// # Safety
    ///
    /// * `shared` owns `self` (see the type's docs).
    #[inline(always)]
    pub(crate) unsafe fn allocate(
        &self,
        shared: &RawAtomicCursor,
        layout: Layout,
    ) -> Option<NonNull<u8>> {
        match self.lease().allocate(layout) {
            Some(block) => Some(block),
            // SAFETY: the caller's promise.
            None => unsafe { self.alloc_elsewhere(shared, layout, false) },
        }
    }

    /// [`allocate`](Self::allocate), with the block's bytes reading as zero.
    ///
    /// # Safety
    ///
    /// * `shared` owns `self`.
    #[inline]
    pub(crate) unsafe fn allocate_zeroed(
        &self,
        shared: &RawAtomicCursor,
        layout: Layout,
    ) -> Option<NonNull<u8>> {
        match self.lease().allocate_zeroed(layout) {
            Some(block) => Some(block),
            // SAFETY: the caller's promise.
            None => unsafe { self.alloc_elsewhere(shared, layout, true) },
        }
    }

    /// Serves a request the current lease cannot: from `shared` directly
    /// when it is big or no lease can be claimed for it, from a new lease
    /// otherwise. Cold: once per lease (thousands of small blocks), and
    /// kept out of the fast path.
    ///
    /// # Safety
    ///
    /// * `shared` owns `self`.
    #[cold]
    #[inline(never)]
    unsafe fn alloc_elsewhere(
        &self,
        shared: &RawAtomicCursor,
        layout: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        let direct = || {
            if zeroed {
                shared.allocate_zeroed(layout)
            } else {
                shared.allocate(layout)
            }
        };
        // Room for the block wherever an 8-aligned lease starts.
        let needed = math::round_to_min_align(layout.size())?
            .checked_add(layout.align().max(MIN_ALIGN) - MIN_ALIGN)?;
        if needed > DIRECT_ABOVE {
            return direct();
        }
        // SAFETY: the caller's promise.
        if unsafe { self.renew(shared, needed) }.is_none() {
            // Too little left (below the capacity or the allocation limit)
            // for a lease with the alignment slack: the exact block may
            // still fit, in the bytes the old tail gave back, say.
            return direct();
        }
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
    /// claims a new lease of at least `needed` bytes. `None` when `shared`
    /// has fewer left; the cursor then keeps its old lease, or an empty one
    /// if the tail went back (a tail that went back is the arena's again).
    ///
    /// # Safety
    ///
    /// * `shared` owns `self`.
    unsafe fn renew(&self, shared: &RawAtomicCursor, needed: usize) -> Option<()> {
        // SAFETY: the caller's promise.
        if unsafe { self.give_back_tail(shared) } {
            // The tail is the arena's again: stop bumping into it, even if
            // the claim below fails.
            self.forget_lease(shared);
        }
        let lease = shared.claim(needed, self.next_lease.get())?;
        self.next_lease
            .set((self.next_lease.get() * 2).min(MAX_LEASE));
        // SAFETY: the lease is `lease.len` bytes of `shared`'s memory,
        // 8-aligned, claimed by us alone, zero from `lease.dirty` on, and
        // valid until `shared`'s next reset, which ends the epoch in which
        // the caller may use this cursor with `shared`. The old cursor's
        // blocks stay valid: their bytes are never claimed again before a
        // reset. No reference to the old cursor is alive: `lease()` borrows
        // end before we get here.
        unsafe {
            *self.lease.get() = RawCursor::over_lease(lease.start, lease.len, lease.dirty);
        }
        self.debug_assert_invariants(shared);
        Some(())
    }

    /// Hands the unused tail of the current lease back to `shared` if no
    /// lease or block was claimed after it (one compare-and-swap that
    /// fails otherwise, leaving the tail lost until the next reset);
    /// returns whether it did. The caller stops using the tail if so.
    ///
    /// # Safety
    ///
    /// * `shared` owns `self`.
    pub(crate) unsafe fn give_back_tail(&self, shared: &RawAtomicCursor) -> bool {
        let lease = self.lease();
        let tail = lease.remaining();
        // SAFETY: `pos..pos + tail` is the end of a lease `shared` handed
        // out (the caller's promise), no block lives in it, and the caller
        // stops using it when it goes back.
        tail > 0 && unsafe { shared.give_back(lease.pos(), tail) }
    }

    /// Does the `size`-byte block at `block` lie inside the current lease?
    /// A zero-sized block at its very end counts as the shared cursor's,
    /// whose rules suit it, and so does a block that starts inside the
    /// lease but runs past its end: another cursor handed it out after the
    /// shared cursor was rewound into the lease (see the type's docs), and
    /// it can be resized in place only where the shared cursor stands.
    #[inline]
    fn in_lease(&self, block: NonNull<u8>, size: usize) -> bool {
        let lease = self.lease();
        let start = lease.start().addr().get();
        let offset = block.addr().get().wrapping_sub(start);
        offset < lease.capacity() && size <= lease.capacity() - offset
    }

    /// Frees `ptr`: in the lease if it lies there and is its newest block,
    /// by `shared`'s rules otherwise (in place only when it ends at the
    /// shared offset).
    ///
    /// # Safety
    ///
    /// * `shared` owns `self`.
    /// * `ptr` was handed out for `layout` by some allocator (this one, a
    ///   cursor over another lease of `shared`, `shared` itself, or
    ///   another allocator of the crate), was live until now, and is not
    ///   used again.
    #[inline]
    pub(crate) unsafe fn deallocate(
        &self,
        shared: &RawAtomicCursor,
        ptr: NonNull<u8>,
        layout: Layout,
    ) {
        if self.in_lease(ptr, layout.size()) {
            // SAFETY: the caller's contract; the lease's cursor gives back
            // in place only a block ending at its position, next to free
            // bytes it alone owns (see the type's docs).
            unsafe { self.lease().deallocate(ptr, layout) }
        } else {
            // SAFETY: the caller's contract; the block is the shared
            // cursor's (see the type's docs).
            unsafe { shared.deallocate(ptr, layout) }
        }
    }

    /// Grows `ptr` as [`RawAllocator::grow`] does: in place when it is the
    /// lease's newest block (or the shared cursor's), by copying into the
    /// lease (or a new one) otherwise.
    ///
    /// # Safety
    ///
    /// * `shared` owns `self`.
    /// * `RawAllocator::grow`'s contract, for a block live in `shared`'s
    ///   memory (handed out by `self`, another lease's cursor or `shared`).
    pub(crate) unsafe fn grow(
        &self,
        shared: &RawAtomicCursor,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        if !self.in_lease(ptr, old.size()) {
            // SAFETY: forwarded caller contract; the block is the shared
            // cursor's.
            if let Some(block) = unsafe { shared.grow_in_place(ptr, old, new, zeroed) } {
                return Some(block);
            }
            // SAFETY: forwarded caller contract.
            return unsafe { self.move_out_of(shared, ptr, old, new, zeroed) };
        }
        // SAFETY: forwarded caller contract; the lease's cursor resizes in
        // place only a block ending at its position (see the type's docs).
        if let Some(block) = unsafe { RawAllocator::grow(self.lease(), ptr, old, new, zeroed) } {
            return Some(block);
        }
        let lease = self.lease();
        let newest =
            math::block_end(ptr.addr().get(), old.size()) == Some(lease.pos().addr().get());
        // SAFETY: the caller's promise.
        if newest && (lease.remaining() == 0 || unsafe { self.give_back_tail(shared) }) {
            // The lease's newest block now ends where the lease does (its
            // tail is the arena's again): if nothing was claimed after the
            // lease, the shared cursor grows the block in place (a `Vec`
            // outgrowing its lease keeps its place), else it moves it. The
            // lease is done with either way.
            self.forget_lease(shared);
            // SAFETY: forwarded caller contract; out of every lease now,
            // the block is the shared cursor's.
            return unsafe { RawAllocator::grow(shared, ptr, old, new, zeroed) };
        }
        // SAFETY: the caller's promise.
        let moved = unsafe { self.alloc_elsewhere(shared, new, zeroed)? };
        // SAFETY: the old block is live for `old.size()` bytes (an old
        // lease's bytes are never claimed again before a reset), the new
        // one is fresh and at least as large.
        unsafe { ptr::copy_nonoverlapping(ptr.as_ptr(), moved.as_ptr(), old.size()) };
        Some(moved)
    }

    /// Moves a block that is the shared cursor's and cannot be resized in
    /// place into this cursor's lease (or a new one), as a new block of
    /// `new` would go: a thread's lease with room serves it even when the
    /// shared cursor has none left.
    ///
    /// # Safety
    ///
    /// * As for [`grow`](Self::grow) (or [`shrink`](Self::shrink)), and the
    ///   block is outside the current lease.
    #[cold]
    unsafe fn move_out_of(
        &self,
        shared: &RawAtomicCursor,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        // SAFETY: the caller's promise.
        let moved = unsafe {
            if zeroed {
                self.allocate_zeroed(shared, new)
            } else {
                self.allocate(shared, new)
            }
        }?;
        let kept = old.size().min(new.size());
        // SAFETY: the old block is live for `old.size()` bytes and lies
        // outside every lease's free bytes, the new one is fresh, for
        // `new.size()`.
        unsafe { ptr::copy_nonoverlapping(ptr.as_ptr(), moved.as_ptr(), kept) };
        // SAFETY: the caller gives the old block up with this call.
        unsafe { shared.forget_moved(ptr, old.size()) };
        Some(moved)
    }

    /// Shrinks `ptr` as [`RawAllocator::shrink`] does, in place when the
    /// address suits `new`.
    ///
    /// # Safety
    ///
    /// * `shared` owns `self`.
    /// * `RawAllocator::shrink`'s contract, for a block live in `shared`'s
    ///   memory (as for [`grow`](Self::grow)).
    pub(crate) unsafe fn shrink(
        &self,
        shared: &RawAtomicCursor,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
    ) -> Option<NonNull<u8>> {
        if !self.in_lease(ptr, old.size()) {
            if ptr.addr().get() % new.align() != 0 {
                // SAFETY: forwarded caller contract.
                return unsafe { self.move_out_of(shared, ptr, old, new, false) };
            }
            // SAFETY: forwarded caller contract; the block is the shared
            // cursor's, and shrinks in place.
            return unsafe { RawAllocator::shrink(shared, ptr, old, new) };
        }
        // SAFETY: forwarded caller contract; the lease's cursor resizes in
        // place only a block ending at its position (see the type's docs).
        if let Some(block) = unsafe { RawAllocator::shrink(self.lease(), ptr, old, new) } {
            return Some(block);
        }
        // Only a larger alignment than the lease has room for gets here.
        // SAFETY: the caller's promise.
        let moved = unsafe { self.alloc_elsewhere(shared, new, false)? };
        // SAFETY: `new.size() <= old.size()` live bytes into a fresh block.
        unsafe { ptr::copy_nonoverlapping(ptr.as_ptr(), moved.as_ptr(), new.size()) };
        Some(moved)
    }

    /// Swaps the leases of two cursors (each keeps its owner's promise
    /// with its new lease: the caller swaps whatever records the owner
    /// too).
    #[cfg(thread_cache)]
    pub(crate) fn swap(&self, other: &LeaseCursor) {
        if ptr::eq(self, other) {
            return;
        }
        // SAFETY: two distinct cells; no reference into either is alive
        // (`lease()` borrows end before the callers get here).
        unsafe { ptr::swap(self.lease.get(), other.lease.get()) };
        self.next_lease.swap(&other.next_lease);
    }

    /// Checks the invariants listed on the fields (debug builds only).
    pub(crate) fn debug_assert_invariants(&self, shared: &RawAtomicCursor) {
        let lease = self.lease();
        lease.debug_assert_invariants();
        let region = shared.start().addr().get();
        let start = lease.start().addr().get();
        debug_assert!(
            start >= region && start - region + lease.capacity() <= shared.capacity(),
            "lease outside the arena"
        );
        let next = self.next_lease.get();
        debug_assert!(
            (FIRST_LEASE..=MAX_LEASE).contains(&next) && next % MIN_ALIGN == 0,
            "lease size out of range"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fixture = crate::raw::Fixture<RawAtomicCursor>;

    /// A shared cursor over `bytes`, and a lease cursor it owns.
    fn fixture(bytes: usize) -> (Fixture, LeaseCursor) {
        let f = Fixture::new(bytes / 8);
        let leases = LeaseCursor::new();
        leases.start_over(&f.cursor);
        (f, leases)
    }

    fn block(f: &Fixture, leases: &LeaseCursor, size: usize) -> NonNull<u8> {
        let layout = Layout::from_size_align(size, 8).unwrap();
        // SAFETY: `f.cursor` owns `leases` (`fixture`).
        unsafe { leases.allocate(&f.cursor, layout) }.unwrap()
    }

    fn alloc(f: &Fixture, leases: &LeaseCursor, size: usize) -> usize {
        block(f, leases, size).addr().get()
    }

    #[test]
    fn leases_double_up_to_the_cap_and_follow_each_other() {
        let (f, leases) = fixture(1 << 20);
        let first = alloc(&f, &leases, 8);
        alloc(&f, &leases, FIRST_LEASE - 8);
        assert_eq!(leases.remaining(), 0);
        let second = alloc(&f, &leases, 8);
        assert_eq!(
            second,
            first + FIRST_LEASE,
            "an exhausted lease is not skipped"
        );
        assert_eq!(leases.remaining(), 2 * FIRST_LEASE - 8);
        for _ in 0..8 {
            // SAFETY: as in `alloc`.
            unsafe { leases.renew(&f.cursor, 8) }.unwrap();
        }
        assert_eq!(leases.next_lease(), MAX_LEASE);
    }

    #[test]
    fn renewal_gives_back_the_newest_tail() {
        let (f, leases) = fixture(1 << 20);
        let first = alloc(&f, &leases, 8);
        // A request that does not fit the rest of the first lease.
        let block = alloc(&f, &leases, FIRST_LEASE);
        assert_eq!(block, first + 8, "the tail came back and was re-leased");
        assert_eq!(f.cursor.used(), 8 + 2 * FIRST_LEASE);
    }

    #[test]
    fn a_tail_another_claim_follows_is_lost() {
        let (f, leases) = fixture(1 << 20);
        alloc(&f, &leases, 8);
        let other = f.cursor.allocate(Layout::new::<u64>()).unwrap();
        let block = alloc(&f, &leases, FIRST_LEASE);
        assert_eq!(
            block,
            other.addr().get() + 8,
            "the new lease follows the block"
        );
        assert_eq!(f.cursor.used(), FIRST_LEASE + 8 + 2 * FIRST_LEASE);
    }

    #[test]
    fn big_requests_skip_the_lease() {
        let (f, leases) = fixture(1 << 20);
        alloc(&f, &leases, 8);
        let lease_left = leases.remaining();
        alloc(&f, &leases, DIRECT_ABOVE + 8);
        assert_eq!(leases.remaining(), lease_left, "the lease was kept");
        assert_eq!(f.cursor.used(), FIRST_LEASE + DIRECT_ABOVE + 8);
    }

    #[test]
    fn the_newest_block_of_the_lease_frees_and_resizes_in_place() {
        let (f, leases) = fixture(1 << 20);
        let old = Layout::new::<u64>();
        let block = block(&f, &leases, 8);
        let left = leases.remaining();
        let new = Layout::new::<[u64; 4]>();
        // SAFETY: `block` is live for `old`; `f.cursor` owns `leases`.
        let grown = unsafe { leases.grow(&f.cursor, block, old, new, false) }.unwrap();
        assert_eq!((grown, leases.remaining()), (block, left - 24));
        // SAFETY: `grown` is live for `new`.
        let shrunk = unsafe { leases.shrink(&f.cursor, grown, new, old) }.unwrap();
        assert_eq!((shrunk, leases.remaining()), (block, left));
        // SAFETY: `shrunk` is live for `old`, and dead afterwards.
        unsafe { leases.deallocate(&f.cursor, shrunk, old) };
        assert_eq!(leases.remaining(), left + 8);
        assert_eq!(
            f.cursor.used(),
            FIRST_LEASE,
            "the shared cursor saw none of it"
        );
    }

    #[test]
    fn a_block_outgrowing_its_lease_grows_in_place_if_the_lease_is_newest() {
        let (f, leases) = fixture(1 << 20);
        alloc(&f, &leases, 8);
        let old = Layout::from_size_align(1024, 8).unwrap();
        let block = block(&f, &leases, old.size());
        let new = Layout::from_size_align(2 * FIRST_LEASE, 8).unwrap();
        // SAFETY: `block` is live for `old`; `f.cursor` owns `leases`.
        let grown = unsafe { leases.grow(&f.cursor, block, old, new, false) }.unwrap();
        assert_eq!(grown, block, "grown in place past the lease's end");
        assert_eq!(f.cursor.used(), 8 + 2 * FIRST_LEASE);
        assert_eq!(leases.remaining(), 0, "the lease is done with");
        // Once another claim follows, growing moves the block.
        let other = f.cursor.allocate(Layout::new::<u64>()).unwrap();
        let bigger = Layout::from_size_align(4 * FIRST_LEASE, 8).unwrap();
        // SAFETY: `grown` is live for `new`.
        let moved = unsafe { leases.grow(&f.cursor, grown, new, bigger, false) }.unwrap();
        assert_eq!(moved.addr().get(), other.addr().get() + 8);
    }

    #[test]
    fn started_over_it_forgets_its_lease() {
        let (f, leases) = fixture(1 << 20);
        alloc(&f, &leases, 8);
        // SAFETY: as in `alloc`.
        unsafe { leases.renew(&f.cursor, 8) }.unwrap();
        assert_eq!(leases.next_lease(), 4 * FIRST_LEASE);
        leases.start_over(&f.cursor);
        assert_eq!((leases.remaining(), leases.next_lease()), (0, FIRST_LEASE));
    }

    #[test]
    #[cfg(thread_cache)]
    fn swapped_cursors_trade_leases() {
        let (f, first) = fixture(1 << 20);
        let second = LeaseCursor::new();
        second.start_over(&f.cursor);
        alloc(&f, &first, 8);
        first.swap(&second);
        assert_eq!(
            (first.remaining(), second.remaining()),
            (0, FIRST_LEASE - 8)
        );
        first.swap(&first);
        assert_eq!(first.remaining(), 0);
    }
}
