//! [`Pool<T>`]: fixed-size slots for values of one type, in one anonymous
//! mapping, with O(1) allocation and O(1) free.
//!
//! `unsafe` is allowed here to move values into the raw slots [`RawPool`]
//! hands out, for the `Allocator` operations on them, and for the `Send`
//! impl; the borrow a [`PoolBox`] holds on its pool is what makes handing
//! those slots to safe code sound.
#![allow(unsafe_code)]

use core::alloc::Layout;
use core::any::type_name;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::panic::{RefUnwindSafe, UnwindSafe};
use core::ptr::{self, NonNull};

use crate::alloc_api::impl_allocator;
use crate::builder::Builder;
use crate::collections::ReportsRemaining;
use crate::error::Error;
use crate::exhausted::{self, Bounds, Exhausted};
use crate::math::{align_up, MIN_ALIGN};
use crate::raw::{RawAllocator, RawPool};
use crate::region::{self, Region};
use crate::stats::PoolStats;

mod boxed;

pub use boxed::PoolBox;

/// A pool of fixed-size slots for values of type `T`, carved from one
/// anonymous mapping: allocation and free are O(1), there is no
/// fragmentation, and nothing makes a system call after creation.
///
/// Capacity is counted in **slots**. Each slot is `size_of::<T>()` bytes
/// (at least 8) rounded up to its alignment, `align_of::<T>()` (at least 8).
/// A slot is first touched when it is first handed out, so a pool of
/// millions of slots costs no memory until it is used. Freed slots are
/// reused first, newest first, so a steady churn stays in cache.
///
/// [`alloc`](Pool::alloc) moves a value into a slot and returns a
/// [`PoolBox`], which derefs to the value and drops it and frees the slot
/// when it goes out of scope:
///
/// ```
/// use anon_arena::Pool;
///
/// #[derive(Debug)]
/// struct Conn { id: u32, open: bool }
///
/// let pool = Pool::with_capacity(1000);
/// let mut a = pool.alloc(Conn { id: 1, open: true });
/// let b = pool.alloc(Conn { id: 2, open: true });
/// a.open = false;
/// assert_eq!((a.id, a.open, b.id, pool.len()), (1, false, 2, 2));
/// drop(a); // `Conn` dropped, slot back in the pool
/// assert_eq!(pool.len(), 1);
/// ```
///
/// `&Pool<T>` is also an [`Allocator`](allocator_api2::alloc::Allocator)
/// for every layout that fits a slot, so `allocator_api2` boxes can build
/// linked structures in it:
///
/// ```
/// use allocator_api2::boxed::Box;
/// use anon_arena::Pool;
///
/// struct Node<'p> { value: u64, next: Option<Box<Node<'p>, &'p Pool<Node<'p>>>> }
///
/// let pool = Pool::with_capacity(16);
/// let tail = Box::new_in(Node { value: 2, next: None }, &pool);
/// let head = Box::new_in(Node { value: 1, next: Some(tail) }, &pool);
/// assert_eq!(head.value + head.next.as_ref().unwrap().value, 3);
/// assert_eq!(pool.len(), 2);
/// ```
///
/// A `Pool` can move to another thread when `T` can, but it cannot be
/// shared between threads (it is `Send` if `T: Send`, never `Sync`):
///
/// ```compile_fail
/// fn shared<S: Sync>(_: S) {}
/// shared(anon_arena::Pool::<u64>::with_capacity(8));
/// ```
///
/// ```compile_fail
/// fn sent<S: Send>(_: S) {}
/// sent(anon_arena::Pool::<std::rc::Rc<u8>>::with_capacity(8));
/// ```
///
/// A box cannot outlive its pool:
///
/// ```compile_fail
/// let pool = anon_arena::Pool::with_capacity(8);
/// let b = pool.alloc(1u8);
/// drop(pool);
/// assert_eq!(*b, 1);
/// ```
pub struct Pool<T> {
    /// Hands out the slots; they lie in `region` (nothing for a zero-sized
    /// `T`, whose pool is unbacked).
    raw: RawPool,
    /// The mapping the slots live in; unmapped when the pool drops. `None`
    /// for a zero-sized `T`.
    region: Option<Region>,
    /// What the `Allocator` impl does with a request it cannot serve.
    on_exhausted: Exhausted,
    /// The slots hold `T`s, but the pool never drops them (a `PoolBox`
    /// does), so this marks the type without claiming ownership for the
    /// drop checker: values may borrow the pool that holds them.
    _values: PhantomData<fn() -> T>,
}

// SAFETY: a `Pool` owns its mapping and every pointer in it points into that
// mapping, so moving the pool moves everything it refers to, including the
// `T`s in live slots — hence `T: Send`. No `PoolBox` or allocator borrow can
// exist while the pool moves. It is not `Sync`: the raw pool is made of
// `Cell`s.
unsafe impl<T: Send> Send for Pool<T> {}

// A panic cannot leave the free list half-updated: taking and returning a
// slot are a few stores with no user code between them. A `T` whose
// destructor panics leaks its slot, which is safe. Values are reached only
// through boxes, so the pool is as unwind-safe as its `T`.
impl<T: UnwindSafe> UnwindSafe for Pool<T> {}
impl<T: RefUnwindSafe> RefUnwindSafe for Pool<T> {}

impl<T> Pool<T> {
    /// Whether `T` is zero-sized: then the pool maps nothing and never fills.
    const IS_ZST: bool = size_of::<T>() == 0;

    /// The alignment of every slot: `align_of::<T>()`, at least 8.
    const SLOT_ALIGN: usize = if align_of::<T>() > MIN_ALIGN {
        align_of::<T>()
    } else {
        MIN_ALIGN
    };

    /// Bytes per slot: `size_of::<T>()`, at least 8, rounded up to
    /// [`SLOT_ALIGN`](Self::SLOT_ALIGN); 0 for a zero-sized `T`.
    const SLOT_SIZE: usize = if Self::IS_ZST {
        0
    } else {
        let size = if size_of::<T>() > MIN_ALIGN {
            size_of::<T>()
        } else {
            MIN_ALIGN
        };
        match align_up(size, Self::SLOT_ALIGN) {
            Some(rounded) => rounded,
            None => panic!("a type's size rounded to its alignment fits in usize"),
        }
    };

    /// A pool of exactly `slots` slots.
    ///
    /// # Panics
    ///
    /// When the mapping cannot be made or `slots` slots do not fit in the
    /// address space; the message names the type, the numbers and the OS
    /// error.
    ///
    /// ```
    /// let pool = anon_arena::Pool::<[u64; 4]>::with_capacity(10_000);
    /// assert_eq!(pool.capacity(), 10_000);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_capacity(slots: usize) -> Pool<T> {
        match Pool::try_with_capacity(slots) {
            Ok(pool) => pool,
            Err(error) => Pool::<T>::creation_failed(slots, error),
        }
    }

    /// Like [`with_capacity`](Pool::with_capacity), but returns an error
    /// when the mapping cannot be made.
    ///
    /// # Errors
    ///
    /// [`Error::MapFailed`] when the kernel refuses the mapping,
    /// [`Error::LayoutOverflow`] when `slots` slots do not fit in the
    /// address space.
    ///
    /// ```
    /// use anon_arena::{Error, Pool};
    ///
    /// assert!(Pool::<u64>::try_with_capacity(1 << 20).is_ok());
    /// assert_eq!(
    ///     Pool::<u64>::try_with_capacity(usize::MAX).unwrap_err(),
    ///     Error::LayoutOverflow
    /// );
    /// ```
    pub fn try_with_capacity(slots: usize) -> Result<Pool<T>, Error> {
        Pool::builder().slots(slots).build()
    }

    /// A [`Builder`] for a pool with region options (guard page, huge
    /// pages, populate, `/dev/zero` backing).
    ///
    /// ```
    /// let pool = anon_arena::Pool::<u64>::builder()
    ///     .slots(512)
    ///     .guard_pages(true)
    ///     .build()?;
    /// assert_eq!(pool.capacity(), 512);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn builder() -> Builder<Pool<T>> {
        Builder::new()
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn creation_failed(slots: usize, error: Error) -> ! {
        panic!(
            "Pool<{}>: cannot reserve {slots} slots of {} bytes: {error}",
            type_name::<T>(),
            Self::SLOT_SIZE
        )
    }

    /// Maps a region for `slots` slots with the builder's options.
    fn map(builder: &Builder<Pool<T>>, slots: usize) -> Result<Pool<T>, Error> {
        if Self::IS_ZST {
            return Ok(Pool {
                raw: RawPool::unbacked(),
                region: None,
                on_exhausted: builder.on_exhausted,
                _values: PhantomData,
            });
        }
        let footprint = RawPool::footprint(Self::SLOT_SIZE, slots).ok_or(Error::LayoutOverflow)?;
        // A region is page-aligned; a slot alignment above that needs room
        // to move the first slot up to it.
        let padding = Self::SLOT_ALIGN.saturating_sub(region::page_size());
        let len = footprint
            .checked_add(padding)
            .ok_or(Error::LayoutOverflow)?;
        let region = Region::map(&builder.options_with_len(len))?;
        let base = NonNull::new(region.as_ptr()).expect("a region is never at address 0");
        let addr = base.addr().get();
        // Cannot fail: `addr + padding` lies inside the region.
        let offset = align_up(addr, Self::SLOT_ALIGN).ok_or(Error::LayoutOverflow)? - addr;
        debug_assert!(offset <= padding);
        // SAFETY: `offset <= padding`, so the first slot and the footprint
        // after it lie inside the fresh (all-zero) region, which the pool
        // owns and accesses only through the raw pool; the start is aligned
        // to `SLOT_ALIGN` (>= 8), and `SLOT_SIZE` is a multiple of it.
        let raw = unsafe { RawPool::new(base.add(offset), Self::SLOT_SIZE, slots) };
        Ok(Pool {
            raw,
            region: Some(region),
            on_exhausted: builder.on_exhausted,
            _values: PhantomData,
        })
    }

    /// Moves `value` into a free slot and returns the box owning it.
    ///
    /// # Panics
    ///
    /// When every slot is live; the message names the type and the
    /// capacity. [`try_alloc`](Pool::try_alloc) hands the value back instead.
    ///
    /// ```
    /// let pool = anon_arena::Pool::with_capacity(4);
    /// let mut answer = pool.alloc(41u64);
    /// *answer += 1;
    /// assert_eq!(*answer, 42);
    /// ```
    ///
    /// Dropping the box at once would free the slot at once, so the result
    /// must be used:
    ///
    /// ```compile_fail
    /// #![deny(unused_must_use)]
    /// let pool = anon_arena::Pool::with_capacity(4);
    /// pool.alloc(41u64);
    /// ```
    #[must_use = "the box frees its slot (and drops the value) when it is dropped"]
    #[inline]
    #[track_caller]
    pub fn alloc(&self, value: T) -> PoolBox<'_, T> {
        match self.try_alloc(value) {
            Ok(boxed) => boxed,
            Err(_) => self.full(),
        }
    }

    /// Moves `value` into a free slot and returns the box owning it, or
    /// gives `value` back when every slot is live.
    ///
    /// # Errors
    ///
    /// `Err(value)` when the pool is full.
    ///
    /// ```
    /// let pool = anon_arena::Pool::with_capacity(1);
    /// let first = pool.try_alloc(String::from("kept")).unwrap();
    /// let refused = pool.try_alloc(String::from("handed back")).unwrap_err();
    /// assert_eq!((first.as_str(), refused.as_str()), ("kept", "handed back"));
    /// ```
    #[inline]
    pub fn try_alloc(&self, value: T) -> Result<PoolBox<'_, T>, T> {
        match self.take_slot() {
            Some(slot) => {
                // SAFETY: a slot just handed out: aligned for `T`, large
                // enough, and referenced by nothing else.
                unsafe { slot.write(value) };
                // SAFETY: the slot came from `take_slot` of this pool and
                // now holds a live `T` that nothing else owns.
                Ok(unsafe { PoolBox::from_slot(slot, self) })
            }
            None => Err(value),
        }
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn full(&self) -> ! {
        panic!(
            "Pool<{}>::alloc: all {} slots ({} bytes each) are in use, none left",
            type_name::<T>(),
            self.capacity(),
            Self::SLOT_SIZE
        )
    }

    /// Slots live now: values in boxes, leaked values and blocks handed out
    /// through the `Allocator` impl.
    ///
    /// ```
    /// let pool = anon_arena::Pool::with_capacity(8);
    /// let a = pool.alloc('a');
    /// let _b = pool.alloc('b');
    /// drop(a);
    /// assert_eq!(pool.len(), 1);
    /// ```
    #[must_use]
    #[inline]
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether no slot is live.
    ///
    /// ```
    /// let pool = anon_arena::Pool::with_capacity(8);
    /// assert!(pool.is_empty());
    /// let _x = pool.alloc(1i32);
    /// assert!(!pool.is_empty());
    /// ```
    #[must_use]
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many slots the pool has, live or not. For a zero-sized `T` the
    /// pool never fills, and this is `usize::MAX`.
    ///
    /// ```
    /// assert_eq!(anon_arena::Pool::<u32>::with_capacity(100).capacity(), 100);
    /// assert_eq!(anon_arena::Pool::<()>::with_capacity(0).capacity(), usize::MAX);
    /// ```
    #[must_use]
    #[inline]
    pub fn capacity(&self) -> usize {
        if Self::IS_ZST {
            usize::MAX
        } else {
            self.raw.capacity()
        }
    }

    /// Bytes per slot: `size_of::<T>()`, at least 8, rounded up to the slot
    /// alignment (`align_of::<T>()`, at least 8); 0 for a zero-sized `T`.
    /// Any layout at most this large, and aligned to at most the slot
    /// alignment, can be allocated through the `Allocator` impl.
    ///
    /// ```
    /// use anon_arena::Pool;
    /// assert_eq!(Pool::<u8>::with_capacity(1).slot_size(), 8);
    /// assert_eq!(Pool::<[u8; 9]>::with_capacity(1).slot_size(), 16);
    /// assert_eq!(Pool::<u128>::with_capacity(1).slot_size(), 16);
    /// ```
    #[must_use]
    #[inline]
    pub fn slot_size(&self) -> usize {
        Self::SLOT_SIZE
    }

    /// The pool's counters in slots (live, capacity, touched) and its slot
    /// size, as a [`PoolStats`] whose `Display` fits a log line.
    ///
    /// ```
    /// let pool = anon_arena::Pool::<[u8; 24]>::with_capacity(1000);
    /// let boxes: Vec<_> = (0..10).map(|i| pool.alloc([i; 24])).collect();
    /// drop(boxes);
    /// let _again = pool.alloc([0; 24]);
    /// assert_eq!(pool.stats().to_string(), "1 of 1000 slots live (24 bytes each), 10 touched");
    /// ```
    #[must_use]
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            live: self.len(),
            capacity: self.capacity(),
            touched: if Self::IS_ZST { 0 } else { self.raw.touched() },
            slot_size: Self::SLOT_SIZE,
        }
    }

    /// Panics for a refused `Allocator` request under [`Exhausted::Panic`]:
    /// one that does not fit a slot, or any when every slot is live.
    #[cold]
    #[inline(never)]
    fn exhausted_panic(&self, layout: Layout) -> ! {
        let error = Error::Exhausted {
            requested: layout.size(),
            remaining: self.largest_free_block(),
        };
        let bounds = Bounds {
            capacity: self.capacity(),
            limit: None,
            unit: "slots",
        };
        exhausted::refused(
            &format_args!("Pool<{}>", type_name::<T>()),
            layout,
            error,
            bounds,
        )
    }

    /// The largest block the `Allocator` impl can hand out now: a slot, or
    /// nothing when every slot is live.
    fn largest_free_block(&self) -> usize {
        if self.len() < self.capacity() {
            Self::SLOT_SIZE
        } else {
            0
        }
    }

    /// A slot for one `T`, or `None` when full. Zero-sized values need no
    /// slot: they are only counted.
    #[inline(always)]
    fn take_slot(&self) -> Option<NonNull<T>> {
        if Self::IS_ZST {
            self.raw.count_unbacked_alloc();
            return Some(NonNull::dangling());
        }
        self.raw.alloc().map(NonNull::cast)
    }

    /// Gives back a slot from [`take_slot`](Self::take_slot).
    ///
    /// # Safety
    ///
    /// * `slot` came from `take_slot` of this pool and is not used again;
    ///   its value has been dropped or moved out.
    #[inline(always)]
    pub(crate) unsafe fn give_back(&self, slot: NonNull<T>) {
        if Self::IS_ZST {
            self.raw.count_unbacked_free();
        } else {
            // SAFETY: the caller's duties are `free`'s.
            unsafe { self.raw.free(slot.cast()) }
        }
    }

    /// Whether a block of `layout` fits in one slot.
    #[inline(always)]
    fn fits(layout: Layout) -> bool {
        layout.size() <= Self::SLOT_SIZE && layout.align() <= Self::SLOT_ALIGN
    }
}

impl<T> fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .field("slot_size", &self.slot_size())
            .field("touched_slots", &self.raw.touched())
            .field("region", &self.region)
            .finish()
    }
}

/// An aligned, dangling, non-null pointer: the block of a zero-sized layout.
#[inline(always)]
fn dangling(layout: Layout) -> NonNull<u8> {
    // A `Layout` alignment is a nonzero power of two.
    NonNull::new(ptr::without_provenance_mut(layout.align())).unwrap_or(NonNull::dangling())
}

// SAFETY: a block is a whole slot handed out by the raw pool (disjoint from
// every other live slot, aligned to `SLOT_ALIGN >= layout.align()`, at least
// `layout.size()` bytes) or, for a zero-sized layout, a dangling aligned
// pointer that owns nothing. Slots live until freed or until the pool drops,
// which no `&Pool` outlives. Resizes stay in place, so contents are kept.
unsafe impl<T> RawAllocator for Pool<T> {
    #[inline(always)]
    fn allocate(&self, layout: Layout) -> Option<NonNull<u8>> {
        if layout.size() == 0 {
            return Some(dangling(layout));
        }
        if !Self::fits(layout) {
            return None;
        }
        self.raw.alloc()
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Option<NonNull<u8>> {
        if layout.size() == 0 {
            return Some(dangling(layout));
        }
        if !Self::fits(layout) {
            return None;
        }
        self.raw.alloc_zeroed(layout.size())
    }

    #[inline(always)]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if layout.size() != 0 {
            // SAFETY: a nonzero block of this allocator is a live slot
            // (caller's duty: it was allocated here and is not used again).
            unsafe { self.raw.free(ptr) }
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
        if !Self::fits(new) {
            return None;
        }
        if old.size() == 0 {
            // Nothing to keep: the old block owns no memory.
            return if zeroed {
                self.allocate_zeroed(new)
            } else {
                self.allocate(new)
            };
        }
        // In place, through the pool's provenance: the caller's pointer may
        // cover only the old block.
        let slot = self.raw.own(ptr);
        if zeroed {
            // SAFETY: `slot` is a live slot of `SLOT_SIZE >= new.size()` bytes
            // (it fits), and the bytes past `old.size()` are now the caller's.
            unsafe { ptr::write_bytes(slot.as_ptr().add(old.size()), 0, new.size() - old.size()) };
        }
        Some(slot)
    }

    #[inline]
    unsafe fn shrink(&self, ptr: NonNull<u8>, old: Layout, new: Layout) -> Option<NonNull<u8>> {
        if new.size() == 0 {
            // SAFETY: forwarded caller contract; the block is dead once it
            // is replaced by a zero-sized one.
            unsafe { self.deallocate(ptr, old) };
            return Some(dangling(new));
        }
        // In place: the slot is aligned to `SLOT_ALIGN`, so any alignment
        // that fits is met. Handed back with the pool's provenance, as in
        // `grow`.
        Self::fits(new).then(|| self.raw.own(ptr))
    }

    #[inline]
    fn refused(&self, layout: Layout) {
        if self.on_exhausted == Exhausted::Panic {
            self.exhausted_panic(layout);
        }
    }
}

impl_allocator!(['a, T] &'a Pool<T>);

/// A slot when one is free, 0 when every slot is live.
impl<T> ReportsRemaining for &Pool<T> {
    #[inline]
    fn remaining_bytes(&self) -> Option<usize> {
        Some(self.largest_free_block())
    }
}

impl<T> Builder<Pool<T>> {
    /// The pool's capacity in slots (exact; no rounding). Without it the
    /// builder reserves as many slots as fit in [`Arena::new`]'s default
    /// address space.
    ///
    /// [`Arena::new`]: crate::Arena::new
    ///
    /// ```
    /// let pool = anon_arena::Pool::<u64>::builder().slots(3).build()?;
    /// assert_eq!(pool.capacity(), 3);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn slots(mut self, slots: usize) -> Self {
        self.size = Some(slots);
        self
    }

    /// What the `Allocator` impl does with a request it cannot serve (one
    /// larger than a slot, or any when every slot is live): return
    /// `AllocError` ([`Exhausted::Error`], the default) or panic with the
    /// numbers ([`Exhausted::Panic`]), so that a collection in the pool
    /// unwinds instead of aborting. [`Pool::alloc`] panics under either.
    ///
    /// ```
    /// use anon_arena::allocator_api2::boxed::Box;
    /// use anon_arena::{Exhausted, Pool};
    ///
    /// let pool = Pool::<u64>::builder().slots(1).on_exhausted(Exhausted::Panic).build()?;
    /// let first = Box::new_in(1u64, &pool);
    /// let second = std::panic::catch_unwind(|| Box::new_in(2u64, &pool));
    /// assert!(second.is_err(), "no slot left: a panic, not an abort");
    /// assert_eq!(*first, 1);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn on_exhausted(mut self, on_exhausted: Exhausted) -> Self {
        self.on_exhausted = on_exhausted;
        self
    }

    /// Maps the region and makes the pool.
    ///
    /// # Errors
    ///
    /// [`Error::MapFailed`] when the kernel refuses the mapping (without
    /// `.slots(n)`: every default size), [`Error::LayoutOverflow`] when the
    /// slots do not fit in the address space.
    ///
    /// ```
    /// let pool = anon_arena::Pool::<[u8; 64]>::builder().populate(true).slots(64).build()?;
    /// assert_eq!(pool.capacity(), 64);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn build(self) -> Result<Pool<T>, Error> {
        // Cannot divide by zero for a zero-sized `T`: `map` ignores the count.
        let slots_in = |bytes: usize| bytes.checked_div(Pool::<T>::SLOT_SIZE).unwrap_or(0);
        self.build_sized(slots_in, |slots| Pool::map(&self, slots))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_sizes_follow_the_rule() {
        #[repr(align(32))]
        struct Wide(#[allow(dead_code)] u8);
        assert_eq!(Pool::<u8>::SLOT_SIZE, 8);
        assert_eq!(Pool::<[u8; 12]>::SLOT_SIZE, 16);
        assert_eq!(Pool::<[u64; 8]>::SLOT_SIZE, 64);
        assert_eq!(
            (Pool::<Wide>::SLOT_SIZE, Pool::<Wide>::SLOT_ALIGN),
            (32, 32)
        );
        assert_eq!(Pool::<()>::SLOT_SIZE, 0);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "symbolic alignment only knows the mapping is page-aligned, not that the address we moved up to is"
    )]
    fn page_overaligned_slots_are_aligned() {
        #[repr(align(16384))]
        struct Huge(u8);
        let pool = Pool::with_capacity(3);
        let boxes = [
            pool.alloc(Huge(1)),
            pool.alloc(Huge(2)),
            pool.alloc(Huge(3)),
        ];
        for b in &boxes {
            assert_eq!(&**b as *const Huge as usize % 16384, 0);
        }
        assert_eq!(boxes.iter().map(|b| b.0).sum::<u8>(), 6);
    }

    #[test]
    fn untouched_slots_stay_untouched() {
        let pool = Pool::<u64>::with_capacity(1000);
        let a = pool.alloc(1);
        drop(a);
        let _b = pool.alloc(2);
        assert_eq!(pool.raw.touched(), 1);
    }

    #[test]
    #[should_panic(expected = "Pool<u16>::alloc: all 2 slots (8 bytes each) are in use")]
    fn full_pool_panics_with_numbers() {
        let pool = Pool::<u16>::with_capacity(2);
        let _a = pool.alloc(1);
        let _b = pool.alloc(2);
        let _c = pool.alloc(3);
    }

    #[test]
    #[should_panic(expected = "Pool<[u8; 64]>: cannot reserve")]
    fn impossible_capacity_panics_with_numbers() {
        let _ = Pool::<[u8; 64]>::with_capacity(usize::MAX / 8);
    }
}
