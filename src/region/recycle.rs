//! Mappings of dropped arenas, kept for the next arena of the same shape.
//!
//! A new arena's pages cost a page fault each on first touch (about 1.5 µs
//! per 4 KiB on the reference VM), while glibc hands a freed block straight
//! back to the next `malloc` with its pages still resident. A program that
//! makes a fresh arena per input (a parser per document, a fuzzer per
//! iteration) would pay the faults again and again. So, like `free`, a
//! dropped arena's mapping is parked here instead of unmapped, with its
//! first few MiB still resident and a note of how far it was written, and
//! the next arena asking for a mapping of the same shape takes it: no
//! `mmap`, no `munmap`, no faults. The cursor zeroes the written prefix on
//! `allocate_zeroed` as it does after a `reset`.
//!
//! The store is [`SLOTS`] slots, each a [`Parked`] record behind a
//! three-state flag, so it works without `std` and never blocks: whoever
//! moves a slot's flag to `BUSY` owns the slot until it moves it back, and
//! anyone who finds a slot busy passes it by. The records live here, not
//! in the mappings, so a stray write through a dangling pointer into a
//! parked mapping cannot make the store unmap the wrong memory.

use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

use crate::asan;

/// How many dropped mappings are kept at most.
const SLOTS: usize = 4;

/// Resident bytes a parked mapping keeps, past its small-paged lead: the
/// rest goes back to the OS when it is parked. With [`SLOTS`] this bounds
/// what the store holds to about 33 MiB, glibc's order of magnitude (its
/// trim threshold grows to 64 MiB).
pub(super) const KEEP_RESIDENT: usize = 8 << 20;

/// A parked mapping: where it is, what it is, and how much of it may hold
/// old data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Parked {
    /// The mapping's first byte.
    pub(super) base: NonNull<u8>,
    /// The mapping's shape; a taker must ask for exactly this.
    pub(super) shape: super::Shape,
    /// Bytes from `base` that may be nonzero.
    pub(super) dirty: usize,
}

/// Nobody owns the slot and it holds nothing.
const EMPTY: u8 = 0;
/// One caller owns the slot and may read and write its record.
const BUSY: u8 = 1;
/// Nobody owns the slot and it holds a parked mapping.
const FULL: u8 = 2;

/// One place for a parked mapping.
struct Slot {
    /// `EMPTY`, `BUSY` or `FULL`. Taking it to `BUSY` acquires the record
    /// and whatever the mapping's last owner wrote; leaving `BUSY` releases
    /// them.
    state: AtomicU8,
    /// `Some` exactly when `state` is `FULL` (or `BUSY` on its way in or
    /// out); read and written only by the caller that holds `BUSY`.
    parked: UnsafeCell<Option<Parked>>,
}

// SAFETY: `parked` is touched only by the one caller that moved `state` to
// `BUSY` (see `Slot::lock`), with acquire/release ordering around it, and a
// `Parked` record is plain data about a mapping owned by the store.
unsafe impl Sync for Slot {}

impl Slot {
    const fn new() -> Slot {
        Slot {
            state: AtomicU8::new(EMPTY),
            parked: UnsafeCell::new(None),
        }
    }

    /// Claims the slot if it is in state `from`; `None` if it is not (or
    /// someone else holds it).
    fn lock(&self, from: u8) -> Option<SlotGuard<'_>> {
        self.state
            .compare_exchange(from, BUSY, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| SlotGuard { slot: self })
    }
}

/// Exclusive access to one slot's record; leaving sets the slot `EMPTY` or
/// `FULL` according to the record.
struct SlotGuard<'a> {
    slot: &'a Slot,
}

impl SlotGuard<'_> {
    fn record(&mut self) -> &mut Option<Parked> {
        // SAFETY: holding the guard means this caller moved the slot to
        // `BUSY`, and only the holder touches `parked`.
        unsafe { &mut *self.slot.parked.get() }
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let state = if self.record().is_some() { FULL } else { EMPTY };
        self.slot.state.store(state, Ordering::Release);
    }
}

/// The parked mappings of one process.
pub(super) struct Store {
    slots: [Slot; SLOTS],
    /// The slot the next eviction tries first, so evictions rotate.
    next_victim: AtomicUsize,
    /// `false` after [`set_enabled(false)`](Store::set_enabled): nothing
    /// is parked.
    enabled: AtomicBool,
}

/// The store every arena of the process parks in.
pub(super) static STORE: Store = Store::new();

impl Store {
    pub(super) const fn new() -> Store {
        Store {
            slots: [const { Slot::new() }; SLOTS],
            next_victim: AtomicUsize::new(0),
            enabled: AtomicBool::new(true),
        }
    }

    /// Turns parking on or off; off also unmaps what is parked.
    pub(super) fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
        if !on {
            self.trim();
        }
    }

    /// Whether a dropped mapping should be offered at all.
    pub(super) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Parks `parked`, evicting (unmapping) the mapping in the next slot
    /// when every slot is full; gives the mapping back when every slot is
    /// held by someone else at this moment.
    ///
    /// # Safety
    ///
    /// * `parked.base` starts a mapping of `parked.shape`, owned by the
    ///   caller and handed over to the store: nothing references its bytes
    ///   any more, and every byte from `parked.dirty` on is zero.
    pub(super) unsafe fn park(&self, parked: Parked) -> Result<(), Parked> {
        asan::poison(parked.base, parked.dirty);
        for slot in &self.slots {
            if let Some(mut guard) = slot.lock(EMPTY) {
                *guard.record() = Some(parked);
                return Ok(());
            }
        }
        let first = self.next_victim.fetch_add(1, Ordering::Relaxed);
        for turn in 0..SLOTS {
            let slot = &self.slots[(first + turn) % SLOTS];
            if let Some(mut guard) = slot.lock(FULL) {
                let evicted = guard.record().replace(parked);
                drop(guard);
                if let Some(evicted) = evicted {
                    // SAFETY: taken out of the store, so ours, and unused.
                    unsafe { unmap(evicted) };
                }
                return Ok(());
            }
        }
        asan::unpoison(parked.base, parked.dirty);
        Err(parked)
    }

    /// Takes a parked mapping of `shape`, if one is free.
    pub(super) fn take(&self, shape: super::Shape) -> Option<Parked> {
        for slot in &self.slots {
            let Some(mut guard) = slot.lock(FULL) else {
                continue;
            };
            if guard.record().is_some_and(|parked| parked.shape == shape) {
                let parked = guard.record().take()?;
                asan::unpoison(parked.base, parked.dirty);
                return Some(parked);
            }
        }
        None
    }

    /// Unmaps every parked mapping no concurrent call holds at this
    /// moment; returns how many it unmapped.
    pub(super) fn trim(&self) -> usize {
        let mut unmapped = 0;
        for slot in &self.slots {
            let taken = slot.lock(FULL).and_then(|mut guard| guard.record().take());
            if let Some(parked) = taken {
                // SAFETY: taken out of the store, so ours, and unused.
                unsafe { unmap(parked) };
                unmapped += 1;
            }
        }
        unmapped
    }
}

/// Unmaps a mapping taken out of the store.
///
/// # Safety
///
/// * The caller owns the mapping `parked` describes, and nothing will
///   access it again.
unsafe fn unmap(parked: Parked) {
    asan::unpoison(parked.base, parked.dirty);
    // SAFETY: the caller's contract.
    unsafe { super::unmap_whole(parked.base, parked.shape.mapped_len) };
}

#[cfg(test)]
mod tests {
    use super::super::{HugePages, RegionOptions, Shape};
    use super::*;

    /// A real one-page mapping to park, as a store record.
    fn mapping(len: usize) -> Parked {
        let options = RegionOptions::new(len);
        let shape = Shape::of(&options).unwrap();
        let base = super::super::map_raw(shape.mapped_len, &options).unwrap();
        Parked {
            base,
            shape,
            dirty: 0,
        }
    }

    #[test]
    fn takes_only_the_same_shape_and_each_mapping_once() {
        let store = Store::new();
        let small = mapping(4096);
        let big = mapping(8192);
        // SAFETY: fresh mappings handed over, all zero.
        unsafe {
            store.park(small).unwrap();
            store.park(big).unwrap();
        }
        assert_eq!(store.take(big.shape), Some(big));
        assert_eq!(store.take(big.shape), None);
        let other = Shape {
            huge: HugePages::Whole,
            ..small.shape
        };
        assert_eq!(store.take(other), None);
        assert_eq!(store.trim(), 1);
        assert_eq!(store.take(small.shape), None);
        // SAFETY: taken out of the store above, unused.
        unsafe { unmap(big) };
    }

    #[test]
    fn a_full_store_evicts_in_turn() {
        let store = Store::new();
        let parked: Vec<Parked> = (1..=SLOTS + 2).map(|pages| mapping(pages * 4096)).collect();
        for &each in &parked {
            // SAFETY: fresh mappings handed over, all zero.
            unsafe { store.park(each).unwrap() };
        }
        // The first two were evicted (unmapped) to make room for the last two.
        assert_eq!(store.take(parked[0].shape), None);
        assert_eq!(store.take(parked[1].shape), None);
        assert_eq!(store.take(parked[SLOTS + 1].shape), Some(parked[SLOTS + 1]));
        assert_eq!(store.trim(), SLOTS - 1);
        // SAFETY: taken out of the store above, unused.
        unsafe { unmap(parked[SLOTS + 1]) };
    }

    #[test]
    fn disabling_unmaps_what_is_parked() {
        let store = Store::new();
        // SAFETY: a fresh mapping handed over.
        unsafe { store.park(mapping(4096)).unwrap() };
        store.set_enabled(false);
        assert!(!store.enabled());
        assert_eq!(store.trim(), 0, "disabling unmapped the parked one");
    }
}
