//! [`Arena`]: a bump allocator over one anonymous mapping.
//!
//! `unsafe` is allowed here for the `Send` impl and for the cursor calls
//! whose contracts `&mut self` (no live allocation) makes true.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::cell::Cell;
use core::fmt;
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::ptr::NonNull;

use crate::alloc_api::{impl_allocator, AsRaw};
use crate::alloc_methods::alloc_methods;
use crate::arena_constructors::arena_constructors;
use crate::builder::Builder;
use crate::collections::ReportsRemaining;
use crate::error::Error;
use crate::mapped::Mapped;
use crate::raw::{RawAllocator, RawCursor};
use crate::stats::Stats;

/// A bump allocator: allocation moves a cursor up through one anonymous
/// mapping, and everything is freed at once by [`reset`](Arena::reset).
///
/// The whole capacity is reserved as address space when the arena is made
/// and never moves; the kernel commits pages as they are first touched.
/// When the arena drops, its mapping goes to a
/// [`RegionCache`](crate::RegionCache) for the next arena of the same shape.
/// Every block is 8-byte aligned (larger alignments on request), so the
/// allocation fast path is one add and one compare.
///
/// Values allocated with `alloc*` are **never dropped** — their memory comes
/// back on `reset` or drop of the arena, but destructors do not run (as in
/// bumpalo). Collections that live in the arena through
/// [`Allocator`](allocator_api2::alloc::Allocator) (`Vec`, `Box`,
/// `hashbrown::HashMap`) drop their contents as usual.
///
/// ```
/// use anon_arena::Arena;
/// use allocator_api2::vec::Vec;
///
/// let mut arena = Arena::with_capacity(1 << 20);
/// let n = arena.alloc(7u32);
/// let s = arena.alloc_str("parsed");
/// let mut v = Vec::new_in(&arena);
/// v.extend_from_slice(&[1, 2, 3]);
/// assert_eq!((*n, &*s, v.len()), (7, "parsed", 3));
/// drop(v);
/// arena.reset(); // O(1): every allocation above is gone
/// assert_eq!(arena.allocated_bytes(), 0);
/// ```
///
/// An `Arena` can move to another thread but not be shared between threads
/// (it is `Send`, not `Sync`; see `SyncArena` for that):
///
/// ```compile_fail
/// fn shared<T: Sync>(_: T) {}
/// shared(anon_arena::Arena::new());
/// ```
pub struct Arena {
    /// The cursor, and the mapping it hands out (`start..end` is exactly
    /// the mapping).
    mapped: Mapped<RawCursor>,
    /// The allocation limit as set; the cursor enforces it.
    limit: Cell<Option<usize>>,
}

// SAFETY: an `Arena` owns its mapping and the cursor points only into it, so
// moving the arena to another thread moves everything it refers to. It is
// not `Sync`: the cursor is a `Cell`.
unsafe impl Send for Arena {}

// A panic cannot leave an arena half-updated: each cursor operation is a
// handful of stores of positions that are valid on their own, and no user
// code runs inside one (closures such as `alloc_with`'s run before or after
// the block is reserved, never while the cursor moves). A panic that
// unwinds out of a closure leaves the block reserved (or given back) and
// the invariants whole, so an arena seen after `catch_unwind` is as usable
// as before.
impl UnwindSafe for Arena {}
impl RefUnwindSafe for Arena {}

impl Arena {
    pub(crate) fn from_mapped(mapped: Mapped<RawCursor>) -> Arena {
        Arena {
            mapped,
            limit: Cell::new(None),
        }
    }

    pub(crate) fn into_mapped(self) -> Mapped<RawCursor> {
        self.mapped
    }

    /// The mapping, for freezing.
    pub(crate) fn mapped_mut(&mut self) -> &mut Mapped<RawCursor> {
        &mut self.mapped
    }

    /// Frees every allocation at once, in O(1): the cursor goes back to the
    /// start and the pages stay committed for reuse.
    ///
    /// ```
    /// let mut arena = anon_arena::Arena::with_capacity(4096);
    /// let first = arena.alloc(1u64) as *mut u64;
    /// arena.reset();
    /// assert_eq!(arena.alloc(2u64) as *mut u64, first);
    /// ```
    pub fn reset(&mut self) {
        // SAFETY: `&mut self` proves no allocation is still borrowed.
        unsafe { self.mapped.reset() }
    }

    /// Resets the arena and hands every page it touched back to the OS
    /// (`madvise(MADV_DONTNEED)`): resident memory falls, and the pages read
    /// as zero (so `allocate_zeroed` skips zeroing them) when used again.
    ///
    /// ```
    /// let mut arena = anon_arena::Arena::with_capacity(1 << 20);
    /// arena.alloc_slice_fill_copy(100_000, 0xFFu8);
    /// arena.release();
    /// assert_eq!(arena.allocated_bytes(), 0);
    /// assert!(arena.alloc_slice_fill_default::<u8>(100_000).iter().all(|&b| b == 0));
    /// ```
    pub fn release(&mut self) {
        // SAFETY: `&mut self` proves no allocation is still borrowed.
        unsafe { self.mapped.release() }
    }

    /// Bytes handed out since the last reset, alignment padding included.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// arena.alloc(1u8);
    /// assert_eq!(arena.allocated_bytes(), 8); // every block is 8-byte aligned
    /// ```
    #[must_use]
    #[inline]
    pub fn allocated_bytes(&self) -> usize {
        self.mapped.cursor.used()
    }

    /// Total bytes the arena can hand out: the requested capacity rounded
    /// up to whole pages.
    ///
    /// ```
    /// assert_eq!(anon_arena::Arena::with_capacity(4096).capacity(), 4096);
    /// ```
    #[must_use]
    #[inline]
    pub fn capacity(&self) -> usize {
        self.mapped.cursor.capacity()
    }

    /// Bytes still free: `capacity() - allocated_bytes()`, or what is left
    /// below the [allocation limit](Arena::set_allocation_limit).
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// arena.alloc([0u8; 96]);
    /// assert_eq!(arena.remaining(), 4000);
    /// arena.set_allocation_limit(Some(1000));
    /// assert_eq!(arena.remaining(), 904); // the limit less the 96 bytes
    /// ```
    #[must_use]
    #[inline]
    pub fn remaining(&self) -> usize {
        self.mapped.cursor.remaining()
    }

    /// Caps the arena at `limit` bytes, counted like
    /// [`allocated_bytes`](Arena::allocated_bytes) (from the start,
    /// padding included), without a new mapping; `None` lifts the cap. A
    /// fuzz harness sets one per input: a runaway input then fails with
    /// [`Error::Exhausted`] (or, under
    /// [`Exhausted::Panic`](crate::Exhausted::Panic), a panic) at `limit`
    /// bytes instead of filling the whole reservation.
    ///
    /// The limit counts down to multiples of 8 and is at most the
    /// capacity; `Some(usize::MAX)` is no limit. Blocks already handed out
    /// stay: a limit below `allocated_bytes()` only makes further
    /// requests fail until enough is freed (by `reset`, a scope's end, a
    /// freed newest block). Zero-sized requests never fail.
    ///
    /// ```
    /// let mut arena = anon_arena::Arena::with_capacity(1 << 20);
    /// arena.set_allocation_limit(Some(16 << 10));
    /// assert_eq!(arena.remaining(), 16 << 10);
    /// assert!(arena.try_alloc_slice_fill_copy(3000, 0u64).is_err()); // 24000 bytes
    /// arena.alloc_slice_fill_copy(2000, 0u64); // 16000 bytes fit
    /// arena.set_allocation_limit(None);
    /// assert_eq!(arena.remaining(), (1 << 20) - 16000);
    /// ```
    pub fn set_allocation_limit(&self, limit: Option<usize>) {
        let limit = limit.filter(|&limit| limit != usize::MAX);
        self.limit.set(limit);
        self.mapped.cursor.set_limit(limit);
    }

    /// The limit set by [`set_allocation_limit`](Arena::set_allocation_limit),
    /// if any.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// assert_eq!(arena.allocation_limit(), None);
    /// arena.set_allocation_limit(Some(100));
    /// assert_eq!(arena.allocation_limit(), Some(100));
    /// ```
    #[must_use]
    #[inline]
    pub fn allocation_limit(&self) -> Option<usize> {
        self.limit.get()
    }

    /// The arena's counters (allocated, remaining, limit, capacity,
    /// high-water mark, bytes released), as a [`Stats`] whose `Display`
    /// fits a log line.
    ///
    /// ```
    /// let mut arena = anon_arena::Arena::with_capacity(1 << 16);
    /// arena.alloc_slice_fill_copy(10_000, 1u8);
    /// arena.release();
    /// let stats = arena.stats();
    /// assert_eq!((stats.allocated, stats.high_water, stats.released), (0, 10_000, 12_288));
    /// ```
    #[must_use]
    pub fn stats(&self) -> Stats {
        let cursor = &self.mapped.cursor;
        Stats {
            allocated: cursor.used(),
            remaining: cursor.remaining(),
            limit: self.limit.get(),
            capacity: cursor.capacity(),
            high_water: cursor.peak(),
            released: self.mapped.released(),
        }
    }

    /// The cursor, for the allocators built on an arena.
    #[inline(always)]
    pub(crate) fn cursor(&self) -> &RawCursor {
        &self.mapped.cursor
    }

    #[inline(always)]
    fn raw_alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        self.mapped.cursor.allocate(layout)
    }

    #[cold]
    #[inline(never)]
    fn alloc_error(&self, layout: Layout) -> Error {
        self.mapped.cursor.exhausted(layout)
    }

    /// The `Allocator` impl's answer to a refused request: panics under
    /// [`Exhausted::Panic`](crate::Exhausted::Panic), naming the type as
    /// `name`.
    #[inline]
    pub(crate) fn refuse_as(&self, name: &str, layout: Layout) {
        self.mapped.refuse(name, layout, self.allocation_limit());
    }
}

alloc_methods!(Arena, "anon_arena::Arena::with_capacity(1 << 20)");

impl fmt::Debug for Arena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arena")
            .field("allocated_bytes", &self.allocated_bytes())
            .field("capacity", &self.capacity())
            .field("allocation_limit", &self.allocation_limit())
            .field("region", &self.mapped)
            .finish()
    }
}

// Blocks live until `reset`/`release`/drop (and, for a `StackArena`, the
// end of their scope or a `reset_to`), all of which need `&mut self`.
impl AsRaw for &Arena {
    type Raw = RawCursor;
    #[inline(always)]
    fn as_raw(&self) -> &RawCursor {
        &self.mapped.cursor
    }
    #[inline]
    fn refuse(&self, layout: Layout) {
        self.refuse_as("Arena", layout);
    }
}

impl_allocator!(['a] &'a Arena);

impl ReportsRemaining for &Arena {
    #[inline]
    fn remaining_bytes(&self) -> Option<usize> {
        Some(self.remaining())
    }
}

arena_constructors!(Arena, "An arena");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::BumpCursor;

    #[test]
    fn every_block_is_eight_aligned_and_disjoint() {
        let arena = Arena::with_capacity(4096);
        let a = arena.alloc(1u8) as *mut u8 as usize;
        let b = arena.alloc(2u16) as *mut u16 as usize;
        let c = arena.alloc([3u8; 3]) as *mut [u8; 3] as usize;
        assert_eq!((a % 8, b % 8, c % 8), (0, 0, 0));
        assert_eq!((b - a, c - b), (8, 8));
    }

    #[test]
    fn release_lets_zeroed_allocation_skip_memset() {
        let mut arena = Arena::with_capacity(1 << 16);
        arena.alloc_slice_fill_copy(1000, 0xABu8);
        arena.release();
        assert_eq!(arena.mapped.cursor.touched(), 0);
    }

    #[test]
    #[should_panic(expected = "Arena: cannot allocate 8192 bytes aligned to 1")]
    fn panics_with_numbers_when_full() {
        let arena = Arena::with_capacity(4096);
        arena.alloc([0u8; 8192]);
    }
}
