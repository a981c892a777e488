//! [`SyncArena`]: a bump allocator many threads share, with one atomic
//! cursor over one anonymous mapping and no lock anywhere.
//!
//! `unsafe` is allowed here for the `Send`/`Sync` impls and for wrapping a
//! fresh region in an [`RawAtomicCursor`], whose contract the region meets.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::fmt;
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::ptr::NonNull;

use crate::alloc_api::{impl_allocator, AsRaw};
use crate::arena_constructors::arena_constructors;
use crate::builder::Builder;
use crate::collections::ReportsRemaining;
use crate::error::Error;
use crate::mapped::Mapped;
use crate::raw::{RawAllocator, RawAtomicCursor};
use crate::stats::Stats;

mod local;
#[cfg(all(test, loom))]
mod loom_tests;

use crate::alloc_methods::alloc_methods;
pub use local::LocalArena;

/// A bump allocator that many threads may allocate from at once: every
/// allocation is one compare-and-swap on a single atomic cursor, so there is
/// no lock and no per-thread chunk list — the whole capacity is reserved up
/// front as one mapping, like [`Arena`](crate::Arena)'s.
///
/// It has the same surface as `Arena` (`alloc`, `alloc_str`,
/// `alloc_slice_*`, `alloc_layout`, their `try_` forms), the same 8-byte
/// minimum alignment, and the same rule that values allocated with `alloc*`
/// are **never dropped**. `&SyncArena` implements
/// [`Allocator`](allocator_api2::alloc::Allocator): the newest allocation
/// may be freed, grown or shrunk in place (a compare-and-swap that succeeds
/// only if no thread allocated after it); any other free is a no-op.
///
/// For speed, give each thread a handle with [`local`](SyncArena::local):
/// a [`LocalArena`](crate::LocalArena) claims a lease of up to 64 KiB with
/// one compare-and-swap and bumps inside it without atomics, as fast as
/// `Arena`. The cost is the unused tail of each lease, and
/// [`allocated_bytes`](SyncArena::allocated_bytes) counting whole leases.
///
/// ```
/// use anon_arena::SyncArena;
///
/// let arena = SyncArena::with_capacity(1 << 20);
/// let totals: Vec<u64> = std::thread::scope(|s| {
///     let workers: Vec<_> = (0..4u64)
///         .map(|t| {
///             let arena = &arena;
///             s.spawn(move || {
///                 let squares = arena.alloc_slice_fill_with(100, |i| (i as u64) * t);
///                 squares.iter().sum::<u64>()
///             })
///         })
///         .collect();
///     workers.into_iter().map(|w| w.join().unwrap()).collect()
/// });
/// assert_eq!(totals, [0, 4950, 9900, 14850]);
/// assert_eq!(arena.allocated_bytes(), 4 * 800);
/// ```
pub struct SyncArena {
    /// The atomic cursor, and the mapping it hands out (its memory is
    /// exactly the mapping).
    mapped: Mapped<RawAtomicCursor>,
}

// `SyncArena` is `Send` and `Sync` because its parts are: the region owns
// its mapping, and the atomic cursor claims every byte with one
// compare-and-swap (see the `Sync` impl of `RawAtomicCursor`).

// A panic on one thread cannot leave the cursor half-updated: every change
// is one atomic operation, and no user code runs between the claim of a
// block and its hand-out. Other threads go on allocating as before.
impl UnwindSafe for SyncArena {}
impl RefUnwindSafe for SyncArena {}

impl SyncArena {
    fn from_mapped(mapped: Mapped<RawAtomicCursor>) -> SyncArena {
        SyncArena { mapped }
    }

    fn into_mapped(self) -> Mapped<RawAtomicCursor> {
        self.mapped
    }

    /// Frees every allocation at once, in O(1): the cursor goes back to the
    /// start and the pages stay committed for reuse. `&mut self` proves no
    /// thread still holds an allocation.
    ///
    /// ```
    /// let mut arena = anon_arena::SyncArena::with_capacity(4096);
    /// let first = arena.alloc(1u64) as *mut u64;
    /// arena.reset();
    /// assert_eq!(arena.alloc(2u64) as *mut u64, first);
    /// ```
    pub fn reset(&mut self) {
        // SAFETY: `&mut self` proves no thread still holds an allocation.
        unsafe { self.mapped.reset() }
    }

    /// Resets the arena and hands every page it touched back to the OS
    /// (`madvise(MADV_DONTNEED)`): resident memory falls, and the pages read
    /// as zero (so `allocate_zeroed` skips zeroing them) when used again.
    ///
    /// ```
    /// let mut arena = anon_arena::SyncArena::with_capacity(1 << 20);
    /// arena.alloc_slice_fill_copy(100_000, 0xFFu8);
    /// arena.release();
    /// assert_eq!(arena.allocated_bytes(), 0);
    /// assert!(arena.alloc_slice_fill_default::<u8>(100_000).iter().all(|&b| b == 0));
    /// ```
    pub fn release(&mut self) {
        // SAFETY: `&mut self` proves no thread still holds an allocation.
        unsafe { self.mapped.release() }
    }

    /// Bytes handed out since the last reset, alignment padding included,
    /// and whole leases of [`LocalArena`](crate::LocalArena) handles (used
    /// or not). With other threads allocating, a snapshot that may be
    /// stale at once.
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(4096);
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
    /// assert_eq!(anon_arena::SyncArena::with_capacity(4096).capacity(), 4096);
    /// ```
    #[must_use]
    #[inline]
    pub fn capacity(&self) -> usize {
        self.mapped.cursor.capacity()
    }

    /// Bytes still free: `capacity() - allocated_bytes()`, or what is left
    /// below the [allocation limit](SyncArena::set_allocation_limit), as a
    /// snapshot.
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(4096);
    /// arena.alloc([0u8; 96]);
    /// assert_eq!(arena.remaining(), 4000);
    /// ```
    #[must_use]
    #[inline]
    pub fn remaining(&self) -> usize {
        self.mapped.cursor.remaining()
    }

    /// Caps the arena at `limit` bytes, as
    /// [`Arena::set_allocation_limit`](crate::Arena::set_allocation_limit)
    /// does, for every thread at once. [`LocalArena`](crate::LocalArena)
    /// handles claim their leases under the limit, but bump on in a lease
    /// claimed before it was lowered.
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(1 << 20);
    /// arena.set_allocation_limit(Some(4096));
    /// assert!(arena.try_alloc([0u8; 5000]).is_err());
    /// assert_eq!(arena.remaining(), 4096);
    /// ```
    pub fn set_allocation_limit(&self, limit: Option<usize>) {
        self.mapped.cursor.set_limit(limit);
    }

    /// The limit set by
    /// [`set_allocation_limit`](SyncArena::set_allocation_limit), if any
    /// (`Some(usize::MAX)` reads back as `None`).
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(4096);
    /// arena.set_allocation_limit(Some(64));
    /// assert_eq!(arena.allocation_limit(), Some(64));
    /// ```
    #[must_use]
    #[inline]
    pub fn allocation_limit(&self) -> Option<usize> {
        self.mapped.cursor.limit()
    }

    /// The arena's counters, as
    /// [`Arena::stats`](crate::Arena::stats) gives them: a snapshot, and
    /// counting whole leases of [`LocalArena`](crate::LocalArena) handles.
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(1 << 16);
    /// arena.alloc([0u8; 100]);
    /// assert_eq!(arena.stats().allocated, 104);
    /// ```
    #[must_use]
    pub fn stats(&self) -> Stats {
        let cursor = &self.mapped.cursor;
        Stats {
            allocated: cursor.used(),
            remaining: cursor.remaining(),
            limit: cursor.limit(),
            capacity: cursor.capacity(),
            high_water: cursor.peak(),
            released: self.mapped.released(),
        }
    }

    /// The shared cursor, for the leases of [`LocalArena`](crate::LocalArena).
    #[inline]
    pub(crate) fn cursor(&self) -> &RawAtomicCursor {
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

    /// The `Allocator` impl's answer to a refused request, for the arena
    /// and its handles: panics under
    /// [`Exhausted::Panic`](crate::Exhausted::Panic), naming the type as
    /// `name`.
    #[inline]
    pub(crate) fn refuse_as(&self, name: &str, layout: Layout) {
        self.mapped.refuse(name, layout, self.allocation_limit());
    }
}

alloc_methods!(SyncArena, "anon_arena::SyncArena::with_capacity(1 << 20)");

impl fmt::Debug for SyncArena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncArena")
            .field("allocated_bytes", &self.allocated_bytes())
            .field("capacity", &self.capacity())
            .field("allocation_limit", &self.allocation_limit())
            .field("region", &self.mapped)
            .finish()
    }
}

// Blocks live until `reset`/`release`/drop (and, for a `StackArena`, the
// end of their scope or a `reset_to`), all of which need `&mut self`.
impl AsRaw for &SyncArena {
    type Raw = RawAtomicCursor;
    #[inline(always)]
    fn as_raw(&self) -> &RawAtomicCursor {
        &self.mapped.cursor
    }
    #[inline]
    fn refuse(&self, layout: Layout) {
        self.refuse_as("SyncArena", layout);
    }
}

impl_allocator!(['a] &'a SyncArena);

impl ReportsRemaining for &SyncArena {
    #[inline]
    fn remaining_bytes(&self) -> Option<usize> {
        Some(self.remaining())
    }
}

arena_constructors!(SyncArena, "An arena");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::BumpCursor;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn is_send_and_sync() {
        assert_send_sync::<SyncArena>();
    }

    #[test]
    fn release_lets_zeroed_allocation_skip_memset() {
        let mut arena = SyncArena::with_capacity(1 << 16);
        arena.alloc_slice_fill_copy(1000, 0xABu8);
        arena.release();
        assert_eq!(arena.mapped.cursor.touched(), 0);
    }

    #[test]
    #[should_panic(expected = "SyncArena: cannot allocate 8192 bytes aligned to 1")]
    fn panics_with_numbers_when_full() {
        let arena = SyncArena::with_capacity(4096);
        arena.alloc([0u8; 8192]);
    }
}
