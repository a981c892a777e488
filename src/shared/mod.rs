//! [`SharedArena`]: a bump allocator over one `MAP_SHARED` mapping whose
//! atomic cursor lives inside the mapping, so a parent and every child it
//! forks afterwards allocate from the same space; and what may live there:
//! [`SharedSafe`] values, reached through `&` only, among them the
//! cross-process [`SharedCell`] and [`SharedRing`].
//!
//! `unsafe` is allowed here because the cursor is written into the raw
//! mapping and read back through a pointer, and values are written into
//! raw blocks and turned into references.
#![allow(unsafe_code)]

mod cell;
mod marker;
mod ring;
mod spin;

pub use cell::SharedCell;
pub use marker::{NoPadding, SharedSafe, Zeroable};
pub use ring::{SharedRing, TryRecvError, TrySendError};

use core::alloc::Layout;
use core::fmt;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

use crate::alloc_methods::alloc_failed;
use crate::builder::{map_region, Builder};
use crate::error::Error;
use crate::fill::fill_copies;
use crate::raw::{RawAllocator, RawAtomicCursor};
use crate::region::Region;
use crate::stats::Stats;

/// Bytes at the start of the mapping that hold the cursor: one cache line,
/// so the first allocation does not share a line with the hot cursor.
const HEADER: usize = 64;

const _: () = assert!(size_of::<RawAtomicCursor>() <= HEADER);
const _: () = assert!(align_of::<RawAtomicCursor>() <= HEADER);

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
/// use anon_arena::{SharedArena, SharedCell};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let arena = SharedArena::with_capacity(1 << 20)?;
/// let hits = arena.alloc(AtomicU64::new(0)); // &AtomicU64
/// let best = arena.alloc(SharedCell::new(0.0f64)); // &SharedCell<f64>
/// let name = arena.alloc_slice_copy(b"worker"); // &[u8], fixed from now on
/// let jobs = arena.alloc_ring(4096); // &SharedRing
///
/// // ... fork workers; each of them, and the parent, may now do:
/// hits.fetch_add(1, Ordering::Relaxed);
/// best.update(|b| b.max(0.5));
/// jobs.send(b"job 1");
///
/// assert_eq!((hits.load(Ordering::Relaxed), best.load(), name), (1, 0.5, &b"worker"[..]));
/// # Ok::<(), anon_arena::Error>(())
/// ```
///
/// # Sharing with other processes
///
/// To Rust, another process sharing the arena is one more thread: its
/// writes race with ours exactly as a thread's would. So:
///
/// * Values are handed out as `&T`, never `&mut T`: `fork` copies every
///   reference, so a `&mut` into the arena held across a `fork` would be
///   aliased by the child's copy. A plain value (`u64`, `[u8; 16]`) is
///   fixed once allocated; what changes goes through atomics, a
///   [`SharedCell`] (a `Copy` value read and written whole) or a
///   [`SharedRing`] (messages from one process to another).
/// * Only [`SharedSafe`] values: `Send + Sync`, no pointer into a process's
///   private memory, nothing that changes behind `&` except through
///   lock-free atomics.
/// * Values are never dropped, and there is no `reset`: `&mut self` in one
///   process proves nothing about the blocks other processes still use.
///   The mapping goes away when the last process holding it unmaps it
///   (drops its `SharedArena`, or exits).
///
/// The mapping is shared only with processes forked after it was made;
/// anything else (an unrelated process, `exec`) needs a named object, which
/// this type does not make.
///
/// A value in the arena cannot be changed through plain writes:
///
/// ```compile_fail,E0594
/// let arena = anon_arena::SharedArena::with_capacity(4096).unwrap();
/// let n = arena.alloc(1u32);
/// *n += 1;
/// ```
///
/// ```compile_fail,E0308
/// let arena = anon_arena::SharedArena::with_capacity(4096).unwrap();
/// let n: &mut u32 = arena.alloc(1u32);
/// ```
///
/// and a block cannot outlive its arena (this process's view of it):
///
/// ```compile_fail,E0505
/// let arena = anon_arena::SharedArena::with_capacity(4096).unwrap();
/// let r = arena.alloc(1u32);
/// drop(arena);
/// assert_eq!(*r, 1);
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
// only, whichever thread or process asks; what they hand out is `&T` with
// `T: Sync`.
unsafe impl Sync for SharedArena {}

impl SharedArena {
    /// A shared arena of at least `bytes` capacity: the mapping is `bytes`
    /// plus a 64-byte header for the cursor, rounded up to whole pages, and
    /// the capacity is all of it but the header.
    ///
    /// Unlike the other allocators' `with_capacity`, this returns the error
    /// rather than panicking: a shared arena is made once, at setup before
    /// any fork, where a refused mapping is an outcome to report, so this
    /// one constructor is the fallible one (there is no `try_` twin).
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

    /// Moves `value` into shared memory and returns a reference to it.
    ///
    /// # Panics
    ///
    /// When the arena is full; the message says what was asked and what
    /// remained.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let pair = arena.alloc((AtomicU32::new(1), 2.5f64));
    /// pair.0.fetch_add(1, Ordering::Relaxed);
    /// assert_eq!((pair.0.load(Ordering::Relaxed), pair.1), (2, 2.5));
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn alloc<T: SharedSafe>(&self, value: T) -> &T {
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
    pub fn try_alloc<T: SharedSafe>(&self, value: T) -> Result<&T, Error> {
        let block = self.block(Layout::new::<T>(), false)?.cast::<T>();
        // SAFETY: the block is valid and aligned for a `T`, disjoint from
        // every other block any process got, and lives as long as `&self`;
        // it is initialised before the reference is made, and no code but
        // this runs in between (nothing can fork while it is half written).
        unsafe {
            block.as_ptr().write(value);
            Ok(block.as_ref())
        }
    }

    /// A `T` whose bytes are all zero, without writing them: the arena's
    /// memory is fresh, so big values (an array of atomics, a table of
    /// cells) cost no copy and no stack.
    ///
    /// # Panics
    ///
    /// When the arena is full.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU8, Ordering};
    ///
    /// let arena = anon_arena::SharedArena::with_capacity(1 << 20)?;
    /// let flags = arena.alloc_zeroed::<[AtomicU8; 65536]>();
    /// flags[40000].store(1, Ordering::Relaxed);
    /// assert_eq!(flags[39999].load(Ordering::Relaxed), 0);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn alloc_zeroed<T: Zeroable>(&self) -> &T {
        match self.try_alloc_zeroed() {
            Ok(value) => value,
            Err(error) => alloc_failed("SharedArena", Layout::new::<T>(), error),
        }
    }

    /// Like [`alloc_zeroed`](Self::alloc_zeroed), but returns an error when
    /// the arena is full.
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] when `T` does not fit.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// assert_eq!(*arena.try_alloc_zeroed::<(u32, bool)>()?, (0, false));
    /// assert!(arena.try_alloc_zeroed::<[u64; 1024]>().is_err());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    pub fn try_alloc_zeroed<T: Zeroable>(&self) -> Result<&T, Error> {
        let block = self.block(Layout::new::<T>(), true)?.cast::<T>();
        // SAFETY: the block is valid and aligned for a `T`, ours alone, and
        // lives as long as `&self`; its bytes are zero, a valid `T`
        // (`T: Zeroable`).
        Ok(unsafe { block.as_ref() })
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
    /// assert_eq!(s, &[1, 2, 3]);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn alloc_slice_copy<T: SharedSafe + Copy>(&self, src: &[T]) -> &[T] {
        match self.try_alloc_slice_copy(src) {
            Ok(slice) => slice,
            Err(error) => slice_failed::<T>(src.len(), error),
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
    pub fn try_alloc_slice_copy<T: SharedSafe + Copy>(&self, src: &[T]) -> Result<&[T], Error> {
        let layout = Layout::array::<T>(src.len()).map_err(|_| Error::LayoutOverflow)?;
        let block = self.block(layout, false)?.cast::<T>();
        // SAFETY: the block holds `src.len()` `T`s, is fresh (so disjoint
        // from `src`), ours alone, and initialised (by a plain copy: `T` is
        // `Copy`, no code of the caller runs) before the slice is made.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), block.as_ptr(), src.len());
            Ok(NonNull::slice_from_raw_parts(block, src.len()).as_ref())
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
    pub fn alloc_slice_fill_copy<T: SharedSafe + Copy>(&self, len: usize, value: T) -> &[T] {
        match self.try_alloc_slice_fill_copy(len, value) {
            Ok(slice) => slice,
            Err(error) => slice_failed::<T>(len, error),
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
    pub fn try_alloc_slice_fill_copy<T: SharedSafe + Copy>(
        &self,
        len: usize,
        value: T,
    ) -> Result<&[T], Error> {
        let layout = Layout::array::<T>(len).map_err(|_| Error::LayoutOverflow)?;
        let block = self.block(layout, false)?;
        // SAFETY: a fresh block of `layout` (`len` `T`s), ours for as long
        // as `&self`.
        Ok(unsafe { fill_copies(block, len, value) })
    }

    /// A slice of `len` all-zero `T`s, without writing them: a table of
    /// atomics or cells, one per worker, say.
    ///
    /// (There is no `alloc_slice_fill_with`: a closure run between the
    /// writes of a block could `fork`, and both processes would go on
    /// writing the same block.)
    ///
    /// # Panics
    ///
    /// When the arena is full or `len` values overflow the address space.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let per_worker = arena.alloc_slice_zeroed::<AtomicU64>(8);
    /// per_worker[3].fetch_add(5, Ordering::Relaxed);
    /// assert_eq!(per_worker[3].load(Ordering::Relaxed), 5);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    #[track_caller]
    pub fn alloc_slice_zeroed<T: Zeroable>(&self, len: usize) -> &[T] {
        match self.try_alloc_slice_zeroed(len) {
            Ok(slice) => slice,
            Err(error) => slice_failed::<T>(len, error),
        }
    }

    /// Like [`alloc_slice_zeroed`](Self::alloc_slice_zeroed), but returns
    /// an error when the arena is full.
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] when the slice does not fit,
    /// [`Error::LayoutOverflow`] when `len` values overflow the address
    /// space.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// assert_eq!(arena.try_alloc_slice_zeroed::<i32>(2)?, &[0, 0]);
    /// assert!(arena.try_alloc_slice_zeroed::<u64>(usize::MAX).is_err());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    pub fn try_alloc_slice_zeroed<T: Zeroable>(&self, len: usize) -> Result<&[T], Error> {
        let layout = Layout::array::<T>(len).map_err(|_| Error::LayoutOverflow)?;
        let block = self.block(layout, true)?.cast::<T>();
        // SAFETY: the block holds `len` `T`s, ours alone, for as long as
        // `&self`; its bytes are zero, valid `T`s (`T: Zeroable`).
        Ok(unsafe { NonNull::slice_from_raw_parts(block, len).as_ref() })
    }

    /// A [`SharedRing`] with a buffer of at least `bytes` (rounded up to 8,
    /// at least 16), for messages from one process (or thread) to another.
    ///
    /// # Panics
    ///
    /// When the arena is full.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(1 << 16)?;
    /// let ring = arena.alloc_ring(4096);
    /// ring.send(b"ping");
    /// let mut buf = [0u8; 16];
    /// let len = ring.recv(&mut buf);
    /// assert_eq!(&buf[..len], b"ping");
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    ///
    /// Like every value in the arena, it is reached through `&` only:
    ///
    /// ```compile_fail,E0308
    /// let arena = anon_arena::SharedArena::with_capacity(1 << 16).unwrap();
    /// let ring: &mut anon_arena::SharedRing = arena.alloc_ring(64);
    /// ```
    #[inline]
    #[track_caller]
    pub fn alloc_ring(&self, bytes: usize) -> &SharedRing {
        match self.try_alloc_ring(bytes) {
            Ok(ring) => ring,
            Err(error) => match SharedRing::layout(bytes) {
                Some((layout, _)) => alloc_failed("SharedArena", layout, error),
                None => panic!("SharedArena: cannot allocate a ring of {bytes} bytes: {error}"),
            },
        }
    }

    /// Like [`alloc_ring`](Self::alloc_ring), but returns an error when the
    /// arena is full.
    ///
    /// # Errors
    ///
    /// [`Error::Exhausted`] when the ring does not fit,
    /// [`Error::LayoutOverflow`] when `bytes` overflows the address space.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// assert_eq!(arena.try_alloc_ring(1024)?.capacity(), 1024);
    /// assert!(arena.try_alloc_ring(1 << 20).is_err());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[inline]
    pub fn try_alloc_ring(&self, bytes: usize) -> Result<&SharedRing, Error> {
        let (layout, words) = SharedRing::layout(bytes).ok_or(Error::LayoutOverflow)?;
        let block = self.block(layout, true)?;
        // SAFETY: a zeroed block of the ring's layout for `words` words,
        // ours alone, for as long as `&self`.
        Ok(unsafe { SharedRing::from_zeroed(block, words) })
    }

    /// A block for `layout` (zeroed if asked), or why there is none.
    #[inline(always)]
    fn block(&self, layout: Layout, zeroed: bool) -> Result<NonNull<u8>, Error> {
        let block = if zeroed {
            self.cursor().allocate_zeroed(layout)
        } else {
            self.cursor().allocate(layout)
        };
        block.ok_or_else(|| self.cursor().exhausted(layout))
    }

    /// Turns an address that some process sharing this arena handed over
    /// (as an integer, say in an `AtomicUsize` or a [`SharedRing`]
    /// message) back into a pointer this process may use: it carries the
    /// provenance of this process's view of the mapping. `None` unless
    /// `addr` lies inside the arena's capacity.
    ///
    /// Using the pointer is `unsafe`, with the raw-pointer duties and one
    /// more: every block was handed out as `&T`, which promises that its
    /// plain (non-atomic) bytes never change, so write only through its
    /// atomics. [`ref_from_addr`](Self::ref_from_addr) is the typed form.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let addr = arena.alloc(42u64) as *const u64 as usize;
    /// let ptr = arena.ptr_from_addr(addr).unwrap().cast::<u64>();
    /// // SAFETY: the block holds a live `u64`, which nobody writes.
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

    /// The `T` at `addr`, an address some process sharing this arena
    /// handed over: how a process reaches a value another one allocated
    /// after the fork. `None` unless a `T` at `addr` lies inside the
    /// arena's capacity, aligned.
    ///
    /// # Safety
    ///
    /// * `addr` is the address of a `T` this arena handed out, in any of
    ///   the processes sharing it: a value from [`alloc`](Self::alloc) or
    ///   [`alloc_zeroed`](Self::alloc_zeroed), or an element of a slice of
    ///   `T`s.
    /// * The call that handed it out returned before this call, ordered by
    ///   a synchronising event: the address came through a release store
    ///   and an acquire load that saw it, a [`SharedRing`] message, a
    ///   [`SharedCell`], or `waitpid` on the process that allocated it.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    ///
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// let mailbox = arena.alloc(AtomicUsize::new(0));
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let mine = arena.alloc(AtomicU64::new(7));
    ///         mailbox.store(mine as *const AtomicU64 as usize, Ordering::Release);
    ///     });
    /// });
    /// let addr = mailbox.load(Ordering::Acquire);
    /// // SAFETY: `addr` is an `AtomicU64` the arena handed out, published
    /// // with a release store this acquire load saw.
    /// let theirs = unsafe { arena.ref_from_addr::<AtomicU64>(addr) }.unwrap();
    /// assert_eq!(theirs.load(Ordering::Relaxed), 7);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub unsafe fn ref_from_addr<T: SharedSafe>(&self, addr: usize) -> Option<&T> {
        let ptr = self.ptr_from_addr(addr)?;
        let offset = addr - self.cursor().start().addr().get();
        let fits = offset
            .checked_add(size_of::<T>())
            .is_some_and(|end| end <= self.capacity());
        if !fits || addr % align_of::<T>() != 0 {
            return None;
        }
        // SAFETY: in bounds and aligned (checked); a live, initialised `T`
        // whose initialisation happens before this call (the caller's
        // contract), reached only through `&` for as long as the arena.
        Some(unsafe { ptr.cast::<T>().as_ref() })
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
    #[must_use]
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
    #[must_use]
    #[inline]
    pub fn capacity(&self) -> usize {
        self.cursor().capacity()
    }

    /// Bytes still free (below the allocation limit, if one is set), as a
    /// snapshot.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4000)?;
    /// arena.alloc([0u8; 32]);
    /// assert_eq!(arena.remaining(), 4096 - 64 - 32);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[must_use]
    #[inline]
    pub fn remaining(&self) -> usize {
        self.cursor().remaining()
    }

    /// Caps the arena at `limit` bytes, as
    /// [`Arena::set_allocation_limit`](crate::Arena::set_allocation_limit)
    /// does. The limit lives in the shared header: it holds for every
    /// process sharing the arena, whichever set it.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(1 << 16)?;
    /// arena.set_allocation_limit(Some(64));
    /// arena.alloc([0u64; 8]);
    /// assert!(arena.try_alloc(0u8).is_err());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn set_allocation_limit(&self, limit: Option<usize>) {
        self.cursor().set_limit(limit);
    }

    /// The limit set by
    /// [`set_allocation_limit`](SharedArena::set_allocation_limit) in any
    /// process, if any (`Some(usize::MAX)` reads back as `None`).
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// assert_eq!(arena.allocation_limit(), None);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[must_use]
    #[inline]
    pub fn allocation_limit(&self) -> Option<usize> {
        self.cursor().limit()
    }

    /// The arena's counters, as [`Arena::stats`](crate::Arena::stats)
    /// gives them, for every process sharing it: a snapshot. A shared
    /// arena is never released, so `released` is 0.
    ///
    /// ```
    /// let arena = anon_arena::SharedArena::with_capacity(4096)?;
    /// arena.alloc(1u32);
    /// assert_eq!((arena.stats().allocated, arena.stats().high_water), (8, 8));
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    #[must_use]
    pub fn stats(&self) -> Stats {
        let cursor = self.cursor();
        Stats {
            allocated: cursor.used(),
            remaining: cursor.remaining(),
            limit: cursor.limit(),
            capacity: cursor.capacity(),
            high_water: cursor.peak(),
            released: 0,
        }
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

/// Panics for a slice of `len` `T`s that could not be allocated, with the
/// real request even when its size overflows.
#[cold]
#[inline(never)]
#[track_caller]
fn slice_failed<T>(len: usize, error: Error) -> ! {
    crate::alloc_methods::alloc_slice_failed::<T>("SharedArena", len, error)
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
        let first = arena.alloc(1u64) as *const u64 as usize;
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

    #[test]
    #[should_panic(
        expected = "SharedArena: cannot allocate 18446744073709551615 elements of 8 bytes \
                    (147573952589676412920 bytes) aligned to 8: \
                    size or alignment overflows the address space"
    )]
    #[cfg(target_pointer_width = "64")]
    fn an_overflowing_slice_panics_with_the_real_request() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        arena.alloc_slice_zeroed::<u64>(usize::MAX);
    }

    #[test]
    #[should_panic(expected = "SharedArena: cannot allocate a ring of 18446744073709551615 bytes")]
    #[cfg(target_pointer_width = "64")]
    fn an_overflowing_ring_panics_with_the_real_request() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        arena.alloc_ring(usize::MAX);
    }

    #[test]
    fn ref_from_addr_refuses_what_cannot_hold_a_t() {
        let arena = SharedArena::with_capacity(4096).unwrap();
        let value = arena.alloc(5u64);
        let addr = value as *const u64 as usize;
        // SAFETY: `addr` is the `u64` allocated just above.
        let found = unsafe { arena.ref_from_addr::<u64>(addr) }.unwrap();
        assert_eq!(*found, 5);
        // Each refusal happens before the contract would matter.
        // SAFETY: refused: misaligned.
        assert!(unsafe { arena.ref_from_addr::<u64>(addr + 4) }.is_none());
        let last = arena.cursor().start().addr().get() + arena.capacity() - 8;
        // SAFETY: refused: runs past the end.
        assert!(unsafe { arena.ref_from_addr::<[u64; 2]>(last) }.is_none());
        // SAFETY: refused: outside.
        assert!(unsafe { arena.ref_from_addr::<u64>(8) }.is_none());
    }
}
