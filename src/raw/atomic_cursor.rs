//! [`RawAtomicCursor`]: the lock-free bump cursor behind `SyncArena` and
//! `SharedArena`.
//!
//! One `AtomicUsize` holds the offset of the next free byte from `start`.
//! Every allocation is a compare-and-swap from the offset it read to that
//! offset plus the block, retried when another thread (or process) won the
//! race. A compare-and-swap rather than `fetch_add`, because a request that
//! does not fit must leave the offset as it was: a `fetch_add` past the end
//! would make every later request fail until it was undone, could wrap the
//! counter after enough failed requests, and undoing it with `fetch_sub`
//! races with the rewinds below (a rewind taking the offset down between the
//! add and the undo lets the undo take it below a live block). With the CAS,
//! `offset <= capacity` holds at every instant.
//!
//! Freeing or resizing the newest block is a compare-and-swap from that
//! block's end: it succeeds only if nothing was allocated after it.
//!
//! Pointers are always `start.add(offset)`, or a caller's address given
//! `start`'s provenance ([`own`](RawAtomicCursor::own)): every block carries
//! the provenance of the mapping the cursor was made over, never that of
//! the pointer a caller handed back.
//!
//! With `cfg(asan)` the cursor tells AddressSanitizer what is live through
//! an [`asan::AtomicShadow`]: free space ahead of the offset is poisoned a
//! chunk at a time, a block is unpoisoned by the thread that claimed it,
//! and a freed block is poisoned by its owner before the rewind that gives
//! it back (the shadow's docs say why no thread can poison a block another
//! was just handed).

use core::alloc::Layout;
use core::ptr::{self, NonNull};

use crate::asan;
use crate::error::Error;
use crate::math::{self, MIN_ALIGN};
use crate::raw::{BumpCursor, RawAllocator};
use crate::sync_prims::{AtomicUsize, Ordering};

/// A lease takes at most this fraction of what the cursor has left (or
/// what its claimer needs, if more): near the end of the capacity leases
/// shrink, so one thread's unused lease cannot hold the room the others
/// need, and what tails waste stays a small part of the capacity.
const LEASE_SHARE: usize = 8;

/// A range handed out whole by [`RawAtomicCursor::claim`], for a
/// single-threaded cursor to bump inside.
pub(crate) struct Lease {
    /// First byte; 8-aligned, with the mapping's provenance.
    pub(crate) start: NonNull<u8>,
    /// Bytes in the lease; a multiple of [`MIN_ALIGN`].
    pub(crate) len: usize,
    /// How many bytes from `start` may hold old data (below the cursor's
    /// high-water mark when the lease was claimed); the rest read as zero.
    pub(crate) dirty: usize,
}

/// A bump cursor many threads may allocate from at once, over memory it
/// does not own.
///
/// Invariants, checked by [`debug_assert_invariants`](Self::debug_assert_invariants)
/// after every mutation made through `&mut self` (concurrent mutations are
/// single atomic operations that keep them by construction):
///
/// * `offset <= capacity` and `offset` is a multiple of [`MIN_ALIGN`];
/// * `high_water <= capacity` and `peak <= capacity`;
/// * allocation hands out bytes below [`limit_end`](Self::limit_end) only
///   (`offset` may lie above it, after the limit was lowered);
/// * every byte at or above `max(high_water, offset)` is zero: nothing has
///   written it since it was mapped or last released;
/// * every block handed out and not freed lies in `start..start + offset`.
///
/// `repr(C)` because `SharedArena` places one at the start of its mapping,
/// where the layout must not depend on the compiler's choices between the
/// moment it is written and the moment a child reads it (same binary, so
/// this is belt and braces).
#[repr(C)]
pub(crate) struct RawAtomicCursor {
    /// First byte of the memory; 8-aligned. Never changes.
    start: NonNull<u8>,
    /// Bytes the cursor manages; a multiple of [`MIN_ALIGN`]. Never changes.
    capacity: usize,
    /// Offset of the next free byte from `start`.
    offset: AtomicUsize,
    /// The highest offset ever given up by a rewind or reset: bytes below it
    /// may be dirty, bytes above it (and above `offset`) are zero. Raised
    /// *before* the rewind that frees the bytes, so whoever allocates them
    /// (synchronising with that rewind) sees the raised mark.
    high_water: AtomicUsize,
    /// The allocation limit in bytes from `start`, as set (`usize::MAX`:
    /// none); allocation stops at [`limit_end`](Self::limit_end). Relaxed:
    /// the capacity bounds every block whatever value a thread reads.
    limit: AtomicUsize,
    /// The highest offset ever given up by a rewind or reset, kept across
    /// releases (unlike `high_water`, which also starts at a reused
    /// mapping's dirty prefix): with `offset`, the most bytes ever
    /// allocated at once. A statistic: raised without ordering.
    peak: AtomicUsize,
    /// What ASan is told is live (zero-sized unless `cfg(asan)`); last, so
    /// the other fields keep their offsets.
    shadow: asan::AtomicShadow,
}

// SAFETY: the cursor refers only to memory its creator promised to keep
// valid and reachable only through it (`with_dirty_prefix`'s contract), wherever the
// cursor goes; nothing in it is tied to a thread.
unsafe impl Send for RawAtomicCursor {}
// SAFETY: `&self` methods read the immutable `start`/`capacity` or work on
// `offset`/`high_water` with atomic operations; each byte is claimed by one
// successful compare-and-swap only, and a rewind releases bytes with a
// release store that their next claimer acquires. The ASan shadow's state
// is one atomic frontier (see `asan::AtomicShadow` for its protocol).
unsafe impl Sync for RawAtomicCursor {}

impl RawAtomicCursor {
    /// A cursor like [`with_dirty_prefix`](BumpCursor::with_dirty_prefix)'s over
    /// all-zero memory, that never tells ASan anything,
    /// for memory other processes allocate from too (`SharedArena`): ASan's
    /// shadow is per process, so this process would see their blocks as
    /// poisoned.
    ///
    /// # Safety
    ///
    /// * As for [`with_dirty_prefix`](BumpCursor::with_dirty_prefix) with no
    ///   dirty prefix: all `len` bytes are zero.
    pub(crate) unsafe fn new_unpoisoned(start: NonNull<u8>, len: usize) -> Self {
        // SAFETY: the caller's contract, with no dirty prefix.
        unsafe { RawAtomicCursor::with_shadow(start, len, 0, asan::AtomicShadow::disabled(start)) }
    }

    /// # Safety
    ///
    /// * As for [`with_dirty_prefix`](BumpCursor::with_dirty_prefix); `shadow`
    ///   starts at `start`.
    unsafe fn with_shadow(
        start: NonNull<u8>,
        len: usize,
        dirty: usize,
        shadow: asan::AtomicShadow,
    ) -> Self {
        let cursor = RawAtomicCursor {
            start,
            capacity: len,
            offset: AtomicUsize::new(0),
            high_water: AtomicUsize::new(dirty),
            limit: AtomicUsize::new(usize::MAX),
            peak: AtomicUsize::new(0),
            shadow,
        };
        cursor.debug_assert_invariants();
        cursor
    }

    /// [`allocate`](RawAllocator::allocate) for alignments above
    /// [`MIN_ALIGN`]: pads the
    /// block's address up to the alignment first.
    #[inline(never)]
    fn alloc_overaligned(&self, layout: Layout) -> Option<NonNull<u8>> {
        if layout.size() == 0 {
            // A zero-sized block needs only an aligned, non-null address.
            return NonNull::new(ptr::without_provenance_mut(layout.align()));
        }
        let base = self.start.addr().get();
        // Cannot overflow: `start..start + capacity` is memory we were given,
        // and the limit lies inside it.
        let end = base + self.limit_end();
        let mut offset = self.offset.load(Ordering::Relaxed);
        loop {
            let bump = math::bump_up(base + offset, end, layout.size(), layout.align())?;
            match self.offset.compare_exchange_weak(
                offset,
                bump.new_pos - base,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // SAFETY: `bump_up` keeps `base + offset <= bump.start <=
                    // bump.new_pos <= end`, so the block lies in the memory,
                    // and the CAS gave it to us alone.
                    let block = unsafe { self.start.add(bump.start - base) };
                    let end = bump.new_pos - base;
                    self.shadow
                        .handed_out(block, layout.size(), end, self.capacity);
                    return Some(block);
                }
                Err(current) => offset = current,
            }
        }
    }

    /// Claims a lease for a single-threaded sub-cursor: `preferred` bytes,
    /// or fewer when less than [`LEASE_SHARE`] times that remains, but
    /// never fewer than `needed`; `None` when not even `needed` bytes
    /// remain. One compare-and-swap, like
    /// [`allocate`](RawAllocator::allocate); the lease is a block like any
    /// other.
    ///
    /// `needed` and `preferred` are multiples of [`MIN_ALIGN`].
    pub(crate) fn claim(&self, needed: usize, preferred: usize) -> Option<Lease> {
        debug_assert!(needed % MIN_ALIGN == 0 && preferred % MIN_ALIGN == 0);
        let limit = self.limit_end();
        let mut offset = self.offset.load(Ordering::Relaxed);
        loop {
            // A multiple of `MIN_ALIGN`, as both ends are.
            let remaining = limit.saturating_sub(offset);
            if needed > remaining {
                return None;
            }
            // A multiple of `MIN_ALIGN` no larger than `remaining`, as
            // `needed` and `preferred` are.
            let share = math::align_down(remaining / LEASE_SHARE, MIN_ALIGN);
            let len = preferred.min(share).max(needed);
            // Acquire, as in `allocate`: the bytes may have been freed by a
            // rewind on another thread, whose raised high-water mark we must
            // see below.
            match self.offset.compare_exchange_weak(
                offset,
                offset + len,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let dirty = self
                        .high_water
                        .load(Ordering::Relaxed)
                        .saturating_sub(offset)
                        .min(len);
                    // SAFETY: `offset + len <= limit <= capacity`, and the CAS gave
                    // `offset..offset + len` to us alone.
                    let start = unsafe { self.start.add(offset) };
                    // The lease stays poisoned: its cursor unpoisons each
                    // block it bumps out.
                    self.shadow.claimed(offset + len, self.capacity);
                    return Some(Lease { start, len, dirty });
                }
                Err(current) => offset = current,
            }
        }
    }

    /// The error for a request [`allocate`](RawAllocator::allocate)
    /// refused, with the numbers as they are now.
    #[cold]
    #[inline(never)]
    pub(crate) fn exhausted(&self, layout: Layout) -> Error {
        let offset = self.offset.load(Ordering::Relaxed);
        Error::Exhausted {
            requested: math::bytes_needed(
                self.start.addr().get() + offset,
                layout.size(),
                layout.align(),
            ),
            remaining: self.limit_end().saturating_sub(offset),
        }
    }

    /// [`RawAllocator::grow`] in place only: `None` (and nothing changed)
    /// unless the block is the newest and its address suits `new`. For a
    /// caller that moves a block elsewhere than this cursor would (a
    /// thread's lease).
    ///
    /// # Safety
    ///
    /// * `RawAllocator::grow`'s contract.
    pub(crate) unsafe fn grow_in_place(
        &self,
        block: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        let base = self.start.addr().get();
        // Cannot overflow: `start..start + capacity` is memory we were given,
        // and the limit lies inside it.
        let end = base + self.limit_end();
        let in_place = self.offset_of(block).and_then(|_| {
            math::resize_in_place(block.addr().get(), old.size(), new.size(), new.align(), end)
        });
        if let Some(ends) = in_place {
            // In the memory (`offset_of`), so `start`'s provenance covers
            // it; this holds for a zero-sized block that a far alignment
            // put at an address inside the memory too.
            let block = self.own(block);
            // Offsets: `block` lies in the memory, so both ends are at or
            // past `base`.
            let (old_end, new_end) = (ends.old_end - base, ends.new_end - base);
            // Acquire, as in `allocate`: the added bytes may have been freed
            // by another thread.
            if self
                .offset
                .compare_exchange(old_end, new_end, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                self.shadow
                    .handed_out(block, new.size(), new_end, self.capacity);
                if zeroed {
                    // Below the old end the block's own slack may hold bytes
                    // from when it was larger, even where the high-water mark
                    // does not say so (a thread's lease wrote them, and
                    // handed the block over with the lease used up).
                    let dirty_end = self.dirty_end().max(ends.old_end);
                    // SAFETY: the bytes past `old.size()` now belong to the
                    // caller's block.
                    unsafe {
                        let added = block.add(old.size());
                        super::zero_below(added, new.size() - old.size(), dirty_end);
                    }
                }
                return Some(block);
            }
        }
        None
    }

    /// Marks a block that was moved elsewhere as dead (for ASan); its space
    /// comes back at the next reset.
    ///
    /// # Safety
    ///
    /// * `block` was handed out from this memory for `size` bytes and is
    ///   never used again.
    pub(crate) unsafe fn forget_moved(&self, block: NonNull<u8>, size: usize) {
        self.shadow.given_back(block, size);
    }

    /// Where allocation stops, in bytes from `start`: the limit (rounded
    /// down to [`MIN_ALIGN`]) or the capacity, whichever is lower.
    #[inline]
    fn limit_end(&self) -> usize {
        let limit = self.limit.load(Ordering::Relaxed).min(self.capacity);
        limit - limit % MIN_ALIGN
    }

    /// Lets allocation hand out at most `bytes` from the start; `None`
    /// lifts the limit. Blocks already handed out stay; a limit below
    /// `used()` makes every request that needs room fail until enough is
    /// freed. Leases claimed before keep their bytes.
    pub(crate) fn set_limit(&self, bytes: Option<usize>) {
        self.limit
            .store(bytes.unwrap_or(usize::MAX), Ordering::Relaxed);
    }

    /// The limit as set (`Some(usize::MAX)` reads back as `None`).
    pub(crate) fn limit(&self) -> Option<usize> {
        Some(self.limit.load(Ordering::Relaxed)).filter(|&limit| limit != usize::MAX)
    }

    /// The most bytes ever allocated at once: a snapshot.
    pub(crate) fn peak(&self) -> usize {
        self.peak
            .load(Ordering::Relaxed)
            .max(self.offset.load(Ordering::Relaxed))
    }

    /// The address below which bytes may hold old data: the high-water
    /// mark. Relaxed: the acquire that gave the caller its block
    /// synchronised with the rewind that raised the mark for it.
    #[inline]
    fn dirty_end(&self) -> usize {
        self.start.addr().get() + self.high_water.load(Ordering::Relaxed)
    }

    /// The offset of `block` from `start`, if it points into the memory
    /// (an over-aligned zero-sized block does not).
    #[inline]
    fn offset_of(&self, block: NonNull<u8>) -> Option<usize> {
        block
            .addr()
            .get()
            .checked_sub(self.start.addr().get())
            .filter(|&offset| offset <= self.capacity)
    }

    /// Moves the offset from `from` back to `to` if it is still `from`
    /// (nothing was allocated since); returns whether it did.
    ///
    /// # Safety
    ///
    /// * `to <= from`, `to` is a multiple of [`MIN_ALIGN`], and no live
    ///   block lies in `to..from`.
    #[inline]
    unsafe fn rewind(&self, from: usize, to: usize) -> bool {
        // Mark the bytes dirty first; if the CAS fails the mark is only
        // conservative (a later zeroed allocation zeroes a little more).
        self.high_water.fetch_max(from, Ordering::Relaxed);
        // Read first: most rewinds are below the peak, and a plain load
        // costs less than a read-modify-write.
        if from > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(from, Ordering::Relaxed);
        }
        // Release: our writes to the freed bytes happen before the writes
        // of whoever allocates them next (their CAS is an acquire).
        self.offset
            .compare_exchange(from, to, Ordering::Release, Ordering::Relaxed)
            .is_ok()
    }

    /// Frees `block` if it is the newest one (the offset is still its end);
    /// returns whether the bytes came back.
    ///
    /// # Safety
    ///
    /// * `block` was handed out by this cursor for `size` bytes (or is the
    ///   unused tail of a lease) and is not used again.
    #[inline]
    pub(crate) unsafe fn give_back(&self, block: NonNull<u8>, size: usize) -> bool {
        let Some(offset) = self.offset_of(block) else {
            return false;
        };
        let Some(end) = math::block_end(offset, size) else {
            return false;
        };
        // Before the rewind: once it succeeds, the bytes are someone else's.
        self.shadow.given_back(block, size);
        // SAFETY: the block is dead; if the offset is still its end, no live
        // block lies in `offset..end`, and `offset` is 8-aligned.
        unsafe { self.rewind(end, offset) }
    }

    /// The first byte of the memory.
    #[inline]
    pub(crate) fn start(&self) -> NonNull<u8> {
        self.start
    }

    /// `block`'s address with the cursor's own provenance (that of `start`).
    ///
    /// A caller's pointer may carry a tag narrowed to its old block (a
    /// `Box` retags to its `T`): a block grown or shrunk in place, or bytes
    /// written past the old end, must go through a pointer derived from
    /// `start` instead, as [`RawCursor`](super::RawCursor) does.
    #[inline(always)]
    fn own(&self, block: NonNull<u8>) -> NonNull<u8> {
        self.start.with_addr(block.addr())
    }

    /// Bytes handed out since the start, alignment padding included: a
    /// snapshot, which other threads may change at once.
    #[inline]
    pub(crate) fn used(&self) -> usize {
        self.offset.load(Ordering::Relaxed)
    }

    /// Bytes still free below the limit: a snapshot.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.limit_end()
            .saturating_sub(self.offset.load(Ordering::Relaxed))
    }

    /// Total bytes the cursor manages.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Checks the invariants listed on the type (debug builds only).
    #[inline]
    pub(crate) fn debug_assert_invariants(&self) {
        let offset = self.offset.load(Ordering::Relaxed);
        debug_assert!(offset <= self.capacity, "cursor past the end");
        debug_assert!(
            offset % MIN_ALIGN == 0
                && self.capacity % MIN_ALIGN == 0
                && self.start.addr().get() % MIN_ALIGN == 0,
            "cursor alignment broken"
        );
        debug_assert!(
            self.high_water.load(Ordering::Relaxed) <= self.capacity
                && self.peak.load(Ordering::Relaxed) <= self.capacity,
            "high-water mark past the end"
        );
    }
}

// SAFETY: `RawAtomicCursor` hands out disjoint blocks inside its memory:
// each block is claimed by one successful compare-and-swap of the offset,
// and the offset only moves back over blocks the caller declared dead.
// Resizes keep contents as the trait requires.
unsafe impl RawAllocator for RawAtomicCursor {
    /// One compare-and-swap from the offset read to the block's end,
    /// retried when another thread won; blocks as `RawCursor`'s.
    #[inline(always)]
    fn allocate(&self, layout: Layout) -> Option<NonNull<u8>> {
        if layout.align() > MIN_ALIGN {
            return self.alloc_overaligned(layout);
        }
        let size = math::round_layout_size(layout.size());
        // Not rounded: `offset + size` is a multiple of `MIN_ALIGN`, so it
        // stays below the limit exactly when it stays below the rounded one.
        let limit = self.limit.load(Ordering::Relaxed).min(self.capacity);
        let mut offset = self.offset.load(Ordering::Relaxed);
        loop {
            // `offset` may lie above a lowered limit: then only zero-sized
            // requests fit.
            if size > limit.saturating_sub(offset) {
                return None;
            }
            // Acquire: the bytes may have been freed by a rewind on another
            // thread (a release); its writes must happen before ours.
            match self.offset.compare_exchange_weak(
                offset,
                offset + size,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // SAFETY: `offset + size <= limit <= capacity`, so the
                    // block lies in the memory, and the CAS gave
                    // `offset..offset + size` to us alone.
                    let block = unsafe { self.start.add(offset) };
                    self.shadow
                        .handed_out(block, layout.size(), offset + size, self.capacity);
                    return Some(block);
                }
                Err(current) => offset = current,
            }
        }
    }

    /// Bytes above the high-water mark are zero already and not written.
    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Option<NonNull<u8>> {
        let block = self.allocate(layout)?;
        // SAFETY: the block was just handed out, so it is ours.
        unsafe { super::zero_below(block, layout.size(), self.dirty_end()) };
        Some(block)
    }

    /// Frees the block if it is the newest one; otherwise does nothing (its
    /// space comes back at the next reset).
    #[inline]
    unsafe fn deallocate(&self, block: NonNull<u8>, layout: Layout) {
        // SAFETY: the caller's contract.
        unsafe { self.give_back(block, layout.size()) };
    }

    /// In place when the block is the newest and its address suits `new`,
    /// by allocating and copying otherwise.
    #[inline]
    unsafe fn grow(
        &self,
        block: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        // SAFETY: the caller's contract.
        if let Some(grown) = unsafe { self.grow_in_place(block, old, new, zeroed) } {
            return Some(grown);
        }
        // SAFETY: the caller's contract.
        let moved = unsafe { super::copy_to_new(self, block, old.size(), new, zeroed)? };
        // SAFETY: the caller's contract; the block is not used again.
        unsafe { self.forget_moved(block, old.size()) };
        Some(moved)
    }

    /// In place (giving back the tail when the block is the newest) unless
    /// `new` asks for a larger alignment than the address has; then by
    /// allocating and copying.
    #[inline]
    unsafe fn shrink(&self, block: NonNull<u8>, old: Layout, new: Layout) -> Option<NonNull<u8>> {
        let addr = block.addr().get();
        let Some(ends) =
            math::resize_in_place(addr, old.size(), new.size(), new.align(), usize::MAX)
        else {
            // SAFETY: the caller's contract.
            let moved = unsafe { super::copy_to_new(self, block, old.size(), new, false)? };
            self.shadow.given_back(block, old.size());
            return Some(moved);
        };
        if self.offset_of(block).is_some() {
            let block = self.own(block);
            let base = self.start.addr().get();
            // Before the rewind, as in `give_back`.
            // SAFETY: `new.size() <= old.size()`: inside the caller's block.
            let tail = unsafe { block.add(new.size()) };
            self.shadow.given_back(tail, old.size() - new.size());
            // SAFETY: `new_end <= old_end` (offsets: the block lies in the
            // memory), 8-aligned, and the caller gives up the tail past
            // `new.size()`; if the offset is still `old_end`, no other live
            // block lies in the tail.
            unsafe { self.rewind(ends.old_end - base, ends.new_end - base) };
            return Some(block);
        }
        // Only a zero-sized block a far alignment put outside the memory
        // gets here; it owns no bytes, so no provenance is needed.
        Some(block)
    }
}

impl BumpCursor for RawAtomicCursor {
    unsafe fn with_dirty_prefix(start: NonNull<u8>, len: usize, dirty: usize) -> Self {
        let shadow = asan::AtomicShadow::new(start);
        // SAFETY: the caller's contract.
        unsafe { RawAtomicCursor::with_shadow(start, len, dirty, shadow) }
    }

    // `&mut self` below: no other thread can reach the atomics, so relaxed
    // loads and stores are exact (and loom's atomics have no `get_mut`).
    unsafe fn reset(&mut self) {
        let offset = self.offset.load(Ordering::Relaxed);
        self.shadow.given_back(self.start, offset);
        let high_water = self.high_water.load(Ordering::Relaxed);
        self.high_water
            .store(high_water.max(offset), Ordering::Relaxed);
        let peak = self.peak.load(Ordering::Relaxed);
        self.peak.store(peak.max(offset), Ordering::Relaxed);
        self.offset.store(0, Ordering::Relaxed);
        self.debug_assert_invariants();
    }

    fn touched(&mut self) -> usize {
        let high_water = self.high_water.load(Ordering::Relaxed);
        high_water.max(self.offset.load(Ordering::Relaxed))
    }

    fn capacity(&self) -> usize {
        RawAtomicCursor::capacity(self)
    }

    fn exhausted(&self, layout: Layout) -> Error {
        RawAtomicCursor::exhausted(self, layout)
    }

    unsafe fn reset_pristine(&mut self) {
        self.offset.store(0, Ordering::Relaxed);
        self.high_water.store(0, Ordering::Relaxed);
        self.debug_assert_invariants();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fixture = crate::raw::Fixture<RawAtomicCursor>;

    fn fixture(words: usize) -> Fixture {
        crate::raw::Fixture::new(words)
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn refusal_leaves_the_offset_alone() {
        let f = fixture(4);
        f.cursor.allocate(layout(8, 8)).unwrap();
        assert!(f.cursor.allocate(layout(32, 8)).is_none());
        assert_eq!(f.cursor.used(), 8, "a refused request consumes nothing");
        assert!(
            f.cursor.allocate(layout(24, 8)).is_some(),
            "what fits still fits"
        );
        assert_eq!(f.cursor.remaining(), 0);
        assert_eq!(
            f.cursor.exhausted(layout(1, 1)),
            Error::Exhausted {
                requested: 8,
                remaining: 0
            }
        );
        assert!(
            f.cursor.allocate(layout(0, 1)).is_some(),
            "zero-sized never fails"
        );
    }

    #[test]
    fn huge_requests_fail_without_overflow() {
        let f = fixture(4);
        f.cursor.allocate(layout(8, 8)).unwrap();
        assert!(f
            .cursor
            .allocate(layout(isize::MAX as usize - 7, 8))
            .is_none());
        assert!(f
            .cursor
            .allocate(layout(isize::MAX as usize / 2, 1 << 20))
            .is_none());
        assert_eq!(f.cursor.used(), 8);
    }

    #[test]
    fn overaligned_blocks_are_aligned_and_zero_sized_ones_free() {
        let f = fixture(64);
        f.cursor.allocate(layout(1, 1)).unwrap();
        let block = f.cursor.allocate(layout(8, 64)).unwrap();
        assert_eq!(block.addr().get() % 64, 0);
        let used = f.cursor.used();
        let zst = f.cursor.allocate(layout(0, 128)).unwrap();
        assert_eq!(zst.addr().get() % 128, 0);
        assert_eq!(f.cursor.used(), used);
        // SAFETY: a live zero-sized block, dead afterwards.
        unsafe { f.cursor.deallocate(zst, layout(0, 128)) };
        assert_eq!(f.cursor.used(), used);
    }

    #[test]
    fn newest_block_grows_shrinks_and_frees_in_place() {
        let f = fixture(16);
        let old = layout(8, 8);
        let block = f.cursor.allocate(old).unwrap();
        // SAFETY: `block` is live for `old`.
        let grown = unsafe { f.cursor.grow(block, old, layout(40, 8), false) }.unwrap();
        assert_eq!((grown, f.cursor.used()), (block, 40));
        // SAFETY: `grown` is live for 40 bytes.
        let shrunk = unsafe { f.cursor.shrink(grown, layout(40, 8), old) }.unwrap();
        assert_eq!((shrunk, f.cursor.used()), (block, 8));
        // SAFETY: `shrunk` is live for `old` and dead afterwards.
        unsafe { f.cursor.deallocate(shrunk, old) };
        assert_eq!(f.cursor.used(), 0);
    }

    #[test]
    fn older_block_grows_by_copying_and_frees_as_a_no_op() {
        let f = fixture(16);
        let old = layout(8, 8);
        let first = f.cursor.allocate(old).unwrap();
        // SAFETY: `first` is a live 8-byte block.
        unsafe { first.cast::<u64>().write(0xDEAD_BEEF) };
        let second = f.cursor.allocate(old).unwrap();
        // SAFETY: `first` is live for `old`.
        let moved = unsafe { f.cursor.grow(first, old, layout(16, 8), true) }.unwrap();
        assert_ne!(moved, first);
        // SAFETY: `moved` is a live 16-byte block.
        unsafe {
            assert_eq!(moved.cast::<u64>().read(), 0xDEAD_BEEF);
            assert_eq!(moved.cast::<u64>().add(1).read(), 0);
        }
        let used = f.cursor.used();
        // SAFETY: `second` is live and dead afterwards; it is not the newest.
        unsafe { f.cursor.deallocate(second, old) };
        assert_eq!(f.cursor.used(), used);
    }

    #[test]
    fn zeroed_blocks_are_zero_after_free_and_after_reset() {
        let mut f = fixture(8);
        let block = f.cursor.allocate(layout(24, 8)).unwrap();
        // SAFETY: a live 24-byte block, freed right after.
        unsafe {
            ptr::write_bytes(block.as_ptr(), 0xFF, 24);
            f.cursor.deallocate(block, layout(24, 8));
        }
        let again = f.cursor.allocate_zeroed(layout(32, 8)).unwrap();
        // SAFETY: a live 32-byte block.
        let bytes = unsafe { core::slice::from_raw_parts(again.as_ptr(), 32) };
        assert!(bytes.iter().all(|&b| b == 0));
        // SAFETY: a live 32-byte block.
        unsafe { ptr::write_bytes(again.as_ptr(), 0xEE, 32) };
        // SAFETY: no block is live any more.
        unsafe { f.cursor.reset() };
        assert_eq!(f.cursor.touched(), 32);
        let zeroed = f.cursor.allocate_zeroed(layout(64, 8)).unwrap();
        // SAFETY: a live 64-byte block.
        let bytes = unsafe { core::slice::from_raw_parts(zeroed.as_ptr(), 64) };
        assert!(bytes.iter().all(|&b| b == 0));
    }

    #[test]
    fn the_limit_bounds_bumps_claims_and_growth() {
        let f = fixture(16);
        f.cursor.set_limit(Some(43));
        assert_eq!((f.cursor.limit(), f.cursor.remaining()), (Some(43), 40));
        let old = layout(16, 8);
        let block = f.cursor.allocate(old).unwrap();
        // SAFETY: `block` is live for `old`.
        assert!(unsafe { f.cursor.grow(block, old, layout(48, 8), false) }.is_none());
        // SAFETY: `block` is live for `old`.
        let grown = unsafe { f.cursor.grow(block, old, layout(40, 8), false) }.unwrap();
        assert_eq!((grown, f.cursor.remaining()), (block, 0));
        assert!(f.cursor.claim(8, 8).is_none());
        f.cursor.set_limit(Some(0));
        assert!(f.cursor.allocate(layout(1, 1)).is_none());
        assert!(f.cursor.allocate(layout(8, 64)).is_none());
        assert!(
            f.cursor.allocate(layout(0, 8)).is_some(),
            "zero-sized never fails"
        );
        assert_eq!(
            f.cursor.exhausted(layout(1, 1)),
            Error::Exhausted {
                requested: 8,
                remaining: 0
            }
        );
        f.cursor.set_limit(None);
        assert_eq!(f.cursor.limit(), None);
        let lease = f.cursor.claim(8, 1 << 20).unwrap();
        assert_eq!(lease.len, 8, "an eighth of the 88 bytes left, rounded down");
    }

    #[test]
    fn the_peak_survives_frees_and_resets() {
        let mut f = fixture(16);
        let block = f.cursor.allocate(layout(48, 8)).unwrap();
        // SAFETY: the block is dead from here on.
        unsafe { f.cursor.deallocate(block, layout(48, 8)) };
        assert_eq!((f.cursor.used(), f.cursor.peak()), (0, 48));
        f.cursor.allocate(layout(64, 8)).unwrap();
        // SAFETY: no block is live.
        unsafe { f.cursor.reset() };
        assert_eq!(f.cursor.peak(), 64);
        // SAFETY: no block is live, and the test treats the memory as zero.
        unsafe { f.cursor.reset_pristine() };
        assert_eq!(f.cursor.peak(), 64);
    }

    #[test]
    fn resized_blocks_carry_the_cursors_provenance() {
        let f = fixture(64);
        let old = layout(8, 8);
        let block = f.cursor.allocate(old).unwrap();
        // A pointer whose provenance covers the first byte only, as a
        // `Box<u8>` would hand back.
        // SAFETY: the block is live for 8 bytes.
        let narrow = NonNull::from(unsafe { &mut *block.as_ptr() });
        // SAFETY: `narrow` is the live block's address.
        let grown = unsafe { f.cursor.grow(narrow, old, layout(64, 8), true) }.unwrap();
        assert_eq!(grown, block, "grown in place");
        // SAFETY: the grown block is live for 64 bytes; writing its last
        // one needs provenance past the caller's byte.
        unsafe { grown.as_ptr().add(63).write(1) };
        // SAFETY: as above, for the shrunk block's 16 bytes.
        let narrow = NonNull::from(unsafe { &mut *grown.as_ptr() });
        // SAFETY: `narrow` is the live 64-byte block's address.
        let shrunk = unsafe { f.cursor.shrink(narrow, layout(64, 8), layout(16, 8)) }.unwrap();
        // SAFETY: the shrunk block is live for 16 bytes.
        unsafe { shrunk.as_ptr().add(15).write(2) };
    }

    #[test]
    fn a_far_aligned_zero_sized_block_inside_the_memory_grows_with_its_provenance() {
        // A zero-sized block aligned to `align` sits at address `align`,
        // with no provenance. In an arena large enough to span that address
        // (a huge `SyncArena`, or a small one where Miri places memory low),
        // growing it in place must hand out a pointer into the memory.
        // Under Miri, whose addresses start low, 8 MiB spans one.
        let f = fixture(if cfg!(miri) { 1 << 20 } else { 1 << 16 });
        let start = f.cursor.start().addr().get();
        let align = (start + 64).next_power_of_two();
        if align + 64 > start + f.cursor.capacity() {
            // This run's memory spans no power of two: nothing to test.
            eprintln!("SKIPPED far-aligned {start:#x}");
            return;
        }
        // Move the offset up to the block's address, so it is the newest.
        f.cursor.allocate(layout(align - start, 8)).unwrap();
        let zst = f.cursor.allocate(layout(0, align)).unwrap();
        assert_eq!(zst.addr().get(), align);
        // SAFETY: a live zero-sized block of this cursor.
        let grown = unsafe {
            f.cursor
                .grow(zst, layout(0, align), layout(64, align), false)
        }
        .unwrap();
        assert_eq!(grown, zst, "grown in place at the offset");
        // SAFETY: a live 64-byte block.
        unsafe { grown.as_ptr().add(63).write(3) };
    }

    #[test]
    fn leases_take_at_most_a_share_of_what_is_left() {
        let f = fixture(128);
        let lease = f.cursor.claim(8, 512).unwrap();
        assert_eq!(lease.len, 1024 / LEASE_SHARE, "an eighth of 1 KiB");
        let lease = f.cursor.claim(8, 64).unwrap();
        assert_eq!(lease.len, 64, "less than the share: as preferred");
        let lease = f.cursor.claim(800, 64).unwrap();
        assert_eq!(lease.len, 800, "what is needed, share or not");
        assert!(f.cursor.claim(40, 8).is_none(), "more than is left");
        let lease = f.cursor.claim(32, 8).unwrap();
        assert_eq!((lease.len, f.cursor.remaining()), (32, 0), "the last bytes");
    }

    #[test]
    fn threads_get_disjoint_blocks() {
        let f = fixture(4096);
        let per_thread = if cfg!(miri) { 16 } else { 1000 };
        let cursor = &f.cursor;
        let mut offsets: Vec<usize> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(move || {
                        (0..per_thread)
                            .map(|_| cursor.allocate(layout(8, 8)).unwrap().addr().get())
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        offsets.sort_unstable();
        offsets.dedup();
        assert_eq!(offsets.len(), 4 * per_thread, "no block handed out twice");
        assert_eq!(cursor.used(), 4 * per_thread * 8);
    }
}
