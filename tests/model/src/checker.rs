//! [`Checker`]: what must hold of every block an allocator hands out, and of
//! the allocator's own numbers, whatever program produced them.
//!
//! The checker keeps the set of live blocks (in allocation order, and as a
//! map of address ranges for overlap queries), writes a fill pattern into
//! each block it admits, and verifies the pattern whenever the block is
//! freed, resized, or the allocator is reset. It knows nothing of any
//! particular allocator: the drivers in [`crate::api`] and
//! [`crate::arena_ops`] feed it what the allocator returned.

use core::alloc::Layout;
use core::ops::Range;
use core::ptr::NonNull;

use crate::input::Which;
use crate::Violation;

/// A block the checker believes is live.
#[derive(Clone, Copy, Debug)]
pub struct Block {
    /// The first byte, with the provenance the allocator gave it.
    pub ptr: NonNull<u8>,
    /// What it was allocated (or last resized) for.
    pub layout: Layout,
    /// Selects the fill pattern written into it.
    seed: u8,
    /// Which allocator of the program it belongs to (see
    /// [`Checker::tag`]); 0 unless tagged.
    owner: u32,
}

impl Block {
    /// The block's addresses.
    pub fn range(&self) -> Range<usize> {
        let start = self.ptr.as_ptr() as usize;
        start..start + self.layout.size()
    }
}

/// What a freshly allocated block must already contain.
#[derive(Clone, Copy, Debug)]
pub enum Contents<'a> {
    /// Anything (`allocate`).
    Any,
    /// All zero (`allocate_zeroed`, `alloc_slice_fill_default` of integers).
    Zero,
    /// Exactly these bytes (`alloc(value)`, `alloc_slice_copy`), as many
    /// as the block has.
    Bytes(&'a [u8]),
    /// This byte everywhere (`alloc_slice_fill_copy` of bytes).
    Repeat(u8),
}

/// How a live block was resized.
#[derive(Clone, Copy, Debug)]
pub enum Resize {
    /// `grow`: the old bytes are kept; with `zeroed`, the added ones read 0.
    Grow {
        /// `grow_zeroed` rather than `grow`.
        zeroed: bool,
    },
    /// `shrink`: the first `new.size()` bytes are kept.
    Shrink,
}

/// Pool geometry: every block starts on a slot boundary.
#[derive(Clone, Copy, Debug)]
struct Slots {
    base: usize,
    stride: usize,
}

/// The byte a block filled with `seed` holds at `offset`; never zero, so a
/// block that lost its contents to zeroes is caught, and different at
/// neighbouring offsets, so a copy from the wrong place is caught too.
/// It depends on the offset modulo 256 only, so a block's pattern is
/// [`PERIODS`]`[seed]` repeated: fills and checks copy and compare whole
/// slices (`memcpy` / `memcmp`, which ASan checks per call, not per byte).
const fn pattern(seed: u8, offset: usize) -> u8 {
    seed.wrapping_add((offset as u8).wrapping_mul(7)) | 1
}

/// Bytes of a pattern period.
const PERIOD: usize = 256;

/// One period of every seed's pattern.
static PERIODS: [[u8; PERIOD]; 256] = {
    let mut table = [[0; PERIOD]; 256];
    let mut seed = 0;
    while seed < 256 {
        let mut offset = 0;
        while offset < PERIOD {
            table[seed][offset] = pattern(seed as u8, offset);
            offset += 1;
        }
        seed += 1;
    }
    table
};

/// The first offset where `bytes` differs from `period` repeated.
///
/// `bytes` is `period` repeated exactly when its first period matches and
/// every byte equals the one a period before it: two slice comparisons
/// (`memcmp`), the second of `bytes` against itself shifted by a period.
/// Only a mismatch is searched for byte by byte.
fn first_difference(bytes: &[u8], period: &[u8]) -> Option<usize> {
    let head = bytes.len().min(period.len());
    let matches = bytes[..head] == period[..head] && bytes[head..] == bytes[..bytes.len() - head];
    if matches {
        return None;
    }
    (0..bytes.len()).find(|&i| bytes[i] != period[i % period.len()])
}

/// The first byte of `bytes` that is not `value`, by the same comparisons
/// as [`first_difference`] with a period of one byte.
fn first_other(bytes: &[u8], value: u8) -> Option<usize> {
    first_difference(bytes, &[value])
}

/// The live-block set and the rules every allocator obeys.
///
/// Admitting a block is `unsafe` because the checker then reads and writes
/// it until it is forgotten; every other method relies on that promise.
pub struct Checker {
    /// Addresses every non-empty block must lie in.
    bounds: Range<usize>,
    /// The alignment every block has at least (8 for this crate).
    min_align: usize,
    /// The alignment every non-empty block has at least.
    non_empty_align: usize,
    /// Live blocks, oldest first.
    live: Vec<Block>,
    /// Start -> end of every live non-empty block.
    ranges: Ranges,
    /// Sum of the live blocks' sizes, each rounded up to `min_align`.
    live_bytes: usize,
    /// Seed for the next fill; cycles through odd values.
    next_seed: u8,
    /// Where the next non-empty, at most `min_align`-aligned block must
    /// start (after a reset or rewind), if the allocator promises reuse.
    reuse_at: Option<usize>,
    /// Pool slot geometry, if any.
    slots: Option<Slots>,
}

impl Checker {
    /// A checker for blocks inside `bounds`, aligned to at least 8.
    pub fn new(bounds: Range<usize>) -> Checker {
        Checker {
            bounds,
            min_align: 8,
            non_empty_align: 1,
            live: Vec::new(),
            ranges: Ranges::default(),
            live_bytes: 0,
            next_seed: 1,
            reuse_at: None,
            slots: None,
        }
    }

    /// Every block must also start at `bounds.start + k * stride`: the slot
    /// rule of a pool. Overlap checking then also proves slot uniqueness.
    pub fn with_slots(mut self, stride: usize) -> Checker {
        self.slots = Some(Slots {
            base: self.bounds.start,
            stride,
        });
        self
    }

    /// The minimum alignment every block has (8 unless changed).
    pub fn with_min_align(mut self, align: usize) -> Checker {
        self.min_align = align;
        self
    }

    /// The alignment every non-empty block has at least, above
    /// [`with_min_align`](Self::with_min_align)'s (a page for an allocator
    /// that maps each block).
    pub fn with_non_empty_align(mut self, align: usize) -> Checker {
        self.non_empty_align = align;
        self
    }

    /// How many blocks are live.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// No block is live.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// The `index`-th live block, oldest first.
    pub fn block(&self, index: usize) -> Block {
        self.live[index]
    }

    /// The newest live block's index.
    pub fn newest(&self) -> Option<usize> {
        self.live.len().checked_sub(1)
    }

    /// Marks block `index` as `owner`'s: a program with several allocators
    /// over one memory (an arena and its handles) resizes and frees each
    /// block only through the allocator that handed it out. Resizes keep
    /// the tag.
    pub fn tag(&mut self, index: usize, owner: u32) {
        self.live[index].owner = owner;
    }

    /// Hands every live block tagged `from` to `to` (an allocator taking
    /// over the blocks of one that is gone).
    pub fn retag(&mut self, from: u32, to: u32) {
        for block in self.live.iter_mut().filter(|b| b.owner == from) {
            block.owner = to;
        }
    }

    /// The index of the `which`-th (modulo their number) live block
    /// tagged `owner`, oldest first; `None` when it has none.
    pub fn pick(&self, owner: u32, which: Which) -> Option<usize> {
        let count = self.live.iter().filter(|b| b.owner == owner).count();
        let nth = which.of(count)?;
        self.owned_by(owner).nth(nth)
    }

    /// The index of the newest live block tagged `owner`.
    pub fn newest_of(&self, owner: u32) -> Option<usize> {
        self.owned_by(owner).next_back()
    }

    fn owned_by(&self, owner: u32) -> impl DoubleEndedIterator<Item = usize> + '_ {
        (0..self.live.len()).filter(move |&i| self.live[i].owner == owner)
    }

    /// Bytes of all live blocks, each rounded up to the minimum alignment.
    pub fn live_bytes(&self) -> usize {
        self.live_bytes
    }

    /// Records a block the allocator just returned, after checking its
    /// alignment, bounds, overlap with every live block, slot placement,
    /// reuse position and initial `contents`; then fills it. Returns its
    /// index.
    ///
    /// # Safety
    ///
    /// * `ptr` is valid for reads and writes of `layout.size()` bytes, and
    ///   nothing else accesses them, until the checker forgets the block
    ///   ([`retire`](Self::retire), [`rewind`](Self::rewind),
    ///   [`clear`](Self::clear), or a [`resized`](Self::resized) that moves
    ///   it).
    pub unsafe fn admit(
        &mut self,
        ptr: NonNull<u8>,
        layout: Layout,
        contents: Contents<'_>,
    ) -> Result<usize, Violation> {
        self.check_place(ptr, layout)?;
        // The first non-empty block after a reset or rewind starts where the
        // freed space starts, unless its alignment pads it further.
        let reuse_at = if layout.size() > 0 {
            self.reuse_at.take()
        } else {
            None
        };
        if let Some(expected) = reuse_at.filter(|_| layout.align() <= self.min_align) {
            let found = ptr.as_ptr() as usize;
            if found != expected {
                return Err(Violation::NotReused { expected, found });
            }
        }
        let bytes = self.bytes(ptr, layout.size());
        match contents {
            Contents::Any => {}
            Contents::Zero => {
                if let Some(offset) = first_other(bytes, 0) {
                    return Err(Violation::NotZeroed {
                        addr: ptr.as_ptr() as usize,
                        offset,
                        found: bytes[offset],
                    });
                }
            }
            Contents::Repeat(value) => {
                if let Some(offset) = first_other(bytes, value) {
                    return Err(Violation::Corrupted {
                        addr: ptr.as_ptr() as usize,
                        offset,
                        expected: value,
                        found: bytes[offset],
                    });
                }
            }
            Contents::Bytes(expected) => {
                assert_eq!(
                    expected.len(),
                    bytes.len(),
                    "a driver expects the wrong length"
                );
                let differs = bytes != expected;
                if let Some(offset) = differs
                    .then(|| bytes.iter().zip(expected).position(|(a, b)| a != b))
                    .flatten()
                {
                    return Err(Violation::Corrupted {
                        addr: ptr.as_ptr() as usize,
                        offset,
                        expected: expected[offset],
                        found: bytes[offset],
                    });
                }
            }
        }
        let block = self.fill(ptr, layout);
        self.insert_range(&block);
        self.live.push(block);
        Ok(self.live.len() - 1)
    }

    /// Checks the live block `index` still holds its pattern.
    pub fn verify(&self, index: usize) -> Result<(), Violation> {
        let block = &self.live[index];
        let bytes = self.bytes(block.ptr, block.layout.size());
        Self::compare(block, bytes, block.layout.size())
    }

    /// [`verify`](Self::verify) for every live block.
    pub fn verify_all(&self) -> Result<(), Violation> {
        (0..self.live.len()).try_for_each(|i| self.verify(i))
    }

    /// Verifies every live block and writes a new pattern over it: after a
    /// step that may have taken write access away from the blocks (a
    /// frozen arena thawed), writes must work again.
    pub fn rewrite_all(&mut self) -> Result<(), Violation> {
        for index in 0..self.live.len() {
            self.verify(index)?;
            let block = self.live[index];
            self.live[index] = Block {
                owner: block.owner,
                ..self.fill(block.ptr, block.layout)
            };
        }
        Ok(())
    }

    /// Verifies and forgets block `index` (the caller frees it next).
    pub fn retire(&mut self, index: usize) -> Result<Block, Violation> {
        self.verify(index)?;
        let block = self.live.remove(index);
        self.remove_range(&block);
        Ok(block)
    }

    /// Records that block `index` was resized to `ptr`/`layout` (its old
    /// pointer is dead): checks what the resize kept, and the new block's
    /// placement as for [`admit`](Self::admit); then refills it.
    ///
    /// # Safety
    ///
    /// * As for [`admit`](Self::admit), for `ptr` and `layout`.
    pub unsafe fn resized(
        &mut self,
        index: usize,
        ptr: NonNull<u8>,
        layout: Layout,
        how: Resize,
    ) -> Result<(), Violation> {
        let old = self.live[index];
        self.remove_range(&old);
        self.check_place(ptr, layout)?;
        if layout.size() > 0 {
            // A block grown from empty may take the freed space's start.
            self.reuse_at = None;
        }
        let bytes = self.bytes(ptr, layout.size());
        let kept = old.layout.size().min(layout.size());
        Self::compare(&old, &bytes[..kept], kept)?;
        if let Resize::Grow { zeroed: true } = how {
            if let Some(offset) = first_other(&bytes[kept..], 0) {
                return Err(Violation::NotZeroed {
                    addr: ptr.as_ptr() as usize,
                    offset: kept + offset,
                    found: bytes[kept + offset],
                });
            }
        }
        let block = Block {
            owner: old.owner,
            ..self.fill(ptr, layout)
        };
        self.insert_range(&block);
        self.live[index] = block;
        Ok(())
    }

    /// A mark for [`rewind`](Self::rewind): how many blocks are live now.
    pub fn mark(&self) -> usize {
        self.live.len()
    }

    /// The scope rule: every block allocated after `mark` is gone, the
    /// older ones are intact, and (for a stack) the next block starts at
    /// `reuse_at`.
    pub fn rewind(&mut self, mark: usize, reuse_at: Option<usize>) -> Result<(), Violation> {
        self.verify_all()?;
        for block in self.live.split_off(mark) {
            self.remove_range(&block);
        }
        self.reuse_at = reuse_at;
        Ok(())
    }

    /// The stack rule by address: every block reaching past `cut`, or
    /// starting at or past it, is gone (a scope ended or a mark was reset
    /// to), the others are intact, and the next block starts at `cut`.
    /// Unlike [`rewind`](Self::rewind) this holds however the blocks were
    /// ordered: one made before a scope and moved into it by a resize dies
    /// with the scope.
    pub fn rewind_to(&mut self, cut: usize) -> Result<(), Violation> {
        self.verify_all()?;
        let (dead, live) = core::mem::take(&mut self.live)
            .into_iter()
            .partition(|block| block.range().start >= cut || block.range().end > cut);
        self.live = live;
        for block in dead {
            self.remove_range(&block);
        }
        self.reuse_at = Some(cut);
        Ok(())
    }

    /// Drops the reuse rule of the last rewind: a LIFO free (pop, or a
    /// shrink of the top block) moved the cursor below where it said the
    /// next block goes.
    pub fn forget_reuse(&mut self) {
        self.reuse_at = None;
    }

    /// Verifies and forgets every block (the caller resets next); with
    /// `reuse_at`, the next block must start there.
    pub fn clear(&mut self, reuse_at: Option<usize>) -> Result<(), Violation> {
        self.rewind(0, reuse_at)
    }

    /// The numbers rule: `allocated + remaining == capacity`, and for a
    /// bump allocator every live block lies below the cursor
    /// (`bounds.start + allocated`) and the live bytes fit in `allocated`.
    pub fn check_stats(&self, stats: crate::Stats, bump: bool) -> Result<(), Violation> {
        if stats.allocated.checked_add(stats.remaining) != Some(stats.capacity) {
            return Err(Violation::Stats(stats));
        }
        if bump {
            let cursor = self.bounds.start + stats.allocated;
            if let Some(&(start, end)) = self.ranges.last() {
                if end > cursor {
                    return Err(Violation::AboveCursor {
                        block: start..end,
                        cursor,
                    });
                }
            }
            if self.live_bytes() > stats.allocated {
                return Err(Violation::Stats(stats));
            }
        }
        Ok(())
    }

    /// The element count rule of a pool: it reports as many live slots as
    /// the checker holds.
    pub fn check_count(&self, reported: usize) -> Result<(), Violation> {
        if reported != self.live.len() {
            return Err(Violation::Count {
                live: self.live.len(),
                reported,
            });
        }
        Ok(())
    }

    /// Alignment, bounds, slot placement and overlap of a new block.
    fn check_place(&self, ptr: NonNull<u8>, layout: Layout) -> Result<(), Violation> {
        let addr = ptr.as_ptr() as usize;
        let align = layout.align().max(self.min_align);
        if addr % align != 0 {
            return Err(Violation::Misaligned { addr, align });
        }
        if layout.size() == 0 {
            return Ok(());
        }
        if addr % self.non_empty_align != 0 {
            return Err(Violation::Misaligned {
                addr,
                align: self.non_empty_align,
            });
        }
        let range = addr..addr.wrapping_add(layout.size());
        if range.start < self.bounds.start || range.end > self.bounds.end || range.end < addr {
            return Err(Violation::OutOfBounds {
                block: range,
                bounds: self.bounds.clone(),
            });
        }
        if let Some(Slots { base, stride }) = self.slots {
            if (addr - base) % stride != 0 || layout.size() > stride {
                return Err(Violation::SlotMisplaced { addr, base, stride });
            }
        }
        // The live range starting last at or before `addr`, and the first
        // one starting after it, are the only candidates for an overlap.
        for &(start, end) in self.ranges.around(addr) {
            if start < range.end && range.start < end {
                return Err(Violation::Overlap {
                    new: range,
                    live: start..end,
                });
            }
        }
        Ok(())
    }

    /// Writes a fresh pattern over `ptr..ptr + layout.size()`.
    fn fill(&mut self, ptr: NonNull<u8>, layout: Layout) -> Block {
        let seed = self.next_seed;
        self.next_seed = self.next_seed.wrapping_add(2);
        // SAFETY: `admit`'s contract: the block is valid for writes of
        // `layout.size()` bytes and only the checker accesses it.
        let bytes = unsafe { core::slice::from_raw_parts_mut(ptr.as_ptr(), layout.size()) };
        // The first period, then what is filled already doubled until the
        // block is full.
        let period = &PERIODS[usize::from(seed)];
        let mut done = bytes.len().min(PERIOD);
        bytes[..done].copy_from_slice(&period[..done]);
        while done < bytes.len() {
            let more = done.min(bytes.len() - done);
            bytes.copy_within(..more, done);
            done += more;
        }
        Block {
            ptr,
            layout,
            seed,
            owner: 0,
        }
    }

    /// The bytes of a block the checker was promised access to.
    fn bytes(&self, ptr: NonNull<u8>, len: usize) -> &[u8] {
        // SAFETY: `admit`'s contract: the block is valid for reads of `len`
        // bytes while admitted, and the checker holds no mutable view of it.
        unsafe { core::slice::from_raw_parts(ptr.as_ptr(), len) }
    }

    /// `bytes[..len]` against the pattern `block` was filled with.
    fn compare(block: &Block, bytes: &[u8], len: usize) -> Result<(), Violation> {
        let period = &PERIODS[usize::from(block.seed)];
        match first_difference(&bytes[..len], period) {
            None => Ok(()),
            Some(offset) => Err(Violation::Corrupted {
                addr: block.ptr.as_ptr() as usize,
                offset,
                expected: pattern(block.seed, offset),
                found: bytes[offset],
            }),
        }
    }

    fn insert_range(&mut self, block: &Block) {
        self.live_bytes += block.layout.size().next_multiple_of(self.min_align);
        if block.layout.size() > 0 {
            let range = block.range();
            self.ranges.insert(range);
        }
    }

    fn remove_range(&mut self, block: &Block) {
        self.live_bytes -= block.layout.size().next_multiple_of(self.min_align);
        if block.layout.size() > 0 {
            self.ranges.remove(block.range().start);
        }
    }
}

/// The live blocks' address ranges as `(start, end)`, sorted by start
/// (starts are distinct: non-empty live blocks do not overlap). A sorted
/// `Vec` rather than a `BTreeMap`: programs hold a few dozen blocks, and
/// a binary search over a slice is a fraction of the branches the map's
/// node walk takes, which the fuzzers' instrumentation charges for.
#[derive(Debug, Default)]
struct Ranges(Vec<(usize, usize)>);

impl Ranges {
    /// Where the range starting at `start` is (`Ok`) or would go (`Err`).
    fn find(&self, start: usize) -> Result<usize, usize> {
        self.0.binary_search_by_key(&start, |&(from, _)| from)
    }

    /// Records `range`, replacing one with the same start.
    fn insert(&mut self, range: Range<usize>) {
        let entry = (range.start, range.end);
        match self.find(range.start) {
            Ok(index) => self.0[index] = entry,
            Err(index) => self.0.insert(index, entry),
        }
    }

    /// Forgets the range starting at `start`, if there is one.
    fn remove(&mut self, start: usize) {
        if let Ok(index) = self.find(start) {
            self.0.remove(index);
        }
    }

    /// The range starting last at or before `addr` and the first one
    /// starting after it, those that exist.
    fn around(&self, addr: usize) -> &[(usize, usize)] {
        let after = self.0.partition_point(|&(start, _)| start <= addr);
        &self.0[after.saturating_sub(1)..self.0.len().min(after + 1)]
    }

    /// The range that starts last.
    fn last(&self) -> Option<&(usize, usize)> {
        self.0.last()
    }
}
