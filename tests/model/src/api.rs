//! Programs through allocator-api2's `Allocator` trait, for any
//! [`Subject`]: allocate, allocate_zeroed, grow (with or without zeroing,
//! to any alignment), shrink, deallocate, reset and release.
//!
//! [`step`] judges one trait call on any allocator under [`Rules`] the
//! driver states; [`run`] drives a [`Subject`] with it, and
//! [`sync_ops`](crate::sync_ops) drives a `SyncArena` and its handles.

use core::alloc::Layout;
use core::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator};
use arbitrary::Arbitrary;

use crate::input::{program, Align, Size, Which};
use crate::{
    start_over, Checker, Contents, CursorModel, Failure, Placed, Resize, Subject, Violation,
};

/// One step of an allocator-api program.
#[derive(Clone, Debug, Arbitrary)]
pub enum ApiOp {
    /// `allocate` or `allocate_zeroed`.
    Allocate {
        /// Bytes.
        size: Size,
        /// Alignment.
        align: Align,
        /// `allocate_zeroed`.
        zeroed: bool,
    },
    /// `grow` or `grow_zeroed` of a live block, by `extra` bytes, to `align`.
    Grow {
        /// Which live block.
        which: Which,
        /// Bytes added.
        extra: Size,
        /// The new alignment.
        align: Align,
        /// `grow_zeroed`.
        zeroed: bool,
    },
    /// `shrink` of a live block by `less` bytes (modulo its size), to `align`.
    Shrink {
        /// Which live block.
        which: Which,
        /// Bytes taken off.
        less: Size,
        /// The new alignment.
        align: Align,
    },
    /// `deallocate` a live block.
    Deallocate {
        /// Which live block.
        which: Which,
    },
    /// `deallocate` the newest block (the one a bump allocator reclaims).
    DeallocateNewest,
    /// `reset`, or `release` (reset and hand the pages back): the driver's
    /// business, since it needs the allocator by `&mut`; [`step`] ignores it.
    Reset {
        /// `release` rather than `reset`.
        release: bool,
    },
}

/// What a driver knows of the allocator a [`step`] goes to, beyond what
/// every allocator promises (blocks aligned, inside the bounds, apart,
/// exactly the size asked, contents kept by resizes, zeroed bytes zero).
pub struct Rules<'r> {
    /// Whether an allocation of this layout may be refused now.
    pub may_refuse: &'r dyn Fn(Layout) -> bool,
    /// Whether a resize to this layout that cannot stay in place may be
    /// refused now (a shrink whose address suits the new alignment is
    /// never refused).
    pub may_refuse_move: &'r dyn Fn(Layout) -> bool,
    /// A shrink whose address suits the new alignment keeps the block
    /// where it is.
    pub shrinks_in_place: bool,
    /// Requests not to make (see [`Subject::skips`]).
    pub skips: &'r dyn Fn(Layout) -> bool,
    /// What the allocator says is left, for the message of a refusal.
    pub remaining: usize,
    /// For an allocator whose trait calls all bump one cursor: the model
    /// of that cursor, which then decides every address and refusal, and
    /// which the step moves as the allocator must have moved.
    pub cursor: Option<&'r mut CursorModel>,
}

/// A rule that holds for no layout: nothing may be refused, nothing is
/// skipped.
pub(crate) fn never_asked(_: Layout) -> bool {
    false
}

impl<'r> Rules<'r> {
    /// The rules of an allocator whose trait calls all bump the cursor
    /// `cursor` models: the model decides every address and refusal (no
    /// `may_refuse` is asked), and shrinks stay in place when aligned.
    pub fn exact(cursor: &'r mut CursorModel, remaining: usize) -> Rules<'r> {
        Rules {
            may_refuse: &never_asked,
            may_refuse_move: &never_asked,
            skips: &never_asked,
            shrinks_in_place: true,
            remaining,
            cursor: Some(cursor),
        }
    }
}

/// Decodes a program from `bytes` and runs it against a fresh `S`.
pub fn run_bytes<S: Subject>(bytes: &[u8]) -> Result<(), Failure>
where
    for<'a> &'a S: Allocator,
{
    run(&mut S::make(), &program::<ApiOp>(bytes))
}

/// One `S` for program after program, as a fuzz target keeps it: each
/// program starts with a `reset` and the check that `S` is as good as new
/// ([`start_over`]), then runs over memory the earlier programs dirtied.
pub struct Session<S> {
    subject: S,
}

impl<S: Subject> Default for Session<S>
where
    for<'a> &'a S: Allocator,
{
    fn default() -> Session<S> {
        Session::new()
    }
}

impl<S: Subject> Session<S>
where
    for<'a> &'a S: Allocator,
{
    /// A session over a fresh `S`.
    pub fn new() -> Session<S> {
        Session { subject: S::make() }
    }

    /// Decodes a program from `bytes` and runs it on the session's `S`,
    /// reset first (an `S` without reset frees what each program leaves).
    pub fn run_bytes(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        let ops = program::<ApiOp>(bytes);
        if !S::RESET {
            return run(&mut self.subject, &ops);
        }
        let checker = start_over(&mut self.subject).map_err(|v| Failure::at_start(S::NAME, v))?;
        run_with(&mut self.subject, checker, &ops)
    }
}

/// Runs `ops` against `subject`, checking every result and, after every
/// step, the subject's numbers (and, for a [`Subject::CURSOR`] type, that
/// `allocated_bytes()` is where the cursor model stands); at the end,
/// every live block's contents. An `S` without reset then frees every
/// block still live, checked once more as it goes.
pub fn run<S: Subject>(subject: &mut S, ops: &[ApiOp]) -> Result<(), Failure>
where
    for<'a> &'a S: Allocator,
{
    let checker = crate::checker_for::<S>(subject.bounds());
    run_with(subject, checker, ops)
}

fn run_with<S: Subject>(subject: &mut S, mut checker: Checker, ops: &[ApiOp]) -> Result<(), Failure>
where
    for<'a> &'a S: Allocator,
{
    let bounds = subject.bounds();
    let stats = subject.stats();
    let mut cursor =
        S::CURSOR.then(|| CursorModel::new(bounds.start, stats.allocated, stats.capacity));
    let fail = |step: usize, violation: Violation| Failure {
        subject: S::NAME,
        step,
        op: ops
            .get(step)
            .map_or("final sweep".into(), |op| format!("{op:?}")),
        violation,
    };
    for (index, op) in ops.iter().enumerate() {
        apply(subject, &mut checker, cursor.as_mut(), op).map_err(|v| fail(index, v))?;
        let stats = subject.stats();
        checker
            .check_stats(stats, S::BUMP)
            .map_err(|v| fail(index, v))?;
        if let Some(cursor) = &cursor {
            if stats.allocated != cursor.pos {
                let (expected, found) = (cursor.pos, stats.allocated);
                return Err(fail(index, Violation::Cursor { expected, found }));
            }
        }
    }
    checker.verify_all().map_err(|v| fail(ops.len(), v))?;
    if !S::RESET {
        while let Some(index) = checker.newest() {
            deallocate(&*subject, &mut checker, None, index).map_err(|v| fail(ops.len(), v))?;
        }
    }
    Ok(())
}

fn apply<S: Subject>(
    subject: &mut S,
    checker: &mut Checker,
    cursor: Option<&mut CursorModel>,
    op: &ApiOp,
) -> Result<(), Violation>
where
    for<'a> &'a S: Allocator,
{
    if let ApiOp::Reset { release } = *op {
        if !S::RESET {
            return Ok(());
        }
        let start = subject.bounds().start;
        checker.clear(S::BUMP.then_some(start))?;
        subject.reset(release);
        if let Some(cursor) = cursor {
            cursor.pos = 0;
        }
        let stats = subject.stats();
        if stats.allocated != 0 {
            return Err(Violation::Stats(stats));
        }
        return Ok(());
    }
    let subject = &*subject;
    let may_refuse = |layout| subject.may_refuse(layout);
    let skips = |layout| subject.skips(layout);
    let rules = Rules {
        may_refuse: &may_refuse,
        may_refuse_move: &may_refuse,
        skips: &skips,
        shrinks_in_place: S::SHRINKS_IN_PLACE,
        remaining: subject.stats().remaining,
        cursor,
    };
    step(subject, checker, 0, op, rules)
}

/// Applies one trait call of `op` to `allocator` and judges it: blocks are
/// picked among the live ones tagged `owner` (see [`Checker::tag`]), and
/// new ones are tagged so. `ApiOp::Reset` does nothing here.
pub fn step<A: Allocator>(
    allocator: A,
    checker: &mut Checker,
    owner: u32,
    op: &ApiOp,
    mut rules: Rules<'_>,
) -> Result<(), Violation> {
    match *op {
        ApiOp::Allocate {
            size,
            align,
            zeroed,
        } => {
            let Ok(layout) = Layout::from_size_align(size.0, align.0) else {
                return Ok(());
            };
            if (rules.skips)(layout) {
                return Ok(());
            }
            let placed = rules.cursor.as_deref().map(|cursor| cursor.fresh(layout));
            let may_refuse = (rules.may_refuse)(layout);
            let result = if zeroed {
                allocator.allocate_zeroed(layout)
            } else {
                allocator.allocate(layout)
            };
            let Some(ptr) = judge(&mut rules, placed, may_refuse, result, layout)? else {
                return Ok(());
            };
            let contents = if zeroed {
                Contents::Zero
            } else {
                Contents::Any
            };
            // SAFETY: a fresh block of `layout` from the allocator, used
            // only by the checker until it is freed, resized or the
            // allocator reset, each of which forgets it first.
            let index = unsafe { checker.admit(ptr, layout, contents) }?;
            checker.tag(index, owner);
            Ok(())
        }
        ApiOp::Grow {
            which,
            extra,
            align,
            zeroed,
        } => {
            let Some(index) = checker.pick(owner, which) else {
                return Ok(());
            };
            let old = checker.block(index);
            let new_size = old.layout.size().checked_add(extra.0);
            let Some(new) = new_size.and_then(|size| Layout::from_size_align(size, align.0).ok())
            else {
                return Ok(());
            };
            if (rules.skips)(new) {
                return Ok(());
            }
            checker.verify(index)?;
            let addr = old.ptr.as_ptr() as usize;
            let placed = rules
                .cursor
                .as_deref()
                .map(|cursor| cursor.grow(addr, old.layout, new));
            let may_refuse = (rules.may_refuse_move)(new);
            // SAFETY: `old` is live in this allocator for `old.layout`, and
            // `new` is no smaller; the checker forgets the old pointer on
            // success.
            let result = unsafe {
                if zeroed {
                    allocator.grow_zeroed(old.ptr, old.layout, new)
                } else {
                    allocator.grow(old.ptr, old.layout, new)
                }
            };
            match judge(&mut rules, placed, may_refuse, result, new)? {
                // SAFETY: as for `admit` in `Allocate`.
                Some(ptr) => unsafe { checker.resized(index, ptr, new, Resize::Grow { zeroed }) },
                None => Ok(()),
            }
        }
        ApiOp::Shrink { which, less, align } => {
            let Some(index) = checker.pick(owner, which) else {
                return Ok(());
            };
            let old = checker.block(index);
            let new_size = old.layout.size() - less.0 % (old.layout.size() + 1);
            let Ok(new) = Layout::from_size_align(new_size, align.0) else {
                return Ok(());
            };
            if (rules.skips)(new) {
                return Ok(());
            }
            checker.verify(index)?;
            let addr = old.ptr.as_ptr() as usize;
            // A block already aligned for `new` shrinks in place.
            let in_place = addr % new.align() == 0;
            let placed = rules
                .cursor
                .as_deref()
                .map(|cursor| cursor.shrink(addr, old.layout, new));
            let may_refuse = !in_place && (rules.may_refuse_move)(new);
            // SAFETY: `old` is live for `old.layout`; `new` is no larger.
            let result = unsafe { allocator.shrink(old.ptr, old.layout, new) };
            let Some(ptr) = judge(&mut rules, placed, may_refuse, result, new)? else {
                return Ok(());
            };
            if rules.shrinks_in_place && in_place && ptr != old.ptr {
                return Err(Violation::WrongPosition {
                    expected: addr,
                    found: ptr.as_ptr() as usize,
                });
            }
            // SAFETY: as for `admit` in `Allocate`.
            unsafe { checker.resized(index, ptr, new, Resize::Shrink) }
        }
        ApiOp::Deallocate { which } => match checker.pick(owner, which) {
            Some(index) => deallocate(allocator, checker, rules.cursor, index),
            None => Ok(()),
        },
        ApiOp::DeallocateNewest => match checker.newest_of(owner) {
            Some(index) => deallocate(allocator, checker, rules.cursor, index),
            None => Ok(()),
        },
        ApiOp::Reset { .. } => Ok(()),
    }
}

/// Judges what an allocation or resize to `layout` returned: the exact
/// length; with a cursor model, the model's address (and the model moves)
/// or the model's refusal; without one, a refusal only if `may_refuse`.
/// Returns the served block, or `None` for an accepted refusal.
fn judge(
    rules: &mut Rules<'_>,
    placed: Option<Option<Placed>>,
    may_refuse: bool,
    result: Result<NonNull<[u8]>, AllocError>,
    layout: Layout,
) -> Result<Option<NonNull<u8>>, Violation> {
    let block = match result {
        Ok(block) => block,
        Err(_) if placed.map_or(may_refuse, |placed| placed.is_none()) => return Ok(None),
        Err(_) => {
            return Err(Violation::Refused {
                layout,
                remaining: rules.remaining,
            })
        }
    };
    // This crate's allocators return exactly the size asked.
    if block.len() != layout.size() {
        return Err(Violation::WrongOutcome(format!(
            "{} bytes returned for {layout:?}",
            block.len()
        )));
    }
    let ptr = block.cast::<u8>();
    if let (Some(placed), Some(cursor)) = (placed, rules.cursor.as_deref_mut()) {
        let Some(placed) = placed else {
            return Err(Violation::WrongOutcome(format!(
                "{layout:?} served with {} bytes left at offset {}",
                cursor.capacity - cursor.pos,
                cursor.pos
            )));
        };
        let found = ptr.as_ptr() as usize;
        if let Some(expected) = placed.addr.filter(|&expected| expected != found) {
            return Err(Violation::WrongPosition { expected, found });
        }
        cursor.pos = placed.pos;
    }
    Ok(Some(ptr))
}

fn deallocate<A: Allocator>(
    allocator: A,
    checker: &mut Checker,
    cursor: Option<&mut CursorModel>,
    index: usize,
) -> Result<(), Violation> {
    let block = checker.retire(index)?;
    // SAFETY: the block is live for its layout and the checker forgot it.
    unsafe { allocator.deallocate(block.ptr, block.layout) };
    if let Some(cursor) = cursor {
        cursor.free(block.ptr.as_ptr() as usize, block.layout.size());
    }
    Ok(())
}
