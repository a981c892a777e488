//! [`SharedArena`]: a bump allocator over one `MAP_SHARED` mapping whose
//! atomic cursor lives inside the mapping, so a parent and every child it
//! forks afterwards allocate from the same space; and [`SharedSafe`], the
//! bound on what may be put there.
//!
//! `unsafe` is allowed here because the cursor is written into the raw
//! mapping and read back through a pointer, values are written into raw
//! blocks, and `SharedSafe` is an unsafe promise about a type's contents.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::fmt;
use core::mem::size_of;
use core::ptr::NonNull;
use core::sync::atomic;

use crate::alloc_methods::alloc_failed;
use crate::builder::{map_region, Builder};
use crate::error::Error;
use crate::raw::{RawAllocator, RawAtomicCursor};
use crate::region::Region;

/// Bytes at the start of the mapping that hold the cursor: one cache line,
/// so the first allocation does not share a line with the hot cursor.
const HEADER: usize = 64;

const _: () = assert!(size_of::<RawAtomicCursor>() <= HEADER);
const _: () = assert!(core::mem::align_of::<RawAtomicCursor>() <= HEADER);

/// Types whose values may be placed in memory shared with other processes.
///
/// # Safety
///
/// Implement it only for a type that
///
/// * holds no pointer, reference, function pointer or handle into
///   process-private memory (no `&T`, `Box`, `Vec`, `String`, `Rc`,
///   `AtomicPtr`, `fn`): another process would read an address that means
///   nothing — or something else — in its own address space. Addresses kept
///   as plain integers are numbers like any other; turning one back into a
///   pointer is [`SharedArena::ptr_from_addr`]'s job;
/// * needs no `Drop` (values in an arena are never dropped), and
/// * stays a valid value whatever valid value of the same type another
///   process stores over it (true of plain data: integers, floats, `bool`,
///   `char`, atomics, and arrays, tuples and `#[repr(C)]` structs of them).
///
/// It is implemented for the primitive integers, floats, `bool`, `char`,
/// `()`, every `core::sync::atomic` integer and `AtomicBool` type, and
/// arrays and tuples (up to six) of `SharedSafe` types. A `#[repr(C)]`
/// struct whose fields are all `SharedSafe` may implement it too.
///
/// ```
/// use anon_arena::{SharedArena, SharedSafe};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// #[repr(C)]
/// struct Progress {
///     done: AtomicU32,
///     total: u32,
/// }
/// // SAFETY: plain integers and an atomic; no pointer, no `Drop`.
/// unsafe impl SharedSafe for Progress {}
///
/// let arena = SharedArena::with_capacity(4096)?;
/// let p = arena.alloc(Progress { done: AtomicU32::new(0), total: 10 });
/// p.done.fetch_add(1, Ordering::Relaxed);
/// assert_eq!(p.done.load(Ordering::Relaxed), 1);
/// # Ok::<(), anon_arena::Error>(())
/// ```
///
/// Anything that points into the process's own heap is refused:
///
/// ```compile_fail,E0277
/// let arena = anon_arena::SharedArena::with_capacity(4096).unwrap();
/// arena.alloc(Box::new(1u32));
/// ```
///
/// ```compile_fail,E0277
/// let arena = anon_arena::SharedArena::with_capacity(4096).unwrap();
/// let x = 5u32;
/// arena.alloc(&x);
/// ```
pub unsafe trait SharedSafe {}

macro_rules! shared_safe {
    ($($ty:ty),* $(,)?) => {
        $(
            // SAFETY: plain data: no pointer, no `Drop`, every bit pattern a
            // process stores through this type is a valid value of it.
            unsafe impl SharedSafe for $ty {}
        )*
    };
}

shared_safe!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    (),
);
shared_safe!(
    atomic::AtomicBool,
    atomic::AtomicU8,
    atomic::AtomicU16,
    atomic::AtomicU32,
    atomic::AtomicU64,
    atomic::AtomicUsize,
    atomic::AtomicI8,
    atomic::AtomicI16,
    atomic::AtomicI32,
    atomic::AtomicI64,
    atomic::AtomicIsize,
);

// SAFETY: an array holds only its elements, which are `SharedSafe`.
unsafe impl<T: SharedSafe, const N: usize> SharedSafe for [T; N] {}

macro_rules! shared_safe_tuple {
    ($($name:ident)+) => {
        // SAFETY: a tuple holds only its fields, which are all `SharedSafe`.
        unsafe impl<$($name: SharedSafe),+> SharedSafe for ($($name,)+) {}
    };
}
shared_safe_tuple!(A);
shared_safe_tuple!(A B);
shared_safe_tuple!(A B C);
shared_safe_tuple!(A B C D);
shared_safe_tuple!(A B C D E);
shared_safe_tuple!(A B C D E F);

/// A bump allocator over one `MAP_SHARED | MAP_ANONYMOUS` mapping, shared
/// by a process and the children it forks **after** creating it.
///
/// The cursor is an atomic stored in the mapping's first bytes, so every
/// process allocates from the same space and never gets a block another
/// process got; and since the pages are shared, not copy-on-write, a write
/// by either side is visible to the other at once. `fork()` keeps every
/// address, so an address handed from one process to another (as an
/// integer, through the arena) means the same block on both sides.
///
/// ```
/// use anon_arena::SharedArena;
///
/// let arena = SharedArena::with_capacity(1 << 20)?;
/// let counter = arena.alloc(0u64);
/// *counter += 1;
/// let name = arena.alloc_slice_copy(b"worker");
/// assert_eq!((*counter, &*name), (1, &b"worker"[..]));
/// assert_eq!(arena.allocated_bytes(), 16);
/// # Ok::<(), anon_arena::Error>(())
/// ```
///
/// # What may be stored, and how to share it
///
/// * Only [`SharedSafe`] values: plain data and atomics, never a pointer
///   into a process's private memory (the heap, the stack, another arena).
/// * Values are never dropped, and there is no `reset`: `&mut self` in one
///   process proves nothing about the blocks other processes still use.
///   The mapping goes away when the last process holding it unmaps it
///   (drops its `SharedArena`, or exits).
/// * `alloc` hands out `&mut T` for setting a value up. Once another
///   process may be writing the same value, go through atomics (`&T` to an
///   `AtomicU64` field), or read plain fields only after a synchronising
///   event that orders the other side's writes before your reads:
///   `waitpid` on the writer, reading from a pipe it wrote to after
///   writing, or an acquire load that sees its release store. Two processes
///   writing the same plain field at once is a data race, as between
///   threads.
///
/// The mapping is shared only with processes forked after it was made;
/// anything else (an unrelated process, `exec`) needs a named object, which
/// this type does not make.
///
/// ```compile_fail,E0505
/// let arena = anon_arena::SharedArena::with_capacity(4096).unwrap();
/// let r = arena.alloc(1u32);
/// drop(arena);
/// *r += 1; // a block cannot outlive its arena
/// ```
pub struct SharedArena {
    /// The cursor, in the first [`HEADER`] bytes of `region`; its memory is
    /// the rest of the region.
    cursor: NonNull<RawAtomicCursor>,
    /// The shared mapping; unmapped (in this process) when the arena drops.
    region: Region,
}

// SAFETY: a `SharedArena` owns its mapping (in this process) and the cursor
// lives inside it, so moving the arena moves everything it refers to.
unsafe impl Send for SharedArena {}
// SAFETY: `&self` methods read immutable fields or claim bytes with an
// atomic compare-and-swap on the cursor, which hands each byte to one caller
// only, whichever thread or process asks.
unsafe impl Sync for SharedArena {}

impl SharedArena {
    /// A shared arena of at least `bytes` capacity: the mapping is `bytes`
    /// plus a 64-byte header for the cursor, rounded up to whole pages, and
    /// the capacity is all of it but the header.
    ///
    /// # Errors
    ///
    /// [`Error::MapFailed`] when the kernel refuses the mapping,
    /// [`Error::LayoutOverflow`] when `bytes` cannot be rounded to pages.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4000)?;
    /// assert_eq!(arena.capacity(), 4096 - 64);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn with_capacity(bytes: usize) -> Result<SharedArena, Error> {
        SharedArena::builder().capacity(bytes).build()
    }

    /// A [`Builder`] for a shared arena; `.backing(Backing::DevZero)` maps
    /// `/dev/zero` shared instead (the System V way), with the same effect.
    ///
    /// ```
    /// use anon_arena::{Backing, SharedArena};
    ///
    /// let arena = SharedArena::builder().capacity(1 << 16).backing(Backing::DevZero).build()?;
    /// assert_eq!(*arena.alloc(3u8), 3);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn builder() -> Builder<SharedArena> {
        Builder::new()
    }

    /// Places the cursor in a fresh region's header.
    fn from_region(region: Region) -> SharedArena {
        let base = NonNull::new(region.as_ptr()).expect("a region is never at address 0");
        // The region is at least one page, far more than the header.
        let len = region.len() - HEADER;
        // SAFETY: `HEADER < region.len()`, so the data start is inside the
        // mapping; page-aligned base plus 64 is 8-aligned.
        let data = unsafe { base.add(HEADER) };
        // SAFETY: the bytes after the header are fresh (zero), 8-aligned, a
        // multiple of 8 long, owned by the arena, and reached only through
        // the cursor. Unpoisoned: other processes allocate here too, and
        // ASan's shadow is per process.
        let cursor = unsafe { RawAtomicCursor::new_unpoisoned(data, len) };
        let slot = base.cast::<RawAtomicCursor>();
        // SAFETY: the header is inside the mapping, page-aligned (so aligned
        // for the cursor), large enough (checked above), and unused.
        unsafe { slot.write(cursor) };
        SharedArena {
            cursor: slot,
            region,
        }
    }

    #[inline(always)]
    fn cursor(&self) -> &RawAtomicCursor {
        // SAFETY: the cursor was written at creation and lives as long as
        // the region; it is only ever accessed through `&`, and its mutable
        // state is atomic.
        unsafe { self.cursor.as_ref() }
    }

    /// Moves `value` into shared memory and returns a mutable reference to
    /// it (see the type's docs for sharing it once other processes run).
    ///
    /// # Panics
    ///
    /// When the arena is full; the message says what was asked and what
    /// remained.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let pair = arena.alloc((1u32, 2.5f64));
    /// pair.0 += 1;
    /// assert_eq!(*pair, (2, 2.5));
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    #[allow(clippy::mut_from_ref)]
    pub fn alloc<T: SharedSafe>(&self, value: T) -> &mut T {
        match self.try_alloc(value) {
            Ok(value) => value,
            Err(error) => alloc_failed("SharedArena", Layout::new::<T>(), error),
        }
    }

    /// Like [`alloc`](Self::alloc), but returns an error instead of
    /// panicking when the arena is full.
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] when `T` does not fit.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// assert!(arena.try_alloc([0u8; 8192]).is_err());
    /// assert_eq!(*arena.try_alloc(7i16)?, 7);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub fn try_alloc<T: SharedSafe>(&self, value: T) -> Result<&mut T, Error> {
        let layout = Layout::new::<T>();
        let block = self.block(layout)?.cast::<T>();
        // SAFETY: the block is valid and aligned for a `T`, disjoint from
        // every other block any process got, and lives as long as `&self`;
        // it is initialised before the reference is made.
        unsafe {
            block.as_ptr().write(value);
            Ok(&mut *block.as_ptr())
        }
    }

    /// Copies `src` into shared memory.
    ///
    /// # Panics
    ///
    /// When the arena is full.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let s = arena.alloc_slice_copy(&[1u16, 2, 3]);
    /// s[0] = 9;
    /// assert_eq!(s, &[9, 2, 3]);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_slice_copy<T: SharedSafe + Copy>(&self, src: &[T]) -> &mut [T] {
        match self.try_alloc_slice_copy(src) {
            Ok(slice) => slice,
            Err(error) => alloc_failed("SharedArena", slice_layout::<T>(src.len()), error),
        }
    }

    /// Like [`alloc_slice_copy`](Self::alloc_slice_copy), but returns an
    /// error when the arena is full.
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] when the slice does not fit.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// assert_eq!(arena.try_alloc_slice_copy(b"hi")?, b"hi");
    /// assert!(arena.try_alloc_slice_copy(&[0u64; 2000]).is_err());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub fn try_alloc_slice_copy<T: SharedSafe + Copy>(&self, src: &[T]) -> Result<&mut [T], Error> {
        let layout = Layout::array::<T>(src.len()).map_err(|_| Error::LayoutOverflow)?;
        let block = self.block(layout)?.cast::<T>();
        // SAFETY: the block holds `src.len()` `T`s, is fresh (so disjoint
        // from `src`), and is initialised before the slice is made.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), block.as_ptr(), src.len());
            Ok(core::slice::from_raw_parts_mut(block.as_ptr(), src.len()))
        }
    }

    /// A slice of `len` copies of `value` in shared memory.
    ///
    /// # Panics
    ///
    /// When the arena is full or `len` copies overflow the address space.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let slots = arena.alloc_slice_fill_copy(4, -1i32);
    /// assert_eq!(slots, &[-1; 4]);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    #[allow(clippy::mut_from_ref)]
    pub fn alloc_slice_fill_copy<T: SharedSafe + Copy>(&self, len: usize, value: T) -> &mut [T] {
        match self.try_alloc_slice_fill_copy(len, value) {
            Ok(slice) => slice,
            Err(error) => alloc_failed("SharedArena", slice_layout::<T>(len), error),
        }
    }

    /// Like [`alloc_slice_fill_copy`](Self::alloc_slice_fill_copy), but
    /// returns an error when the arena is full.
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] when the slice does not fit,
    /// [`Error::LayoutOverflow`] when `len` copies overflow the address space.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// assert_eq!(arena.try_alloc_slice_fill_copy(3, 1u8)?, &[1, 1, 1]);
    /// assert!(arena.try_alloc_slice_fill_copy(usize::MAX, 0u64).is_err());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub fn try_alloc_slice_fill_copy<T: SharedSafe + Copy>(
        &self,
        len: usize,
        value: T,
    ) -> Result<&mut [T], Error> {
        let layout = Layout::array::<T>(len).map_err(|_| Error::LayoutOverflow)?;
        let block = self.block(layout)?.cast::<T>();
        for i in 0..len {
            // SAFETY: `i < len`, inside the fresh block of `len` `T`s.
            unsafe { block.as_ptr().add(i).write(value) };
        }
        // SAFETY: every element was initialised above; the block is ours.
        Ok(unsafe { core::slice::from_raw_parts_mut(block.as_ptr(), len) })
    }

    /// A block for `layout`, or why there is none.
    #[inline(always)]
    fn block(&self, layout: Layout) -> Result<NonNull<u8>, Error> {
        match self.cursor().allocate(layout) {
            Some(block) => Ok(block),
            None => Err(self.cursor().exhausted(layout)),
        }
    }

    /// Turns an address that some process sharing this arena handed over
    /// (as an integer, say through an `AtomicUsize` in the arena) back into
    /// a pointer this process may use: it carries the provenance of this
    /// process's view of the mapping. `None` unless `addr` lies inside the
    /// arena's capacity.
    ///
    /// Reading or writing through the pointer is `unsafe`, with the usual
    /// duties: the block is live, initialised, of the type you read, and not
    /// being written by another process at the same time.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let addr = arena.alloc(42u64) as *mut u64 as usize;
    /// let ptr = arena.ptr_from_addr(addr).unwrap().cast::<u64>();
    /// // SAFETY: the block holds a live `u64` and nobody else writes it.
    /// assert_eq!(unsafe { ptr.read() }, 42);
    /// assert!(arena.ptr_from_addr(8).is_none());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn ptr_from_addr(&self, addr: usize) -> Option<NonNull<u8>> {
        let start = self.cursor().start();
        let offset = addr.checked_sub(start.addr().get())?;
        if offset >= self.capacity() {
            return None;
        }
        // SAFETY: `offset < capacity`, so the result is inside the mapping.
        Some(unsafe { start.add(offset) })
    }

    /// Bytes handed out so far by every process sharing the arena,
    /// alignment padding included: a snapshot.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// arena.alloc(1u8);
    /// assert_eq!(arena.allocated_bytes(), 8); // every block is 8-byte aligned
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    pub fn allocated_bytes(&self) -> usize {
        self.cursor().used()
    }

    /// Total bytes the arena can hand out (the mapping less the cursor's
    /// 64-byte header).
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(8192)?;
    /// assert!(arena.capacity() >= 8192);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    pub fn capacity(&self) -> usize {
        self.cursor().capacity()
    }

    /// Bytes still free, as a snapshot.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4000)?;
    /// arena.alloc([0u8; 32]);
    /// assert_eq!(arena.remaining(), 4096 - 64 - 32);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    pub fn remaining(&self) -> usize {
        self.cursor().remaining()
    }
}

impl fmt::Debug for SharedArena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedArena")
            .field("allocated_bytes", &self.allocated_bytes())
            .field("capacity", &self.capacity())
            .field("region", &self.region)
            .finish()
    }
}

impl Builder<SharedArena> {
    /// At least this many bytes of capacity: the mapping adds the 64-byte
    /// header and rounds up to whole pages. Without it the builder reserves
    /// the same large default as `Arena::new` (address space only; shared
    /// pages are committed as they are touched).
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::builder().capacity(5000).build()?;
    /// assert_eq!(arena.capacity(), 8192 - 64);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn capacity(mut self, bytes: usize) -> Self {
        self.size = Some(bytes);
        self
    }

    /// Maps the region shared and places the cursor in it.
    ///
    /// # Errors
    ///
    /// [`Error::MapFailed`] when the kernel refuses the mapping,
    /// [`Error::LayoutOverflow`] for a capacity that cannot be rounded to
    /// pages.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::builder().capacity(1 << 20).build()?;
    /// assert!(arena.capacity() >= 1 << 20);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn build(mut self) -> Result<SharedArena, Error> {
        self.options.shared = true;
        if let Some(bytes) = self.size {
            self.size = Some(bytes.checked_add(HEADER).ok_or(Error::LayoutOverflow)?);
        }
        let (region, dirty) = map_region(&self)?;
        // Shared mappings are never parked for reuse, so this one is new.
        assert_eq!(dirty, 0, "SharedArena: a shared mapping must be fresh");
        Ok(SharedArena::from_region(region))
    }
}

/// The layout of `len` `T`s for a panic message (saturated when it
/// overflows, which `try_` forms report as [`Error::LayoutOverflow`]).
#[cold]
fn slice_layout<T>(len: usize) -> Layout {
    Layout::array::<T>(len).unwrap_or(Layout::new::<T>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn cursor_lives_in_the_header_and_blocks_after_it() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        let base = arena.region.as_ptr() as usize;
        assert_eq!(arena.cursor.as_ptr() as usize, base);
        let first = arena.alloc(1u64) as *mut u64 as usize;
        assert_eq!(first, base + HEADER);
    }

    #[test]
    fn threads_share_one_cursor() {
        let arena = SharedArena::with_capacity(1 << 16).unwrap();
        let hits = arena.alloc(AtomicU64::new(0));
        let per_thread = if cfg!(miri) { 8 } else { 200 };
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    for _ in 0..per_thread {
                        arena.alloc(0u64);
                        hits.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        });
        assert_eq!(hits.load(Ordering::Relaxed), 2 * per_thread);
        assert_eq!(arena.allocated_bytes(), 8 + 2 * per_thread as usize * 8);
    }

    #[test]
    #[should_panic(expected = "SharedArena: cannot allocate 8192 bytes aligned to 1")]
    fn panics_with_numbers_when_full() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        arena.alloc([0u8; 8192]);
    }
}
