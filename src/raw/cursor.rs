//! [`RawCursor`]: the single-threaded bump cursor shared by `Arena` and
//! `StackArena`.
//!
//! It hands out blocks from `start..end` by moving `pos` upward, frees and
//! resizes the newest block in place, and remembers how far memory has ever
//! been written so that `allocate_zeroed` can skip zeroing fresh pages.

use core::alloc::Layout;
use core::cell::Cell;
use core::ptr::{self, NonNull};

use crate::asan;
use crate::error::Error;
use crate::math::{self, MIN_ALIGN};
use crate::raw::{BumpCursor, RawAllocator};

/// Whether [`RawCursor`]'s `allocate` may bound-check by adding the size to `pos`
/// (64-bit targets, where every cursor's memory lies below [`LOW_QUARTER`])
/// rather than by subtracting `pos` from `end`.
const ADD_THEN_COMPARE: bool = cfg!(target_pointer_width = "64");

/// The highest `end` a cursor accepts when [`ADD_THEN_COMPARE`] is on: with
/// `pos` at most this, adding any rounded `Layout` size cannot wrap.
const LOW_QUARTER: usize = usize::MAX / 4;

/// A bump cursor over memory it does not own.
///
/// Invariants, checked by [`debug_assert_invariants`](Self::debug_assert_invariants)
/// after every mutation:
///
/// * `start <= floor <= pos <= end`, all derived from the same mapping;
/// * `start <= limit <= end`; `pos` may lie above `limit` (a limit set
///   below what is allocated), and then every request that needs room fails;
/// * on 64-bit targets `end <= LOW_QUARTER` (so `pos + size` cannot wrap);
/// * `start`, `floor`, `pos` and `limit` are multiples of [`MIN_ALIGN`];
/// * `peak >= start`, and `max(peak, pos)` is the highest `pos` ever reached;
/// * every byte at or above `max(high_water, pos)` is zero: nothing has
///   written it since it was mapped or last released;
/// * every block handed out and not freed lies in `start..pos`.
pub(crate) struct RawCursor {
    /// First byte of the memory; 8-aligned (page-aligned in practice).
    start: NonNull<u8>,
    /// The lowest `pos` that freeing or shrinking may move back to: the
    /// start of the innermost `StackArena` scope, `start` otherwise.
    floor: Cell<NonNull<u8>>,
    /// The next free byte.
    pos: Cell<NonNull<u8>>,
    /// One past the last byte of the memory.
    end: NonNull<u8>,
    /// One past the last byte allocation may hand out: `end`, or lower
    /// under an allocation limit ([`set_limit`](Self::set_limit)).
    limit: Cell<NonNull<u8>>,
    /// The highest `pos` ever given up by a rewind; bytes below it may be dirty.
    high_water: Cell<NonNull<u8>>,
    /// The highest `pos` ever given up by a rewind, kept across releases
    /// (unlike `high_water`, which also starts at a reused mapping's dirty
    /// prefix): with `pos`, the most bytes ever allocated at once.
    peak: Cell<NonNull<u8>>,
    /// What ASan is told is live (zero-sized unless `cfg(asan)`).
    shadow: asan::Shadow,
}

impl RawCursor {
    /// A cursor over `len` bytes at `start`.
    ///
    /// # Safety
    ///
    /// * `start..start + len` is readable and writable memory, all zero,
    ///   that stays valid and is accessed only through this cursor for as
    ///   long as the cursor or any block it hands out is in use.
    /// * `start` is aligned to [`MIN_ALIGN`]; `len` is a multiple of it.
    pub(crate) unsafe fn new(start: NonNull<u8>, len: usize) -> Self {
        // SAFETY: the caller's contract, with no dirty prefix.
        unsafe { RawCursor::with_dirty_prefix(start, len, 0) }
    }

    /// A cursor over a `SyncArena` lease: `len` bytes at `start` whose
    /// first `dirty` bytes may hold old data (memory used before a reset),
    /// which `alloc_zeroed` zeroes as it hands them out. The arena's
    /// shadow poisoned the whole lease when it was claimed and unpoisons it
    /// before unmapping, so this cursor's shadow only unpoisons the blocks
    /// it hands out and poisons the ones given back.
    ///
    /// # Safety
    ///
    /// * As for [`new`](Self::new), except that only the bytes from
    ///   `start + dirty` on need to be zero.
    /// * `dirty <= len`.
    pub(crate) unsafe fn over_lease(start: NonNull<u8>, len: usize, dirty: usize) -> Self {
        let shadow = asan::Shadow::over_poisoned(start, len);
        // SAFETY: the caller's contract.
        unsafe { RawCursor::with_shadow(start, len, dirty, shadow) }
    }

    /// A cursor over no memory, at a well-aligned address that is no
    /// memory's: it hands out only zero-sized blocks, and holds no pointer
    /// with provenance. What a thread's cache of `SyncArena` leases holds
    /// before its first lease (built in a `const`, hence not [`new`](Self::new)).
    pub(crate) const fn empty() -> RawCursor {
        let nowhere = NonNull::<u64>::dangling().cast::<u8>();
        RawCursor {
            start: nowhere,
            floor: Cell::new(nowhere),
            pos: Cell::new(nowhere),
            end: nowhere,
            limit: Cell::new(nowhere),
            high_water: Cell::new(nowhere),
            peak: Cell::new(nowhere),
            shadow: asan::Shadow::new(nowhere),
        }
    }

    /// # Safety
    ///
    /// * As for [`over_lease`](Self::over_lease); `shadow` starts at `start`.
    unsafe fn with_shadow(
        start: NonNull<u8>,
        len: usize,
        dirty: usize,
        shadow: asan::Shadow,
    ) -> Self {
        // SAFETY: the caller guarantees `start + len` stays in the
        // allocation, and `dirty <= len`.
        let (end, high_water) = unsafe { (start.add(len), start.add(dirty)) };
        // What lets `allocate` compare `pos + size` with `end` without an
        // overflow check. Never fails on 64-bit Linux, whose user addresses
        // lie below 2^57.
        assert!(
            !ADD_THEN_COMPARE || end.addr().get() <= LOW_QUARTER,
            "RawCursor: memory must lie in the lowest quarter of the address space"
        );
        let cursor = RawCursor {
            start,
            floor: Cell::new(start),
            pos: Cell::new(start),
            end,
            limit: Cell::new(end),
            high_water: Cell::new(high_water),
            peak: Cell::new(start),
            shadow,
        };
        cursor.debug_assert_invariants();
        cursor
    }

    /// [`allocate`](RawAllocator::allocate) for alignments above
    /// [`MIN_ALIGN`]: pads `pos` up to the alignment first.
    #[inline(never)]
    fn alloc_overaligned(&self, layout: Layout) -> Option<NonNull<u8>> {
        if layout.size() == 0 {
            // A zero-sized block needs only an aligned, non-null address.
            return NonNull::new(ptr::without_provenance_mut(layout.align()));
        }
        let pos = self.pos.get();
        let bump = math::bump_up(
            pos.addr().get(),
            self.limit.get().addr().get(),
            layout.size(),
            layout.align(),
        )?;
        // SAFETY: `bump_up` keeps `pos <= start <= new_pos <= end`, so both
        // offsets stay inside the memory.
        let (block, new_pos) = unsafe {
            (
                pos.add(bump.start - pos.addr().get()),
                pos.add(bump.new_pos - pos.addr().get()),
            )
        };
        self.pos.set(new_pos);
        self.shadow.handed_out(block, layout.size(), self.end);
        self.debug_assert_invariants();
        Some(block)
    }

    /// The error for a request [`allocate`](RawAllocator::allocate)
    /// refused, with the numbers as they are now.
    #[cold]
    #[inline(never)]
    pub(crate) fn exhausted(&self, layout: Layout) -> Error {
        Error::Exhausted {
            requested: math::bytes_needed(
                self.pos.get().addr().get(),
                layout.size(),
                layout.align(),
            ),
            remaining: self.remaining(),
        }
    }

    /// `block`'s address with the cursor's own provenance (that of `start`).
    ///
    /// A caller's pointer may carry a tag narrowed to its old block (a
    /// `Box` retags to its `T`); a cursor position or a resized block made
    /// from it would inherit that tag, and every later block bumped from
    /// it would be out of bounds under Stacked Borrows. So every pointer
    /// the cursor keeps or hands out is derived from `start`.
    #[inline(always)]
    fn own(&self, block: NonNull<u8>) -> NonNull<u8> {
        self.start.with_addr(block.addr())
    }

    /// Is a block ending at `end` (rounded) the newest, and at or above the
    /// floor from `start`?
    #[inline]
    fn is_newest(&self, start: NonNull<u8>, end: Option<usize>) -> bool {
        start >= self.floor.get() && end == Some(self.pos.get().addr().get())
    }

    /// Moves `pos` back to `to`, remembering how far memory was written.
    ///
    /// # Safety
    ///
    /// * `floor <= to <= pos`, `to` is 8-aligned and derived from `start`.
    /// * No live block lies at or above `to`.
    #[inline]
    pub(crate) unsafe fn rewind(&self, to: NonNull<u8>) {
        let pos = self.pos.get();
        if pos > self.high_water.get() {
            self.high_water.set(pos);
        }
        if pos > self.peak.get() {
            self.peak.set(pos);
        }
        self.shadow
            .given_back(to, pos.addr().get() - to.addr().get());
        self.pos.set(to);
        self.debug_assert_invariants();
    }

    /// Sets the lowest position frees and shrinks may rewind to.
    ///
    /// # Safety
    ///
    /// * `start <= floor <= pos`, 8-aligned, derived from `start`.
    pub(crate) unsafe fn set_floor(&self, floor: NonNull<u8>) {
        self.floor.set(floor);
        self.debug_assert_invariants();
    }

    /// The first byte of the memory.
    #[inline]
    pub(crate) fn start(&self) -> NonNull<u8> {
        self.start
    }

    /// The next free byte.
    #[inline]
    pub(crate) fn pos(&self) -> NonNull<u8> {
        self.pos.get()
    }

    /// The current floor (see [`set_floor`](Self::set_floor)).
    #[inline]
    pub(crate) fn floor(&self) -> NonNull<u8> {
        self.floor.get()
    }

    /// Bytes handed out since the start, alignment padding included.
    #[inline]
    pub(crate) fn used(&self) -> usize {
        self.pos.get().addr().get() - self.start.addr().get()
    }

    /// Bytes still free above `pos`, up to the limit.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        (self.limit.get().addr().get()).saturating_sub(self.pos.get().addr().get())
    }

    /// The most bytes ever allocated at once (from the start).
    #[inline]
    pub(crate) fn peak(&self) -> usize {
        self.peak.get().max(self.pos.get()).addr().get() - self.start.addr().get()
    }

    /// Lets allocation hand out at most `bytes` from the start (rounded
    /// down to [`MIN_ALIGN`], at most the capacity); `None` lifts the
    /// limit. Blocks already handed out stay; a limit below `used()` makes
    /// every request that needs room fail until enough is freed.
    pub(crate) fn set_limit(&self, bytes: Option<usize>) {
        let bytes = bytes.map_or(self.capacity(), |bytes| {
            (bytes - bytes % MIN_ALIGN).min(self.capacity())
        });
        // SAFETY: `bytes <= capacity`, so the limit stays inside the memory
        // (or one past its end), with the start's provenance.
        self.limit.set(unsafe { self.start.add(bytes) });
        self.debug_assert_invariants();
    }

    /// Total bytes the cursor manages.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.end.addr().get() - self.start.addr().get()
    }

    /// Checks the invariants listed on the type (debug builds only).
    #[inline]
    pub(crate) fn debug_assert_invariants(&self) {
        let (start, floor, pos, end, limit) = (
            self.start.addr().get(),
            self.floor.get().addr().get(),
            self.pos.get().addr().get(),
            self.end.addr().get(),
            self.limit.get().addr().get(),
        );
        debug_assert!(
            start <= floor && floor <= pos && pos <= end && start <= limit && limit <= end,
            "cursor order broken"
        );
        debug_assert!(
            start % MIN_ALIGN == 0
                && floor % MIN_ALIGN == 0
                && pos % MIN_ALIGN == 0
                && limit % MIN_ALIGN == 0,
            "cursor alignment broken"
        );
        debug_assert!(self.peak.get() >= self.start, "peak below the start");
        debug_assert!(
            self.high_water.get() <= self.end,
            "high-water mark past the end"
        );
    }
}

// SAFETY: `RawCursor` hands out disjoint blocks inside its memory (it only
// moves `pos` forward on allocation and back over dead blocks), and resizes
// keep contents as the trait requires.
unsafe impl RawAllocator for RawCursor {
    /// Bumps out a block for `layout`; `None` when it does not fit.
    ///
    /// The block is aligned to `max(MIN_ALIGN, layout.align())`; a
    /// zero-sized request never fails and consumes nothing.
    #[inline(always)]
    fn allocate(&self, layout: Layout) -> Option<NonNull<u8>> {
        if layout.align() > MIN_ALIGN {
            return self.alloc_overaligned(layout);
        }
        let size = math::round_layout_size(layout.size());
        let pos = self.pos.get();
        let limit = self.limit.get().addr().get();
        let fits = if ADD_THEN_COMPARE {
            // Cannot wrap: `pos <= end <= LOW_QUARTER` (asserted in `new`)
            // and `size <= isize::MAX + 7`. One instruction shorter than
            // the subtraction below: `limit` is compared straight from memory.
            pos.addr().get() + size <= limit
        } else {
            // `pos` may lie above a lowered limit: then nothing fits.
            pos.addr().get() <= limit && size <= limit - pos.addr().get()
        };
        if !fits {
            // A zero-sized request fits even above a lowered limit.
            return (size == 0).then_some(pos);
        }
        // SAFETY: `pos + size <= limit <= end`, so the new position stays
        // inside the memory, and it stays 8-aligned because `size` is a
        // multiple of 8.
        self.pos.set(unsafe { pos.add(size) });
        self.shadow.handed_out(pos, layout.size(), self.end);
        Some(pos)
    }

    /// Bytes above the high-water mark are zero already and not written.
    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Option<NonNull<u8>> {
        let block = self.allocate(layout)?;
        // SAFETY: the block was just handed out, so it is ours.
        unsafe { super::zero_below(block, layout.size(), self.high_water.get().addr().get()) };
        Some(block)
    }

    /// Frees the block if it is the newest one; otherwise does nothing (its
    /// space comes back at the next reset).
    #[inline]
    unsafe fn deallocate(&self, block: NonNull<u8>, layout: Layout) {
        self.shadow.given_back(block, layout.size());
        let end = math::block_end(block.addr().get(), layout.size());
        if self.is_newest(block, end) {
            // SAFETY: the block is the newest, above the floor, and dead.
            unsafe { self.rewind(self.own(block)) };
        }
    }

    /// In place when the block is the newest and its address suits `new`,
    /// by allocating and copying otherwise.
    #[inline]
    unsafe fn grow(
        &self,
        block: NonNull<u8>,
        old: Layout,
        new: Layout,
        zeroed: bool,
    ) -> Option<NonNull<u8>> {
        let (addr, end) = (block.addr().get(), self.limit.get().addr().get());
        if let Some(ends) = math::resize_in_place(addr, old.size(), new.size(), new.align(), end) {
            if self.is_newest(block, Some(ends.old_end)) {
                let block = self.own(block);
                // SAFETY: `block <= new_end <= limit <= end`: inside the memory.
                self.pos.set(unsafe { block.add(ends.new_end - addr) });
                self.shadow.handed_out(block, new.size(), self.end);
                if zeroed {
                    let high_water = self.high_water.get().addr().get();
                    // SAFETY: the bytes past `old.size()` now belong to the
                    // caller's block.
                    unsafe {
                        let added = block.add(old.size());
                        super::zero_below(added, new.size() - old.size(), high_water);
                    }
                }
                self.debug_assert_invariants();
                return Some(block);
            }
        }
        // SAFETY: the caller's contract.
        let moved = unsafe { super::copy_to_new(self, block, old.size(), new, zeroed)? };
        self.shadow.given_back(block, old.size());
        Some(moved)
    }

    /// In place (giving back the tail when the block is the newest) unless
    /// `new` asks for a larger alignment than the address has; then by
    /// allocating and copying.
    #[inline]
    unsafe fn shrink(&self, block: NonNull<u8>, old: Layout, new: Layout) -> Option<NonNull<u8>> {
        let addr = block.addr().get();
        // No end to check: a shrunk block ends no later than it did, and a
        // zero-sized block outside the memory (far-aligned) stays where it
        // is, as in `RawAtomicCursor::shrink`.
        let Some(ends) =
            math::resize_in_place(addr, old.size(), new.size(), new.align(), usize::MAX)
        else {
            // SAFETY: the caller's contract.
            let moved = unsafe { super::copy_to_new(self, block, old.size(), new, false)? };
            self.shadow.given_back(block, old.size());
            return Some(moved);
        };
        // SAFETY: `new.size() <= old.size()`: inside the caller's block.
        let tail = unsafe { block.add(new.size()) };
        self.shadow.given_back(tail, old.size() - new.size());
        if self.is_newest(block, Some(ends.old_end)) {
            // SAFETY: `block <= new_end <= old_end == pos`, 8-aligned, and
            // the tail past `new.size()` is given up by the caller.
            unsafe { self.rewind(self.own(block).add(ends.new_end - addr)) };
        }
        // What the cursor hands out carries its own provenance, as in `grow`
        // (a zero-sized block outside the memory needs none, and is given
        // `start`'s harmlessly).
        Some(self.own(block))
    }
}

impl BumpCursor for RawCursor {
    unsafe fn with_dirty_prefix(start: NonNull<u8>, len: usize, dirty: usize) -> Self {
        // SAFETY: the caller's contract.
        unsafe { RawCursor::with_shadow(start, len, dirty, asan::Shadow::new(start)) }
    }

    /// Also closes every scope: the floor goes back to the start.
    unsafe fn reset(&mut self) {
        // SAFETY: the start is a valid floor and position, and the caller
        // promises no block is live.
        unsafe {
            self.set_floor(self.start);
            self.rewind(self.start);
        }
    }

    fn touched(&mut self) -> usize {
        self.high_water.get().max(self.pos.get()).addr().get() - self.start.addr().get()
    }

    fn capacity(&self) -> usize {
        RawCursor::capacity(self)
    }

    fn exhausted(&self, layout: Layout) -> Error {
        RawCursor::exhausted(self, layout)
    }

    unsafe fn reset_pristine(&mut self) {
        self.shadow.given_back(self.start, self.used());
        self.floor.set(self.start);
        self.pos.set(self.start);
        self.high_water.set(self.start);
        self.debug_assert_invariants();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Fixture = crate::raw::Fixture<RawCursor>;

    fn fixture(words: usize) -> Fixture {
        crate::raw::Fixture::new(words)
    }

    #[test]
    fn small_sizes_round_to_eight() {
        let f = fixture(8);
        let a = f.cursor.allocate(Layout::new::<u8>()).unwrap();
        let b = f.cursor.allocate(Layout::new::<u16>()).unwrap();
        assert_eq!(b.addr().get() - a.addr().get(), 8);
        assert_eq!(f.cursor.used(), 16);
    }

    #[test]
    fn refuses_past_the_end_and_reports_numbers() {
        let f = fixture(4);
        let layout = Layout::from_size_align(40, 8).unwrap();
        assert!(f.cursor.allocate(layout).is_none());
        assert_eq!(
            f.cursor.exhausted(layout),
            Error::Exhausted {
                requested: 40,
                remaining: 32
            }
        );
        assert!(f
            .cursor
            .allocate(Layout::from_size_align(32, 8).unwrap())
            .is_some());
        assert!(
            f.cursor.allocate(Layout::new::<()>()).is_some(),
            "zero-sized never fails"
        );
    }

    #[test]
    fn overaligned_zero_sized_uses_no_space() {
        let f = fixture(4);
        f.cursor.allocate(Layout::new::<u8>()).unwrap();
        let zst = f
            .cursor
            .allocate(Layout::from_size_align(0, 64).unwrap())
            .unwrap();
        assert_eq!(zst.addr().get() % 64, 0);
        assert_eq!(f.cursor.used(), 8);
    }

    #[test]
    fn newest_block_grows_and_shrinks_in_place() {
        let f = fixture(16);
        let old = Layout::from_size_align(8, 8).unwrap();
        let block = f.cursor.allocate(old).unwrap();
        let new = Layout::from_size_align(40, 8).unwrap();
        // SAFETY: `block` is live for `old`.
        let grown = unsafe { f.cursor.grow(block, old, new, false) }.unwrap();
        assert_eq!(grown, block);
        assert_eq!(f.cursor.used(), 40);
        // SAFETY: `grown` is live for `new`.
        let shrunk = unsafe { f.cursor.shrink(grown, new, old) }.unwrap();
        assert_eq!(shrunk, block);
        assert_eq!(f.cursor.used(), 8);
        // SAFETY: `shrunk` is live for `old` and dead afterwards.
        unsafe { f.cursor.deallocate(shrunk, old) };
        assert_eq!(f.cursor.used(), 0);
    }

    #[test]
    fn blocks_freed_or_grown_through_a_narrowed_pointer_leave_the_cursor_whole() {
        let f = fixture(32);
        let small = Layout::new::<u64>();
        let narrowed = |block: NonNull<u8>| {
            // SAFETY: a live 8-byte block. The reference retags the pointer
            // to these 8 bytes, as a `Box<u64>` does.
            NonNull::from(unsafe { &mut *block.cast::<u64>().as_ptr() }).cast::<u8>()
        };
        let block = f.cursor.allocate(small).unwrap();
        // SAFETY: the block is dead from here on.
        unsafe { f.cursor.deallocate(narrowed(block), small) };
        let big = Layout::from_size_align(64, 8).unwrap();
        let next = f.cursor.allocate(big).unwrap();
        // SAFETY: a live 64-byte block (Miri checks the pointer covers it).
        unsafe { ptr::write_bytes(next.as_ptr(), 1, 64) };
        // SAFETY: `next` is dead from here on.
        unsafe { f.cursor.deallocate(next, big) };

        let block = f.cursor.allocate(small).unwrap();
        // SAFETY: the narrowed pointer is live for `small`.
        let grown = unsafe { f.cursor.grow(narrowed(block), small, big, true) }.unwrap();
        assert_eq!(grown, block, "grown in place");
        // SAFETY: a live 64-byte block.
        unsafe { ptr::write_bytes(grown.as_ptr(), 2, 64) };
        // SAFETY: the grown block is live for `big`; shrinking gives back its tail.
        let shrunk = unsafe { f.cursor.shrink(narrowed(grown), big, small) }.unwrap();
        assert_eq!(f.cursor.used(), 8);
        let after = f.cursor.allocate(big).unwrap();
        // SAFETY: a live 64-byte block next to the shrunk one.
        unsafe { ptr::write_bytes(after.as_ptr(), 3, 64) };
        // SAFETY: `shrunk` is live for 8 bytes.
        let kept = unsafe { shrunk.cast::<u64>().read() };
        assert_eq!(kept, 0x0202_0202_0202_0202);
    }

    #[test]
    fn older_block_grows_by_copying() {
        let f = fixture(16);
        let old = Layout::from_size_align(8, 8).unwrap();
        let first = f.cursor.allocate(old).unwrap();
        // SAFETY: `first` is a live 8-byte block.
        unsafe { first.cast::<u64>().write(0xDEAD_BEEF) };
        let _second = f.cursor.allocate(old).unwrap();
        let new = Layout::from_size_align(16, 8).unwrap();
        // SAFETY: `first` is live for `old`.
        let moved = unsafe { f.cursor.grow(first, old, new, true) }.unwrap();
        assert_ne!(moved, first);
        // SAFETY: `moved` is a live 16-byte block.
        unsafe {
            assert_eq!(moved.cast::<u64>().read(), 0xDEAD_BEEF);
            assert_eq!(moved.cast::<u64>().add(1).read(), 0);
        }
    }

    #[test]
    fn zeroed_blocks_are_zero_after_reuse() {
        let f = fixture(8);
        let layout = Layout::from_size_align(24, 8).unwrap();
        let block = f.cursor.allocate(layout).unwrap();
        // SAFETY: a live 24-byte block.
        unsafe { ptr::write_bytes(block.as_ptr(), 0xFF, 24) };
        // SAFETY: the block is dead from here on.
        unsafe { f.cursor.rewind(f.cursor.start()) };
        let again = f
            .cursor
            .allocate_zeroed(Layout::from_size_align(32, 8).unwrap())
            .unwrap();
        // SAFETY: a live 32-byte block.
        let bytes = unsafe { core::slice::from_raw_parts(again.as_ptr(), 32) };
        assert!(bytes.iter().all(|&b| b == 0));
    }

    #[test]
    fn the_limit_bounds_bumps_and_growth_but_not_shrinks() {
        let f = fixture(16);
        f.cursor.set_limit(Some(37));
        assert_eq!(f.cursor.remaining(), 32, "rounded down to 8");
        let old = Layout::from_size_align(16, 8).unwrap();
        let block = f.cursor.allocate(old).unwrap();
        let too_big = Layout::from_size_align(40, 8).unwrap();
        // SAFETY: `block` is live for `old`.
        assert!(unsafe { f.cursor.grow(block, old, too_big, false) }.is_none());
        let fits = Layout::from_size_align(32, 8).unwrap();
        // SAFETY: `block` is live for `old`.
        let grown = unsafe { f.cursor.grow(block, old, fits, false) }.unwrap();
        assert_eq!((grown, f.cursor.remaining()), (block, 0));
        f.cursor.set_limit(Some(8));
        assert_eq!(f.cursor.remaining(), 0, "a limit below the top");
        assert!(f.cursor.allocate(Layout::new::<u8>()).is_none());
        assert!(f
            .cursor
            .allocate(Layout::from_size_align(8, 64).unwrap())
            .is_none());
        assert_eq!(
            f.cursor.allocate(Layout::new::<()>()),
            Some(f.cursor.pos()),
            "zero-sized never fails"
        );
        // SAFETY: `grown` is live for `fits`; shrinking needs no room.
        let shrunk = unsafe { f.cursor.shrink(grown, fits, old) }.unwrap();
        assert_eq!((shrunk, f.cursor.used()), (block, 16));
        f.cursor.set_limit(None);
        assert_eq!(f.cursor.remaining(), 128 - 16);
        f.cursor.debug_assert_invariants();
    }

    #[test]
    fn the_peak_survives_rewinds_and_pristine_resets() {
        let mut f = fixture(16);
        let block = f.cursor.allocate(Layout::new::<[u64; 5]>()).unwrap();
        // SAFETY: the block is dead from here on.
        unsafe { f.cursor.deallocate(block, Layout::new::<[u64; 5]>()) };
        assert_eq!((f.cursor.used(), f.cursor.peak()), (0, 40));
        f.cursor.allocate(Layout::new::<[u64; 7]>()).unwrap();
        assert_eq!(f.cursor.peak(), 56, "the current top counts");
        // SAFETY: no block is live, and the test treats the memory as zero.
        unsafe { f.cursor.reset_pristine() };
        assert_eq!((f.cursor.touched(), f.cursor.peak()), (0, 40));
        // SAFETY: as above.
        unsafe { f.cursor.reset() };
        assert_eq!(f.cursor.peak(), 40);
    }

    #[test]
    fn floor_protects_blocks_below_it() {
        let f = fixture(8);
        let layout = Layout::new::<u64>();
        let outer = f.cursor.allocate(layout).unwrap();
        // SAFETY: `pos` is a valid floor.
        unsafe { f.cursor.set_floor(f.cursor.pos()) };
        // SAFETY: the contract is kept for the block; the floor refuses it.
        unsafe { f.cursor.deallocate(outer, layout) };
        assert_eq!(f.cursor.used(), 8, "a block below the floor is not popped");
    }
}
