//! [`RawPool`]: the fixed-size slot allocator behind `Pool<T>`.
//!
//! Slots come from two places: a bump pointer over slots never handed out,
//! and an intrusive LIFO stack of freed slots. A slot is first written when
//! it is first handed out, so a pool of millions of slots costs no memory
//! until it is used, and the newest freed slot is reused first, so a steady
//! churn stays in cache.
//!
//! The top of the stack, the most recently freed slot, is held in its own
//! cell (`last_freed`); the rest is a list threaded through the slots (the
//! first word of a listed slot points to the next one). That keeps the
//! commonest pattern, free one and allocate one, down to a store and a load
//! of `last_freed`: no write into the slot, no counter update, and so no
//! chain of memory dependencies from one operation to the next (the
//! compiler cannot keep the pool's cells in registers, because slot writes
//! might alias them).
//!
//! Debug builds keep one bit per slot, set while the slot is live, in a
//! bitmap placed right after the slots (so it too is touched only as slots
//! are used), and check every free against it: a pointer that is not a slot
//! of this pool, or a slot freed twice, panics with the slot's address.
//! Release builds have neither the bitmap nor the checks.
//!
//! With `cfg(asan)` a slot that is not handed out is poisoned: never-used
//! slots a chunk at a time ahead of the bump pointer (the same lazy
//! [`asan::Shadow`] as a bump cursor's), a freed slot whole as it is freed.
//! The list link is written with its word unpoisoned just for the write,
//! and read only once its slot is handed out again (unpoisoned), so a stale
//! `PoolBox` pointer is reported even on the link word. A slot is
//! unpoisoned whole when handed out, rounding tail included: the pool does
//! not know the size of the value its caller puts there.

use core::cell::Cell;
use core::ptr::{self, NonNull};

use crate::asan;

/// Bytes of a listed slot that hold the link to the next one.
const LINK: usize = core::mem::size_of::<Option<NonNull<u8>>>();

/// A fixed-size slot allocator over memory it does not own.
///
/// Invariants, checked by [`debug_assert_invariants`](Self::debug_assert_invariants)
/// after every mutation:
///
/// * `start <= fresh <= end`, all derived from the same mapping, and
///   `fresh - start` is a whole number of slots;
/// * `last_freed` and every slot on the free list lie in `start..fresh` on
///   a slot boundary, are not live, and appear once (`last_freed` is never
///   also on the list);
/// * `unlisted + (slots on the free list) == (fresh - start) / slot_size`,
///   so `unlisted` equals the number of slots handed out exactly when the
///   list is empty;
/// * the live slots number `unlisted - (1 if last_freed is set)`;
/// * (debug builds) the bit of a slot is set exactly when the slot is live.
pub(crate) struct RawPool {
    /// The first slot; aligned to the pool's slot alignment (at least 8).
    start: NonNull<u8>,
    /// One past the last slot: `start + capacity * slot_size`.
    end: NonNull<u8>,
    /// Bytes per slot: a multiple of 8, at least 8, and a multiple of the
    /// slot alignment.
    slot_size: usize,
    /// How many slots `start..end` holds.
    capacity: usize,
    /// The first slot never handed out; slots at or above it are untouched.
    fresh: Cell<NonNull<u8>>,
    /// The most recently freed slot, the top of the free stack; its
    /// contents are not used.
    last_freed: Cell<Option<NonNull<u8>>>,
    /// The rest of the free stack: the newest listed slot, whose first word
    /// holds the next one.
    free: Cell<Option<NonNull<u8>>>,
    /// Slots handed out and not on the list: the live ones plus
    /// `last_freed` (for an unbacked pool: blocks of a zero-sized type
    /// counted by the caller).
    unlisted: Cell<usize>,
    /// One bit per slot, set while the slot is live.
    #[cfg(debug_assertions)]
    live_bits: NonNull<u64>,
    /// What ASan is told is live (zero-sized unless `cfg(asan)`): the
    /// slots `start..end` that are not, poisoned, and unpoisoned on drop.
    shadow: asan::Shadow,
}

impl RawPool {
    /// Bytes of memory a pool of `capacity` slots of `slot_size` bytes
    /// needs (in debug builds, with its live-slot bitmap); `None` on
    /// overflow.
    pub(crate) const fn footprint(slot_size: usize, capacity: usize) -> Option<usize> {
        let Some(slots) = slot_size.checked_mul(capacity) else {
            return None;
        };
        if cfg!(debug_assertions) {
            // Cannot overflow: `capacity.div_ceil(64) * 8 <= capacity / 8 + 8`.
            slots.checked_add(capacity.div_ceil(64) * 8)
        } else {
            Some(slots)
        }
    }

    /// A pool of `capacity` slots of `slot_size` bytes starting at `start`.
    ///
    /// # Safety
    ///
    /// * `start..start + footprint(slot_size, capacity)` is readable and
    ///   writable memory, all zero, that stays valid and is accessed only
    ///   through this pool for as long as the pool or any slot it hands out
    ///   is in use.
    /// * `start` is aligned to the slot alignment the caller relies on, and
    ///   to at least 8; `slot_size` is a multiple of that alignment and of 8,
    ///   and at least 8.
    pub(crate) unsafe fn new(start: NonNull<u8>, slot_size: usize, capacity: usize) -> Self {
        debug_assert!(slot_size >= 8 && slot_size % 8 == 0);
        debug_assert_eq!(start.addr().get() % 8, 0);
        // SAFETY: the caller guarantees the footprint, which includes
        // `capacity * slot_size` bytes, lies in the memory.
        let end = unsafe { start.add(slot_size * capacity) };
        let pool = RawPool {
            start,
            end,
            slot_size,
            capacity,
            fresh: Cell::new(start),
            last_freed: Cell::new(None),
            free: Cell::new(None),
            unlisted: Cell::new(0),
            // The bitmap follows the slots; `end` is 8-aligned because
            // `start` and `slot_size` are.
            #[cfg(debug_assertions)]
            live_bits: end.cast::<u64>(),
            shadow: asan::Shadow::new(start),
        };
        pool.debug_assert_invariants();
        pool
    }

    /// A pool without memory and without slots, for zero-sized types: it
    /// only counts the blocks its caller hands out
    /// ([`count_unbacked_alloc`](Self::count_unbacked_alloc)).
    pub(crate) const fn unbacked() -> Self {
        RawPool {
            start: NonNull::dangling(),
            end: NonNull::dangling(),
            slot_size: 8,
            capacity: 0,
            fresh: Cell::new(NonNull::dangling()),
            last_freed: Cell::new(None),
            free: Cell::new(None),
            unlisted: Cell::new(0),
            #[cfg(debug_assertions)]
            live_bits: NonNull::dangling(),
            shadow: asan::Shadow::new(NonNull::dangling()),
        }
    }

    /// Hands out a slot: the most recently freed one, else the next fresh
    /// one; `None` when every slot is live.
    #[inline(always)]
    pub(crate) fn alloc(&self) -> Option<NonNull<u8>> {
        if let Some(slot) = self.last_freed.take() {
            self.shadow.handed_out(slot, self.slot_size, self.end);
            // Stays unlisted: no counter changes.
            self.debug_mark(slot, true);
            self.debug_assert_invariants();
            return Some(slot);
        }
        self.alloc_listed()
    }

    /// Hands out the newest listed slot, else a fresh one.
    #[inline(always)]
    fn alloc_listed(&self) -> Option<NonNull<u8>> {
        if let Some(slot) = self.free.get() {
            // Before the link is read: the slot is the caller's from here.
            self.shadow.handed_out(slot, self.slot_size, self.end);
            // SAFETY: a listed slot lies inside the memory, is 8-aligned and
            // at least 8 bytes, and its first word holds the next listed
            // slot, written by `push_listed`.
            let next = unsafe { slot.cast::<Option<NonNull<u8>>>().read() };
            self.free.set(next);
            self.unlisted.set(self.unlisted.get() + 1);
            self.debug_mark(slot, true);
            self.debug_assert_invariants();
            return Some(slot);
        }
        self.alloc_fresh()
    }

    /// Hands out the next never-used slot, if any.
    #[inline(always)]
    fn alloc_fresh(&self) -> Option<NonNull<u8>> {
        let slot = self.fresh.get();
        if slot == self.end {
            return None;
        }
        // SAFETY: `slot < end` and `end - slot` is a whole number of slots,
        // so `slot + slot_size <= end` stays inside the memory.
        self.fresh.set(unsafe { slot.add(self.slot_size) });
        self.shadow.handed_out(slot, self.slot_size, self.end);
        self.unlisted.set(self.unlisted.get() + 1);
        self.debug_mark(slot, true);
        self.debug_assert_invariants();
        Some(slot)
    }

    /// [`alloc`](Self::alloc), with the slot's first `len` bytes reading as
    /// zero. A fresh slot has never been written, so only a reused one is
    /// cleared.
    #[inline]
    pub(crate) fn alloc_zeroed(&self, len: usize) -> Option<NonNull<u8>> {
        debug_assert!(len <= self.slot_size);
        if self.last_freed.get().is_none() && self.free.get().is_none() {
            return self.alloc_fresh();
        }
        let slot = self.alloc()?;
        // SAFETY: `len <= slot_size` bytes of a slot just handed out.
        unsafe { ptr::write_bytes(slot.as_ptr(), 0, len) };
        Some(slot)
    }

    /// Gives a slot back; it is the next one [`alloc`](Self::alloc) returns.
    ///
    /// # Safety
    ///
    /// * `slot` was returned by [`alloc`](Self::alloc) or
    ///   [`alloc_zeroed`](Self::alloc_zeroed) of this pool and has not been
    ///   freed since.
    /// * Its contents are dead: nothing reads or writes it afterwards.
    ///
    /// Debug builds check the first duty and panic when it is broken.
    #[inline(always)]
    pub(crate) unsafe fn free(&self, slot: NonNull<u8>) {
        // The slot's first word will hold the list link and the slot will
        // be handed out whole again: take the pool's provenance.
        let slot = self.own(slot);
        self.debug_check_free(slot);
        self.debug_mark(slot, false);
        self.shadow.given_back(slot, self.slot_size);
        if let Some(older) = self.last_freed.replace(Some(slot)) {
            // SAFETY: `older` was freed before (a slot of this pool, not
            // live, inside the memory, 8-aligned and at least 8 bytes), so
            // its first word may hold the list link.
            unsafe { self.push_listed(older) };
        }
        self.debug_assert_invariants();
    }

    /// `slot`'s address with the pool's own provenance (that of `start`).
    ///
    /// A caller's pointer may carry narrower provenance than its slot (a
    /// `Box<u8>` covers one byte): whatever the pool writes past it, or
    /// hands back for a resized block, goes through a pointer derived from
    /// the pool's memory instead.
    #[inline(always)]
    pub(crate) fn own(&self, slot: NonNull<u8>) -> NonNull<u8> {
        self.start.with_addr(slot.addr())
    }

    /// Moves a freed slot onto the list.
    ///
    /// # Safety
    ///
    /// * `slot` is a slot of this pool that is neither live, listed, nor
    ///   `last_freed`.
    #[inline(always)]
    unsafe fn push_listed(&self, slot: NonNull<u8>) {
        // The slot is poisoned since its free; open the link word for the
        // write only.
        asan::unpoison(slot, LINK);
        // SAFETY: the caller's duties: the slot is ours and dead, so its
        // first word may hold the link.
        unsafe { slot.cast::<Option<NonNull<u8>>>().write(self.free.get()) };
        asan::poison(slot, LINK);
        self.free.set(Some(slot));
        self.unlisted.set(self.unlisted.get() - 1);
    }

    /// Counts one more live block of an [`unbacked`](Self::unbacked) pool.
    #[inline(always)]
    pub(crate) fn count_unbacked_alloc(&self) {
        self.unlisted.set(self.unlisted.get() + 1);
    }

    /// Counts one block of an [`unbacked`](Self::unbacked) pool as freed.
    ///
    /// # Panics
    ///
    /// In debug builds, when no block is live.
    #[inline(always)]
    pub(crate) fn count_unbacked_free(&self) {
        debug_assert!(
            self.unlisted.get() > 0,
            "Pool: a zero-sized block was freed while none is live (double free)"
        );
        self.unlisted.set(self.unlisted.get() - 1);
    }

    /// Slots handed out and not freed.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.unlisted.get() - usize::from(self.last_freed.get().is_some())
    }

    /// Slots in the pool.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Slots ever handed out: the ones whose memory has been touched.
    #[inline]
    pub(crate) fn touched(&self) -> usize {
        (self.fresh.get().addr().get() - self.start.addr().get()) / self.slot_size
    }

    /// The slot index of `ptr` if it is the start of a slot handed out at
    /// least once (below `fresh`).
    fn slot_index(&self, ptr: NonNull<u8>) -> Option<usize> {
        let offset = ptr.addr().get().checked_sub(self.start.addr().get())?;
        let below_fresh = ptr < self.fresh.get();
        (below_fresh && offset % self.slot_size == 0).then_some(offset / self.slot_size)
    }

    /// The word of the live bitmap holding slot `index`, and its bit.
    #[cfg(debug_assertions)]
    fn live_bit(&self, index: usize) -> (NonNull<u64>, u64) {
        debug_assert!(index < self.capacity);
        // SAFETY: the bitmap has `capacity.div_ceil(64)` words after `end`
        // (the footprint `new` was promised), and `index < capacity`.
        (unsafe { self.live_bits.add(index / 64) }, 1 << (index % 64))
    }

    /// Records in the debug bitmap that `slot` became live or free.
    #[inline(always)]
    #[cfg_attr(not(debug_assertions), allow(unused_variables))]
    fn debug_mark(&self, slot: NonNull<u8>, live: bool) {
        #[cfg(debug_assertions)]
        {
            let index = self
                .slot_index(slot)
                .expect("a slot just handed out or freed");
            let (word, bit) = self.live_bit(index);
            // SAFETY: the word lies in the bitmap, which only this pool uses.
            unsafe {
                let bits = word.read();
                debug_assert_eq!(bits & bit != 0, !live, "slot {index} changed state twice");
                word.write(if live { bits | bit } else { bits & !bit });
            }
        }
    }

    /// Panics unless `slot` is a live slot of this pool (debug builds only).
    #[inline(always)]
    #[cfg_attr(not(debug_assertions), allow(unused_variables))]
    fn debug_check_free(&self, slot: NonNull<u8>) {
        #[cfg(debug_assertions)]
        {
            let Some(index) = self.slot_index(slot) else {
                self.foreign_pointer(slot)
            };
            let (word, bit) = self.live_bit(index);
            // SAFETY: the word lies in the bitmap, which only this pool uses.
            if unsafe { word.read() } & bit == 0 {
                self.double_free(slot, index);
            }
        }
    }

    #[cfg(debug_assertions)]
    #[cold]
    #[inline(never)]
    fn foreign_pointer(&self, ptr: NonNull<u8>) -> ! {
        panic!(
            "Pool: deallocate of {ptr:p}, which is not a slot this pool handed out \
             (slots of {} bytes at {:p}..{:p}, {} handed out so far)",
            self.slot_size,
            self.start,
            self.end,
            self.touched()
        )
    }

    #[cfg(debug_assertions)]
    #[cold]
    #[inline(never)]
    fn double_free(&self, slot: NonNull<u8>, index: usize) -> ! {
        panic!("Pool: double free of slot {index} at {slot:p}: it is already free")
    }

    /// Checks the invariants written on the struct (debug builds only; the
    /// free list is checked at its head, not walked).
    #[inline(always)]
    pub(crate) fn debug_assert_invariants(&self) {
        if cfg!(debug_assertions) && self.capacity > 0 {
            let fresh = self.fresh.get();
            debug_assert!(self.start <= fresh && fresh <= self.end);
            let used = fresh.addr().get() - self.start.addr().get();
            debug_assert_eq!(used % self.slot_size, 0, "fresh is off a slot boundary");
            let handed_out = used / self.slot_size;
            let unlisted = self.unlisted.get();
            debug_assert!(unlisted <= handed_out);
            debug_assert_eq!(self.free.get().is_none(), unlisted == handed_out);
            if let Some(last) = self.last_freed.get() {
                debug_assert!(unlisted > 0);
                debug_assert!(self.slot_index(last).is_some(), "last freed off a slot");
                debug_assert_ne!(self.free.get(), Some(last), "last freed also listed");
            }
            if let Some(head) = self.free.get() {
                debug_assert!(self.slot_index(head).is_some(), "free list head off a slot");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::{Region, RegionOptions};

    struct Fixture {
        pool: RawPool,
        _region: Region,
    }

    fn fixture(slot_size: usize, capacity: usize) -> Fixture {
        let len = RawPool::footprint(slot_size, capacity).unwrap();
        let region = Region::map(&RegionOptions::new(len)).unwrap();
        let start = NonNull::new(region.as_ptr()).unwrap();
        // SAFETY: a fresh, zero, page-aligned mapping of at least the
        // footprint, used only through the pool.
        let pool = unsafe { RawPool::new(start, slot_size, capacity) };
        Fixture {
            pool,
            _region: region,
        }
    }

    #[test]
    fn hands_out_fresh_slots_in_order_then_runs_out() {
        let f = fixture(16, 3);
        let slots: [_; 3] = core::array::from_fn(|_| f.pool.alloc().unwrap().addr().get());
        assert_eq!([slots[1] - slots[0], slots[2] - slots[1]], [16, 16]);
        assert!(f.pool.alloc().is_none());
        assert_eq!(
            (f.pool.len(), f.pool.capacity(), f.pool.touched()),
            (3, 3, 3)
        );
    }

    #[test]
    fn reuses_freed_slots_newest_first() {
        let f = fixture(8, 4);
        let a = f.pool.alloc().unwrap();
        let b = f.pool.alloc().unwrap();
        // SAFETY: both are live slots of this pool, dead from here on.
        unsafe {
            f.pool.free(a);
            f.pool.free(b);
        }
        assert_eq!(f.pool.len(), 0);
        assert_eq!(f.pool.alloc(), Some(b));
        assert_eq!(f.pool.alloc(), Some(a));
        assert_eq!(f.pool.touched(), 2, "reuse does not take fresh slots");
    }

    #[test]
    fn a_long_run_of_frees_comes_back_in_reverse() {
        let f = fixture(8, 64);
        let slots: Vec<_> = (0..64).map(|_| f.pool.alloc().unwrap()).collect();
        for (freed, &slot) in slots.iter().enumerate() {
            // SAFETY: each is a live slot of this pool, dead from here on.
            unsafe { f.pool.free(slot) };
            assert_eq!(f.pool.len(), 63 - freed);
        }
        for (taken, &slot) in slots.iter().rev().enumerate() {
            assert_eq!(f.pool.alloc(), Some(slot));
            assert_eq!(f.pool.len(), taken + 1);
        }
        assert!(f.pool.alloc().is_none());
    }

    #[test]
    fn free_one_alloc_one_reuses_the_same_slot() {
        let f = fixture(8, 4);
        let a = f.pool.alloc().unwrap();
        let _b = f.pool.alloc().unwrap();
        for _ in 0..10 {
            // SAFETY: `a` is live here, dead until handed out again.
            unsafe { f.pool.free(a) };
            assert_eq!(f.pool.len(), 1);
            assert_eq!(f.pool.alloc(), Some(a));
            assert_eq!(f.pool.len(), 2);
        }
        assert_eq!(f.pool.touched(), 2);
    }

    #[test]
    fn zeroed_clears_reused_slots_only_up_to_len() {
        let f = fixture(16, 2);
        let slot = f.pool.alloc_zeroed(16).unwrap();
        // SAFETY: a live 16-byte slot.
        let bytes = unsafe { core::slice::from_raw_parts_mut(slot.as_ptr(), 16) };
        assert!(bytes.iter().all(|&b| b == 0), "fresh slots are zero");
        bytes.fill(0xAB);
        // SAFETY: live, dead from here on.
        unsafe { f.pool.free(slot) };
        let again = f.pool.alloc_zeroed(12).unwrap();
        assert_eq!(again, slot);
        // SAFETY: a live 16-byte slot.
        let bytes = unsafe { core::slice::from_raw_parts(again.as_ptr(), 16) };
        assert!(bytes[..12].iter().all(|&b| b == 0));
        assert_eq!(&bytes[12..], &[0xAB; 4]);
    }

    #[test]
    fn zero_capacity_never_hands_out() {
        let f = fixture(8, 0);
        assert!(f.pool.alloc().is_none());
        assert!(f.pool.alloc_zeroed(8).is_none());
    }

    #[test]
    fn unbacked_only_counts() {
        let pool = RawPool::unbacked();
        assert!(pool.alloc().is_none());
        pool.count_unbacked_alloc();
        pool.count_unbacked_alloc();
        pool.count_unbacked_free();
        assert_eq!((pool.len(), pool.capacity()), (1, 0));
    }

    #[test]
    fn footprint_is_checked() {
        assert_eq!(RawPool::footprint(usize::MAX / 2, 3), None);
        let bitmap = if cfg!(debug_assertions) { 16 } else { 0 };
        assert_eq!(RawPool::footprint(64, 100), Some(6400 + bitmap));
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "double free of slot 1")]
    fn debug_build_catches_double_free() {
        let f = fixture(8, 4);
        let _a = f.pool.alloc().unwrap();
        let b = f.pool.alloc().unwrap();
        // SAFETY: deliberately broken for the second call: the debug check
        // panics before the list is touched.
        unsafe {
            f.pool.free(b);
            f.pool.free(b);
        }
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "is not a slot this pool handed out")]
    fn debug_build_catches_a_pointer_between_slots() {
        let f = fixture(16, 4);
        let a = f.pool.alloc().unwrap();
        // SAFETY: deliberately broken: the debug check panics first.
        unsafe { f.pool.free(a.add(8)) };
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "is not a slot this pool handed out")]
    fn debug_build_catches_a_foreign_pointer() {
        let f = fixture(8, 4);
        let _a = f.pool.alloc().unwrap();
        let mut elsewhere = 0u64;
        // SAFETY: deliberately broken: the debug check panics first.
        unsafe { f.pool.free(NonNull::from(&mut elsewhere).cast()) };
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "is not a slot this pool handed out")]
    fn debug_build_catches_a_never_used_slot() {
        let f = fixture(8, 4);
        let a = f.pool.alloc().unwrap();
        // SAFETY: deliberately broken: slot 1 was never handed out.
        unsafe { f.pool.free(a.add(8)) };
    }
}
