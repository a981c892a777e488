//! The reference model and checker behind anon-arena's property tests and
//! fuzz targets: one model, two drivers.
//!
//! A program is a list of operations decoded from bytes with `arbitrary`.
//! `cargo test` feeds it bytes from proptest (fixed seed, fewer cases under
//! Miri); `cargo fuzz` feeds it bytes from libFuzzer. Either way the same
//! code runs the program against an allocator and the same [`Checker`]
//! judges every block and number the allocator hands back, so a fuzz crash
//! file replays as a unit test and a proptest failure is a fuzz seed.
//!
//! * [`api`]: any allocator through the allocator-api2 `Allocator` trait
//!   (allocate / grow / shrink / deallocate / allocate_zeroed / reset),
//!   generic over [`Subject`].
//! * [`arena_ops`]: `Arena`'s own surface (`alloc*`, `try_*`, reset,
//!   release) against an exact model of where the cursor must be.
//! * [`stack_ops`]: `StackArena`'s marks, nested scopes and trait calls
//!   on any scope's blocks, against the cursor model with scope floors.
//! * [`pool_ops`]: `Pool<T>`'s boxes and trait blocks under the slot and
//!   count rules, and its LIFO slot reuse.
//! * [`sync_ops`]: `SyncArena`'s surface and `Allocator` trait, from the
//!   arena and from `LocalArena` handles, single-threaded.
//! * [`collections_ops`]: the crate's `String`, `Vec` through `TryVec`,
//!   `collect_in` and leaks in an `Arena` under a moving allocation
//!   limit, each against a `std` twin.
//! * [`CursorModel`]: where a bump cursor must put every block, for the
//!   drivers of `Arena`, `StackArena` and `SyncArena`.
//! * [`math`]: the model's own `u128` address arithmetic, and the crate's
//!   private `src/math.rs` (compiled in by path) checked against it.
//!
//! `unsafe` is used to read and write the blocks under test through the
//! pointers the allocators return; [`Checker::admit`] states the contract.

use core::alloc::Layout;
use core::fmt;
use core::ops::Range;

/// What every program module's `Session` has alike: the free `run_bytes`
/// and `run` on a fresh session, `Default`, and `Session::run_bytes`
/// (decode, then `Session::run`). The module defines `Session`, its `new`
/// and its `run` over `$op`s.
macro_rules! session_basics {
    ($op:ty) => {
        /// Decodes a program from `bytes` and runs it on a fresh
        /// [`Session`].
        pub fn run_bytes(bytes: &[u8]) -> Result<(), $crate::Failure> {
            Session::new().run_bytes(bytes)
        }

        /// Runs `ops` on a fresh [`Session`].
        pub fn run(ops: &[$op]) -> Result<(), $crate::Failure> {
            Session::new().run(ops)
        }

        impl Default for Session {
            fn default() -> Session {
                Session::new()
            }
        }

        impl Session {
            /// Decodes a program from `bytes` and runs it.
            pub fn run_bytes(&mut self, bytes: &[u8]) -> Result<(), $crate::Failure> {
                self.run(&$crate::input::program::<$op>(bytes))
            }
        }
    };
}

pub mod api;
pub mod arena_ops;
mod checker;
pub mod collections_ops;
mod cursor_model;
pub mod input;
pub mod math;
pub mod pool_ops;
mod sequences;
pub mod stack_ops;
mod subjects;
pub mod sync_ops;

pub use checker::{Block, Checker, Contents, Resize};
pub use cursor_model::{CursorModel, Placed};

/// The byte counts an allocator reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// `allocated_bytes()`.
    pub allocated: usize,
    /// `remaining()`.
    pub remaining: usize,
    /// `capacity()`.
    pub capacity: usize,
}

/// A rule the allocator under test broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A block not aligned to `max(8, layout.align())`.
    Misaligned {
        /// Its address.
        addr: usize,
        /// The alignment it needed.
        align: usize,
    },
    /// A non-empty block not wholly inside the allocator's memory.
    OutOfBounds {
        /// The block's addresses.
        block: Range<usize>,
        /// The allocator's memory.
        bounds: Range<usize>,
    },
    /// A new block overlapping a live one.
    Overlap {
        /// The new block.
        new: Range<usize>,
        /// The live block it overlaps.
        live: Range<usize>,
    },
    /// A block whose bytes changed (or were not kept by a resize, or were
    /// not initialised with the value asked for).
    Corrupted {
        /// The block's address.
        addr: usize,
        /// The first differing byte.
        offset: usize,
        /// What it should hold.
        expected: u8,
        /// What it holds.
        found: u8,
    },
    /// A zeroed allocation (or the grown part of one) that is not zero.
    NotZeroed {
        /// The block's address.
        addr: usize,
        /// The first non-zero byte.
        offset: usize,
        /// Its value.
        found: u8,
    },
    /// `allocated + remaining != capacity`, or fewer bytes allocated than live.
    Stats(Stats),
    /// A live block above a bump allocator's cursor.
    AboveCursor {
        /// The block.
        block: Range<usize>,
        /// `start + allocated_bytes()`.
        cursor: usize,
    },
    /// A request refused although the allocator had room for it.
    Refused {
        /// The request.
        layout: Layout,
        /// What the allocator said was left.
        remaining: usize,
    },
    /// A request served that should have been refused, or refused with the
    /// wrong error or numbers.
    WrongOutcome(String),
    /// After a reset or rewind, the next block did not start where the
    /// freed space starts.
    NotReused {
        /// Where it should start.
        expected: usize,
        /// Where it started.
        found: usize,
    },
    /// `allocated_bytes()` not where the exact cursor model stands.
    Cursor {
        /// The model's offset.
        expected: usize,
        /// The allocator's.
        found: usize,
    },
    /// A block not where the exact cursor model puts it.
    WrongPosition {
        /// The model's address.
        expected: usize,
        /// The allocator's.
        found: usize,
    },
    /// A pool block not on a slot boundary, or larger than a slot.
    SlotMisplaced {
        /// Its address.
        addr: usize,
        /// The first slot.
        base: usize,
        /// Bytes from one slot to the next.
        stride: usize,
    },
    /// A pool reporting a different number of live slots.
    Count {
        /// Live blocks the checker holds.
        live: usize,
        /// What the pool says.
        reported: usize,
    },
    /// An arithmetic function disagreeing with the `u128` reference.
    Math(String),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A violation and the step of the program that revealed it.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The allocator under test.
    pub subject: &'static str,
    /// Index of the operation in the program (its length: the final sweep).
    pub step: usize,
    /// The operation, `Debug`-formatted.
    pub op: String,
    /// What went wrong.
    pub violation: Violation,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: step {} ({}): {}",
            self.subject, self.step, self.op, self.violation
        )
    }
}

impl Failure {
    /// A failure found before the program's first step, when the
    /// allocator a session reuses did not start over as a fresh one.
    pub fn at_start(subject: &'static str, violation: Violation) -> Failure {
        Failure {
            subject,
            step: 0,
            op: "reset before the program".into(),
            violation,
        }
    }
}

/// Resets `subject`, which earlier programs may have used, and checks it
/// starts over as a fresh one would: nothing allocated, the whole
/// [`CAPACITY`](input::CAPACITY) remaining (so no limit either). Returns
/// the program's checker, which expects the first non-empty block at the
/// start of the memory (a reset's reuse rule) for a bump allocator.
///
/// Memory the earlier programs filled stays dirty: a zeroed allocation
/// must still read zero, which a fresh mapping would show for free.
pub fn start_over<S: Subject>(subject: &mut S) -> Result<Checker, Violation> {
    assert!(S::RESET, "{} has no reset to start over with", S::NAME);
    subject.reset(false);
    let stats = subject.stats();
    if stats.allocated != 0
        || stats.remaining != stats.capacity
        || stats.capacity != input::CAPACITY
    {
        return Err(Violation::Stats(stats));
    }
    let bounds = subject.bounds();
    let mut checker = checker_for::<S>(bounds.clone());
    if S::BUMP {
        checker.clear(Some(bounds.start))?;
    }
    Ok(checker)
}

/// A checker for `S`'s blocks inside `bounds`, with its alignment rules.
pub(crate) fn checker_for<S: Subject>(bounds: Range<usize>) -> Checker {
    Checker::new(bounds)
        .with_min_align(S::MIN_ALIGN)
        .with_non_empty_align(S::NON_EMPTY_ALIGN)
}

/// An allocator the [`api`] programs can drive: `&Self` implements
/// allocator-api2's `Allocator`, and this trait tells the checker what the
/// trait does not. Implementing it (about fifteen lines) is all a new
/// allocator type needs to be fuzzed through the trait.
pub trait Subject {
    /// The type's name, for failure messages.
    const NAME: &'static str;
    /// Bump allocators keep every live block below `start + allocated`,
    /// and after a reset reuse the space from the start.
    const BUMP: bool;
    /// The type has `reset` (and maybe `release`).
    const RESET: bool;
    /// Every trait call bumps one cursor exactly as [`CursorModel`] says:
    /// each block where the model puts it (newest blocks freed, grown and
    /// shrunk in place), a refusal exactly when the model has no room, and
    /// `allocated_bytes()` where the model's cursor stands.
    const CURSOR: bool = false;
    /// A shrink whose address suits the new alignment keeps the block
    /// where it is (true of every bump allocator, exact or not).
    const SHRINKS_IN_PLACE: bool = Self::CURSOR;
    /// The alignment every block has at least (the checker's rule): 8 for
    /// the crate's arenas and pools.
    const MIN_ALIGN: usize = 8;
    /// The alignment every non-empty block has at least: `MIN_ALIGN`
    /// unless blocks are whole mappings.
    const NON_EMPTY_ALIGN: usize = Self::MIN_ALIGN;

    /// A fresh allocator of the capacity the programs use.
    fn make() -> Self;

    /// The addresses every non-empty block must lie in.
    fn bounds(&self) -> Range<usize>;

    /// The allocator's byte counts.
    fn stats(&self) -> Stats;

    /// Whether refusing `layout` now keeps the allocator's promise (it may
    /// only refuse what does not fit).
    fn may_refuse(&self, layout: Layout) -> bool;

    /// Frees every block (`release`: and returns the pages to the OS).
    /// Called only when [`RESET`](Self::RESET) is true.
    fn reset(&mut self, release: bool);

    /// Requests the programs do not make of this allocator: none for one
    /// with a capacity, which refuses what does not fit by itself. One
    /// without (`PageAllocator`) would map what it is asked, and the
    /// checker write every byte of it.
    fn skips(&self, layout: Layout) -> bool {
        let _ = layout;
        false
    }
}

/// For a bump allocator: may it refuse `layout` with `remaining` bytes
/// free? Only if the worst case — padding up to the alignment plus the
/// size rounded to 8 — does not fit. Zero-sized requests never fail.
pub fn bump_may_refuse(layout: Layout, remaining: usize) -> bool {
    if layout.size() == 0 {
        return false;
    }
    let worst = layout
        .size()
        .checked_next_multiple_of(8)
        .and_then(|size| size.checked_add(layout.align().max(8) - 8));
    worst.is_none_or(|worst| worst > remaining)
}
