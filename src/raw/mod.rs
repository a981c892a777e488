//! The `pub(crate)` cores that hold the crate's pointer arithmetic.
//!
//! The public types in the crate root wrap these and add lifetimes that make
//! them safe. `unsafe` is allowed here because a cursor turns offsets inside
//! a mapping back into pointers; every such step names the invariant of the
//! core that keeps it in bounds.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::ptr::{self, NonNull};

use crate::error::Error;
use crate::math;

pub(crate) mod atomic_cursor;
pub(crate) mod cursor;
pub(crate) mod pool;

#[cfg(all(test, loom))]
pub(crate) mod loom_tests;

pub(crate) use atomic_cursor::RawAtomicCursor;
pub(crate) use cursor::RawCursor;
pub(crate) use pool::RawPool;

/// The operations behind `Allocator`, written once per allocator type and
/// turned into an impl of each supported `Allocator` trait by
/// [`impl_allocator!`](crate::alloc_api).
///
/// `None` means "allocation failed"; the glue maps it to that trait
/// version's `AllocError`. Blocks are returned as a pointer to their first
/// byte; the glue pairs it with `layout.size()`.
///
/// # Safety
///
/// Implementors promise what `allocator_api2::alloc::Allocator` promises:
/// a returned block is valid for reads and writes of `layout.size()` bytes,
/// aligned to `layout.align()`, does not overlap any other live block, and
/// stays valid until it is deallocated or the allocator is dropped or
/// reset (which needs `&mut`, so no `&Self` outlives it). `grow`/`shrink`
/// keep the first `min(old, new)` bytes, and `*_zeroed` return zeroed bytes.
pub(crate) unsafe trait RawAllocator {
    /// Allocates a block for `layout`.
    fn allocate(&self, layout: Layout) -> Option<NonNull<u8>>;

    /// Allocates a block for `layout` whose bytes read as zero.
    fn allocate_zeroed(&self, layout: Layout) -> Option<NonNull<u8>>;

    /// Gives a block back.
    ///
    /// # Safety
    ///
    /// * `ptr` was returned by this allocator for `layout` and is not used
    ///   again.
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout);

    /// Enlarges a block (moving it if needed), keeping its bytes; with
    /// `zeroed`, the added bytes read as zero.
    ///
    /// # Safety
    ///
    /// * `ptr` is live in this allocator for `old`; `new.size() >= old.size()`.
    /// * On success `ptr` is not used again unless it is returned.
    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>>;

    /// Shrinks a block (moving it if needed), keeping its first
    /// `new.size()` bytes.
    ///
    /// # Safety
    ///
    /// * `ptr` is live in this allocator for `old`; `new.size() <= old.size()`.
    /// * On success `ptr` is not used again unless it is returned.
    unsafe fn shrink(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Option<NonNull<u8>>;

    /// Called by the `Allocator` glue when a request for `layout` was
    /// refused, before the trait's error goes back: a public type that
    /// implements this trait itself panics here under
    /// `Exhausted::Panic`. Does nothing by default.
    #[inline(always)]
    fn refused(&self, layout: Layout) {
        let _ = layout;
    }
}

/// What an arena needs of its cursor besides allocation: to be made over a
/// mapping, to be reset, and to say how much of the mapping was written.
pub(crate) trait BumpCursor: RawAllocator {
    /// A cursor over `len` bytes at `start` whose first `dirty` bytes may
    /// hold old data (a reused mapping; 0 for a new one), which
    /// `allocate_zeroed` zeroes as it hands them out.
    ///
    /// # Safety
    ///
    /// * `start..start + len` is readable and writable memory, zero from
    ///   `start + dirty` on, that stays valid and is accessed only through
    ///   this cursor for as long as the cursor or any block it hands out is
    ///   in use.
    /// * `start` is aligned to [`MIN_ALIGN`](crate::math::MIN_ALIGN); `len`
    ///   is a multiple of it; `dirty <= len`.
    unsafe fn with_dirty_prefix(start: NonNull<u8>, len: usize, dirty: usize) -> Self;

    /// Frees every block at once: the cursor goes back to the start, and
    /// the high-water mark remembers how far memory was written.
    ///
    /// # Safety
    ///
    /// * No block handed out is live.
    unsafe fn reset(&mut self);

    /// Bytes from the start that may have been written: what a release
    /// must hand back, and what a reused mapping's next cursor must zero.
    fn touched(&mut self) -> usize;

    /// Total bytes the cursor manages.
    fn capacity(&self) -> usize;

    /// The error for a request [`allocate`](RawAllocator::allocate)
    /// refused, with the numbers as they are now.
    fn exhausted(&self, layout: Layout) -> Error;

    /// Frees every block and records that nothing has been written
    /// anywhere: the caller has just zeroed (released) the memory.
    ///
    /// # Safety
    ///
    /// * No block handed out is live, and every byte of the memory reads as
    ///   zero.
    unsafe fn reset_pristine(&mut self);
}

/// Zeroes the part of `len` bytes at `block` that lies below `dirty_end`
/// (a cursor's high-water mark): the rest reads as zero already.
///
/// # Safety
///
/// * `block..block + len` is a block (or part of one) the caller handed
///   out, and nothing else references it.
#[inline]
unsafe fn zero_below(block: NonNull<u8>, len: usize, dirty_end: usize) {
    let dirty = math::dirty_len(block.addr().get(), len, dirty_end);
    if dirty > 0 {
        // SAFETY: `dirty <= len` bytes of the caller's block.
        unsafe { ptr::write_bytes(block.as_ptr(), 0, dirty) };
    }
}

/// The copying half of a resize that cannot stay in place: a new block
/// from `allocator` for `new` (zeroed past the copy if `zeroed`), holding
/// the first `min(old_size, new.size())` bytes of `block`. The old block
/// is left to the caller.
///
/// # Safety
///
/// * `block` is live for `old_size` bytes, and `allocator` never hands out
///   a block overlapping a live one.
#[inline]
unsafe fn copy_to_new<A: RawAllocator>(
    allocator: &A,
    block: NonNull<u8>,
    old_size: usize,
    new: Layout,
    zeroed: bool,
) -> Option<NonNull<u8>> {
    let moved = if zeroed {
        allocator.allocate_zeroed(new)?
    } else {
        allocator.allocate(new)?
    };
    // SAFETY: the old block is live for `old_size` bytes, the new one is
    // fresh and holds `new.size()`, and fresh blocks never overlap live
    // ones.
    unsafe {
        ptr::copy_nonoverlapping(block.as_ptr(), moved.as_ptr(), old_size.min(new.size()));
    }
    Some(moved)
}

/// A cursor over a zeroed, 8-aligned heap buffer, freed on drop: the unit
/// tests' memory. The buffer is held as a raw pointer: moving a `Box` would
/// retag it and invalidate the cursor's pointers under Stacked Borrows.
#[cfg(test)]
pub(crate) struct Fixture<C> {
    memory: NonNull<[u64]>,
    pub(crate) cursor: C,
}

#[cfg(test)]
impl<C: BumpCursor> Fixture<C> {
    /// A cursor over `words` zeroed words.
    pub(crate) fn new(words: usize) -> Fixture<C> {
        let memory = NonNull::from(Box::leak(vec![0u64; words].into_boxed_slice()));
        // SAFETY: the buffer is zeroed, 8-aligned, lives as long as the
        // fixture, and only the cursor touches it.
        let cursor = unsafe { C::with_dirty_prefix(memory.cast::<u8>(), words * 8, 0) };
        Fixture { memory, cursor }
    }
}

#[cfg(test)]
impl<C> Drop for Fixture<C> {
    fn drop(&mut self) {
        // SAFETY: `memory` came from `Box::into_raw` and is freed once.
        drop(unsafe { Box::from_raw(self.memory.as_ptr()) });
    }
}
