//! [`Arena`]: a bump allocator over one anonymous mapping.
//!
//! `unsafe` is allowed here for the `Send` impl and for the cursor calls
//! whose contracts `&mut self` (no live allocation) makes true.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::fmt;
use core::ptr::NonNull;

use crate::alloc_api::{impl_allocator, AsRaw};
use crate::alloc_methods::alloc_methods;
use crate::arena_constructors::arena_constructors;
use crate::builder::Builder;
use crate::error::Error;
use crate::mapped::Mapped;
use crate::raw::{RawAllocator, RawCursor};

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
}

// SAFETY: an `Arena` owns its mapping and the cursor points only into it, so
// moving the arena to another thread moves everything it refers to. It is
// not `Sync`: the cursor is a `Cell`.
unsafe impl Send for Arena {}

impl Arena {
    pub(crate) fn from_mapped(mapped: Mapped<RawCursor>) -> Arena {
        Arena { mapped }
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
    #[inline]
    pub fn capacity(&self) -> usize {
        self.mapped.cursor.capacity()
    }

    /// Bytes still free: `capacity() - allocated_bytes()`.
    ///
    /// ```
    /// let arena = anon_arena::Arena::with_capacity(4096);
    /// arena.alloc([0u8; 96]);
    /// assert_eq!(arena.remaining(), 4000);
    /// ```
    #[inline]
    pub fn remaining(&self) -> usize {
        self.mapped.cursor.remaining()
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
}

alloc_methods!(Arena, "anon_arena::Arena::with_capacity(1 << 20)");

impl fmt::Debug for Arena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arena")
            .field("allocated_bytes", &self.allocated_bytes())
            .field("capacity", &self.capacity())
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
}

impl_allocator!(['a] &'a Arena);

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
