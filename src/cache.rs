//! [`RegionCache`]: mappings of dropped arenas, kept for the next arena of
//! the same shape (the crate docs' "Recycling" says why and what it costs).
//!
//! A cache is [`SLOTS`] slots, each a [`Parked`] record behind a
//! three-state flag, so it works without `std` and never blocks: whoever
//! moves a slot's flag to `BUSY` owns the slot until it moves it back, and
//! anyone who finds a slot busy passes it by. The records live here, not
//! in the mappings, so a stray write through a dangling pointer into a
//! parked mapping cannot make the cache unmap the wrong memory.
//!
//! The on/off switch counts its flips, and each record notes the count its
//! parking started under: a record is handed out only while the count is
//! unchanged. So once the switch is off, no mapping passes from one arena
//! to another, not even one whose parking began before the switch and
//! landed after it; such a record is unmapped by whoever meets it next.
//!
//! This module knows regions, not arenas: an arena asks [`RegionCache::map`]
//! for its region and gives it back through a [`CachedRegion`].
//!
//! `unsafe` is allowed here for the slot records behind their flags and for
//! the promise a parked mapping carries (zero past its dirty prefix).
#![allow(unsafe_code)]

use core::fmt;

use crate::asan;
use crate::error::Error;
use crate::math::align_up;
use crate::region::{page_size, Region, RegionOptions, Shape};
use crate::sync_prims::{fence, AtomicU8, AtomicUsize, Ordering, UnsafeCell};

/// How many mappings a cache keeps at most.
const SLOTS: usize = 4;

/// Resident bytes a parked mapping keeps, past its small-paged lead: the
/// rest goes back to the OS when it is parked. With [`SLOTS`] this bounds
/// what a cache holds to about 33 MiB, glibc's order of magnitude (its trim
/// threshold grows to 64 MiB).
const KEEP_RESIDENT: usize = 8 << 20;

/// A parked mapping and what its next user must know.
struct Parked {
    /// The mapping; unmapped if the record is dropped.
    region: Region,
    /// Bytes from the start that may be nonzero; the rest reads as zero.
    dirty: usize,
    /// Bytes from the start that the last owner may have written, whole
    /// pages: poisoned for ASan while parked, though past `dirty` they have
    /// been given back to the OS and read as zero (a stale pointer there
    /// must be reported too).
    written: usize,
    /// The switch's count when the parking began; see [`RegionCache::switch`].
    flips: usize,
}

impl Parked {
    /// A record for `region`, poisoning its written bytes.
    fn new(region: Region, dirty: usize, written: usize, flips: usize) -> Parked {
        asan::poison(region.base(), written);
        Parked {
            region,
            dirty,
            written,
            flips,
        }
    }

    /// The mapping back, unpoisoned, with its dirty prefix.
    fn unpark(self) -> (Region, usize) {
        asan::unpoison(self.region.base(), self.written);
        (self.region, self.dirty)
    }
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
// `Parked` record owns a `Region`, which is `Send`.
unsafe impl Sync for Slot {}

impl Slot {
    #[cfg(not(all(test, loom)))]
    const fn new() -> Slot {
        Slot {
            state: AtomicU8::new(EMPTY),
            parked: UnsafeCell::new(None),
        }
    }

    /// Loom's atomics cannot be made in a `const fn`.
    #[cfg(all(test, loom))]
    fn new() -> Slot {
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
        // `BUSY`, and only the holder touches `parked`; the reference
        // borrows the guard, so it ends before the slot is let go.
        self.slot.parked.with_mut(|record| unsafe { &mut *record })
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        let state = if self.record().is_some() { FULL } else { EMPTY };
        self.slot.state.store(state, Ordering::Release);
    }
}

/// Up to four mappings that dropped arenas left for the next arena of the
/// same shape, and a switch that turns their reuse off; dropping the cache
/// unmaps them. It never blocks and works without `std`.
///
/// Arenas use the process-wide one (which [`trim`] and [`set_recycling`]
/// act on) unless their builder names another: a `'static` one with
/// [`Builder::cache`](crate::Builder::cache), a local one with
/// [`build_in`](crate::Builder::build_in) and
/// [`recycle_into`](crate::Arena::recycle_into). The crate docs'
/// [Recycling](crate#recycling) section says what reuse costs and which
/// cache suits what.
///
/// ```
/// use anon_arena::{Arena, RegionCache};
///
/// static PARSERS: RegionCache = RegionCache::new();
///
/// for document in ["[1, 2]", "{}"] {
///     let arena = Arena::builder().capacity(1 << 20).cache(&PARSERS).build()?;
///     arena.alloc_str(document);
/// } // each arena parks its mapping in PARSERS; the next one takes it
/// assert_eq!(PARSERS.len(), 1);
/// assert_eq!(PARSERS.trim(), 1);
/// # Ok::<(), anon_arena::Error>(())
/// ```
pub struct RegionCache {
    slots: [Slot; SLOTS],
    /// The slot the next eviction tries first, so evictions rotate.
    next_victim: AtomicUsize,
    /// How often the switch has flipped: even while on, odd while off. A
    /// record parked under one count is handed out only under the same.
    switch: AtomicUsize,
}

/// The cache every arena uses unless its builder names another.
#[cfg(not(all(test, loom)))]
static DEFAULT: RegionCache = RegionCache::new();

// Under loom, one per model execution, dropped (trimmed) at its end.
#[cfg(all(test, loom))]
loom::lazy_static! {
    static ref DEFAULT: RegionCache = RegionCache::new();
}

impl RegionCache {
    /// An empty cache, switched on; `const`, so it can be a `static`.
    ///
    /// ```
    /// static CACHE: anon_arena::RegionCache = anon_arena::RegionCache::new();
    /// assert!(CACHE.is_empty() && CACHE.is_enabled());
    /// ```
    #[cfg(not(all(test, loom)))]
    pub const fn new() -> RegionCache {
        RegionCache {
            slots: [const { Slot::new() }; SLOTS],
            next_victim: AtomicUsize::new(0),
            switch: AtomicUsize::new(0),
        }
    }

    /// Loom's atomics cannot be made in a `const fn`.
    #[cfg(all(test, loom))]
    pub fn new() -> RegionCache {
        RegionCache {
            slots: core::array::from_fn(|_| Slot::new()),
            next_victim: AtomicUsize::new(0),
            switch: AtomicUsize::new(0),
        }
    }

    /// The process-wide cache of arenas whose builder names none.
    pub(crate) fn default_cache() -> &'static RegionCache {
        &DEFAULT
    }

    /// Unmaps every mapping the cache holds that no other thread is taking
    /// or parking at this moment, and returns how many it unmapped.
    ///
    /// ```
    /// let cache = anon_arena::RegionCache::new();
    /// let arena = anon_arena::Arena::builder().capacity(4096).build_in(&cache)?;
    /// arena.recycle_into(&cache);
    /// assert_eq!(cache.trim(), 1);
    /// assert_eq!(cache.trim(), 0);
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn trim(&self) -> usize {
        self.trim_where(|_| true)
    }

    /// Turns reuse on (the default) or off. Off, nothing is parked or
    /// handed out, and what is parked is unmapped.
    ///
    /// ```
    /// let cache = anon_arena::RegionCache::new();
    /// cache.set_enabled(false);
    /// let arena = anon_arena::Arena::builder().capacity(4096).build_in(&cache)?;
    /// arena.recycle_into(&cache); // unmapped, not parked
    /// assert!(cache.is_empty());
    /// # Ok::<(), anon_arena::Error>(())
    /// ```
    pub fn set_enabled(&self, on: bool) {
        let flip = |count: usize| (count % 2 == usize::from(on)).then_some(count + 1);
        // `Err` when the switch was already where it is asked to be.
        let _ = self
            .switch
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, flip);
        if !on {
            // Pairs with the fence in `park`: either that park's second
            // look at the switch sees this flip, or this trim sees the
            // mapping it stored.
            fence(Ordering::SeqCst);
            self.trim();
        }
    }

    /// Whether reuse is on.
    ///
    /// ```
    /// assert!(anon_arena::RegionCache::new().is_enabled());
    /// ```
    pub fn is_enabled(&self) -> bool {
        self.switch.load(Ordering::SeqCst) % 2 == 0
    }

    /// How many mappings the cache holds now (a snapshot: other threads
    /// may park or take one at any moment).
    ///
    /// ```
    /// assert_eq!(anon_arena::RegionCache::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|slot| slot.state.load(Ordering::Relaxed) == FULL)
            .count()
    }

    /// Whether the cache holds no mapping now.
    ///
    /// ```
    /// assert!(anon_arena::RegionCache::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A region for `options`: with `reuse`, a parked one of the same
    /// shape if there is one, else a new one. Also returns how many bytes
    /// from the start may hold old data (0 for a new one); every byte past
    /// them reads as zero.
    pub(crate) fn map(
        &self,
        options: &RegionOptions,
        reuse: bool,
    ) -> Result<(Region, usize), Error> {
        if reuse {
            if let Some(taken) = self.take(Shape::of(options)?) {
                return Ok(taken);
            }
        }
        let region = match Region::map(options) {
            // Parked mappings hold address space (and, under strict
            // overcommit or `RLIMIT_AS`, commit charge): give them back and
            // try once more before failing.
            Err(Error::MapFailed { .. }) if self.trim() > 0 => Region::map(options)?,
            mapped => mapped?,
        };
        Ok((region, 0))
    }

    /// Takes a parked mapping of `shape`, if one is free and the switch is
    /// on and has not flipped since it was parked. A record parked before a
    /// flip is unmapped on the way.
    fn take(&self, shape: Shape) -> Option<(Region, usize)> {
        self.take_parked(shape).map(Parked::unpark)
    }

    /// [`take`](Self::take), with the record still whole (the loom model
    /// checks the count it was parked under).
    fn take_parked(&self, shape: Shape) -> Option<Parked> {
        let flips = self.switch.load(Ordering::SeqCst);
        if flips % 2 == 1 {
            return None;
        }
        for slot in &self.slots {
            let Some(mut guard) = slot.lock(FULL) else {
                continue;
            };
            let (current, fits) = match guard.record() {
                Some(parked) => (parked.flips == flips, parked.region.shape() == shape),
                None => continue,
            };
            if current && !fits {
                continue;
            }
            let parked = guard.record().take()?;
            drop(guard);
            if current {
                return Some(parked);
            }
            drop(parked.unpark());
        }
        None
    }

    /// Parks `region`, whose first `written` bytes may have been written,
    /// for the next user of its shape, or unmaps it when the switch is off,
    /// its pages cannot be given back, or every slot is held by another
    /// thread. A full cache evicts (unmaps) the mapping in the next slot.
    ///
    /// # Safety
    ///
    /// * Every byte of `region` from `written` on reads as zero, and no
    ///   reference into the region is used again: the next user trusts
    ///   both.
    pub(crate) unsafe fn park(&self, mut region: Region, written: usize) {
        let flips = self.switch.load(Ordering::SeqCst);
        if flips % 2 == 1 {
            return;
        }
        let shape = region.shape();
        let written =
            align_up(written, page_size()).map_or(shape.len, |bytes| bytes.min(shape.len));
        let keep = shape.huge.lead() + KEEP_RESIDENT;
        let dirty = if written > keep {
            // Whole pages (both ends are page multiples) of a region nobody
            // references any more: they read as zero afterwards.
            if region.release(keep..written).is_err() {
                return;
            }
            keep
        } else {
            written
        };
        #[cfg(test)]
        tests::while_parking(self);
        if let Err(parked) = self.store(Parked::new(region, dirty, written, flips)) {
            drop(parked.unpark());
            return;
        }
        // Pairs with the fence in `set_enabled`. Without the two, the store
        // above and the load below could pass each other (as through a
        // store buffer) while a switch-off's trim missed the stored record:
        // it would stay parked while the switch is off.
        fence(Ordering::SeqCst);
        if self.switch.load(Ordering::SeqCst) != flips {
            // The switch flipped while this mapping was on its way in: it
            // can never be handed out, so give its memory back now.
            self.trim_stale();
        }
    }

    /// Puts `parked` in an empty slot, or in place of the mapping in the
    /// next full one (unmapping that); gives it back when every slot is
    /// held by another thread at this moment.
    fn store(&self, parked: Parked) -> Result<(), Parked> {
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
                drop(evicted.map(Parked::unpark));
                return Ok(());
            }
        }
        Err(parked)
    }

    /// Unmaps every record parked under an earlier switch count.
    fn trim_stale(&self) {
        let flips = self.switch.load(Ordering::SeqCst);
        self.trim_where(|parked| parked.flips != flips);
    }

    /// Unmaps every parked mapping that `unwanted` picks and no other
    /// thread holds at this moment; returns how many it unmapped.
    fn trim_where(&self, unwanted: impl Fn(&Parked) -> bool) -> usize {
        let mut unmapped = 0;
        for slot in &self.slots {
            let taken = slot.lock(FULL).and_then(|mut guard| {
                let record = guard.record();
                record.take_if(|parked| unwanted(parked))
            });
            if let Some(parked) = taken {
                drop(parked.unpark());
                unmapped += 1;
            }
        }
        unmapped
    }
}

impl Default for RegionCache {
    /// [`RegionCache::new`].
    fn default() -> Self {
        RegionCache::new()
    }
}

impl Drop for RegionCache {
    /// Unmaps every mapping the cache holds.
    fn drop(&mut self) {
        self.trim();
    }
}

impl fmt::Debug for RegionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegionCache")
            .field("len", &self.len())
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

/// Unmaps every mapping the process-wide cache holds, and returns how many
/// there were; the `malloc_trim` of this crate (see [`RegionCache::trim`]).
///
/// ```
/// drop(anon_arena::Arena::new());
/// anon_arena::trim();
/// assert_eq!(anon_arena::trim(), 0, "nothing is left after a trim");
/// ```
pub fn trim() -> usize {
    DEFAULT.trim()
}

/// Turns the reuse of dropped arenas' mappings on (the default) or off for
/// the process-wide cache; off also unmaps what it holds (see
/// [`RegionCache::set_enabled`]).
///
/// ```
/// anon_arena::set_recycling(false);
/// drop(anon_arena::Arena::new()); // unmapped here
/// assert_eq!(anon_arena::trim(), 0);
/// anon_arena::set_recycling(true);
/// ```
pub fn set_recycling(on: bool) {
    DEFAULT.set_enabled(on);
}

/// An arena's region, which goes back to a cache (its `home`) when it
/// drops, or is unmapped when it has none.
pub(crate) struct CachedRegion {
    /// The mapping; `None` once [`take`](Self::take)n.
    region: Option<Region>,
    /// The cache the region is parked in on drop.
    home: Option<&'static RegionCache>,
    /// Whether the mapping may be reused at all (its options allow it).
    reusable: bool,
    /// Bytes from the start that may have been written, as last reported
    /// by the owner.
    written: usize,
}

impl CachedRegion {
    /// Wraps `region`, all of whose bytes may have been written until the
    /// owner says otherwise, for `home` (if `reusable`).
    pub(crate) fn new(
        region: Region,
        home: Option<&'static RegionCache>,
        reusable: bool,
    ) -> CachedRegion {
        let written = region.len();
        CachedRegion {
            region: Some(region),
            home: home.filter(|_| reusable),
            reusable,
            written,
        }
    }

    /// Records that every byte from `written` on reads as zero.
    ///
    /// # Safety
    ///
    /// * It does, and keeps doing until the region drops: the next arena to
    ///   take the mapping trusts that.
    pub(crate) unsafe fn set_written(&mut self, written: usize) {
        self.written = written;
    }

    /// Hands the pages of the first `bytes` bytes, rounded up to whole
    /// pages, back to the OS ([`Region::release`]); returns how many bytes
    /// that was.
    pub(crate) fn release_prefix(&mut self, bytes: usize) -> Result<usize, Error> {
        let Some(region) = &mut self.region else {
            return Ok(0);
        };
        let len = region.len();
        let end = align_up(bytes, page_size()).map_or(len, |bytes| bytes.min(len));
        region.release(0..end).map(|()| end)
    }

    /// The region, unless it was [`take`](Self::take)n.
    pub(crate) fn get_mut(&mut self) -> Option<&mut Region> {
        self.region.as_mut()
    }

    /// Moves the region out, leaving an empty one whose drop does nothing.
    pub(crate) fn take(&mut self) -> CachedRegion {
        CachedRegion {
            region: self.region.take(),
            home: self.home.take(),
            reusable: self.reusable,
            written: self.written,
        }
    }

    /// Gives the region to `cache` (or unmaps it, when its options do not
    /// allow reuse) instead of its home.
    ///
    /// # Safety
    ///
    /// * As for [`set_written`](Self::set_written), and nothing references
    ///   the region any more.
    pub(crate) unsafe fn park_in(mut self, cache: &RegionCache) {
        if let (Some(region), true) = (self.region.take(), self.reusable) {
            // SAFETY: the caller's promise.
            unsafe { cache.park(region, self.written) };
        }
    }
}

impl Drop for CachedRegion {
    fn drop(&mut self) {
        if let (Some(region), Some(home)) = (self.region.take(), self.home) {
            // SAFETY: the owner keeps `written` true (`set_written`), and a
            // region is dropped only after everything borrowed from its
            // owner.
            unsafe { home.park(region, self.written) };
        }
    }
}

impl fmt::Debug for CachedRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.region {
            Some(region) => region.fmt(f),
            None => f.write_str("(parked)"),
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests;

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::region::HugePages;

    std::thread_local! {
        /// Called by [`RegionCache::park`] on this thread between its check
        /// of the switch and its store: where another thread's flip lands
        /// in the race the switch must survive.
        static WHILE_PARKING: Cell<Option<fn(&RegionCache)>> = const { Cell::new(None) };
    }

    /// The hook [`RegionCache::park`] calls.
    pub(super) fn while_parking(cache: &RegionCache) {
        if let Some(hook) = WHILE_PARKING.get() {
            hook(cache);
        }
    }

    /// A fresh mapping of `pages` pages and its shape.
    fn mapping(pages: usize) -> (Region, Shape) {
        let region = Region::new(pages * page_size()).unwrap();
        let shape = region.shape();
        (region, shape)
    }

    /// Parks a fresh (all-zero) mapping of `pages` pages; returns its shape
    /// and address.
    fn park_fresh(cache: &RegionCache, pages: usize) -> (Shape, usize) {
        let (region, shape) = mapping(pages);
        let base = region.as_ptr() as usize;
        // SAFETY: a fresh mapping, all zero, referenced by nothing.
        unsafe { cache.park(region, 0) };
        (shape, base)
    }

    fn address(taken: Option<(Region, usize)>) -> Option<usize> {
        taken.map(|(region, _)| region.as_ptr() as usize)
    }

    #[test]
    fn takes_only_the_same_shape_and_each_mapping_once() {
        let cache = RegionCache::new();
        let (small, _) = park_fresh(&cache, 1);
        let (big, big_base) = park_fresh(&cache, 2);
        assert_eq!(address(cache.take(big)), Some(big_base));
        assert_eq!(address(cache.take(big)), None);
        let other = Shape {
            huge: HugePages::Whole,
            ..small
        };
        assert_eq!(address(cache.take(other)), None);
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.trim(), 1);
        assert_eq!(address(cache.take(small)), None);
    }

    #[test]
    fn a_full_cache_evicts_in_turn() {
        let cache = RegionCache::new();
        let parked: Vec<(Shape, usize)> = (1..=SLOTS + 2)
            .map(|pages| park_fresh(&cache, pages))
            .collect();
        // The first two were evicted (unmapped) to make room for the last two.
        assert_eq!(address(cache.take(parked[0].0)), None);
        assert_eq!(address(cache.take(parked[1].0)), None);
        let (last, last_base) = parked[SLOTS + 1];
        assert_eq!(address(cache.take(last)), Some(last_base));
        assert_eq!(cache.trim(), SLOTS - 1);
    }

    #[test]
    fn the_dirty_prefix_is_what_was_written_up_to_what_stays_resident() {
        let cache = RegionCache::new();
        let (region, shape) = mapping(4);
        // SAFETY: a fresh mapping, all zero, referenced by nothing.
        unsafe { cache.park(region, 10) };
        let (_, dirty) = cache.take(shape).unwrap();
        assert_eq!(dirty, page_size(), "rounded up to whole pages");
    }

    #[test]
    fn switching_off_unmaps_what_is_parked_and_parks_nothing() {
        let cache = RegionCache::new();
        park_fresh(&cache, 1);
        cache.set_enabled(false);
        assert!(!cache.is_enabled());
        assert_eq!(cache.trim(), 0, "switching off unmapped the parked one");
        let (shape, _) = park_fresh(&cache, 1);
        assert!(cache.is_empty());
        cache.set_enabled(true);
        park_fresh(&cache, 1);
        assert!(cache.take(shape).is_some());
    }

    /// The switch goes off while a mapping is on its way in: between the
    /// park's check of the switch and its store, as when another thread
    /// calls `set_recycling(false)` while an arena's drop gives its pages
    /// back. The mapping must never be handed out, and is unmapped.
    #[test]
    fn a_park_that_lands_after_the_switch_went_off_is_never_taken() {
        let cache = RegionCache::new();
        WHILE_PARKING.set(Some(|cache| cache.set_enabled(false)));
        let (shape, _) = park_fresh(&cache, 1);
        WHILE_PARKING.set(None);
        assert!(!cache.is_enabled());
        assert!(cache.take(shape).is_none(), "handed out while off");
        assert!(cache.is_empty(), "left parked while off");
        cache.set_enabled(true);
        assert!(cache.take(shape).is_none(), "handed out after the flip");
    }

    /// A record the trim of a switch-off missed (its slot was busy at that
    /// moment): `take` must refuse it while the switch is off, and after
    /// the switch is back on, unmap it rather than hand it out.
    #[test]
    fn take_refuses_while_off_and_unmaps_what_was_parked_before_a_flip() {
        let cache = RegionCache::new();
        let (region, shape) = mapping(1);
        assert!(cache.store(Parked::new(region, 0, 0, 0)).is_ok());
        // Off, without the trim that `set_enabled(false)` would do.
        cache.switch.store(1, Ordering::SeqCst);
        assert!(cache.take(shape).is_none(), "handed out while off");
        cache.set_enabled(true);
        assert!(cache.take(shape).is_none(), "handed out across a flip");
        assert!(cache.is_empty(), "a record from before the flip stayed");
    }
}
