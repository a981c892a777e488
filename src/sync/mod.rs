//! [`SyncArena`]: a bump allocator many threads share, with one atomic
//! cursor over one anonymous mapping and no lock anywhere; with `std`,
//! each thread bumps inside its own lease of it (`thread_cache`).
//!
//! `unsafe` is allowed here for the `RawAllocator` impl, which forwards
//! the caller's promises to the thread's lease or the shared cursor.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::fmt;
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::ptr::NonNull;

use crate::alloc_api::impl_allocator;
use crate::arena_constructors::arena_constructors;
use crate::builder::Builder;
use crate::collections::ReportsRemaining;
use crate::error::Error;
use crate::mapped::Mapped;
use crate::raw::{RawAllocator, RawAtomicCursor};
use crate::stats::Stats;

mod lease;
mod local;
#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, loom, thread_cache))]
mod loom_thread_cache;
#[cfg(thread_cache)]
mod thread_cache;

use crate::alloc_methods::alloc_methods;
#[cfg(all(test, thread_cache))]
pub(crate) use lease::FIRST_LEASE;
pub use local::LocalArena;

/// A bump allocator that many threads may allocate from at once, with no
/// lock and no per-thread chunk list: the whole capacity is reserved up
/// front as one mapping, like [`Arena`](crate::Arena)'s, and handed out by
/// one atomic cursor.
///
/// It has the same surface as `Arena` (`alloc`, `alloc_str`,
/// `alloc_slice_*`, `alloc_layout`, their `try_` forms), the same 8-byte
/// minimum alignment, and the same rule that values allocated with `alloc*`
/// are **never dropped**. `&SyncArena` implements
/// [`Allocator`](allocator_api2::alloc::Allocator).
///
/// With the `std` feature, threads that simply share `&SyncArena` bump at
/// almost `Arena`'s speed: each thread claims a *lease* of the arena (4 KiB
/// at first, doubling up to 64 KiB) with one compare-and-swap, keeps it in
/// a small thread-local cache (the last two arenas it used), and bumps
/// inside it without atomics. The newest block of a thread's lease is freed,
/// grown and shrunk in place; a block from another thread's lease is freed
/// or resized in place only if nothing was claimed after it. Without `std`,
/// every block is one compare-and-swap on the shared cursor, and the newest
/// block of the arena is the one freed or resized in place.
///
/// The cost of leases: the unused tail of a thread's lease stays out of
/// use until the next reset when the thread moves to a new lease or stops
/// allocating (it goes back when nothing was claimed after it), so
/// [`allocated_bytes`](SyncArena::allocated_bytes) counts whole leases,
/// and near the end of the capacity one thread's lease may hold bytes
/// another thread needs (a lease takes at most an eighth of what is left,
/// so little). [`local`](SyncArena::local) gives a thread an explicit
/// handle on its leases, [`LocalArena`](crate::LocalArena), a little faster
/// still.
///
/// With `std`, allocation through `&SyncArena` is not async-signal-safe: a
/// signal handler must not allocate from an arena that the thread it
/// interrupted may be allocating from (both would bump the same lease).
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
/// assert!(arena.allocated_bytes() >= 4 * 800); // whole leases, with `std`
/// ```
pub struct SyncArena {
    /// The atomic cursor, and the mapping it hands out (its memory is
    /// exactly the mapping).
    mapped: Mapped<RawAtomicCursor>,
    /// The key of this arena's epoch (from its creation, or its last
    /// `reset`/`release`, to the next or its drop): unique in the process
    /// and never reused, replaced by every `&mut self` method that frees
    /// blocks. A thread uses a cached lease only with the arena whose key
    /// the lease's slot records (see `thread_cache`).
    #[cfg(thread_cache)]
    key: u64,
}

// `SyncArena` is `Send` and `Sync` because its parts are: the region owns
// its mapping, the atomic cursor claims every byte with one
// compare-and-swap (see the `Sync` impl of `RawAtomicCursor`), and the key
// is a number. Each thread's leases live in that thread's cache.

// A panic on one thread cannot leave the cursor half-updated: every change
// is one atomic operation, and no user code runs between the claim of a
// block and its hand-out. Other threads go on allocating as before.
impl UnwindSafe for SyncArena {}
impl RefUnwindSafe for SyncArena {}

impl SyncArena {
    fn from_mapped(mapped: Mapped<RawAtomicCursor>) -> SyncArena {
        SyncArena {
            mapped,
            #[cfg(thread_cache)]
            key: thread_cache::new_key(),
        }
    }

    /// Ends the epoch: every thread's cached lease of this arena is stale
    /// from here on. Done before the blocks are freed, so that a panic
    /// (keys exhausted) leaves the arena as it was.
    fn new_epoch(&mut self) {
        #[cfg(thread_cache)]
        {
            self.key = thread_cache::new_key();
        }
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
        self.new_epoch();
        // SAFETY: `&mut self` proves no thread still holds an allocation,
        // and no thread's lease of the old epoch is used again.
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
        self.new_epoch();
        // SAFETY: as in `reset`.
        unsafe { self.mapped.release() }
    }

    /// Bytes handed out since the last reset, alignment padding included,
    /// counting whole leases (each thread's, with `std`, and those of
    /// [`LocalArena`](crate::LocalArena) handles), used or not. With other
    /// threads allocating, a snapshot that may be stale at once.
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(1 << 20);
    /// arena.alloc(1u8);
    /// // With `std`, this thread's first lease; else one 8-byte block.
    /// assert!(arena.allocated_bytes() == 4096 || arena.allocated_bytes() == 8);
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

    /// Bytes no lease or block holds, below the
    /// [allocation limit](SyncArena::set_allocation_limit) if one is set:
    /// `capacity() - allocated_bytes()` without one, as a snapshot. What
    /// the calling thread can still allocate is this plus
    /// [`lease_remaining`](SyncArena::lease_remaining).
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(1 << 20);
    /// arena.alloc([0u8; 96]);
    /// assert_eq!(arena.remaining() + arena.lease_remaining(), (1 << 20) - 96);
    /// ```
    #[must_use]
    #[inline]
    pub fn remaining(&self) -> usize {
        self.mapped.cursor.remaining()
    }

    /// Bytes left in the calling thread's lease of this arena: what
    /// `&SyncArena` allocations on this thread take before it claims
    /// another. 0 before the thread's first allocation, after a reset, and
    /// without `std` (no leases).
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(1 << 20);
    /// assert_eq!(arena.lease_remaining(), 0);
    /// arena.alloc(1u64);
    /// # #[cfg(feature = "std")]
    /// assert_eq!(arena.lease_remaining(), 4096 - 8);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert_eq!(arena.lease_remaining(), 0)); // another thread's
    /// });
    /// ```
    #[inline]
    pub fn lease_remaining(&self) -> usize {
        #[cfg(thread_cache)]
        let remaining = thread_cache::lease_remaining(self);
        #[cfg(not(thread_cache))]
        let remaining = 0;
        remaining
    }

    /// Caps the arena at `limit` bytes, as
    /// [`Arena::set_allocation_limit`](crate::Arena::set_allocation_limit)
    /// does, for every thread at once. Leases (each thread's, with `std`,
    /// and those of [`LocalArena`](crate::LocalArena) handles) are claimed
    /// under the limit, but a thread or handle bumps on in a lease it
    /// claimed before the limit was lowered.
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
    /// [`Arena::stats`](crate::Arena::stats) gives them: a snapshot, with
    /// `allocated` and `remaining` as
    /// [`allocated_bytes`](SyncArena::allocated_bytes) and
    /// [`remaining`](SyncArena::remaining) count them (whole leases).
    ///
    /// ```
    /// let arena = anon_arena::SyncArena::with_capacity(1 << 16);
    /// arena.alloc([0u8; 100]);
    /// let stats = arena.stats();
    /// assert!(stats.allocated >= 104); // this thread's lease, with `std`
    /// assert_eq!(stats.allocated + stats.remaining, 1 << 16);
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

    /// The shared cursor, which leases come from.
    #[inline]
    pub(crate) fn cursor(&self) -> &RawAtomicCursor {
        &self.mapped.cursor
    }

    #[inline(always)]
    fn raw_alloc(&self, layout: Layout) -> Option<NonNull<u8>> {
        #[cfg(thread_cache)]
        let block = thread_cache::allocate(self, layout);
        #[cfg(not(thread_cache))]
        let block = self.mapped.cursor.allocate(layout);
        block
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

// SAFETY: with `thread_cache`, blocks come from this thread's lease
// (which its slot's key ties to this arena's current epoch) or straight
// from the shared cursor, and frees and resizes follow `LeaseCursor`'s
// rules; without it, every call is the shared cursor's. Either way blocks
// live until `reset`/`release`/drop, which need `&mut self`.
unsafe impl RawAllocator for SyncArena {
    #[inline(always)]
    fn allocate(&self, layout: Layout) -> Option<NonNull<u8>> {
        self.raw_alloc(layout)
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Option<NonNull<u8>> {
        #[cfg(thread_cache)]
        let block = thread_cache::allocate_zeroed(self, layout);
        #[cfg(not(thread_cache))]
        let block = self.mapped.cursor.allocate_zeroed(layout);
        block
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: the caller's contract, which is the callee's.
        #[cfg(thread_cache)]
        unsafe {
            thread_cache::deallocate(self, ptr, layout)
        }
        // SAFETY: the caller's contract, which is the callee's.
        #[cfg(not(thread_cache))]
        unsafe {
            self.mapped.cursor.deallocate(ptr, layout)
        }
    }

    #[inline]
    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        // SAFETY: the caller's contract, which is the callee's.
        #[cfg(thread_cache)]
        let block = unsafe { thread_cache::grow(self, ptr, old, new, zeroed) };
        // SAFETY: the caller's contract, which is the callee's.
        #[cfg(not(thread_cache))]
        let block = unsafe { self.mapped.cursor.grow(ptr, old, new, zeroed) };
        block
    }

    #[inline]
    unsafe fn shrink(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Option<NonNull<u8>> {
        // SAFETY: the caller's contract, which is the callee's.
        #[cfg(thread_cache)]
        let block = unsafe { thread_cache::shrink(self, ptr, old, new) };
        // SAFETY: the caller's contract, which is the callee's.
        #[cfg(not(thread_cache))]
        let block = unsafe { self.mapped.cursor.shrink(ptr, old, new) };
        block
    }

    #[inline]
    fn refused(&self, layout: Layout) {
        self.refuse_as("SyncArena", layout);
    }
}

impl_allocator!(['a] &'a SyncArena);

/// What this thread's lease has left, or failing that the arena: the
/// larger is the largest block `&SyncArena` can still hand out here.
impl ReportsRemaining for &SyncArena {
    #[inline]
    fn remaining_bytes(&self) -> Option<usize> {
        Some(self.lease_remaining().max(self.remaining()))
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
