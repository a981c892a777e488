//! The shared checker must catch broken allocators: each flaw below is an
//! `Arena` wrapper that breaks one promise on purpose, and both a
//! hand-written program and the random programs of the fuzz/proptest
//! drivers must report it — while the same wrapper without a flaw passes.

use std::alloc::Layout;
use std::cell::Cell;
use std::ops::Range;
use std::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator};
use anon_arena::Arena;
use anon_arena_model::api::{self, ApiOp};
use anon_arena_model::input::{program, Align, Size, Which, CAPACITY};
use anon_arena_model::{bump_may_refuse, Checker, Contents, Stats, Subject, Violation};

/// The one promise a [`Broken`] allocator breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flaw {
    /// None: the control.
    Sound,
    /// Every block after the first starts 8 bytes early, inside its
    /// neighbour.
    Overlap,
    /// Blocks start 4 bytes past an 8-aligned address.
    Misaligned,
    /// Blocks come from another arena, outside the reported bounds.
    OutOfBounds,
    /// `grow` moves the block without copying it.
    ForgetsOnGrow,
    /// `allocate_zeroed` does not zero.
    DirtyZeroed,
    /// `deallocate` overwrites a byte of the oldest live block.
    ScribblesOnFree,
    /// `allocated_bytes` is 8 too high.
    LyingStats,
    /// Refuses once half the capacity is used.
    RefusesEarly,
    /// After a reset, the first block starts 8 bytes late.
    NoReuse,
}

/// An `Arena` with a [`Flaw`].
struct Broken {
    arena: Arena,
    other: Arena,
    flaw: Flaw,
    /// The oldest live non-empty block (for `ScribblesOnFree`).
    oldest: Cell<Option<NonNull<u8>>>,
    /// Waste 8 bytes before the next block (for `NoReuse`).
    skip: Cell<bool>,
}

impl Broken {
    fn new(flaw: Flaw) -> Broken {
        Broken {
            arena: Arena::with_capacity(CAPACITY),
            other: Arena::with_capacity(CAPACITY),
            flaw,
            oldest: Cell::new(None),
            skip: Cell::new(false),
        }
    }

    fn raw_allocate(&self, layout: Layout) -> Result<NonNull<u8>, AllocError> {
        let arena = &self.arena;
        if self.flaw == Flaw::RefusesEarly && arena.allocated_bytes() > arena.capacity() / 2 {
            return Err(AllocError);
        }
        if self.skip.replace(false) {
            arena.allocate(Layout::new::<u64>())?;
        }
        let block = match self.flaw {
            Flaw::OutOfBounds => (&self.other).allocate(layout)?.cast::<u8>(),
            Flaw::Misaligned => {
                let padded = Layout::from_size_align(layout.size() + 8, layout.align())
                    .map_err(|_| AllocError)?;
                // SAFETY: 4 bytes into a block of `size + 8`.
                unsafe { arena.allocate(padded)?.cast::<u8>().add(4) }
            }
            Flaw::Overlap if layout.size() > 0 && arena.allocated_bytes() >= 8 => {
                // SAFETY: the arena is 8 bytes past its start at least, so
                // 8 bytes back is still inside it.
                unsafe { arena.allocate(layout)?.cast::<u8>().sub(8) }
            }
            _ => arena.allocate(layout)?.cast::<u8>(),
        };
        if layout.size() > 0 && self.oldest.get().is_none() {
            self.oldest.set(Some(block));
        }
        Ok(block)
    }
}

fn block(ptr: NonNull<u8>, layout: Layout) -> NonNull<[u8]> {
    NonNull::slice_from_raw_parts(ptr, layout.size())
}

// SAFETY: only for these tests. Every flaw breaks the contract on purpose,
// but each keeps the memory it hands out inside a live arena, so the
// checker's reads and writes stay inside mapped memory.
unsafe impl Allocator for &Broken {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        self.raw_allocate(layout).map(|ptr| block(ptr, layout))
    }

    fn allocate_zeroed(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        if self.flaw == Flaw::DirtyZeroed {
            return self.allocate(layout);
        }
        let ptr = self.raw_allocate(layout)?;
        // SAFETY: a fresh block of `layout.size()` bytes.
        unsafe { ptr.as_ptr().write_bytes(0, layout.size()) };
        Ok(block(ptr, layout))
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if self.oldest.get() == Some(ptr) {
            self.oldest.set(None);
        } else if let (Flaw::ScribblesOnFree, Some(oldest)) = (self.flaw, self.oldest.get()) {
            // SAFETY: the oldest block is live and non-empty.
            unsafe { oldest.as_ptr().write(0) };
        }
        // SAFETY: forwarded caller contract (blocks of other flaws are
        // never the arena's newest, so this frees nothing).
        unsafe { (&self.arena).deallocate(ptr, layout) }
    }

    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old: Layout,
        new: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        let moved = if self.flaw == Flaw::ForgetsOnGrow {
            self.raw_allocate(new)?
        } else {
            let moved = self.raw_allocate(new)?;
            // SAFETY: `old.size()` live bytes into a fresh, larger block.
            unsafe {
                moved
                    .as_ptr()
                    .copy_from_nonoverlapping(ptr.as_ptr(), old.size())
            };
            moved
        };
        if self.oldest.get() == Some(ptr) {
            self.oldest.set(None);
        }
        Ok(block(moved, new))
    }

    unsafe fn shrink(
        &self,
        ptr: NonNull<u8>,
        _old: Layout,
        new: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        if ptr.as_ptr() as usize % new.align() == 0 {
            return Ok(block(ptr, new));
        }
        let moved = self.raw_allocate(new)?;
        // SAFETY: `new.size() <= old.size()` live bytes into a fresh block.
        unsafe {
            moved
                .as_ptr()
                .copy_from_nonoverlapping(ptr.as_ptr(), new.size())
        };
        if self.oldest.get() == Some(ptr) {
            self.oldest.set(None);
        }
        Ok(block(moved, new))
    }
}

impl Subject for Broken {
    const NAME: &'static str = "Broken";
    const BUMP: bool = true;
    const RESET: bool = true;

    fn make() -> Self {
        Broken::new(Flaw::Sound)
    }

    fn bounds(&self) -> Range<usize> {
        self.arena.bounds()
    }

    fn stats(&self) -> Stats {
        let mut stats = Subject::stats(&self.arena);
        if self.flaw == Flaw::LyingStats {
            stats.allocated += 8;
        }
        stats
    }

    fn may_refuse(&self, layout: Layout) -> bool {
        bump_may_refuse(layout, self.arena.remaining())
    }

    fn reset(&mut self, release: bool) {
        Subject::reset(&mut self.arena, release);
        self.oldest.set(None);
        self.skip.set(self.flaw == Flaw::NoReuse);
    }
}

fn alloc(size: usize, zeroed: bool) -> ApiOp {
    ApiOp::Allocate {
        size: Size(size),
        align: Align(8),
        zeroed,
    }
}

/// A program that trips each flaw, and what the checker must report.
fn tripwire(flaw: Flaw) -> Vec<ApiOp> {
    let grow = ApiOp::Grow {
        which: Which(0),
        extra: Size(16),
        align: Align(8),
        zeroed: false,
    };
    let reset = ApiOp::Reset { release: false };
    match flaw {
        Flaw::ForgetsOnGrow => vec![alloc(16, false), grow],
        Flaw::DirtyZeroed => vec![alloc(64, false), reset, alloc(64, true)],
        Flaw::ScribblesOnFree => vec![alloc(16, false), alloc(16, false), ApiOp::DeallocateNewest],
        Flaw::RefusesEarly => vec![alloc(CAPACITY / 2 + 8, false), alloc(64, false)],
        Flaw::NoReuse => vec![alloc(16, false), reset, alloc(16, false)],
        _ => vec![alloc(16, false), alloc(16, false)],
    }
}

fn violation_kind(flaw: Flaw, violation: &Violation) -> bool {
    matches!(
        (flaw, violation),
        (Flaw::Overlap, Violation::Overlap { .. })
            | (Flaw::Misaligned, Violation::Misaligned { .. })
            | (Flaw::OutOfBounds, Violation::OutOfBounds { .. })
            | (Flaw::ForgetsOnGrow, Violation::Corrupted { .. })
            | (Flaw::DirtyZeroed, Violation::NotZeroed { .. })
            | (Flaw::ScribblesOnFree, Violation::Corrupted { .. })
            | (Flaw::LyingStats, Violation::Stats(_))
            | (Flaw::RefusesEarly, Violation::Refused { .. })
            | (Flaw::NoReuse, Violation::NotReused { .. })
    )
}

const FLAWS: [Flaw; 9] = [
    Flaw::Overlap,
    Flaw::Misaligned,
    Flaw::OutOfBounds,
    Flaw::ForgetsOnGrow,
    Flaw::DirtyZeroed,
    Flaw::ScribblesOnFree,
    Flaw::LyingStats,
    Flaw::RefusesEarly,
    Flaw::NoReuse,
];

#[test]
fn every_flaw_is_reported_by_its_tripwire_program() {
    for flaw in FLAWS {
        let ops = tripwire(flaw);
        let failure =
            api::run(&mut Broken::new(flaw), &ops).expect_err(&format!("{flaw:?} went unnoticed"));
        assert!(
            violation_kind(flaw, &failure.violation),
            "{flaw:?}: {failure}"
        );
        api::run(&mut Broken::new(Flaw::Sound), &ops).unwrap();
    }
}

/// Bytes of a deterministic pseudo-random program.
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
#[cfg_attr(miri, ignore = "hundreds of random programs; the tripwires cover Miri")]
#[cfg_attr(
    asan,
    ignore = "the flawed allocators hand out poisoned bytes; ASan reports that first"
)]
fn random_programs_find_every_flaw() {
    for flaw in FLAWS {
        let found = (0..300).any(|seed| {
            let ops = program::<ApiOp>(&random_bytes(seed, 2048));
            api::run(&mut Broken::new(flaw), &ops).is_err()
        });
        assert!(found, "300 random programs missed {flaw:?}");
    }
    for seed in 0..100 {
        let ops = program::<ApiOp>(&random_bytes(seed, 2048));
        if let Err(failure) = api::run(&mut Broken::new(Flaw::Sound), &ops) {
            panic!("the sound wrapper failed: {failure}");
        }
    }
}

/// Three 8-aligned blocks of `size` bytes inside a fresh arena, and the
/// checker for that arena.
fn admitted(arena: &Arena, sizes: &[usize], checker: &mut Checker) -> Vec<NonNull<u8>> {
    sizes
        .iter()
        .map(|&size| {
            let layout = Layout::from_size_align(size, 8).unwrap();
            let ptr = arena.alloc_layout(layout);
            // SAFETY: a fresh arena block, used only by the checker.
            unsafe { checker.admit(ptr, layout, Contents::Any) }.unwrap();
            ptr
        })
        .collect()
}

#[test]
fn slot_rules_catch_misplaced_and_duplicate_slots() {
    let arena = Arena::with_capacity(4096);
    let bounds = arena.bounds();
    let mut checker = Checker::new(bounds.clone()).with_slots(32);
    let ptrs = admitted(&arena, &[32], &mut checker);
    let layout = Layout::from_size_align(16, 8).unwrap();
    let (fine, off_slot) = (
        arena.alloc_layout(Layout::new::<[u8; 32]>()),
        arena.alloc_layout(layout),
    );
    // SAFETY: fresh arena blocks, used only by the checker.
    unsafe {
        checker.admit(fine, layout, Contents::Any).unwrap();
        let misplaced = checker.admit(off_slot.add(8), Layout::new::<u64>(), Contents::Any);
        assert!(
            matches!(misplaced, Err(Violation::SlotMisplaced { .. })),
            "{misplaced:?}"
        );
        let duplicate = checker.admit(ptrs[0], layout, Contents::Any);
        assert!(
            matches!(duplicate, Err(Violation::Overlap { .. })),
            "{duplicate:?}"
        );
    }
    assert!(matches!(
        checker.check_count(3),
        Err(Violation::Count {
            live: 2,
            reported: 3
        })
    ));
    checker.check_count(2).unwrap();
}

#[test]
fn scope_rules_forget_newer_blocks_and_demand_reuse() {
    let arena = Arena::with_capacity(4096);
    let mut checker = Checker::new(arena.bounds());
    let ptrs = admitted(&arena, &[8, 16, 24], &mut checker);
    checker.rewind(1, Some(ptrs[1].as_ptr() as usize)).unwrap();
    assert_eq!(checker.len(), 1);
    let layout = Layout::new::<u64>();
    // SAFETY: the third block's memory, dead to the checker since the rewind.
    let wrong = unsafe { checker.admit(ptrs[2], layout, Contents::Any) };
    assert!(
        matches!(wrong, Err(Violation::NotReused { .. })),
        "{wrong:?}"
    );
    // SAFETY: the second block's memory, likewise.
    unsafe { checker.admit(ptrs[1], layout, Contents::Any) }.unwrap();
    // SAFETY: the first block is live; a write through it is a corruption
    // the checker must see.
    unsafe { ptrs[0].as_ptr().write(0) };
    assert!(matches!(
        checker.verify_all(),
        Err(Violation::Corrupted { offset: 0, .. })
    ));
}

/// The checker compares whole periods of a block's pattern at once (and
/// the block against itself a period further on): one wrong byte
/// anywhere, also far past the first period, is still found, at its
/// offset, and so is one wrong byte of a block that must repeat a value.
#[test]
fn a_single_wrong_byte_is_found_anywhere_in_a_block() {
    let arena = Arena::with_capacity(1 << 16);
    for (size, wrong) in [
        (1000, 0),
        (1000, 255),
        (1000, 256),
        (1000, 700),
        (1000, 999),
        (9, 8),
    ] {
        let mut checker = Checker::new(arena.bounds());
        let ptr = admitted(&arena, &[size], &mut checker)[0];
        checker.verify(0).unwrap();
        // SAFETY: the checker's block of `size` bytes; nothing else uses it.
        unsafe { *ptr.as_ptr().add(wrong) ^= 0x40 };
        match checker.verify(0) {
            Err(Violation::Corrupted { offset, .. }) => assert_eq!(offset, wrong, "{size}"),
            other => panic!("byte {wrong} of {size} changed: {other:?}"),
        }
    }
    for (size, wrong) in [(5000, 0), (5000, 4096), (5000, 4999)] {
        let layout = Layout::from_size_align(size, 8).unwrap();
        let block = arena.alloc_slice_fill_copy(size, 7u8);
        block[wrong] = 8;
        let ptr = NonNull::from(block).cast();
        let mut checker = Checker::new(arena.bounds());
        // SAFETY: an arena block used only by the checker from here on.
        let found = unsafe { checker.admit(ptr, layout, Contents::Repeat(7)) };
        assert!(
            matches!(found, Err(Violation::Corrupted { offset, expected: 7, found: 8, .. }) if offset == wrong),
            "{found:?}"
        );
    }
}

/// A reused allocator must start over as a fresh one: `start_over`
/// refuses one that still has a limit below its capacity, and one of the
/// wrong capacity.
#[test]
fn start_over_refuses_an_arena_unlike_a_fresh_one() {
    let mut arena = <Arena as Subject>::make();
    arena.alloc_slice_fill_copy(100, 1u8);
    anon_arena_model::start_over(&mut arena).unwrap();
    assert_eq!(arena.allocated_bytes(), 0, "start_over resets");
    arena.set_allocation_limit(Some(4096));
    let limited = anon_arena_model::start_over(&mut arena).err();
    assert!(matches!(limited, Some(Violation::Stats(_))), "{limited:?}");
    arena.set_allocation_limit(None);
    let mut bigger = Arena::with_capacity(2 * CAPACITY);
    let wrong = anon_arena_model::start_over(&mut bigger).err();
    assert!(matches!(wrong, Some(Violation::Stats(_))), "{wrong:?}");
}
